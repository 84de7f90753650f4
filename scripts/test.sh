#!/usr/bin/env bash
# Runs every onyx test: setup (idempotent: installs, configures, builds), the GoogleTest suites
# through ctest, the ONNX conformance suites against their expected-failure lists, and the
# pytest checks of the CLI. Every part runs even when an earlier one failed (except setup), a
# summary line per part closes the output, and the exit status is nonzero if any part failed.
#
# Environment:
#   ONYX_SKIP_SETUP=1        skip scripts/setup.sh (.ci/run sets it right after running setup)
#   ONYX_CONFORMANCE_ARGS    extra arguments for scripts/conformance.py (e.g. "--suite onnx-node")
#   ONYX_SKIP_CONFORMANCE=1  leave the conformance suites out (a quick local run)
#   ONYX_BUILD_DIR=DIR       test another build folder than build/ (with ONYX_SKIP_SETUP=1:
#                            setup always builds build/)
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PYTHON=$ROOT/.venv/bin/python
JOBS=$(nproc)
BUILD=$(realpath -m "${ONYX_BUILD_DIR:-build}")
REPORTS=$BUILD/test-reports
export ONYX_BIN=$BUILD/onyx  # what conformance.py and the pytest checks run

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
  if ! run_part setup bash scripts/setup.sh; then
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

echo
echo "=== summary"
for line in "${SUMMARY[@]}"; do echo "$line"; done
# One closing count over every test case that ran: GoogleTest cases, pytest cases, and each
# conformance suite as one check (it passes when it matches its expected-failure list).
# A part that failed without reporting a failed case (it crashed, or its report is missing)
# counts as one failure.
"$PYTHON" - "$REPORTS" "${FAILED_PARTS[@]}" <<'EOF' || true
import json, os, sys
import xml.etree.ElementTree as ET
reports, failed_parts = sys.argv[1], set(sys.argv[2:])
passed = failed = skipped = 0
for part, name in (("ctest", "ctest.xml"), ("pytest", "pytest.xml")):
    path = os.path.join(reports, name)
    part_failed = 0
    if os.path.exists(path):
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError:
            root = ET.Element("testsuites")
        for suite in ([root] if root.tag == "testsuite" else root.iter("testsuite")):
            tests = int(suite.get("tests", 0))
            bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
            skip = int(suite.get("skipped", 0)) + int(suite.get("disabled", 0))
            passed += tests - bad - skip
            part_failed += bad
            skipped += skip
    failed += part_failed or (1 if part in failed_parts else 0)
path = os.path.join(reports, "conformance.json")
conformance_failed = 0
if os.path.exists(path):
    for suite in json.load(open(path))["suites"].values():
        if suite["ok"]:
            passed += 1
        else:
            conformance_failed += 1
failed += conformance_failed or (1 if "conformance" in failed_parts else 0)
line = f"{passed} passed, {failed} failed, {skipped} skipped"
print(line)
with open(os.path.join(reports, "tally.txt"), "w") as f:
    f.write(line + "\n")
EOF
exit "$FAILED"
