"""onyx.function from Python: tracing and retracing, AutoGraph's conversion of for/while/if on
tensors into Loop/If (and Python values staying Python), the one-line errors for what cannot
be converted, gradients inside a trace, and the saved ONNX model run by onnxruntime against the
same function run eagerly and against NumPy."""
import os

import numpy as np
import onnx
import onnxruntime
import pytest

import onyx


def scalar(value, dtype=np.int64):
    return onyx.Tensor(np.asarray(value, dtype=dtype))


def nodes(function, *args):
    """The op types of the traced graph, without the Identity nodes naming its outputs."""
    return [op for op in function.get_concrete_function(*args).op_types if op != "Identity"]


def run_in_onnxruntime(path, *inputs):
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feeds = {i.name: np.asarray(v) for i, v in zip(session.get_inputs(), inputs)}
    return session.run(None, feeds)


# --- tracing ------------------------------------------------------------------------------------

def test_traces_once_per_signature_and_matches_eager(rng):
    def affine(x, w, b):
        return onyx.ops.Relu(x @ w + b)

    traced = onyx.function(affine)
    x, w, b = (rng.standard_normal(s).astype(np.float32) for s in [(4, 3), (3, 2), (2,)])
    expected = np.maximum(x @ w + b, 0)
    np.testing.assert_allclose(traced(x, w, b).numpy(), expected, rtol=1e-5)
    np.testing.assert_allclose(affine(onyx.Tensor(x), onyx.Tensor(w), onyx.Tensor(b)).numpy(), expected, rtol=1e-5)
    traced(x * 2, w, b)
    assert traced.trace_count == 1
    traced(x[:2], w, b)  # another shape: another trace
    assert traced.trace_count == 2
    assert nodes(traced, x, w, b) == ["MatMul", "Add", "Relu"]


def test_input_signature_with_unknown_dims_serves_every_batch(rng):
    @onyx.function(input_signature=[onyx.TensorSpec([None, 3], np.float32)])
    def double(x):
        return x * 2.0

    for batch in (1, 5, 9):
        x = rng.standard_normal((batch, 3)).astype(np.float32)
        np.testing.assert_allclose(double(x).numpy(), 2 * x)
    assert double.trace_count == 1
    with pytest.raises(onyx.OnyxError):
        double(np.ones((2, 4), np.float32))


def test_python_arguments_are_constants_and_retrace_per_value():
    @onyx.function
    def scaled(x, factor, negate=False):
        y = x * factor
        if negate:  # a Python value: plain Python at trace time, no If node
            y = -y
        return y

    x = np.arange(3, dtype=np.float32)
    assert scaled(x, 2.0).numpy().tolist() == [0, 2, 4]
    assert scaled(x, 3.0, negate=True).numpy().tolist() == [0, -3, -6]
    assert scaled.trace_count == 2
    assert "If" not in scaled.get_concrete_function(x, 3.0, negate=True).op_types


def test_tuple_and_list_results_keep_their_structure():
    @onyx.function
    def pair(x):
        return x + 1.0, x * 2.0

    first, second = pair(np.ones(2, np.float32))
    assert first.numpy().tolist() == [2, 2] and second.numpy().tolist() == [2, 2]

    @onyx.function
    def listed(x):
        return [x, x * 3.0]

    assert [t.numpy().tolist() for t in listed(np.ones(1, np.float32))] == [[1], [3]]
    assert isinstance(listed(np.ones(1, np.float32)), list) and isinstance(pair(np.ones(1, np.float32)), tuple)


def test_called_from_another_function_it_is_inlined():
    @onyx.function
    def inner(x):
        return x * 2.0

    @onyx.function
    def outer(x):
        return inner(x) + 1.0

    assert outer(np.ones(2, np.float32)).numpy().tolist() == [3, 3]
    assert nodes(outer, np.ones(2, np.float32)) == ["Mul", "Add"]


# --- AutoGraph ----------------------------------------------------------------------------------

