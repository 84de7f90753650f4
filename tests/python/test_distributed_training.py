"""Data-parallel `onyx train` under mpirun: 2 ranks with global batch B end with the parameters of
1 process with batch B (SGD and Adam; an MLP and a CNN with BatchNormalization, whose statistics
are synchronized), per-rank batches, only rank 0 reporting and writing, and resuming."""
import numpy as np
import pytest

from distributed_helpers import class_data, cnn_model, describe, initializers, mlp_model, run_train

BATCH = 7  # odd: the ranks' slices are 4 and 3 samples, weighted by their share
SAMPLES = 52  # 7 full batches and a last one of 3


def train_args(model, data, out, optimizer, *extra):
    return [model, "--data", data, "--label", "y", "--loss", "cross_entropy", "--optimizer", optimizer,
            "--lr", "0.05", "--batch-size", BATCH, "--epochs", "2", "--seed", "3", "--threads", "1",
            "--out", out, *extra]


# One bucket (the default size: it starts when the backward pass has made the last gradient);
# buckets of about 100 bytes, whose all-reduces start while the backward pass goes on (MPI
# progressed between its nodes); the same buckets all started after the pass.
BUCKETS = {"one_bucket": [], "overlapped_buckets": ["--gradient-bucket-mb", "0.0001"],
           "buckets_after_backward": ["--gradient-bucket-mb", "0.0001", "--no-gradient-overlap"]}


@pytest.mark.parametrize("buckets", BUCKETS.keys())
@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
@pytest.mark.parametrize("make", [mlp_model, cnn_model], ids=["mlp", "cnn_batchnorm"])
def test_two_ranks_match_one_process(tmp_path, make, optimizer, buckets):
    model = make(tmp_path / "model.onnx")
    data = class_data(tmp_path / "train.npz", SAMPLES)
    single, _ = run_train(0, *train_args(model, data, tmp_path / "one.onnx", optimizer))
    assert single.returncode == 0, describe(single)
    double, _ = run_train(2, *train_args(model, data, tmp_path / "two.onnx", optimizer, "--val", data,
                                         *BUCKETS[buckets]))
    assert double.returncode == 0, describe(double)
    header = next(line for line in double.stdout.splitlines() if line.startswith("data-parallel over"))
    assert (" 1 bucket(s)" in header) == (buckets == "one_bucket"), header
    assert ("started during the backward pass" in header) == (buckets != "buckets_after_backward"), header
    expected, actual = initializers(tmp_path / "one.onnx"), initializers(tmp_path / "two.onnx")
    assert expected.keys() == actual.keys()
    moved = 0
    for name, value in expected.items():
        np.testing.assert_allclose(actual[name], value, rtol=2e-4, atol=2e-5, err_msg=name)
        moved += not np.allclose(value, initializers(model)[name])
    assert moved >= 4  # the comparison is of trained values, BatchNorm's running statistics included
    # Rank 0 alone reports: one header, one line per epoch, one "wrote".
    assert double.stdout.count("data-parallel over 2 ranks (MPI)") == 1, describe(double)
    assert double.stdout.count("epoch 2/2 train loss") == 1 and double.stdout.count("wrote ") == 1, describe(double)
    assert "bytes all-reduced per step" in double.stdout


def test_per_rank_batch_makes_the_global_batch_n_times_larger(tmp_path):
    model = mlp_model(tmp_path / "model.onnx")
    data = class_data(tmp_path / "train.npz", 40)
    args = [model, "--data", data, "--label", "y", "--loss", "cross_entropy", "--optimizer", "sgd", "--lr", "0.1",
            "--epochs", "1", "--threads", "1"]
    single, _ = run_train(0, *args, "--batch-size", "8", "--out", tmp_path / "one.onnx")
    assert single.returncode == 0, describe(single)
    double, _ = run_train(2, *args, "--batch-size", "4", "--per-rank-batch", "--out", tmp_path / "two.onnx")
    assert double.returncode == 0, describe(double)
    assert "batch 8 per step, 4-4 per rank" in double.stdout
    for name, value in initializers(tmp_path / "one.onnx").items():
        np.testing.assert_allclose(initializers(tmp_path / "two.onnx")[name], value, rtol=2e-4, atol=2e-5)


def test_resume_with_the_same_world_size_continues_to_the_same_result(tmp_path):
    model = cnn_model(tmp_path / "model.onnx")
    data = class_data(tmp_path / "train.npz", 28)
    args = [model, "--data", data, "--label", "y", "--loss", "cross_entropy", "--optimizer", "adam", "--lr", "0.01",
            "--batch-size", "8", "--threads", "1", "--seed", "5"]
    straight, _ = run_train(2, *args, "--epochs", "3", "--out", tmp_path / "straight.onnx")
    assert straight.returncode == 0, describe(straight)
    checkpoints = tmp_path / "checkpoints"
    first, _ = run_train(2, *args, "--epochs", "1", "--checkpoint-dir", checkpoints, "--out", tmp_path / "first.onnx")
    assert first.returncode == 0, describe(first)
    assert sorted(p.name for p in checkpoints.iterdir()) == ["checkpoint-4.onnx"]  # rank 0 alone wrote it
    resumed, _ = run_train(2, *args, "--epochs", "3", "--checkpoint-dir", checkpoints, "--resume",
                           "--out", tmp_path / "resumed.onnx")
    assert resumed.returncode == 0, describe(resumed)
    assert "resumed from" in resumed.stdout
    for name, value in initializers(tmp_path / "straight.onnx").items():
        np.testing.assert_array_equal(initializers(tmp_path / "resumed.onnx")[name], value, err_msg=name)
    # Another world size is refused, in one line.
    other, _ = run_train(0, *args, "--epochs", "3", "--checkpoint-dir", checkpoints, "--resume",
                         "--out", tmp_path / "other.onnx")
    assert other.returncode == 1, describe(other)
    assert "written by a run of 2 rank(s); this run has 1" in other.stderr
