#!/usr/bin/env bash
# Runs on the GPU machine (copied into .device/ by scripts/device-bundle.sh), from any directory:
#   bash .device/run.sh OUT
# Phases, each under `timeout` (limit in seconds) and each writing its own files into OUT as it runs, so
# a phase that crashes or overruns loses only itself:
#   environment        (45)  nvidia-smi, Java, PyTorch, where the CUDA 13 libraries are (LD_LIBRARY_PATH gains
#                            pip's nvidia/*/lib folders and CUDA toolkits' lib folders), Cuda.status() -> environment.txt
#   gpu-tests         (150)  the real-device tests through the JUnit console, CUDA_LAUNCH_BLOCKING=1
#                            -> gpu-tests.txt, junit/ (XML reports)
#   bench-fp32       (100)   GpuBenchmark at fp32: bertjForward, bertjTrain, torchForward, torchTrain (the
#                            PyTorch peer on the same device) -> gpu-benchmark-fp32.{txt,json}
#   bench-tf32, bench-bf16   the same at tf32 and bf16.
# phases.txt lists each phase's exit status and seconds. A JVM that dies leaves OUT/hs_err_<pid>.log.
# Expected about 4 minutes on an H100; BERTJ_DEVICE_BUDGET_S (default 420) caps the whole script (a phase
# gets what is left), well inside the 10 minutes of one device command. BERTJ_JMH_ARGS replaces the
# short JMH defaults (-f 1 -wi 1 -w 2 -i 2 -r 2). Exit status 0 when every phase and benchmark passed.
set -uo pipefail
MODE=run
[ "${1:-}" = "--environment" ] && MODE=environment && shift   # phase 1 runs this script again, under timeout
OUT="${1:-.device/out}"
mkdir -p "$OUT" && OUT="$(cd "$OUT" && pwd)"
D="$(cd "$(dirname "$0")" && pwd)"
cd "$D/.."   # the repository root: GpuBenchmark starts bench/scripts/torch_peer.py from here
START=$(date +%s)
DEADLINE=$((START + ${BERTJ_DEVICE_BUDGET_S:-420}))
[ -x "$D/jre/bin/java" ] || tar -C "$D" -xzf "$D/jre.tgz"
JAVA="$D/jre/bin/java"
CP="$(ls "$D"/lib/*.jar | grep -v console-standalone | tr '\n' ':')"
JVM=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -Xss8m "-XX:ErrorFile=$OUT/hs_err_%p.log")
JMH_ARGS=(${BERTJ_JMH_ARGS:--f 1 -wi 1 -w 2 -i 2 -r 2})

# The CUDA 13 libraries the JNI glue links against, besides the driver's libcuda.so.1.
NEEDED="libcuda.so.1 libcudart.so.13 libnvrtc.so.13 libcublas.so.13 libcublasLt.so.13"
# Folders holding any of them: pip wheels (PyTorch's CUDA comes as nvidia-* packages, libraries in
# site-packages/nvidia/<pkg>/lib or nvidia/cu13/lib), then CUDA toolkits. The dynamic linker's cache
# (ldconfig) is searched without help.
cuda_lib_dirs() {
  python3 - <<'EOF' 2>/dev/null
import os
try:
    import nvidia
except Exception:
    raise SystemExit(0)
wanted = ("libcudart.so.13", "libnvrtc.so.13", "libcublas.so.13", "libcublasLt.so.13")
for base in list(getattr(nvidia, "__path__", [])):
    for root, _, files in os.walk(base):
        if any(f.startswith(wanted) for f in files):
            print(root)
EOF
  local d lib
  for d in /usr/local/cuda/lib64 /usr/local/cuda/lib /usr/local/cuda/targets/x86_64-linux/lib \
           /usr/local/cuda-13*/lib64 /usr/local/cuda-13*/lib /usr/local/cuda-13*/targets/x86_64-linux/lib; do
    for lib in libcudart.so.13 libnvrtc.so.13 libcublas.so.13 libcublasLt.so.13; do
      [ -e "$d/$lib" ] && readlink -f "$d" && break
    done
  done
}
if [ "$MODE" = run ]; then   # once: the phases inherit it
  ADD="$(cuda_lib_dirs | awk '!seen[$0]++' | paste -sd: -)"
  [ -n "$ADD" ] && export LD_LIBRARY_PATH="$ADD${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