def test_for_over_onyx_range_becomes_one_loop():
    @onyx.function
    def total(n):
        s = scalar(0)
        for i in onyx.range(n):
            s = s + i
        return s

    assert total(scalar(10)).item() == 45 and total(scalar(1000)).item() == 499500
    assert total(scalar(0)).item() == 0
    assert total.trace_count == 1
    assert total.get_concrete_function(scalar(3)).op_types.count("Loop") == 1


def test_range_with_start_step_and_python_bounds():
    @onyx.function
    def strided(x, start, stop):
        for i in onyx.range(start, stop, 3):
            x = x + onyx.ops.Cast(i, to=np.float32)
        return x

    expected = float(sum(range(2, 20, 3)))
    assert strided(np.zeros(1, np.float32), scalar(2), scalar(20)).numpy().tolist() == [expected]
    # Python int bounds still give a Loop node (as tf.range does), not an unrolled graph.
    assert strided(np.zeros(1, np.float32), 2, 20).numpy().tolist() == [expected]
    assert strided.get_concrete_function(np.zeros(1, np.float32), 2, 20).op_types.count("Loop") == 1

    @onyx.function
    def down(x):
        for i in onyx.range(10, 0, -4):  # 10, 6, 2
            x = x + onyx.ops.Cast(i, to=np.float32)
        return x

    assert down(np.zeros(1, np.float32)).numpy().tolist() == [18.0]


def test_python_range_stays_python_and_unrolls():
    @onyx.function
    def unrolled(x):
        for _ in range(3):
            x = x * 2.0
        return x

    assert unrolled(np.ones(1, np.float32)).numpy().tolist() == [8.0]
    assert nodes(unrolled, np.ones(1, np.float32)) == ["Mul", "Mul", "Mul"]


def test_while_on_a_tensor_becomes_a_loop_with_python_counters_carried():
    @onyx.function
    def halvings(x):
        steps = 0  # a Python number carried by the Loop (as an int64 tensor)
        while onyx.ops.ReduceMax(x, keepdims=0) > 1.0:
            x = x / 2.0
            steps += 1
        return x, steps

    x, steps = halvings(np.array([40.0, 3.0], np.float32))
    np.testing.assert_allclose(x.numpy(), [40 / 64, 3 / 64])
    assert steps.item() == 6
    assert halvings.get_concrete_function(np.ones(2, np.float32)).op_types.count("Loop") == 1


def test_if_on_a_tensor_becomes_if_with_both_branches():
    @onyx.function
    def signed_square(x):
        if onyx.ops.ReduceSum(x, keepdims=0) >= 0:
            y = x * x
        else:
            y = -(x * x)
        return y

    assert signed_square(np.array([1.0, 2.0], np.float32)).numpy().tolist() == [1, 4]
    assert signed_square(np.array([-1.0, -2.0], np.float32)).numpy().tolist() == [-1, -4]
    assert signed_square.trace_count == 1
    assert "If" in signed_square.get_concrete_function(np.ones(2, np.float32)).op_types


def test_elif_and_boolean_operators_on_tensors():
    @onyx.function
    def bucket(x):
        if x < 0 and not x < -10:
            label = scalar(-1)
        elif x > 0 or x > 100:
            label = scalar(1)
        else:
            label = scalar(0)
        return label

    results = [bucket(np.float32(v)).item() for v in (-5, -20, 0, 3)]
    assert results == [-1, 0, 0, 1]
    assert bucket.trace_count == 1


def test_nested_loop_and_if_with_an_accumulator():
    @onyx.function
    def count_even(n):
        evens = scalar(0)
        for i in onyx.range(n):
            if onyx.ops.Mod(i, scalar(2)) == 0:
                evens = evens + 1
        return evens

    assert [count_even(scalar(n)).item() for n in (0, 1, 7, 10)] == [0, 1, 4, 5]


def test_for_over_a_tensor_iterates_its_rows():
    @onyx.function
    def column_sums(m):
        total = onyx.ops.ReduceSum(m, np.array([0]), keepdims=0) * 0.0
        for row in m:
            total = total + row
        return total

    m = np.arange(12, dtype=np.float32).reshape(4, 3)
    np.testing.assert_allclose(column_sums(m).numpy(), m.sum(axis=0))
    assert "Loop" in column_sums.get_concrete_function(m).op_types


