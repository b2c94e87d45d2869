#!/usr/bin/env bash
# Packs what a GPU machine without a JDK or Maven needs to run bertj's GPU tests and GpuBenchmark into
# .device/ (ignored through .git/info/exclude; about 40 MB): a jlink'd Java 25 runtime (.tgz), the bertj
# jars and their run-time dependencies, and run.sh. On the GPU machine, from the repository root:
#   bash .device/run.sh "$OUT"    # GPU tests (JUnit console) and GpuBenchmark beside PyTorch; raw output into $OUT
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
JDK="${JAVA_HOME:-}"
if [ -z "$JDK" ] || ! "$JDK/bin/java" -version 2>&1 | grep -q '"25'; then
  for j in /usr/lib/jvm/*25*; do [ -x "$j/bin/jlink" ] && JDK="$j" && break; done
fi
[ -x "$JDK/bin/jlink" ] || { echo "device-bundle: needs a JDK 25 with jlink (set JAVA_HOME)" >&2; exit 1; }
export JAVA_HOME="$JDK"
EXCLUDE="$(git rev-parse --git-path info/exclude)"
mkdir -p "$(dirname "$EXCLUDE")"
grep -qx '/.device/' "$EXCLUDE" 2>/dev/null || echo '/.device/' >> "$EXCLUDE"

mvn -q -B -DskipTests install
mvn -q -B -pl cuda-kernels test-compile
OUTDIR=.device
rm -rf "$OUTDIR" && mkdir -p "$OUTDIR/lib"
VERSION="$(sed -n '0,/<version>/s:.*<version>\(.*\)</version>.*:\1:p' pom.xml)"
cp core/target/bertj-core-"$VERSION".jar cuda-kernels/target/bertj-cuda-"$VERSION".jar bench/target/bertj-bench-"$VERSION".jar "$OUTDIR/lib/"
"$JAVA_HOME/bin/jar" --create --file "$OUTDIR/lib/bertj-cuda-tests.jar" -C cuda-kernels/target/test-classes .
# Run-time jars of the benchmark without the CPU peers (ONNX Runtime, DJL): JMH, JavaCPP and the CUDA bindings.
mvn -q -B -pl bench dependency:build-classpath -Dmdep.outputFile="$ROOT/$OUTDIR/bench.classpath" >/dev/null
tr ':' '\n' < "$OUTDIR/bench.classpath" | grep -E '/(jmh-core|jopt-simple|commons-math3|javacpp|cuda)-[^/]*\.jar$' | while read -r j; do cp "$j" "$OUTDIR/lib/"; done
rm "$OUTDIR/bench.classpath"
mvn -q -B -N org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
  -Dartifact=org.junit.platform:junit-platform-console-standalone:6.0.1 -DoutputDirectory="$ROOT/$OUTDIR/lib" >/dev/null
rm -rf "$OUTDIR/jre-build"
"$JAVA_HOME/bin/jlink" --add-modules java.base,jdk.incubator.vector,jdk.unsupported,java.logging,java.management,jdk.zipfs \
  --compress zip-9 --strip-debug --no-header-files --no-man-pages --output "$OUTDIR/jre-build"
tar -C "$OUTDIR" -czf "$OUTDIR/jre.tgz" --transform 's/^jre-build/jre/' jre-build
rm -rf "$OUTDIR/jre-build"
cp scripts/device-run.sh "$OUTDIR/run.sh"
du -sh "$OUTDIR"
