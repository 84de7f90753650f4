"""onyx.training from Python: TrainingSession trajectories against torch.optim (Debian's torch,
run in /usr/bin/python3 on the same data, initial weights and batch order) for SGD with
momentum/Nesterov/weight decay, parameter groups and gradient clipping, Adam (AMSGrad) with a
step schedule, AdamW with a cosine schedule on a label-smoothed cross-entropy; against the C++ API
through `onyx train` (the same epochs, seed and batches give the same weights); checkpoints;
the gradient model run by onnxruntime against NumPy's gradient; and one-line errors."""
import json
import os
import subprocess

import numpy as np
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper

import onyx
import onyx.training as T
from cli_helpers import make_model, run_onyx, save_model

TORCH_PYTHON = os.environ.get("ONYX_TORCH_PYTHON", "/usr/bin/python3")
FEATURES = 4

# Replays the steps with torch.optim: reads case.npz (x, y, w0, b0, orders) and case.json (the
# optimizer, schedule, loss, steps), prints per-step losses and the final W and B as JSON.
TORCH_REFERENCE = r"""
import json, sys
import numpy as np, torch
case = json.load(open(sys.argv[1] + ".json"))
data = np.load(sys.argv[1] + ".npz")
W = torch.tensor(data["w0"], requires_grad=True)
B = torch.tensor(data["b0"], requires_grad=True)
groups = [{"params": [W]}, {"params": [B], **case.get("b_group", {})}]
o = case["optimizer"]
if o["kind"] == "sgd":
    opt = torch.optim.SGD(groups, lr=o["lr"], momentum=o.get("momentum", 0), weight_decay=o.get("weight_decay", 0),
                          nesterov=o.get("nesterov", False))
elif o["kind"] == "adam":
    opt = torch.optim.Adam(groups, lr=o["lr"], betas=tuple(o.get("betas", (0.9, 0.999))), amsgrad=o.get("amsgrad", False))
else:
    opt = torch.optim.AdamW(groups, lr=o["lr"], weight_decay=o["weight_decay"])
s = case.get("schedule")
scheduler = None
if s and s[0] == "step":
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=s[1], gamma=s[2])
elif s and s[0] == "cosine":
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=s[1])
x, y = torch.tensor(data["x"]), torch.tensor(data["y"])
losses = []
for rows in data["orders"]:
    rows = torch.tensor(rows)
    pred = x[rows] @ W + B
    if case["loss"] == "mse":
        loss = torch.nn.functional.mse_loss(pred, y[rows])
    else:
        loss = torch.nn.functional.cross_entropy(pred, y[rows], label_smoothing=case.get("label_smoothing", 0.0))
    opt.zero_grad()
    loss.backward()
    if case.get("max_grad_norm"):
        torch.nn.utils.clip_grad_norm_([W, B], case["max_grad_norm"])
    opt.step()
    if scheduler:
        scheduler.step()
    losses.append(loss.item())
print(json.dumps({"losses": losses, "W": W.detach().numpy().tolist(), "B": B.detach().numpy().tolist()}))
"""


def linear_model(outputs):
    """x[batch, 4] -> Gemm(W[4, outputs], B[outputs]) -> pred, with seeded initial weights."""
    rng = np.random.default_rng(outputs)
    w0 = (rng.standard_normal((FEATURES, outputs)) * 0.3).astype(np.float32)
    b0 = (rng.standard_normal(outputs) * 0.1).astype(np.float32)
    model = make_model([helper.make_node("Gemm", ["x", "W", "B"], ["pred"])],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", FEATURES])],
                       [helper.make_tensor_value_info("pred", TensorProto.FLOAT, ["batch", outputs])],
                       [numpy_helper.from_array(w0, "W"), numpy_helper.from_array(b0, "B")], name="linear")
    return model, w0, b0


def regression_data(n=48, seed=3):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, FEATURES)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5], [3.0]], np.float32) + 0.25).astype(np.float32)
    return x, y


def classification_data(n=60, seed=4):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n).astype(np.int64)
    x = (np.eye(3, FEATURES, dtype=np.float32)[y] * 2 + rng.standard_normal((n, FEATURES)) * 0.7).astype(np.float32)
    return x, y


def batch_orders(n, batch_size, epochs, seed):
    return [order[begin:begin + batch_size] for epoch in range(epochs)
            for order in [T.epoch_order(n, seed, epoch)] for begin in range(0, n, batch_size)]


