"""`--custom-ops LIB.so` on run, test, bench and inspect, with the example library
(build/libonyx_example_ops.so) and the example models of models/custom_ops/make_example_models.py.
Outputs are checked against numpy; load failures give one error line naming what was looked for."""
import os

import numpy as np
import pytest
from onnx import numpy_helper

from cli_helpers import ROOT, assert_one_error_line, read_outputs, run_onyx, write_pb

BUILD = os.path.dirname(os.path.abspath(os.environ.get("ONYX_BIN", os.path.join(ROOT, "build", "onyx"))))
EXAMPLE_LIB = os.path.join(BUILD, "libonyx_example_ops.so")


@pytest.fixture
def models(custom_op_models):
    return custom_op_models


def swish(x, beta=1.0):
    return x / (1 + np.exp(-beta * x))


def huber(prediction, target, delta):
    d = np.abs(prediction.astype(np.float64) - target)
    return np.mean(np.where(d <= delta, 0.5 * d * d, delta * (d - 0.5 * delta)))


def test_run_top_level_model_matches_numpy(models, tmp_path, rng):
    x = rng.standard_normal((3, 4)).astype(np.float32)
    target = rng.standard_normal((3, 4)).astype(np.float32)
    proc = run_onyx("run", models / "example_top_level.onnx", "--custom-ops", EXAMPLE_LIB,
                    "--input", f"x={write_pb(x, 'x', tmp_path / 'x.pb')}",
                    "--input", f"target={write_pb(target, 'target', tmp_path / 'target.pb')}",
                    "--output-dir", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    outputs = dict(read_outputs(tmp_path / "out"))
    y = 2 * swish(x, 0.5) - x + np.linspace(-1, 1, 4, dtype=np.float32)
    np.testing.assert_allclose(outputs["y"], y, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(outputs["norm"], np.sqrt(np.sum(y.astype(np.float64) ** 2)), rtol=1e-5)
    np.testing.assert_allclose(outputs["loss"], huber(y, target, 0.75), rtol=1e-5)


def test_run_loop_body_with_custom_ops_matches_numpy(models, tmp_path):
    x = np.array([0.5, -1.0, 2.0], np.float32)
    proc = run_onyx("run", models / "example_loop.onnx", "--custom-ops", EXAMPLE_LIB,
                    "--input", f"x={write_pb(x, 'x', tmp_path / 'x.pb')}",
                    "--input", f"trips={write_pb(np.array(4, np.int64), 'trips', tmp_path / 't.pb')}",
                    "--output-dir", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    c = x.copy()
    for _ in range(4):
        c = swish(c) + 0.5 * x
    np.testing.assert_allclose(dict(read_outputs(tmp_path / "out"))["y"], c, rtol=1e-5)


def test_optional_input_left_out(models, tmp_path):
    x = np.array([[1, 2], [3, 4]], np.float32)
    proc = run_onyx("run", models / "example_no_shift.onnx", "--custom-ops", EXAMPLE_LIB,
                    "--input", f"x={write_pb(x, 'x', tmp_path / 'x.pb')}", "--output-dir", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    np.testing.assert_array_equal(dict(read_outputs(tmp_path / "out"))["y"], x)


def test_inspect_shows_shapes_inferred_through_custom_ops(models):
    proc = run_onyx("inspect", models / "example_top_level.onnx", "--custom-ops", EXAMPLE_LIB)
    assert proc.returncode == 0, proc.stderr
    assert "y: float[...] (inferred float[N,4])" in proc.stdout, proc.stdout
    assert "norm: float[...] (inferred float[])" in proc.stdout, proc.stdout
    assert "loss: float[...] (inferred float[])" in proc.stdout, proc.stdout
    assert "com.example.Swish: 1" in proc.stdout
    # Without the library the ops are unknown: nothing is inferred, and inspect says so.
    bare = run_onyx("inspect", models / "example_top_level.onnx")
    assert bare.returncode == 0 and "(inferred" not in bare.stdout


def test_bench_and_test_accept_custom_ops(models, tmp_path, rng):
    proc = run_onyx("bench", models / "example_loop.onnx", "--custom-ops", EXAMPLE_LIB, "-n", "3", "--warmup", "1")
    assert proc.returncode == 0, proc.stderr
    assert "runs: 3" in proc.stdout

    # A backend-test folder whose expected output comes from numpy.
    case = tmp_path / "test_example_no_shift"
    (case / "test_data_set_0").mkdir(parents=True)
    (case / "model.onnx").write_bytes((models / "example_no_shift.onnx").read_bytes())
    x = rng.standard_normal((2, 2)).astype(np.float32)
    write_pb(x, "x", case / "test_data_set_0" / "input_0.pb")
    write_pb(x, "y", case / "test_data_set_0" / "output_0.pb")
    proc = run_onyx("test", case, "--custom-ops", EXAMPLE_LIB)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed, 0 failed" in proc.stdout


def test_custom_ops_is_repeatable(models, tmp_path):
    # Before the model too: each --custom-ops takes exactly one path.
    proc = run_onyx("run", "--custom-ops", EXAMPLE_LIB, "--custom-ops", os.path.join(BUILD, "libonyx_test_c_ops.so"),
                    models / "example_no_shift.onnx", "--random")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("y: float [1,2]"), proc.stdout
    # The same library twice registers every op twice: a conflict, reported once.
    twice = run_onyx("run", models / "example_no_shift.onnx", "--custom-ops", EXAMPLE_LIB, "--custom-ops", EXAMPLE_LIB,
                     "--random")
    assert_one_error_line(twice, "conflicts", "com.example::Swish")


def test_unknown_custom_op_without_library_names_op_domain_and_registered_ops(models):
    proc = run_onyx("run", models / "example_no_shift.onnx", "--random")
    assert_one_error_line(proc, "ShiftAndNorm", "com.example", "opset 1", "registered custom ops: none", "--custom-ops")


@pytest.mark.parametrize("library, must_mention", [
    ("libno_such_ops.so", ["custom-op library not found", "looked for", "libno_such_ops.so"]),
    ("libonyx_test_no_entry.so", ["no entry symbol 'onyx_custom_op_library'", "RegisterCustomOps"]),
    ("libonyx_test_wrong_abi.so", ["ABI version 99", "this onyx provides ABI version 1"]),
])
@pytest.mark.parametrize("verb", ["run", "inspect", "bench", "test"])
def test_bad_libraries_give_one_error_line(models, tmp_path, verb, library, must_mention):
    target = tmp_path if verb == "test" else models / "example_no_shift.onnx"
    proc = run_onyx(verb, target, "--custom-ops", os.path.join(BUILD, library))
    assert_one_error_line(proc, *must_mention)


def test_custom_ops_without_a_path_is_a_usage_error(models):
    proc = run_onyx("run", models / "example_no_shift.onnx", "--custom-ops")
    assert proc.returncode == 2 and proc.stderr.startswith("onyx: error:"), proc.stderr


def test_gradient_verb_uses_custom_op_rules(models, tmp_path, rng):
    # x -> Swish(beta 0.5) -> Add(bias) -> HuberLoss(., target; delta 0.75): d loss / d bias.
    from onnx import TensorProto, helper
    from cli_helpers import make_model, save_model
    bias = rng.standard_normal(4).astype(np.float32)
    model = make_model(
        [helper.make_node("Swish", ["x"], ["s"], domain="com.example", beta=0.5),
         helper.make_node("Add", ["s", "bias"], ["y"]),
         helper.make_node("HuberLoss", ["y", "target"], ["loss"], domain="com.example", delta=0.75)],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4]),
         helper.make_tensor_value_info("target", TensorProto.FLOAT, [3, 4])],
        [helper.make_tensor_value_info("loss", TensorProto.FLOAT, [])],
        [numpy_helper.from_array(bias, "bias")], opsets={"": 17, "com.example": 1})
    forward = save_model(model, tmp_path / "forward.onnx", check=False)
    proc = run_onyx("gradient", forward, "--loss", "loss", "--output", tmp_path / "grad.onnx",
                    "--custom-ops", EXAMPLE_LIB)
    assert proc.returncode == 0, proc.stderr
    gradient_name = dict(line.split()[1:] for line in proc.stdout.splitlines() if line.startswith("gradient"))["bias"]

    x = rng.standard_normal((3, 4)).astype(np.float32)
    target = rng.standard_normal((3, 4)).astype(np.float32)
    proc = run_onyx("run", tmp_path / "grad.onnx", "--custom-ops", EXAMPLE_LIB,
                    "--input", f"x={write_pb(x, 'x', tmp_path / 'x.pb')}",
                    "--input", f"target={write_pb(target, 'target', tmp_path / 't.pb')}",
                    "--output-dir", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    y = swish(x, 0.5) + bias
    expected = np.clip(y - target, -0.75, 0.75).sum(axis=0) / y.size
    np.testing.assert_allclose(dict(read_outputs(tmp_path / "out"))[gradient_name], expected, rtol=1e-5, atol=1e-7)

    # Without the library the builder cannot know the ops: one error line naming the op.
    proc = run_onyx("gradient", forward, "--loss", "loss", "--output", tmp_path / "grad2.onnx")
    assert_one_error_line(proc, "HuberLoss")


def test_gradient_verb_reports_bad_libraries(models, tmp_path):
    proc = run_onyx("gradient", models / "example_top_level.onnx", "--loss", "loss", "-o", tmp_path / "g.onnx",
                    "--custom-ops", os.path.join(BUILD, "libonyx_test_wrong_abi.so"))
    assert_one_error_line(proc, "ABI version 99")
    assert not (tmp_path / "g.onnx").exists()
