"""onyx.nn from Python: modules written in Python (registration, naming, lazy layers, buffers,
train/eval, freezing), state dicts and checkpoint files, initializers, optimizers (schedules,
clipping, groups), metrics, tracing inside onyx.function, and export (onnxruntime runs the file;
`onyx train` trains the trainable export and evaluates a metric graph written in Python).
Reference values come from NumPy, onnxruntime or closed forms; the layers' agreement with torch
is in test_python_nn_torch.py."""
import math
import os
import re

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper

import onyx
from onyx import nn
from cli_helpers import run_onyx

RNG = np.random.default_rng(7)


def arr(value):
    return np.asarray(value)


class TwoTower(nn.Module):
    """Two inputs, two outputs, a skip connection, a Parameter of its own and a lazy layer."""

    def __init__(self):
        super().__init__()
        self.left = nn.Linear(4, 6)
        self.right = nn.Linear(None, 6)  # lazy: in_features from the first call
        self.scale = nn.Parameter(np.full(6, 0.5, np.float32))
        self.head = nn.Linear(6, 2)

    def forward(self, a, b):
        hidden = onyx.ops.Tanh(self.left(a) + self.right(b)) * self.scale.value
        return self.head(hidden) + a[:, :2], hidden  # the skip connection


def batch(n=8):
    a = RNG.standard_normal((n, 4)).astype(np.float32)
    b = RNG.standard_normal((n, 3)).astype(np.float32)
    return a, b


def test_attribute_assignment_registers_parameters_and_submodules_in_order():
    model = TwoTower()
    a, b = batch()
    assert not model.is_built()
    model(a, b)
    assert model.is_built()
    assert isinstance(model, nn.Module) and isinstance(model.left, nn.Module)
    assert model.type_name == "TwoTower"
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scale", "left.weight", "left.bias", "right.weight", "right.bias", "head.weight", "head.bias"]
    assert dict(model.named_parameters())["scale"] is model.scale  # the very object, shared with C++
    assert dict(model.named_parameters())["right.weight"].shape == (6, 3)
    assert [n for n, _ in model.named_modules()] == ["", "left", "right", "head"]
    assert [n for n, _ in model.named_children()] == ["left", "right", "head"]
    assert len(model.parameters()) == 7 and model.parameter_count() == 6 + 4 * 6 + 6 + 3 * 6 + 6 + 6 * 2 + 2
    model.note = "plain attributes stay Python attributes"
    assert model.note.startswith("plain") and len(model.state_dict()) == 7


def test_buffers_are_module_state_read_and_rebound_as_attributes():
    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("calls", np.zeros((), np.float32))

        def forward(self, x):
            if self.training:
                self.calls = self.calls + 1.0
            return x

    counter = Counter()
    for _ in range(3):
        counter(np.ones(2, np.float32))
    assert float(arr(counter.calls)) == 3.0
    assert [n for n, _ in counter.named_buffers()] == ["calls"]
    assert float(arr(counter.state_dict()["calls"])) == 3.0
    counter.eval()(np.ones(2, np.float32))
    assert float(arr(counter.calls)) == 3.0


def test_custom_model_trains_with_a_tape_loop_and_the_cpp_optimizer():
    model = TwoTower()
    a, b = batch(32)
    target = np.stack([np.sin(a[:, 0] + b[:, 1]), a[:, 2] * b[:, 0]], axis=1).astype(np.float32)
    model(a, b)
    optimizer = nn.Adam(model, lr=0.05)
    scale_before = arr(model.scale.value).copy()
    losses = []
    for _ in range(40):
        with onyx.GradientTape() as tape:
            tape.watch(*model.parameters())
            prediction, hidden = model(a, b)
            loss = nn.mse_loss(prediction, target) + 1e-3 * onyx.ops.ReduceMean(hidden * hidden, keepdims=0)
        optimizer.apply_gradients(tape.gradient(loss, model.parameters()), model.parameters())
        losses.append(float(arr(loss)))
    assert losses[-1] < 0.3 * losses[0], losses
    assert not np.allclose(arr(model.scale.value), scale_before)  # the Python-made Parameter was updated
    assert optimizer.names == [n for n, _ in model.named_parameters()]


