#!/usr/bin/env python3
"""Times onyx and onnxruntime on the same models, in one run, and prints a table with the ratio
onyx_time / ort_time per model (below 1: onyx is faster), plus both runtimes' cold start
(session creation and first run, each runtime's first session in a fresh process) and onyx's
peak resident memory.

onyx is timed by `onyx bench MODEL --iterations N --threads T --json [--input NAME=FILE]...`,
which prints one JSON object with its per-run times in milliseconds (median_ms, mean_ms,
min_ms, cpu_ms; the median is compared unless --cpu-time). onnxruntime is timed here the same way: warm-up runs, then N
runs each timed alone, with all graph optimizations and T intra-op threads.

Models: the given .onnx files, by default the shipped models (models/*.onnx, fed their
models/<name>_input.npy sample), synthetic models built here with onnx.helper (a small conv net
at 224x224 and a wide MLP at batch 64; written to .cache/bench/), and the real architectures
that scripts/export_architectures.py exports with PyTorch (resnet18, mobilenet_v2, transformer,
lstm, ...; fed their first test case; exported with Debian's /usr/bin/python3 if not cached,
left out with a note where that Python has no torch). A model without a sample input gets the
same seeded random inputs for both runtimes, symbolic dims set to 1.

On a busy machine, `--rounds R` times each model R times, alternating the two runtimes, and
keeps each one's fastest round, so that a burst of load does not land on one side only; and
`--cpu-time` compares the process CPU time per run (`onyx bench`'s cpu_ms, Python's
process_time around onnxruntime's runs), which waiting for a core does not inflate. With more
than one thread CPU time adds up the threads: it measures cost, not latency.

  scripts/bench_vs_ort.py                       the default models, 1 thread
  scripts/bench_vs_ort.py --threads 2 -n 200    two threads, 200 timed runs
  scripts/bench_vs_ort.py --rounds 3            best of three alternating rounds
  scripts/bench_vs_ort.py --cpu-time            CPU time per run (busy machines)
  scripts/bench_vs_ort.py my.onnx --json out.json
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CACHE = os.path.join(ROOT, ".cache", "bench")


# --- synthetic models ------------------------------------------------------------------------
def _save(model, name):
    model.ir_version = 10
    onnx.checker.check_model(model)
    os.makedirs(CACHE, exist_ok=True)
    path = os.path.join(CACHE, name)
    onnx.save(model, path)
    return path


def _weights(rng, name, shape, scale=None):
    fan_in = int(np.prod(shape[1:])) if len(shape) > 1 else 1
    scale = scale if scale is not None else np.sqrt(2.0 / fan_in)
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def synthetic_convnet():
    """1x3x224x224 -> conv/bn/relu stages (32, 64, 128 channels, two pools) -> GAP -> Gemm 1000."""
    rng = np.random.default_rng(0)
    nodes, inits, x, channels = [], [], "input", 3
    for stage, (out, stride) in enumerate([(32, 2), (64, 1), (64, 1), (128, 1)]):
        p = f"s{stage}"
        inits += [_weights(rng, f"{p}.w", (out, channels, 3, 3)), _weights(rng, f"{p}.b", (out,), 0.1),
                  numpy_helper.from_array(np.ones(out, np.float32), f"{p}.scale"),
                  numpy_helper.from_array(np.zeros(out, np.float32), f"{p}.shift"),
                  numpy_helper.from_array(np.zeros(out, np.float32), f"{p}.mean"),
                  numpy_helper.from_array(np.ones(out, np.float32), f"{p}.var")]
        nodes += [helper.make_node("Conv", [x, f"{p}.w", f"{p}.b"], [f"{p}.conv"], kernel_shape=[3, 3],
                                   pads=[1, 1, 1, 1], strides=[stride, stride]),
                  helper.make_node("BatchNormalization", [f"{p}.conv", f"{p}.scale", f"{p}.shift",
                                                          f"{p}.mean", f"{p}.var"], [f"{p}.bn"]),
                  helper.make_node("Relu", [f"{p}.bn"], [f"{p}.relu"])]
        x, channels = f"{p}.relu", out
        if stage in (0, 2):
            nodes.append(helper.make_node("MaxPool", [x], [f"{p}.pool"], kernel_shape=[2, 2], strides=[2, 2]))
            x = f"{p}.pool"
    inits += [_weights(rng, "fc.w", (1000, channels)), _weights(rng, "fc.b", (1000,), 0.1)]
    nodes += [helper.make_node("GlobalAveragePool", [x], ["gap"]),
              helper.make_node("Flatten", ["gap"], ["flat"]),
              helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["logits"], transB=1),
              helper.make_node("Softmax", ["logits"], ["probabilities"], axis=1)]
    graph = helper.make_graph(nodes, "convnet", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 224, 224])],
                              [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [1, 1000])], inits)
    return _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), "convnet_224.onnx")


def synthetic_wide_mlp():
    """64x1024 -> Gemm 4096 -> Relu -> Gemm 1024 -> Add residual -> LayerNormalization."""
    rng = np.random.default_rng(1)
    inits = [_weights(rng, "up.w", (4096, 1024)), _weights(rng, "up.b", (4096,), 0.1),
             _weights(rng, "down.w", (1024, 4096)), _weights(rng, "down.b", (1024,), 0.1),
             numpy_helper.from_array(np.ones(1024, np.float32), "ln.scale"),
             numpy_helper.from_array(np.zeros(1024, np.float32), "ln.bias")]
    nodes = [helper.make_node("Gemm", ["input", "up.w", "up.b"], ["up"], transB=1),
             helper.make_node("Relu", ["up"], ["act"]),
             helper.make_node("Gemm", ["act", "down.w", "down.b"], ["down"], transB=1),
             helper.make_node("Add", ["down", "input"], ["residual"]),
             helper.make_node("LayerNormalization", ["residual", "ln.scale", "ln.bias"], ["output"], axis=-1)]
    graph = helper.make_graph(nodes, "wide_mlp", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [64, 1024])],
                              [helper.make_tensor_value_info("output", TensorProto.FLOAT, [64, 1024])], inits)
    return _save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), "wide_mlp_b64.onnx")


# --- real architectures (exported by PyTorch) --------------------------------------------------
def architecture_models(torch_python):
    """[(model path, feeds)] for the exported architectures, fed their first test case."""
    script = os.path.join(ROOT, "scripts", "export_architectures.py")
    try:
        proc = subprocess.run([torch_python, script], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    except FileNotFoundError:
        proc = None
    if proc is None or proc.returncode != 0:
        reason = "not found" if proc is None else (proc.stderr.strip().splitlines() or ["failed"])[-1]
        print(f"bench_vs_ort: leaving out the real architectures: {torch_python} {script}: {reason}")
        return []
    folder = proc.stdout.strip().splitlines()[-1]
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    return [(os.path.join(folder, entry["model"]),
             {name: np.load(os.path.join(folder, file)) for name, file in entry["cases"][0]["inputs"].items()})
            for entry in manifest["models"]]


# --- inputs ----------------------------------------------------------------------------------
NUMPY_OF_ONNX = {TensorProto.FLOAT: np.float32, TensorProto.DOUBLE: np.float64, TensorProto.INT64: np.int64,
                 TensorProto.INT32: np.int32, TensorProto.BOOL: np.bool_, TensorProto.FLOAT16: np.float16,
                 TensorProto.UINT8: np.uint8, TensorProto.INT8: np.int8}


def model_inputs(model_path):
    """{name: array} for the model's graph inputs: its sample file if shipped, else seeded random."""
    model = onnx.load(model_path, load_external_data=False)
    initializers = {t.name for t in model.graph.initializer}
    graph_inputs = [i for i in model.graph.input if i.name not in initializers]
    stem = os.path.splitext(model_path)[0]
    if len(graph_inputs) == 1 and os.path.exists(stem + "_input.npy"):
        return {graph_inputs[0].name: np.load(stem + "_input.npy")}
    rng = np.random.default_rng(42)
    feeds = {}
    for value in graph_inputs:
        tensor_type = value.type.tensor_type
        shape = [d.dim_value if d.HasField("dim_value") else 1 for d in tensor_type.shape.dim]
        dtype = NUMPY_OF_ONNX.get(tensor_type.elem_type)
        if dtype is None:
            raise SystemExit(f"bench_vs_ort: {model_path}: input {value.name} has a type this script does not feed")
        if np.issubdtype(dtype, np.floating):
            feeds[value.name] = rng.standard_normal(shape).astype(dtype)
        else:
            feeds[value.name] = rng.integers(0, 2, shape).astype(dtype)
    return feeds


