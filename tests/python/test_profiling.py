"""Chrome-trace profiles: `onyx run|bench --profile-json FILE` and the Python package's
SessionOptions.enable_profiling / end_profiling() write one trace-event JSON file (the format
Perfetto opens) with the session's creation phases and every node of every run: each node once
per run with a positive duration, its op type, provider, implementation and input shapes, and
a Loop's iterations as spans inside the Loop's span, holding the body's nodes. Also
`onyx run --top-k` on a classifier."""
import json
import re

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import onyx
from cli_helpers import ROOT, make_model, run_onyx, save_model

TRIPS = 3
TOP_NODES = ["double", "repeat", "softmax"]
BODY_NODES = ["keep_going", "squash"]


def loop_model(path):
    """x[2,4] -> Add(x, x) -> Loop(3 trips of Tanh) -> Softmax -> probs[2,4]."""
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond"], ["cond_out"], name="keep_going"),
         helper.make_node("Tanh", ["s_in"], ["s_out"], name="squash")],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond", TensorProto.BOOL, []),
         helper.make_tensor_value_info("s_in", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []),
         helper.make_tensor_value_info("s_out", TensorProto.FLOAT, [2, 4])])
    model = make_model(
        [helper.make_node("Add", ["x", "x"], ["doubled"], name="double"),
         helper.make_node("Loop", ["trips", "", "doubled"], ["looped"], name="repeat", body=body),
         helper.make_node("Softmax", ["looped"], ["probs"], name="softmax", axis=1)],
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 4])],
        [helper.make_tensor_value_info("probs", TensorProto.FLOAT, [2, 4])],
        [numpy_helper.from_array(np.array(TRIPS, np.int64), "trips")])
    return save_model(model, path)


def complete_events(path):
    with open(path) as f:
        trace = json.load(f)
    events = trace["traceEvents"]
    complete = [event for event in events if event["ph"] == "X"]
    for event in complete:
        assert {"name", "cat", "ph", "ts", "dur", "pid", "tid", "args"} <= set(event), event
        assert event["dur"] >= 0
    assert any(event["ph"] == "M" and event["name"] == "thread_name" for event in events)
    return complete


def named(events, name):
    return [event for event in events if event["name"] == name]


def inside(inner, outer):
    return (inner["tid"] == outer["tid"] and inner["ts"] >= outer["ts"] and
            inner["ts"] + inner["dur"] <= outer["ts"] + outer["dur"] + 1e-3)


def check_runs(events, runs):
    """Every node once per run (the body's once per iteration), nested as the graph nests."""
    assert len(named(events, "run")) == runs
    for name in TOP_NODES:
        spans = named(events, name)
        assert len(spans) == runs, name
        for span in spans:
            assert span["cat"] == "Node" and span["dur"] > 0 and span["args"]["depth"] == 0
            assert span["args"]["provider"] and "implementation" in span["args"]
            assert any(inside(span, run) for run in named(events, "run"))
    assert named(events, "double")[0]["args"]["op_type"] == "Add"
    assert named(events, "double")[0]["args"]["input_shapes"] == [[2, 4], [2, 4]]
    loops = named(events, "repeat")
    iterations = [event for event in events if event["cat"] == "Subgraph"]
    assert sorted(event["name"] for event in iterations) == sorted(
        f"repeat iteration {i}" for i in range(TRIPS) for _ in range(runs))
    for iteration in iterations:
        assert any(inside(iteration, loop) for loop in loops), iteration
    for name in BODY_NODES:
        spans = named(events, name)
        assert len(spans) == runs * TRIPS, name
        for span in spans:
            assert span["dur"] > 0 and span["args"]["parent"] == "repeat" and span["args"]["depth"] == 1
            assert any(inside(span, iteration) for iteration in iterations), span


def test_run_writes_a_trace_of_creation_and_the_run(tmp_path):
    model = loop_model(tmp_path / "loop.onnx")
    trace = tmp_path / "trace.json"
    proc = run_onyx("run", model, "--random", "--profile-json", trace)
    assert proc.returncode == 0, proc.stderr
    assert f"wrote the profile {trace}" in proc.stdout
    events = complete_events(trace)
    check_runs(events, 1)
    creation = named(events, "session creation")[0]
    for phase in ["optimize", "plan", "placement", "memory plan", "create kernel double", "create kernel squash"]:
        assert named(events, phase), phase
        assert inside(named(events, phase)[0], creation), phase
    assert named(events, "load")[0]["args"]["path"] == str(model)
    assert [p for p in tmp_path.iterdir() if p.name.startswith("trace.json.")] == []  # no temporary left


