"""Optimizers over modules' parameters: the C++ nn::Optimizer (training/nn/optimizer.h), which runs
the training module's update (training/optimizer.h: torch.optim's SGD, Adam, AdamW, parameter
groups, schedules, gradient clipping), the same update graph TrainingSession and `onyx train`
run. Hyper-parameters are given as onyx.training's optimizer objects; nothing of the math is
written in Python.

    optimizer = onyx.nn.Adam(model.parameters(), lr=1e-3)      # or model, or named pairs
    with onyx.GradientTape() as tape:
        tape.watch(*model.parameters())
        loss = onyx.nn.mse_loss(model(x), y)
    grads = tape.gradient(loss, model.parameters())
    optimizer.apply_gradients(grads, model.parameters())        # or zip(grads, params); or step(grads)
"""
from onyx import _onyx
from onyx import training as _training
from onyx.nn.module import ModuleBase, Parameter, as_tensor


def _named(params, start=0):
    """(names and parameters, torch-style groups as (names, options)) from what torch.optim takes:
    a module, parameters, (name, parameter) pairs, or dicts {"params": [...], "lr": ...}."""
    if isinstance(params, ModuleBase):
        return params, []  # the C++ optimizer takes the module's trainable parameters itself
    params = list(params)
    if params and all(isinstance(g, dict) for g in params):
        named, groups = [], []
        for group in params:
            members, _ = _named(group["params"], len(named))
            named += members
            groups.append(dict(group, params=[n for n, _ in members]))
        return named, groups
    named = []
    for index, item in enumerate(params):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[1], Parameter):
            named.append((str(item[0]), item[1]))
        elif isinstance(item, Parameter):
            named.append((f"param_{start + index}", item))
        else:
            raise TypeError(f"an optimizer takes onyx.nn.Parameter values (or (name, Parameter) pairs, or a module); "
                            f"item {index} is a {type(item).__name__}")
    return named, []


class Optimizer:
    """nn::Optimizer with `config` one of onyx.training.SGD / Adam / AdamW; schedules as
    onyx.training.TrainingSession takes them ({"lr": onyx.training.StepLR(10, 0.5)})."""

    def __init__(self, params, config=None, *, schedules=None):
        config = config if config is not None else _training.SGD(0.01)
        named, groups = _named(params)
        if groups:
            config.param_groups = [config._group(g) for g in groups]
        self.config = config
        self._native = _onyx.nn.Optimizer(named, config._options(_training._schedules(schedules)))
        # The C++ optimizer holds the parameters' addresses: their Python objects (and the
        # modules behind them) stay alive with it.
        self._owner = named if isinstance(named, ModuleBase) else None
        self._params = self._native.parameters() if self._owner is not None else [p for _, p in named]

    @property
    def names(self):
        return list(self._native.names)

    def parameters(self):
        return list(self._params)

    def tensors(self):
        """The parameters' current tensors, in order (what a tape watches)."""
        return self._native.tensors()

    def apply_gradients(self, grads, params=None):
        """One update. grads: the gradients of parameters() in order; with `params`, of those
        parameters (any order, each once); or Keras' (gradient, parameter) pairs."""
        grads = list(grads)
        if params is None and grads and isinstance(grads[0], tuple):
            grads, params = [g for g, _ in grads], [p for _, p in grads]
        grads = [as_tensor(g) for g in grads]
        self._native.apply_gradients(grads, None if params is None else list(params))

    def step(self, grads):
        """apply_gradients(grads) for the parameters in order (torch's step, gradients given)."""
        self.apply_gradients(grads)

    @property
    def step_count(self):
        return self._native.step_count

    def learning_rate(self, group=0):
        """The learning rate the next update uses (the schedule applied)."""
        return self._native.learning_rate(group)

    @property
    def lr(self):
        return self.learning_rate()

    def set_learning_rate(self, lr):
        self._native.set_learning_rate(float(lr))

    def hyperparameter(self, name, group=0):
        return self._native.hyperparameter(name, group)

    def set_hyperparameter(self, name, value, group=None):
        self._native.set_hyperparameter(name, float(value), group)

    @property
    def last_gradient_norm(self):
        """The gradients' global norm before clipping at the last update (max_grad_norm set)."""
        return self._native.last_gradient_norm

    def state(self):
        """Optimizer state tensors by name ("exp_avg/<param>", ...)."""
        return self._native.state()

    def __repr__(self):
        return f"onyx.nn.Optimizer({self.config!r}, {len(self._params)} parameters)"


class SGD(Optimizer):
    """torch.optim.SGD."""

    def __init__(self, params, lr=0.01, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 maximize=False, *, max_grad_norm=None, schedules=None):
        super().__init__(params, _training.SGD(lr, momentum, dampening, weight_decay, nesterov, maximize,
                                               max_grad_norm=max_grad_norm), schedules=schedules)


class Adam(Optimizer):
    """torch.optim.Adam."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0, amsgrad=False,
                 maximize=False, *, max_grad_norm=None, schedules=None):
        super().__init__(params, _training.Adam(lr, betas, eps, weight_decay, amsgrad, maximize,
                                                max_grad_norm=max_grad_norm), schedules=schedules)


class AdamW(Optimizer):
    """torch.optim.AdamW (decoupled weight decay, default 0.01)."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False,
                 maximize=False, *, max_grad_norm=None, schedules=None):
        super().__init__(params, _training.AdamW(lr, betas, eps, weight_decay, amsgrad, maximize,
                                                 max_grad_norm=max_grad_norm), schedules=schedules)
