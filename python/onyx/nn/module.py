"""onyx.nn.Module's Python behaviour, installed on the bound C++ class (onyx._onyx.nn.Module,
training/nn/module.h's Layer) rather than on a Python subclass of it, so that the built-in layers
(bound C++ subclasses) are onyx.nn.Module instances too.

What lives here is only what makes a C++ module feel like a torch.nn.Module: attribute assignment
registers parameters and submodules in the C++ module (in order, so named_parameters() reads
"dense.weight" as C++ names it), buffers read back as attributes, and __call__ runs forward.
state_dict, load_state_dict, save/load, train/eval and freezing are the C++ Module's own methods.
"""
import numpy as np

from onyx import _onyx

_nn = _onyx.nn
Module = _nn.Module
ModuleBase = _nn.ModuleBase
Parameter = _nn.Parameter
_native_init = Module.__init__


def as_tensor(value):
    """onyx.Tensor as it is; NumPy arrays, scalars and DLPack tensors as onyx.Tensor."""
    if isinstance(value, _onyx.Tensor):
        return value
    if isinstance(value, Parameter):
        return value.value
    return _onyx.Tensor(np.asarray(value) if isinstance(value, (np.generic, int, float, bool, list)) else value)


def _init(self):
    # The C++ Module's type name (messages, the saved file's module type) is the Python class's.
    _native_init(self, type(self).__name__)


def _setattr(self, name, value):
    if isinstance(value, Parameter):
        self._register_parameter(name, value)
    elif isinstance(value, ModuleBase):
        self._register_module(name, value)
    elif not name.startswith("_") and self._buffer(name) is not None:
        self._set_buffer(name, value)  # buffers live in the C++ module only
        return
    object.__setattr__(self, name, value)


def _getattr(self, name):
    # Reached only when normal lookup fails: a buffer registered with register_buffer.
    if not name.startswith("__"):
        try:
            buffer = ModuleBase._buffer(self, name)
        except TypeError:  # before Module.__init__ ran
            buffer = None
        if buffer is not None:
            return buffer
    raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")


def _call(self, *args, **kwargs):
    forward = getattr(self, "forward", None)
    args = [as_tensor(a) if isinstance(a, (np.ndarray, np.generic)) else a for a in args]
    if forward is None:  # a built-in layer: its C++ call
        if kwargs:
            raise TypeError(f"{self.type_name} takes its inputs positionally")
        outputs = self.call([as_tensor(a) for a in args])
        return outputs[0] if len(outputs) == 1 else tuple(outputs)
    return forward(*args, **kwargs)


def _call_tensors(self, inputs):
    """What C++ calls (export, Sequential, the optimizer's traced steps): forward on a list of
    tensors, its outputs (a tensor or a tuple/list of them) as a list."""
    forward = getattr(self, "forward", None)
    if forward is None:
        raise NotImplementedError(f"{type(self).__name__} has no forward(self, ...) method")
    result = forward(*inputs)
    items = list(result) if isinstance(result, (tuple, list)) else [result]
    for index, item in enumerate(items):
        if not isinstance(item, _onyx.Tensor):
            raise TypeError(f"{type(self).__name__}.forward must return tensors (or a tuple/list of them); output "
                            f"{index} is a {type(item).__name__}")
    return items


def register_buffer(self, name, value):
    """A tensor the module keeps and saves but does not train (running statistics); read and
    rebound as the attribute `name`."""
    self._register_buffer(name, as_tensor(value))


def register_parameter(self, name, parameter):
    setattr(self, name, parameter)


def add_module(self, name, module):
    setattr(self, name, module)


def named_buffers_dict(self):
    return dict(self.named_buffers())


def buffers(self):
    return [b for _, b in self.named_buffers()]


def modules(self):
    return [m for _, m in self.named_modules()]


def children(self):
    return [m for _, m in self.named_children()]


def _repr(self):
    children = self.named_children()
    if not children:
        return f"{self.type_name}()"
    lines = [f"  ({name}): " + repr(child).replace("\n", "\n  ") for name, child in children]
    return f"{self.type_name}(\n" + "\n".join(lines) + "\n)"


Module.__init__ = _init
Module.__setattr__ = _setattr
Module.__getattr__ = _getattr
Module.__call__ = _call
Module.__repr__ = _repr
Module._call_tensors = _call_tensors
Module.register_buffer = register_buffer
Module.register_parameter = register_parameter
Module.add_module = add_module
Module.buffers = buffers
Module.modules = modules
Module.children = children
