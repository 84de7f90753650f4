"""onyx::nn against PyTorch and onnxruntime: the same initial weights (torch's own) and batches
go to torch.nn + torch.optim (nn_torch_reference.py, run with Debian's python3-torch) and to
build/onyx_nn_reference_run (tools/examples/nn_reference_run.cc); the forward outputs, the losses
and the parameters after a few SGD (momentum) and Adam steps must match torch's. The trained
model onyx exports must give onyx's eager forward in onnxruntime, in `onyx run` and in torch
loaded with the trained weights. Every reference number comes from torch or onnxruntime."""
import os
import subprocess

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import numpy_helper

from cli_helpers import onyx_path, run_onyx
from conftest import TORCH_PYTHON

TORCH_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nn_torch_reference.py")


def driver_path():
    return os.path.join(os.path.dirname(onyx_path()), "onyx_nn_reference_run")


def torch_side(*args):
    proc = subprocess.run([TORCH_PYTHON, TORCH_SCRIPT, *map(str, args)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr


def run_driver(kind, optimizer_name, folder):
    proc = subprocess.run([driver_path(), kind, optimizer_name, str(folder)], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return [float(line.split()[-1]) for line in proc.stdout.splitlines() if line.startswith("step ")]


def arrays(folder):
    return {name[:-4]: np.load(folder / name) for name in os.listdir(folder)}


@pytest.mark.parametrize("optimizer_name", ["sgd", "adam"])
@pytest.mark.parametrize("kind", ["mlp", "cnn", "lstm", "gru", "mha"])
def test_parameters_after_training_match_torch(tmp_path, kind, optimizer_name):
    torch_side("prepare", kind, 17, tmp_path)
    torch_side("train", kind, optimizer_name, tmp_path)
    onyx_losses = run_driver(kind, optimizer_name, tmp_path)
    np.testing.assert_allclose(np.load(tmp_path / "first_output.npy"), np.load(tmp_path / "torch" / "first_output.npy"),
                               rtol=1e-4, atol=1e-5)
    torch_losses = np.load(tmp_path / "torch" / "losses.npy")
    assert len(onyx_losses) == len(torch_losses) == 4
    np.testing.assert_allclose(onyx_losses, torch_losses, rtol=1e-4, atol=1e-5)
    initial, trained = arrays(tmp_path / "init"), arrays(tmp_path / "onyx")
    reference = {k: v for k, v in arrays(tmp_path / "torch").items() if k in initial}
    assert sorted(trained) == sorted(reference) == sorted(initial)
    if kind == "mha" and optimizer_name == "adam":
        # The key bias adds the same q.b to every score of a query, which softmax ignores: its true
        # gradient is 0 and both sides compute rounding noise, which Adam scales up to +-lr.
        # torch's own update of it shows that; the other 2/3 of the bias are compared.
        key_bias = slice(8, 16)
        assert np.abs(reference["in_proj_bias"][key_bias] - initial["in_proj_bias"][key_bias]).max() > 1e-3
        for source in (reference, trained, initial):
            source["in_proj_bias"] = np.delete(source["in_proj_bias"], np.r_[key_bias])
    for name, value in reference.items():
        np.testing.assert_allclose(trained[name], value, rtol=1e-4, atol=2e-5, err_msg=name)
    # The parameters did move: a comparison of untouched weights would prove nothing.
    assert max(np.abs(reference[name] - initial[name]).max() for name in initial) > 1e-3


@pytest.mark.parametrize("kind", ["mlp", "cnn", "lstm", "mha"])
def test_exported_model_runs_in_onnxruntime_and_onyx_run(tmp_path, kind):
    torch_side("prepare", kind, 3, tmp_path)
    run_driver(kind, "adam", tmp_path)
    torch_side("forward", kind, tmp_path)
    xs = np.load(tmp_path / "x.npy")
    eager = np.load(tmp_path / "final_output.npy")
    np.testing.assert_allclose(np.load(tmp_path / "torch" / "trained_output.npy"), eager, rtol=1e-4, atol=1e-5)
    session = ort.InferenceSession(str(tmp_path / "model.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"x": xs[0]})[0], eager, rtol=1e-4, atol=1e-5)
    # The batch dim is dynamic: two batches at once.
    assert session.run(None, {"x": np.concatenate([xs[0], xs[1]])})[0].shape[0] == 2 * xs.shape[1]
    np.save(tmp_path / "x0.npy", xs[0])
    out = run_onyx("run", tmp_path / "model.onnx", "--input", f"x={tmp_path / 'x0.npy'}", "--output-dir",
                   tmp_path / "run")
    assert out.returncode == 0, out.stderr
    tensor = onnx.TensorProto()
    tensor.ParseFromString((tmp_path / "run" / "output_0.pb").read_bytes())
    np.testing.assert_allclose(numpy_helper.to_array(tensor), eager, rtol=1e-5, atol=1e-6)
