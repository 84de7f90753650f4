"""onyx.Tensor, onyx.ops and onyx.GradientTape from Python: NumPy and DLPack in and out without
copies, the operators and indexing against NumPy, the generated op functions (in step with the
C++ eager op list, attributes as keyword arguments, variadic inputs and outputs, sequences),
one-line errors, and tape gradients against gradients worked out by hand in NumPy."""
import subprocess
import sys

import numpy as np
import pytest

import onyx
from onyx import _onyx
from onyx._op_table import OPS


def tensor(values, dtype=np.float32):
    return onyx.Tensor(np.asarray(values, dtype=dtype))


# --- NumPy, buffer protocol, DLPack -------------------------------------------------------------

def test_tensor_shares_the_arrays_memory_both_ways(rng):
    array = rng.standard_normal((3, 4)).astype(np.float32)
    t = onyx.Tensor(array)
    assert t.shape == (3, 4) and t.dtype == np.float32 and t.ndim == 2 and t.size == 12 and len(t) == 3
    back = np.asarray(t)
    assert np.shares_memory(back, array) and not back.flags.writeable
    np.testing.assert_array_equal(np.from_dlpack(t), array)
    assert np.shares_memory(np.from_dlpack(t), array)
    view = memoryview(t)
    assert view.shape == (3, 4) and view.format == "f" and view.readonly
    np.testing.assert_array_equal(np.frombuffer(view, np.float32).reshape(3, 4), array)
    copy = t.numpy()
    assert not np.shares_memory(copy, array)


def test_non_contiguous_arrays_and_lists_are_converted():
    array = np.arange(12, dtype=np.int32).reshape(3, 4)[:, ::2]
    np.testing.assert_array_equal(onyx.Tensor(array).numpy(), array)
    assert onyx.Tensor([[1.5, 2.5]]).dtype == np.float64  # NumPy's conversion of Python floats
    assert onyx.Tensor([1, 2], dtype=np.float32).dtype == np.float32
    assert onyx.Tensor(3).item() == 3 and onyx.Tensor(2.5).item() == 2.5


@pytest.mark.parametrize("dtype", [np.float16, np.float64, np.int8, np.uint8, np.int16, np.int64, np.uint64,
                                   np.bool_, np.complex64])
def test_dtypes_round_trip(dtype):
    array = (np.arange(6) % 2 == 0) if dtype == np.bool_ else np.arange(6).astype(dtype)
    t = onyx.Tensor(array)
    assert t.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(np.asarray(t), array)
    np.testing.assert_array_equal(np.from_dlpack(t), array)


def test_dlpack_producers_are_read_without_copy():
    # NumPy as the DLPack producer (torch lives outside this venv: see test_python_training.py).
    array = np.arange(6, dtype=np.float32).reshape(2, 3)
    t = onyx.from_dlpack(array)
    assert np.shares_memory(np.asarray(t), array)
    with pytest.raises(onyx.InvalidArgument, match="not C-contiguous"):
        onyx.from_dlpack(np.arange(12, dtype=np.float32).reshape(3, 4).T)


def test_torch_tensors_go_both_ways_through_dlpack():
    # Debian's torch (built against NumPy 1) imported beside the venv's NumPy 2: its NumPy bridge
    # warns, DLPack does not need it. A subprocess keeps that out of the test process.
    script = (
        "import sys, warnings; warnings.simplefilter('ignore'); sys.path.append('/usr/lib/python3/dist-packages')\n"
        "import numpy as np, torch, onyx\n"
        "source = torch.arange(6, dtype=torch.float32).reshape(2, 3)\n"
        "t = onyx.from_dlpack(source)\n"
        "source[0, 0] = 7.0  # shared memory: the tensor sees it\n"
        "u = torch.from_dlpack(onyx.ops.Relu(t - 2.0))\n"
        "print(u.tolist(), u.dtype, onyx.Tensor(source).numpy()[0, 0])\n")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "[[5.0, 0.0, 0.0], [1.0, 2.0, 3.0]] torch.float32 7.0"


# --- operators and indexing ---------------------------------------------------------------------

def test_operators_broadcast_like_numpy(rng):
    a = rng.standard_normal((2, 3)).astype(np.float32)
    b = rng.standard_normal((3,)).astype(np.float32) + 3
    ta, tb = onyx.Tensor(a), onyx.Tensor(b)
    cases = {"+": (ta + tb, a + b), "-": (ta - tb, a - b), "*": (ta * tb, a * b), "/": (ta / tb, a / b),
             "neg": (-ta, -a), "radd": (2 + ta, 2 + a), "rsub": (2 - ta, 2 - a), "rdiv": (2 / tb, 2 / b),
             "pow": (tb ** 2, b ** 2), "abs": (abs(ta), abs(a)), "array": (ta + b, a + b),
             "matmul": (ta @ onyx.Tensor(a.T), a @ a.T)}
    for name, (got, expected) in cases.items():
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6, err_msg=name)
    for name, got, expected in [("<", ta < 0, a < 0), (">=", ta >= tb, a >= b), ("==", ta == ta, a == a),
                                ("!=", ta != 0.5, a != 0.5)]:
        np.testing.assert_array_equal(got.numpy(), expected, err_msg=name)


