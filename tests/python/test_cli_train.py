"""`onyx train`: every data format, the per-epoch lines and log rows, early stopping, resuming,
Ctrl-C, the bad-input contract (one error line, no file left behind), and trained weights
checked against a NumPy computation of the same training."""
import csv
import gzip
import json
import os
import signal
import struct
import subprocess
import time

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from cli_helpers import assert_one_error_line, make_model, onyx_path, run_onyx, save_model

FEATURES, CLASSES = 4, 3
FLAGS = ["--data", "--val", "--val-split", "--label", "--loss", "--optimizer", "--lr", "--epochs", "--batch-size",
         "--metrics", "--trainable", "--freeze", "--checkpoint-dir", "--resume", "--seed", "--custom-ops",
         "--threads", "--out", "--test", "--log", "--early-stopping", "--patience", "--progress", "--label-smoothing",
         "--huber-delta", "--max-grad-norm", "--lr-schedule", "--weight-decay", "--momentum", "--output",
         "--metric-graph", "--tensorboard", "--per-rank-batch", "--collective-timeout"]


def linear_model(path, w=None, b=None, batch="batch"):
    """x[batch, 4] -> Gemm(W[4,3], B[3]) -> logits[batch, 3]."""
    w = np.zeros((FEATURES, CLASSES), np.float32) if w is None else w
    b = np.zeros(CLASSES, np.float32) if b is None else b
    model = make_model([helper.make_node("Gemm", ["x", "W", "B"], ["logits"])],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [batch, FEATURES])],
                       [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, CLASSES])],
                       [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")], name="linear")
    return save_model(model, path)


def regression_model(path):
    """x[batch, 4] -> Gemm(W[4,1], B[1]) -> pred[batch, 1], zero-initialised."""
    model = make_model([helper.make_node("Gemm", ["x", "W", "B"], ["pred"])],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", FEATURES])],
                       [helper.make_tensor_value_info("pred", TensorProto.FLOAT, ["batch", 1])],
                       [numpy_helper.from_array(np.zeros((FEATURES, 1), np.float32), "W"),
                        numpy_helper.from_array(np.zeros(1, np.float32), "B")])
    return save_model(model, path)


def separable_data(n, seed=0):
    """Three well-separated clusters: a linear model reaches high accuracy in a few epochs."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, CLASSES, n)
    centres = np.array([[3, 0, 0, 0], [0, 3, 0, 0], [0, 0, 3, 0]], np.float32)
    x = (centres[y] + rng.standard_normal((n, FEATURES)) * 0.5).astype(np.float32)
    return x, y.astype(np.int64)


def train_args(model, data, out, *extra):
    """The arguments of a small classification run; a flag in `extra` replaces the default one."""
    defaults = {"--label": "y", "--loss": "cross_entropy", "--optimizer": "sgd", "--lr": "0.1", "--threads": "1"}
    extra = list(extra)
    for flag in list(defaults):
        if flag in extra:
            i = extra.index(flag)
            defaults[flag] = extra[i + 1]
            del extra[i:i + 2]
    return ["train", model, "--data", data, *[a for pair in defaults.items() for a in pair], "--out", out, *extra]


def accuracy_of(model_path, x, y):
    import onnxruntime as ort
    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    logits = session.run(None, {session.get_inputs()[0].name: x})[0]
    return float((logits.argmax(1) == y).mean())


def val_metric(stdout, name, epoch=None):
    lines = [line for line in stdout.splitlines() if line.startswith("epoch ") and " train loss " in line]
    line = lines[-1] if epoch is None else lines[epoch - 1]
    words = line.split()
    for i in range(len(words) - 2):
        if words[i] == "val" and words[i + 1] == name:
            return float(words[i + 2])
    raise AssertionError(f"no 'val {name}' in {line!r}")


@pytest.fixture
def npz_data(tmp_path):
    x, y = separable_data(300)
    path = tmp_path / "train.npz"
    np.savez(path, x=x, y=y)
    vx, vy = separable_data(100, seed=1)
    val = tmp_path / "val.npz"
    np.savez_compressed(val, x=vx, y=vy)
    return path, val, (vx, vy)


def test_help_explains_every_flag_and_name():
    proc = run_onyx("train", "--help")
    assert proc.returncode == 0, proc.stderr
    for flag in FLAGS:
        assert flag in proc.stdout, flag
    for name in ["mse", "l1", "huber", "cross_entropy", "nll", "bce_with_logits", "sgd", "momentum", "adam", "adamw",
                 "accuracy", "npz", "npy", "CSV", "IDX"]:
        assert name in proc.stdout, name


def test_npz_trains_reports_val_accuracy_and_writes_a_model(tmp_path, npz_data):
    train, val, (vx, vy) = npz_data
    model = linear_model(tmp_path / "m.onnx")
    out = tmp_path / "trained.onnx"
    proc = run_onyx(*train_args(model, train, out, "--val", val, "--epochs", "3", "--batch-size", "16"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    summaries = [line for line in proc.stdout.splitlines() if line.startswith("epoch ") and "train loss" in line]
    assert len(summaries) == 3
    reported = val_metric(proc.stdout, "accuracy")
    actual = accuracy_of(out, vx, vy)
    assert reported == pytest.approx(actual, abs=1e-4)
    assert actual > 0.9
    onnx.checker.check_model(onnx.load(str(out)))


def test_npy_pair_named_and_unnamed(tmp_path):
    x, y = separable_data(200)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", y.astype(np.int32))  # int32 labels are converted to int64
    model = linear_model(tmp_path / "m.onnx")
    for spec in [f"{tmp_path}/x.npy,{tmp_path}/y.npy", f"y={tmp_path}/y.npy,x={tmp_path}/x.npy"]:
        out = tmp_path / "trained.onnx"
        proc = run_onyx(*train_args(model, spec, out, "--val-split", "0.25", "--epochs", "3", "--batch-size", "10"))
        assert proc.returncode == 0, proc.stderr
        assert "validating on 50" in proc.stdout
        assert val_metric(proc.stdout, "accuracy") > 0.9
        assert accuracy_of(out, x, y) > 0.9


def test_csv_with_label_column_in_the_middle(tmp_path):
    x, y = separable_data(200)
    path = tmp_path / "train.csv"
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["a", "b", "y", "c", "d"])
        for row, label in zip(x, y):
            writer.writerow([row[0], row[1], label, row[2], row[3]])
    model = linear_model(tmp_path / "m.onnx")
    out = tmp_path / "trained.onnx"
    proc = run_onyx(*train_args(model, path, out, "--val-split", "0.2", "--epochs", "3", "--batch-size", "8"))
    assert proc.returncode == 0, proc.stderr
    assert accuracy_of(out, x, y) > 0.9


def write_idx(path, array, gzipped):
    code = {np.uint8: 0x08, np.int32: 0x0C, np.float32: 0x0D}[array.dtype.type]
    header = struct.pack(">BBBB", 0, 0, code, array.ndim) + b"".join(struct.pack(">I", d) for d in array.shape)
    data = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    with (gzip.open if gzipped else open)(path, "wb") as f:
        f.write(data)


@pytest.mark.parametrize("gzipped", [True, False])
def test_idx_folder_with_train_and_test_sets(tmp_path, gzipped):
    """Images [n, 2, 2] uint8 (scaled to [0, 1]) reshaped to the model's [batch, 4]."""
    x, y = separable_data(300)
    images = np.clip(x * 40 + 60, 0, 255).astype(np.uint8).reshape(-1, 2, 2)
    suffix = ".gz" if gzipped else ""
    folder = tmp_path / "idx"
    folder.mkdir()
    write_idx(folder / f"train-images-idx3-ubyte{suffix}", images[:200], gzipped)
    write_idx(folder / f"train-labels-idx1-ubyte{suffix}", y[:200].astype(np.uint8), gzipped)
    write_idx(folder / f"t10k-images-idx3-ubyte{suffix}", images[200:], gzipped)
    write_idx(folder / f"t10k-labels-idx1-ubyte{suffix}", y[200:].astype(np.uint8), gzipped)
    model = linear_model(tmp_path / "m.onnx")
    out = tmp_path / "trained.onnx"
    proc = run_onyx(*train_args(model, folder, out, "--val", folder / "t10k", "--test", folder / "t10k",
                                "--epochs", "5", "--batch-size", "16", "--lr", "0.5"))
    assert proc.returncode == 0, proc.stderr
    assert "training 2 parameters on 200 samples, validating on 100" in proc.stdout
    test_line = [line for line in proc.stdout.splitlines() if line.startswith("test ")][0]
    scaled = images[200:].reshape(-1, 4).astype(np.float32) / 255
    assert float(test_line.split("test accuracy ")[1]) == pytest.approx(accuracy_of(out, scaled, y[200:]), abs=1e-4)
    assert accuracy_of(out, scaled, y[200:]) > 0.9


def test_full_batch_sgd_matches_numpy(tmp_path):
    """One step per epoch (the batch is the whole set, so the shuffle order cannot matter): the
    trained weights equal momentum SGD on softmax cross-entropy computed in NumPy (float64)."""
    x, y = separable_data(50)
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal((FEATURES, CLASSES)).astype(np.float32)
    b0 = rng.standard_normal(CLASSES).astype(np.float32)
    model = linear_model(tmp_path / "m.onnx", w0, b0)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    out = tmp_path / "trained.onnx"
    proc = run_onyx("train", model, "--data", tmp_path / "d.npz", "--label", "y", "--loss", "cross_entropy",
                    "--optimizer", "momentum", "--lr", "0.05", "--epochs", "4", "--batch-size", "50",
                    "--threads", "1", "--out", out)
    assert proc.returncode == 0, proc.stderr
    w, b = w0.astype(np.float64), b0.astype(np.float64)
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    for step in range(4):
        logits = x @ w + b
        p = np.exp(logits - logits.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        p[np.arange(len(y)), y] -= 1
        gw, gb = x.T @ p / len(y), p.sum(0) / len(y)
        vw, vb = (gw, gb) if step == 0 else (0.9 * vw + gw, 0.9 * vb + gb)
        w, b = w - 0.05 * vw, b - 0.05 * vb
    trained = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(out)).graph.initializer}
    np.testing.assert_allclose(trained["W"], w, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(trained["B"], b, rtol=1e-4, atol=1e-5)


def test_regression_with_mse_and_mae_metric(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((128, FEATURES)).astype(np.float32)
    target = (x @ np.array([[1.0], [-2.0], [0.5], [0.0]], np.float32) + 0.3).astype(np.float32)
    path = regression_model(tmp_path / "reg.onnx")
    np.savez(tmp_path / "d.npz", x=x, t=target[:, 0].astype(np.float64))  # [n] float64 -> [n, 1] float32
    proc = run_onyx("train", path, "--data", tmp_path / "d.npz", "--val-split", "0.25", "--label", "t", "--loss", "mse",
                    "--optimizer", "adam", "--lr", "0.05", "--epochs", "30", "--batch-size", "16",
                    "--metrics", "mae", "--out", tmp_path / "out.onnx", "--progress", "none")
    assert proc.returncode == 0, proc.stderr
    assert val_metric(proc.stdout, "mae") < 0.1


@pytest.mark.parametrize("suffix", ["csv", "jsonl"])
def test_log_has_one_row_per_epoch(tmp_path, npz_data, suffix):
    train, val, _ = npz_data
    log = tmp_path / f"log.{suffix}"
    proc = run_onyx(*train_args(linear_model(tmp_path / "m.onnx"), train, tmp_path / "o.onnx", "--val", val,
                                "--epochs", "3", "--log", log, "--metrics", "accuracy,top2_accuracy"))
    assert proc.returncode == 0, proc.stderr
    if suffix == "csv":
        rows = list(csv.DictReader(open(log)))
    else:
        rows = [json.loads(line) for line in open(log)]
    assert [int(float(r["epoch"])) for r in rows] == [1, 2, 3]
    for row, epoch in zip(rows, range(1, 4)):
        for key in ["step", "train_loss", "val_loss", "val_accuracy", "val_top2_accuracy", "lr", "seconds",
                    "samples_per_s"]:
            assert key in row
        assert float(row["val_accuracy"]) == pytest.approx(val_metric(proc.stdout, "accuracy", epoch), abs=1e-4)
    assert int(float(rows[-1]["step"])) == 3 * 10  # 300 samples, batch 32: 10 steps per epoch, last one partial


def test_early_stopping_keeps_the_best_epoch(tmp_path, npz_data):
    train, val, _ = npz_data
    log = tmp_path / "log.jsonl"
    proc = run_onyx(*train_args(linear_model(tmp_path / "m.onnx"), train, tmp_path / "o.onnx", "--val", val,
                                "--epochs", "20", "--early-stopping", "val_loss", "--patience", "2",
                                "--min-delta", "100", "--log", log))
    assert proc.returncode == 0, proc.stderr
    # Nothing improves by 100: the first epoch is the best, two more and it stops.
    assert len(open(log).readlines()) == 3
    assert "early stopping: val_loss has not improved for 2 epochs; keeping epoch 1" in proc.stdout
    # The written model is epoch 1's: the same weights as a run of one epoch.
    one = run_onyx(*train_args(linear_model(tmp_path / "m.onnx"), train, tmp_path / "one.onnx", "--epochs", "1"))
    assert one.returncode == 0, one.stderr
    best = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(tmp_path / "o.onnx")).graph.initializer}
    for t in onnx.load(str(tmp_path / "one.onnx")).graph.initializer:
        np.testing.assert_array_equal(best[t.name], numpy_helper.to_array(t))


