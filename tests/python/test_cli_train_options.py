"""`onyx train` flags checked by their results against PyTorch (Debian's /usr/bin/python3 has
torch 1.13): every loss (l1, huber, bce_with_logits, nll next to cross_entropy and mse), every
optimizer with its --momentum and --weight-decay, --label-smoothing, --huber-delta, --lr-schedule (torch's StepLR, LinearLR,
CosineAnnealingLR and SequentialLR), --max-grad-norm (clip_grad_norm_), --freeze and --trainable
patterns, --output, and the values of the top-k, mse and mae metrics (NumPy).

Each run is full-batch (--batch-size is the data size), so the shuffle order cannot matter and
epoch k is optimizer step k on the same batch in both frameworks."""
import json
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from cli_helpers import assert_one_error_line, make_model, run_onyx, save_model

TORCH_PYTHON = "/usr/bin/python3"
SAMPLES, FEATURES = 24, 4

# name -> loss, onyx flags after the loss, the torch optimizer, steps. Shared keys with the torch
# script: lr, momentum, weight_decay, schedule, max_norm, trainable.
CASES = {
    "l1_sgd": dict(loss="l1", flags=["--optimizer", "sgd"], torch="sgd", lr=0.1),
    "huber_momentum_override": dict(loss="huber", flags=["--optimizer", "momentum", "--momentum", "0.5"],
                                    torch="sgd", lr=0.2, momentum=0.5),
    "bce_with_logits_adam": dict(loss="bce_with_logits", flags=["--optimizer", "adam"], torch="adam", lr=0.05),
    "nll_sgd_weight_decay": dict(loss="nll", flags=["--optimizer", "sgd", "--weight-decay", "0.05"], torch="sgd",
                                 lr=0.3, weight_decay=0.05),
    "cross_entropy_adamw_default_decay": dict(loss="cross_entropy", flags=["--optimizer", "adamw"], torch="adamw",
                                              lr=0.05, weight_decay=0.01),
    "cross_entropy_adamw_decay": dict(loss="cross_entropy", flags=["--optimizer", "adamw", "--weight-decay", "0.3"],
                                      torch="adamw", lr=0.05, weight_decay=0.3),
    "mse_adam_l2_decay": dict(loss="mse", flags=["--optimizer", "adam", "--weight-decay", "0.1"], torch="adam",
                              lr=0.05, weight_decay=0.1),
    "cross_entropy_step_schedule": dict(loss="cross_entropy", flags=["--optimizer", "sgd", "--lr-schedule", "step:2:0.5"],
                                        torch="sgd", lr=0.5, schedule=[["step", 2, 0.5]]),
    "mse_warmup_cosine_schedule": dict(loss="mse", flags=["--optimizer", "adam", "--lr-schedule",
                                                          "warmup:2:0.25,cosine:4:0.001"],
                                       torch="adam", lr=0.05, schedule=[["warmup", 2, 0.25], ["cosine", 4, 0.001]]),
    "cross_entropy_linear_schedule": dict(loss="cross_entropy", flags=["--optimizer", "momentum", "--lr-schedule",
                                                                       "linear:1:0.2:4"],
                                          torch="sgd", lr=0.2, momentum=0.9, schedule=[["linear", 1.0, 0.2, 4]]),
    "cross_entropy_clip": dict(loss="cross_entropy", flags=["--optimizer", "momentum", "--max-grad-norm", "0.05"],
                               torch="sgd", lr=0.5, momentum=0.9, max_norm=0.05),
    "cross_entropy_freeze_pattern": dict(loss="cross_entropy", flags=["--optimizer", "adam", "--freeze", "*.bias"],
                                         torch="adam", lr=0.05, trainable=["fc.weight"]),
    "cross_entropy_label_smoothing": dict(loss="cross_entropy", flags=["--optimizer", "sgd", "--label-smoothing", "0.2"],
                                          torch="sgd", lr=0.5, label_smoothing=0.2),
    "huber_delta": dict(loss="huber", flags=["--optimizer", "sgd", "--huber-delta", "0.3"], torch="sgd", lr=0.3,
                        huber_delta=0.3),
    "huber_trainable_pattern": dict(loss="huber", flags=["--optimizer", "sgd", "--trainable", "fc.b*"], torch="sgd",
                                    lr=0.5, trainable=["fc.bias"]),
}
STEPS = 6

