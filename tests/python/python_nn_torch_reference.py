#!/usr/bin/python3
"""The PyTorch side of tests/python/test_python_nn_torch.py, run with Debian's python3-torch
($ONYX_TORCH_PYTHON; the venv has no torch): torch.nn layers with torch's own initial weights,
their inputs and outputs, and torch.optim runs, as .npz files that onyx.nn must reproduce.

  layers DIR        DIR/<case>.npz: "sd/<name>" (the state dict), "in/<k>", "out/<k>"
  train KIND DIR    DIR/train_<kind>.npz: "init/<name>", "x", "y", "<optimizer>/<name>" after
                    STEPS steps of SGD (momentum) and of Adam, "<optimizer>_losses"
"""
import sys

import numpy as np
import torch

STEPS = 3
nn = torch.nn


def save(path, module=None, inputs=(), outputs=(), **extra):
    arrays = {}
    if module is not None:
        arrays.update({f"sd/{k}": v.detach().numpy() for k, v in module.state_dict().items()
                       if k != "num_batches_tracked"})
    arrays.update({f"in/{i}": np.asarray(x) for i, x in enumerate(inputs)})
    arrays.update({f"out/{i}": y.detach().numpy() for i, y in enumerate(outputs)})
    arrays.update({k: (v.detach().numpy() if isinstance(v, torch.Tensor) else v) for k, v in extra.items()})
    np.savez(path, **arrays)


def randn(*shape):
    return torch.randn(*shape)


def layers(folder):
    torch.manual_seed(0)
    x = randn(4, 5)
    m = nn.Linear(5, 3)
    save(f"{folder}/linear.npz", m, [x], [m(x)])

    x = randn(2, 3, 7, 7)
    m = nn.Conv2d(3, 4, 3, stride=2, padding=1)
    save(f"{folder}/conv.npz", m, [x], [m(x)])
    x = randn(1, 4, 8, 8)
    m = nn.Conv2d(4, 6, (3, 2), padding=(2, 1), dilation=2, groups=2, bias=False)
    save(f"{folder}/conv_groups.npz", m, [x], [m(x)])

    # BatchNorm: a training-mode call (batch statistics; running statistics updated), then eval.
    for name, m, shape in (("batchnorm2d", nn.BatchNorm2d(3, momentum=0.2), (4, 3, 5, 5)),
                           ("batchnorm1d", nn.BatchNorm1d(4), (6, 4))):
        with torch.no_grad():
            m.weight.uniform_(0.5, 1.5)
            m.bias.uniform_(-0.5, 0.5)
        initial = {f"sd/{k}": v.clone().numpy() for k, v in m.state_dict().items() if k != "num_batches_tracked"}
        x, x2 = randn(*shape), randn(*shape)
        m.train()
        y_train = m(x)
        m.eval()
        y_eval = m(x2)
        save(f"{folder}/{name}.npz", None, [x, x2], [y_train, y_eval], **initial,
             running_mean=m.running_mean, running_var=m.running_var)

    m = nn.LayerNorm([4, 5])
    with torch.no_grad():
        m.weight.normal_()
        m.bias.normal_()
    x = randn(2, 3, 4, 5)
    save(f"{folder}/layernorm.npz", m, [x], [m(x)])

    m = nn.Embedding(10, 4)
    idx = torch.randint(0, 10, (3, 5))
    save(f"{folder}/embedding.npz", m, [idx.numpy()], [m(idx)])

    x = randn(3, 4, 5)
    m = nn.LSTM(5, 6, num_layers=2, batch_first=True)
    out, (h, c) = m(x)
    save(f"{folder}/lstm.npz", m, [x], [out, h, c])
    m = nn.GRU(5, 6, batch_first=True)
    out, h = m(x)
    save(f"{folder}/gru.npz", m, [x], [out, h])

    m = nn.MultiheadAttention(8, 2, batch_first=True)
    q, kv = randn(2, 3, 8), randn(2, 5, 8)
    mask = torch.zeros(3, 5)
    mask[0, 1] = mask[2, 4] = float("-inf")
    save(f"{folder}/mha.npz", m, [q, kv, mask],
         [m(q, q, q, need_weights=False)[0], m(q, kv, kv, need_weights=False)[0],
          m(q, kv, kv, attn_mask=mask, need_weights=False)[0]])

    x = randn(2, 3, 8, 8)
    x7 = randn(1, 2, 7, 7)
    save(f"{folder}/pooling.npz", None, [x, x7],
         [nn.MaxPool2d(3, stride=2, padding=1)(x), nn.AvgPool2d(2)(x),
          nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False)(x), nn.AdaptiveAvgPool2d(1)(x),
          nn.MaxPool2d(2, ceil_mode=True)(x7)])

    x = randn(3, 4)
    x3 = randn(2, 3, 4)
    save(f"{folder}/activations.npz", None, [x, x3],
         [nn.ReLU()(x), nn.LeakyReLU(0.2)(x), nn.Sigmoid()(x), nn.Tanh()(x), nn.GELU()(x), nn.GELU("tanh")(x),
          nn.Softmax(dim=1)(x), nn.LogSoftmax(dim=0)(x), nn.Flatten()(x3)])

    f = nn.functional
    p, t = randn(4, 3), randn(4, 3)
    logits, labels = randn(5, 4), torch.tensor([0, 3, 1, 1, 2])
    weights = torch.tensor([1.0, 2.0, 0.5, 1.5])
    labels_ignored = torch.tensor([0, 3, -100, 1, 2])
    binary = torch.randint(0, 2, (4, 3)).float()
    save(f"{folder}/losses.npz", None, [p, t, logits, labels.numpy(), weights, labels_ignored.numpy(), binary],
         [f.mse_loss(p, t), f.mse_loss(p, t, reduction="sum"), f.mse_loss(p, t, reduction="none"), f.l1_loss(p, t),
          f.huber_loss(p, t, delta=0.5), f.binary_cross_entropy_with_logits(p, binary),
          f.cross_entropy(logits, labels), f.cross_entropy(logits, labels, weight=weights),
          f.cross_entropy(logits, labels, label_smoothing=0.1),
          f.cross_entropy(logits, labels_ignored, ignore_index=-100),
          f.nll_loss(torch.log_softmax(logits, 1), labels)])


