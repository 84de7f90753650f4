#!/usr/bin/env bash
# Installs everything onyx needs to build, test and benchmark, then configures and builds it.
# Idempotent: packages already present are skipped, the venv and build are reused.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ccache git python3 python3-venv
  libprotobuf-dev protobuf-compiler libdnnl-dev libeigen3-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev libonnx-testdata
  zlib1g-dev  # gzip IDX files and deflated .npz archives (onyx train)
  dataset-fashion-mnist  # the shipped training default (README) and the accuracy tests
  libopenblas0-openmp  # an optimized BLAS for Debian's PyTorch (else the reference BLAS: torch's Linear ~20x slower), which scripts/bench_train_vs_torch.py compares with
  libjpeg-dev libpng-dev libtiff-dev libwebp-dev libopenjp2-7-dev pkg-config
  python3-torch  # PyTorch: the reference of tests/python/test_gradient.py and tests/training/torch_reference.py
  python3-torchvision  # with python3-torch: scripts/export_architectures.py (tests/python/test_architectures.py)
)
PIP_PACKAGES=(onnx==1.23.2 onnxruntime==1.32.0 numpy pytest pillow)

missing=()
for package in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import onnx, onnxruntime, numpy, pytest, PIL" 2>/dev/null ||
   [ "$(.venv/bin/python -c 'import onnx; print(onnx.__version__)')" != "1.23.2" ]; then
  .venv/bin/pip install -q --disable-pip-version-check "${PIP_PACKAGES[@]}"
fi

BUILD_TYPE=${ONYX_BUILD_TYPE:-Release}
# ccache hashes compile commands relative to the checkout, so a clone at another path (CI's)
# reuses what a build here cached.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
cmake -S . -B build -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DONYX_PYTHON="$PWD/.venv/bin/python" >/dev/null
cmake --build build -j"$(nproc)"
