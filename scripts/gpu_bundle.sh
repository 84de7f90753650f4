#!/usr/bin/env bash
# Fills gpu_bundle/ (git-ignored) with what scripts/gpu_check.sh needs on the GPU test machine,
# which has no package registry and no apt: the onyx CLI, the test binary, libonyx_core.so, the
# CUDA provider's libonyx_cuda.so (loaded from beside libonyx_core.so) and
# the shared libraries they load that are neither the C library nor CUDA's (CUDA, cuBLAS and
# cuDNN come from PyTorch's wheels there), packed as one .tar.xz under the 64 MiB that a device
# run can carry. Builds first (Release, CUDA on) unless ONYX_SKIP_BUILD=1.
#
#   bash scripts/gpu_bundle.sh        then, through the device tool:
#   run(command="bash scripts/gpu_check.sh", carry=["gpu_bundle"])
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${ONYX_BUILD_DIR:-build}
OUT=gpu_bundle
if [ "${ONYX_SKIP_BUILD:-0}" != 1 ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DONYX_CUDA=ON -DONYX_TESTS=ON >/dev/null
  cmake --build "$BUILD" -j"$(nproc)" --target onyx onyx_tests
fi
STAGE=$(mktemp -d)
trap 'rm -rf "$STAGE"' EXIT
mkdir -p "$STAGE/onyx-gpu/bin" "$STAGE/onyx-gpu/lib"
cp "$BUILD/onyx" "$BUILD/onyx_tests" "$STAGE/onyx-gpu/bin/"
cp "$BUILD/libonyx_core.so" "$BUILD/libonyx_cuda.so" "$STAGE/onyx-gpu/lib/"
for plugin in "$BUILD"/libonyx_test_*.so "$BUILD"/libonyx_example_ops.so; do
  [ -e "$plugin" ] && cp "$plugin" "$STAGE/onyx-gpu/lib/"
done
# Every library the binaries load, except glibc's own and CUDA's (the machine has newer ones).
ldd "$BUILD/onyx" "$BUILD/onyx_tests" "$BUILD/libonyx_core.so" "$BUILD/libonyx_cuda.so" | awk '/=> \//{print $3}' | sort -u |
  grep -Ev '/(libc|libm|libdl|librt|libpthread|ld-linux[^/]*)\.so|/libcuda\.so|/libcudart|/libcublas|/libcudnn|/libnccl|/libnvrtc|/libnvJitLink' |
  while read -r lib; do cp -L "$lib" "$STAGE/onyx-gpu/lib/"; done
strip --strip-unneeded "$STAGE"/onyx-gpu/lib/*.so* "$STAGE"/onyx-gpu/bin/* 2>/dev/null || true
git rev-parse HEAD > "$STAGE/onyx-gpu/COMMIT"
mkdir -p "$OUT"
rm -f "$OUT"/onyx-gpu.tar.xz
tar -C "$STAGE" -cJf "$OUT/onyx-gpu.tar.xz.tmp" onyx-gpu
mv "$OUT/onyx-gpu.tar.xz.tmp" "$OUT/onyx-gpu.tar.xz"
BYTES=$(stat -c %s "$OUT/onyx-gpu.tar.xz")
echo "gpu_bundle: $OUT/onyx-gpu.tar.xz, $((BYTES / 1024 / 1024)) MiB ($(tar -tJf "$OUT/onyx-gpu.tar.xz" | wc -l) files) at $(cat "$STAGE/onyx-gpu/COMMIT")"
if [ "$BYTES" -gt $((60 * 1024 * 1024)) ]; then
  echo "gpu_bundle: over 60 MiB: a device run carries at most 64 MiB with the working tree" >&2
  exit 1
fi