class MLP(nn.Module):
    """The same structure as the Python onyx.nn.Module of the test: fc1, fc2."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(8, 16)
        self.fc2 = nn.Linear(16, 4)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


def train(kind, folder):
    torch.manual_seed(1)
    if kind == "mlp":
        model = MLP()
        x, y = randn(STEPS, 6, 8), torch.randint(0, 4, (STEPS, 6))
    else:
        model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3),
                              nn.Tanh(), nn.Flatten(), nn.Linear(32, 3))
        x, y = randn(STEPS, 5, 1, 8, 8), torch.randint(0, 3, (STEPS, 5))
    init = {k: v.clone() for k, v in model.state_dict().items()}
    arrays = {f"init/{k}": v.numpy() for k, v in init.items()}
    arrays.update(x=x.numpy(), y=y.numpy())
    for name in ("sgd", "adam"):
        model.load_state_dict(init)
        optimizer = (torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9) if name == "sgd"
                     else torch.optim.Adam(model.parameters(), lr=0.01, foreach=False))
        losses = []
        for step in range(STEPS):
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(x[step]), y[step])
            loss.backward()
            optimizer.step()
            losses.append(loss.item())
        # Copies: the next optimizer's run loads the initial weights into these same tensors.
        arrays.update({f"{name}/{k}": v.detach().numpy().copy() for k, v in model.state_dict().items()})
        arrays[f"{name}_losses"] = np.array(losses)
    np.savez(f"{folder}/train_{kind}.npz", **arrays)


if __name__ == "__main__":
    if sys.argv[1] == "layers":
        layers(sys.argv[2])
    else:
        train(sys.argv[2], sys.argv[3])
