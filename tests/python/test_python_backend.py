"""onyx.backend's own entry points beyond what onnx's BackendTest calls (test_onnx_backend.py):
run_node, run_model with a dict, supports_device, and the expected-failure rule of that module.
References are NumPy's."""
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

import onyx.backend
from cli_helpers import make_model


def test_run_node_infers_the_output_types():
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    b = np.full((3,), 0.5, np.float32)
    total, = onyx.backend.run_node(helper.make_node("Add", ["a", "b"], ["sum"]), [a, b])
    np.testing.assert_array_equal(total, a + b)
    values, indices = onyx.backend.run_node(helper.make_node("TopK", ["x", "k"], ["values", "indices"], axis=1),
                                            [a, np.array([2], np.int64)])
    np.testing.assert_array_equal(values, a[:, ::-1][:, :2])
    np.testing.assert_array_equal(indices, [[2, 1], [2, 1]])


def test_run_node_with_outputs_info():
    x = np.array([1.5, -2.25], np.float32)
    y, = onyx.backend.run_node(helper.make_node("Cast", ["x"], ["y"], to=TensorProto.DOUBLE), [x],
                               outputs_info=[(np.float64, [2])])
    assert y.dtype == np.float64
    np.testing.assert_array_equal(y, x.astype(np.float64))


def test_prepare_and_run_model_by_position_and_by_name():
    model = make_model([helper.make_node("Sub", ["a", "b"], ["d"])],
                       [helper.make_tensor_value_info("a", TensorProto.INT64, [2]),
                        helper.make_tensor_value_info("b", TensorProto.INT64, [2])],
                       [helper.make_tensor_value_info("d", TensorProto.INT64, [2])])
    a, b = np.array([5, 7], np.int64), np.array([1, 2], np.int64)
    np.testing.assert_array_equal(onyx.backend.run_model(model, [a, b])[0], a - b)
    rep = onyx.backend.prepare(model, "CPU", intra_op_num_threads=1)
    assert rep.session.get_session_options().intra_op_num_threads == 1
    np.testing.assert_array_equal(rep.run({"b": a, "a": b})[0], b - a)


def test_supports_device():
    assert onyx.backend.supports_device("CPU")
    assert not onyx.backend.supports_device("FPGA")
    with pytest.raises(ValueError, match="no provider for device 'FPGA'"):
        onyx.backend.prepare(make_model([helper.make_node("Relu", ["x"], ["y"])],
                                        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                                        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])]), "FPGA")


def test_the_conformance_rule_for_listed_tests():
    """A listed test passes when it fails as listed, and fails when it passes."""
    from test_onnx_backend import _expect_failure  # noqa: PLC0415

    def failing():
        raise AssertionError("wrong output")

    _expect_failure(failing, "test_x", "a reason", "list.txt")()
    with pytest.raises(AssertionError, match="test_x passes but is listed in list.txt .a reason.: delete its line"):
        _expect_failure(lambda: None, "test_x", "a reason", "list.txt")()


def test_run_with_values_for_initializer_inputs_follows_graph_order():
    """onnx's runner feeds every graph input, in graph order, when the data has them all."""
    model = make_model([helper.make_node("Sub", ["w", "a"], ["d"])],
                       [helper.make_tensor_value_info("w", TensorProto.FLOAT, [2]),
                        helper.make_tensor_value_info("a", TensorProto.FLOAT, [2])],
                       [helper.make_tensor_value_info("d", TensorProto.FLOAT, [2])],
                       [numpy_helper.from_array(np.array([10, 20], np.float32), "w")])
    rep = onyx.backend.prepare(model)
    a = np.array([1, 2], np.float32)
    np.testing.assert_array_equal(rep.run([a])[0], [9, 18])
    np.testing.assert_array_equal(rep.run([np.array([5, 5], np.float32), a])[0], [4, 3])
