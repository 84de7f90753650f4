"""The ONNX `Gradient` op (ai.onnx.preview.training) runs in onyx: gradients of a small tensor
function with respect to two inputs, checked against the derivatives written out in numpy."""
import numpy as np
from onnx import TensorProto, helper, numpy_helper

from cli_helpers import make_model, run_onyx, save_model


def test_gradient_op_matches_the_analytic_derivatives(tmp_path, rng):
    # loss = sum(2 * tanh(x @ W)); d loss/dW = x^T (2 (1 - tanh^2)), d loss/dx = (2 (1 - tanh^2)) W^T
    nodes = [helper.make_node("MatMul", ["x", "W"], ["h"]),
             helper.make_node("Tanh", ["h"], ["t"]),
             helper.make_node("Mul", ["t", "two"], ["s"]),
             helper.make_node("ReduceSum", ["s"], ["loss"], keepdims=0),
             helper.make_node("Gradient", ["x", "W"], ["dloss_dx", "dloss_dW"],
                              domain="ai.onnx.preview.training", xs=["x", "W"], y="loss")]
    two = numpy_helper.from_array(np.array(2.0, np.float32), "two")
    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4]),
              helper.make_tensor_value_info("W", TensorProto.FLOAT, [4, 5])]
    outputs = [helper.make_tensor_value_info("loss", TensorProto.FLOAT, []),
               helper.make_tensor_value_info("dloss_dx", TensorProto.FLOAT, [3, 4]),
               helper.make_tensor_value_info("dloss_dW", TensorProto.FLOAT, [4, 5])]
    model = make_model(nodes, inputs, outputs, [two],
                       opsets={"": 13, "ai.onnx.preview.training": 1})
    path = save_model(model, tmp_path / "gradient.onnx", check=False)
    x = rng.standard_normal((3, 4)).astype(np.float32)
    w = rng.standard_normal((4, 5)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "W.npy", w)
    out = tmp_path / "out"
    proc = run_onyx("run", path, "--input", f"x={tmp_path / 'x.npy'}", "--input", f"W={tmp_path / 'W.npy'}",
                    "--output-dir", out)
    assert proc.returncode == 0, proc.stderr

    def read(k):
        tensor = TensorProto()
        tensor.ParseFromString((out / f"output_{k}.pb").read_bytes())
        return numpy_helper.to_array(tensor)

    xd, wd = x.astype(np.float64), w.astype(np.float64)
    t = np.tanh(xd @ wd)
    upstream = 2.0 * (1.0 - t * t)
    np.testing.assert_allclose(read(0), (2.0 * t).sum(), rtol=1e-5)
    np.testing.assert_allclose(read(1), upstream @ wd.T, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(read(2), xd.T @ upstream, rtol=1e-4, atol=1e-5)
