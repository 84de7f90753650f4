#!/usr/bin/python3
"""PyTorch reference results for onyx's training tests (run with Debian's python3-torch).

Writes .npy files (and exported .onnx models) under --out: optimizer trajectories, schedule
values, loss values and gradients, metric values, and MLP/CNN loss curves. The C++ tests
(tests/training/) run this once, cached by the script's hash, and compare onyx against it.
Every case's configuration is spelled out here and mirrored by the C++ test of the same name.
"""
import argparse
import os

import numpy as np
import torch

STEPS = 8


def save(out, name, array):
    path = os.path.join(out, name + ".npy")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if isinstance(array, torch.Tensor):
        array = array.detach().numpy()
    np.save(path, np.array(array, order="C"))  # keeps 0-d arrays 0-d


# ---------------------------------------------------------------- optimizers
# name -> (optimizer factory over [W, b], scheduler factory or None, max_grad_norm or None)
def optimizer_cases():
    sgd = torch.optim.SGD
    adam = torch.optim.Adam
    adamw = torch.optim.AdamW
    sched = torch.optim.lr_scheduler
    return {
        "sgd": (lambda p: sgd(p, lr=0.1), None, None),
        "sgd_weight_decay": (lambda p: sgd(p, lr=0.1, weight_decay=0.05), None, None),
        "sgd_momentum_dampening": (lambda p: sgd(p, lr=0.1, momentum=0.9, dampening=0.1), None, None),
        "sgd_nesterov": (lambda p: sgd(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01), None, None),
        "sgd_maximize": (lambda p: sgd(p, lr=0.1, momentum=0.5, maximize=True), None, None),
        "adam": (lambda p: adam(p, lr=0.01, foreach=False), None, None),
        "adam_weight_decay_amsgrad": (lambda p: adam(p, lr=0.01, weight_decay=0.1, amsgrad=True, foreach=False),
                                      None, None),
        "adamw": (lambda p: adamw(p, lr=0.01, weight_decay=0.1, foreach=False), None, None),
        # W and b in separate groups with their own hyper-parameters.
        "sgd_groups": (lambda p: sgd([{"params": [p[0]], "lr": 0.1, "weight_decay": 0.01},
                                      {"params": [p[1]], "lr": 0.01, "momentum": 0.5}], lr=0.05, momentum=0.9),
                       None, None),
        "adamw_groups": (lambda p: adamw([{"params": [p[0]], "lr": 0.02, "weight_decay": 0.0},
                                          {"params": [p[1]], "betas": (0.8, 0.99)}], lr=0.01, weight_decay=0.2,
                                         foreach=False), None, None),
        "sgd_step_schedule": (lambda p: sgd(p, lr=0.5, momentum=0.9), lambda o: sched.StepLR(o, 3, gamma=0.5), None),
        "adam_cosine_schedule": (lambda p: adam(p, lr=0.05, foreach=False),
                                 lambda o: sched.CosineAnnealingLR(o, T_max=6, eta_min=0.001), None),
        "adamw_warmup_schedule": (lambda p: adamw(p, lr=0.05, foreach=False),
                                  lambda o: sched.LinearLR(o, start_factor=0.25, total_iters=4), None),
        "sgd_clip": (lambda p: sgd(p, lr=0.1, momentum=0.9), None, 0.5),
        "adam_clip": (lambda p: adam(p, lr=0.01, foreach=False), None, 2.0),
    }


def optimizer_trajectories(out):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((4, 3)).astype(np.float32)
    b0 = rng.standard_normal((3,)).astype(np.float32)
    grad_w = rng.standard_normal((STEPS, 4, 3)).astype(np.float32)
    grad_b = rng.standard_normal((STEPS, 3)).astype(np.float32)
    save(out, "optim/W0", w0)
    save(out, "optim/b0", b0)
    save(out, "optim/grad_W", grad_w)
    save(out, "optim/grad_b", grad_b)
    for name, (make_optimizer, make_scheduler, max_norm) in optimizer_cases().items():
        w = torch.nn.Parameter(torch.from_numpy(w0.copy()))
        b = torch.nn.Parameter(torch.from_numpy(b0.copy()))
        optimizer = make_optimizer([w, b])
        scheduler = make_scheduler(optimizer) if make_scheduler else None
        traj_w, traj_b, lrs, norms = [], [], [], []
        for t in range(STEPS):
            scale = 3.0 if max_norm else 1.0  # clipping cases get gradients big enough to clip
            w.grad = torch.from_numpy(grad_w[t] * scale)
            b.grad = torch.from_numpy(grad_b[t] * scale)
            if max_norm:
                norms.append(float(torch.nn.utils.clip_grad_norm_([w, b], max_norm)))
            lrs.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            if scheduler:
                scheduler.step()
            traj_w.append(w.detach().numpy().copy())
            traj_b.append(b.detach().numpy().copy())
        save(out, f"optim/{name}/W", np.stack(traj_w))
        save(out, f"optim/{name}/b", np.stack(traj_b))
        save(out, f"optim/{name}/lr", np.array(lrs, dtype=np.float64))
        if norms:
            save(out, f"optim/{name}/grad_norm", np.array(norms, dtype=np.float64))


