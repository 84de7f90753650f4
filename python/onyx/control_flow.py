"""Control flow on tensors: `onyx.cond`, `onyx.while_loop`, `onyx.for_range` and `onyx.range`
(the C++ builders of runtime/eager/control_flow.h: eager outside a trace, one If/Loop node
inside onyx.function), and the run-time half of AutoGraph (autograph.py), which decides per
statement whether it runs as Python or becomes a node, and which variables the node carries.
"""
import numpy as np

from onyx import _onyx


class ConversionError(_onyx.OnyxError):
    """Python control flow onyx.function cannot turn into a graph."""


class Undefined:
    """The value of a variable that a statement on a tensor leaves unbound (defined in one branch
    of an `if` only, or first defined inside a loop). Using it raises ConversionError."""

    __slots__ = ("_name", "_why")

    def __init__(self, name, why):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_why", why)

    def _fail(self, *args, **kwargs):
        raise ConversionError(f"variable '{self._name}' has no value here: {self._why}")

    def __getattr__(self, attribute):
        self._fail()

    def __repr__(self):
        return f"<undefined {self._name}>"

    __bool__ = __iter__ = __len__ = __index__ = __int__ = __float__ = __call__ = __getitem__ = _fail
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = _fail
    __matmul__ = __rmatmul__ = __neg__ = __pow__ = __lt__ = __le__ = __gt__ = __ge__ = __array__ = _fail


UNDEFINED = Undefined("?", "it is not defined yet")


def read(scope, names):
    """The current values of `names` in `scope` (locals()), UNDEFINED for unbound ones."""
    return tuple(scope.get(name, UNDEFINED) for name in names)


def _is_number(value):
    return isinstance(value, (bool, int, float, np.bool_, np.number))


def _number_tensor(value, like=None):
    """A Python number as a scalar tensor: of `like`'s dtype when given, else int64, float32 or bool."""
    if like is not None:
        return _onyx.Tensor(np.asarray(value, dtype=like.dtype))
    if isinstance(value, (bool, np.bool_)):
        return _onyx.Tensor(np.asarray(value, dtype=np.bool_))
    if isinstance(value, (int, np.integer)):
        return _onyx.Tensor(np.asarray(value, dtype=np.int64))
    return _onyx.Tensor(np.asarray(value, dtype=np.float32))


def _traced_tensor(value):
    return isinstance(value, _onyx.Tensor) and _onyx.in_trace()


def and_(left, right):
    if isinstance(left, _onyx.Tensor):
        return _onyx_ops().And(left, right())
    return left and right()


def or_(left, right):
    if isinstance(left, _onyx.Tensor):
        return _onyx_ops().Or(left, right())
    return left or right()


def not_(value):
    if isinstance(value, _onyx.Tensor):
        return _onyx_ops().Not(value)
    return not value


def _onyx_ops():
    from onyx import ops  # ops imports the op table: only when a condition needs it
    return ops


# --- if ---------------------------------------------------------------------------------------

def if_stmt(test, then_fn, else_fn, names, then_names, else_names, values, line):
    if not _traced_tensor(test):
        return then_fn(*values) if test else else_fn(*values)
    where = f"the `if` at line {line}"
    results = {}

    def then_branch():
        out = then_fn(*values)
        results["then_out"] = out
        carried = []
        for name, before, value in zip(names, values, out):
            if isinstance(value, Undefined):
                continue
            if isinstance(value, _onyx.Tensor):
                carried.append((name, value))
            elif _is_number(value):
                carried.append((name, _number_tensor(value, before if isinstance(before, _onyx.Tensor) else None)))
            elif value is before and name not in else_names:
                continue  # a Python value the statement does not change
            else:
                raise ConversionError(f"variable '{name}' is a {type(value).__name__} assigned in {where}, whose "
                                      "condition is a tensor: only tensors and numbers can differ between branches")
        results["then"] = dict(carried)
        return [value for _, value in carried]

    def else_branch():
        out = dict(zip(names, else_fn(*values)))
        returned = []
        for name, then_value in results["then"].items():
            value = out[name]
            if isinstance(value, Undefined):
                # Defined only in the then branch: the If still needs an output; the variable is
                # left undefined after the statement.
                returned.append(_onyx.Tensor(np.zeros((), dtype=then_value.dtype)))
                results.setdefault("one_branch", []).append(name)
                continue
            if _is_number(value):
                value = _number_tensor(value, then_value)
            if not isinstance(value, _onyx.Tensor):
                raise ConversionError(f"variable '{name}' is a tensor in the if branch but a {type(value).__name__} "
                                      f"in the else branch of {where}")
            if value.dtype != then_value.dtype:
                raise ConversionError(f"variable '{name}' is {then_value.dtype} in the if branch but {value.dtype} "
                                      f"in the else branch of {where}: both must have one dtype")
            returned.append(value)
        results["else"] = out
        return returned

    outputs = _onyx.cond(test, then_branch, else_branch)
    merged = dict(zip(results["then"], outputs))
    one_branch = set(results.get("one_branch", []))
    final = []
    for name, before, then_value in zip(names, values, results["then_out"]):
        if name in merged and name not in one_branch:
            final.append(merged[name])
        elif name in one_branch or (isinstance(then_value, Undefined) and not isinstance(results["else"][name], Undefined)):
            final.append(Undefined(name, f"it is defined in only one branch of {where}, whose condition is a "
                                         "tensor; define it before the `if` or in both branches"))
        else:
            final.append(before)  # unbound in both, or a Python value neither branch changes
    return tuple(final)


