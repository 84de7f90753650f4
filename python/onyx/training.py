"""Training from Python: the C++ TrainingSession (training/training_session.h) on NumPy batches,
with its losses, optimizers (torch.optim's math), schedules, metrics and checkpoints, and the
gradient builder on its own.

    session = onyx.training.TrainingSession(
        "model.onnx", loss="cross_entropy", target="y",
        optimizer=onyx.training.Adam(lr=1e-3), schedules={"lr": onyx.training.CosineAnnealing(1000)},
        metrics=["accuracy"])
    for epoch in range(10):
        for batch in onyx.training.batches({"x": x, "y": y}, batch_size=32, seed=0, epoch=epoch):
            loss = session.train_step(batch)
    print(session.evaluate(onyx.training.batches({"x": x_val, "y": y_val}, 256, shuffle=False)))
    session.export_inference_model("trained.onnx")

`batches` visits samples in the order `onyx train --seed S` does, so a Python loop and the CLI
make the same steps.
"""
import os
from dataclasses import dataclass, field

import numpy as np

from onyx import _onyx

LOSSES = ("mse", "l1", "huber", "cross_entropy", "nll", "bce_with_logits")


# --- optimizers -------------------------------------------------------------------------------

class _Optimizer:
    kind = None

    def __init__(self, defaults, param_groups, max_grad_norm, maximize, fused, **flags):
        self.defaults = {k: float(v) for k, v in defaults.items()}
        self.param_groups = [self._group(g) for g in (param_groups or [])]
        self.max_grad_norm = max_grad_norm
        self.flags = dict(flags, maximize=bool(maximize), fused=bool(fused))

    @staticmethod
    def _group(group):
        """torch's form: {"params": [names], "lr": 0.1, ...}."""
        if "params" not in group:
            raise ValueError(f"a parameter group needs 'params' (a list of initializer names): {group!r}")
        values = {k: float(v) for k, v in group.items() if k != "params"}
        if "betas" in group:
            del values["betas"]
            values["beta1"], values["beta2"] = (float(b) for b in group["betas"])
        return list(group["params"]), values

    def _options(self, schedules):
        return dict(kind=self.kind, defaults=self.defaults, groups=self.param_groups, schedules=schedules,
                    max_grad_norm=self.max_grad_norm, **self.flags)

    def __repr__(self):
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in self.defaults.items())})"


class SGD(_Optimizer):
    """torch.optim.SGD: lr, momentum, dampening, weight_decay, nesterov."""
    kind = "sgd"

    def __init__(self, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False,
                 param_groups=None, max_grad_norm=None, fused=True):
        super().__init__(dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay),
                         param_groups, max_grad_norm, maximize, fused, nesterov=bool(nesterov))


class Adam(_Optimizer):
    """torch.optim.Adam: lr, betas, eps, weight_decay (L2, added to the gradient), amsgrad."""
    kind = "adam"

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False, maximize=False,
                 param_groups=None, max_grad_norm=None, fused=True):
        super().__init__(dict(lr=lr, beta1=betas[0], beta2=betas[1], eps=eps, weight_decay=weight_decay),
                         param_groups, max_grad_norm, maximize, fused, amsgrad=bool(amsgrad))


class AdamW(Adam):
    """torch.optim.AdamW: Adam with decoupled weight decay (default 0.01)."""
    kind = "adamw"

    def __init__(self, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, maximize=False,
                 param_groups=None, max_grad_norm=None, fused=True):
        super().__init__(lr, betas, eps, weight_decay, amsgrad, maximize, param_groups, max_grad_norm, fused)


# --- schedules: the C++ schedules (training/schedules.h), named by their spec -----------------

class Schedule:
    def __init__(self, spec):
        self.spec = spec

    def __repr__(self):
        return f"Schedule({self.spec!r})"


def StepLR(step_size, gamma):  # noqa: N802 - torch's names
    """base * gamma^(step // step_size) (torch.optim.lr_scheduler.StepLR)."""
    return Schedule(f"step:{int(step_size)}:{float(gamma)!r}")


def CosineAnnealing(total_steps, min_value=0.0):  # noqa: N802
    """CosineAnnealingLR's closed form over total_steps."""
    return Schedule(f"cosine:{int(total_steps)}:{float(min_value)!r}")


def LinearLR(start_factor, end_factor, steps):  # noqa: N802
    """base * (start + (end - start) min(step, steps) / steps) (torch's LinearLR)."""
    return Schedule(f"linear:{float(start_factor)!r}:{float(end_factor)!r}:{int(steps)}")


def Warmup(steps, start_factor=0.0):  # noqa: N802
    """Linear warmup from start_factor * base to base over `steps`."""
    return Schedule(f"warmup:{int(steps)}:{float(start_factor)!r}")


def Sequential(*schedules):  # noqa: N802
    """Each schedule runs for its own steps, then the next (torch's SequentialLR)."""
    return Schedule(",".join(s.spec for s in schedules))