def test_state_dict_and_load_state_dict_errors_change_nothing():
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
    state = {name: arr(value).copy() for name, value in model.state_dict().items()}
    assert sorted(state) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    changed = {name: value + 1.0 for name, value in state.items()}
    for bad, words in (
        ({k: v for k, v in changed.items() if k != "2.bias"}, ["'2.bias'", "missing"]),
        (dict(changed, extra=np.zeros(1, np.float32)), ["'extra'", "not a parameter"]),
        (dict(changed, **{"0.weight": np.zeros((4, 4), np.float32)}), ["'0.weight'", "[4,4]", "[4,3]"]),
        (dict(changed, **{"0.bias": np.zeros(4, np.float64)}), ["'0.bias'", "double"]),
    ):
        with pytest.raises(onyx.InvalidArgument) as error:
            model.load_state_dict(bad)
        message = str(error.value)
        assert "\n" not in message and all(w in message for w in words), message
        for name, value in model.state_dict().items():
            np.testing.assert_array_equal(arr(value), state[name])  # no partial change
    model.load_state_dict({"0.weight": changed["0.weight"]}, strict=False)
    np.testing.assert_array_equal(arr(model.state_dict()["0.weight"]), changed["0.weight"])
    np.testing.assert_array_equal(arr(model.state_dict()["2.weight"]), state["2.weight"])