def test_resume_continues_to_the_same_result(tmp_path, npz_data):
    train, val, _ = npz_data
    model = linear_model(tmp_path / "m.onnx")
    common = ["--val", val, "--seed", "7", "--batch-size", "16"]
    straight = tmp_path / "straight.onnx"
    assert run_onyx(*train_args(model, train, straight, *common, "--epochs", "4")).returncode == 0
    checkpoints = tmp_path / "ckpt"
    first = run_onyx(*train_args(model, train, tmp_path / "half.onnx", *common, "--epochs", "2",
                                 "--checkpoint-dir", checkpoints, "--keep-checkpoints", "1"))
    assert first.returncode == 0, first.stderr
    assert sorted(os.listdir(checkpoints)) == ["checkpoint-38.onnx"]  # 19 steps per epoch, older one pruned
    resumed = tmp_path / "resumed.onnx"
    second = run_onyx(*train_args(model, train, resumed, *common, "--epochs", "4", "--checkpoint-dir", checkpoints,
                                  "--resume"))
    assert second.returncode == 0, second.stderr
    assert "resumed from" in second.stdout and "epoch 3/4" in second.stdout and "epoch 1/4" not in second.stdout
    a = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(straight)).graph.initializer}
    b = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(resumed)).graph.initializer}
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


