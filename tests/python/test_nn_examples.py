"""The onyx::nn worked examples (tools/examples/nn_*.cc) build, run and show what they claim:
the custom-components program's loss falls and its exported two-input, two-output model runs in
onnxruntime; the graph-vs-eager program trains Fashion-MNIST both ways to the same parameters
and prints both times per step; an exported module is a model `onyx train` trains."""
import os
import re
import subprocess

import numpy as np
import onnx
import onnxruntime as ort

from cli_helpers import assert_one_error_line, onyx_path, run_onyx


def example(name, *args):
    path = os.path.join(os.path.dirname(onyx_path()), f"onyx_nn_{name}")
    proc = subprocess.run([path, *map(str, args)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_custom_components_train_a_wide_and_deep_model(tmp_path):
    out = example("custom_components", tmp_path / "wide_deep.onnx")
    first, final = map(float, re.search(r"first loss ([0-9.]+) final loss ([0-9.]+)", out).groups())
    assert final < 0.3 * first, out
    huber, mae = map(float, re.search(r"final huber ([0-9.]+) final mae ([0-9.]+)", out).groups())
    assert 0 < huber < mae, out  # Huber is below MAE when most errors exceed delta/2
    model = onnx.load(str(tmp_path / "wide_deep.onnx"))
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ["wide", "deep"]
    assert [o.name for o in model.graph.output] == ["main", "aux"]
    assert "deep.2.kernel" in {i.name for i in model.graph.initializer}  # the custom layer's weight
    session = ort.InferenceSession(str(tmp_path / "wide_deep.onnx"), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(0)
    main, aux = session.run(None, {"wide": rng.standard_normal((3, 5), dtype=np.float32),
                                   "deep": rng.standard_normal((3, 6), dtype=np.float32)})
    assert main.shape == aux.shape == (3, 1)


def test_graph_and_eager_training_steps_agree_on_fashion_mnist():
    out = example("fashion_step", "--steps", 60)
    eager = float(re.search(r"^eager ms per step: ([0-9.]+)$", out, re.M).group(1))
    traced = float(re.search(r"^traced ms per step: ([0-9.]+)$", out, re.M).group(1))
    assert eager > 0 and traced > 0, out
    assert float(re.search(r"^max parameter difference: (\S+)$", out, re.M).group(1)) < 1e-5, out
    assert float(re.search(r"^test accuracy: ([0-9.]+)$", out, re.M).group(1)) > 0.6, out


def test_exported_module_trains_with_onyx_train(tmp_path):
    (tmp_path / "init").mkdir()
    rng = np.random.default_rng(5)
    # An MLP of nn_reference_run with its own initial weights (the values do not matter here).
    for name, shape in {"0.weight": (16, 8), "0.bias": (16,), "2.weight": (4, 16), "2.bias": (4,)}.items():
        np.save(tmp_path / "init" / f"{name}.npy", (0.3 * rng.standard_normal(shape)).astype(np.float32))
    x = rng.standard_normal((4, 6, 8)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", rng.integers(0, 4, (4, 6)).astype(np.int64))
    subprocess.run([os.path.join(os.path.dirname(onyx_path()), "onyx_nn_reference_run"), "mlp", "sgd", str(tmp_path)],
                   check=True, capture_output=True)
    features = rng.standard_normal((64, 8)).astype(np.float32)
    labels = (features[:, 0] > 0).astype(np.int64) + 2 * (features[:, 1] > 0).astype(np.int64)
    np.savez(tmp_path / "data.npz", x=features, label=labels)
    out = run_onyx("train", tmp_path / "model.onnx", "--data", tmp_path / "data.npz", "--label", "label", "--loss",
                   "cross_entropy", "--optimizer", "adam", "--lr", "0.05", "--epochs", "20", "--batch-size", "16",
                   "--out", tmp_path / "trained.onnx")
    assert out.returncode == 0, out.stderr
    losses = [float(v) for v in re.findall(r"loss ([0-9.]+)", out.stdout)]
    assert len(losses) >= 2 and losses[-1] < 0.1 * losses[0], out.stdout
    trained = {i.name for i in onnx.load(str(tmp_path / "trained.onnx")).graph.initializer}
    assert {"0.weight", "0.bias", "2.weight", "2.bias"} <= trained


def test_custom_metric_defined_in_code_runs_inside_onyx_train(tmp_path):
    """The example's Huber metric (an nn::MeanMetric of eager ops) exports as a graph, and
    `onyx train --metric-graph huber=FILE` reports it for the validation data: the value after
    the last epoch is numpy's Huber of the trained linear model's predictions."""
    metric_path = tmp_path / "huber.onnx"
    out = example("custom_components", tmp_path / "wide_deep.onnx", metric_path)
    assert "exported the huber metric" in out, out
    metric = onnx.load(str(metric_path))
    onnx.checker.check_model(metric)
    assert sorted(i.name for i in metric.graph.input) == ["prediction", "target"]
    # A linear regression at opset 25 (the metric graph imports the newest opset; its ops
    # mean the same at 25, so it joins the model; at 18 its Identity is an older version,
    # which is refused).
    rng = np.random.default_rng(3)
    w = (0.1 * rng.standard_normal((4, 1))).astype(np.float32)
    graph = onnx.helper.make_graph(
        [onnx.helper.make_node("MatMul", ["x", "w"], ["xw"]), onnx.helper.make_node("Add", ["xw", "b"], ["y"])], "linear",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, ["N", 4])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, ["N", 1])],
        [onnx.numpy_helper.from_array(w, "w"), onnx.numpy_helper.from_array(np.zeros(1, np.float32), "b")])
    model = onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 25)])
    model.ir_version = 8
    onnx.save(model, str(tmp_path / "linear.onnx"))
    true_w = rng.standard_normal((4, 1)).astype(np.float32)
    for name, count in (("train", 256), ("val", 96)):
        x = rng.standard_normal((count, 4)).astype(np.float32)
        # Targets far enough from the fit that errors fall on both sides of delta = 1.
        label = (x @ true_w + 1.5 * rng.standard_normal((count, 1))).astype(np.float32)
        np.savez(tmp_path / f"{name}.npz", x=x, label=label)
    proc = run_onyx("train", tmp_path / "linear.onnx", "--data", tmp_path / "train.npz", "--val", tmp_path / "val.npz",
                    "--label", "label", "--loss", "mse", "--optimizer", "sgd", "--lr", "0.05", "--epochs", "3",
                    "--batch-size", "32", "--metric-graph", f"huber={metric_path}", "--out", tmp_path / "trained.onnx")
    assert proc.returncode == 0, proc.stderr
    reported = [float(v) for v in re.findall(r"val huber ([0-9.]+)", proc.stdout)]
    assert len(reported) == 3, proc.stdout
    val = np.load(tmp_path / "val.npz")
    trained = {i.name: onnx.numpy_helper.to_array(i) for i in onnx.load(str(tmp_path / "trained.onnx")).graph.initializer}
    error = np.abs(val["x"] @ trained["w"] + trained["b"] - val["label"])
    quadratic = np.minimum(error, 1.0)
    expected = float(np.mean(0.5 * quadratic ** 2 + (error - quadratic)))
    assert 0.05 < np.mean(error > 1.0) < 0.95  # both branches of the Huber loss are exercised
    assert abs(reported[-1] - expected) < 1e-4, (reported, expected)
    # At opset 17 ReduceMean takes its axes as an attribute: the traced graph cannot join.
    model.opset_import[0].version = 17
    onnx.save(model, str(tmp_path / "linear17.onnx"))
    proc = run_onyx("train", tmp_path / "linear17.onnx", "--data", tmp_path / "train.npz", "--label", "label",
                    "--loss", "mse", "--optimizer", "sgd", "--lr", "0.05", "--metric-graph", f"huber={metric_path}",
                    "--out", tmp_path / "trained17.onnx")
    assert_one_error_line(proc, "opset 28", "opset 17", "ReduceMean")
    assert not (tmp_path / "trained17.onnx").exists()


