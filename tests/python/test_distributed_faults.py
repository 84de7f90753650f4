"""A rank that fails, dies or hangs in data-parallel `onyx train` stops every rank with a message
naming it, well within the test's timeout, and the last checkpoint stays intact (training
resumes from it). Before a step, and in the middle of its backward pass, while gradient
buckets' all-reduces started by the overlap are in flight (the *-in-backward modes; buckets of
about 100 bytes, so that the MLP's gradients fill four and the first starts early)."""
import pytest

from distributed_helpers import class_data, describe, mlp_model, run_train

LIMIT_S = 60


def fault_args(tmp_path):
    model = mlp_model(tmp_path / "model.onnx")
    data = class_data(tmp_path / "train.npz", 32)
    return [model, "--data", data, "--label", "y", "--loss", "cross_entropy", "--optimizer", "sgd", "--lr", "0.1",
            "--batch-size", "8", "--epochs", "3", "--threads", "1", "--checkpoint-dir", tmp_path / "checkpoints",
            "--collective-timeout", "3", "--gradient-bucket-mb", "0.0001"]


@pytest.mark.parametrize("mode,message", [
    ("throw", "rank 1 of 2: step 6: injected failure"),
    ("kill", "rank 1"),
    ("hang", "rank 0 of 2: an all-reduce did not finish within 3 s"),
    ("throw-in-backward", "rank 1 of 2: step 6: injected failure in the backward pass"),
    ("kill-in-backward", "rank 1"),
    ("hang-in-backward", "rank 0 of 2: an all-reduce did not finish within 3 s"),
])
def test_a_failing_rank_stops_every_rank_and_keeps_the_checkpoint(tmp_path, mode, message):
    args = fault_args(tmp_path)
    proc, seconds = run_train(2, *args, "--out", tmp_path / "out.onnx",
                              env={"ONYX_TEST_FAIL_RANK": "1", "ONYX_TEST_FAIL_AT_STEP": "6",
                                   "ONYX_TEST_FAIL_MODE": mode})
    assert proc.returncode != 0, describe(proc)
    assert seconds < LIMIT_S, describe(proc)
    assert message in proc.stderr, describe(proc)
    assert not (tmp_path / "out.onnx").exists()
    # 4 steps per epoch: the epoch-1 checkpoint was written before step 6 and resumes.
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["checkpoint-4.onnx"]
    resumed, _ = run_train(2, *args, "--resume", "--out", tmp_path / "out.onnx")
    assert resumed.returncode == 0, describe(resumed)
    assert "resumed from" in resumed.stdout and (tmp_path / "out.onnx").exists()
