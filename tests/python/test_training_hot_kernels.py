"""The kernels a CNN training step spends its time in, against onnxruntime: MaxPool with
Indices (the tap-by-tap fast path and its fallbacks), ScatterElements (the flat fast path
MaxPool's gradient takes and the general odometer) and Where with a broadcast scalar."""
import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper

from cli_helpers import make_model, ort_run, read_outputs, run_onyx, save_model, write_pb


def run_both(tmp_path, model, feeds):
    path = tmp_path / "model.onnx"
    save_model(model, path, check=False)
    args = []
    for name, value in feeds.items():
        args += ["--input", f"{name}={write_pb(value, name, tmp_path / (name + '.pb'))}"]
    proc = run_onyx("run", path, *args, "--threads", "1", "--output-dir", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    return dict(read_outputs(tmp_path / "out")), ort_run(path, feeds)


MAX_POOL_CASES = [
    dict(kernel_shape=[2, 2], strides=[2, 2]),                            # the CNN's pools
    dict(kernel_shape=[3, 3], strides=[1, 1], pads=[1, 1, 1, 1]),         # overlapping, padded
    dict(kernel_shape=[3, 2], strides=[2, 1], dilations=[2, 1]),          # dilated
    dict(kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1),               # a clipped last window
    dict(kernel_shape=[3, 3], strides=[2, 2], pads=[0, 1, 2, 0]),         # uneven padding
]


@pytest.mark.parametrize("attributes", MAX_POOL_CASES)
@pytest.mark.parametrize("ties", [False, True])
def test_max_pool_indices_match_onnxruntime(tmp_path, attributes, ties):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 9, 11)).astype(np.float32)
    if ties:  # few distinct values: the first maximum in window order must win
        x = np.round(x).astype(np.float32)
    node = helper.make_node("MaxPool", ["x"], ["y", "indices"], **attributes)
    model = make_model([node], [helper.make_tensor_value_info("x", TensorProto.FLOAT, x.shape)],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, None),
                        helper.make_tensor_value_info("indices", TensorProto.INT64, None)])
    ours, ref = run_both(tmp_path, model, {"x": x})
    np.testing.assert_array_equal(ours["y"], ref["y"])
    np.testing.assert_array_equal(ours["indices"], ref["indices"])


SCATTER_CASES = [
    # data shape, indices shape, axis, reduction
    ((60,), (20,), 0, "none"),              # MaxPool's gradient: flat and rank 1
    ((60,), (40,), 0, "add"),               # repeated indices add up
    ((3, 5, 4), (3, 2, 4), 1, "none"),      # indices match data but on the axis: fast path
    ((3, 5, 4), (3, 7, 4), 1, "add"),
    ((3, 5, 4), (2, 3, 3), 1, "add"),       # fewer rows elsewhere: the general odometer
    ((4, 6), (4, 3), -1, "none"),
]


@pytest.mark.parametrize("data_shape,indices_shape,axis,reduction", SCATTER_CASES)
def test_scatter_elements_matches_onnxruntime(tmp_path, data_shape, indices_shape, axis, reduction):
    rng = np.random.default_rng(5)
    data = rng.standard_normal(data_shape).astype(np.float32)
    size = data_shape[axis]
    if reduction == "none":  # distinct targets along the axis, so the order cannot matter
        indices = np.argsort(rng.random(tuple(max(i, size) if d == axis % len(data_shape) else i
                                              for d, i in enumerate(indices_shape))),
                             axis=axis).take(range(indices_shape[axis]), axis=axis)
    else:
        indices = rng.integers(-size, size, indices_shape)
    indices = indices.astype(np.int64)
    updates = rng.standard_normal(indices_shape).astype(np.float32)
    node = helper.make_node("ScatterElements", ["data", "indices", "updates"], ["y"], axis=axis,
                            reduction=reduction)
    model = make_model([node], [helper.make_tensor_value_info("data", TensorProto.FLOAT, data_shape),
                                helper.make_tensor_value_info("indices", TensorProto.INT64, indices_shape),
                                helper.make_tensor_value_info("updates", TensorProto.FLOAT, indices_shape)],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], opsets={"": 18})
    feeds = {"data": data, "indices": indices, "updates": updates}
    ours, ref = run_both(tmp_path, model, feeds)
    np.testing.assert_allclose(ours["y"], ref["y"], rtol=1e-6, atol=1e-6)


def test_scatter_elements_rejects_out_of_range_index(tmp_path):
    node = helper.make_node("ScatterElements", ["data", "indices", "updates"], ["y"], axis=0)
    model = make_model([node], [helper.make_tensor_value_info("data", TensorProto.FLOAT, [4]),
                                helper.make_tensor_value_info("indices", TensorProto.INT64, [2]),
                                helper.make_tensor_value_info("updates", TensorProto.FLOAT, [2])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    path = tmp_path / "model.onnx"
    save_model(model, path, check=False)
    feeds = {"data": np.zeros(4, np.float32), "indices": np.array([1, 4], np.int64),
             "updates": np.ones(2, np.float32)}
    args = []
    for name, value in feeds.items():
        args += ["--input", f"{name}={write_pb(value, name, tmp_path / (name + '.pb'))}"]
    proc = run_onyx("run", path, *args, "--output-dir", tmp_path / "out")
    assert proc.returncode == 1 and "out of range" in proc.stderr, proc.stderr


@pytest.mark.parametrize("scalar_input", ["x", "y", None])
def test_where_with_scalar_branch_matches_onnxruntime(tmp_path, scalar_input):
    rng = np.random.default_rng(7)
    shape = (4, 5, 6)
    feeds = {"c": rng.random(shape) > 0.5,
             "x": rng.standard_normal(() if scalar_input == "x" else shape).astype(np.float32),
             "y": rng.standard_normal(() if scalar_input == "y" else shape).astype(np.float32)}
    node = helper.make_node("Where", ["c", "x", "y"], ["out"])
    model = make_model([node], [helper.make_tensor_value_info("c", TensorProto.BOOL, shape),
                                helper.make_tensor_value_info("x", TensorProto.FLOAT, feeds["x"].shape),
                                helper.make_tensor_value_info("y", TensorProto.FLOAT, feeds["y"].shape)],
                       [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)])
    ours, ref = run_both(tmp_path, model, feeds)
    np.testing.assert_array_equal(ours["out"], ref["out"])
