"""onyx.function: traces a Python function of tensors into an ONNX graph, compiles it once per
input signature and runs the compiled graph on later calls (runtime/eager/function.h). Python
control flow on tensors becomes Loop/If nodes (autograph.py).

    @onyx.function
    def total(n):
        s = onyx.Tensor(np.int64(0))
        for i in onyx.range(n):
            s = s + i
        return s

    total(onyx.Tensor(np.int64(10)))      # traces, compiles, runs: 45
    total.save("total.onnx")              # the traced graph, for onnxruntime or `onyx run`

Tensor arguments (onyx.Tensor, NumPy arrays and scalars, DLPack tensors) become graph inputs;
other arguments (Python numbers, strings, ...) are constants of the trace, and each distinct value traces
its own graph (as tf.function does). The function returns a tensor or a tuple/list of them.
"""
import functools
import inspect
import threading

import numpy as np

from onyx import _onyx, autograph
from onyx.control_flow import Undefined


class TensorSpec:
    """One input of an input_signature: `shape` with None (or -1) for a dim of any size."""

    def __init__(self, shape, dtype=np.float32):
        self.shape = tuple(-1 if d is None else int(d) for d in shape)
        self.dtype = np.dtype(dtype)

    def __repr__(self):
        dims = ", ".join("None" if d < 0 else str(d) for d in self.shape)
        return f"TensorSpec(({dims}), {self.dtype})"


def _is_tensor_argument(value):
    """Tensors, NumPy arrays and scalars, DLPack tensors; Python numbers are constants."""
    return isinstance(value, (_onyx.Tensor, np.ndarray, np.generic)) or (
        hasattr(value, "__dlpack__") and not isinstance(value, (int, float, bool, str)))


def _flatten(result, name):
    """The outputs as a list of tensors, and how to rebuild the Python structure."""
    if isinstance(result, (tuple, list)):
        kind, items = type(result), list(result)
    else:
        kind, items = None, [result]
    tensors = []
    for index, item in enumerate(items):
        if isinstance(item, Undefined):
            item._fail()
        if isinstance(item, (int, float, bool, np.number, np.ndarray)):
            item = _onyx.Tensor(np.asarray(item))
        if not isinstance(item, _onyx.Tensor):
            raise TypeError(f"onyx.function {name} must return tensors (or a tuple/list of them); output {index} "
                            f"is a {type(item).__name__}")
        tensors.append(item)
    return tensors, kind


def _rebuild(outputs, kind):
    return outputs[0] if kind is None else kind(outputs)


class ConcreteFunction:
    """One traced signature: the ONNX model as traced and the compiled session running it."""

    def __init__(self, native, kind):
        self._native, self._kind = native, kind

    def __call__(self, *tensors):
        return _rebuild(self._native.run([_onyx.Tensor(t) if not isinstance(t, _onyx.Tensor) else t
                                          for t in tensors]), self._kind)

    def save(self, path):
        """Writes the traced model to `path` (atomically); onnxruntime and `onyx run` run it."""
        import os
        self._native.save(os.fspath(path))

    def model_bytes(self):
        """The traced model as serialized ONNX (onnx.load_from_string reads it)."""
        return self._native.model_bytes()

    @property
    def op_types(self):
        """The op type of each node of the main graph, in order."""
        return list(self._native.op_types)