def test_metric_graph_errors_are_one_line(tmp_path):
    bad = onnx.helper.make_model(onnx.helper.make_graph(
        [onnx.helper.make_node("Identity", ["a"], ["v"])], "bad",
        [onnx.helper.make_tensor_value_info("a", onnx.TensorProto.FLOAT, [1])],
        [onnx.helper.make_tensor_value_info("v", onnx.TensorProto.FLOAT, [1])]),
        opset_imports=[onnx.helper.make_opsetid("", 17)])
    onnx.save(bad, str(tmp_path / "bad.onnx"))
    model = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "models",
                         "mlp_fashion_untrained.onnx")
    np.savez(tmp_path / "d.npz", image=np.zeros((4, 1, 28, 28), np.float32), label=np.zeros(4, np.int64))
    for spec, words in ((f"huber={tmp_path / 'bad.onnx'}", ["prediction", "target"]), ("huber", ["NAME=FILE"]),
                        (f"huber={tmp_path / 'missing.onnx'}", ["missing.onnx"])):
        proc = run_onyx("train", model, "--data", tmp_path / "d.npz", "--label", "label", "--loss", "cross_entropy",
                        "--optimizer", "sgd", "--lr", "0.1", "--metric-graph", spec, "--out", tmp_path / "o.onnx")
        assert_one_error_line(proc, *words)
        assert not (tmp_path / "o.onnx").exists()