def test_temporaries_of_a_branch_or_body_need_not_be_defined_outside():
    @onyx.function
    def uses_temporaries(x):
        if onyx.ops.ReduceSum(x, keepdims=0) > 0:
            doubled = x * 2.0
            y = doubled + 1.0
        else:
            y = x
        for i in onyx.range(3):
            step = onyx.ops.Cast(i, to=np.float32)
            y = y + step
        return y

    assert uses_temporaries(np.ones(1, np.float32)).numpy().tolist() == [6.0]


# --- what cannot be converted --------------------------------------------------------------------

def one_line_error(error_type, call, *texts):
    with pytest.raises(error_type) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message, message
    for text in texts:
        assert text in message, message


def test_a_variable_defined_in_only_one_branch_is_an_error_when_used():
    @onyx.function
    def one_branch(x):
        if onyx.ops.ReduceSum(x, keepdims=0) > 0:
            y = x * 2.0
        return y  # noqa: F821 - the point of the test

    one_line_error(onyx.ConversionError, lambda: one_branch(np.ones(2, np.float32)),
                   "variable 'y'", "only one branch", "line")


def test_a_loop_variable_changing_dtype_is_an_error():
    @onyx.function
    def changes_dtype(n):
        s = scalar(0)
        for i in onyx.range(n):
            s = onyx.ops.Cast(s, to=np.float32) + 0.5
        return s

    one_line_error(onyx.ConversionError, lambda: changes_dtype(scalar(3)),
                   "loop variable 's' changes dtype from int64 to float32")


def test_branches_with_different_dtypes_are_an_error():
    @onyx.function
    def mixed(x):
        if onyx.ops.ReduceSum(x, keepdims=0) > 0:
            y = x
        else:
            y = onyx.ops.Cast(x, to=np.int64)
        return y

    one_line_error(onyx.ConversionError, lambda: mixed(np.ones(2, np.float32)), "variable 'y' is float32",
                   "int64")


def test_break_in_a_tensor_loop_says_what_to_do():
    @onyx.function
    def breaks(n):
        s = scalar(0)
        for i in onyx.range(n):
            if s > 10:
                break
            s = s + i
        return s

    one_line_error(onyx.OnyxError, lambda: breaks(scalar(3)), "symbolic", "without return/break/continue")


def test_a_non_tensor_loop_variable_is_an_error():
    @onyx.function
    def collects(n):
        items = []
        i = scalar(0)
        while i < n:
            items = items + [i]
            i = i + 1
        return i

    one_line_error(onyx.ConversionError, lambda: collects(scalar(3)), "variable 'items' is a list")


def test_non_tensor_results_are_a_clear_error():
    @onyx.function
    def returns_text(x):
        return "text"

    one_line_error(TypeError, lambda: returns_text(np.ones(1, np.float32)), "must return tensors")


# --- gradients inside a trace -----------------------------------------------------------------------

