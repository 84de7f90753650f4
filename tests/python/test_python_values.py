"""Values across the Python boundary: feeds read in place when they can be, every element type
(strings as str arrays, the types NumPy lacks through ml_dtypes, packed sub-byte types),
sequences as lists, optionals as None. References are NumPy's and ml_dtypes' own values."""
import ml_dtypes
import numpy as np
import pytest
from onnx import TensorProto, helper

import onyx
from cli_helpers import make_model, save_model

FLOAT = TensorProto.FLOAT


def session_of(tmp_path, nodes, inputs, outputs, opset=21):
    model = make_model(nodes, inputs, outputs, opsets={"": opset})
    return onyx.InferenceSession(str(save_model(model, tmp_path / "model.onnx")))


# --- feeds without a copy -----------------------------------------------------------------

def test_contiguous_feeds_are_read_in_place():
    x = np.arange(12, dtype=np.float32).reshape(3, 4)
    assert onyx._onyx.feed_data_address(x, TensorProto.FLOAT) == x.ctypes.data
    read_only = np.frombuffer(np.arange(6, dtype=np.int64).tobytes(), np.int64)
    assert not read_only.flags.writeable
    assert onyx._onyx.feed_data_address(read_only, TensorProto.INT64) == read_only.ctypes.data
    offset_view = x[1:]  # C-contiguous, starting inside another array's memory
    assert onyx._onyx.feed_data_address(offset_view, TensorProto.FLOAT) == offset_view.ctypes.data


def test_other_layouts_are_copied_and_still_right(tmp_path):
    x = np.arange(24, dtype=np.float32).reshape(4, 6)
    strided, fortran = x[:, ::2], np.asfortranarray(x)
    assert onyx._onyx.feed_data_address(strided, TensorProto.FLOAT) != strided.ctypes.data
    swapped = x.astype(">f4")
    session = session_of(tmp_path, [helper.make_node("Neg", ["x"], ["y"])],
                         [helper.make_tensor_value_info("x", FLOAT, ["rows", "columns"])],
                         [helper.make_tensor_value_info("y", FLOAT, ["rows", "columns"])])
    for feed in (strided, fortran, swapped, x.T):
        y, = session.run(None, {"x": feed})
        np.testing.assert_array_equal(y, -np.asarray(feed, np.float32))


def test_lists_and_scalars_become_tensors_of_the_declared_type(tmp_path):
    session = session_of(tmp_path, [helper.make_node("Neg", ["x"], ["y"])],
                         [helper.make_tensor_value_info("x", TensorProto.INT64, ["rows", "columns"])],
                         [helper.make_tensor_value_info("y", TensorProto.INT64, ["rows", "columns"])])
    y, = session.run(None, {"x": [[1, 2], [3, 4]]})
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, [[-1, -2], [-3, -4]])
    y, = session.run(None, {"x": np.int64(5).reshape(1, 1)})
    assert y.shape == (1, 1) and y == -5
    with pytest.raises(onyx.InvalidArgument, match="input 'x' expects a tensor int64"):
        session.run(None, {"x": [[1, 2], [3]]})


def test_a_dtype_onyx_lacks_is_named(tmp_path):
    session = session_of(tmp_path, [helper.make_node("Neg", ["x"], ["y"])],
                         [helper.make_tensor_value_info("x", FLOAT, [1])],
                         [helper.make_tensor_value_info("y", FLOAT, [1])])
    with pytest.raises(onyx.InvalidArgument, match="onyx has no tensor type for NumPy dtype datetime64"):
        session.run(None, {"x": np.array(["2020-01-01"], "datetime64[D]")})


# --- element types ------------------------------------------------------------------------

NUMPY_TYPES = [np.float32, np.float64, np.float16, np.int8, np.int16, np.int32, np.int64, np.uint8,
               np.uint16, np.uint32, np.uint64, np.bool_, np.complex64, np.complex128]


@pytest.mark.parametrize("dtype", NUMPY_TYPES, ids=lambda t: np.dtype(t).name)
def test_numpy_types_round_trip(tmp_path, dtype):
    onnx_type = helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    session = session_of(tmp_path, [helper.make_node("Identity", ["x"], ["y"])],
                         [helper.make_tensor_value_info("x", onnx_type, [2, 3])],
                         [helper.make_tensor_value_info("y", onnx_type, [2, 3])])
    x = (np.arange(6).reshape(2, 3) % 3).astype(dtype)
    y, = session.run(None, {"x": x})
    assert y.dtype == x.dtype
    np.testing.assert_array_equal(y, x)


ML_TYPES = [("bfloat16", TensorProto.BFLOAT16), ("float8_e4m3fn", TensorProto.FLOAT8E4M3FN),
            ("float8_e5m2", TensorProto.FLOAT8E5M2), ("int4", TensorProto.INT4), ("uint4", TensorProto.UINT4),
            ("float4_e2m1fn", TensorProto.FLOAT4E2M1)]