def test_numbers_take_the_tensors_element_type():
    t = tensor([1, 2, 3], np.int64)
    assert (t * 2).dtype == np.int64 and (t + 1).numpy().tolist() == [2, 3, 4]


def test_indexing_matches_numpy():
    array = np.arange(24, dtype=np.float32).reshape(2, 3, 4)
    t = onyx.Tensor(array)
    for key in [1, -1, (0, 2), (slice(None), 1), (..., 1), (slice(1, None), slice(None, None, -1)),
                (None, 0, slice(0, 3, 2)), (0, ..., None), (slice(None), [2, 0])]:
        np.testing.assert_array_equal(t[key].numpy(), array[key], err_msg=repr(key))
    assert [row.numpy().tolist() for row in onyx.Tensor(array[0])] == array[0].tolist()
    with pytest.raises(IndexError, match="out of bounds"):
        t[5]


def test_values_that_are_not_arrays_are_a_clear_error():
    for value in (object(), {"a": 1}):
        with pytest.raises(onyx.InvalidArgument, match="cannot make a tensor of a"):
            onyx.Tensor(value)


def test_truth_value_and_scalars():
    assert bool(tensor(1.0)) and not bool(tensor(0.0))
    assert float(tensor(2.5)) == 2.5 and int(tensor(7, np.int64)) == 7
    with pytest.raises(onyx.InvalidArgument, match="ambiguous"):
        bool(tensor([1.0, 2.0]))


# --- onyx.ops -------------------------------------------------------------------------------------

def test_op_table_is_the_cpp_eager_op_list():
    listed = {op for _, op in _onyx.eager_op_list()}
    assert {op for _, op in OPS} == listed
    for domain, op in OPS:
        namespace = {"": onyx.ops, "ai.onnx.ml": onyx.ops.ml, "ai.onnx.preview.training": onyx.ops.training,
                     "ai.onnx.preview": onyx.ops.preview}[domain]
        assert callable(getattr(namespace, op)), op


def test_ops_with_attributes_match_numpy(rng):
    x = rng.standard_normal((2, 5)).astype(np.float32)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(onyx.ops.Softmax(x, axis=1).numpy(), e / e.sum(axis=1, keepdims=True), rtol=1e-5)
    np.testing.assert_array_equal(onyx.ops.Transpose(x, perm=[1, 0]).numpy(), x.T)
    w = rng.standard_normal((3, 5)).astype(np.float32)
    np.testing.assert_allclose(onyx.ops.Gemm(x, w, transB=1, alpha=2.0).numpy(), 2 * x @ w.T, rtol=1e-5)
    values, indices = onyx.ops.TopK(x, np.array([2]), axis=1)
    np.testing.assert_array_equal(indices.numpy(), np.argsort(-x, axis=1)[:, :2])
    np.testing.assert_array_equal(values.numpy(), np.take_along_axis(x, indices.numpy(), 1))
    assert onyx.ops.Cast(x, to=np.int32).dtype == np.int32
    assert onyx.ops.Cast(x, to=7).dtype == np.int64  # an ONNX element type code


def test_variadic_inputs_outputs_and_sequences():
    a, b = np.ones((2, 2), np.float32), np.zeros((1, 2), np.float32)
    np.testing.assert_array_equal(onyx.ops.Concat(a, b, axis=0).numpy(), np.concatenate([a, b]))
    np.testing.assert_array_equal(onyx.ops.Concat([a, b], axis=0).numpy(), np.concatenate([a, b]))
    parts = onyx.ops.Split(np.arange(6, dtype=np.float32), num_outputs=3)
    assert [p.numpy().tolist() for p in parts] == [[0, 1], [2, 3], [4, 5]]
    parts = onyx.ops.Split(np.arange(6, dtype=np.float32), np.array([1, 5]))
    assert [p.numpy().tolist() for p in parts] == [[0], [1, 2, 3, 4, 5]]
    sequence = onyx.ops.SequenceConstruct(a, b)
    assert isinstance(sequence, list) and len(sequence) == 2
    np.testing.assert_array_equal(onyx.ops.SequenceAt(sequence, np.array(1)).numpy(), b)
    assert onyx.ops.SequenceLength(sequence).item() == 2