# --- loops ------------------------------------------------------------------------------------

def _carried(names, values, where):
    """Which loop variables the Loop node carries: those bound to tensors or numbers (numbers
    become tensors). Variables first bound inside the body are temporaries."""
    carried = []
    for index, (name, value) in enumerate(zip(names, values)):
        if isinstance(value, Undefined):
            continue
        if isinstance(value, _onyx.Tensor):
            carried.append((index, value))
        elif _is_number(value):
            carried.append((index, _number_tensor(value)))
        else:
            raise ConversionError(f"variable '{name}' is a {type(value).__name__} changed in {where}, which runs "
                                  "on a tensor: only tensors and numbers can be loop variables")
    return carried


def _body_results(names, carried, out, where):
    """The new values of the carried variables, checked: defined, tensors, the same dtype."""
    new = []
    for index, before in carried:
        value = out[index]
        name = names[index]
        if isinstance(value, Undefined):
            raise ConversionError(f"loop variable '{name}' is undefined at the end of the body of {where}")
        if _is_number(value):
            value = _number_tensor(value, before)
        if not isinstance(value, _onyx.Tensor):
            raise ConversionError(f"loop variable '{name}' becomes a {type(value).__name__} in {where}; "
                                  "it must stay a tensor")
        if value.dtype != before.dtype:
            raise ConversionError(f"loop variable '{name}' changes dtype from {before.dtype} to {value.dtype} in "
                                  f"{where}; cast it to keep one dtype")
        new.append(value)
    return new


def _after_loop(names, values, carried, outputs, where):
    final = list(values)
    for (index, _), value in zip(carried, outputs):
        final[index] = value
    for index, value in enumerate(values):
        if isinstance(value, Undefined):
            final[index] = Undefined(names[index], f"it is first defined inside {where}, which runs on a tensor; "
                                                   "define it before the loop")
    return tuple(final)


def _with(values, carried, current):
    full = list(values)
    for (index, _), value in zip(carried, current):
        full[index] = value
    return full


def while_stmt(test_fn, body_fn, names, values, line):
    test = test_fn(*values)
    if not _traced_tensor(test):
        while test:
            values = body_fn(*values)
            test = test_fn(*values)
        return values
    where = f"the `while` loop at line {line}"
    carried = _carried(names, values, where)

    def condition(current):
        return test_fn(*_with(values, carried, current))

    def body(current):
        return _body_results(names, carried, body_fn(*_with(values, carried, current)), where)

    outputs = _onyx.while_loop(condition, body, [value for _, value in carried])
    return _after_loop(names, values, carried, outputs, where)


