#!/usr/bin/env bash
# Compiles every kernel under src/main/cuda to PTX for sm_90 with nvcc when nvcc is on the PATH, so a
# kernel that does not compile fails the build even on a machine without a GPU. Without nvcc it says so
# and succeeds: at run time NVRTC compiles the same sources for the device it finds.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v nvcc > /dev/null 2>&1; then
  echo "bertj-cuda: nvcc not found on PATH; skipping the build-time compile of src/main/cuda/*.cu"
  exit 0
fi
mkdir -p target/ptx
for cu in src/main/cuda/*.cu; do
  out="target/ptx/$(basename "${cu%.cu}").ptx"
  nvcc -arch=sm_90 -ptx -Werror all-warnings -o "$out" "$cu"
  echo "bertj-cuda: nvcc compiled $cu"
done
