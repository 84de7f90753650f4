"""onyx.GradientTape: records the eager ops computed from watched tensors and differentiates
them with the training module's gradient rules (runtime/eager/gradient_tape.h). Inside
onyx.function the backward ops are traced like any others.

    with onyx.GradientTape() as tape:
        tape.watch(w)
        loss = onyx.ops.ReduceMean((x @ w - y) * (x @ w - y), keepdims=0)
    dw = tape.gradient(loss, w)

It records from `with` entry to exit on the thread that entered it; gradient() works after.
An onyx.nn.Parameter stands for its current value: tape.watch(*model.parameters()) and
tape.gradient(loss, model.parameters()).
"""
from onyx import _onyx


def _tensor_of(value):
    return value.value if isinstance(value, _onyx.nn.Parameter) else value


class GradientTape:
    def __init__(self):
        self._native = _onyx.Tape()

    def __enter__(self):
        self._native.start()
        return self

    def __exit__(self, *exception):
        self._native.stop()
        return False

    def watch(self, *tensors):
        """Gradients will be computed with respect to these tensors (and what is computed from them)."""
        for tensor in map(_tensor_of, tensors):
            if not isinstance(tensor, _onyx.Tensor):
                raise TypeError("GradientTape.watch takes onyx.Tensor or onyx.nn.Parameter values, not "
                                f"{type(tensor).__name__}")
            self._native.watch(tensor)

    def gradient(self, target, sources):
        """d(target)/d(sources): a tensor for one source, a list for a list or tuple of them. A
        source the target does not depend on gets zeros of its shape."""
        single = isinstance(sources, (_onyx.Tensor, _onyx.nn.Parameter))
        listed = [_tensor_of(s) for s in ([sources] if single else sources)]
        gradients = self._native.gradient(target, listed)
        return gradients[0] if single else gradients

    @property
    def recorded_ops(self):
        return self._native.recorded_ops
