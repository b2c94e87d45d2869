#!/usr/bin/env bash
# A long fuzzing campaign on one bertj fuzz target, with Jazzer's command-line driver (the same
# @FuzzTest methods the build replays in regression mode).
#
#   scripts/fuzz-campaign.sh <TestClass> <method> [runs] [max seconds]
#   scripts/fuzz-campaign.sh SafeTensorsFuzzTest safetensors 1000000 14400
#   scripts/fuzz-campaign.sh serve.ServeRequestsFuzzTest body     (a class outside dev.bertj.fuzz: its package under dev.bertj)
#
# Needs `mvn -pl core test-compile` first (and JAVA_HOME on a JDK 25). Extra Maven options, such as
# -Dmaven.repo.local=..., go in MAVEN_ARGS. The corpus grows in core/target/fuzz-corpus/<Class>.<method>
# (seeded from the committed inputs, which are only read), findings land in
# core/target/fuzz-findings/<Class>.<method>/crash-*: copy each into
# core/src/test/resources/dev/bertj/fuzz/<Class>Inputs/<method>/ once fixed, so it runs in every build.
# libFuzzer's last line "Done N runs in S second(s)" gives the count reported in bench/results/fuzz-*.txt.
# Do not pause a campaign (SIGSTOP) or starve it behind higher-priority work: -timeout counts wall time, so the
# input in flight is then reported as a timeout. Replay a timeout-* file alone before calling it a finding.
set -euo pipefail
cd "$(dirname "$0")/../core"
class="$1" method="$2" runs="${3:-1000000}" seconds="${4:-14400}"
case "$class" in *.*) fqcn="dev.bertj.$class" pkgdir="$(dirname "${class//.//}")" class="${class##*.}" ;; *) fqcn="dev.bertj.fuzz.$class" pkgdir=fuzz ;; esac
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
if [ ! -s target/fuzz-classpath.txt ]; then
  # shellcheck disable=SC2086
  mvn -q -B ${MAVEN_ARGS:-} dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/fuzz-classpath.txt
fi
# A snapshot of the compiled classes: rebuilding while a campaign runs must not change the code under test.
snapshot="target/fuzz-classes/$class.$method"
rm -rf "$snapshot" && mkdir -p "$snapshot" && cp -r target/classes target/test-classes "$snapshot/"
corpus="target/fuzz-corpus/$class.$method" findings="target/fuzz-findings/$class.$method"
seeds="src/test/resources/dev/bertj/$pkgdir/${class}Inputs/$method"
mkdir -p "$corpus" "$findings"
exec "$java" --add-modules=jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss8m -Xmx2g \
  -XX:+EnableDynamicAgentLoading \
  -cp "$(cat target/fuzz-classpath.txt):$snapshot/test-classes:$snapshot/classes" \
  com.code_intelligence.jazzer.Jazzer \
  --target_class="$fqcn" --target_method="$method" \
  --keep_going="${KEEP_GOING:-20}" --instrumentation_includes='dev.bertj.**' --instrumentation_excludes="dev.bertj.fuzz.**:$fqcn" \
  --custom_hook_includes='dev.bertj.**' --custom_hook_excludes="dev.bertj.fuzz.**:$fqcn" \
  -runs="$runs" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=0 -print_final_stats=1 \
  -artifact_prefix="$findings/" "$corpus" "$seeds"