def test_ctrl_c_saves_a_checkpoint_and_exits_cleanly(tmp_path):
    x, y = separable_data(20000)
    np.savez(tmp_path / "big.npz", x=x, y=y)
    model = linear_model(tmp_path / "m.onnx")
    out = tmp_path / "trained.onnx"
    checkpoints = tmp_path / "ckpt"
    proc = subprocess.Popen([onyx_path(), *map(str, train_args(model, tmp_path / "big.npz", out, "--epochs", "1000",
                                                               "--batch-size", "1", "--checkpoint-dir", checkpoints,
                                                               "--progress", "lines"))],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    first_line = proc.stdout.readline()
    assert first_line.startswith("training "), first_line
    assert proc.stdout.readline().startswith("epoch 1/1000 step ")  # it is inside the loop
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 130, (stdout, stderr)
    assert stderr == ""
    assert "interrupted at epoch 1" in stdout and "--resume" in stdout
    saved = os.listdir(checkpoints)
    assert len(saved) == 1 and saved[0].startswith("checkpoint-"), saved
    assert not out.exists()
    assert not [name for name in os.listdir(tmp_path) if ".tmp" in name or name.startswith(".")]
    # The checkpoint resumes (mid-epoch); one more epoch is quick with a bigger batch it cannot use, so
    # check only that it loads and training carries on.
    check = run_onyx("train", model, "--data", tmp_path / "big.npz", "--label", "y", "--loss", "cross_entropy",
                     "--optimizer", "sgd", "--lr", "0.1", "--epochs", "1", "--batch-size", "1", "--threads", "1",
                     "--checkpoint-dir", checkpoints, "--resume", "--out", out, "--progress", "none")
    assert check.returncode == 0, check.stderr
    assert out.exists()


def test_a_fixed_batch_dim_is_made_symbolic(tmp_path, npz_data):
    """torch.onnx.export without dynamic_axes fixes the batch dim; training uses its own batches."""
    train, val, _ = npz_data
    model = linear_model(tmp_path / "m.onnx", batch=1)
    proc = run_onyx(*train_args(model, train, tmp_path / "o.onnx", "--val", val, "--batch-size", "7"))
    assert proc.returncode == 0, proc.stderr


# --- bad input: one error line, exit status 1, and no output or checkpoint written


def assert_nothing_written(folder, before):
    assert sorted(os.listdir(folder)) == before


def test_missing_label_column(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("a,b,c,d,label\n1,2,3,4,0\n")
    model = linear_model(tmp_path / "m.onnx")
    before = sorted(os.listdir(tmp_path))
    proc = run_onyx(*train_args(model, path, tmp_path / "o.onnx"))
    assert_one_error_line(proc, "no label column 'y'", "label")
    assert_nothing_written(tmp_path, before)


def test_shape_mismatch(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.zeros((10, 5), np.float32), y=np.zeros(10, np.int64))
    model = linear_model(tmp_path / "m.onnx")
    before = sorted(os.listdir(tmp_path))
    proc = run_onyx(*train_args(model, tmp_path / "d.npz", tmp_path / "o.onnx"))
    assert_one_error_line(proc, "'x'", "[10 samples,5]", "[batch,4]")
    assert_nothing_written(tmp_path, before)


def test_labels_that_are_not_class_indices(tmp_path):
    np.savez(tmp_path / "d.npz", x=np.zeros((10, 4), np.float32), y=np.full(10, 0.5))
    proc = run_onyx(*train_args(linear_model(tmp_path / "m.onnx"), tmp_path / "d.npz", tmp_path / "o.onnx"))
    assert_one_error_line(proc, "'y'", "0.5", "int64")


def test_model_with_no_float_initializers(tmp_path):
    model = make_model([helper.make_node("Relu", ["x"], ["logits"])],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 3])],
                       [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])])
    path = save_model(model, tmp_path / "m.onnx")
    np.savez(tmp_path / "d.npz", x=np.zeros((10, 3), np.float32), y=np.zeros(10, np.int64))
    before = sorted(os.listdir(tmp_path))
    proc = run_onyx(*train_args(path, tmp_path / "d.npz", tmp_path / "o.onnx"))
    assert_one_error_line(proc, "no float initializers to train")
    assert_nothing_written(tmp_path, before)


