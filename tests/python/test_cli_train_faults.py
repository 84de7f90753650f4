"""`onyx train` when things go wrong: checkpoints are checksummed and a damaged one is refused
with one error (--resume falls back to the newest intact one), a process killed with SIGKILL
while writing a checkpoint leaves the last complete one and resumes from it to the same weights,
a run interrupted mid-epoch resumes bit for bit, and a loss that becomes NaN/Inf stops training
naming the step and keeping the last good checkpoint."""
import os
import random
import re
import signal
import subprocess
import time
import zlib

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from cli_helpers import assert_one_error_line, make_model, onyx_path, run_onyx, save_model
from test_cli_train import CLASSES, FEATURES, linear_model, regression_model, separable_data, train_args

HEADER_SIZE = 84  # training/checkpoint_file.cc: one metadata_props entry of fixed size
FINISHED = re.compile(r"checkpoint-\d+\.onnx")


def weights(path):
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}


def assert_same_weights(a, b):
    wa, wb = weights(a), weights(b)
    assert wa.keys() == wb.keys()
    for name in wa:
        np.testing.assert_array_equal(wa[name], wb[name], err_msg=name)


def checkpoint_is_intact(path):
    """The format read independently of onyx: header fields, length and zlib's CRC-32."""
    data = open(path, "rb").read()
    if len(data) < HEADER_SIZE or data[4:26] != b"onyx.checkpoint.header":
        return False
    fields = re.fullmatch(rb"ONYXCKPT v(\d{4}) bytes (\d{20}) crc32 ([0-9a-f]{8})", data[28:HEADER_SIZE])
    return (fields is not None and int(fields[1]) == 2 and int(fields[2]) == len(data) - HEADER_SIZE
            and zlib.crc32(data[:HEADER_SIZE - 8] + data[HEADER_SIZE:]) == int(fields[3], 16))


@pytest.fixture
def npz(tmp_path):
    x, y = separable_data(300)
    path = tmp_path / "train.npz"
    np.savez(path, x=x, y=y)
    return path


def test_checkpoints_are_checksummed_and_still_onnx_files(tmp_path, npz):
    checkpoints = tmp_path / "ckpt"
    proc = run_onyx(*train_args(linear_model(tmp_path / "m.onnx"), npz, tmp_path / "o.onnx", "--checkpoint-dir",
                                checkpoints))
    assert proc.returncode == 0, proc.stderr
    path = checkpoints / "checkpoint-10.onnx"
    assert checkpoint_is_intact(path)
    proto = onnx.load(str(path))  # the header is a metadata entry: onnx and Netron still open the file
    assert {t.name for t in proto.graph.initializer} == {"param/W", "param/B"}
    assert "onyx.checkpoint.header" in {p.key for p in proto.metadata_props}