class Range:
    """`onyx.range(stop)`, `onyx.range(start, stop[, step])`: in a loop of an onyx.function, one
    Loop node however many iterations (even with Python int bounds, as tf.range); iterated
    eagerly, int64 scalar tensors."""

    def __init__(self, start, stop=None, step=1):
        if stop is None:
            start, stop = 0, start
        if isinstance(step, _onyx.Tensor) or not isinstance(step, (int, np.integer)) or step == 0:
            raise ValueError(f"onyx.range: step must be a non-zero Python int, got {step!r}")
        self.start, self.stop, self.step = start, stop, int(step)

    def _bound(self, value):
        if isinstance(value, _onyx.Tensor) and value.is_symbolic:
            raise ConversionError("onyx.range with a symbolic bound iterated as plain Python while tracing: write "
                                  "the loop directly in the onyx.function, without return/break/continue in its "
                                  "body, so that it becomes a Loop node")
        return int(value.item()) if isinstance(value, _onyx.Tensor) else int(value)

    def __iter__(self):
        for index in range(self._bound(self.start), self._bound(self.stop), self.step):
            yield _onyx.Tensor(np.asarray(index, dtype=np.int64))

    def __len__(self):
        return len(range(self._bound(self.start), self._bound(self.stop), self.step))

    def count(self):
        """The trip count as an int64 scalar tensor (computed by the graph for tensor bounds)."""
        if not isinstance(self.start, _onyx.Tensor) and not isinstance(self.stop, _onyx.Tensor):
            return _number_tensor(len(range(int(self.start), int(self.stop), self.step)))
        ops = _onyx_ops()
        if not isinstance(self.start, _onyx.Tensor) and self.start == 0 and self.step == 1:
            return ops.Max(_int64(self.stop), _number_tensor(0))
        start, stop = _int64(self.start), _int64(self.stop)
        span = (stop - start) if self.step > 0 else (start - stop)
        magnitude = abs(self.step)
        return ops.Max(ops.Div(span + (magnitude - 1), _number_tensor(magnitude)), _number_tensor(0))

    def index(self, i):
        if not isinstance(self.start, _onyx.Tensor) and self.start == 0 and self.step == 1:
            return i
        return _int64(self.start) + i * self.step


def _int64(value):
    if isinstance(value, _onyx.Tensor):
        return value if value.dtype == np.int64 else _onyx_ops().Cast(value, to=np.int64)
    return _number_tensor(int(value))


def range_(start, stop=None, step=1):
    return Range(start, stop, step)


def for_stmt(iterable, body_fn, names, values, line):
    if isinstance(iterable, Range) and _onyx.in_trace():
        count, element = iterable.count(), iterable.index
    elif _traced_tensor(iterable):
        ops = _onyx_ops()
        if iterable.ndim == 0:
            raise ConversionError(f"the `for` loop at line {line} iterates over a 0-d tensor")
        count = ops.Gather(ops.Shape(iterable), _number_tensor(0))

        def element(i):
            return ops.Gather(iterable, i, axis=0)
    else:
        for item in iterable:
            values = body_fn(item, *values)
        return values
    where = f"the `for` loop at line {line}"
    carried = _carried(names, values, where)

    def body(index, current):
        return _body_results(names, carried, body_fn(element(index), *_with(values, carried, current)), where)

    outputs = _onyx.for_range(count, body, [value for _, value in carried])
    return _after_loop(names, values, carried, outputs, where)


# --- the builders, for code that calls them directly ------------------------------------------

def _tensor_list(values, what):
    listed = list(values) if isinstance(values, (list, tuple)) else [values]
    return [v if isinstance(v, _onyx.Tensor) else _onyx.Tensor(v) for v in listed], isinstance(values, (list, tuple))


def cond(predicate, then_fn, else_fn):
    """then_fn() if `predicate` (a one-element tensor) holds, else else_fn(); both return a tensor
    or a tuple of tensors with the same dtypes. One If node inside onyx.function."""
    shape = {}

    def branch(fn):
        def run():
            tensors, is_tuple = _tensor_list(fn(), "an onyx.cond branch")
            shape["tuple"] = is_tuple
            return tensors
        return run

    outputs = _onyx.cond(_as_tensor(predicate), branch(then_fn), branch(else_fn))
    return tuple(outputs) if shape.get("tuple") else outputs[0]


def while_loop(condition, body, loop_vars):
    """Runs `loop_vars = body(*loop_vars)` while condition(*loop_vars); returns the final values (a
    tuple). One Loop node inside onyx.function."""
    initial, _ = _tensor_list(loop_vars, "onyx.while_loop's loop_vars")
    outputs = _onyx.while_loop(lambda v: _as_tensor(condition(*v)),
                               lambda v: _tensor_list(body(*v), "the while_loop body")[0], initial)
    return tuple(outputs)


def for_range(count, body, loop_vars):
    """Runs `loop_vars = body(i, *loop_vars)` for i = 0 .. count-1 (i an int64 scalar tensor);
    returns the final values (a tuple). One Loop node inside onyx.function."""
    initial, _ = _tensor_list(loop_vars, "onyx.for_range's loop_vars")
    outputs = _onyx.for_range(_int64(count), lambda i, v: _tensor_list(body(i, *v), "the for_range body")[0], initial)
    return tuple(outputs)


def _as_tensor(value):
    return value if isinstance(value, _onyx.Tensor) else _number_tensor(value)
