"""Hostile models and inputs (issue 13.1): sizes that overflow, negative or NaN values, graphs that
cannot be run. Each ends in exactly one readable `onyx: error:` line and exit status 1: never a
signal, never a message with C++ internals (std::bad_alloc, basic_string, ...)."""
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from cli_helpers import OPSET, assert_one_error_line, make_model, ort_run, read_outputs, run_onyx, save_model

INTERNALS = ("std::", "bad_alloc", "basic_string", "_M_", "vector::", "terminate called")
# A limit far below this machine's memory, so a test of "too big" never depends on the machine.
LIMIT = "1G"


def assert_clean_error(proc, *must_mention):
    line = assert_one_error_line(proc, *must_mention)
    for internal in INTERNALS:
        assert internal not in line, line
    return line


def float_info(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def int64_init(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def save(tmp_path, nodes, inputs, outputs, inits=(), name="hostile.onnx", opsets=None):
    return save_model(make_model(nodes, inputs, outputs, inits, opsets=opsets), tmp_path / name, check=False)


def run_random(path, *extra):
    return run_onyx("run", path, "--random", "--memory-limit", LIMIT, *extra)


# --- sizes too big for memory: the error names the node, the output and the exact byte count ---

def test_constant_of_shape_2_pow_31_squared_is_refused_with_the_exact_size(tmp_path):
    path = save(tmp_path, [helper.make_node("ConstantOfShape", ["shape"], ["Y"], name="fill")], [],
                [float_info("Y", None)], [int64_init("shape", [2**31, 2**31])])
    line = assert_clean_error(run_random(path), "node 'fill' (ConstantOfShape)", "output 0",
                              str(2**62 * 4), "over the limit of 1073741824 bytes")
    assert "--memory-limit" in line


def test_constant_of_shape_from_a_runtime_input(tmp_path):
    path = save(tmp_path, [helper.make_node("ConstantOfShape", ["shape"], ["Y"], name="fill")],
                [helper.make_tensor_value_info("shape", TensorProto.INT64, [2])], [float_info("Y", None)])
    shape = tmp_path / "shape.npy"
    np.save(shape, np.array([2**31, 2**31], dtype=np.int64))
    assert_clean_error(run_random(path, "--input", f"shape={shape}"), "node 'fill' (ConstantOfShape)",
                       str(2**62 * 4), "over the limit")


def test_constant_of_shape_with_a_negative_dim(tmp_path):
    path = save(tmp_path, [helper.make_node("ConstantOfShape", ["shape"], ["Y"], name="fill")], [],
                [float_info("Y", None)], [int64_init("shape", [3, -2])])
    assert_clean_error(run_random(path), "fill", "-2")


def test_memory_limit_counts_bytes_not_elements(tmp_path):
    # 2^28 float32 values: exactly 1 GiB passes, one more element does not.
    for dims, ok in (([2**14, 2**14], True), ([2**14, 2**14 + 1], False)):
        path = save(tmp_path, [helper.make_node("ConstantOfShape", ["shape"], ["Y"], name="fill")],
                    [helper.make_tensor_value_info("shape", TensorProto.INT64, [2])], [float_info("Y", None)],
                    name=f"fill{ok}.onnx")
        shape = tmp_path / "shape.npy"
        np.save(shape, np.array(dims, dtype=np.int64))
        proc = run_random(path, "--input", f"shape={shape}")
        if ok:
            assert proc.returncode == 0, proc.stderr
        else:
            assert_clean_error(proc, "fill", str((2**28 + 2**14) * 4), "over the limit of 1073741824")


def test_expand_to_a_huge_shape(tmp_path):
    path = save(tmp_path, [helper.make_node("Expand", ["X", "shape"], ["Y"], name="grow")], [float_info("X", [1, 1])],
                [float_info("Y", None)], [int64_init("shape", [2**40, 2**40])])
    assert_clean_error(run_random(path), "node 'grow' (Expand)", str(2**80 * 4), "over the limit")


def test_tile_repeat_overflowing_int64(tmp_path):
    path = save(tmp_path, [helper.make_node("Tile", ["X", "repeats"], ["Y"], name="tile")],
                [float_info("X", [4, 2])], [float_info("Y", None)], [int64_init("repeats", [2**62, 1])])
    line = assert_clean_error(run_random(path), "node 'tile' (Tile)")
    assert "-9223372036854775808" not in line, line


def test_tile_repeats_from_a_runtime_input_overflowing(tmp_path):
    path = save(tmp_path, [helper.make_node("Tile", ["X", "repeats"], ["Y"], name="tile")],
                [float_info("X", [4, 2]), helper.make_tensor_value_info("repeats", TensorProto.INT64, [2])],
                [float_info("Y", None)])
    repeats = tmp_path / "repeats.npy"
    np.save(repeats, np.array([2**62, 3], dtype=np.int64))
    line = assert_clean_error(run_random(path, "--input", f"repeats={repeats}"), "node 'tile' (Tile)")
    assert "-9223372036854775808" not in line, line


@pytest.mark.parametrize("depth,named", [(2**40, "over the limit"), (-3, "depth"), (0, "depth")])
def test_one_hot_depth(tmp_path, depth, named):
    path = save(tmp_path, [helper.make_node("OneHot", ["indices", "depth", "values"], ["Y"], name="hot")],
                [helper.make_tensor_value_info("indices", TensorProto.INT64, [3])], [float_info("Y", None)],
                [int64_init("depth", [depth]), numpy_helper.from_array(np.array([0, 1], np.float32), "values")])
    assert_clean_error(run_random(path), "node 'hot' (OneHot)", named)


def resize_model(tmp_path, scales, name="resize.onnx"):
    nodes = [helper.make_node("Resize", ["X", "", "scales"], ["Y"], name="resize", mode="nearest")]
    inits = [numpy_helper.from_array(np.array(scales, np.float32), "scales")]
    return save(tmp_path, nodes, [float_info("X", [1, 1, 4, 4])], [float_info("Y", None)], inits, name=name)


def test_resize_with_huge_scales(tmp_path):
    assert_clean_error(run_random(resize_model(tmp_path, [1, 1, 1e10, 1e10])), "node 'resize' (Resize)",
                       "over the limit")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -2.0, 0.0, 3e38])
