"""Float -> INT4/UINT4/INT2/UINT2 casts outside the target range. The Cast spec leaves the
result undefined (the onnx-node suite feeds only the defined range, see
scripts/generate_onnx_node_tests.py); onyx keeps the low bits of the integer, and so does
onnxruntime, the peer users move from: the two must agree element for element."""
import numpy as np
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from cli_helpers import make_model, run_onyx, save_model

LOW_BIT_TYPES = {"INT4": TensorProto.INT4, "UINT4": TensorProto.UINT4,
                 "INT2": TensorProto.INT2, "UINT2": TensorProto.UINT2}


@pytest.mark.parametrize("source", [TensorProto.FLOAT, TensorProto.FLOAT16])
@pytest.mark.parametrize("target", sorted(LOW_BIT_TYPES))
def test_cast_low_bit_matches_onnxruntime(tmp_path, source, target):
    # Through INT8 afterwards, since numpy (and so ORT's Python API) has no 2/4-bit arrays.
    nodes = [helper.make_node("Cast", ["x"], ["low"], to=LOW_BIT_TYPES[target]),
             helper.make_node("Cast", ["low"], ["y"], to=TensorProto.INT8)]
    model = make_model(nodes, [helper.make_tensor_value_info("x", source, [40])],
                       [helper.make_tensor_value_info("y", TensorProto.INT8, [40])], opsets={"": 25})
    path = save_model(model, tmp_path / "cast.onnx")
    x = np.arange(-20, 20).astype(np.float32 if source == TensorProto.FLOAT else np.float16)
    np.save(tmp_path / "x.npy", x)
    proc = run_onyx("run", path, "--input", f"x={tmp_path / 'x.npy'}", "--output-dir", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    result = TensorProto()
    result.ParseFromString((tmp_path / "out" / "output_0.pb").read_bytes())
    expected = ort.InferenceSession(str(path)).run(None, {"x": x})[0]
    np.testing.assert_array_equal(numpy_helper.to_array(result), expected)
