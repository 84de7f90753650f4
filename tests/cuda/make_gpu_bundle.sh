#!/usr/bin/env bash
# Collects what the GPU check machine needs from this build into one git-ignored folder
# (build/gpu_bundle, carried by the device run): the test binary, libonyx_core.so and the
# non-CUDA shared libraries they load, stripped and packed into one .tar.xz (the carry limit is
# 64 MiB; oneDNN alone is 40 MB unpacked). CUDA, cuBLAS and cuDNN are left out: the GPU machine
# has them inside PyTorch's NVIDIA wheels (tests/cuda/gpu_check.sh finds them there).
set -euo pipefail
build=${1:-build}
bundle=$build/gpu_bundle
rm -rf "$bundle"
mkdir -p "$bundle/lib"
cp "$build/onyx_tests" "$build/libonyx_core.so" "$bundle/"
for binary in "$build/onyx_tests" "$build/libonyx_core.so"; do
  ldd "$binary" | awk '/=> \// {print $3}' | while read -r library; do
    case "$(basename "$library")" in
      libonyx_core.so|libcuda.so*|libcudart.so*|libcublas*.so*|libcudnn*.so*|libc.so*|libm.so*|libdl.so*|librt.so*|libpthread.so*|ld-linux*) ;;
      *) cp -n "$library" "$bundle/lib/" ;;
    esac
  done
done
strip --strip-unneeded "$bundle"/onyx_tests "$bundle"/libonyx_core.so "$bundle"/lib/*.so* 2>/dev/null || true
tar -C "$bundle" -cJf "$build/onyx_gpu_bundle.tar.xz" .
rm -rf "$bundle"
mkdir -p "$bundle"
mv "$build/onyx_gpu_bundle.tar.xz" "$bundle/"
du -sh "$bundle"
