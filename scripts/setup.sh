#!/usr/bin/env bash
# Installs what onyx needs and builds it. Two levels:
#   bash scripts/setup.sh          the main job: Debian 12 packages to build the `onyx` CLI, plus
#                                  the shipped training data; builds build/onyx only (no Python,
#                                  no PyTorch, no test binaries)
#   bash scripts/setup.sh --tests  everything the tests need on top: GoogleTest, Google Benchmark,
#                                  the ONNX test data, Debian's PyTorch (reference results), the
#                                  Python venv from requirements.lock; builds every target, the
#                                  Python package's native module included, and installs the
#                                  package (`onyx`) into the venv from that build
# Idempotent: packages already present are skipped, the venv and the build are reused (ccache
# speeds up rebuilds when present). Every Debian package comes from Debian 12's archive; every
# Python package at the exact version requirements.lock names.
set -euo pipefail
cd "$(dirname "$0")/.."

WITH_TESTS=0
case "${1:-}" in
  "") ;;
  --tests) WITH_TESTS=1 ;;
  *) echo "setup.sh: unknown argument '$1' (usage: scripts/setup.sh [--tests])" >&2; exit 2 ;;
esac

# Building the library and the CLI (CMake's find_package/pkg-config checks name each of these
# when it is missing).
BUILD_PACKAGES=(
  build-essential cmake ccache pkg-config git
  libprotobuf-dev protobuf-compiler libdnnl-dev libeigen3-dev libcli11-dev nlohmann-json3-dev
  libre2-dev  # RegexFullMatch
  zlib1g-dev  # gzip IDX files and deflated .npz archives (onyx train)
  libjpeg-dev libpng-dev libtiff-dev libwebp-dev libopenjp2-7-dev  # ImageDecoder's codecs
  dataset-fashion-mnist  # the main command's training data
)
TEST_PACKAGES=(
  libgtest-dev libgmock-dev libbenchmark-dev libonnx-testdata
  python3 python3-venv
  python3-dev  # Python.h for the Python package's native module (python/src/)
  libopenblas0-openmp  # an optimized BLAS for Debian's PyTorch (else the reference BLAS: torch's Linear ~20x slower), which scripts/bench_train_vs_torch.py compares with
  python3-torch  # PyTorch: the reference of tests/python/test_gradient.py and tests/training/torch_reference.py
  python3-torchvision  # with python3-torch: scripts/export_architectures.py (tests/python/test_architectures.py)
  clang libclang-rt-14-dev  # libFuzzer, ASan and UBSan: scripts/fuzz.sh (CI fuzzes each target) and scripts/sanitize.sh
  openmpi-bin libopenmpi-dev  # data-parallel training (training/distributed/): tests/python/test_distributed_*.py run mpirun
)
packages=("${BUILD_PACKAGES[@]}")
((WITH_TESTS)) && packages+=("${TEST_PACKAGES[@]}")

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
if ! grep -qs 'VERSION_CODENAME=bookworm' /etc/os-release; then
  echo "setup.sh: warning: this is not Debian 12 (bookworm); package versions may differ from CI's" >&2
fi
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ((WITH_TESTS)); then
  # Debian's own Python makes the venv, so pip and setuptools inside it are Debian 12's
  # (requirements.lock lists them too); the rest comes from the lock, nothing else.
  if [ ! -x .venv/bin/python ] || [ "$(readlink -f .venv/bin/python)" != "$(readlink -f /usr/bin/python3)" ]; then
    rm -rf .venv
    /usr/bin/python3 -m venv .venv
  fi
  # The project's own package (installed below from the build) is not in the lock.
  locked=$(grep -Ev '^\s*(#|$)' requirements.lock | sed 's/\s*#.*//' | tr 'A-Z_' 'a-z-' | sort)
  installed=$(.venv/bin/python -m pip list --format=freeze --disable-pip-version-check 2>/dev/null |
              tr 'A-Z_' 'a-z-' | grep -v '^onyx==' | sort)
  if [ "$locked" != "$installed" ]; then
    echo "setup: installing the Python packages of requirements.lock into .venv"
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -r requirements.lock
    # A package installed earlier and no longer locked would make the environment test fail.
    # Names sorted on their own: "tensorboard-data-server==" sorts before "tensorboard==", its
    # name after.
    extra=$(comm -13 <(echo "$locked" | cut -d= -f1 | sort) \
                     <(.venv/bin/python -m pip list --format=freeze --disable-pip-version-check |
                       tr 'A-Z_' 'a-z-' | cut -d= -f1 | grep -vx onyx | sort))
    if [ -n "$extra" ]; then
      .venv/bin/python -m pip uninstall -q -y $extra
    fi
    .venv/bin/python -m pip check --disable-pip-version-check >/dev/null
  fi
fi

BUILD_TYPE=${ONYX_BUILD_TYPE:-Release}
# ccache hashes compile commands relative to the checkout, so a clone at another path (CI's)
# reuses what a build here cached.
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$PWD}
if ((WITH_TESTS)); then
  cmake -S . -B build -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DONYX_TESTS=ON -DONYX_BENCHMARKS=ON \
        -DONYX_PYTHON=ON -DPython_EXECUTABLE="$PWD/.venv/bin/python" >/dev/null
  cmake --build build -j"$(nproc)"
  # The Python package, the standard way (pyproject.toml: scikit-build-core drives this same
  # CMakeLists.txt in build/): everything is built already, so this configures again, finds
  # nothing to compile and installs. --no-build-isolation: the pinned nanobind and
  # scikit-build-core of the venv, not fresh unpinned ones from the network. The generator is
  # build/'s own (scikit-build-core would pick Ninja, which CMake refuses in a Make folder).
  CMAKE_GENERATOR=$(sed -n 's/^CMAKE_GENERATOR:INTERNAL=//p' build/CMakeCache.txt) \
    .venv/bin/python -m pip install -q --disable-pip-version-check --no-build-isolation --no-deps \
    --config-settings=cmake.build-type="$BUILD_TYPE" .
else
  # Only the CLI: the test and benchmark targets need packages this level does not install.
  cmake -S . -B build -DCMAKE_BUILD_TYPE="$BUILD_TYPE" -DONYX_TESTS=OFF -DONYX_BENCHMARKS=OFF >/dev/null
  cmake --build build -j"$(nproc)" --target onyx
fi