def schedules(out):
    sched = torch.optim.lr_scheduler
    cases = {
        "step": lambda o: sched.StepLR(o, 4, gamma=0.3),
        "cosine": lambda o: sched.CosineAnnealingLR(o, T_max=10, eta_min=0.01),
        "linear": lambda o: sched.LinearLR(o, start_factor=0.1, end_factor=1.0, total_iters=5),
        "warmup_cosine": lambda o: sched.SequentialLR(
            o, [sched.LinearLR(o, start_factor=0.2, total_iters=3), sched.CosineAnnealingLR(o, T_max=8)],
            milestones=[3]),
    }
    for name, make in cases.items():
        p = torch.nn.Parameter(torch.zeros(1))
        optimizer = torch.optim.SGD([p], lr=0.5)
        scheduler = make(optimizer)
        values = []
        for _ in range(14):
            values.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            scheduler.step()
        save(out, f"schedule/{name}", np.array(values, dtype=np.float64))


# ---------------------------------------------------------------- losses and metrics
def losses(out):
    g = torch.Generator().manual_seed(1)
    regression_x = torch.randn(5, 3, generator=g) * 2
    regression_y = torch.randn(5, 3, generator=g)
    logits = torch.randn(6, 4, generator=g)
    labels = torch.tensor([0, 3, 1, 1, 2, 3])
    logits_3d = torch.randn(2, 4, 3, generator=g)
    labels_3d = torch.tensor([[0, 1, 3], [2, 2, 1]])
    binary_y = (torch.rand(5, 3, generator=g) > 0.5).float()
    save(out, "loss/regression_x", regression_x)
    save(out, "loss/regression_y", regression_y)
    save(out, "loss/logits", logits)
    save(out, "loss/labels", labels)
    save(out, "loss/logits_3d", logits_3d)
    save(out, "loss/labels_3d", labels_3d)
    save(out, "loss/binary_y", binary_y)
    F = torch.nn.functional
    log_probs = F.log_softmax(logits, 1)  # NLL reads log-probabilities
    save(out, "loss/log_probs", log_probs)
    class_weights = torch.tensor([0.5, 2.0, 1.0, 3.0])
    save(out, "loss/class_weights", class_weights)
    for reduction in ("mean", "sum", "none"):
        cases = {
            "mse": (regression_x, regression_y, lambda x, y: F.mse_loss(x, y, reduction=reduction)),
            "l1": (regression_x, regression_y, lambda x, y: F.l1_loss(x, y, reduction=reduction)),
            "huber": (regression_x, regression_y, lambda x, y: F.huber_loss(x, y, reduction=reduction, delta=0.7)),
            "bce_with_logits": (regression_x, binary_y,
                                lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction=reduction)),
            "cross_entropy": (logits, labels, lambda x, y: F.cross_entropy(x, y, reduction=reduction)),
            "cross_entropy_ignore": (logits, labels,
                                     lambda x, y: F.cross_entropy(x, y, reduction=reduction, ignore_index=1)),
            "cross_entropy_3d": (logits_3d, labels_3d, lambda x, y: F.cross_entropy(x, y, reduction=reduction)),
            "cross_entropy_weighted": (logits, labels, lambda x, y: F.cross_entropy(
                x, y, weight=class_weights, reduction=reduction, ignore_index=2)),
            "cross_entropy_smoothing": (logits, labels, lambda x, y: F.cross_entropy(
                x, y, reduction=reduction, label_smoothing=0.2)),
            "cross_entropy_smoothing_ignore_3d": (logits_3d, labels_3d, lambda x, y: F.cross_entropy(
                x, y, reduction=reduction, label_smoothing=0.1, ignore_index=2)),
            "nll_weighted": (log_probs, labels, lambda x, y: F.nll_loss(x, y, weight=class_weights,
                                                                        reduction=reduction)),
            "nll": (log_probs, labels, lambda x, y: F.nll_loss(x, y, reduction=reduction, ignore_index=3)),
        }
        for name, (x, y, fn) in cases.items():
            x = x.clone().requires_grad_(True)
            value = fn(x, y)
            value.sum().backward()
            save(out, f"loss/{name}_{reduction}", value)
            save(out, f"loss/{name}_{reduction}_grad", x.grad)
    # Metrics on the same logits and labels.
    top2 = logits.topk(2, dim=1).indices
    save(out, "metric/accuracy", (logits.argmax(1) == labels).float().mean())
    save(out, "metric/top2_accuracy", (top2 == labels[:, None]).any(1).float().mean())
    save(out, "metric/mae", F.l1_loss(regression_x, regression_y))
    save(out, "metric/mse", F.mse_loss(regression_x, regression_y))


