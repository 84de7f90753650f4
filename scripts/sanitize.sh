#!/usr/bin/env bash
# Builds the library and the GoogleTest suite with AddressSanitizer + UndefinedBehaviorSanitizer
# (clang, in build-fuzz/, the folder the fuzz targets use too: scripts/sanitized_build.sh) and
# runs it through ctest. Any ASan report aborts its test (abort_on_error), any UBSan report halts
# it (halt_on_error), so a finding is a failed test; leaks count too.
# scripts/sanitize-suppressions/ holds suppressions for third-party false positives only.
#   JOBS=N   build/ctest parallelism (default 2: the machine is shared)
#   CTEST_ARGS="-R Pattern"  extra ctest arguments (e.g. to rerun one test)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
JOBS=${JOBS:-2}
source "$ROOT/scripts/sanitized_build.sh"
sanitized_configure
cmake --build "$SANITIZED_BUILD" -j"$JOBS"
SUPP=$ROOT/scripts/sanitize-suppressions
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
[ -s "$SUPP/lsan.txt" ] && export LSAN_OPTIONS=suppressions=$SUPP/lsan.txt
[ -s "$SUPP/ubsan.txt" ] && export UBSAN_OPTIONS=$UBSAN_OPTIONS:suppressions=$SUPP/ubsan.txt
# shellcheck disable=SC2086
ctest --test-dir "$SANITIZED_BUILD" -j"$JOBS" --output-on-failure ${CTEST_ARGS:-}
