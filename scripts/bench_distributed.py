#!/usr/bin/env python3
"""Data-parallel scaling of `onyx train`: the same training (same global batch) as 1 process and
under `mpirun -np 2`, on the shipped Fashion-MNIST MLP and CNN with random data. Prints, per
model and configuration, the step time, samples/s, and bytes all-reduced per step (as the CLI
measures them), for docs/distributed.md.

    .venv/bin/python scripts/bench_distributed.py [--samples 16384] [--batch 64] [--repeat 3]
        [--small-bucket-mb 0.1] [--baseline-onyx OTHER/build/onyx]

Each rank runs one intra-op thread (--threads 1), so 2 ranks use the 2 cores one process
would leave idle; compare with 1 process at --threads 1 (the same work per core) and at
--threads 2 (the same cores). The 2-rank runs come with the gradient all-reduces started after
the backward pass (--no-gradient-overlap) and during it (the default), with the default 25 MiB
buckets (these models' gradients fit in one, which can only start at the end) and with small
ones (--small-bucket-mb), whose first buckets start while the backward pass goes on.
--baseline-onyx adds 2-rank runs of another build (e.g. one from before the overlap).

The configurations run in turn, --repeat times over (alternating, so that load from other work
on the machine spreads over all of them); the table gives the median and the fastest run, and
the median of what the CLI reports as the optimizer step's wait for the gradients' all-reduces
(packing what the backward pass did not start, waiting, unpacking: what the overlap leaves)."""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EPOCH = re.compile(r"epoch 1/1 train loss \S+ (?P<seconds>[\d.]+)s (?P<rate>\d+) samples/s"
                   r"(, (?P<bytes>[\d.e+]+) bytes all-reduced per step( \((?P<wait>[\d.]+) ms per step)?)?")
BUCKETS = re.compile(r"in (?P<buckets>\d+) bucket\(s\)")


def run(onyx, ranks, threads, extra, model, data, batch, out, env_extra):
    command = [onyx, "train", model, "--data", data, "--label", "label", "--loss", "cross_entropy",
               "--optimizer", "sgd", "--lr", "0.01", "--batch-size", str(batch), "--epochs", "1",
               "--threads", str(threads), "--progress", "none", "--out", out, *extra]
    if ranks > 1:
        command = ["mpirun", "--oversubscribe", "--allow-run-as-root", "--bind-to", "core", "-np", str(ranks),
                   *command]
    env = dict(os.environ, OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
               OMPI_MCA_btl_vader_single_copy_mechanism="none", **env_extra)
    if os.path.dirname(onyx) != os.path.join(ROOT, "build"):
        # Another build: its own libonyx_core.so (the binary's run path names its build folder).
        env["LD_LIBRARY_PATH"] = os.path.dirname(os.path.abspath(onyx))
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(command)}\n{proc.stderr}")
    match = EPOCH.search(proc.stdout)
    rate = int(match.group("rate"))  # the seconds are printed to 0.1 s: the rate is the precise figure
    buckets = BUCKETS.search(proc.stdout)
    wait = float(match.group("wait")) if match.group("wait") else None
    return (1000.0 * batch / rate, float(match.group("bytes") or 0), int(buckets.group("buckets")) if buckets else 0,
            wait)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=16384)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--small-bucket-mb", default="0.1")
    parser.add_argument("--onyx", default=os.path.join(ROOT, "build", "onyx"))
    parser.add_argument("--baseline-onyx", help="another build's onyx, run as 2 ranks with its defaults")
    parser.add_argument("--models", default="mlp,cnn")
    args = parser.parse_args()
    small = ["--gradient-bucket-mb", args.small_bucket_mb]
    configs = [("1 x 1", 1, 1, args.onyx, [], {}), ("1 x 2", 1, 2, args.onyx, [], {})]
    if args.baseline_onyx:
        configs.append(("2 x 1 baseline build", 2, 1, args.baseline_onyx, [], {}))
    configs += [("2 x 1 after backward", 2, 1, args.onyx, ["--no-gradient-overlap"], {}),
                ("2 x 1 overlapped", 2, 1, args.onyx, [], {}),
                (f"2 x 1 after, {args.small_bucket_mb} MiB", 2, 1, args.onyx, small + ["--no-gradient-overlap"], {}),
                (f"2 x 1 overlap, {args.small_bucket_mb} MiB", 2, 1, args.onyx, small, {}),
                # Progress only between backward nodes and in the waits (no MPI progress thread).
                ("  same, no progress thread", 2, 1, args.onyx, small, {"ONYX_MPI_PROGRESS_US": "0"})]
    rng = np.random.default_rng(0)
    with tempfile.TemporaryDirectory() as folder:
        data = os.path.join(folder, "data.npz")
        np.savez(data, image=rng.random((args.samples, 1, 28, 28), dtype=np.float32),
                 label=rng.integers(0, 10, args.samples).astype(np.int64))
        print(f"{args.samples} samples, global batch {args.batch}, 1 epoch, SGD; {args.repeat} alternating runs each")
        print(f"{'model':6} {'processes x threads':28} {'step ms (median)':>16} {'fastest':>8} {'samples/s':>10} "
              f"{'buckets':>7} {'all-reduced B/step':>19} {'step wait ms':>12}")
        for name in args.models.split(","):
            model = os.path.join(ROOT, "models", f"{name}_fashion_untrained.onnx")
            times = {label: [] for label, *_ in configs}
            waits = {label: [] for label, *_ in configs}
            facts = {}
            for _ in range(args.repeat):
                for label, ranks, threads, onyx, extra, env in configs:
                    step_ms, reduced, buckets, wait = run(onyx, ranks, threads, extra, model, data, args.batch,
                                                          os.path.join(folder, "out.onnx"), env)
                    times[label].append(step_ms)
                    if wait is not None:
                        waits[label].append(wait)
                    facts[label] = (reduced, buckets)
            for label, *_ in configs:
                median = statistics.median(times[label])
                reduced, buckets = facts[label]
                wait = f"{statistics.median(waits[label]):.3f}" if waits[label] else "-"
                print(f"{name:6} {label:28} {median:16.2f} {min(times[label]):8.2f} "
                      f"{1000.0 * args.batch / median:10.0f} {buckets or '-':>7} {reduced:19.0f} {wait:>12}")


if __name__ == "__main__":
    main()
