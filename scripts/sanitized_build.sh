# Sourced by scripts/fuzz.sh and scripts/sanitize.sh: the one clang build folder, build-fuzz/,
# that serves both. Every object is compiled with ASan + UBSan and libFuzzer's coverage
# instrumentation (-fsanitize=fuzzer-no-link, CMakeLists.txt's ONYX_FUZZ); the fuzz targets link
# libFuzzer (-fsanitize=fuzzer), the GoogleTest suite does not (the sanitizer runtime supplies
# the coverage callbacks). Sharing the folder means the library is compiled once for both, which
# on a 2-core machine is most of the time either takes. -O1: ASan's usual level, stacks stay
# readable and the fuzz targets run fast enough.
SANITIZED_BUILD=$ROOT/build-fuzz
export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$ROOT}

# Configures build-fuzz/ once; ONYX_TESTS is on so both scripts agree on one CMake cache.
sanitized_configure() {
  [ -f "$SANITIZED_BUILD/CMakeCache.txt" ] && return 0
  CC=clang CXX=clang++ cmake -S "$ROOT" -B "$SANITIZED_BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g" -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O1 -g" \
    -DONYX_FUZZ=ON -DONYX_TESTS=ON -DONYX_BENCHMARKS=OFF -DONYX_CUDA=OFF >/dev/null
}
