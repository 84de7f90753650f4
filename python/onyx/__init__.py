"""onyx: an ONNX inference and training runtime.

The inference API follows onnxruntime's, so that `import onyx as rt` runs scripts written for
`import onnxruntime as rt`:

    import numpy as np, onyx
    session = onyx.InferenceSession("model.onnx")
    outputs = session.run(None, {session.get_inputs()[0].name: np.ones((1, 3), np.float32)})

Eager mode: `onyx.Tensor` (from NumPy/DLPack, back through the buffer protocol, __array__ and
__dlpack__), every ONNX op as `onyx.ops.<Name>`, `onyx.GradientTape`, and `onyx.function`, which
traces a Python function (its loops and ifs on tensors becoming Loop/If) into an ONNX graph.
Training: `onyx.training.TrainingSession`; modules, layers, optimizers and export: `onyx.nn`.

`onyx.backend` is an onnx.backend.base.Backend; `python -m onyx ...` runs the CLI verbs.
"""
from onyx._onyx import (InvalidArgument, InvalidModel, OnyxError, RuntimeFailure, Tensor, Unsupported, from_dlpack,
                        intra_op_threads, set_intra_op_threads)
from onyx import indexing as _indexing
from onyx import nn, ops
from onyx.control_flow import ConversionError, cond, for_range, range_ as range, while_loop
from onyx.function import ConcreteFunction, Function, TensorSpec, function
from onyx.session import (
    ExecutionMode,
    GraphOptimizationLevel,
    InferenceSession,
    ModelMetadata,
    NodeArg,
    RunOptions,
    SessionOptions,
    get_available_providers,
    get_device,
)
from onyx.tape import GradientTape

Tensor.__getitem__ = _indexing.getitem
Tensor.__iter__ = _indexing.iterate

__version__ = "0.1.0"

__all__ = [
    "ConcreteFunction", "ConversionError", "ExecutionMode", "Function", "GradientTape", "GraphOptimizationLevel",
    "InferenceSession", "InvalidArgument", "InvalidModel", "ModelMetadata", "NodeArg", "OnyxError", "RunOptions",
    "RuntimeFailure", "SessionOptions", "Tensor", "TensorSpec", "Unsupported", "cond", "for_range", "from_dlpack",
    "function", "get_available_providers", "get_device", "intra_op_threads", "nn", "ops", "range",
    "set_intra_op_threads", "while_loop",
]