def test_save_and_load_round_trip_atomically_and_refuse_damage(tmp_path):
    model = TwoTower()
    a, b = batch()
    expected = arr(model(a, b)[0])
    path = tmp_path / "model.ckpt"
    model.save(str(path))
    assert os.listdir(tmp_path) == ["model.ckpt"]  # written to a temporary file and renamed
    other = TwoTower()
    other(a, b)
    other.load(str(path))
    np.testing.assert_array_equal(arr(other(a, b)[0]), expected)
    # The file is the C++ checkpoint format: the same structure built in C++ reads it too.
    data = path.read_bytes()
    (tmp_path / "truncated.ckpt").write_bytes(data[: len(data) // 2])
    with pytest.raises(onyx.OnyxError) as error:
        other.load(str(tmp_path / "truncated.ckpt"))
    assert "truncated.ckpt" in str(error.value) and "damaged" in str(error.value) and "\n" not in str(error.value)
    np.testing.assert_array_equal(arr(other(a, b)[0]), expected)

    class Different(nn.Module):
        def __init__(self):
            super().__init__()
            self.left = nn.Linear(4, 6)

    with pytest.raises(onyx.InvalidArgument, match="holds a TwoTower, not a Different"):
        Different().load(str(path))


def test_train_and_eval_switch_dropout_and_batchnorm():
    model = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm(3))
    x = (RNG.standard_normal((64, 3)) * 3 + 5).astype(np.float32)
    assert model.training and model[1].training
    y = arr(model(x))
    # Dropout zeroes about half and scales the rest by 2; BatchNorm then uses the batch statistics.
    dropped = arr(model[0](x))
    assert 0.3 < np.mean(dropped == 0) < 0.7
    kept = dropped != 0
    np.testing.assert_allclose(dropped[kept], 2 * x[kept], rtol=1e-6)
    np.testing.assert_allclose(y.mean(axis=0), 0, atol=1e-4)
    assert model.eval() is model and not model.training and not model[0].training
    np.testing.assert_array_equal(arr(model[0](x)), x)
    running_mean, running_var = arr(model[1].running_mean), arr(model[1].running_var)
    expected = (x - running_mean) / np.sqrt(running_var + 1e-5)
    np.testing.assert_allclose(arr(model(x)), expected, rtol=1e-5, atol=1e-5)
    model.train()
    assert model[0].training


def test_frozen_parameters_stay_out_of_the_optimizer():
    model = TwoTower()
    a, b = batch()
    model(a, b)
    model.left.requires_grad_(False)
    assert [n for n, p in model.named_parameters() if not p.trainable] == ["left.weight", "left.bias"]
    assert len(model.parameters()) == 5 and "left.weight" in model.state_dict()
    frozen = arr(model.left.weight.value).copy()
    optimizer = nn.SGD(model, lr=0.1)
    with onyx.GradientTape() as tape:
        tape.watch(*optimizer.parameters())
        loss = nn.mse_loss(model(a, b)[0], np.zeros((8, 2), np.float32))
    optimizer.step(tape.gradient(loss, optimizer.parameters()))
    np.testing.assert_array_equal(arr(model.left.weight.value), frozen)
    assert "left.weight" not in optimizer.names


def test_optimizer_schedules_clipping_and_groups():
    weight = nn.Parameter(np.ones(3, np.float32))
    bias = nn.Parameter(np.ones(1, np.float32))
    optimizer = nn.SGD([("w", weight), ("b", bias)], lr=0.1, max_grad_norm=1.0,
                       schedules={"lr": onyx.training.StepLR(2, 0.5)})
    grads = [np.full(3, 2.0, np.float32), np.full(1, 2.0, np.float32)]
    rates = []
    for _ in range(5):
        rates.append(optimizer.learning_rate())
        optimizer.apply_gradients(grads, [weight, bias])
    np.testing.assert_allclose(rates, [0.1 * 0.5 ** (step // 2) for step in range(5)])
    assert optimizer.last_gradient_norm == pytest.approx(4.0)  # sqrt(4 * 2^2), before clipping to 1
    # Clipped to norm 1: each step moves every element by lr * 2 / 4.
    np.testing.assert_allclose(arr(weight.value), 1 - sum(rates) * 0.5, rtol=1e-6)

    # torch's parameter groups: the second group's lr 0 leaves it untouched.
    a, b = nn.Parameter(np.ones(2, np.float32)), nn.Parameter(np.ones(2, np.float32))
    grouped = nn.Adam([{"params": [a]}, {"params": [b], "lr": 0.0}], lr=0.1)
    grouped.step([np.ones(2, np.float32), np.ones(2, np.float32)])
    np.testing.assert_allclose(arr(a.value), 0.9, rtol=1e-5)  # Adam's first step moves by lr
    np.testing.assert_array_equal(arr(b.value), 1.0)
    with pytest.raises(onyx.InvalidArgument, match="1 gradients for 2 parameters"):
        grouped.step([np.ones(2, np.float32)])
    with pytest.raises(TypeError, match="onyx.nn.Parameter"):
        nn.SGD([np.ones(2)], lr=0.1)


def test_adamw_matches_its_closed_form_first_step():
    p = nn.Parameter(np.array([1.0, -2.0], np.float32))
    nn.AdamW([p], lr=0.1, weight_decay=0.5).step([np.array([0.3, -0.1], np.float32)])
    # Decoupled decay p(1 - lr wd), then Adam's first step lr * sign(g).
    np.testing.assert_allclose(arr(p.value), np.array([1.0, -2.0]) * (1 - 0.05) - 0.1 * np.array([1, -1]), rtol=1e-5)


def test_initializers():
    w1 = arr(nn.init.glorot_uniform((30, 20), seed=3))
    np.testing.assert_array_equal(w1, arr(nn.init.glorot_uniform((30, 20), seed=3)))
    assert not np.array_equal(w1, arr(nn.init.glorot_uniform((30, 20), seed=4)))
    bound = math.sqrt(6 / (20 + 30))
    assert np.abs(w1).max() <= bound and np.abs(w1).max() > 0.9 * bound
    he = arr(nn.init.he_normal((400, 100), seed=1))
    assert abs(he.std() - math.sqrt(2 / 100)) < 0.01
    assert nn.init.fans((8, 4, 3, 3)) == (4 * 9, 8 * 9)
    np.testing.assert_array_equal(arr(nn.init.zeros((2, 3))), np.zeros((2, 3)))
    np.testing.assert_array_equal(arr(nn.init.constant((2,), 0.25)), [0.25, 0.25])
    normal = arr(nn.init.normal((10000,), mean=1.0, std=0.5, seed=2))
    assert abs(normal.mean() - 1.0) < 0.02 and abs(normal.std() - 0.5) < 0.02
    layer = nn.Linear(4, 3, weight_init=nn.init.Constant(0.5), bias_init=lambda shape: np.arange(shape[0]))
    np.testing.assert_array_equal(arr(layer.weight.value), np.full((3, 4), 0.5))
    np.testing.assert_array_equal(arr(layer.bias.value), [0, 1, 2])
    nn.manual_seed(11)
    first = arr(nn.Linear(5, 5).weight.value)
    nn.manual_seed(11)
    np.testing.assert_array_equal(arr(nn.Linear(5, 5).weight.value), first)
    assert np.abs(first).max() <= 1 / math.sqrt(5)  # torch's fan-in uniform


def test_sequential_holds_python_modules_and_indexes():
    class Double(nn.Module):
        def forward(self, x):
            return x * 2.0

    model = nn.Sequential(nn.Linear(3, 3, weight_init=nn.init.Ones(), bias_init=nn.init.Zeros()), Double())
    model.append(nn.ReLU())
    assert len(model) == 3 and isinstance(model[1], Double) and isinstance(model[-1], nn.ReLU)
    x = np.array([[1.0, -3.0, 1.0]], np.float32)
    np.testing.assert_array_equal(arr(model(x)), np.maximum(2 * x.sum(axis=1, keepdims=True) * np.ones((1, 3)), 0))
    with pytest.raises(onyx.InvalidArgument, match="not on built-in layers"):
        model.add_module("x", Double())  # Sequential is a built-in layer: append() adds to it
    parent = TwoTower()
    with pytest.raises(onyx.InvalidArgument, match="'left' is registered twice"):
        parent.left = nn.Linear(4, 6)


def test_metrics_accumulate_and_export_as_graphs(tmp_path):
    def mean_abs(prediction, target):
        return onyx.ops.ReduceMean(onyx.ops.Abs(prediction - target), keepdims=0)

    metric = nn.MeanMetric("mae", mean_abs)
    batches = [(RNG.standard_normal((n, 2)).astype(np.float32), RNG.standard_normal((n, 2)).astype(np.float32))
               for n in (3, 5)]
    for p, t in batches:
        metric.update_state(p, t)
    values = [np.abs(p - t).mean() for p, t in batches]
    assert metric.result() == pytest.approx((3 * values[0] + 5 * values[1]) / 8, rel=1e-6)
    assert metric.count == 8
    metric.reset()
    assert metric.count == 0
    metric.save_graph(batches[0][0], batches[0][1], tmp_path / "mae.onnx")
    session = ort.InferenceSession(str(tmp_path / "mae.onnx"), providers=["CPUExecutionProvider"])
    p, t = batches[1]
    assert session.run(None, {"prediction": p, "target": t})[0] == pytest.approx(values[1], rel=1e-6)

    accuracy = nn.BuiltinMetric("accuracy")
    logits = RNG.standard_normal((10, 4)).astype(np.float32)
    labels = RNG.integers(0, 4, 10).astype(np.int64)
    accuracy.update_state(logits, labels)
    assert accuracy.result() == pytest.approx(np.mean(logits.argmax(axis=1) == labels))


def test_a_python_model_traces_inside_onyx_function():
    model = TwoTower()
    a, b = batch()
    eager = [arr(t) for t in model(a, b)]
    traced = onyx.function(lambda a, b: model(a, b))
    outputs = traced(a, b)
    for got, want in zip(outputs, eager):
        np.testing.assert_allclose(arr(got), want, rtol=1e-6, atol=1e-6)
    assert "Gemm" in traced.get_concrete_function(a, b).op_types


def ort_outputs(path, feeds):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, feeds)


def test_export_of_a_python_model_runs_in_onnxruntime(tmp_path):
    model = TwoTower()
    a, b = batch()
    model(a, b)
    path = tmp_path / "two_tower.onnx"
    nn.export(model, [a, b], path, input_names=["a", "b"], output_names=["y", "hidden"])
    exported = onnx.load(str(path))
    onnx.checker.check_model(exported)
    assert {i.name for i in exported.graph.initializer} >= {n for n, _ in model.named_parameters()}
    assert [i.name for i in exported.graph.input] == ["a", "b"]
    scale = next(i for i in exported.graph.initializer if i.name == "scale")
    np.testing.assert_array_equal(numpy_helper.to_array(scale), arr(model.scale.value))
    a3, b3 = batch(3)  # the batch dim is symbolic
    for got, want in zip(ort_outputs(path, {"a": a3, "b": b3}), model(a3, b3)):
        np.testing.assert_allclose(got, arr(want), rtol=1e-5, atol=1e-6)
    assert model.training  # export ran in eval mode and restored the mode


def test_export_of_a_built_in_model_runs_in_onnxruntime_in_eval_mode(tmp_path):
    model = nn.Sequential(nn.Conv2d(2, 4, 3, padding=1), nn.BatchNorm(4), nn.ReLU(), nn.MaxPool2d(2), nn.Dropout(0.3),
                          nn.Flatten(), nn.Linear(4 * 3 * 3, 5))
    x = RNG.standard_normal((6, 2, 6, 6)).astype(np.float32)
    model(x)  # training mode: BatchNorm's running statistics move
    data = nn.export(model, x, input_names=["x"])
    (tmp_path / "cnn.onnx").write_bytes(data)
    names = {i.name for i in onnx.load(str(tmp_path / "cnn.onnx")).graph.initializer}
    assert {"0.weight", "1.running_mean", "1.running_var", "6.bias"} <= names
    model.eval()
    np.testing.assert_allclose(ort_outputs(tmp_path / "cnn.onnx", {"x": x})[0], arr(model(x)), rtol=1e-4, atol=1e-5)


def test_trainable_export_trains_in_onyx_train_with_a_python_metric_graph(tmp_path):
    model = nn.Linear(4, 1)
    x = RNG.standard_normal((128, 4)).astype(np.float32)
    true_w = np.array([[1.0, -2.0, 0.5, 3.0]], np.float32)
    label = (x @ true_w.T + 0.7).astype(np.float32)
    np.savez(tmp_path / "train.npz", x=x[:96], label=label[:96])
    np.savez(tmp_path / "val.npz", x=x[96:], label=label[96:])
    nn.export_trainable(model, [x[:2]], tmp_path / "linear.onnx", loss="mse", input_names=["x"])
    assert {p.key: p.value for p in onnx.load(str(tmp_path / "linear.onnx")).metadata_props}["onyx.nn.loss"] == "mse"
    metric = nn.MeanMetric("mae", lambda p, t: onyx.ops.ReduceMean(onyx.ops.Abs(p - t), keepdims=0))
    metric.save_graph(label[:2], label[:2], tmp_path / "mae.onnx")
    proc = run_onyx("train", tmp_path / "linear.onnx", "--data", tmp_path / "train.npz", "--val", tmp_path / "val.npz",
                    "--label", "label", "--loss", "mse", "--optimizer", "sgd", "--lr", "0.1", "--epochs", "5",
                    "--batch-size", "16", "--metric-graph", f"mae={tmp_path / 'mae.onnx'}",
                    "--out", tmp_path / "trained.onnx")
    assert proc.returncode == 0, proc.stderr
    losses = [float(v) for v in re.findall(r"loss ([0-9.]+)", proc.stdout)]
    assert losses and losses[-1] < 0.05 * losses[0], proc.stdout
    trained = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(tmp_path / "trained.onnx")).graph.initializer}
    assert sorted(trained) == ["bias", "weight"]
    reported = [float(v) for v in re.findall(r"val mae ([0-9.]+)", proc.stdout)]
    expected = np.abs(x[96:] @ trained["weight"].T + trained["bias"] - label[96:]).mean()
    assert reported and reported[-1] == pytest.approx(expected, abs=6e-5), proc.stdout  # printed to 4 places
    # The trained weights load back into the module by name.
    model.load_state_dict(trained)
    np.testing.assert_allclose(arr(model(x[96:])), x[96:] @ trained["weight"].T + trained["bias"], rtol=1e-5)


def test_errors_are_one_line_and_typed():
    with pytest.raises(onyx.InvalidArgument, match="modules written in Python"):
        nn.Linear(2, 2).register_buffer("b", np.zeros(1, np.float32))
    with pytest.raises(onyx.InvalidArgument, match="Parameter.value: a float\\[3\\] tensor for a float\\[2\\]"):
        nn.Parameter(np.zeros(2, np.float32)).value = np.zeros(3, np.float32)
    with pytest.raises(onyx.InvalidArgument, match="optimizer: .*call the model once"):
        nn.SGD(nn.Sequential(nn.Linear(None, 2)), lr=0.1)
    with pytest.raises(onyx.InvalidArgument, match="GELU: approximate"):
        nn.GELU("erf")
    with pytest.raises(NotImplementedError, match="has no forward"):
        nn.export(type("NoForward", (nn.Module,), {})(), [np.zeros((1, 2), np.float32)])
