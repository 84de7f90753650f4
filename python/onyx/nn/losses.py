"""Losses and metrics called eagerly (training/nn/losses.h, metrics.h): each loss runs the graph
`onyx train --loss` appends (PyTorch's semantics), so it is differentiable on a GradientTape and
traces inside onyx.function. Metrics accumulate over batches (Keras' update_state / result /
reset); a MeanMetric of a Python per-batch function also exports as a graph that
`onyx train --metric-graph NAME=FILE` evaluates.
"""
import os

from onyx import _onyx
from onyx.nn.module import as_tensor

_nn = _onyx.nn


def mse_loss(prediction, target, reduction="mean"):
    return _nn.mse_loss(as_tensor(prediction), as_tensor(target), reduction)


def l1_loss(prediction, target, reduction="mean"):
    return _nn.l1_loss(as_tensor(prediction), as_tensor(target), reduction)


def huber_loss(prediction, target, delta=1.0, reduction="mean"):
    return _nn.huber_loss(as_tensor(prediction), as_tensor(target), float(delta), reduction)


def bce_with_logits_loss(logits, target, reduction="mean"):
    return _nn.bce_with_logits_loss(as_tensor(logits), as_tensor(target), reduction)


def cross_entropy(logits, labels, reduction="mean", ignore_index=None, weight=None, label_smoothing=0.0):
    """logits [batch, classes, ...] against int64 class indices [batch, ...]."""
    return _nn.cross_entropy_loss(as_tensor(logits), as_tensor(labels), reduction, ignore_index, weight,
                                  float(label_smoothing))


def nll_loss(log_probabilities, labels, reduction="mean", ignore_index=None, weight=None):
    return _nn.nll_loss(as_tensor(log_probabilities), as_tensor(labels), reduction, ignore_index, weight)


cross_entropy_loss = cross_entropy
binary_cross_entropy_with_logits = bce_with_logits_loss


class _TensorArguments:
    def update_state(self, prediction, target):
        super().update_state(as_tensor(prediction), as_tensor(target))

    def __repr__(self):
        return f"{type(self).__name__}({self.name!r})"


class MeanMetric(_TensorArguments, _nn.MeanMetric):
    """The sample-weighted mean of batch_value(prediction, target), a function of onyx tensors
    returning one number (the batch is dim 0 of the prediction)."""

    def export_graph(self, prediction_example, target_example):
        """The batch value traced as ONNX bytes: inputs "prediction", "target" (dim 0 any size),
        one scalar output "value"."""
        return super().export_graph(as_tensor(prediction_example), as_tensor(target_example))

    def save_graph(self, prediction_example, target_example, path):
        """Writes export_graph's model atomically, for `onyx train --metric-graph NAME=PATH`."""
        super().save_graph(as_tensor(prediction_example), as_tensor(target_example), os.fspath(path))


class BuiltinMetric(_TensorArguments, _nn.BuiltinMetric):
    """One of `onyx train --metric`'s metrics by name: "accuracy", "top5_accuracy", "mae", "mse"."""