def test_resize_with_non_finite_or_non_positive_scales(tmp_path, bad):
    line = assert_clean_error(run_random(resize_model(tmp_path, [1, 1, bad, 2])), "node 'resize' (Resize)")
    assert "scale" in line.lower() or "over the limit" in line, line


@pytest.mark.parametrize("start,limit,delta,named", [
    (0, 10**18, 1, "over the limit"),
    (0, 10, 0, "delta"),
])
def test_range(tmp_path, start, limit, delta, named):
    inits = [int64_init(n, v) for n, v in (("start", start), ("limit", limit), ("delta", delta))]
    for init in inits:
        init.dims[:] = []
    path = save(tmp_path, [helper.make_node("Range", ["start", "limit", "delta"], ["Y"], name="range")], [],
                [helper.make_tensor_value_info("Y", TensorProto.INT64, None)], inits)
    assert_clean_error(run_random(path), "node 'range' (Range)", named)


def test_range_of_floats_with_nan_limit(tmp_path):
    inits = [numpy_helper.from_array(np.array(v, np.float32), n)
             for n, v in (("start", 0.0), ("limit", np.nan), ("delta", 1.0))]
    path = save(tmp_path, [helper.make_node("Range", ["start", "limit", "delta"], ["Y"], name="range")], [],
                [float_info("Y", None)], inits)
    assert_clean_error(run_random(path), "node 'range' (Range)")


@pytest.mark.parametrize("pads,named", [
    ([0, 2**62, 0, 2**62], "Pad"),
    ([0, -9, 0, 0], "negative"),
    ([0, 2**63 - 1, 0, 1], "overflow"),
])
def test_pad(tmp_path, pads, named):
    path = save(tmp_path, [helper.make_node("Pad", ["X", "pads"], ["Y"], name="pad")], [float_info("X", [2, 3])],
                [float_info("Y", None)], [int64_init("pads", pads)])
    assert_clean_error(run_random(path), "node 'pad' (Pad)", named)


@pytest.mark.parametrize("shape,named", [
    ([2**40, 2**40], "reshape"),
    ([-1, -1], "-1"),
    ([-7, 2], "-7"),
    ([5, 5], "24"),
])
def test_reshape(tmp_path, shape, named):
    path = save(tmp_path, [helper.make_node("Reshape", ["X", "shape"], ["Y"], name="reshape")],
                [float_info("X", [2, 3, 4])], [float_info("Y", None)], [int64_init("shape", shape)])
    assert_clean_error(run_random(path), "node 'reshape' (Reshape)", named)


