#!/usr/bin/python3
"""The PyTorch side of tests/python/test_nn_torch.py, run with Debian's python3-torch
($ONYX_TORCH_PYTHON): torch.nn models with torch's own initial weights, the batches, and the
results of torch.nn + torch.optim on them, as .npy files in DIR.

  prepare KIND SEED DIR      init/<name>.npy (torch's initial state dict), x.npy, y.npy
  train KIND OPTIMIZER DIR   torch/first_output.npy, torch/losses.npy, torch/<name>.npy
  forward KIND DIR           torch/trained_output.npy: the forward of batch 0 with onyx/<name>.npy
"""
import os
import sys

import numpy as np
import torch

STEPS = 4


def torch_model(kind):
    nn = torch.nn
    if kind == "mlp":
        return nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    if kind == "cnn":
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(4, 8, 3), nn.Tanh(),
                             nn.Flatten(), nn.Linear(32, 3))
    if kind == "lstm":
        return nn.LSTM(5, 6, batch_first=True)
    if kind == "gru":
        return nn.GRU(5, 6, batch_first=True)
    if kind == "mha":
        return nn.MultiheadAttention(8, 2, batch_first=True)
    raise ValueError(kind)


def forward(kind, model, x):
    if kind in ("lstm", "gru"):
        return model(x)[0]
    if kind == "mha":
        return model(x, x, x, need_weights=False)[0]
    return model(x)


def batches(kind, rng):
    shapes = {"mlp": (6, 8), "cnn": (5, 1, 8, 8), "lstm": (3, 4, 5), "gru": (3, 4, 5), "mha": (2, 3, 8)}
    x = rng.standard_normal((STEPS,) + shapes[kind]).astype(np.float32)
    if kind == "mlp":
        y = rng.integers(0, 4, (STEPS, 6)).astype(np.int64)
    elif kind == "cnn":
        y = rng.integers(0, 3, (STEPS, 5)).astype(np.int64)
    else:
        width = 8 if kind == "mha" else 6
        y = rng.standard_normal((STEPS,) + shapes[kind][:-1] + (width,)).astype(np.float32)
    return x, y


def torch_run(kind, optimizer_name, state, xs, ys):
    model = torch_model(kind)
    model.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in state.items()})
    with torch.no_grad():
        first = forward(kind, model, torch.from_numpy(xs[0])).numpy()
    optimizer = (torch.optim.Adam(model.parameters(), lr=0.01, foreach=False) if optimizer_name == "adam"
                 else torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9))
    loss_fn = torch.nn.CrossEntropyLoss() if kind in ("mlp", "cnn") else torch.nn.MSELoss()
    losses = []
    for step in range(STEPS):
        optimizer.zero_grad()
        loss = loss_fn(forward(kind, model, torch.from_numpy(xs[step])), torch.from_numpy(ys[step]))
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return first, {k: v.detach().numpy() for k, v in model.state_dict().items()}, losses




def load_state(folder):
    return {name[:-4]: np.load(os.path.join(folder, name)) for name in os.listdir(folder)}


def main():
    mode, kind = sys.argv[1], sys.argv[2]
    folder = sys.argv[-1]
    os.makedirs(os.path.join(folder, "torch"), exist_ok=True)
    if mode == "prepare":
        seed = int(sys.argv[3])
        torch.manual_seed(seed)
        os.makedirs(os.path.join(folder, "init"), exist_ok=True)
        for name, value in torch_model(kind).state_dict().items():
            np.save(os.path.join(folder, "init", f"{name}.npy"), value.detach().numpy())
        xs, ys = batches(kind, np.random.default_rng(seed))
        np.save(os.path.join(folder, "x.npy"), xs)
        np.save(os.path.join(folder, "y.npy"), ys)
    elif mode == "train":
        state = load_state(os.path.join(folder, "init"))
        xs, ys = np.load(os.path.join(folder, "x.npy")), np.load(os.path.join(folder, "y.npy"))
        first, trained, losses = torch_run(kind, sys.argv[3], state, xs, ys)
        np.save(os.path.join(folder, "torch", "first_output.npy"), first)
        np.save(os.path.join(folder, "torch", "losses.npy"), np.array(losses))
        for name, value in trained.items():
            np.save(os.path.join(folder, "torch", f"{name}.npy"), value)
    elif mode == "forward":
        model = torch_model(kind)
        model.load_state_dict({k: torch.from_numpy(v) for k, v in load_state(os.path.join(folder, "onyx")).items()})
        model.eval()
        with torch.no_grad():
            out = forward(kind, model, torch.from_numpy(np.load(os.path.join(folder, "x.npy"))[0])).numpy()
        np.save(os.path.join(folder, "torch", "trained_output.npy"), out)


if __name__ == "__main__":
    main()
