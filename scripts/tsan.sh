#!/usr/bin/env bash
# Builds the concurrency stress test (build/onyx_concurrency_tests: every model family run from
# 4 threads at once on one session, plus eager calls; tests/concurrency/) and the library under
# ThreadSanitizer into build-tsan/, and runs it. Any data race fails the run (halt_on_error).
#
# OpenMP: onyx's intra-op threads and oneDNN's are libgomp's, which is not built with TSan, so
# TSan cannot see the barriers that order a parallel region's work and reports races that are
# not there. There is no build option to swap OpenMP out (oneDNN itself is linked against
# libgomp), so the run keeps every kernel on its calling thread instead: sessions and eager
# calls get one intra-op thread (ONYX_STRESS_INTRA_OP_THREADS=1) and OMP_NUM_THREADS=1, and
# oneDNN and parallel_for then run their work inline. The concurrency under test, runs of one
# session on several application threads, is untouched. No suppressions are needed.
#   JOBS=N            build parallelism (default 2: the machine is shared)
#   ONYX_STRESS_RUNS  runs per thread (default here 4: TSan sees a race on its first occurrence)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-2}
BUILD=$ROOT/build-tsan
export CCACHE_BASEDIR=$ROOT
FLAGS="-fsanitize=thread -fno-omit-frame-pointer"
cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DONYX_BENCHMARKS=OFF -DONYX_TESTS=ON -DONYX_CUDA=OFF \
  -DCMAKE_C_FLAGS="$FLAGS" -DCMAKE_CXX_FLAGS="$FLAGS" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=thread" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=thread" >/dev/null
cmake --build "$BUILD" -j"$JOBS" --target onyx_concurrency_tests
export TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"
export OMP_NUM_THREADS=1 ONYX_STRESS_INTRA_OP_THREADS=1 ONYX_STRESS_RUNS=${ONYX_STRESS_RUNS:-4}
# GCC 12's TSan cannot map its shadow memory under the high ASLR entropy of recent kernels
# ("unexpected memory mapping"); running without address randomization avoids that.
run=("$BUILD/onyx_concurrency_tests")
if command -v setarch >/dev/null; then run=(setarch "$(uname -m)" -R "${run[@]}"); fi
"${run[@]}" "$@"