def test_huge_declared_input_shape_with_random_inputs(tmp_path):
    path = save(tmp_path, [helper.make_node("Relu", ["X"], ["Y"], name="relu")], [float_info("X", [2**31, 2**31])],
                [float_info("Y", None)])
    assert_clean_error(run_random(path), "X", "over the limit")


def test_memory_limit_option_rejects_nonsense():
    proc = run_onyx("run", "model.onnx", "--memory-limit", "lots")
    assert proc.returncode == 2 and "memory-limit" in proc.stderr, proc.stderr


# --- zero-size dims: empty tensors flow through like onnxruntime's ---

ZERO_SIZE_CASES = {
    "MatMul": ([helper.make_node("MatMul", ["X", "W"], ["Y"])], [0, 4], [numpy_helper.from_array(np.ones((4, 3), np.float32), "W")]),
    "Relu": ([helper.make_node("Relu", ["X"], ["Y"])], [0, 4], []),
    "Softmax": ([helper.make_node("Softmax", ["X"], ["Y"], axis=1)], [3, 0], []),
    "ReduceSum": ([helper.make_node("ReduceSum", ["X", "axes"], ["Y"], keepdims=1)], [0, 4], [int64_init("axes", [1])]),
    "ReduceSumEmpty": ([helper.make_node("ReduceSum", ["X", "axes"], ["Y"], keepdims=0)], [3, 0], [int64_init("axes", [1])]),
    "Concat": ([helper.make_node("Concat", ["X", "X"], ["Y"], axis=0)], [0, 4], []),
    "Transpose": ([helper.make_node("Transpose", ["X"], ["Y"], perm=[1, 0])], [0, 4], []),
    "Gemm": ([helper.make_node("Gemm", ["X", "W", "B"], ["Y"])], [0, 4],
             [numpy_helper.from_array(np.ones((4, 3), np.float32), "W"), numpy_helper.from_array(np.ones(3, np.float32), "B")]),
    "Conv": ([helper.make_node("Conv", ["X", "W"], ["Y"], pads=[1, 1, 1, 1])], [0, 2, 5, 5],
             [numpy_helper.from_array(np.ones((3, 2, 3, 3), np.float32), "W")]),
    "MaxPool": ([helper.make_node("MaxPool", ["X"], ["Y"], kernel_shape=[2, 2])], [0, 2, 4, 4], []),
    "Tile": ([helper.make_node("Tile", ["X", "repeats"], ["Y"])], [2, 3], [int64_init("repeats", [0, 2])]),
    "Slice": ([helper.make_node("Slice", ["X", "starts", "ends"], ["Y"])], [4, 3], [int64_init("starts", [2]), int64_init("ends", [2])]),
    "Gather": ([helper.make_node("Gather", ["X", "indices"], ["Y"], axis=0)], [4, 3],
               [numpy_helper.from_array(np.zeros((0,), np.int64), "indices")]),
    "Pad": ([helper.make_node("Pad", ["X", "pads"], ["Y"])], [0, 3], [int64_init("pads", [1, 0, 1, 0])]),
    "LayerNormalization": ([helper.make_node("LayerNormalization", ["X", "scale"], ["Y"])], [0, 4],
                           [numpy_helper.from_array(np.ones(4, np.float32), "scale")]),
    "TopK": ([helper.make_node("TopK", ["X", "k"], ["Y", "I"])], [0, 4], [int64_init("k", [2])]),
}


