#!/usr/bin/env bash
# Packs what a GPU machine without a JDK or Maven needs to run bertj's GPU tests and GpuBenchmark into
# .device/ (ignored by its own .gitignore; about 45 MB): a jlink'd Java 25 runtime (.tgz), the bertj jars,
# the cuda-kernels test classes, their run-time dependencies (JMH, JavaCPP with its native jars, the JUnit
# console) and run.sh. On the GPU machine, from the repository root:
#   bash .device/run.sh "$OUT"    # see scripts/device-run.sh: environment, GPU tests, GpuBenchmark; raw output into $OUT
# BERTJ_MVN_ARGS adds arguments to every mvn call (e.g. -Dmaven.repo.local=...).
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
JDK="${JAVA_HOME:-}"
if [ -z "$JDK" ] || ! "$JDK/bin/java" -version 2>&1 | grep -q '"25'; then
  for j in /usr/lib/jvm/*25*; do [ -x "$j/bin/jlink" ] && JDK="$j" && break; done
fi
[ -x "$JDK/bin/jlink" ] || { echo "device-bundle: needs a JDK 25 with jlink (set JAVA_HOME)" >&2; exit 1; }
export JAVA_HOME="$JDK"
read -ra MVN_ARGS <<< "${BERTJ_MVN_ARGS:-}"
mvn() { command mvn -q -B "${MVN_ARGS[@]}" "$@"; }

# Builds (and installs, for the class path of bench below) the three modules the device needs; the test
# classes of cuda-kernels are compiled by the same call.
mvn -pl core,cuda-kernels,bench -am -DskipTests install
OUTDIR=.device
rm -rf "$OUTDIR" && mkdir -p "$OUTDIR/lib"
echo '*' > "$OUTDIR/.gitignore"   # everything in here, this file included, stays out of git
VERSION="$(sed -n '0,/<version>/s:.*<version>\(.*\)</version>.*:\1:p' pom.xml)"
cp core/target/bertj-core-"$VERSION".jar cuda-kernels/target/bertj-cuda-"$VERSION".jar bench/target/bertj-bench-"$VERSION".jar "$OUTDIR/lib/"
"$JAVA_HOME/bin/jar" --create --file "$OUTDIR/lib/bertj-cuda-tests.jar" -C cuda-kernels/target/test-classes .
# Run-time jars of the benchmark without the CPU peers (ONNX Runtime, DJL): JMH, JavaCPP (with its
# linux-x86_64 native jar: libjnijavacpp.so) and the CUDA bindings (with theirs).
mvn -pl bench dependency:build-classpath -Dmdep.outputFile="$ROOT/$OUTDIR/bench.classpath" >/dev/null
tr ':' '\n' < "$OUTDIR/bench.classpath" | grep -E '/(jmh-core|jopt-simple|commons-math3|javacpp|cuda)-[^/]*\.jar$' | while read -r j; do cp "$j" "$OUTDIR/lib/"; done
rm "$OUTDIR/bench.classpath"
ls "$OUTDIR"/lib/javacpp-*-linux-x86_64.jar > /dev/null || { echo "device-bundle: javacpp's linux-x86_64 jar is missing" >&2; exit 1; }
# The JUnit console of the JUnit version the tests are compiled against.
JUNIT="$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml)"
mvn -N org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
  -Dartifact=org.junit.platform:junit-platform-console-standalone:"$JUNIT" -DoutputDirectory="$ROOT/$OUTDIR/lib" >/dev/null
rm -rf "$OUTDIR/jre-build"
# Modules: what jdeps --print-module-deps reports for the jars above (bertj: java.logging,
# java.management, jdk.incubator.vector; JMH: java.management, jdk.unsupported; JUnit console: java.xml
# for its XML reports, and jdk.jfr for its JFR listeners, which its service files do not register, so
# left out: the console runs without it), plus jdk.zipfs. commons-math3's one java.desktop use (a 2-D
# geometry class) is not reached by JMH.
"$JAVA_HOME/bin/jlink" --add-modules java.base,jdk.incubator.vector,jdk.unsupported,java.logging,java.management,java.xml,jdk.zipfs \
  --compress zip-9 --strip-debug --no-header-files --no-man-pages --output "$OUTDIR/jre-build"
tar -C "$OUTDIR" -czf "$OUTDIR/jre.tgz" --transform 's/^jre-build/jre/' jre-build
rm -rf "$OUTDIR/jre-build"
cp scripts/device-run.sh "$OUTDIR/run.sh"
du -sh "$OUTDIR"