TORCH_SCRIPT = r"""
import json, sys
import numpy as np
import torch
import torch.nn.functional as F
cases = json.load(open(sys.argv[1]))
data = dict(np.load(sys.argv[2]))
losses = {"mse": F.mse_loss, "l1": F.l1_loss, "huber": F.huber_loss, "cross_entropy": F.cross_entropy,
          "nll": F.nll_loss, "bce_with_logits": F.binary_cross_entropy_with_logits}
sched = torch.optim.lr_scheduler
out = {}
for name, c in cases.items():
    p = {k: torch.tensor(data[name + "/" + k], requires_grad=True) for k in ("fc.weight", "fc.bias")}
    x, y = torch.tensor(data[name + "/x"]), torch.tensor(data[name + "/y"])
    train = [p[k] for k in c.get("trainable", ["fc.weight", "fc.bias"])]
    wd = c.get("weight_decay", 0.0)
    if c["torch"] == "sgd":
        opt = torch.optim.SGD(train, lr=c["lr"], momentum=c.get("momentum", 0.0), weight_decay=wd)
    elif c["torch"] == "adam":
        opt = torch.optim.Adam(train, lr=c["lr"], weight_decay=wd, foreach=False)
    else:
        opt = torch.optim.AdamW(train, lr=c["lr"], weight_decay=wd, foreach=False)
    parts, milestones, at = [], [], 0
    for spec in c.get("schedule", []):
        if parts:
            milestones.append(at)
        if spec[0] == "step":
            parts.append(sched.StepLR(opt, step_size=spec[1], gamma=spec[2]))
        elif spec[0] == "warmup":
            parts.append(sched.LinearLR(opt, start_factor=spec[2], end_factor=1.0, total_iters=spec[1]))
            at += spec[1]
        elif spec[0] == "linear":
            parts.append(sched.LinearLR(opt, start_factor=spec[1], end_factor=spec[2], total_iters=spec[3]))
            at += spec[3]
        else:
            parts.append(sched.CosineAnnealingLR(opt, T_max=spec[1], eta_min=spec[2]))
            at += spec[1]
    scheduler = None if not parts else parts[0] if len(parts) == 1 else sched.SequentialLR(opt, parts, milestones)
    for step in range(c["steps"]):
        opt.zero_grad()
        z = x @ p["fc.weight"] + p["fc.bias"]
        if c["loss"] == "nll":
            z = F.log_softmax(z, dim=1)
        options = {}
        if "label_smoothing" in c:
            options["label_smoothing"] = c["label_smoothing"]
        if "huber_delta" in c:
            options["delta"] = c["huber_delta"]
        losses[c["loss"]](z, y, **options).backward()
        if "max_norm" in c:
            torch.nn.utils.clip_grad_norm_(train, c["max_norm"])
        opt.step()
        if scheduler:
            scheduler.step()
    for k, v in p.items():
        out[name + "/" + k] = v.detach().numpy()
np.savez(sys.argv[3], **out)
"""


def outputs_for(loss):
    return {"cross_entropy": 3, "nll": 3, "bce_with_logits": 3}.get(loss, 2)


def case_data(name, loss):
    """Features, targets and initial weights of one case (seeded by its name)."""
    rng = np.random.default_rng(sum(map(ord, name)))
    k = outputs_for(loss)
    x = rng.standard_normal((SAMPLES, FEATURES)).astype(np.float32)
    if loss in ("cross_entropy", "nll"):
        y = rng.integers(0, k, SAMPLES).astype(np.int64)
    elif loss == "bce_with_logits":
        y = (rng.random((SAMPLES, k)) < 0.5).astype(np.float32)
    else:
        y = (x @ rng.standard_normal((FEATURES, k)) * 2).astype(np.float32)
    w = (rng.standard_normal((FEATURES, k)) * 0.5).astype(np.float32)
    b = (rng.standard_normal(k) * 0.5).astype(np.float32)
    return x, y, w, b