@pytest.mark.parametrize("flag,value,message", [("--loss", "hinge", "unknown loss 'hinge'"),
                                                ("--optimizer", "lion", "unknown optimizer 'lion'"),
                                                ("--metrics", "f1", "unknown metric 'f1'")])
def test_unknown_names(tmp_path, npz_data, flag, value, message):
    train, _, _ = npz_data
    args = train_args(linear_model(tmp_path / "m.onnx"), train, tmp_path / "o.onnx", flag, value)
    before = sorted(os.listdir(tmp_path))
    proc = run_onyx(*args)
    assert_one_error_line(proc, message)
    assert_nothing_written(tmp_path, before)


def test_corrupt_checkpoint(tmp_path, npz_data):
    train, _, _ = npz_data
    checkpoints = tmp_path / "ckpt"
    checkpoints.mkdir()
    (checkpoints / "checkpoint-10.onnx").write_bytes(b"\x08\x01garbage that is not a checkpoint")
    model = linear_model(tmp_path / "m.onnx")
    before = sorted(os.listdir(tmp_path))
    proc = run_onyx(*train_args(model, train, tmp_path / "o.onnx",
                                "--checkpoint-dir", checkpoints, "--resume"))
    assert_one_error_line(proc, "checkpoint-10.onnx is damaged: it does not start with the onyx checkpoint header")
    assert_nothing_written(tmp_path, before)
    assert os.listdir(checkpoints) == ["checkpoint-10.onnx"]


