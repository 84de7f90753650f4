"""The eager-mode seed program (build/onyx_eager_seed): it runs, prints its timings and
speedups, and the models it traced run in `onyx run` and in onnxruntime with the same results."""
import os
import re
import subprocess

import numpy as np
import onnx
import onnxruntime as ort

from cli_helpers import ROOT, onyx_path, run_onyx


def seed_path():
    return os.path.join(os.path.dirname(onyx_path()), "onyx_eager_seed")


def run_seed(tmp_path):
    proc = subprocess.run([seed_path(), "--quick", "--save-dir", str(tmp_path)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_seed_prints_times_and_speedups(tmp_path):
    out = run_seed(tmp_path)
    speedups = re.findall(r"^speedup: ([0-9.]+)$", out, re.M)
    assert len(speedups) == 4, out  # two sums (quick sizes), the tensor update, training
    assert all(float(s) > 0 for s in speedups)
    assert "sum 499500" in out
    lowest = re.search(r"^lowest speedup over N: ([0-9.]+)$", out, re.M)  # of the sums, the first two rows
    assert lowest and float(lowest.group(1)) == min(float(s) for s in speedups[:2]), out
    # both costs the Loop is judged by: per iteration in the graph, per op eagerly
    loop_ns = re.search(r"^onyx \(in process, CPU time\): ([0-9.]+) ns per iteration", out, re.M)
    eager_ns = re.search(r"^eager per-op cost: ([0-9.]+) ns", out, re.M)
    assert loop_ns and eager_ns, out
    assert float(loop_ns.group(1)) > 0 and float(eager_ns.group(1)) > 0
    eager, graph = re.search(r"^eager: w = \[([^\]]*)\]", out, re.M), re.search(r"^graph: w = \[([^\]]*)\]", out, re.M)
    assert eager and graph and eager.group(1) == graph.group(1), out


def test_traced_models_run_in_onyx_and_onnxruntime(tmp_path):
    run_seed(tmp_path)
    sum_model = tmp_path / "sum_loop.onnx"
    onnx.checker.check_model(onnx.load(str(sum_model)))
    assert any(node.op_type == "Loop" for node in onnx.load(str(sum_model)).graph.node)
    n = np.array(12345, dtype=np.int64)
    np.save(tmp_path / "n.npy", n)
    proc = run_onyx("run", sum_model, "--input", f"input_0={tmp_path / 'n.npy'}", "--output-dir", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    expected = 12345 * 12344 // 2
    onyx_sum = onnx.numpy_helper.to_array(onnx.load_tensor(str(tmp_path / "out" / "output_0.pb")))
    assert int(onyx_sum) == expected
    session = ort.InferenceSession(str(sum_model), providers=["CPUExecutionProvider"])
    assert int(session.run(None, {"input_0": n})[0]) == expected

    decay = tmp_path / "decay_loop.onnx"
    x0 = np.linspace(-1, 1, 16).astype(np.float32)
    trips = np.array(500, dtype=np.int64)
    np.save(tmp_path / "trips.npy", trips)
    np.save(tmp_path / "x0.npy", x0)
    proc = run_onyx("run", decay, "--input", f"input_0={tmp_path / 'trips.npy'}", "--input",
                    f"input_1={tmp_path / 'x0.npy'}", "--output-dir", tmp_path / "decay_out")
    assert proc.returncode == 0, proc.stderr
    onyx_x = onnx.numpy_helper.to_array(onnx.load_tensor(str(tmp_path / "decay_out" / "output_0.pb")))
    ort_x = ort.InferenceSession(str(decay), providers=["CPUExecutionProvider"]).run(
        None, {"input_0": trips, "input_1": x0})[0]
    reference = x0.copy()
    for i in range(500):
        reference = reference * np.float32(0.999) + np.float32(i) * np.float32(1e-4)
    np.testing.assert_allclose(onyx_x, ort_x, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(onyx_x, reference, rtol=1e-4, atol=1e-5)


def test_traced_training_loop_matches_in_onnxruntime(tmp_path):
    """The taped regression traced into one Loop (forward, tape gradients and updates in its
    body) gives onnxruntime the weights onyx computes."""
    run_seed(tmp_path)
    model = tmp_path / "linear_regression_train.onnx"
    loaded = onnx.load(str(model))
    onnx.checker.check_model(loaded, full_check=True)
    assert [node.op_type for node in loaded.graph.node].count("Loop") == 1
    w0, b0 = np.zeros((4, 1), np.float32), np.zeros(1, np.float32)
    np.save(tmp_path / "w0.npy", w0)
    np.save(tmp_path / "b0.npy", b0)
    proc = run_onyx("run", model, "--input", f"input_0={tmp_path / 'w0.npy'}", "--input",
                    f"input_1={tmp_path / 'b0.npy'}", "--output-dir", tmp_path / "train_out")
    assert proc.returncode == 0, proc.stderr
    onyx_w = onnx.numpy_helper.to_array(onnx.load_tensor(str(tmp_path / "train_out" / "output_0.pb")))
    ort_w = ort.InferenceSession(str(model), providers=["CPUExecutionProvider"]).run(
        None, {"input_0": w0, "input_1": b0})[0]
    np.testing.assert_allclose(onyx_w, ort_w, rtol=1e-4, atol=1e-5)
    # 20 steps (--quick) move the weights toward the generating w = [1.5, -2, 0.5, 3]
    assert np.all(np.sign(onyx_w.ravel()) == np.sign([1.5, -2, 0.5, 3]))
