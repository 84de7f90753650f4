"""onyx.nn: modules, layers, initializers, losses, metrics, optimizers and export, the Python face
of the C++ onyx::nn (training/nn/). Every layer is the C++ layer, running the kernels of the graph
runtime; a Python model is a C++ module too (its forward called from C++ where C++ calls it), so
state dicts, checkpoint files, optimizers and export are the C++ ones for both.

    import numpy as np, onyx
    from onyx import nn

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Linear(4, 16)          # registered as "hidden" (params "hidden.weight", ...)
            self.out = nn.Linear(None, 3)           # lazy: in_features from the first input
            self.scale = nn.Parameter(np.ones(3, np.float32))

        def forward(self, x):
            return self.out(onyx.ops.Relu(self.hidden(x))) * self.scale.value

    model = Model()
    model(x)                                        # builds the lazy layer
    optimizer = nn.Adam(model.parameters(), lr=1e-2, schedules={"lr": onyx.training.StepLR(100, 0.5)})
    for step in range(100):
        with onyx.GradientTape() as tape:
            tape.watch(*model.parameters())
            loss = nn.cross_entropy(model(x), y)
        optimizer.apply_gradients(tape.gradient(loss, model.parameters()), model.parameters())
    model.save("model.ckpt"); model.load("model.ckpt")          # checksummed, atomic (C++ format)
    nn.export(model, [x], "model.onnx", input_names=["x"])      # onnxruntime runs it
    nn.export_trainable(model, [x], "train.onnx", loss="cross_entropy")   # onyx train train.onnx ...

Module: parameters(), named_parameters() (dotted names, frozen ones too), named_buffers(),
named_modules(), children(), train()/eval()/training, requires_grad_(False) (freeze),
state_dict() (name -> onyx.Tensor), load_state_dict(d, strict=True) (one-line errors naming the
missing, unexpected or mis-shaped entry; nothing changes then), save(path)/load(path),
register_buffer(name, tensor). Parameter(value, trainable=True): `.value` is an onyx.Tensor that
optimizer steps rebind (never written in place). Built-in layers take torch's parameter layouts and
names, so torch state dicts load as they are; called, each returns its output tensor (LSTM/GRU:
`.run(x, h0, c0)` also gives the final states; MultiHeadAttention: `(q, k, v[, mask])`).
"""
from onyx import _onyx
from onyx.nn import init
from onyx.nn.export import export, export_trainable
from onyx.nn.losses import (BuiltinMetric, MeanMetric, bce_with_logits_loss, binary_cross_entropy_with_logits,
                            cross_entropy, cross_entropy_loss, huber_loss, l1_loss, mse_loss, nll_loss)
from onyx.nn.module import Module, ModuleBase, Parameter
from onyx.nn.optim import SGD, Adam, AdamW, Optimizer

_nn = _onyx.nn
Linear, Conv2d, BatchNorm, LayerNorm, Dropout, Embedding = (_nn.Linear, _nn.Conv2d, _nn.BatchNorm, _nn.LayerNorm,
                                                            _nn.Dropout, _nn.Embedding)
LSTM, GRU, MultiHeadAttention = _nn.LSTM, _nn.GRU, _nn.MultiHeadAttention
MaxPool2d, AvgPool2d, GlobalAvgPool2d = _nn.MaxPool2d, _nn.AvgPool2d, _nn.GlobalAvgPool2d
ReLU, LeakyReLU, Sigmoid, Tanh, GELU, Softmax, LogSoftmax, Flatten = (_nn.ReLU, _nn.LeakyReLU, _nn.Sigmoid, _nn.Tanh,
                                                                      _nn.GELU, _nn.Softmax, _nn.LogSoftmax,
                                                                      _nn.Flatten)
Sequential = _nn.Sequential
Initializer = _nn.Initializer
# torch's and Keras' other spellings of the same layers.
BatchNorm1d = BatchNorm2d = BatchNorm
MultiheadAttention = MultiHeadAttention


def LazyLinear(out_features, bias=True, weight_init=None, bias_init=None):  # noqa: N802 - torch's name
    """Linear whose in_features comes from its first input."""
    return Linear(None, out_features, bias, weight_init, bias_init)


def Dense(units, use_bias=True, kernel_initializer=None, bias_initializer=None):  # noqa: N802 - Keras' name
    """Keras' Dense: a lazy Linear."""
    return Linear(None, units, use_bias, kernel_initializer, bias_initializer)


manual_seed = init.manual_seed

__all__ = [
    "Adam", "AdamW", "AvgPool2d", "BatchNorm", "BatchNorm1d", "BatchNorm2d", "BuiltinMetric", "Conv2d", "Dense",
    "Dropout", "Embedding", "Flatten", "GELU", "GRU", "GlobalAvgPool2d", "Initializer", "LSTM", "LayerNorm",
    "LazyLinear", "LeakyReLU", "Linear", "LogSoftmax", "MaxPool2d", "MeanMetric", "Module", "ModuleBase",
    "MultiHeadAttention", "MultiheadAttention", "Optimizer", "Parameter", "ReLU", "SGD", "Sequential", "Sigmoid",
    "Softmax", "Tanh", "bce_with_logits_loss", "binary_cross_entropy_with_logits", "cross_entropy",
    "cross_entropy_loss", "export", "export_trainable", "huber_loss", "init", "l1_loss", "manual_seed", "mse_loss",
    "nll_loss",
]