def test_checkpoint_of_another_model(tmp_path, npz_data):
    train, _, _ = npz_data
    checkpoints = tmp_path / "ckpt"
    assert run_onyx(*train_args(linear_model(tmp_path / "m.onnx"), train, tmp_path / "o.onnx",
                                "--checkpoint-dir", checkpoints)).returncode == 0
    other = make_model([helper.make_node("MatMul", ["x", "V"], ["logits"])],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", FEATURES])],
                       [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", CLASSES])],
                       [numpy_helper.from_array(np.zeros((FEATURES, CLASSES), np.float32), "V")])
    proc = run_onyx(*train_args(save_model(other, tmp_path / "other.onnx"), train, tmp_path / "o2.onnx",
                                "--checkpoint-dir", checkpoints, "--resume"))
    assert_one_error_line(proc, "checkpoint")
    assert not (tmp_path / "o2.onnx").exists()


def test_resume_without_a_checkpoint(tmp_path, npz_data):
    train, _, _ = npz_data
    proc = run_onyx(*train_args(linear_model(tmp_path / "m.onnx"), train, tmp_path / "o.onnx",
                                "--checkpoint-dir", tmp_path / "none", "--resume"))
    assert_one_error_line(proc, "no checkpoint")


def test_missing_data_and_corrupt_npz(tmp_path):
    model = linear_model(tmp_path / "m.onnx")
    assert_one_error_line(run_onyx(*train_args(model, tmp_path / "nothing.npz", tmp_path / "o.onnx")), "nothing.npz")
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 truncated")
    assert_one_error_line(run_onyx(*train_args(model, tmp_path / "bad.npz", tmp_path / "o.onnx")), "bad.npz")
    assert not (tmp_path / "o.onnx").exists()


def test_missing_required_flag_is_a_usage_error(tmp_path):
    proc = run_onyx("train", "m.onnx", "--data", "d.npz", "--label", "y", "--loss", "mse", "--optimizer", "sgd",
                    "--out", "o.onnx")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "--lr" in proc.stderr


def test_custom_ops_library_trains_through_its_gradient(tmp_path, npz_data):
    """A model with com.example Swish (build/libonyx_example_ops.so, which defines its gradient)
    trains with --custom-ops; without the library it is one error naming the op."""
    library = os.path.join(os.path.dirname(onyx_path()), "libonyx_example_ops.so")
    train, val, (vx, vy) = npz_data
    w = np.zeros((FEATURES, CLASSES), np.float32)
    model = make_model([helper.make_node("Gemm", ["x", "W", "B"], ["z"]),
                        helper.make_node("Swish", ["z"], ["logits"], domain="com.example", beta=1.0)],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", FEATURES])],
                       [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", CLASSES])],
                       [numpy_helper.from_array(w, "W"), numpy_helper.from_array(np.zeros(CLASSES, np.float32), "B")],
                       opsets={"": 17, "com.example": 1})
    path = save_model(model, tmp_path / "swish.onnx", check=False)
    out = tmp_path / "o.onnx"
    proc = run_onyx(*train_args(path, train, out, "--val", val, "--epochs", "3", "--custom-ops", library))
    assert proc.returncode == 0, proc.stderr
    assert val_metric(proc.stdout, "accuracy") > 0.9
    missing = run_onyx(*train_args(path, train, tmp_path / "o2.onnx"))
    assert_one_error_line(missing, "Swish")
    assert not (tmp_path / "o2.onnx").exists()


def test_progress_bar_on_a_terminal_and_lines_otherwise(tmp_path, npz_data):
    train, val, _ = npz_data
    model = linear_model(tmp_path / "m.onnx")
    bar = run_onyx(*train_args(model, train, tmp_path / "o.onnx", "--val", val, "--epochs", "2",
                               "--progress", "bar"))
    assert bar.returncode == 0, bar.stderr
    assert "\x1b[K" in bar.stderr and "[===" in bar.stderr and "samples/s" in bar.stderr and "accuracy" in bar.stderr
    assert not [line for line in bar.stdout.splitlines() if " step " in line]
    # Not a terminal (auto): plain progress lines on stdout, nothing on stderr.
    lines = run_onyx(*train_args(model, train, tmp_path / "o.onnx", "--val", val, "--epochs", "2"))
    assert lines.returncode == 0 and lines.stderr == ""
    progress = [line for line in lines.stdout.splitlines() if " step " in line]
    assert progress and all(" loss " in line and "samples/s" in line and "\r" not in line for line in progress)
    assert progress[-1].startswith("epoch 2/2 step 10/10 ")


def test_early_stopping_restores_batchnorm_running_statistics(tmp_path, npz_data):
    """The best epoch's BatchNormalization running mean/var come back with its weights."""
    train, val, _ = npz_data
    inits = [numpy_helper.from_array(np.zeros((FEATURES, CLASSES), np.float32), "W"),
             numpy_helper.from_array(np.zeros(CLASSES, np.float32), "B"),
             numpy_helper.from_array(np.ones(FEATURES, np.float32), "scale"),
             numpy_helper.from_array(np.zeros(FEATURES, np.float32), "bias"),
             numpy_helper.from_array(np.zeros(FEATURES, np.float32), "mean"),
             numpy_helper.from_array(np.ones(FEATURES, np.float32), "var")]
    model = make_model([helper.make_node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["n"]),
                        helper.make_node("Gemm", ["n", "W", "B"], ["logits"])],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", FEATURES])],
                       [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", CLASSES])], inits)
    path = save_model(model, tmp_path / "bn.onnx")
    stopped = run_onyx(*train_args(path, train, tmp_path / "o.onnx", "--val", val, "--epochs", "6",
                                   "--early-stopping", "val_loss", "--patience", "2", "--min-delta", "100"))
    assert stopped.returncode == 0, stopped.stderr
    one = run_onyx(*train_args(path, train, tmp_path / "one.onnx", "--epochs", "1"))
    assert one.returncode == 0, one.stderr
    best = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(tmp_path / "o.onnx")).graph.initializer}
    first = {t.name: numpy_helper.to_array(t) for t in onnx.load(str(tmp_path / "one.onnx")).graph.initializer}
    assert not np.array_equal(first["mean"], np.zeros(FEATURES, np.float32))  # training moved them
    for name in ["W", "B", "scale", "bias", "mean", "var"]:
        np.testing.assert_array_equal(best[name], first[name], err_msg=name)


# --- bad data: stopped before the first step, one error naming the row, the value or both shapes


@pytest.mark.parametrize("label,row", [(3, 17), (-1, 4)])
def test_label_outside_the_class_range(tmp_path, label, row):
    x, y = separable_data(40)
    y[row] = label
    np.savez(tmp_path / "d.npz", x=x, y=y)
    model = linear_model(tmp_path / "m.onnx")
    before = sorted(os.listdir(tmp_path))
    proc = run_onyx(*train_args(model, tmp_path / "d.npz", tmp_path / "o.onnx"))
    assert_one_error_line(proc, f"label 'y' is {label} at row {row} ", "outside the class range 0..2",
                          "output 'logits' (3 classes)")
    assert_nothing_written(tmp_path, before)


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_features(tmp_path, value):
    x, y = separable_data(40)
    x[23, 2] = value
    np.savez(tmp_path / "d.npz", x=x, y=y)
    model = linear_model(tmp_path / "m.onnx")
    before = sorted(os.listdir(tmp_path))
    proc = run_onyx(*train_args(model, tmp_path / "d.npz", tmp_path / "o.onnx", "--checkpoint-dir", tmp_path / "ckpt"))
    assert_one_error_line(proc, f"'x' holds {value} at row 23 (element [23,2]", "training needs finite numbers")
    assert_nothing_written(tmp_path, before)


def test_nan_in_regression_targets_and_validation_data(tmp_path):
    x, y = separable_data(40)
    t = x[:, :1].copy()
    t[9, 0] = np.nan
    np.savez(tmp_path / "bad.npz", x=x, t=t)
    np.savez(tmp_path / "good.npz", x=x, t=x[:, :1])
    path = regression_model(tmp_path / "reg.onnx")
    for data, val in [("bad.npz", "good.npz"), ("good.npz", "bad.npz")]:
        proc = run_onyx(*train_args(path, tmp_path / data, tmp_path / "o.onnx", "--label", "t", "--loss", "mse",
                                    "--val", tmp_path / val))
        assert_one_error_line(proc, "bad.npz: 't' holds nan at row 9")
    assert not (tmp_path / "o.onnx").exists()


def test_feature_shape_the_model_does_not_take(tmp_path):
    """Declared [batch, 4]: the check names both shapes. Declared [batch, features] (symbolic), so
    only the graph knows it needs 4: a first batch is evaluated before training and its error
    names both shapes too."""
    np.savez(tmp_path / "d.npz", x=np.zeros((10, 2, 3), np.float32), y=np.zeros(10, np.int64))
    proc = run_onyx(*train_args(linear_model(tmp_path / "m.onnx"), tmp_path / "d.npz", tmp_path / "o.onnx"))
    assert_one_error_line(proc, "'x' (the model input) has shape [10 samples,2,3]", "the model declares [batch,4]")
    np.savez(tmp_path / "d5.npz", x=np.zeros((10, 5), np.float32), y=np.zeros(10, np.int64))
    model = make_model([helper.make_node("Gemm", ["x", "W", "B"], ["logits"])],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "features"])],
                       [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", CLASSES])],
                       [numpy_helper.from_array(np.zeros((FEATURES, CLASSES), np.float32), "W"),
                        numpy_helper.from_array(np.zeros(CLASSES, np.float32), "B")])
    path = save_model(model, tmp_path / "sym.onnx")
    before = sorted(os.listdir(tmp_path))
    proc = run_onyx(*train_args(path, tmp_path / "d5.npz", tmp_path / "o.onnx", "--checkpoint-dir", tmp_path / "ck"))
    assert_one_error_line(proc, "a first batch of 2 samples fails in the model", "Gemm", "A is [2,5] and B is [4,3]",
                          "'x' [10 samples,5]")
    assert proc.stdout == ""  # before training started
    assert_nothing_written(tmp_path, before)