def _schedules(schedules):
    """{"lr": Schedule} or {("lr", group): Schedule} -> (hyper-parameter, spec, group)."""
    listed = []
    for key, schedule in (schedules or {}).items():
        name, group = key if isinstance(key, tuple) else (key, None)
        spec = schedule.spec if isinstance(schedule, Schedule) else str(schedule)
        listed.append((name, spec, group))
    return listed


# --- losses and metrics -----------------------------------------------------------------------

def _model_argument(model):
    if isinstance(model, (bytes, bytearray)):
        return bytes(model)
    if hasattr(model, "SerializeToString"):  # an onnx.ModelProto
        return model.SerializeToString()
    return os.fspath(model)


@dataclass
class Loss:
    """A built-in loss (PyTorch's semantics): kind is one of LOSSES."""
    kind: str
    prediction: str = ""       # the forward output it reads (default: the first)
    target: str = "target"     # the graph input it adds for the targets
    reduction: str = "mean"
    ignore_index: int = None
    class_weights: np.ndarray = None
    label_smoothing: float = 0.0
    huber_delta: float = 1.0

    def options(self):
        if self.kind not in LOSSES:
            raise _onyx.InvalidArgument(f"unknown loss {self.kind!r}; the losses are {', '.join(LOSSES)}")
        return dict(self.__dict__)


@dataclass
class UserGraph:
    """A loss or metric given as an ONNX model; its inputs bind to the forward values of the same
    name, or as `bindings` says ({graph input: forward value}); the others become batch inputs."""
    model: object
    name: str = ""
    bindings: dict = field(default_factory=dict)

    def options(self):
        return dict(model=_model_argument(self.model), name=self.name, bindings=dict(self.bindings))


def _loss_options(loss, target, prediction):
    if loss is None:
        return None
    if isinstance(loss, str):
        loss = Loss(loss, target=target or "target", prediction=prediction or "")
    return loss.options()


# --- the session ------------------------------------------------------------------------------

@dataclass
class EvalResult:
    loss: float
    metrics: dict
    outputs: dict
    batch_size: int


class TrainingSession:
    """Trains a forward ONNX model (a path, bytes or an onnx.ModelProto).

    loss: a LOSSES name or a Loss; or loss_graph (a UserGraph), or loss_output (an output the model
    computes). target / prediction: the target input and prediction output of a named loss.
    optimizer: SGD, Adam or AdamW. schedules: {"lr": StepLR(...)} (any hyper-parameter; a
    (name, group) key for one group). metrics: "accuracy", "top5_accuracy", "mae", "mse", or
    UserGraphs in metric_graphs. trainable / frozen: initializer names or patterns ("*.bias").
    seed: dropout masks and checkpointed random state.
    """

    def __init__(self, model, loss=None, *, target=None, prediction=None, loss_graph=None, loss_output="",
                 optimizer=None, schedules=None, metrics=(), metric_graphs=(), metric_prediction="",
                 metric_target="", trainable=(), frozen=(), seed=0, intra_op_num_threads=0):
        optimizer = optimizer if optimizer is not None else SGD(0.01)
        metric_names = [m for m in metrics]
        options = dict(loss=_loss_options(loss, target, prediction),
                       loss_graph=loss_graph.options() if loss_graph is not None else None,
                       loss_output=loss_output, trainable=list(trainable), frozen=list(frozen),
                       optimizer=optimizer._options(_schedules(schedules)), metrics=metric_names,
                       metric_graphs=[g.options() for g in metric_graphs], metric_prediction=metric_prediction,
                       metric_target=metric_target, seed=int(seed), threads=int(intra_op_num_threads))
        self._native = _onyx.TrainingSession(_model_argument(model), options)

    # --- steps
    def train_step(self, batch):
        """One optimizer step on one batch (a dict of input name to array): zero_grad, backward,
        optimizer_step. Returns the batch loss before the update."""
        return self._native.train_step(batch)

    def eval_step(self, batch):
        """Loss, metrics and outputs in eval mode; parameters are untouched."""
        return EvalResult(*self._native.eval_step(batch))

    def fit(self, batches):
        """train_step over an iterable of batches; returns the losses."""
        return [self.train_step(batch) for batch in batches]

    def evaluate(self, batches):
        """The sample-weighted mean loss and metrics over an iterable of batches."""
        totals, count = {}, 0
        for batch in batches:
            result = self.eval_step(batch)
            for name, value in [("loss", result.loss)] + list(result.metrics.items()):
                totals[name] = totals.get(name, 0.0) + value * result.batch_size
            count += result.batch_size
        return {name: value / count for name, value in totals.items()} if count else {}

    # --- a custom loop
    def forward(self, batch):
        return self._native.forward(batch)

    def compute_loss(self, batch):
        return self._native.compute_loss(batch)

    def backward(self, batch):
        """Forward, loss and gradients; the gradients add to gradients() (like torch's .grad)."""
        return self._native.backward(batch)

    def zero_grad(self):
        self._native.zero_grad()

    def optimizer_step(self):
        self._native.optimizer_step()

    @property
    def gradients(self):
        return self._native.gradients()

    # --- state
    @property
    def parameters(self):
        """The trainable parameters by name (NumPy copies)."""
        return self._native.parameters()

    @property
    def buffers(self):
        """Running statistics that training-mode steps update (BatchNormalization)."""
        return self._native.buffers()

    def set_parameter(self, name, value):
        self._native.set_parameter(name, value)

    @property
    def trainable_names(self):
        return self._native.trainable_names()

    @property
    def target_inputs(self):
        return self._native.target_inputs()

    @property
    def optimizer_state(self):
        return self._native.optimizer_state()

    @property
    def step(self):
        """Optimizer updates made so far."""
        return self._native.step()

    def learning_rate(self, group=0):
        """The learning rate the next update uses (the schedule applied)."""
        return self._native.learning_rate(group)

    def set_learning_rate(self, lr, group=None):
        self._native.set_learning_rate(lr, group)

    def hyperparameter(self, name, group=0):
        return self._native.hyperparameter(name, group)

    def set_hyperparameter(self, name, value, group=None):
        self._native.set_hyperparameter(name, value, group)

    @property
    def last_gradient_norm(self):
        """The gradients' global norm before clipping at the last update (max_grad_norm set)."""
        return self._native.last_gradient_norm()

    def train(self):
        self._native.train()

    def eval(self):
        self._native.eval()

    @property
    def is_training(self):
        return self._native.is_training()

    # --- models and checkpoints
    def inference_model(self):
        """The forward model with the current parameters, as serialized ONNX."""
        return self._native.inference_model_bytes()

    def export_inference_model(self, path):
        self._native.export_inference_model(os.fspath(path))

    def gradient_model(self):
        """The gradient graph (forward + loss + backward) of the current mode, as serialized ONNX."""
        return self._native.gradient_model_bytes()

    def save_checkpoint(self, path):
        """Parameters, optimizer state, step, hyper-parameters and random state, written atomically."""
        self._native.save_checkpoint(os.fspath(path))

    def load_checkpoint(self, path):
        self._native.load_checkpoint(os.fspath(path))