@pytest.mark.parametrize("op", sorted(ZERO_SIZE_CASES))
def test_zero_size_dims_match_onnxruntime(tmp_path, op):
    nodes, x_shape, inits = ZERO_SIZE_CASES[op]
    outputs = [float_info("Y", None)]
    if op == "TopK":
        outputs.append(helper.make_tensor_value_info("I", TensorProto.INT64, None))
    path = save_model(make_model(nodes, [float_info("X", x_shape)], outputs, inits), tmp_path / "zero.onnx", check=False)
    x = np.ones(x_shape, np.float32)
    np.save(tmp_path / "x.npy", x)
    proc = run_onyx("run", path, "--input", f"X={tmp_path / 'x.npy'}", "--output-dir", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    got = dict(read_outputs(tmp_path / "out"))
    expected = ort_run(path, {"X": x})
    for name, value in expected.items():
        assert got[name].shape == value.shape, (name, got[name].shape, value.shape)
        np.testing.assert_allclose(got[name], value, rtol=1e-6)


# --- graphs that cannot be run ---

def field(number, payload):
    """One length-delimited protobuf field (wire type 2)."""
    def varint(n):
        out = b""
        while True:
            out += bytes([(n & 0x7F) | (0x80 if n > 0x7F else 0)])
            n >>= 7
            if not n:
                return out
    payload = payload.encode() if isinstance(payload, str) else payload
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def nested_if_model_bytes(depth):
    """A model whose If nodes nest `depth` deep, each the else-branch of the one around it. Python's
    protobuf refuses to build messages nested this deep, so the bytes are written by hand:
    GraphProto node=1 name=2 input=11 output=12, NodeProto input=1 output=2 op_type=4 attribute=5,
    AttributeProto name=1 g=6 type=20 (GRAPH=5), ModelProto graph=7."""
    out = float_info("out", [2]).SerializeToString()
    def graph(nodes, name, inputs=b""):
        return b"".join(field(1, n) for n in nodes) + field(2, name) + inputs + field(12, out)
    def attribute(name, body):
        return field(1, name) + field(6, body) + bytes([0xA0, 0x01, 5])  # field 20, varint 5
    leaf = graph([helper.make_node("Identity", ["X"], ["out"]).SerializeToString()], "leaf")
    then = graph([helper.make_node("Neg", ["X"], ["out"]).SerializeToString()], "then")
    body = leaf
    for level in range(depth):
        node = field(1, "cond") + field(2, "out") + field(4, "If") + field(5, attribute("then_branch", then)) + \
            field(5, attribute("else_branch", body))
        inputs = b""
        if level == depth - 1:
            inputs = field(11, float_info("X", [2]).SerializeToString()) + \
                field(11, helper.make_tensor_value_info("cond", TensorProto.BOOL, []).SerializeToString())
        body = graph([node], f"level{level}", inputs)
    model = make_model([], [], [])
    model.ir_version = 8
    model.ClearField("graph")
    return model.SerializeToString() + field(7, body)


def test_subgraphs_nested_too_deep(tmp_path):
    path = tmp_path / "deep.onnx"
    path.write_bytes(nested_if_model_bytes(120))
    assert_clean_error(run_random(path), "nested more than 100 deep")


def test_subgraphs_nested_past_protobufs_limit(tmp_path):
    path = tmp_path / "deeper.onnx"
    path.write_bytes(nested_if_model_bytes(1000))
    assert_clean_error(run_random(path), "deeper.onnx", "nested over")


def test_moderately_nested_subgraphs_still_run(tmp_path):
    path = tmp_path / "nested.onnx"
    path.write_bytes(nested_if_model_bytes(90))
    proc = run_random(path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("out: float [2]"), proc.stdout


def test_function_calling_itself(tmp_path):
    body = [helper.make_node("Recurse", ["x"], ["y"], domain="local")]
    function = helper.make_function("local", "Recurse", ["x"], ["y"], body,
                                    [helper.make_opsetid("", OPSET), helper.make_opsetid("local", 1)])
    model = make_model([helper.make_node("Recurse", ["X"], ["Y"], domain="local", name="call")],
                       [float_info("X", [2])], [float_info("Y", [2])], opsets={"": OPSET, "local": 1})
    model.functions.append(function)
    path = save_model(model, tmp_path / "recursive.onnx", check=False)
    assert_clean_error(run_random(path), "Recurse")


def test_mismatched_loop_carried_types(tmp_path):
    # The body takes and returns a float carried value, the Loop starts it as int64.
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]), helper.make_node("Identity", ["v_in"], ["v_out"])],
        "body", [helper.make_tensor_value_info("i", TensorProto.INT64, []),
                 helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []), float_info("v_in", [2])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []), float_info("v_out", [2])])
    nodes = [helper.make_node("Loop", ["trip", "", "v0"], ["v"], name="loop", body=body)]
    path = save(tmp_path, nodes, [helper.make_tensor_value_info("v0", TensorProto.INT64, [2])],
                [helper.make_tensor_value_info("v", TensorProto.INT64, None)], [int64_init("trip", 3)])
    assert_clean_error(run_random(path), "loop", "float", "int64")