@pytest.mark.parametrize("name,onnx_type", ML_TYPES, ids=[name for name, _ in ML_TYPES])
def test_ml_dtypes_types_are_what_onyx_computes_with(tmp_path, name, onnx_type):
    """Cast(x -> float) reads onyx's own layout of x (packed for 4-bit types): its result equals
    ml_dtypes' conversion only if the bindings laid the elements out as ONNX does; the Identity
    output checks the way back."""
    dtype = getattr(ml_dtypes, name)
    session = session_of(tmp_path, [helper.make_node("Cast", ["x"], ["as_float"], to=FLOAT),
                                    helper.make_node("Identity", ["x"], ["same"])],
                         [helper.make_tensor_value_info("x", onnx_type, [7])],
                         [helper.make_tensor_value_info("as_float", FLOAT, [7]),
                          helper.make_tensor_value_info("same", onnx_type, [7])], opset=23)
    x = np.array([-3, -1.5, -0.5, 0, 0.5, 2, 3], np.float32)
    if name.startswith("uint"):
        x = np.abs(x)
    x = x.astype(dtype)
    as_float, same = session.run(None, {"x": x})
    np.testing.assert_array_equal(as_float, x.astype(np.float32))
    assert same.dtype == x.dtype
    np.testing.assert_array_equal(same.view(np.uint8), x.view(np.uint8))


def test_strings_are_str_arrays(tmp_path):
    session = session_of(tmp_path, [helper.make_node("StringConcat", ["a", "b"], ["joined"]),
                                    helper.make_node("Identity", ["a"], ["same"])],
                         [helper.make_tensor_value_info("a", TensorProto.STRING, [3]),
                          helper.make_tensor_value_info("b", TensorProto.STRING, [3])],
                         [helper.make_tensor_value_info("joined", TensorProto.STRING, [3]),
                          helper.make_tensor_value_info("same", TensorProto.STRING, [3])])
    a = np.array(["x", "héllo", ""], dtype=object)
    b = np.array(["1", "2", "wörld"])  # a NumPy unicode array is accepted too
    joined, same = session.run(None, {"a": a, "b": b})
    assert joined.dtype == object and all(isinstance(item, str) for item in joined)
    np.testing.assert_array_equal(joined, np.char.add(a.astype(str), b).astype(object))
    np.testing.assert_array_equal(same, a)
    with pytest.raises(onyx.InvalidArgument, match="element 1 is a int, not a str"):
        session.run(None, {"a": np.array(["x", 3, "y"], dtype=object), "b": b})


# --- sequences and optionals --------------------------------------------------------------

def test_sequences_are_lists(tmp_path):
    seq_type = helper.make_tensor_sequence_value_info
    session = session_of(tmp_path, [helper.make_node("ConcatFromSequence", ["parts"], ["joined"], axis=0),
                                    helper.make_node("SequenceConstruct", ["joined", "joined"], ["pair"]),
                                    helper.make_node("SequenceLength", ["parts"], ["count"])],
                         [seq_type("parts", FLOAT, ["rows", 3])],
                         [helper.make_tensor_value_info("joined", FLOAT, ["rows", 3]), seq_type("pair", FLOAT, None),
                          helper.make_tensor_value_info("count", TensorProto.INT64, [])])
    parts = [np.ones((2, 3), np.float32), np.arange(3, dtype=np.float32).reshape(1, 3)]
    joined, pair, count = session.run(None, {"parts": parts})
    np.testing.assert_array_equal(joined, np.concatenate(parts))
    assert isinstance(pair, list) and len(pair) == 2
    np.testing.assert_array_equal(pair[1], np.concatenate(parts))
    assert count == 2
    assert session.get_inputs()[0].type == "seq(tensor(float))"
    with pytest.raises(onyx.InvalidArgument, match="input 'parts' expects a sequence"):
        session.run(None, {"parts": parts[0]})


def test_optionals_are_none_or_values(tmp_path):
    optional_float = helper.make_optional_type_proto(helper.make_tensor_type_proto(FLOAT, [2]))
    session = session_of(tmp_path, [helper.make_node("OptionalHasElement", ["maybe"], ["has"]),
                                    helper.make_node("Identity", ["maybe"], ["same"])],
                         [helper.make_value_info("maybe", optional_float)],
                         [helper.make_tensor_value_info("has", TensorProto.BOOL, []),
                          helper.make_value_info("same", optional_float)])
    assert session.get_inputs()[0].type == "optional(tensor(float))"
    has, same = session.run(None, {"maybe": None})
    assert not has and same is None
    has, same = session.run(None, {"maybe": np.array([1, 2], np.float32)})
    assert has
    np.testing.assert_array_equal(same, [1, 2])