environment() {
  echo "== $(date -u +%FT%TZ) $(uname -srm), $(nproc) cores"
  if command -v nvidia-smi > /dev/null; then timeout 30 nvidia-smi; else echo "nvidia-smi: not on PATH"; fi
  echo "== Java"; "$JAVA" -version 2>&1
  echo "== Python"; python3 -c 'import torch, transformers; print("torch", torch.__version__, "cuda", torch.version.cuda, "transformers", transformers.__version__)' 2>&1
  echo "== CUDA libraries"
  echo "LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}"
  for lib in $NEEDED; do
    local found=""
    IFS=: read -ra dirs <<< "${LD_LIBRARY_PATH:-}"
    for d in "${dirs[@]}"; do [ -n "$d" ] && [ -e "$d/$lib" ] && found="$d/$lib" && break; done
    [ -z "$found" ] && found="$(ldconfig -p 2>/dev/null | awk -v l="$lib" '$1 == l { print $NF; exit }')"
    echo "$lib: ${found:-MISSING}"
  done
  echo "ldconfig -p:"; ldconfig -p 2>/dev/null | grep -E 'lib(cuda|cudart|nvrtc|cublas|cublasLt)\.so' || echo "  (none)"
  echo "== Cuda.status()"; "$JAVA" "${JVM[@]}" -cp "$CP" dev.bertj.cuda.Cuda
}
if [ "$MODE" = environment ]; then
  environment
  exit 0
fi

: > "$OUT/phases.txt"
# phase NAME LIMIT_S OUTFILE COMMAND...: runs COMMAND under timeout (its whole process group, JMH's
# forks and the Python peer included), at most LIMIT_S and never past the deadline.
phase() {
  local name="$1" limit="$2" out="$3"; shift 3
  local left=$((DEADLINE - $(date +%s) - 5))
  [ "$left" -lt "$limit" ] && limit="$left"
  if [ "$limit" -lt 10 ]; then
    echo "$name: skipped, the time budget is spent" | tee -a "$OUT/phases.txt"
    FAILED=1
    return 0
  fi
  local t0=$(date +%s) rc
  timeout --kill-after=15 "$limit" "$@" > "$OUT/$out" 2>&1
  rc=$?
  local what="exit $rc"
  [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ] && what="timed out after ${limit}s (exit $rc)"
  echo "$name: $what, $(( $(date +%s) - t0 ))s" | tee -a "$OUT/phases.txt" "$OUT/$out"
  [ "$rc" -eq 0 ] || FAILED=1
}
FAILED=0
phase environment 45 environment.txt bash "$D/run.sh" --environment "$OUT"

# Only the tests that need a device (plus the NVRTC-array and status checks, which test JavaCPP's native
# library there); the emulated ones ran in the build. CUDA_LAUNCH_BLOCKING makes a faulting kernel fail
# at its own launch, with its name.
TESTS=(CudaKernelsTest CudaBackendTest CudaPrecisionTest NvrtcStringsTest CudaStatusTest)
phase gpu-tests 150 gpu-tests.txt env CUDA_LAUNCH_BLOCKING=1 "$JAVA" "${JVM[@]}" -jar "$D"/lib/junit-platform-console-standalone-*.jar \
  execute --class-path "$CP" "${TESTS[@]/#/--select-class=dev.bertj.cuda.}" --reports-dir="$OUT/junit" --details=tree --disable-banner --disable-ansi-colors

# One JMH run per precision, bertj and its PyTorch peer in the same run (the project's rule for a peer),
# fp32 first, each writing its JSON when it ends: what finished survives a later run failing or the budget
# running out. The forks inherit this JVM's flags (-XX:ErrorFile included) and add GpuBenchmark's @Fork
# ones. A benchmark that cannot start (no device, no torch) fails alone and JMH still exits 0, so the
# distinct exceptions go into phases.txt.
for p in fp32 tf32 bf16; do
  phase "bench-$p" 100 "gpu-benchmark-$p.txt" "$JAVA" "${JVM[@]}" -cp "$CP" org.openjdk.jmh.Main GpuBenchmark -p precision="$p" \
    "${JMH_ARGS[@]}" -rf json -rff "$OUT/gpu-benchmark-$p.json"
  if grep -q '<failure>' "$OUT/gpu-benchmark-$p.txt" 2>/dev/null; then
    grep -E '^[a-zA-Z.]+(Exception|Error)' "$OUT/gpu-benchmark-$p.txt" | sort -u | sed "s/^/bench-$p: a benchmark failed: /" | tee -a "$OUT/phases.txt"
    FAILED=1
  fi
done

echo "total: $(( $(date +%s) - START ))s; in $OUT:" | tee -a "$OUT/phases.txt"
ls -la "$OUT" | tee -a "$OUT/phases.txt"
exit "$FAILED"