def test_graph_with_a_cycle(tmp_path):
    nodes = [helper.make_node("Add", ["X", "b"], ["a"], name="first"),
             helper.make_node("Relu", ["a"], ["b"], name="second")]
    path = save(tmp_path, nodes, [float_info("X", [2])], [float_info("b", [2])])
    assert_clean_error(run_random(path), "cycle")


def test_two_nodes_writing_one_value(tmp_path):
    nodes = [helper.make_node("Relu", ["X"], ["Y"], name="first"), helper.make_node("Neg", ["X"], ["Y"], name="second")]
    path = save(tmp_path, nodes, [float_info("X", [2])], [float_info("Y", [2])])
    assert_clean_error(run_random(path), "'Y'", "second")


def test_an_initializer_and_a_node_output_with_one_name(tmp_path):
    nodes = [helper.make_node("Relu", ["X"], ["W"], name="writer"), helper.make_node("Add", ["X", "W"], ["Y"])]
    path = save(tmp_path, nodes, [float_info("X", [2])], [float_info("Y", [2])],
                [numpy_helper.from_array(np.ones(2, np.float32), "W")])
    assert_clean_error(run_random(path), "'W'")


@pytest.mark.parametrize("raw_bytes", [4, 12, 0])
def test_initializer_raw_data_disagreeing_with_its_dims(tmp_path, raw_bytes):
    weight = TensorProto()
    weight.name, weight.data_type = "W", TensorProto.FLOAT
    weight.dims.extend([2])
    weight.raw_data = b"\0" * raw_bytes if raw_bytes else b""
    if raw_bytes == 0:
        weight.float_data.extend([1.0, 2.0, 3.0])  # typed data of the wrong length
    path = save(tmp_path, [helper.make_node("Add", ["X", "W"], ["Y"])], [float_info("X", [2])], [float_info("Y", [2])],
                [weight])
    assert_clean_error(run_random(path), "'W'")


def test_initializer_with_a_huge_claimed_shape(tmp_path):
    weight = TensorProto()
    weight.name, weight.data_type = "W", TensorProto.FLOAT
    weight.dims.extend([2**40, 2**40])
    weight.raw_data = b"\0" * 8
    path = save(tmp_path, [helper.make_node("Add", ["X", "W"], ["Y"])], [float_info("X", [2])], [float_info("Y", [2])],
                [weight])
    assert_clean_error(run_random(path), "'W'")


INVALID_UTF8 = [b"\xff\xfe", b"abc\xc3", b"\xed\xa0\x80"]  # a bad start byte, a cut sequence, a surrogate


def string_model(tmp_path, node, output_type=TensorProto.STRING):
    value = helper.make_tensor("S", TensorProto.STRING, [3], INVALID_UTF8)
    return save(tmp_path, [node], [], [helper.make_tensor_value_info("Y", output_type, None)], [value])