@pytest.mark.parametrize("damage", ["flip", "truncate"])
def test_resume_falls_back_to_the_newest_intact_checkpoint(tmp_path, npz, damage):
    model = linear_model(tmp_path / "m.onnx")
    common = ["--seed", "3", "--batch-size", "16", "--optimizer", "adam", "--lr", "0.01"]
    straight = tmp_path / "straight.onnx"
    assert run_onyx(*train_args(model, npz, straight, *common, "--epochs", "4")).returncode == 0
    checkpoints = tmp_path / "ckpt"
    first = run_onyx(*train_args(model, npz, tmp_path / "o.onnx", *common, "--epochs", "3",
                                 "--checkpoint-dir", checkpoints))
    assert first.returncode == 0, first.stderr
    newest = checkpoints / "checkpoint-57.onnx"  # 19 steps per epoch
    data = bytearray(newest.read_bytes())
    if damage == "flip":
        data[len(data) // 2] ^= 0x10
    else:
        data = data[:len(data) - 100]
    newest.write_bytes(bytes(data))
    resumed = tmp_path / "resumed.onnx"
    proc = run_onyx(*train_args(model, npz, resumed, *common, "--epochs", "4", "--checkpoint-dir", checkpoints,
                                "--resume"))
    assert proc.returncode == 0, proc.stderr
    notice = proc.stderr.splitlines()
    assert len(notice) == 1 and notice[0].startswith("onyx: notice: checkpoint "), proc.stderr
    assert "checkpoint-57.onnx is damaged: " in notice[0] and "resuming from an older checkpoint" in notice[0]
    assert ("checksum mismatch" if damage == "flip" else "truncated") in notice[0]
    assert f"resumed from {checkpoints / 'checkpoint-38.onnx'} (step 38)" in proc.stdout
    assert "epoch 3/4" in proc.stdout
    assert_same_weights(straight, resumed)


def test_resume_when_every_checkpoint_is_damaged(tmp_path, npz):
    model = linear_model(tmp_path / "m.onnx")
    checkpoints = tmp_path / "ckpt"
    assert run_onyx(*train_args(model, npz, tmp_path / "o.onnx", "--epochs", "2",
                                "--checkpoint-dir", checkpoints)).returncode == 0
    for name in os.listdir(checkpoints):
        os.truncate(checkpoints / name, 1000)
    proc = run_onyx(*train_args(model, npz, tmp_path / "o2.onnx", "--epochs", "3", "--checkpoint-dir", checkpoints,
                                "--resume"))
    assert_one_error_line(proc, "checkpoint-20.onnx is damaged: ", "truncated",
                          "the 1 older checkpoint in", "is damaged too")
    assert not (tmp_path / "o2.onnx").exists()


def wide_model(path, hidden):
    """x[batch,4] -> Gemm(4->hidden) -> Relu -> Gemm(hidden->3): big parameters, so that a
    checkpoint write takes long enough for a kill to land inside it."""
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array((rng.standard_normal((FEATURES, hidden)) * 0.5).astype(np.float32), "W1"),
             numpy_helper.from_array(np.zeros(hidden, np.float32), "B1"),
             numpy_helper.from_array((rng.standard_normal((hidden, CLASSES)) * 0.01).astype(np.float32), "W2"),
             numpy_helper.from_array(np.zeros(CLASSES, np.float32), "B2")]
    nodes = [helper.make_node("Gemm", ["x", "W1", "B1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gemm", ["r", "W2", "B2"], ["logits"])]
    model = make_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", FEATURES])],
                       [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", CLASSES])], inits)
    return save_model(model, path)


def kill_during_a_checkpoint_write(command, checkpoints, finished_first):
    """Starts `command`, waits until `finished_first` new checkpoints are complete and the next
    write has begun (a temporary file appears), and SIGKILLs it. Returns whether the temporary was
    still there afterwards, i.e. the kill landed before the write's rename."""
    before = set(os.listdir(checkpoints)) if checkpoints.exists() else set()
    proc = subprocess.Popen([onyx_path(), *map(str, command)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        finished = set()  # seen complete (pruning deletes old ones)
        while time.monotonic() < deadline:
            names = set(os.listdir(checkpoints)) if checkpoints.exists() else set()
            finished |= {n for n in names - before if FINISHED.fullmatch(n)}
            writing = [n for n in names - before if not FINISHED.fullmatch(n)]
            if len(finished) >= finished_first and writing:
                proc.send_signal(signal.SIGKILL)
                break
            assert proc.poll() is None, f"training ended before a write was caught: {proc.stderr.read()!r}"
            time.sleep(0.0002)
        else:
            pytest.fail("no checkpoint write seen in 60 s")
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    return any(name not in before and not FINISHED.fullmatch(name) for name in os.listdir(checkpoints))


def test_sigkill_while_writing_a_checkpoint_keeps_the_last_complete_one(tmp_path):
    """Kills `onyx train` with SIGKILL inside checkpoint writes (several rounds, after a random
    number of complete checkpoints), checks every complete checkpoint is intact each time, then
    resumes to the end: the weights equal an uninterrupted run's."""
    model = wide_model(tmp_path / "wide.onnx", 120_000)  # 12 MB checkpoints (Adam: 3 copies)
    x, y = separable_data(8)
    np.savez(tmp_path / "d.npz", x=x, y=y)
    common = ["--optimizer", "adam", "--lr", "0.001", "--epochs", "30", "--batch-size", "8", "--progress", "none"]
    straight = tmp_path / "straight.onnx"
    proc = run_onyx(*train_args(model, tmp_path / "d.npz", straight, *common))
    assert proc.returncode == 0, proc.stderr
    checkpoints = tmp_path / "ckpt"
    out = tmp_path / "resumed.onnx"
    command = train_args(model, tmp_path / "d.npz", out, *common, "--checkpoint-dir", checkpoints,
                         "--keep-checkpoints", "2")
    choose = random.Random(5)
    landed = 0
    for attempt in range(6):  # at most 4 epochs each: the run (30) never ends before
        landed += kill_during_a_checkpoint_write(command + (["--resume"] if attempt else []), checkpoints,
                                                 choose.randint(1, 3))
        finished = [n for n in os.listdir(checkpoints) if FINISHED.fullmatch(n)]
        assert finished and all(checkpoint_is_intact(checkpoints / n) for n in finished), finished
        assert not out.exists()
        if landed >= 3:
            break
    assert landed >= 3, "the kills never landed inside a write"
    proc = run_onyx(*command, "--resume")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # the newest complete checkpoint was intact: no fallback needed
    assert_same_weights(straight, out)
    assert all(FINISHED.fullmatch(n) for n in os.listdir(checkpoints))  # leftover temporaries pruned


def dropout_model(path):
    """x -> Gemm(4->16) -> Relu -> Dropout(0.3) -> Gemm(16->3): the dropout masks make the
    random generator's state part of what a resume must restore."""
    rng = np.random.default_rng(1)
    inits = [numpy_helper.from_array((rng.standard_normal((FEATURES, 16)) * 0.5).astype(np.float32), "W1"),
             numpy_helper.from_array(np.zeros(16, np.float32), "B1"),
             numpy_helper.from_array((rng.standard_normal((16, CLASSES)) * 0.5).astype(np.float32), "W2"),
             numpy_helper.from_array(np.zeros(CLASSES, np.float32), "B2"),
             numpy_helper.from_array(np.array(0.3, np.float32), "ratio")]
    nodes = [helper.make_node("Gemm", ["x", "W1", "B1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Dropout", ["r", "ratio"], ["d"]), helper.make_node("Gemm", ["d", "W2", "B2"], ["logits"])]
    model = make_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", FEATURES])],
                       [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", CLASSES])], inits)
    return save_model(model, path)


def test_mid_epoch_resume_reaches_the_same_weights_bit_for_bit(tmp_path, npz):
    """Interrupted (Ctrl-C's path, at exact steps through the test hook) in the middle of epochs 1
    and 2, resumed each time: Adam's moments, the schedule's step, the dropout generator and the
    epoch's shuffle order all continue, so the weights equal an uninterrupted run's exactly."""
    model = dropout_model(tmp_path / "drop.onnx")
    common = ["--optimizer", "adam", "--lr", "0.01", "--lr-schedule", "warmup:10,cosine:35", "--batch-size", "16",
              "--val-split", "0.2", "--seed", "11", "--epochs", "3"]  # 240 samples: 15 steps per epoch
    straight = tmp_path / "straight.onnx"
    proc = run_onyx(*train_args(model, npz, straight, *common))
    assert proc.returncode == 0, proc.stderr
    checkpoints = tmp_path / "ckpt"
    out = tmp_path / "resumed.onnx"
    command = [onyx_path(), *map(str, train_args(model, npz, out, *common, "--checkpoint-dir", checkpoints))]
    for step, where, resume in [(7, "epoch 1 step 7", []), (26, "epoch 2 step 11", ["--resume"])]:
        env = dict(os.environ, ONYX_TEST_INTERRUPT_AFTER_STEP=str(step))
        proc = subprocess.run(command + resume, capture_output=True, text=True, env=env, timeout=120)
        assert proc.returncode == 130, proc.stderr
        assert f"interrupted at {where}: saved {checkpoints / f'checkpoint-{step}.onnx'}" in proc.stdout
    proc = subprocess.run(command + ["--resume"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "resumed from" in proc.stdout and "(step 26)" in proc.stdout
    assert_same_weights(straight, out)


def test_a_loss_that_becomes_infinite_stops_and_keeps_the_last_good_checkpoint(tmp_path):
    """Full-batch SGD with a learning rate far too high: the weights grow about fivefold per step
    until the loss overflows. The step is predicted in NumPy (float32, as onyx computes)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, FEATURES)).astype(np.float32)
    t = (x @ np.array([1.0, -2.0, 0.5, 1.5], np.float32))[:, None].astype(np.float32)
    np.savez(tmp_path / "d.npz", x=x, t=t)
    path = regression_model(tmp_path / "reg.onnx")
    w, b, lr, diverged = np.zeros((FEATURES, 1), np.float32), np.zeros(1, np.float32), np.float32(3.0), None
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(1, 200):
            err = x @ w + b - t
            if not np.isfinite(np.mean(err * err, dtype=np.float32)):
                diverged = step
                break
            w = w - lr * (2 * x.T @ err / np.float32(len(x)))
            b = b - lr * (2 * err.mean(0))
    assert diverged and diverged > 3
    checkpoints = tmp_path / "ckpt"
    proc = run_onyx(*train_args(path, tmp_path / "d.npz", tmp_path / "o.onnx", "--label", "t", "--loss", "mse",
                                "--lr", "3", "--batch-size", "64", "--epochs", "200", "--checkpoint-dir", checkpoints,
                                "--keep-checkpoints", "1000", "--progress", "none"))
    line = assert_one_error_line(proc, f"at epoch {diverged} step 1 (step {diverged} of the run)",
                                 f"training stopped, the last good checkpoint is {checkpoints / f'checkpoint-{diverged - 1}.onnx'}",
                                 "lower --lr")
    assert re.search(r"the loss became (inf|nan|-nan)", line), line
    assert sorted(os.listdir(checkpoints), key=lambda n: int(n[11:-5])) == [
        f"checkpoint-{s}.onnx" for s in range(1, diverged)]
    assert all(checkpoint_is_intact(checkpoints / n) for n in os.listdir(checkpoints))
    assert not (tmp_path / "o.onnx").exists()


def test_a_parameter_that_overflows_is_never_saved(tmp_path):
    """The loss of step 1 is finite (it is computed before the update), but an absurd learning
    rate makes the update overflow: the epoch's checkpoint is refused rather than written with
    inf in it."""
    x, _ = separable_data(16)
    np.savez(tmp_path / "d.npz", x=x, t=np.full((16, 1), 100.0, np.float32))
    path = regression_model(tmp_path / "reg.onnx")
    checkpoints = tmp_path / "ckpt"
    proc = run_onyx(*train_args(path, tmp_path / "d.npz", tmp_path / "o.onnx", "--label", "t", "--loss", "mse",
                                "--lr", "1e38", "--batch-size", "16", "--epochs", "3", "--checkpoint-dir", checkpoints))
    assert_one_error_line(proc, "parameter 'B' became inf by step 1; training stopped without saving a checkpoint, "
                                "no checkpoint was saved")
    assert not checkpoints.exists() or os.listdir(checkpoints) == []
    assert not (tmp_path / "o.onnx").exists()
