"""`onyx train --tensorboard DIR`: the event files read back with TensorBoard's own reader
(EventAccumulator, tensorboard pinned in requirements.lock) hold per-step loss and learning
rate and per-epoch scalars equal to the --log rows; the end-of-training summary table; an
unusable folder is one error line."""
import json

import numpy as np
import pytest
from tensorboard.backend.event_processing import event_file_loader
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from cli_helpers import assert_one_error_line, run_onyx
from test_cli_train import linear_model, separable_data, train_args

EPOCHS, SAMPLES, BATCH = 3, 120, 32


@pytest.fixture
def trained(tmp_path):
    x, y = separable_data(SAMPLES)
    np.savez(tmp_path / "train.npz", x=x, y=y)
    vx, vy = separable_data(60, seed=1)
    np.savez(tmp_path / "val.npz", x=vx, y=vy)
    model = linear_model(tmp_path / "m.onnx")
    proc = run_onyx(*train_args(model, tmp_path / "train.npz", tmp_path / "out.onnx", "--val", tmp_path / "val.npz",
                                "--epochs", EPOCHS, "--batch-size", BATCH, "--metrics", "accuracy",
                                "--lr-schedule", "cosine:12", "--log", tmp_path / "log.jsonl",
                                "--tensorboard", tmp_path / "tb", "--progress", "none"))
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in open(tmp_path / "log.jsonl")]
    return tmp_path, proc, rows


def load_events(folder):
    files = list(folder.glob("events.out.tfevents.*"))
    assert len(files) == 1, files
    accumulator = EventAccumulator(str(files[0]), size_guidance={"scalars": 0})
    accumulator.Reload()
    return accumulator


def test_event_files_hold_the_logged_values(trained):
    tmp_path, _, rows = trained
    events = load_events(tmp_path / "tb")
    tags = set(events.Tags()["scalars"])
    steps_per_epoch = -(-SAMPLES // BATCH)
    assert {"step/loss", "step/learning_rate", "epoch/train_loss", "epoch/val_loss", "epoch/val_accuracy",
            "epoch/lr", "epoch/samples_per_s", "epoch/train_accuracy"} <= tags, tags
    step_loss = events.Scalars("step/loss")
    assert [event.step for event in step_loss] == list(range(1, EPOCHS * steps_per_epoch + 1))
    assert all(np.isfinite(event.value) for event in step_loss)
    learning_rates = [event.value for event in events.Scalars("step/learning_rate")]
    assert learning_rates[0] == pytest.approx(0.1) and learning_rates[-1] < learning_rates[0]  # the cosine schedule
    for column in ("train_loss", "val_loss", "val_accuracy", "lr", "samples_per_s"):
        scalars = events.Scalars("epoch/" + column)
        assert [event.step for event in scalars] == [row["step"] for row in rows], column
        assert [event.value for event in scalars] == pytest.approx([row[column] for row in rows], rel=1e-6), column
    # The epoch's mean training loss is the mean of its steps' losses (weighted by batch size).
    first_epoch = [event.value for event in step_loss[:steps_per_epoch]]
    sizes = [min(BATCH, SAMPLES - i * BATCH) for i in range(steps_per_epoch)]
    assert np.average(first_epoch, weights=sizes) == pytest.approx(rows[0]["train_loss"], rel=1e-5)


def test_the_first_record_is_the_file_version(trained):
    tmp_path = trained[0]
    assert load_events(tmp_path / "tb").file_version == 2.0  # the accumulator's reading of it
    path = next((tmp_path / "tb").glob("events.out.tfevents.*"))
    first = next(iter(event_file_loader.EventFileLoader(str(path)).Load()))
    assert first.file_version == "brain.Event:2" and first.step == 0 and first.wall_time > 1.6e9


def test_summary_table_lists_every_epoch_and_the_outputs(trained):
    tmp_path, proc, rows = trained
    lines = proc.stdout.splitlines()
    start = lines.index("summary:")
    header = lines[start + 1].split()
    assert header[:2] == ["epoch", "train_loss"] and "val_accuracy" in header and "lr" in header
    table = [line.split() for line in lines[start + 2:start + 2 + EPOCHS]]
    for row, cells in zip(rows, table):
        assert int(cells[0]) == row["epoch"]
        assert float(cells[1]) == pytest.approx(row["train_loss"], abs=1e-4)
        assert float(cells[header.index("val_loss")]) == pytest.approx(row["val_loss"], abs=1e-4)
    rest = "\n".join(lines[start + 2 + EPOCHS:])
    assert f"model: {tmp_path / 'out.onnx'}" in rest
    assert f"log: {tmp_path / 'log.jsonl'}" in rest
    assert f"tensorboard events: {tmp_path / 'tb'}/events.out.tfevents." in rest


def test_an_unusable_folder_is_one_error_line(tmp_path):
    x, y = separable_data(40)
    np.savez(tmp_path / "train.npz", x=x, y=y)
    (tmp_path / "a_file").write_text("not a folder")
    model = linear_model(tmp_path / "m.onnx")
    proc = run_onyx(*train_args(model, tmp_path / "train.npz", tmp_path / "out.onnx",
                                "--tensorboard", tmp_path / "a_file" / "tb", "--progress", "none"))
    assert_one_error_line(proc, "tensorboard", "a_file")
    assert not (tmp_path / "out.onnx").exists()