def test_optional_inputs_and_outputs():
    x = np.arange(10, dtype=np.float32)
    np.testing.assert_array_equal(onyx.ops.Clip(x, None, np.float32(4)).numpy(), np.minimum(x, 4))
    y, mask = onyx.ops.Dropout(x, output_count=2)  # inference mode: identity, mask all true
    np.testing.assert_array_equal(y.numpy(), x)
    assert mask.numpy().all()


def test_custom_call_by_name():
    [y] = onyx.ops.call("", "LeakyRelu", np.array([-1.0, 2.0], np.float32), alpha=0.5)
    assert y.numpy().tolist() == [-0.5, 2.0]


def test_op_errors_are_one_readable_line():
    x = np.ones(3, np.float32)
    cases = [(lambda: onyx.ops.Softmax(x, axes=1), TypeError, "Softmax has no attribute 'axes'"),
             (lambda: onyx.ops.Softmax(x, axis="a"), TypeError, "attribute axis must be of ONNX type int"),
             (lambda: onyx.ops.Add(x), TypeError, "Add needs the inputs A, B"),
             (lambda: onyx.ops.Add(x, x, x), TypeError, "at most 2 inputs"),
             (lambda: onyx.ops.If(x), TypeError, "onyx.cond"),
             (lambda: onyx.ops.Add(x, np.ones(3, np.int64)), onyx.OnyxError, "Add"),
             (lambda: onyx.ops.Add(x, np.ones(4, np.float32)), onyx.OnyxError, "Add")]
    for call, error, text in cases:
        with pytest.raises(error, match=text) as caught:
            call()
        message = str(caught.value)
        assert "\n" not in message and "std::" not in message, message


def test_ops_have_signatures_as_docs():
    assert onyx.ops.Conv.__doc__.startswith("Conv(X, W, B=None, *, auto_pad=None")
    assert "ai.onnx, since opset" in repr(onyx.ops.Conv)


# --- GradientTape ---------------------------------------------------------------------------------

def test_tape_gradient_of_least_squares_matches_numpy(rng):
    x = rng.standard_normal((8, 3)).astype(np.float32)
    y = rng.standard_normal((8, 1)).astype(np.float32)
    w = rng.standard_normal((3, 1)).astype(np.float32)
    tw = onyx.Tensor(w)
    with onyx.GradientTape() as tape:
        tape.watch(tw)
        diff = onyx.Tensor(x) @ tw - onyx.Tensor(y)
        loss = onyx.ops.ReduceMean(diff * diff, keepdims=0)
    [dw] = tape.gradient(loss, [tw])
    np.testing.assert_allclose(dw.numpy(), 2 / 8 * x.T @ (x @ w - y), rtol=1e-5)
    np.testing.assert_allclose(loss.item(), np.mean((x @ w - y) ** 2), rtol=1e-5)


def test_tape_stops_recording_at_the_end_of_the_with_block():
    w = tensor([1.0, 2.0])
    with onyx.GradientTape() as tape:
        tape.watch(w)
        y = onyx.ops.ReduceSum(w * w, keepdims=0)
    recorded = tape.recorded_ops
    _ = w * 3  # after the block: not recorded
    assert tape.recorded_ops == recorded
    np.testing.assert_allclose(tape.gradient(y, w).numpy(), [2.0, 4.0])
    unrelated = tensor([5.0])
    np.testing.assert_array_equal(tape.gradient(y, [w, unrelated])[1].numpy(), [0.0])


def test_nested_tapes_give_second_derivatives():
    x = tensor(3.0)
    with onyx.GradientTape() as outer:
        outer.watch(x)
        with onyx.GradientTape() as inner:
            inner.watch(x)
            y = x * x * x
        dy = inner.gradient(y, x)
    d2y = outer.gradient(dy, x)
    assert dy.item() == pytest.approx(27.0) and d2y.item() == pytest.approx(18.0)


def test_tape_misuse_is_a_clear_error():
    tape = onyx.GradientTape()
    with pytest.raises(onyx.InvalidArgument, match="with onyx.GradientTape"):
        tape.watch(tensor(1.0))
    with pytest.raises(TypeError, match="onyx.Tensor"):
        with onyx.GradientTape() as t:
            t.watch(np.ones(2))


def test_eager_seed_of_the_tensor_api_in_a_subprocess_exits_cleanly():
    # Tensors dropped at interpreter exit release NumPy arrays they view (the GIL is taken).
    code = "import numpy as np, onyx; a = np.ones(3); t = onyx.Tensor(a); u = t + 1; del a"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0