def test_invalid_utf8_strings_pass_through_unchanged(tmp_path):
    # ONNX strings are bytes; an op that does not read them as text keeps them as they are.
    path = string_model(tmp_path, helper.make_node("Identity", ["S"], ["Y"]))
    proc = run_onyx("run", path, "--output-dir", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    written = TensorProto()
    written.ParseFromString((tmp_path / "out" / "output_0.pb").read_bytes())
    assert list(written.string_data) == INVALID_UTF8


@pytest.mark.parametrize("node", [
    helper.make_node("StringNormalizer", ["S"], ["Y"], name="text", case_change_action="UPPER"),
    helper.make_node("RegexFullMatch", ["S"], ["Y"], name="text", pattern="a.*"),
    helper.make_node("StringSplit", ["S"], ["Y", "n"], name="text"),
], ids=["StringNormalizer", "RegexFullMatch", "StringSplit"])
def test_text_ops_refuse_invalid_utf8(tmp_path, node):
    opsets = {"": 20}
    value = helper.make_tensor("S", TensorProto.STRING, [3], INVALID_UTF8)
    outputs = [helper.make_tensor_value_info(o, TensorProto.UNDEFINED, None) for o in node.output]
    path = save(tmp_path, [node], [], outputs, [value], opsets=opsets)
    assert_clean_error(run_onyx("run", path), "node 'text'", "UTF-8")


# --- input files that are truncated or lie about their size ---

@pytest.fixture
def relu_path(tmp_path):
    return save_model(make_model([helper.make_node("Relu", ["X"], ["Y"])], [float_info("X", [2, 3])],
                                 [float_info("Y", [2, 3])]), tmp_path / "relu.onnx")


def npy_bytes(array):
    import io
    buffer = io.BytesIO()
    np.save(buffer, array)
    return buffer.getvalue()


def lying_npy(shape_text):
    header = ("{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % shape_text).ljust(117) + "\n"
    return b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode() + b"\0" * 24


@pytest.mark.parametrize("content,named", [
    (npy_bytes(np.ones((2, 3), np.float32))[:-5], "x.npy"),
    (lying_npy("(2**40, 2**40)"), "x.npy"),
    (lying_npy("(1099511627776, 1099511627776)"), "x.npy"),
    (lying_npy("(9223372036854775807, 9223372036854775807)"), "x.npy"),
    (lying_npy("(-2, 3)"), "x.npy"),
    (npy_bytes(np.ones((2, 3), np.float32))[:20], "x.npy"),
], ids=["truncated-data", "expression-shape", "huge-shape", "overflowing-shape", "negative-shape", "truncated-header"])
def test_npy_inputs_that_lie(tmp_path, relu_path, content, named):
    path = tmp_path / "x.npy"
    path.write_bytes(content)
    assert_clean_error(run_onyx("run", relu_path, "--input", f"X={path}"), named)


def pb_bytes(dims, raw):
    tensor = TensorProto()
    tensor.name, tensor.data_type = "X", TensorProto.FLOAT
    tensor.dims.extend(dims)
    tensor.raw_data = raw
    return tensor.SerializeToString()


@pytest.mark.parametrize("content", [
    pb_bytes([2, 3], b"\0" * 24)[:-7],
    pb_bytes([2**40, 2**40], b"\0" * 24),
    pb_bytes([2, 3], b"\0" * 20),
    b"\x0a\xff\xff\xff\xff\x0f",
], ids=["truncated", "huge-dims", "short-raw-data", "garbage"])
def test_pb_inputs_that_lie(tmp_path, relu_path, content):
    path = tmp_path / "x.pb"
    path.write_bytes(content)
    assert_clean_error(run_onyx("run", relu_path, "--input", f"X={path}"), "x.pb")


# --- training data files that are truncated or lie about their size (`onyx train --data`) ---

def linear_classifier(path):
    model = make_model([helper.make_node("Gemm", ["x", "W", "B"], ["logits"])],
                       [float_info("x", ["batch", 4])], [float_info("logits", ["batch", 3])],
                       [numpy_helper.from_array(np.zeros((4, 3), np.float32), "W"),
                        numpy_helper.from_array(np.zeros(3, np.float32), "B")])
    return save_model(model, path)


def idx_bytes(type_code, dims, payload):
    import struct
    return struct.pack(">BBBB", 0, 0, type_code, len(dims)) + b"".join(struct.pack(">I", d) for d in dims) + payload


def write_idx_pair(folder, images, labels):
    folder.mkdir()
    (folder / "train-images-idx3-ubyte").write_bytes(images)
    (folder / "train-labels-idx1-ubyte").write_bytes(labels)
    return folder


def npz_bytes(tmp_path):
    np.savez(tmp_path / "good.npz", x=np.ones((8, 4), np.float32), y=np.zeros(8, np.int64))
    return (tmp_path / "good.npz").read_bytes()


DATA_CASES = {
    "idx-claims-more-images": lambda t: write_idx_pair(t / "idx", idx_bytes(8, [60000, 2, 2], b"\0" * 40),
                                                      idx_bytes(8, [10], b"\0" * 10)),
    "idx-huge-dims": lambda t: write_idx_pair(t / "idx", idx_bytes(8, [2**32 - 1, 2**32 - 1, 2**32 - 1], b"\0" * 8),
                                             idx_bytes(8, [2], b"\0" * 2)),
    "idx-truncated-header": lambda t: write_idx_pair(t / "idx", idx_bytes(8, [10, 2, 2], b"")[:9],
                                                    idx_bytes(8, [10], b"\0" * 10)),
    "idx-bad-type": lambda t: write_idx_pair(t / "idx", idx_bytes(0x42, [10, 2, 2], b"\0" * 40),
                                            idx_bytes(8, [10], b"\0" * 10)),
    "csv-ragged": lambda t: (t / "d.csv").write_text("a,b,c,d,y\n1,2,3,4,0\n1,2,3\n") or t / "d.csv",
    "csv-not-a-number": lambda t: (t / "d.csv").write_text("a,b,c,d,y\n1,2,x3,4,0\n") or t / "d.csv",
    "csv-binary": lambda t: (t / "d.csv").write_bytes(b"a,b,c,d,y\n\x00\xff\xfe,1,2,3,0\n") or t / "d.csv",
    "npz-truncated": lambda t: (t / "d.npz").write_bytes(npz_bytes(t)[:-30]) or t / "d.npz",
    "npz-half": lambda t: (t / "d.npz").write_bytes(npz_bytes(t)[: len(npz_bytes(t)) // 2]) or t / "d.npz",
}


@pytest.mark.parametrize("case", sorted(DATA_CASES))
def test_training_data_that_lies(tmp_path, case):
    data = DATA_CASES[case](tmp_path)
    proc = run_onyx("train", linear_classifier(tmp_path / "m.onnx"), "--data", data, "--label", "y",
                    "--loss", "cross_entropy", "--optimizer", "sgd", "--lr", "0.1", "--threads", "1",
                    "--out", tmp_path / "out.onnx")
    assert_clean_error(proc)
    assert not (tmp_path / "out.onnx").exists()


# --- attributes the spec or the op's check refuses before any rule or kernel sees them ---

def attribute_error(tmp_path, node, inputs, output_shape=None, opsets=None):
    path = save(tmp_path, [node], inputs, [float_info("Y", output_shape)], opsets=opsets)
    return assert_clean_error(run_random(path))


def test_unknown_attribute(tmp_path):
    line = attribute_error(tmp_path, helper.make_node("Relu", ["X"], ["Y"], name="n", foo=1), [float_info("X", [2])],
                           opsets={"": 14})
    assert line.endswith("node 'n' (Relu): attribute 'foo' is not an attribute of Relu-14 (it has: none)"), line


def test_wrong_attribute_type(tmp_path):
    line = attribute_error(tmp_path, helper.make_node("LeakyRelu", ["X"], ["Y"], name="n", alpha="big"),
                           [float_info("X", [2])])
    assert line.endswith("node 'n' (LeakyRelu): attribute 'alpha' of LeakyRelu-16 must be float, got string"), line


def test_huge_blocksize(tmp_path):
    line = attribute_error(tmp_path, helper.make_node("DepthToSpace", ["X"], ["Y"], name="n", blocksize=2**62),
                           [float_info("X", [1, 4, 2, 2])])
    assert line.endswith("node 'n' (DepthToSpace): attribute blocksize must be in [1, 2147483647], got "
                         f"{2**62}"), line


def test_perm_that_is_no_permutation(tmp_path):
    line = attribute_error(tmp_path, helper.make_node("Transpose", ["X"], ["Y"], name="n", perm=[0, 0]),
                           [float_info("X", [2, 3])])
    assert line.endswith("node 'n' (Transpose): attribute perm must be a permutation of 0..1, got 0 twice"), line


def test_unknown_auto_pad(tmp_path):
    node = helper.make_node("MaxPool", ["X"], ["Y"], name="n", kernel_shape=[2, 2], auto_pad="SAME")
    line = attribute_error(tmp_path, node, [float_info("X", [1, 1, 4, 4])])
    assert line.endswith("node 'n' (MaxPool): attribute auto_pad must be one of NOTSET, SAME_UPPER, SAME_LOWER, VALID, "
                         "got 'SAME'"), line


def test_scan_with_more_scan_inputs_than_inputs(tmp_path):
    body = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "body", [float_info("x", [2])],
                             [float_info("y", [2])])
    node = helper.make_node("Scan", ["X"], ["Y"], name="n", body=body, num_scan_inputs=2)
    line = attribute_error(tmp_path, node, [float_info("X", [3, 2])])
    assert line.endswith("node 'n' (Scan): attribute num_scan_inputs must be in [1, 1], got 2"), line
