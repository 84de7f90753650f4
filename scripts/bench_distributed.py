#!/usr/bin/env python3
"""Data-parallel scaling of `onyx train`: the same training (same global batch) as 1 process and
under `mpirun -np 2`, on the shipped Fashion-MNIST MLP and CNN with random data. Prints, per
model and world size, the step time, samples/s, and bytes all-reduced per step (as the CLI
measures them), for docs/distributed.md.

    .venv/bin/python scripts/bench_distributed.py [--samples 8192] [--batch 64] [--ranks 1,2]

Each rank runs one intra-op thread (--threads 1), so 2 ranks use the 2 cores one process
would leave idle; compare with 1 process at --threads 1 (the same work per core) and at
--threads 2 (the same cores)."""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EPOCH = re.compile(r"epoch 1/1 train loss \S+ (?P<seconds>[\d.]+)s (?P<rate>\d+) samples/s"
                   r"(, (?P<bytes>[\d.e+]+) bytes all-reduced per step)?")


def run(onyx, ranks, threads, model, data, batch, out):
    command = [onyx, "train", model, "--data", data, "--label", "label", "--loss", "cross_entropy",
               "--optimizer", "sgd", "--lr", "0.01", "--batch-size", str(batch), "--epochs", "1",
               "--threads", str(threads), "--progress", "none", "--out", out]
    if ranks > 1:
        command = ["mpirun", "--oversubscribe", "--allow-run-as-root", "--bind-to", "core", "-np", str(ranks),
                   *command]
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none")
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{proc.stderr}")
    match = EPOCH.search(proc.stdout)
    rate = int(match.group("rate"))  # the seconds are printed to 0.1 s: the rate is the precise figure
    return 1000.0 * batch / rate, rate, float(match.group("bytes") or 0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=16384)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--onyx", default=os.path.join(ROOT, "build", "onyx"))
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        data = os.path.join(folder, "data.npz")
        np.savez(data, image=rng.random((args.samples, 1, 28, 28), dtype=np.float32),
                 label=rng.integers(0, 10, args.samples).astype(np.int64))
        print(f"{args.samples} samples, global batch {args.batch}, 1 epoch, SGD")
        print(f"{'model':6} {'processes x threads':20} {'step ms':>8} {'samples/s':>10} {'all-reduced B/step':>19}")
        for name in ["mlp", "cnn"]:
            model = os.path.join(ROOT, "models", f"{name}_fashion_untrained.onnx")
            for ranks, threads in [(1, 1), (1, 2), (2, 1)]:
                step_ms, rate, reduced = run(args.onyx, ranks, threads, model, data, args.batch,
                                             os.path.join(folder, "out.onnx"))
                print(f"{name:6} {f'{ranks} x {threads}':20} {step_ms:8.2f} {rate:10d} {reduced:19.0f}")


if __name__ == "__main__":
    main()
