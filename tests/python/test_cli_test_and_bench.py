"""`onyx test` runs backend-test folders and reports PASS/FAIL/ERROR per test, a closing count
and a JSON file; `onyx bench --json` prints the timings scripts/bench_vs_ort.py reads."""
import json

import numpy as np
import pytest
from onnx import TensorProto, helper

from cli_helpers import OPSET, make_model, mlp_model, ort_run, run_onyx, save_model, write_pb


def write_case(folder, model, inputs, outputs):
    """A backend-test folder: model.onnx and test_data_set_0 with input_k.pb / output_k.pb."""
    data = folder / "test_data_set_0"
    data.mkdir(parents=True)
    save_model(model, folder / "model.onnx", check=False)
    for k, (name, array) in enumerate(inputs):
        write_pb(array, name, data / f"input_{k}.pb")
    for k, (name, array) in enumerate(outputs):
        write_pb(array, name, data / f"output_{k}.pb")


@pytest.fixture
def suite(tmp_path, rng):
    """Three tests: one right, one with a wrong expected output, one with an unknown op."""
    root = tmp_path / "suite"
    model = mlp_model(rng)
    save_model(model, tmp_path / "mlp.onnx")
    features = rng.standard_normal((2, 4)).astype(np.float32)
    reference = ort_run(tmp_path / "mlp.onnx", {"features": features})
    expected = [("Y", reference["Y"]), ("hidden", reference["hidden"])]
    write_case(root / "test_good", model, [("features", features)], expected)
    wrong = [("Y", reference["Y"] + 1.0), ("hidden", reference["hidden"])]
    write_case(root / "test_wrong_output", model, [("features", features)], wrong)
    unknown = make_model([helper.make_node("FrobnicateTensor", ["features"], ["Y"])],
                         [helper.make_tensor_value_info("features", TensorProto.FLOAT, [2, 4])],
                         [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [2, 4])], opsets={"": OPSET})
    write_case(root / "test_unknown_op", unknown, [("features", features)], [("Y", features)])
    return root


def test_runner_reports_each_test_and_a_closing_count(suite, tmp_path):
    json_path = tmp_path / "results.json"
    proc = run_onyx("test", suite, "--json", json_path)
    assert proc.returncode == 1, proc.stdout + proc.stderr  # something failed
    lines = proc.stdout.strip().splitlines()
    assert "PASS test_good" in lines
    assert any(line.startswith("FAIL test_wrong_output: ") for line in lines), lines
    assert any(line.startswith("ERROR test_unknown_op: ") and "FrobnicateTensor" in line for line in lines), lines
    assert lines[-1] == "1 passed, 2 failed, 0 skipped"
    results = {r["name"]: r for r in json.loads(json_path.read_text())["results"]}
    assert {name: r["status"] for name, r in results.items()} == {
        "test_good": "pass", "test_wrong_output": "fail", "test_unknown_op": "error"}
    assert results["test_good"]["path"] == str(suite / "test_good")
    assert results["test_wrong_output"]["message"]


def test_runner_exits_zero_when_everything_passes(suite):
    proc = run_onyx("test", suite / "test_good")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "1 passed, 0 failed, 0 skipped"


def test_bench_json_has_the_timings_bench_vs_ort_reads(tmp_path, rng):
    model = save_model(mlp_model(rng), tmp_path / "mlp.onnx")
    np.save(tmp_path / "features.npy", rng.standard_normal((2, 4)).astype(np.float32))
    proc = run_onyx("bench", model, "--iterations", "5", "--threads", "1", "--json",
                    "--input", f"features={tmp_path / 'features.npy'}")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["iterations"] == 5
    assert 0 < result["min_ms"] <= result["median_ms"]
    assert result["mean_ms"] > 0
    assert result["cpu_ms"] > 0
    assert result["session_create_ms"] > 0 and result["first_run_ms"] > 0  # cold start, reported apart
    assert result["peak_rss_mb"] > 1