@pytest.mark.parametrize("kind", ["npz", "csv", "npy", "csv_header_only", "npz_no_rows"])
def test_empty_data_file(tmp_path, kind):
    spec = {"npz": "d.npz", "csv": "d.csv", "npy": "x.npy,y.npy", "csv_header_only": "d.csv",
            "npz_no_rows": "d.npz"}[kind]
    if kind in ("npz", "csv"):
        (tmp_path / spec).write_bytes(b"")
        expected = [f"{tmp_path / spec} is empty (0 bytes)"]
    elif kind == "npy":
        np.save(tmp_path / "x.npy", np.zeros((5, 4), np.float32))
        (tmp_path / "y.npy").write_bytes(b"")
        spec = f"{tmp_path / 'x.npy'},{tmp_path / 'y.npy'}"
        expected = [f"{tmp_path / 'y.npy'} is empty (0 bytes)"]
    elif kind == "csv_header_only":
        (tmp_path / spec).write_text("a,b,c,d,y\n")
        expected = ["d.csv holds no samples"]
    else:
        np.savez(tmp_path / spec, x=np.zeros((0, 4), np.float32), y=np.zeros(0, np.int64))
        expected = ["d.npz holds no samples"]
    data = spec if kind == "npy" else tmp_path / spec
    proc = run_onyx(*train_args(linear_model(tmp_path / "m.onnx"), data, tmp_path / "o.onnx"))
    assert_one_error_line(proc, *expected)
    assert not (tmp_path / "o.onnx").exists()
