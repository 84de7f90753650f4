"""Export of a module to ONNX (training/nn/export.h), for built-in layers and Python models
alike: the C++ exporter traces the module's call in eval mode (a Python model's forward runs
under the trace) and names every parameter and buffer initializer by its state_dict() path
("dense.weight"). The file runs in onnxruntime and `onyx run`; export_trainable also records the
loss, so `onyx train FILE --loss NAME` trains it.
"""
import os

from onyx import _onyx
from onyx.nn.module import as_tensor


def _examples(example_inputs):
    items = list(example_inputs) if isinstance(example_inputs, (list, tuple)) else [example_inputs]
    return [as_tensor(x) for x in items]


def export(model, example_inputs, path=None, *, input_names=(), output_names=(), dynamic_batch=True):
    """Writes the inference model for inputs shaped like `example_inputs` (one tensor or a list)
    to `path` atomically; without a path, returns it as serialized ONNX. dynamic_batch: dim 0 of
    every input is a symbolic "batch" dim."""
    args = (list(input_names), list(output_names), bool(dynamic_batch))
    if path is None:
        return _onyx.nn.export_model(model, _examples(example_inputs), *args)
    _onyx.nn.export_inference_model(model, _examples(example_inputs), os.fspath(path), *args)
    return None


def export_trainable(model, example_inputs, path, loss, *, input_names=(), output_names=(), dynamic_batch=True):
    """The same model with `loss` (an `onyx train --loss` name: "mse", "cross_entropy", ...)
    recorded in its metadata ("onyx.nn.loss"), for `onyx train FILE --loss <loss>`."""
    _onyx.nn.export_trainable_model(model, _examples(example_inputs), str(loss), os.fspath(path), list(input_names),
                                    list(output_names), bool(dynamic_batch))
