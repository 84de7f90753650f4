"""The onyx::nn worked examples (tools/examples/nn_*.cc) build, run and show what they claim,
checked against facts onyx did not compute (numpy, onnxruntime, Debian's Fashion-MNIST files):
the custom loss's value and tape gradient are numpy's and it trains; the custom layer's
exported forward and its gradients are numpy's; the custom model's exported outputs give the
Huber and MAE it prints; the custom training loop's exported classifier scores on the test set
what it prints; the graph-vs-eager program trains Fashion-MNIST both ways to the same
parameters; an exported module and the custom metric's graph run inside `onyx train`."""
import gzip
import os
import re
import subprocess

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from cli_helpers import assert_one_error_line, onyx_path, run_onyx


FASHION_MNIST = "/usr/share/datasets/fashion-mnist"


def example(name, *args):
    path = os.path.join(os.path.dirname(onyx_path()), f"onyx_nn_{name}")
    proc = subprocess.run([path, *map(str, args)], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def fashion_mnist_test_set():
    """Debian's t10k IDX files read with numpy alone: images [N, 28, 28] in [0, 1], labels."""
    with gzip.open(os.path.join(FASHION_MNIST, "t10k-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(os.path.join(FASHION_MNIST, "t10k-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return (images / np.float32(255)).astype(np.float32), labels.astype(np.int64)


def numpy_focal_loss(logits, labels, gamma):
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    log_p_true = log_p[np.arange(len(labels)), labels]
    return np.mean(-(1 - np.exp(log_p_true)) ** gamma * log_p_true)


def test_custom_loss_matches_numpy_and_trains_fashion_mnist(tmp_path):
    out = example("custom_loss", "--out", tmp_path)
    logits = np.load(tmp_path / "logits.npy").astype(np.float64)
    labels = np.load(tmp_path / "labels.npy")
    assert logits.shape == (64, 10) and labels.shape == (64,)
    focal0, cross_entropy = map(float, re.search(r"at gamma 0: ([0-9.]+), cross-entropy: ([0-9.]+)", out).groups())
    assert focal0 == pytest.approx(numpy_focal_loss(logits, labels, 0), rel=1e-5)
    assert cross_entropy == pytest.approx(numpy_focal_loss(logits, labels, 0), rel=1e-5)
    assert float(np.load(tmp_path / "loss.npy")) == pytest.approx(numpy_focal_loss(logits, labels, 2), rel=1e-5)
    # The tape's gradient against numpy's central differences of the same formula (float64).
    expected = np.zeros_like(logits)
    h = 1e-6
    for index in np.ndindex(*logits.shape):
        up, down = logits.copy(), logits.copy()
        up[index] += h
        down[index] -= h
        expected[index] = (numpy_focal_loss(up, labels, 2) - numpy_focal_loss(down, labels, 2)) / (2 * h)
    np.testing.assert_allclose(np.load(tmp_path / "grad.npy"), expected, atol=2e-6)
    first, last = map(float, re.search(r"first \d+ steps ([0-9.]+), of the last \d+ steps ([0-9.]+)", out).groups())
    assert last < 0.5 * first, out


def test_custom_layer_exports_and_its_gradients_match_numpy(tmp_path):
    out = example("custom_layer", "--out", tmp_path)
    assert "parameters before the first call: 0" in out, out  # lazy: no weights until it sees an input
    assert "parameter kernel [6,6]" in out and "parameter bias [6]" in out, out
    assert "input [4,6] output [4,6]" in out, out
    model = onnx.load(str(tmp_path / "layer.onnx"))
    onnx.checker.check_model(model)
    weights = {i.name: onnx.numpy_helper.to_array(i) for i in model.graph.initializer}
    kernel, bias = weights["kernel"], weights["bias"]
    session = ort.InferenceSession(str(tmp_path / "layer.onnx"), providers=["CPUExecutionProvider"])
    x = np.load(tmp_path / "x.npy")
    fresh = np.random.default_rng(1).standard_normal((7, 6)).astype(np.float32)  # another batch size too
    for batch in (x, fresh):
        (y,) = session.run(None, {"x": batch})
        np.testing.assert_allclose(y, batch + np.maximum(batch @ kernel + bias, 0), rtol=1e-5, atol=1e-6)
    # d sum(y) / dW = x^T 1[xW + b > 0], d sum(y) / db = the mask's column sums.
    mask = (x @ kernel + bias > 0).astype(np.float32)
    assert 0 < mask.mean() < 1  # both sides of the relu
    np.testing.assert_allclose(np.load(tmp_path / "kernel_grad.npy"), x.T @ mask, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.load(tmp_path / "bias_grad.npy"), mask.sum(axis=0), rtol=1e-6)


def test_custom_model_trains_exports_and_its_metrics_match_numpy(tmp_path):
    out = example("custom_model", "--out", tmp_path)
    assert "outputs [256,1] and [256,1]" in out, out
    first, final = map(float, re.search(r"first loss ([0-9.]+) final loss ([0-9.]+)", out).groups())
    assert final < 0.3 * first, out
    model = onnx.load(str(tmp_path / "wide_deep.onnx"))
    onnx.checker.check_model(model)
    assert [i.name for i in model.graph.input] == ["wide", "deep"]
    assert [o.name for o in model.graph.output] == ["main", "aux"]
    assert {"deep.0.weight", "main_head.weight", "aux_head.weight"} <= {i.name for i in model.graph.initializer}
    wide, deep, target = (np.load(tmp_path / f"{name}.npy") for name in ("wide", "deep", "target"))
    np.testing.assert_allclose(target[:, 0], np.abs(wide.sum(axis=1)) + deep[:, 0] ** 2, rtol=1e-5)
    session = ort.InferenceSession(str(tmp_path / "wide_deep.onnx"), providers=["CPUExecutionProvider"])
    main, aux = session.run(None, {"wide": wide, "deep": deep})
    assert main.shape == aux.shape == (256, 1)
    error = np.abs(main.astype(np.float64) - target)
    quadratic = np.minimum(error, 1.0)
    huber, mae = map(float, re.search(r"final huber ([0-9.]+) final mae ([0-9.]+) over 256", out).groups())
    assert huber == pytest.approx(np.mean(0.5 * quadratic ** 2 + (error - quadratic)), abs=1e-4)
    assert mae == pytest.approx(np.mean(error), abs=1e-4)


def test_custom_training_loop_trains_fashion_mnist_end_to_end(tmp_path):
    out = example("custom_training_loop", "--epochs", 2, "--train-samples", 19200, "--out", tmp_path / "mlp.onnx")
    epochs = re.findall(r"^epoch (\d+) lr ([0-9.]+) train loss ([0-9.]+) train accuracy ([0-9.]+)$", out, re.M)
    assert [int(e[0]) for e in epochs] == [0, 1], out
    assert float(epochs[1][1]) == pytest.approx(float(epochs[0][1]) / 2)  # the loop's own schedule
    assert float(epochs[1][2]) < float(epochs[0][2]), out
    reported = float(re.search(r"^test accuracy: ([0-9.]+)$", out, re.M).group(1))
    # The exported classifier scored on Debian's test files by onnxruntime and numpy.
    images, labels = fashion_mnist_test_set()
    session = ort.InferenceSession(str(tmp_path / "mlp.onnx"), providers=["CPUExecutionProvider"])
    (logits,) = session.run(None, {"image": images})
    accuracy = float(np.mean(logits.argmax(axis=1) == labels))
    assert accuracy > 0.8
    assert reported == pytest.approx(accuracy, abs=2e-4)


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
    out = example("custom_model", "--out", tmp_path)
    assert "the huber metric" in out, out
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
