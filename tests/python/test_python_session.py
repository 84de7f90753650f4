"""onyx.InferenceSession's onnxruntime-shaped API on small models: the descriptions of inputs
and outputs, metadata, run() with output selection, options, providers, profiling, custom-op
libraries; and errors: the exception classes, with the very message `onyx run` prints for the
same mistake (results are checked against NumPy)."""
import json
import os

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import onyx
from cli_helpers import ROOT, make_model, mlp_model, run_onyx, save_model

BUILD = os.path.dirname(os.path.abspath(os.environ.get("ONYX_BIN", os.path.join(ROOT, "build", "onyx"))))
EXAMPLE_LIB = os.path.join(BUILD, "libonyx_example_ops.so")


def symbolic_model():
    """x[batch, 3, ?] + y[batch, 3, ?] -> sum (float); also Shape(x) -> shape (int64)."""
    nodes = [helper.make_node("Add", ["x", "y"], ["sum"]), helper.make_node("Shape", ["x"], ["shape"])]
    model = make_model(nodes,
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3, None]),
                        helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", 3, None])],
                       [helper.make_tensor_value_info("sum", TensorProto.FLOAT, ["batch", 3, None]),
                        helper.make_tensor_value_info("shape", TensorProto.INT64, [3])])
    model.doc_string = "adds two tensors"
    model.domain = "ai.onyx.tests"
    model.model_version = 7
    model.graph.doc_string = "the graph"
    helper.set_model_props(model, {"author": "tests", "purpose": "metadata"})
    return model


@pytest.fixture
def symbolic(tmp_path):
    return str(save_model(symbolic_model(), tmp_path / "symbolic.onnx"))


def test_inputs_and_outputs_describe_names_shapes_and_types(symbolic):
    session = onyx.InferenceSession(symbolic)
    assert [(a.name, a.shape, a.type) for a in session.get_inputs()] == [
        ("x", ["batch", 3, None], "tensor(float)"), ("y", ["batch", 3, None], "tensor(float)")]
    assert [(a.name, a.shape, a.type) for a in session.get_outputs()] == [
        ("sum", ["batch", 3, None], "tensor(float)"), ("shape", [3], "tensor(int64)")]
    assert repr(session.get_inputs()[0]) == "NodeArg(name='x', type='tensor(float)', shape=['batch', 3, None])"


def test_initializer_backed_inputs_are_overridable_not_inputs(tmp_path, rng):
    model = mlp_model(rng)
    model.graph.input.append(helper.make_tensor_value_info("B1", TensorProto.FLOAT, [8]))
    session = onyx.InferenceSession(str(save_model(model, tmp_path / "mlp.onnx")))
    assert [a.name for a in session.get_inputs()] == ["features"]
    assert [a.name for a in session.get_overridable_initializers()] == ["B1"]


def test_modelmeta(symbolic):
    meta = onyx.InferenceSession(symbolic).get_modelmeta()
    assert (meta.producer_name, meta.domain, meta.description, meta.version, meta.graph_name,
            meta.graph_description) == ("onyx-tests", "ai.onyx.tests", "adds two tensors", 7, "g", "the graph")
    assert meta.custom_metadata_map == {"author": "tests", "purpose": "metadata"}


def test_run_returns_numpy_arrays_and_selects_outputs(symbolic, rng):
    session = onyx.InferenceSession(symbolic)
    x = rng.standard_normal((2, 3, 5)).astype(np.float32)
    y = rng.standard_normal((2, 3, 5)).astype(np.float32)
    total, shape = session.run(None, {"x": x, "y": y})
    assert isinstance(total, np.ndarray) and total.dtype == np.float32
    np.testing.assert_array_equal(total, x + y)
    np.testing.assert_array_equal(shape, np.array([2, 3, 5], np.int64))
    only_shape, = session.run(["shape"], {"x": x, "y": y})
    np.testing.assert_array_equal(only_shape, [2, 3, 5])
    assert len(session.run(["shape", "sum", "shape"], {"x": x, "y": y})) == 3


def test_run_accepts_run_options_and_model_bytes(symbolic):
    with open(symbolic, "rb") as f:
        session = onyx.InferenceSession(f.read())
    x = np.ones((1, 3, 2), np.float32)
    total, _ = session.run(None, {"x": x, "y": x}, onyx.RunOptions())
    np.testing.assert_array_equal(total, 2 * x)