# --- the gradient builder and data ------------------------------------------------------------

@dataclass
class GradientModel:
    """A model computing the loss and dLoss/d(each trainable value); runnable by
    onyx.InferenceSession (and onnxruntime where it has the ops)."""
    model: bytes
    gradients: dict      # trainable value -> the output holding its gradient
    state_updates: dict  # running statistic -> the output holding its new value
    targets: list        # inputs a built-in loss added
    loss: str            # the loss output

    def save(self, path):
        """Writes the model atomically (a temporary file renamed into place)."""
        path = os.fspath(path)
        temporary = f"{path}.tmp{os.getpid()}"
        with open(temporary, "wb") as out:
            out.write(self.model)
        os.replace(temporary, path)


def build_gradient_model(model, loss=None, *, loss_output="", target=None, prediction=None, trainable=(),
                         frozen=(), training_mode=True):
    """The gradient model of `model` for a built-in loss (a LOSSES name or Loss, appended first) or
    for `loss_output`, a scalar the model computes."""
    built = _onyx.build_gradient_model(_model_argument(model), _loss_options(loss, target, prediction), loss_output,
                                       list(trainable), list(frozen), bool(training_mode))
    model_bytes, gradients, state_updates, targets, loss_name = built
    return GradientModel(model_bytes, dict(gradients), dict(state_updates), list(targets), loss_name)


def epoch_order(size, seed=0, epoch=0):
    """The sample order of `epoch` (0-based) under `seed`, as `onyx train --seed` uses."""
    return np.asarray(_onyx.epoch_order(int(size), int(seed), int(epoch)), dtype=np.int64)


def batches(arrays, batch_size, *, seed=0, epoch=0, shuffle=True):
    """Yields dicts of `batch_size` rows (the last may be smaller) of each array in `arrays`,
    shuffled as `onyx train --seed SEED` shuffles epoch `epoch`, or in order."""
    sizes = {name: len(array) for name, array in arrays.items()}
    if len(set(sizes.values())) > 1:
        raise _onyx.InvalidArgument(f"batches: the arrays differ in length: {sizes}")
    size = next(iter(sizes.values()), 0)
    order = epoch_order(size, seed, epoch) if shuffle else np.arange(size)
    arrays = {name: np.asarray(array) for name, array in arrays.items()}
    for begin in range(0, size, batch_size):
        rows = order[begin:begin + batch_size]
        yield {name: np.ascontiguousarray(array[rows]) for name, array in arrays.items()}


def latest_checkpoint(directory):
    """The checkpoint of the highest step in `directory` (checkpoint-<step>.onnx), or None."""
    return _onyx.latest_checkpoint(os.fspath(directory))