# --- timing ----------------------------------------------------------------------------------
# onnxruntime's cold start, timed in a fresh process as `onyx bench` times onyx's: the session
# of a process that has imported the library and created nothing yet. In this script's own
# process every session after the first would find onnxruntime's one-time setup (kernel
# registries, thread pools) done, which a user starting a program does not.
ORT_COLD_START = r"""
import json, sys, time
import numpy as np
import onnxruntime as ort
model, threads, inputs = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
feeds = {name: np.load(path) for name, path in inputs.items()}
options = ort.SessionOptions()
options.intra_op_num_threads = threads
options.inter_op_num_threads = 1
options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
created = time.perf_counter()
session = ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
create_ms = (time.perf_counter() - created) * 1e3
first = time.perf_counter()
session.run(None, feeds)
print(json.dumps({"session_create_ms": create_ms, "first_run_ms": (time.perf_counter() - first) * 1e3}))
"""


def ort_cold_start(model_path, input_files, threads):
    """{"session_create_ms", "first_run_ms"} of onnxruntime in a fresh process, or {} if it failed."""
    proc = subprocess.run([sys.executable, "-c", ORT_COLD_START, model_path, str(threads), json.dumps(input_files)],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        return {}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def write_feeds(feeds, scratch):
    """Each feed as scratch/<name>.npy; {name: path}."""
    os.makedirs(scratch, exist_ok=True)
    paths = {}
    for name, array in feeds.items():
        paths[name] = os.path.join(scratch, f"{name.replace('/', '_')}.npy")
        np.save(paths[name], array)
    return paths


def time_ort(model_path, feeds, iterations, warmup, threads, scratch=None):
    """onnxruntime's steady state in this process, and with `scratch` (a folder for the feeds'
    files) its cold start in a fresh one."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    cold = ort_cold_start(model_path, write_feeds(feeds, scratch), threads) if scratch else {}
    session = ort.InferenceSession(model_path, options, providers=["CPUExecutionProvider"])
    for _ in range(warmup):
        session.run(None, feeds)
    times = []
    cpu_start = time.process_time()
    for _ in range(iterations):
        start = time.perf_counter()
        session.run(None, feeds)
        times.append((time.perf_counter() - start) * 1e3)
    cpu_ms = (time.process_time() - cpu_start) * 1e3 / iterations
    return {"median_ms": statistics.median(times), "mean_ms": statistics.fmean(times), "min_ms": min(times),
            "cpu_ms": cpu_ms, **cold}


def time_onyx(onyx, model_path, feeds, iterations, threads, scratch, extra=()):
    """`onyx bench --json` on `feeds` (written as .npy under `scratch`), with `extra` options
    (scripts/precision_report.py passes --precision)."""
    command = [onyx, "bench", model_path, "--iterations", str(iterations), "--threads", str(threads), "--json",
               *extra]
    for name, path in write_feeds(feeds, scratch).items():
        command += ["--input", f"{name}={path}"]
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    if proc.returncode != 0:
        message = (proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        return {"error": message}
    # The JSON object may follow other lines: take the last line that parses.
    for line in reversed(proc.stdout.strip().splitlines()):
        try:
            result = json.loads(line)
        except ValueError:
            continue
        if isinstance(result, dict) and ("median_ms" in result or "mean_ms" in result):
            return result
    try:
        return json.loads(proc.stdout)
    except ValueError:
        return {"error": "onyx bench printed no JSON with median_ms/mean_ms"}


HEADLINE = "median_ms"  # --cpu-time: "cpu_ms"


def headline(result):
    return result.get(HEADLINE, result.get("mean_ms") if HEADLINE == "median_ms" else None)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("models", nargs="*", help="ONNX models (default: shipped + synthetic)")
    parser.add_argument("-n", "--iterations", type=int, default=100, help="timed runs per model")
    parser.add_argument("--warmup", type=int, default=10, help="untimed onnxruntime runs first")
    parser.add_argument("--threads", type=int, default=1, help="intra-op threads for both runtimes")
    parser.add_argument("--rounds", type=int, default=1, help="alternating rounds per model; the fastest counts")
    parser.add_argument("--cpu-time", action="store_true",
                        help="compare process CPU time per run instead of the median wall time")
    parser.add_argument("--onyx", default=os.environ.get("ONYX_BIN", os.path.join(ROOT, "build", "onyx")))
    parser.add_argument("--no-synthetic", action="store_true", help="leave out the synthetic models")
    parser.add_argument("--no-architectures", action="store_true", help="leave out the PyTorch-exported architectures")
    parser.add_argument("--torch-python", default=os.environ.get("ONYX_TORCH_PYTHON", "/usr/bin/python3"),
                        help="the Python with torch and torchvision that exports the architectures")
    parser.add_argument("--json", help="write the results here")
    parser.add_argument("--only", action="append", default=[],
                        help="time only the default models whose name contains this text; repeatable")
    args = parser.parse_args()
    global HEADLINE
    HEADLINE = "cpu_ms" if args.cpu_time else "median_ms"

    models = [(model, None) for model in args.models]  # (path, feeds; None: model_inputs)
    if not models:
        models = [(model, None) for model in sorted(glob.glob(os.path.join(ROOT, "models", "*.onnx")))]
        if not args.no_synthetic:
            models += [(synthetic_convnet(), None), (synthetic_wide_mlp(), None)]
        if not args.no_architectures:
            models += architecture_models(args.torch_python)
        if args.only:
            models = [(model, feeds) for model, feeds in models
                      if any(text in os.path.basename(model) for text in args.only)]
    if not os.access(args.onyx, os.X_OK):
        sys.exit(f"bench_vs_ort: {args.onyx} not found; build onyx first (scripts/setup.sh)")

    rows = []
    header = f"{'model':<28} {'onyx ms':>10} {'ort ms':>10} {'onyx/ort':>9}"
    print(f"threads={args.threads} iterations={args.iterations} rounds={args.rounds} "
          f"({'process CPU time' if args.cpu_time else 'median wall time'} per run)")
    print(header)
    print("-" * len(header))
    for model, feeds in models:
        name = os.path.splitext(os.path.basename(model))[0]
        feeds = feeds if feeds is not None else model_inputs(model)
        onyx_result = ort_result = None
        for _ in range(max(1, args.rounds)):
            onyx_round = time_onyx(args.onyx, model, feeds, args.iterations, args.threads,
                                   os.path.join(CACHE, "inputs", name))
            ort_round = time_ort(model, feeds, args.iterations, args.warmup, args.threads,
                                 os.path.join(CACHE, "inputs", name))
            if onyx_result is None or (headline(onyx_round) is not None and
                                       (headline(onyx_result) is None or headline(onyx_round) < headline(onyx_result))):
                onyx_result = onyx_round
            if ort_result is None or headline(ort_round) < headline(ort_result):
                ort_result = ort_round
        onyx_ms, ort_ms = headline(onyx_result), headline(ort_result)
        ratio = onyx_ms / ort_ms if onyx_ms else None
        rows.append({"model": model, "onyx": onyx_result, "ort": ort_result, "ratio": ratio})
        onyx_text = f"{onyx_ms:10.3f}" if onyx_ms is not None else f"{'error':>10}"
        ratio_text = f"{ratio:9.2f}" if ratio is not None else f"{'-':>9}"
        print(f"{name:<28} {onyx_text} {ort_ms:10.3f} {ratio_text}", flush=True)
        if "error" in onyx_result:
            print(f"  onyx: {onyx_result['error']}")
    ratios = [r["ratio"] for r in rows if r["ratio"]]
    if ratios:
        geomean = float(np.exp(np.mean(np.log(ratios))))
        print(f"geometric mean of onyx/ort over {len(ratios)} models: {geomean:.2f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"threads": args.threads, "iterations": args.iterations, "rounds": args.rounds,
                       "results": rows}, f, indent=1)
    return 0 if len(ratios) == len(rows) else 1


if __name__ == "__main__":
    sys.exit(main())
