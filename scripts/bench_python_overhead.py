#!/usr/bin/env python3
"""Per-call overhead of session.run from Python: onyx.InferenceSession against onnxruntime's,
on a tiny model (one Add of two float[4] inputs, so the run is nearly all overhead: feeding,
checking, the output array).

Both sessions use one intra-op thread. Rounds alternate between the runtimes (so drift of a
shared machine hits both alike); each round times CALLS calls and reports CPU time per call
(time.process_time: what the calling process spends, the figure that noise from other processes
disturbs least) and wall time per call; the median round of each is printed with the ratio.

  .venv/bin/python scripts/bench_python_overhead.py [--rounds 15] [--calls 20000]
"""
import argparse
import statistics
import time

import numpy as np
import onnx
import onnxruntime
from onnx import TensorProto, helper

import onyx


def tiny_model():
    graph = helper.make_graph([helper.make_node("Add", ["a", "b"], ["sum"])], "tiny",
                              [helper.make_tensor_value_info("a", TensorProto.FLOAT, [4]),
                               helper.make_tensor_value_info("b", TensorProto.FLOAT, [4])],
                              [helper.make_tensor_value_info("sum", TensorProto.FLOAT, [4])])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


def make_session(rt, model):
    options = rt.SessionOptions()
    options.intra_op_num_threads = 1
    return rt.InferenceSession(model, options, providers=["CPUExecutionProvider"])


def time_round(session, feeds, calls):
    run = session.run
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(calls):
        run(None, feeds)
    return (time.process_time() - cpu) / calls, (time.perf_counter() - wall) / calls


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--calls", type=int, default=20000, help="calls per round")
    args = parser.parse_args()

    model = tiny_model()
    feeds = {"a": np.arange(4, dtype=np.float32), "b": np.ones(4, np.float32)}
    sessions = {"onyx": make_session(onyx, model), "onnxruntime": make_session(onnxruntime, model)}
    expected = feeds["a"] + feeds["b"]
    for name, session in sessions.items():
        result, = session.run(None, feeds)
        np.testing.assert_array_equal(result, expected, err_msg=name)
        time_round(session, feeds, max(1, args.calls // 10))  # warm

    times = {name: {"cpu": [], "wall": []} for name in sessions}
    for round_index in range(args.rounds):
        order = list(sessions) if round_index % 2 == 0 else list(reversed(sessions))
        for name in order:
            cpu, wall = time_round(sessions[name], feeds, args.calls)
            times[name]["cpu"].append(cpu)
            times[name]["wall"].append(wall)

    print(f"session.run per call, tiny model (Add of two float[4]), 1 intra-op thread, "
          f"{args.rounds} alternating rounds of {args.calls} calls; median round")
    for name in sessions:
        print(f"  {name:12s} cpu {statistics.median(times[name]['cpu']) * 1e6:7.2f} us   "
              f"wall {statistics.median(times[name]['wall']) * 1e6:7.2f} us")
    for kind in ("cpu", "wall"):
        ratio = statistics.median(times["onyx"][kind]) / statistics.median(times["onnxruntime"][kind])
        print(f"  onyx / onnxruntime ({kind}): {ratio:.2f}x (goal: 1.20x or less)")


if __name__ == "__main__":
    main()
