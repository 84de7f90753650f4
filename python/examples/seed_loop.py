#!/usr/bin/env python3
"""The seed experiment of eager mode, in Python: the same Python function run as a Python loop
over eager onyx tensors, and under onyx.function, where AutoGraph turns the loop into one ONNX
Loop node that runs compiled. The C++ version is tools/examples/eager_seed.cc
(build/onyx_eager_seed).

    1. the sum of 0..N-1, N = 10^4, 10^5, 10^6;
    2. a loop whose body updates a small tensor (16 floats: x = 0.999 x + 1e-4 i).

Times are the calling thread's CPU time (time.thread_time: everything runs on it, with one
intra-op thread, and it does not grow when other processes share the cores), best of a few runs.

    .venv/bin/python python/examples/seed_loop.py [--quick] [--save-dir DIR]

--quick runs N = 100, 1000 (for tests); --save-dir writes the traced models there.
Exits 1 when a result is wrong.
"""
import argparse
import os
import sys
import time

import numpy as np

import onyx


def sum_below(n):
    total = onyx.Tensor(np.int64(0))
    for i in onyx.range(n):
        total = total + i
    return total


def decay_loop(n, x):
    for i in onyx.range(n):
        x = x * 0.999 + onyx.ops.Cast(i, to=np.float32) * 1e-4
    return x


def best_seconds(repeats, fn):
    best, result = float("inf"), None
    for _ in range(repeats):
        start = time.thread_time()
        result = fn()
        best = min(best, time.thread_time() - start)
    return best, result


def row(label, eager_s, graph_s):
    print(f"{label:<28} eager {eager_s * 1e3:10.3f} ms   function {graph_s * 1e3:9.3f} ms   "
          f"speedup {eager_s / graph_s:7.1f}x")
    return eager_s / graph_s


def decay_reference(n, x):
    """The same recurrence in NumPy float32, the check of both results."""
    x = x.astype(np.float32).copy()
    for i in range(n):
        x = x * np.float32(0.999) + np.float32(i) * np.float32(1e-4)
    return x


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, for tests")
    parser.add_argument("--save-dir", help="write the traced models here")
    args = parser.parse_args()
    onyx.set_intra_op_threads(1)  # eager kernels on one thread, as the compiled graphs
    ok = True

    print("(times: CPU time of the calling thread, one intra-op thread)\n")
    print("== sum of 0..N-1: Python loop over eager tensors vs onyx.function (one Loop node) ==")
    traced_sum = onyx.function(sum_below, intra_op_num_threads=1)
    trace_s, _ = best_seconds(1, lambda: traced_sum(onyx.Tensor(np.int64(1))))
    print(f"trace + compile: {trace_s * 1e3:.3f} ms (once per signature)")
    print(f"traced nodes: {' '.join(traced_sum.get_concrete_function(onyx.Tensor(np.int64(1))).op_types)}")
    speedups = []
    for n in ([100, 1000] if args.quick else [10_000, 100_000, 1_000_000]):
        repeats = 1 if n >= 1_000_000 else 3
        eager_s, eager = best_seconds(repeats, lambda: sum_below(n))
        graph_s, graph = best_seconds(repeats + 2, lambda: traced_sum(onyx.Tensor(np.int64(n))))
        expected = n * (n - 1) // 2
        if eager.item() != expected or graph.item() != expected:
            print(f"wrong sum for N={n}: eager {eager.item()}, function {graph.item()}, expected {expected}")
            ok = False
        speedups.append(row(f"N={n} (sum {expected})", eager_s, graph_s))
    print(f"lowest speedup over N: {min(speedups):.1f}x")
    print(f"traces: {traced_sum.trace_count}")

    print("\n== loop with a tensor update (16 floats: x = 0.999 x + 1e-4 i) ==")
    traced_decay = onyx.function(decay_loop, intra_op_num_threads=1)
    x0 = np.ones(16, np.float32)
    traced_decay(onyx.Tensor(np.int64(1)), x0)
    trips = 1000 if args.quick else 100_000
    eager_s, eager_x = best_seconds(2, lambda: decay_loop(trips, onyx.Tensor(x0)))
    graph_s, graph_x = best_seconds(3, lambda: traced_decay(onyx.Tensor(np.int64(trips)), x0))
    row(f"N={trips}", eager_s, graph_s)
    print(f"x[0] eager {eager_x.numpy()[0]:.6f}, function {graph_x.numpy()[0]:.6f}")
    if args.quick:
        reference = decay_reference(trips, x0)
        print(f"x[0] numpy {reference[0]:.6f}")
        if not (np.allclose(eager_x.numpy(), reference, rtol=1e-5) and np.allclose(graph_x.numpy(), reference,
                                                                                   rtol=1e-5)):
            print("the tensor-update loop disagrees with NumPy")
            ok = False

    if args.save_dir:
        os.makedirs(args.save_dir, exist_ok=True)
        traced_sum.save(os.path.join(args.save_dir, "sum_below.onnx"))
        traced_decay.save(os.path.join(args.save_dir, "decay_loop.onnx"))
        print(f"\ntraced models written to {args.save_dir}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
