#!/usr/bin/python3
"""Times a training step of the same model with the same data, batch, optimizer and thread count
in onyx (`onyx train`) and in PyTorch (Debian's python3-torch), and prints a table: the time per
step of each and the ratio onyx/torch (below 1: onyx is faster), per model and thread count.

Both sides start from the same weights (the model is exported from PyTorch) and do the same work
per step: gather a shuffled batch, forward, cross-entropy loss, backward, optimizer update; both
run the given number of intra-op threads (onyx --threads, torch.set_num_threads). The first
epoch is warm-up; the later epochs are timed (onyx's from its --log rows, torch's with
time.perf_counter). For each model and thread count onyx and torch take turns --repeats times
and the fastest turn of each counts, so a machine shared with other work disturbs both alike.

  /usr/bin/python3 scripts/bench_train_vs_torch.py [--models mlp cnn] [--threads 1 2]
      [--batch-size 64] [--optimizer adam] [--epochs 3] [--samples 60000] [--repeats 3]
"""
import argparse
import copy
import gzip
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "models"))
import make_train_models  # noqa: E402

FASHION = "/usr/share/datasets/fashion-mnist"


def load_data(samples):
    """Fashion-MNIST's training images when installed, else seeded random images."""
    images_path = os.path.join(FASHION, "train-images-idx3-ubyte.gz")
    if os.path.exists(images_path):
        with gzip.open(images_path) as f:
            images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
        with gzip.open(os.path.join(FASHION, "train-labels-idx1-ubyte.gz")) as f:
            labels = np.frombuffer(f.read(), np.uint8, offset=8)
    else:
        rng = np.random.default_rng(0)
        images = rng.integers(0, 256, (samples, 1, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, samples, dtype=np.uint8)
    return (images[:samples].astype(np.float32) / 255.0), labels[:samples].astype(np.int64)


def make_optimizer(name, params, lr):
    return {"sgd": lambda: torch.optim.SGD(params, lr=lr),
            "momentum": lambda: torch.optim.SGD(params, lr=lr, momentum=0.9),
            "adam": lambda: torch.optim.Adam(params, lr=lr),
            "adamw": lambda: torch.optim.AdamW(params, lr=lr)}[name]()


def torch_seconds_per_step(model, images, labels, args):
    torch.set_num_threads(args.threads)
    x, y = torch.from_numpy(images), torch.from_numpy(labels)
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr)
    model.train()
    generator = torch.Generator().manual_seed(0)
    per_epoch = []
    for _ in range(args.epochs):
        start = time.perf_counter()
        order = torch.randperm(len(x), generator=generator)
        steps = 0
        for begin in range(0, len(x), args.batch_size):
            index = order[begin:begin + args.batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x[index]), y[index])
            loss.backward()
            optimizer.step()
            steps += 1
        per_epoch.append((time.perf_counter() - start) / steps)
    return per_epoch


def onyx_seconds_per_step(model_path, data_path, steps, args, work):
    log = os.path.join(work, "log.jsonl")
    if os.path.exists(log):
        os.remove(log)
    command = [args.onyx, "train", model_path, "--data", data_path, "--label", "label", "--loss", "cross_entropy",
               "--optimizer", args.optimizer, "--lr", str(args.lr), "--epochs", str(args.epochs),
               "--batch-size", str(args.batch_size), "--threads", str(args.threads), "--metrics", "none",
               "--progress", "none", "--log", log, "--out", os.path.join(work, "trained.onnx")]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    with open(log) as f:
        return [json.loads(line)["seconds"] / steps for line in f]


def onyx_revision():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def compare(model_name, threads, images, labels, args, work):
    """Best-of-repeats seconds per step of onyx and torch for one model and thread count."""
    steps = (len(images) + args.batch_size - 1) // args.batch_size
    torch.manual_seed(0)
    model = getattr(make_train_models, model_name)()
    model_path = os.path.join(work, model_name + ".onnx")
    make_train_models.export(model, model_path, quiet=True)
    data_path = os.path.join(work, "train.npz")
    if not os.path.exists(data_path):
        np.savez(data_path, image=images, label=labels)
    run = argparse.Namespace(**{**vars(args), "threads": threads})
    onyx_turns, torch_turns = [], []
    for _ in range(max(1, args.repeats)):
        onyx_turns.append(np.mean(onyx_seconds_per_step(model_path, data_path, steps, run, work)[1:]))
        torch_turns.append(np.mean(torch_seconds_per_step(copy.deepcopy(model), images, labels, run)[1:]))
    return float(min(onyx_turns)), float(min(torch_turns))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", choices=["mlp", "cnn"], default=["mlp", "cnn"])
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2])
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--optimizer", choices=["sgd", "momentum", "adam", "adamw"], default="adam")
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--epochs", type=int, default=3, help="the first is warm-up (at least 2)")
    parser.add_argument("--samples", type=int, default=60000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--onyx", default=os.environ.get("ONYX_BIN", os.path.join(ROOT, "build", "onyx")))
    args = parser.parse_args()
    args.epochs = max(2, args.epochs)

    images, labels = load_data(args.samples)
    steps = (len(images) + args.batch_size - 1) // args.batch_size
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for model_name in args.models:
            for threads in args.threads:
                onyx_step, torch_step = compare(model_name, threads, images, labels, args, work)
                rows.append((model_name, threads, onyx_step, torch_step))
                print(f"  {model_name} {threads} thread(s): onyx {onyx_step * 1e3:.3f} ms, torch {torch_step * 1e3:.3f} ms",
                      file=sys.stderr, flush=True)
    print(f"{time.strftime('%Y-%m-%d %H:%M %Z')}  onyx {onyx_revision()}  torch {torch.__version__}")
    print(f"batch {args.batch_size}, {args.optimizer} (lr {args.lr}), cross-entropy, {len(images)} samples, {steps} steps "
          f"per epoch, epochs 2-{args.epochs} timed, best of {max(1, args.repeats)} alternating turns")
    print(f"{'model':<6} {'threads':>7} {'onyx ms/step':>13} {'torch ms/step':>14} {'onyx/torch':>11}")
    for model_name, threads, onyx_step, torch_step in rows:
        print(f"{model_name:<6} {threads:>7} {onyx_step * 1e3:>13.3f} {torch_step * 1e3:>14.3f} {onyx_step / torch_step:>11.2f}")
    print("onyx/torch below 1: onyx is faster")


if __name__ == "__main__":
    main()
