#!/usr/bin/env bash
# Runs on the GPU machine (copied into .device/ by scripts/device-bundle.sh), from the repository root:
# the GPU tests of bertj-cuda through the JUnit console, then GpuBenchmark with the PyTorch peer.
# Raw outputs go to the folder given as $1 (default .device/out).
set -uo pipefail
OUT="${1:-.device/out}"
mkdir -p "$OUT"
D="$(cd "$(dirname "$0")" && pwd)"
[ -x "$D/jre/bin/java" ] || tar -C "$D" -xzf "$D/jre.tgz"
JAVA="$D/jre/bin/java"
CP="$(ls "$D"/lib/*.jar | grep -v console-standalone | tr '\n' ':')"
{ nvidia-smi || true; "$JAVA" -version; python3 -c 'import torch, transformers; print("torch", torch.__version__, "transformers", transformers.__version__)'; } > "$OUT/environment.txt" 2>&1
"$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -jar "$D"/lib/junit-platform-console-standalone-*.jar \
  execute --class-path "$CP" --select-class dev.bertj.cuda.CudaBackendTest --select-class dev.bertj.cuda.CudaKernelsTest \
  --select-class dev.bertj.cuda.CudaPrecisionTest --select-class dev.bertj.cuda.EmulatedBackendTest --select-class dev.bertj.cuda.KernelSourcesTest --details=tree --disable-banner > "$OUT/gpu-tests.txt" 2>&1
echo "gpu tests: exit $?" | tee -a "$OUT/gpu-tests.txt"
"$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp "$CP" org.openjdk.jmh.Main GpuBenchmark \
  ${BERTJ_JMH_ARGS:-} -rf text -rff "$OUT/gpu-benchmark-summary.txt" > "$OUT/gpu-benchmark.txt" 2>&1
echo "GpuBenchmark: exit $?" | tee -a "$OUT/gpu-benchmark.txt"
