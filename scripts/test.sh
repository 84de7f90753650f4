#!/usr/bin/env bash
# Runs every onyx test: setup (`scripts/setup.sh --tests`: idempotent, installs, configures,
# builds every target), the GoogleTest suites through ctest, the ONNX conformance suites against
# their expected-failure lists (on the CPU and on the emulated device), and the pytest checks. Every part runs even when an earlier one
# failed (except setup), a summary line per part closes the output, then the tally
# (scripts/test_tally.py: a skipped test fails the run unless it names a missing GPU); the exit
# status is nonzero if any part failed. Under CI (CI set) one more part fuzzes each libFuzzer
# target for a fixed count of executions from a fixed seed, about a minute each (scripts/fuzz.sh
# --ci, its own clang ASan+UBSan build in build-fuzz/) and fails on any crash, timeout or runaway
# allocation.
#
# Environment (for quick local runs; under CI, with CI set, the last three are refused):
#   ONYX_SKIP_SETUP=1        skip scripts/setup.sh --tests
#   ONYX_BUILD_DIR=DIR       test another build folder than build/ (with ONYX_SKIP_SETUP=1:
#                            setup always builds build/)
#   ONYX_CONFORMANCE_ARGS    extra arguments for scripts/conformance.py (e.g. "--suite onnx-node")
#   ONYX_SKIP_CONFORMANCE=1  leave the conformance suites out
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=$ROOT/.venv/bin/python
JOBS=$(nproc)
BUILD=$(realpath -m "${ONYX_BUILD_DIR:-build}")
REPORTS=$BUILD/test-reports
export ONYX_BIN=$BUILD/onyx  # what conformance.py and the pytest checks run

if [ -n "${CI:-}" ]; then
  for switch in ONYX_SKIP_CONFORMANCE ONYX_CONFORMANCE_ARGS ONYX_BUILD_DIR; do
    if [ -n "${!switch:-}" ]; then
      echo "test.sh: $switch is refused under CI: CI runs every test of the build it makes" >&2
      exit 2
    fi
  done
fi

declare -a SUMMARY=()
declare -a FAILED_PARTS=()
FAILED=0
now() { date +%s; }

# run_part NAME COMMAND...: runs the command, records "NAME ok|FAILED (Ns)".
run_part() {
  local name=$1; shift
  local start status
  start=$(now)
  echo
  echo "=== $name: $*"
  "$@"
  status=$?
  local took=$(( $(now) - start ))
  if [ "$status" -eq 0 ]; then
    SUMMARY+=("$name: ok (${took}s)")
  else
    SUMMARY+=("$name: FAILED, exit status $status (${took}s)")
    FAILED=1
    FAILED_PARTS+=("$name")
  fi
  return "$status"
}

if [ "${ONYX_SKIP_SETUP:-0}" != 1 ]; then
  if ! run_part setup bash scripts/setup.sh --tests; then
    echo "test.sh: setup failed; nothing to test"
    exit 1
  fi
fi
mkdir -p "$REPORTS"
rm -f "$REPORTS"/*.xml "$REPORTS"/*.json "$REPORTS"/tally.txt

run_part ctest ctest --test-dir "$BUILD" --output-on-failure --no-tests=error -j"$JOBS" \
  --output-junit "$REPORTS/ctest.xml"

if [ "${ONYX_SKIP_CONFORMANCE:-0}" != 1 ]; then
  # shellcheck disable=SC2086  # ONYX_CONFORMANCE_ARGS is a list of words on purpose
  run_part conformance "$PYTHON" scripts/conformance.py --jobs "$JOBS" \
    --summary "$REPORTS/conformance.json" ${ONYX_CONFORMANCE_ARGS:-}
  # The same suites on the emulated device (providers/emulated/): every node the device can
  # run runs there and checks that its inputs arrived through the planned copies, so placement
  # and copy insertion are tested on every model of the suites without a GPU.
  # shellcheck disable=SC2086
  run_part conformance-emulated "$PYTHON" scripts/conformance.py --device emulated --jobs "$JOBS" \
    --summary "$REPORTS/conformance-emulated.json" ${ONYX_CONFORMANCE_ARGS:-}
fi

# pytest exits 5 when it collects no test: a failure while test files exist, fine otherwise.
run_pytest() {
  "$PYTHON" -m pytest -q tests/python --junitxml="$REPORTS/pytest.xml" -p no:cacheprovider
  local status=$?
  if [ "$status" -eq 5 ]; then
    if compgen -G "tests/python/test_*.py" >/dev/null; then
      echo "pytest: collected no tests although tests/python has test files"
      return 5
    fi
    echo "pytest: no tests in tests/python"
    return 0
  fi
  return "$status"
}
run_part pytest run_pytest

if [ -n "${CI:-}" ]; then
  run_part fuzz env FUZZ_REPORT="$REPORTS/fuzz.json" JOBS="$JOBS" bash scripts/fuzz.sh --ci
fi

echo
echo "=== summary"
for line in "${SUMMARY[@]}"; do echo "$line"; done
# One closing count over every test case that ran, and the skip rule (scripts/test_tally.py).
LEFT_OUT=()
[ "${ONYX_SKIP_CONFORMANCE:-0}" = 1 ] && LEFT_OUT=(--left-out conformance)
[ -n "${CI:-}" ] && LEFT_OUT+=(--expect fuzz)
python3 scripts/test_tally.py "$REPORTS" "${LEFT_OUT[@]}" "${FAILED_PARTS[@]}" || FAILED=1
exit "$FAILED"
