#!/usr/bin/env bash
# The one prepared run on the GPU machine (docs: ../shared/gpu.md). Needs the bundle from
# tests/cuda/make_gpu_bundle.sh carried as build/gpu_bundle. Writes $OUT/gpu_check.log and
# $OUT/cuda_tests.xml (GoogleTest's report) and prints a short summary.
set -uo pipefail
out=${OUT:-/tmp/onyx_gpu_check}
bundle=${1:-build/gpu_bundle}
mkdir -p "$out"
exec > >(tee "$out/gpu_check.log") 2>&1
if [ -f "$bundle/onyx_gpu_bundle.tar.xz" ]; then
  unpacked=/tmp/onyx_gpu_bundle
  mkdir -p "$unpacked" && tar -C "$unpacked" -xJf "$bundle/onyx_gpu_bundle.tar.xz" && bundle=$unpacked
fi

echo "== device"
nvidia-smi || echo "nvidia-smi failed"
echo "== CUDA libraries"
# cuBLAS/cuDNN/cudart come from PyTorch's NVIDIA wheels (no apt there); first match per library.
lib_dirs=""
for pattern in 'libcudart.so.13*' 'libcublas.so.13*' 'libcublasLt.so.13*' 'libcudnn.so.9*'; do
  found=$(find / -xdev -name "$pattern" -not -path '/proc/*' 2>/dev/null | head -1)
  echo "$pattern: ${found:-NOT FOUND}"
  [ -n "$found" ] && lib_dirs="$lib_dirs:$(dirname "$found")"
done
export LD_LIBRARY_PATH="$bundle/lib$lib_dirs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
echo "== missing libraries"
ldd "$bundle/onyx_tests" | grep -i "not found" || echo "none"

echo "== CUDA GoogleTest cases"
timeout 420 "$bundle/onyx_tests" --gtest_filter='Cuda*' --gtest_output="xml:$out/cuda_tests.xml" \
  > "$out/cuda_tests.txt" 2>&1
status=$?
echo "== failures"
grep -E "^\[  FAILED  \] .*\(" "$out/cuda_tests.txt" | head -60 || true
echo "== summary: onyx_tests exit $status"
grep -E "test suites ran|^\[  (PASSED|FAILED|SKIPPED) +\] [0-9]+ test" "$out/cuda_tests.txt"
exit $status