def test_gradient_descent_traced_with_a_tape_matches_numpy(rng):
    x = rng.standard_normal((32, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)

    @onyx.function
    def train(w, steps):
        for _ in onyx.range(steps):
            with onyx.GradientTape() as tape:
                tape.watch(w)
                diff = onyx.Tensor(x) @ w - onyx.Tensor(y)
                loss = onyx.ops.ReduceMean(diff * diff, keepdims=0)
            w = w - tape.gradient(loss, w) * 0.1
        return w

    w_np = np.zeros((3, 1), np.float32)
    for _ in range(25):
        w_np = w_np - 0.1 * (2 / 32) * x.T @ (x @ w_np - y)
    np.testing.assert_allclose(train(np.zeros((3, 1), np.float32), scalar(25)).numpy(), w_np, rtol=1e-4, atol=1e-5)


# --- saving ---------------------------------------------------------------------------------------

def test_saved_model_runs_in_onnxruntime_like_the_function(tmp_path):
    @onyx.function(input_names=["x", "n"], output_names=["y"])
    def f(x, n):
        for i in onyx.range(n):
            if onyx.ops.ReduceSum(x, keepdims=0) > 10.0:
                x = x - 1.0
            else:
                x = x * 1.5 + onyx.ops.Cast(i, to=np.float32)
        return x

    x, n = np.array([1.0, 2.0], np.float32), np.int64(6)
    expected = f(x, n).numpy()
    path = tmp_path / "f.onnx"
    f.save(path)
    assert os.listdir(tmp_path) == ["f.onnx"]  # written through a temporary file, renamed
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    assert [i.name for i in model.graph.input] == ["x", "n"] and [o.name for o in model.graph.output] == ["y"]
    [got] = run_in_onnxruntime(path, x, n)
    np.testing.assert_allclose(got, expected, rtol=1e-6)
    eager_x = x.copy()  # the same loop in NumPy
    for i in range(int(n)):
        eager_x = eager_x - 1 if eager_x.sum() > 10 else eager_x * 1.5 + i
    np.testing.assert_allclose(expected, eager_x, rtol=1e-6)
    # The same bytes as get_concrete_function(...).model_bytes().
    assert onnx.load_from_string(f.get_concrete_function(x, n).model_bytes()).graph.node[0].op_type == \
        model.graph.node[0].op_type


def test_save_needs_example_arguments_when_several_signatures_were_traced(tmp_path):
    @onyx.function
    def double(x):
        return x * 2.0

    double(np.ones(1, np.float32))
    double(np.ones(2, np.float32))
    one_line_error(onyx.InvalidArgument, lambda: double.save(tmp_path / "d.onnx"), "traced 2 signatures")
    double.save(tmp_path / "d.onnx", np.ones(3, np.float32))
    [got] = run_in_onnxruntime(tmp_path / "d.onnx", np.arange(3, dtype=np.float32))
    assert got.tolist() == [0, 2, 4]


def test_eager_onyx_range_yields_int64_tensors():
    values = [i for i in onyx.range(2, 8, 2)]
    assert all(isinstance(v, onyx.Tensor) and v.dtype == np.int64 for v in values)
    assert [v.item() for v in values] == [2, 4, 6] and len(onyx.range(5)) == 5
    with pytest.raises(ValueError, match="step"):
        onyx.range(0, 5, 0)


def test_cond_while_loop_and_for_range_called_directly():
    assert onyx.cond(scalar(True, np.bool_), lambda: scalar(1), lambda: scalar(2)).item() == 1
    (i, s) = onyx.while_loop(lambda i, s: i < 5, lambda i, s: (i + 1, s + i), (scalar(0), scalar(0)))
    assert (i.item(), s.item()) == (5, 10)
    (s,) = onyx.for_range(4, lambda i, s: s + i, [scalar(0)])
    assert s.item() == 6

    @onyx.function
    def traced(n):
        (s,) = onyx.for_range(n, lambda i, s: s + i, [scalar(0)])
        return onyx.cond(s > 3, lambda: s * 10, lambda: s)

    assert traced(scalar(4)).item() == 60 and traced(scalar(2)).item() == 1
    assert traced.get_concrete_function(scalar(4)).op_types.count("Loop") == 1


def test_threads_trace_and_run_one_function_at_once():
    # First calls of new signatures trace under a Python lock; runs release the GIL.
    import threading

    @onyx.function
    def total(x, n):
        for i in onyx.range(n):
            x = x + onyx.ops.Cast(i, to=np.float32)
        return x

    results, errors = {}, []

    def work(size):
        try:
            for n in range(1, 30):
                got = total(np.zeros(size, np.float32), np.int64(n)).numpy()
                if not np.array_equal(got, np.full(size, n * (n - 1) / 2, np.float32)):
                    errors.append((size, n, got))
            results[size] = True
        except Exception as error:  # reported below, with the thread's size
            errors.append((size, error))

    threads = [threading.Thread(target=work, args=(size,)) for size in (1, 2, 3, 4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors and sorted(results) == [1, 2, 3, 4]
    assert total.trace_count == 4