def torch_trajectory(tmp_path, case, x, y, w0, b0, orders):
    prefix = str(tmp_path / "case")
    json.dump(case, open(prefix + ".json", "w"))
    # Equal batch sizes (n divisible by the batch size), so the orders stack into one array.
    np.savez(prefix + ".npz", x=x, y=y, w0=w0, b0=b0, orders=np.stack(orders))
    result = subprocess.run([TORCH_PYTHON, "-c", TORCH_REFERENCE, prefix], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def onyx_trajectory(session, x, y, orders, target="y"):
    return [session.train_step({"x": x[rows], target: y[rows]}) for rows in orders]


CASES = {
    "sgd_nesterov_weight_decay_groups": dict(
        outputs=1, loss="mse", optimizer={"kind": "sgd", "lr": 0.05, "momentum": 0.9, "weight_decay": 0.01,
                                          "nesterov": True},
        b_group={"lr": 0.2}, max_grad_norm=1.0,
        onyx=lambda: T.SGD(0.05, momentum=0.9, weight_decay=0.01, nesterov=True, max_grad_norm=1.0,
                           param_groups=[{"params": ["B"], "lr": 0.2}])),
    "adam_amsgrad_step_schedule": dict(
        outputs=1, loss="mse", optimizer={"kind": "adam", "lr": 0.1, "betas": [0.8, 0.99], "amsgrad": True},
        schedule=["step", 4, 0.5],
        onyx=lambda: T.Adam(0.1, betas=(0.8, 0.99), amsgrad=True),
        schedules={"lr": T.StepLR(4, 0.5)}),
    "adamw_cosine_label_smoothing": dict(
        outputs=3, loss="cross_entropy", optimizer={"kind": "adamw", "lr": 0.05, "weight_decay": 0.1},
        schedule=["cosine", 15], label_smoothing=0.1,
        onyx=lambda: T.AdamW(0.05, weight_decay=0.1), schedules={"lr": T.CosineAnnealing(15)}),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_trajectory_matches_torch_optim(tmp_path, name):
    case = dict(CASES[name])
    make_optimizer, schedules = case.pop("onyx"), case.pop("schedules", None)
    model, w0, b0 = linear_model(case["outputs"])
    x, y = regression_data() if case["loss"] == "mse" else classification_data()
    orders = batch_orders(len(x), 12, 4, seed=7)
    expected = torch_trajectory(tmp_path, case, x, y, w0, b0, orders)
    loss = T.Loss(case["loss"], target="y", label_smoothing=case.get("label_smoothing", 0.0))
    session = T.TrainingSession(model, loss, optimizer=make_optimizer(), schedules=schedules, intra_op_num_threads=1)
    losses = onyx_trajectory(session, x, y, orders)
    np.testing.assert_allclose(losses, expected["losses"], rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(session.parameters["W"], expected["W"], rtol=2e-5, atol=2e-6)
    np.testing.assert_allclose(session.parameters["B"], expected["B"], rtol=2e-5, atol=2e-6)
    assert session.step == len(orders)


def test_python_loop_makes_the_same_steps_as_onyx_train(tmp_path):
    model, _, _ = linear_model(3)
    path = save_model(model, tmp_path / "linear.onnx")
    x, y = classification_data(n=50)
    np.savez(tmp_path / "data.npz", x=x, y=y)
    epochs, batch_size, seed = 3, 16, 5
    run_onyx("train", str(path), "--data", str(tmp_path / "data.npz"), "--label", "y", "--loss", "cross_entropy",
             "--optimizer", "momentum", "--lr", "0.1", "--epochs", str(epochs), "--batch-size", str(batch_size),
             "--seed", str(seed), "--threads", "1", "--metrics", "none", "--log", str(tmp_path / "log.jsonl"),
             "--out", str(tmp_path / "trained.onnx"))
    trained = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(tmp_path / "trained.onnx")).graph.initializer}
    cli_losses = [json.loads(line)["train_loss"] for line in open(tmp_path / "log.jsonl")]

    session = T.TrainingSession(str(path), "cross_entropy", target="y", optimizer=T.SGD(0.1, momentum=0.9),
                                seed=seed, intra_op_num_threads=1)
    epoch_losses = []
    for epoch in range(epochs):
        batches = list(T.batches({"x": x, "y": y}, batch_size, seed=seed, epoch=epoch))
        losses = session.fit(batches)
        epoch_losses.append(np.average(losses, weights=[len(b["y"]) for b in batches]))
    for name in ("W", "B"):
        np.testing.assert_allclose(session.parameters[name], trained[name], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(epoch_losses, cli_losses, rtol=1e-5)


def test_metrics_eval_and_custom_loop_pieces():
    model, _, _ = linear_model(3)
    x, y = classification_data()
    session = T.TrainingSession(model, "cross_entropy", target="y", optimizer=T.SGD(0.5), metrics=["accuracy"])
    for epoch in range(5):
        session.fit(T.batches({"x": x, "y": y}, 20, epoch=epoch))
    result = session.evaluate(T.batches({"x": x, "y": y}, 25, shuffle=False))
    logits = x @ session.parameters["W"] + session.parameters["B"]
    assert result["accuracy"] == pytest.approx(np.mean(logits.argmax(1) == y))
    shifted = logits - logits.max(1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(1, keepdims=True))
    assert result["loss"] == pytest.approx(-np.mean(log_p[np.arange(len(y)), y]), rel=1e-5)
    step = session.eval_step({"x": x[:5], "y": y[:5]})
    np.testing.assert_allclose(step.outputs["pred"], logits[:5], rtol=1e-5, atol=1e-6)
    assert step.batch_size == 5 and session.is_training  # eval_step leaves the mode as it was

    # backward accumulates like torch's .grad; optimizer_step applies SGD: W - lr * grad.
    session.zero_grad()
    before = session.parameters["W"]
    session.backward({"x": x[:10], "y": y[:10]})
    once = session.gradients["W"]
    session.backward({"x": x[:10], "y": y[:10]})
    np.testing.assert_allclose(session.gradients["W"], 2 * once, rtol=1e-6)
    session.optimizer_step()
    np.testing.assert_allclose(session.parameters["W"], before - 0.5 * 2 * once, rtol=1e-5, atol=1e-7)


def test_checkpoint_resumes_the_same_trajectory(tmp_path):
    model, _, _ = linear_model(1)
    x, y = regression_data()
    orders = batch_orders(len(x), 12, 2, seed=1)

    def session():
        return T.TrainingSession(model, "mse", target="y", optimizer=T.Adam(0.05),
                                 schedules={"lr": T.Sequential(T.Warmup(3), T.CosineAnnealing(10))})

    straight = session()
    expected = onyx_trajectory(straight, x, y, orders)
    first = session()
    onyx_trajectory(first, x, y, orders[:3])
    first.save_checkpoint(tmp_path / "checkpoint-3.onnx")
    resumed = session()
    resumed.load_checkpoint(T.latest_checkpoint(tmp_path))
    assert resumed.step == 3 and resumed.learning_rate() == pytest.approx(straight_lr(orders, 3))
    np.testing.assert_allclose(onyx_trajectory(resumed, x, y, orders[3:]), expected[3:], rtol=1e-6)
    np.testing.assert_allclose(resumed.parameters["W"], straight.parameters["W"], rtol=1e-6)


def straight_lr(orders, step):
    """The warmup-then-cosine learning rate before update `step` + 1 (torch's LinearLR(0, 1, 3))."""
    return 0.05 * step / 3 if step < 3 else 0.05 * (1 + np.cos(np.pi * (step - 3) / 10)) / 2


def test_gradient_model_runs_in_onnxruntime_with_numpys_gradient(tmp_path):
    model, w0, b0 = linear_model(1)
    gradient = T.build_gradient_model(model, "mse", target="y")
    assert gradient.targets == ["y"] and set(gradient.gradients) == {"W", "B"}
    gradient.save(tmp_path / "gradient.onnx")
    assert os.listdir(tmp_path) == ["gradient.onnx"]
    x, y = regression_data(n=8)
    session = onnxruntime.InferenceSession(str(tmp_path / "gradient.onnx"), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    outputs = dict(zip(names, session.run(None, {"x": x, "y": y})))
    residual = x @ w0 + b0 - y
    np.testing.assert_allclose(outputs[gradient.gradients["W"]], 2 / 8 * x.T @ residual, rtol=1e-5)
    np.testing.assert_allclose(outputs[gradient.gradients["B"]], 2 / 8 * residual.sum(0), rtol=1e-5)
    np.testing.assert_allclose(outputs[gradient.loss], np.mean(residual ** 2), rtol=1e-5)
    # onyx runs the same model.
    ours = onyx.InferenceSession(gradient.model).run([gradient.gradients["W"]], {"x": x, "y": y})[0]
    np.testing.assert_allclose(ours, outputs[gradient.gradients["W"]], rtol=1e-5)


def test_frozen_parameters_stay_and_trainable_names_report_it():
    model, w0, _ = linear_model(1)
    x, y = regression_data()
    session = T.TrainingSession(model, "mse", target="y", frozen=["W"], optimizer=T.SGD(0.1))
    session.fit(T.batches({"x": x, "y": y}, 16))
    assert session.trainable_names == ["B"]
    assert "W" not in session.parameters or np.array_equal(session.parameters.get("W", w0), w0)


def one_line_error(error_type, call, *texts):
    with pytest.raises(error_type) as caught:
        call()
    message = str(caught.value)
    assert "\n" not in message and "std::" not in message, message
    for text in texts:
        assert text in message, message


def test_bad_input_is_a_one_line_error(tmp_path):
    model, _, _ = linear_model(1)
    x, y = regression_data()
    one_line_error(onyx.InvalidArgument, lambda: T.TrainingSession(model, "msq"), "unknown loss 'msq'")
    session = T.TrainingSession(model, "mse", target="y")
    one_line_error(onyx.InvalidArgument, lambda: session.train_step({"x": x}), "missing input 'y'")
    one_line_error(onyx.InvalidArgument, lambda: session.train_step({"x": x[:, :3], "y": y}), "x")
    one_line_error(onyx.InvalidArgument, lambda: session.train_step([x, y]), "a batch must be a dict")
    one_line_error(onyx.OnyxError, lambda: T.TrainingSession(
        model, "mse", optimizer=T.SGD(0.1, param_groups=[{"params": ["nope"]}])), "nope")
    one_line_error(onyx.OnyxError, lambda: session.load_checkpoint(tmp_path / "missing.onnx"), "missing.onnx")
    one_line_error(onyx.OnyxError, lambda: T.TrainingSession(str(tmp_path / "absent.onnx"), "mse"), "absent.onnx")
    with pytest.raises(ValueError, match="params"):
        T.SGD(0.1, param_groups=[{"lr": 0.1}])