def linear_model(path, w, b, log_softmax=False, extra_softmax_output=False):
    """x[batch,4] -> Gemm(fc.weight, fc.bias) -> logits (-> LogSoftmax for nll); optionally a
    Softmax "probs" output listed first, so the loss must be pointed at "logits" with --output."""
    k = w.shape[1]
    nodes = [helper.make_node("Gemm", ["x", "fc.weight", "fc.bias"], ["z" if log_softmax else "logits"])]
    if log_softmax:
        nodes.append(helper.make_node("LogSoftmax", ["z"], ["logits"], axis=1))
    outputs = [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", k])]
    if extra_softmax_output:
        nodes.append(helper.make_node("Softmax", ["logits"], ["probs"], axis=1))
        outputs.insert(0, helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["batch", k]))
    model = make_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", FEATURES])], outputs,
                       [numpy_helper.from_array(w, "fc.weight"), numpy_helper.from_array(b, "fc.bias")])
    return save_model(model, path)


def trained(path):
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}


@pytest.fixture(scope="module")
def torch_results(tmp_path_factory):
    """PyTorch's weights after STEPS full-batch steps of every case (one torch process)."""
    folder = tmp_path_factory.mktemp("torch")
    arrays, cases = {}, {}
    for name, case in CASES.items():
        x, y, w, b = case_data(name, case["loss"])
        arrays.update({f"{name}/x": x, f"{name}/y": y, f"{name}/fc.weight": w, f"{name}/fc.bias": b})
        cases[name] = {key: value for key, value in case.items() if key != "flags"} | {"steps": STEPS}
    (folder / "cases.json").write_text(json.dumps(cases))
    np.savez(folder / "in.npz", **arrays)
    proc = subprocess.run([TORCH_PYTHON, "-c", TORCH_SCRIPT, folder / "cases.json", folder / "in.npz",
                           folder / "out.npz"], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return dict(np.load(folder / "out.npz"))


def train_full_batch(tmp_path, model, x, y, loss, *flags, lr):
    np.savez(tmp_path / "d.npz", x=x, y=y)
    out = tmp_path / "trained.onnx"
    proc = run_onyx("train", model, "--data", tmp_path / "d.npz", "--label", "y", "--loss", loss, "--lr", lr,
                    "--epochs", STEPS, "--batch-size", len(x), "--threads", "1", "--progress", "none", "--out", out,
                    *flags)
    assert proc.returncode == 0, proc.stderr
    return trained(out)


@pytest.mark.parametrize("name", list(CASES))
def test_trained_weights_match_pytorch(tmp_path, torch_results, name):
    case = CASES[name]
    x, y, w, b = case_data(name, case["loss"])
    model = linear_model(tmp_path / "m.onnx", w, b, log_softmax=case["loss"] == "nll")
    got = train_full_batch(tmp_path, model, x, y, case["loss"], *case["flags"], lr=case["lr"])
    initial = {"fc.weight": w, "fc.bias": b}
    for param in ("fc.weight", "fc.bias"):
        expected = torch_results[f"{name}/{param}"]
        np.testing.assert_allclose(got[param], expected, rtol=1e-4, atol=1e-5, err_msg=param)
        if param in case.get("trainable", [param]):
            assert not np.allclose(expected, initial[param]), "the case should move " + param
        else:
            np.testing.assert_array_equal(got[param], initial[param], err_msg=param + " is frozen")


def test_output_flag_picks_the_output_the_loss_reads(tmp_path, torch_results):
    """With "probs" listed first, --output logits trains exactly like the single-output model."""
    name = "cross_entropy_adamw_default_decay"
    x, y, w, b = case_data(name, "cross_entropy")
    model = linear_model(tmp_path / "two.onnx", w, b, extra_softmax_output=True)
    got = train_full_batch(tmp_path, model, x, y, "cross_entropy", "--optimizer", "adamw", "--output", "logits",
                           lr=CASES[name]["lr"])
    for param in ("fc.weight", "fc.bias"):
        np.testing.assert_allclose(got[param], torch_results[f"{name}/{param}"], rtol=1e-4, atol=1e-5)
    proc = run_onyx("train", model, "--data", tmp_path / "d.npz", "--label", "y", "--loss", "cross_entropy",
                    "--optimizer", "sgd", "--lr", "0.1", "--output", "scores", "--out", tmp_path / "o.onnx")
    assert proc.returncode == 1 and "has no output 'scores'" in proc.stderr


def reported(stdout, prefix, name):
    line = [line for line in stdout.splitlines() if line.startswith("epoch ") and " train loss " in line][-1]
    words = line.split()
    for i in range(len(words) - 2):
        if words[i] == prefix and words[i + 1] == name:
            return float(words[i + 2])
    raise AssertionError(f"no '{prefix} {name}' in {line!r}")


def test_classification_metrics_match_numpy(tmp_path):
    """accuracy, top2_accuracy and top3_accuracy on the validation set, recomputed from the trained
    weights; with 3 classes top3 is 1 by definition."""
    x, y, w, b = case_data("metrics", "cross_entropy")
    vx, vy, _, _ = case_data("metrics-val", "cross_entropy")
    np.savez(tmp_path / "val.npz", x=vx, y=vy)
    model = linear_model(tmp_path / "m.onnx", w, b)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    proc = run_onyx("train", model, "--data", tmp_path / "d.npz", "--val", tmp_path / "val.npz", "--label", "y",
                    "--loss", "cross_entropy", "--optimizer", "sgd", "--lr", "0.1", "--epochs", "2", "--threads", "1",
                    "--metrics", "accuracy,top2_accuracy,top3_accuracy", "--progress", "none",
                    "--out", tmp_path / "o.onnx")
    assert proc.returncode == 0, proc.stderr
    params = trained(tmp_path / "o.onnx")
    logits = vx @ params["fc.weight"] + params["fc.bias"]
    rank = (logits > logits[np.arange(len(vy)), vy][:, None]).sum(1)  # classes scored above the true one
    assert reported(proc.stdout, "val", "accuracy") == pytest.approx((rank < 1).mean(), abs=1e-4)
    assert reported(proc.stdout, "val", "top2_accuracy") == pytest.approx((rank < 2).mean(), abs=1e-4)
    assert reported(proc.stdout, "val", "top3_accuracy") == 1.0
    assert 0 < (rank < 1).mean() < (rank < 2).mean() < 1  # the numbers tell the metrics apart


def test_regression_metrics_match_numpy(tmp_path):
    x, y, w, b = case_data("regression", "mse")
    vx, vy, _, _ = case_data("regression-val", "mse")
    np.savez(tmp_path / "val.npz", x=vx, y=vy)
    model = linear_model(tmp_path / "m.onnx", w, b)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    proc = run_onyx("train", model, "--data", tmp_path / "d.npz", "--val", tmp_path / "val.npz", "--label", "y",
                    "--loss", "huber", "--optimizer", "adam", "--lr", "0.05", "--epochs", "2", "--threads", "1",
                    "--metrics", "mse,mae", "--progress", "none", "--out", tmp_path / "o.onnx")
    assert proc.returncode == 0, proc.stderr
    params = trained(tmp_path / "o.onnx")
    err = vx.astype(np.float64) @ params["fc.weight"] + params["fc.bias"] - vy
    assert reported(proc.stdout, "val", "mse") == pytest.approx((err ** 2).mean(), rel=1e-4)
    assert reported(proc.stdout, "val", "mae") == pytest.approx(np.abs(err).mean(), rel=1e-4)
    delta = np.abs(err)
    huber = np.where(delta < 1, 0.5 * err ** 2, delta - 0.5).mean()
    assert reported(proc.stdout, "val", "loss") == pytest.approx(huber, rel=1e-4)


@pytest.mark.parametrize("flags,message", [
    (["--loss", "mse", "--label-smoothing", "0.1"], "--label-smoothing applies to --loss cross_entropy, not mse"),
    (["--loss", "cross_entropy", "--label-smoothing", "1.5"], "--label-smoothing must be between 0 and 1, got 1.5"),
    (["--loss", "l1", "--huber-delta", "2"], "--huber-delta applies to --loss huber, not l1"),
    (["--loss", "huber", "--huber-delta", "0"], "--huber-delta must be positive, got 0")])
def test_loss_options_for_the_wrong_loss(tmp_path, flags, message):
    x, y, w, b = case_data("wrong", "mse")
    np.savez(tmp_path / "d.npz", x=x, y=y)
    proc = run_onyx("train", linear_model(tmp_path / "m.onnx", w, b), "--data", tmp_path / "d.npz", "--label", "y",
                    "--optimizer", "sgd", "--lr", "0.1", "--out", tmp_path / "o.onnx", *flags)
    assert_one_error_line(proc, message)
    assert not (tmp_path / "o.onnx").exists()