def test_copies_between_devices_are_spans_of_the_run(tmp_path):
    # The emulated device (a test-only provider with memory of its own) places the nodes off the
    # host: the feed's copy to it is a span of the run, and the Loop body's copies of its
    # carried values are spans inside the iterations.
    model = loop_model(tmp_path / "loop.onnx")
    trace = tmp_path / "trace.json"
    proc = run_onyx("run", model, "--random", "--device", "emulated", "--profile-json", trace)
    assert proc.returncode == 0, proc.stderr
    events = complete_events(trace)
    copies = [event for event in events if event["cat"] == "Copy"]
    run = named(events, "run")[0]
    feed = named(events, "copy of 'x' to emulated:0")
    assert len(feed) == 1 and feed[0]["args"]["op_type"] == "MemcpyToDevice", copies
    assert feed[0]["args"]["input_shapes"] == [[2, 4]] and feed[0]["args"]["depth"] == 0
    iterations = [event for event in events if event["cat"] == "Subgraph"]
    for copy in copies:
        assert copy["dur"] > 0 and inside(copy, run), copy
        if copy["args"]["depth"] == 1:
            assert any(inside(copy, iteration) for iteration in iterations), copy
    assert any(copy["args"]["depth"] == 1 for copy in copies), copies
    assert named(events, "double")[0]["args"]["provider"] == "EMULATED"


def test_bench_traces_every_run(tmp_path):
    model = loop_model(tmp_path / "loop.onnx")
    trace = tmp_path / "bench.json"
    proc = run_onyx("bench", model, "-n", 4, "--warmup", 2, "--profile", "--profile-json", trace)
    assert proc.returncode == 0, proc.stderr
    events = complete_events(trace)
    check_runs(events, len(named(events, "run")))
    assert len(named(events, "run")) == 6
    # The --profile table is read from the same profiler: one row per op type of the graph.
    table = proc.stdout[proc.stdout.index("op "):]
    for op in ["Add", "Loop", "Softmax"]:
        assert f"\n{op} " in table, table


@pytest.mark.parametrize("verb", ["run", "bench"])
def test_a_missing_folder_is_one_error_line(tmp_path, verb):
    model = loop_model(tmp_path / "loop.onnx")
    proc = run_onyx(verb, model, "--random", "--profile-json", tmp_path / "missing" / "trace.json") if verb == "run" \
        else run_onyx(verb, model, "--profile-json", tmp_path / "missing" / "trace.json")
    # A usage mistake, caught when the command line is read: exit status 2, one line, no work done.
    lines = proc.stderr.splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("onyx: error: --profile-json"), proc.stderr
    assert "missing' does not exist" in lines[0]


def test_python_end_profiling_returns_the_trace(tmp_path):
    model = loop_model(tmp_path / "loop.onnx")
    options = onyx.SessionOptions()
    options.enable_profiling = True
    options.profile_file_prefix = str(tmp_path / "py_trace")
    session = onyx.InferenceSession(str(model), options)
    x = np.linspace(-1, 1, 8, dtype=np.float32).reshape(2, 4)
    for _ in range(2):
        session.run(None, {"x": x})
    path = session.end_profiling()
    assert path.startswith(str(tmp_path / "py_trace_")) and path.endswith(".json")
    check_runs(complete_events(path), 2)
    assert session.end_profiling() == ""  # profiling ended with the first call
    session.run(None, {"x": x})  # and runs go on without it
    assert onyx.InferenceSession(str(model)).end_profiling() == ""


def test_top_k_prints_the_best_classes_per_row(tmp_path):
    model = f"{ROOT}/models/mlp_fashion_untrained.onnx"
    image = f"{ROOT}/models/cnn_small_input.npy"
    proc = run_onyx("run", model, "--input", f"image={image}", "--top-k", 3, "--output-dir", tmp_path)
    assert proc.returncode == 0, proc.stderr
    logits = numpy_helper.to_array(onnx.load_tensor(str(tmp_path / "output_0.pb")))
    assert proc.stdout.startswith(f"logits: float [{logits.shape[0]},{logits.shape[1]}], top 3 per row:\n")
    rows = [line.strip() for line in proc.stdout.splitlines() if line.strip().startswith("row ")]
    assert len(rows) == logits.shape[0]
    for row, values in zip(rows, logits):
        best = np.argsort(-values, kind="stable")[:3]
        probabilities = np.exp(values - values.max()) / np.exp(values - values.max()).sum()
        shown = re.findall(r"(\d+) \((?:logit [^,]+, )?p ([0-9.]+)\)", row.split(": ", 1)[1])
        assert [int(index) for index, _ in shown] == list(best), row
        assert [float(p) for _, p in shown] == pytest.approx(probabilities[best], abs=1e-4), row


def test_top_k_must_be_positive(tmp_path):
    proc = run_onyx("run", loop_model(tmp_path / "loop.onnx"), "--random", "--top-k", 0)
    assert proc.returncode == 2 and "--top-k" in proc.stderr and len(proc.stderr.splitlines()) == 1, proc.stderr