# ---------------------------------------------------------------- models trained end to end
def train_model(out, name, model, make_optimizer, loss_fn, x_shape, classes, steps=10, batch=8, regression=False,
                train_mode=False):
    torch.manual_seed(3)
    g = torch.Generator().manual_seed(4)
    xs = torch.randn(steps, batch, *x_shape, generator=g)
    if regression:
        ys = torch.randn(steps, batch, classes, generator=g) * 0.5
    else:
        ys = torch.randint(0, classes, (steps, batch), generator=g)
    # Exported in eval mode (BatchNormalization with training_mode=0); onyx's gradient graph
    # switches it to batch statistics, as model.train() does here.
    model.eval()
    torch.onnx.export(model, xs[0], os.path.join(out, f"{name}.onnx"), input_names=["input"],
                      output_names=["output"], dynamic_axes={"input": {0: "batch"}, "output": {0: "batch"}},
                      opset_version=14, do_constant_folding=False,
                      training=torch.onnx.TrainingMode.PRESERVE)
    model.train(train_mode)
    optimizer = make_optimizer(model.parameters())
    curve = []
    for t in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(model(xs[t]), ys[t])
        loss.backward()
        optimizer.step()
        curve.append(loss.item())
    save(out, f"{name}/x", xs)
    save(out, f"{name}/y", ys)
    save(out, f"{name}/losses", np.array(curve, dtype=np.float64))
    for param_name, param in model.named_parameters():
        save(out, f"{name}/final/{param_name}", param)
    for buffer_name, buffer in model.named_buffers():
        if buffer.is_floating_point():
            save(out, f"{name}/final_buffer/{buffer_name}", buffer)


class Elementwise(torch.nn.Module):
    """tanh(x * w + b): a model of elementwise ops only."""

    def __init__(self):
        super().__init__()
        self.w = torch.nn.Parameter(torch.randn(5))
        self.b = torch.nn.Parameter(torch.randn(5))

    def forward(self, x):
        return torch.tanh(x * self.w + self.b)


def models(out):
    torch.manual_seed(2)
    train_model(out, "elementwise_adam_mse", Elementwise(), lambda p: torch.optim.Adam(p, lr=0.05, foreach=False),
                torch.nn.functional.mse_loss, (5,), 5, regression=True)
    torch.manual_seed(2)
    mlp = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.ReLU(), torch.nn.Linear(16, 4))
    train_model(out, "mlp_sgd", mlp, lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9),
                torch.nn.functional.cross_entropy, (8,), 4)
    torch.manual_seed(2)
    mlp = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Tanh(), torch.nn.Linear(16, 3))
    train_model(out, "mlp_adamw_mse", mlp, lambda p: torch.optim.AdamW(p, lr=0.01, foreach=False),
                torch.nn.functional.mse_loss, (8,), 3, regression=True)
    torch.manual_seed(2)
    cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.ReLU(), torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                              torch.nn.Linear(4 * 3 * 3, 3))
    train_model(out, "cnn_adam", cnn, lambda p: torch.optim.Adam(p, lr=0.01, foreach=False),
                torch.nn.functional.cross_entropy, (1, 8, 8), 3)


def models_with_batch_norm(out):
    torch.manual_seed(2)
    cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                              torch.nn.Flatten(), torch.nn.Linear(4 * 3 * 3, 3))
    train_model(out, "cnn_batchnorm_sgd", cnn, lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9),
                torch.nn.functional.cross_entropy, (1, 8, 8), 3, train_mode=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(1)
    optimizer_trajectories(args.out)
    schedules(args.out)
    losses(args.out)
    models(args.out)
    models_with_batch_norm(args.out)
    with open(os.path.join(args.out, "done"), "w") as f:
        f.write("ok\n")


if __name__ == "__main__":
    main()
