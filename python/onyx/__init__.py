"""onyx: an ONNX inference and training runtime.

The inference API follows onnxruntime's, so that `import onyx as rt` runs scripts written for
`import onnxruntime as rt`:

    import numpy as np, onyx
    session = onyx.InferenceSession("model.onnx")
    outputs = session.run(None, {session.get_inputs()[0].name: np.ones((1, 3), np.float32)})

`onyx.backend` is an onnx.backend.base.Backend; `python -m onyx ...` runs the CLI verbs.
"""
from onyx._onyx import InvalidArgument, InvalidModel, OnyxError, RuntimeFailure, Unsupported
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

__version__ = "0.1.0"

__all__ = [
    "ExecutionMode", "GraphOptimizationLevel", "InferenceSession", "InvalidArgument", "InvalidModel",
    "ModelMetadata", "NodeArg", "OnyxError", "RunOptions", "RuntimeFailure", "SessionOptions", "Unsupported",
    "get_available_providers", "get_device",
]
