"""Every ONNX op onyx runs eagerly, as `onyx.ops.<Name>` (ai.onnx), `onyx.ops.ml.<Name>`,
`onyx.ops.training.<Name>` and `onyx.ops.preview.<Name>`:

    y = onyx.ops.Conv(x, w, strides=[2, 2], pads=[1, 1, 1, 1])
    values, indices = onyx.ops.TopK(x, onyx.Tensor(np.array([3])), axis=-1)

The functions are made at import from _op_table.py (generated from the C++ eager op list by
scripts/generate_python_ops.py): inputs are positional (tensors, arrays or numbers; None for an
omitted optional input, a list for a sequence), attributes are keyword arguments of the schema's
types (element-type attributes such as Cast's `to` also take a NumPy dtype). An op with one
output (plus optional ones) returns a Tensor, others a tuple; `output_count=` asks for another
number of outputs (variadic outputs: Split without num_outputs). Each call is one eager call of
the C++ runtime, so it traces inside onyx.function and records on a GradientTape. Custom ops:
`onyx.ops.call(domain, op_type, *inputs, **attributes)`.
"""
import types

import numpy as np

from onyx import _onyx
from onyx._op_table import OPS

_DTYPE_ATTRIBUTES = {"to", "dtype", "output_dtype", "stash_type", "output_datatype"}
_CONTROL_FLOW = {"If": "onyx.cond (or an `if` on a tensor inside onyx.function)",
                 "Loop": "onyx.while_loop / onyx.for_range (or a loop inside onyx.function)",
                 "Scan": "onyx.for_range"}
_NAMESPACES = {"": None, "ai.onnx.ml": "ml", "ai.onnx.preview.training": "training", "ai.onnx.preview": "preview"}


def _element_type(value):
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return int(value)
    return _onyx.element_type(value)


def _attribute_value(op, name, kind, value):
    """The value as the C++ attribute builder takes it, or TypeError naming the op."""
    try:
        if kind == "int":
            return _element_type(value) if name in _DTYPE_ATTRIBUTES else int(_index(value))
        if kind == "float":
            return float(value)
        if kind == "string":
            if not isinstance(value, (str, bytes)):
                raise TypeError("expected a str")
            return value.decode() if isinstance(value, bytes) else value
        if kind == "ints":
            return [int(_index(v)) for v in _as_list(value)]
        if kind == "floats":
            return [float(v) for v in _as_list(value)]
        if kind == "strings":
            return [str(v) for v in _as_list(value)]
        if kind == "tensor":
            return value if isinstance(value, _onyx.Tensor) else _onyx.Tensor(value)
    except (TypeError, ValueError) as error:
        raise TypeError(f"{op}: attribute {name} must be of ONNX type {kind}, got {value!r} ({error})") from None
    raise TypeError(f"{op}: attribute {name} is of type {kind}, which eager calls cannot pass")


def _index(value):
    if isinstance(value, float) and not value.is_integer():
        raise ValueError("not an integer")
    return value


def _as_list(value):
    if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
        raise TypeError("expected a list")
    return list(value)


def _result(outputs, single):
    return outputs[0] if single else tuple(outputs)


