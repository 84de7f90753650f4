"""The test harness cannot pass by accident: scripts/test_tally.py (the closing count of
scripts/test.sh) fails a skipped test unless it says a GPU is missing and counts a part without
a report as failed; under CI the switches that leave tests out are refused."""
import json
import os
import subprocess
import sys

import pytest

from cli_helpers import ROOT

TALLY = f"{ROOT}/scripts/test_tally.py"

CTEST_SKIP = """<testcase name="{name}" classname="{name}" status="notrun">
<skipped message="SKIP_REGULAR_EXPRESSION_MATCHED"/>
<system-out>[ RUN      ] {name}
x.cc:2: Skipped
{message}
[  SKIPPED ] {name} (0 ms)
</system-out></testcase>"""


def write_reports(folder, ctest_cases, pytest_cases, conformance_ok=True):
    (folder / "ctest.xml").write_text(f'<testsuite tests="{len(ctest_cases)}">{"".join(ctest_cases)}</testsuite>')
    (folder / "pytest.xml").write_text(
        f'<testsuites><testsuite tests="{len(pytest_cases)}">{"".join(pytest_cases)}</testsuite></testsuites>')
    (folder / "conformance.json").write_text(json.dumps({"suites": {"onnx-node": {"ok": conformance_ok}}}))


def tally(folder, *args):
    proc = subprocess.run([sys.executable, TALLY, str(folder), *args], capture_output=True, text=True)
    return proc.returncode, proc.stdout.strip().splitlines()[-1], proc.stdout


def test_counts_passes_and_failures(tmp_path):
    write_reports(tmp_path, ['<testcase name="A.b" classname="A.b" status="run"/>',
                             '<testcase name="A.c" classname="A.c" status="fail"><failure/></testcase>'],
                  ['<testcase classname="t" name="x"/>'])
    status, line, _ = tally(tmp_path)
    assert (status, line) == (0, "3 passed, 1 failed, 0 skipped")


@pytest.mark.parametrize("message,allowed", [
    ("no CUDA device: cudaGetDeviceCount returned 0", True),
    ("no GPU present", True),
    ("not implemented yet", False),
    ("slow on this machine", False),
    ("", False),
])
def test_a_skip_fails_the_run_unless_it_names_a_missing_gpu(tmp_path, message, allowed):
    write_reports(tmp_path, [CTEST_SKIP.format(name="Cuda.Add", message=message)],
                  [f'<testcase classname="t" name="y"><skipped message="{message}"/></testcase>'])
    status, line, output = tally(tmp_path)
    assert status == (0 if allowed else 1), output
    assert line == ("1 passed, 0 failed, 2 skipped" if allowed else "1 passed, 2 failed, 2 skipped"), output
    assert "skipped: Cuda.Add:" in output


def test_a_missing_report_is_a_failure_unless_left_out(tmp_path):
    write_reports(tmp_path, ['<testcase name="A.b" classname="A.b" status="run"/>'], [])
    (tmp_path / "conformance.json").unlink()
    assert tally(tmp_path)[1] == "1 passed, 1 failed, 0 skipped"
    assert tally(tmp_path, "--left-out", "conformance")[1] == "1 passed, 0 failed, 0 skipped"
    (tmp_path / "pytest.xml").unlink()
    assert tally(tmp_path, "--left-out", "conformance")[1] == "1 passed, 1 failed, 0 skipped"


def test_each_fuzz_target_is_a_check_and_a_missing_fuzz_report_fails_only_when_expected(tmp_path):
    write_reports(tmp_path, ['<testcase name="A.b" classname="A.b" status="run"/>'], [])
    assert tally(tmp_path)[1] == "2 passed, 0 failed, 0 skipped"
    assert tally(tmp_path, "--expect", "fuzz")[1] == "2 passed, 1 failed, 0 skipped"
    (tmp_path / "fuzz.json").write_text(json.dumps({"targets": {
        "model_run": {"ok": True, "seconds": 60, "executions": 100},
        "checkpoint": {"ok": False, "seconds": 60, "executions": 7}}}))
    assert tally(tmp_path, "--expect", "fuzz")[1] == "3 passed, 1 failed, 0 skipped"


def ci_env(**extra):
    env = {key: value for key, value in os.environ.items()
           if key not in ("ONYX_SKIP_CONFORMANCE", "ONYX_CONFORMANCE_ARGS", "ONYX_BUILD_DIR")}
    return {**env, "CI": "true", **extra}


@pytest.mark.parametrize("switch,value", [("ONYX_SKIP_CONFORMANCE", "1"),
                                          ("ONYX_CONFORMANCE_ARGS", "--suite onnx-node"),
                                          ("ONYX_BUILD_DIR", "build-other")])
def test_test_sh_refuses_switches_that_leave_tests_out_under_ci(switch, value):
    proc = subprocess.run(["bash", f"{ROOT}/scripts/test.sh"], capture_output=True, text=True,
                          env=ci_env(**{switch: value}), timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert f"{switch} is refused under CI" in proc.stderr


@pytest.mark.parametrize("args", [["--suite", "onnx-node"], ["--update"]])
def test_conformance_refuses_partial_runs_and_list_rewrites_under_ci(args):
    proc = subprocess.run([sys.executable, f"{ROOT}/scripts/conformance.py", *args], capture_output=True,
                          text=True, env=ci_env(), timeout=60)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "refused under CI" in proc.stderr and args[0] in proc.stderr


def test_conformance_suite_with_another_test_count_fails():
    sys.path.insert(0, f"{ROOT}/scripts")
    try:
        import conformance
    finally:
        sys.path.pop(0)
    results = {f"test_{k}": {"status": "pass", "message": ""} for k in range(10)}
    ok, summary = conformance.check_suite("debian-simple", results, {}, 1.0, 23)
    assert not ok and summary["expected_total"] == 23
    ok, _ = conformance.check_suite("debian-simple", results, {}, 1.0, 10)
    assert ok
    results["test_0"]["status"] = "fail"
    ok, _ = conformance.check_suite("debian-simple", results, {"test_0": "known"}, 0.95, 10)
    assert not ok  # 90% is under the 95% floor even though the failure is listed
