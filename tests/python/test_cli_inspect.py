"""`onyx inspect` summarises a model: opsets, inputs and outputs, a histogram of ops that counts
the ops inside If/Loop subgraphs, and the parameter count."""
import re

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from cli_helpers import OPSET, make_model, run_onyx, save_model


@pytest.fixture
def control_flow_model(tmp_path, rng):
    """features[N,4] -> MatMul(W 4x3) -> Add(B) -> If(cond; then: Relu, Add; else: Sub(E))
    -> Loop(trip; body: Identity, Mul) -> result. Parameters: W 12 + B 3 + E 3 (inside else) = 18."""
    float_info = lambda name, shape: helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)
    then_branch = helper.make_graph(
        [helper.make_node("Relu", ["biased"], ["relu"]),
         helper.make_node("Add", ["relu", "relu"], ["then_out"])],
        "then_branch", [], [float_info("then_out", ["N", 3])])
    else_branch = helper.make_graph(
        [helper.make_node("Sub", ["biased", "E"], ["else_out"])],
        "else_branch", [], [float_info("else_out", ["N", 3])],
        [numpy_helper.from_array(np.array([1, 2, 3], np.float32), "E")])
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Mul", ["carried", "carried"], ["carried_out"])],
        "loop_body",
        [helper.make_tensor_value_info("iteration", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []),
         float_info("carried", ["N", 3])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         float_info("carried_out", ["N", 3])])
    nodes = [
        helper.make_node("MatMul", ["features", "W"], ["product"]),
        helper.make_node("Add", ["product", "B"], ["biased"]),
        helper.make_node("If", ["cond"], ["branch_out"], then_branch=then_branch, else_branch=else_branch),
        helper.make_node("Loop", ["trip", "", "branch_out"], ["result"], body=body),
    ]
    inits = [numpy_helper.from_array(rng.standard_normal((4, 3)).astype(np.float32), "W"),
             numpy_helper.from_array(rng.standard_normal(3).astype(np.float32), "B")]
    model = make_model(
        nodes,
        [float_info("features", ["N", 4]),
         helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
         helper.make_tensor_value_info("trip", TensorProto.INT64, [])],
        [float_info("result", ["N", 3])],
        inits, opsets={"": OPSET, "com.example.inspect": 2}, name="control_flow")
    return save_model(model, tmp_path / "control_flow.onnx")


def test_control_flow_model_is_valid_for_onnxruntime(control_flow_model):
    # Guards the fixture itself: a model onnxruntime rejects would make the checks below moot.
    from cli_helpers import ort_run
    features = np.ones((2, 4), np.float32)
    result = ort_run(control_flow_model, {"features": features, "cond": np.array(False),
                                          "trip": np.array(1, np.int64)})
    assert result["result"].shape == (2, 3)


@pytest.fixture
def inspect_output(control_flow_model):
    proc = run_onyx("inspect", control_flow_model)
    assert proc.returncode == 0, f"exit status {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def line_with(text, word):
    """The first line of `text` that holds `word` as a whole word."""
    for line in text.splitlines():
        if re.search(rf"(?<![\w.]){re.escape(word)}(?![\w.])", line):
            return line
    raise AssertionError(f"no line mentions {word!r} in:\n{text}")


def test_inspect_lists_opsets(inspect_output):
    assert re.search(rf"(ai\.onnx|default)\D*\b{OPSET}\b", inspect_output), inspect_output
    assert re.search(r"com\.example\.inspect\D*\b2\b", inspect_output), inspect_output


def test_inspect_lists_inputs_and_outputs_with_types(inspect_output):
    for name, dtype in (("features", "float"), ("cond", "bool"), ("trip", "int64"), ("result", "float")):
        assert dtype in line_with(inspect_output, name).lower(), (name, inspect_output)
    assert "N" in line_with(inspect_output, "features")  # the symbolic batch dimension


def test_inspect_op_histogram_counts_ops_inside_subgraphs(inspect_output):
    # Add appears in the main graph and in the then-branch; the rest once each, most only inside
    # a subgraph.
    expected = {"MatMul": 1, "Add": 2, "If": 1, "Loop": 1, "Relu": 1, "Sub": 1, "Identity": 1, "Mul": 1}
    for op, count in expected.items():
        line = line_with(inspect_output, op)
        assert re.search(rf"\b{count}\b", line), f"{op} should be counted {count}x: {line!r}"


def test_inspect_counts_parameters_including_subgraph_initializers(inspect_output):
    line = line_with(inspect_output, "18")
    assert "param" in line.lower(), inspect_output


def test_inspect_shows_inferred_types_of_undeclared_outputs(tmp_path):
    """An output declared without a shape is shown with the type shape inference gives it."""
    nodes = [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("Relu", ["y"], ["z"])]
    model = make_model(
        nodes,
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(np.ones((4, 6), np.float32), "w")])
    path = tmp_path / "undeclared.onnx"
    save_model(model, path, check=False)
    proc = run_onyx("inspect", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "z: float[...] (inferred float[batch,6])" in proc.stdout, proc.stdout