class Function:
    def __init__(self, fn, input_signature=None, input_names=None, output_names=None, autograph=True,
                 intra_op_num_threads=0, optimization_level=2):
        self.python_function = fn
        self._converted = _convert(fn) if autograph else fn
        self._signature = inspect.signature(fn)
        self._input_signature = None if input_signature is None else [
            (_onyx.element_type(spec.dtype), list(spec.shape)) for spec in input_signature]
        self._options = (list(input_names or []), list(output_names or []), int(intra_op_num_threads),
                         int(optimization_level))
        self._caches = {}   # the non-tensor arguments -> FunctionCache
        self._kinds = {}    # id(native concrete function) -> the output structure
        self._traced = []   # the native concrete functions, in tracing order
        self._lock = threading.Lock()
        functools.update_wrapper(self, fn)

    def _split(self, args, kwargs):
        bound = self._signature.bind(*args, **kwargs)
        bound.apply_defaults()
        arguments = list(bound.arguments.values())
        tensors, static = [], []
        for index, value in enumerate(arguments):
            if _is_tensor_argument(value):
                tensors.append(value if isinstance(value, _onyx.Tensor) else _onyx.Tensor(np.asarray(value))
                               if isinstance(value, np.generic) else _onyx.Tensor(value))
            else:
                try:
                    hash(value)
                except TypeError:
                    raise TypeError(f"onyx.function {self.__name__}: argument {index} is a {type(value).__name__}, "
                                    "neither a tensor nor a hashable constant") from None
                static.append((index, value))
        return arguments, tensors, tuple(static)

    def _native_concrete(self, arguments, tensors, static):
        tensor_positions = [i for i in range(len(arguments)) if i not in dict(static)]

        def traced(symbolic):
            full = list(arguments)
            for position, value in zip(tensor_positions, symbolic):
                full[position] = value
            outputs, kind = _flatten(self._converted(*full), self.__name__)
            pending["kind"] = kind
            return outputs

        pending = {}
        with self._lock:  # one trace at a time; a Python lock waits without holding the GIL
            cache = self._caches.get(static)
            if cache is None:
                cache = self._caches[static] = _onyx.FunctionCache(self._input_signature, *self._options)
            native = cache.concrete(tensors, traced)
            if "kind" in pending:
                self._kinds[id(native)] = pending["kind"]
                self._traced.append(native)
        return native

    def __call__(self, *args, **kwargs):
        if _onyx.in_trace():  # called from another traced function: inlined into its graph
            return self._converted(*args, **kwargs)
        arguments, tensors, static = self._split(args, kwargs)
        native = self._native_concrete(arguments, tensors, static)
        return _rebuild(native.run(tensors), self._kinds[id(native)])

    def get_concrete_function(self, *args, **kwargs):
        """The traced graph for these example arguments (tracing it if needed)."""
        arguments, tensors, static = self._split(args, kwargs)
        native = self._native_concrete(arguments, tensors, static)
        return ConcreteFunction(native, self._kinds[id(native)])

    def save(self, path, *args, **kwargs):
        """Writes the graph traced for these example arguments (or, with none, the only graph
        traced so far) to `path` as ONNX, atomically."""
        if args or kwargs:
            self.get_concrete_function(*args, **kwargs).save(path)
            return
        if len(self._traced) != 1:
            raise _onyx.InvalidArgument(f"onyx.function {self.__name__} has traced {len(self._traced)} signatures; "
                                        "pass example arguments to save(path, *args) to pick one")
        native = self._traced[0]
        ConcreteFunction(native, self._kinds[id(native)]).save(path)

    @property
    def trace_count(self):
        """How many graphs have been traced (retracing shows up here)."""
        return sum(cache.trace_count for cache in self._caches.values())


def _convert(fn):
    return autograph.convert(fn)


def function(fn=None, *, input_signature=None, input_names=None, output_names=None, autograph=True,
             intra_op_num_threads=0, optimization_level=2):
    """Decorator (with or without arguments) making an onyx.function of `fn`.

    input_signature: a list of TensorSpec; every call must match it and one graph serves them all.
    input_names / output_names: the traced model's graph input and output names.
    autograph: convert Python control flow on tensors into Loop/If (default True).
    intra_op_num_threads, optimization_level: how the traced graph is compiled (0: one thread per core).
    """
    def make(f):
        return Function(f, input_signature, input_names, output_names, autograph, intra_op_num_threads,
                        optimization_level)
    return make(fn) if fn is not None else make