class _Op:
    """One op's eager function; the op handle is resolved on the first call."""

    def __init__(self, domain, op_type, entry):
        self.domain, self.op_type, self.entry = domain, op_type, entry
        self.attributes = {name: (kind, required) for name, kind, required in entry["attributes"]}
        inputs = entry["inputs"]
        self.variadic = next((i for i, (_, option, _) in enumerate(inputs) if option == "variadic"), None)
        self.required = sum(1 for _, option, _ in inputs if option == "single")
        outputs = entry["outputs"]
        self.variadic_output = any(option == "variadic" for _, option, _ in outputs)
        # As the C++ wrappers: one Tensor when the first output is the only required one.
        self.single = not self.variadic_output and (
            len(outputs) == 1 or (outputs[0][1] == "single" and all(o[1] == "optional" for o in outputs[1:])))
        self.handle = None
        self.__name__ = self.__qualname__ = op_type
        self.__doc__ = self._signature() + "\n\n" + entry["doc"]

    def _signature(self):
        inputs = ", ".join(n + ("=None" if o == "optional" else "..." if o == "variadic" else "")
                           for n, o, _ in self.entry["inputs"])
        attributes = ", ".join(n + ("" if required else "=None") for n, (_, required) in self.attributes.items())
        outputs = ", ".join(n for n, _, _ in self.entry["outputs"])
        domain = self.domain or "ai.onnx"
        return (f"{self.op_type}({inputs}{', *, ' + attributes if attributes else ''}) -> {outputs}"
                f"  [{domain}, since opset {self.entry['since']}]")

    def __repr__(self):
        return f"<onyx op {self._signature()}>"

    def __call__(self, *inputs, output_count=None, **attributes):
        if self.op_type in _CONTROL_FLOW:
            raise TypeError(f"{self.op_type} takes graph attributes: use {_CONTROL_FLOW[self.op_type]}")
        inputs = self._inputs(inputs)
        listed = []
        for name, value in attributes.items():
            if name not in self.attributes:
                known = ", ".join(self.attributes) or "none"
                raise TypeError(f"{self.op_type} has no attribute {name!r} (its attributes: {known})")
            if value is not None:
                kind = self.attributes[name][0]
                listed.append((name, kind, _attribute_value(self.op_type, name, kind, value)))
        for name, (_, required) in self.attributes.items():
            if required and attributes.get(name) is None:
                raise TypeError(f"{self.op_type} needs the attribute {name}")
        count = output_count if output_count is not None else self._output_count(attributes, inputs)
        if self.handle is None:
            self.handle = _onyx.op_handle(self.domain, self.op_type)
        outputs = _onyx.call_op(self.handle, inputs, listed, count)
        return _result(outputs, self.single and output_count is None)

    def _inputs(self, given):
        declared = self.entry["inputs"]
        if self.variadic is None:
            if len(given) > len(declared):
                raise TypeError(f"{self.op_type} takes at most {len(declared)} inputs, got {len(given)}")
            inputs = list(given)
        else:
            head = list(given[:self.variadic])
            rest = given[self.variadic:]
            if len(rest) == 1 and isinstance(rest[0], (list, tuple)) and not declared[self.variadic][2]:
                rest = rest[0]  # Concat([a, b, c]) as well as Concat(a, b, c)
            inputs = head + list(rest)
        while inputs and inputs[-1] is None:
            inputs.pop()
        if len(inputs) < self.required:
            names = ", ".join(n for n, o, _ in declared if o == "single")
            raise TypeError(f"{self.op_type} needs the inputs {names}; got {len(inputs)}")
        return inputs

    def _output_count(self, attributes, inputs):
        outputs = self.entry["outputs"]
        if not self.variadic_output:
            return len(outputs)
        if attributes.get("num_outputs") is not None:
            return int(attributes["num_outputs"])
        if self.op_type == "Split" and len(inputs) > 1 and inputs[1] is not None:
            return len(np.asarray(inputs[1]))
        raise TypeError(f"{self.op_type} has a variadic number of outputs: pass output_count=")


def _custom_attribute(op_type, name, value):
    """(name, type, value) for an op without a schema in the table, typed from the Python value."""
    if isinstance(value, bool) or isinstance(value, (int, np.integer)):
        return name, "int", int(value)
    if isinstance(value, (float, np.floating)):
        return name, "float", float(value)
    if isinstance(value, str):
        return name, "string", value
    if isinstance(value, (_onyx.Tensor, np.ndarray)):
        return name, "tensor", value
    items = list(value)
    if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in items):
        return name, "ints", [int(v) for v in items]
    if all(isinstance(v, (int, float, np.number)) for v in items):
        return name, "floats", [float(v) for v in items]
    if all(isinstance(v, str) for v in items):
        return name, "strings", items
    raise TypeError(f"{op_type}: attribute {name}={value!r} is not an int, float, str, tensor or list of them")


def call(domain, op_type, *inputs, output_count=1, opset=0, **attributes):
    """Any op by (domain, name), custom ops included; attribute types follow the Python values.
    Returns a list of `output_count` outputs."""
    handle = _onyx.op_handle(domain, op_type, opset)
    listed = [_custom_attribute(op_type, name, value) for name, value in attributes.items()]
    return _onyx.call_op(handle, list(inputs), listed, output_count)


ml = types.SimpleNamespace()
training = types.SimpleNamespace()
preview = types.SimpleNamespace()


def _install():
    spaces = {"ml": ml, "training": training, "preview": preview}
    for (domain, op_type), entry in OPS.items():
        function = _Op(domain, op_type, entry)
        space = _NAMESPACES[domain]
        if space is None:
            globals()[op_type] = function
        else:
            setattr(spaces[space], op_type, function)


_install()