def test_outputs_are_fresh_writable_arrays(tmp_path):
    """An output that is an initializer, or the caller's feed, comes back as an array of its
    own: writing to it changes neither the session nor the feed."""
    nodes = [helper.make_node("Identity", ["x"], ["same"]), helper.make_node("Identity", ["w"], ["weights"])]
    model = make_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                       [helper.make_tensor_value_info("same", TensorProto.FLOAT, [2]),
                        helper.make_tensor_value_info("weights", TensorProto.FLOAT, [2])],
                       [numpy_helper.from_array(np.array([1, 2], np.float32), "w")])
    session = onyx.InferenceSession(str(save_model(model, tmp_path / "identity.onnx")))
    x = np.array([5, 6], np.float32)
    same, weights = session.run(None, {"x": x})
    same[0] = weights[0] = -1
    np.testing.assert_array_equal(x, [5, 6])
    again_same, again_weights = session.run(None, {"x": x})
    np.testing.assert_array_equal(again_weights, [1, 2])
    np.testing.assert_array_equal(again_same, [5, 6])


@pytest.mark.parametrize("level", list(onyx.GraphOptimizationLevel))
def test_session_options(tmp_path, rng, level):
    options = onyx.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = level
    model = mlp_model(rng)
    session = onyx.InferenceSession(str(save_model(model, tmp_path / "mlp.onnx")), options)
    assert session.get_session_options() is options
    features = rng.standard_normal((2, 4)).astype(np.float32)
    y, hidden = session.run(None, {"features": features})
    expected_y, expected_hidden = numpy_mlp(model, features)
    np.testing.assert_allclose(y, expected_y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(hidden, expected_hidden, rtol=1e-5, atol=1e-5)


def numpy_mlp(model, features):
    weights = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    hidden = np.maximum(features @ weights["W1"] + weights["B1"], 0)
    return 0.5 * hidden @ weights["W2"].T + 2.0 * weights["B2"], hidden


def test_session_options_refuse_bad_values():
    options = onyx.SessionOptions()
    with pytest.raises(onyx.InvalidArgument, match="intra_op_num_threads must be 0 or more, not -3"):
        options.intra_op_num_threads = -3
    with pytest.raises(onyx.InvalidArgument, match="graph_optimization_level must be one of"):
        options.graph_optimization_level = 5
    with pytest.raises(AttributeError):
        options.no_such_option = 1


def test_providers():
    assert onyx.get_available_providers()[-1] == "CPUExecutionProvider"
    assert onyx.get_device() in ("CPU", "GPU")


def test_providers_of_a_session_and_an_unknown_provider(symbolic):
    session = onyx.InferenceSession(symbolic, providers=["CPUExecutionProvider"])
    assert session.get_providers() == ["CPUExecutionProvider"]
    with pytest.raises(onyx.InvalidArgument, match="unknown execution provider .no_such.; providers in this build: cpu"):
        onyx.InferenceSession(symbolic, providers=["No_suchExecutionProvider"])


def test_profiling_writes_a_chrome_trace_of_every_node(symbolic, tmp_path):
    options = onyx.SessionOptions()
    options.enable_profiling = True
    options.profile_file_prefix = str(tmp_path / "trace")
    session = onyx.InferenceSession(symbolic, options)
    x = np.ones((1, 3, 4), np.float32)
    for _ in range(3):
        session.run(None, {"x": x, "y": x})
    path = session.end_profiling()
    assert os.path.basename(path).startswith("trace_") and path.endswith(".json")
    with open(path) as f:
        events = [event for event in json.load(f)["traceEvents"] if event.get("cat") == "Node"]
    assert sorted(event["args"]["op_type"] for event in events) == ["Add"] * 3 + ["Shape"] * 3
    assert all(event["ph"] == "X" and event["dur"] > 0 for event in events)
    assert onyx.InferenceSession(symbolic).end_profiling() == ""


def test_register_custom_ops_library(custom_op_models, rng):
    """The example plug-in's ops (models/custom_ops/), checked as test_cli_custom_ops.py checks
    them through the CLI: against NumPy."""
    from test_cli_custom_ops import huber, swish  # noqa: PLC0415

    model = str(custom_op_models / "example_top_level.onnx")
    with pytest.raises(onyx.OnyxError):
        onyx.InferenceSession(model)  # the ops are unknown without the library
    options = onyx.SessionOptions()
    options.register_custom_ops_library(EXAMPLE_LIB)
    session = onyx.InferenceSession(model, options)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    target = rng.standard_normal((3, 4)).astype(np.float32)
    y, norm, loss = session.run(["y", "norm", "loss"], {"x": x, "target": target})
    expected_y = 2 * swish(x, 0.5) - x + np.linspace(-1, 1, 4, dtype=np.float32)
    np.testing.assert_allclose(y, expected_y, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(norm, np.sqrt(np.sum(expected_y.astype(np.float64) ** 2)), rtol=1e-5)
    np.testing.assert_allclose(loss, huber(expected_y, target, 0.75), rtol=1e-5)


def test_a_missing_custom_ops_library_names_the_path(symbolic, tmp_path):
    options = onyx.SessionOptions()
    options.register_custom_ops_library(tmp_path / "missing.so")
    with pytest.raises(onyx.OnyxError, match="missing.so"):
        onyx.InferenceSession(symbolic, options)


# --- errors: the CLI's message for the same mistake --------------------------------------

def cli_error(*args):
    proc = run_onyx(*args)
    assert proc.returncode == 1, proc.stderr
    line = proc.stderr.strip()
    assert line.startswith("onyx: error: "), line
    return line[len("onyx: error: "):]


@pytest.fixture
def relu(tmp_path):
    model = make_model([helper.make_node("Relu", ["x"], ["y"])],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
    return str(save_model(model, tmp_path / "relu.onnx"))


@pytest.mark.parametrize("feed_name,value", [
    ("x", np.zeros((3,), np.float32)),           # wrong shape
    ("x", np.zeros((2, 3), np.float64)),         # wrong element type
    ("z", np.zeros((2, 3), np.float32)),         # no such input
])
def test_feed_errors_carry_the_cli_message(relu, tmp_path, feed_name, value):
    np.save(tmp_path / "value.npy", value)
    expected = cli_error("run", relu, "--input", f"{feed_name}={tmp_path / 'value.npy'}")
    with pytest.raises(onyx.InvalidArgument) as error:
        onyx.InferenceSession(relu).run(None, {feed_name: value})
    assert str(error.value) == expected


def test_a_missing_feed_carries_the_cli_message(relu):
    expected = cli_error("run", relu)
    with pytest.raises(onyx.InvalidArgument) as error:
        onyx.InferenceSession(relu).run(None, {})
    assert str(error.value) == expected


def test_an_invalid_model_carries_the_cli_message(tmp_path):
    path = tmp_path / "garbage.onnx"
    path.write_bytes(b"\x08\x07this is not a model")
    expected = cli_error("run", path, "--random")
    with pytest.raises(onyx.InvalidModel) as error:
        onyx.InferenceSession(str(path))
    assert str(error.value) == expected
    with pytest.raises(onyx.InvalidModel):
        onyx.InferenceSession(path.read_bytes())


def test_a_missing_model_file_names_it(tmp_path):
    expected = cli_error("run", tmp_path / "missing.onnx")
    with pytest.raises(onyx.OnyxError) as error:
        onyx.InferenceSession(str(tmp_path / "missing.onnx"))
    assert str(error.value) == expected


def test_other_caller_mistakes(relu):
    session = onyx.InferenceSession(relu)
    x = np.zeros((2, 3), np.float32)
    with pytest.raises(onyx.InvalidArgument, match="unknown output 'nope'; the model's outputs are: y"):
        session.run(["nope"], {"x": x})
    with pytest.raises(onyx.InvalidArgument, match="input_feed must be a dict"):
        session.run(None, [x])
    with pytest.raises(onyx.InvalidArgument, match="input 'x' expects a tensor float\\[2,3\\], got None"):
        session.run(None, {"x": None})
    with pytest.raises(TypeError):
        onyx.InferenceSession(12)
    assert issubclass(onyx.InvalidArgument, ValueError) and issubclass(onyx.OnyxError, RuntimeError)
