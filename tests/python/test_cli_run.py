"""`onyx run` computes what onnxruntime computes, reading .npy and .pb inputs and writing
output_<k>.pb TensorProtos named after the model's outputs."""
import os

import numpy as np
import pytest

from cli_helpers import ROOT, conv_model, mlp_model, ort_run, read_outputs, run_onyx, save_model, write_pb


def run_to_dir(model, inputs, out, *extra):
    args = ["run", model]
    for name, path in inputs.items():
        args += ["--input", f"{name}={path}"]
    proc = run_onyx(*args, "--output-dir", out, *extra)
    assert proc.returncode == 0, f"exit status {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return read_outputs(out)


def assert_matches_ort(outputs, reference, expected_names, rtol=1e-4, atol=1e-5):
    assert [name for name, _ in outputs] == expected_names
    for name, value in outputs:
        assert value.dtype == reference[name].dtype, name
        assert value.shape == reference[name].shape, name
        np.testing.assert_allclose(value, reference[name], rtol=rtol, atol=atol, err_msg=name)


def test_mlp_with_npy_input_matches_onnxruntime(tmp_path, rng):
    model = save_model(mlp_model(rng), tmp_path / "mlp.onnx")
    features = rng.standard_normal((2, 4)).astype(np.float32)
    np.save(tmp_path / "features.npy", features)
    outputs = run_to_dir(model, {"features": tmp_path / "features.npy"}, tmp_path / "out")
    assert_matches_ort(outputs, ort_run(model, {"features": features}), ["Y", "hidden"])


def test_conv_maxpool_with_pb_input_matches_onnxruntime(tmp_path, rng):
    model = save_model(conv_model(rng), tmp_path / "conv.onnx")
    image = rng.standard_normal((1, 2, 9, 9)).astype(np.float32)
    write_pb(image, "image", tmp_path / "image.pb")
    outputs = run_to_dir(model, {"image": tmp_path / "image.pb"}, tmp_path / "out")
    assert_matches_ort(outputs, ort_run(model, {"image": image}), ["Y"])


def test_output_dir_holds_one_named_tensor_per_output(tmp_path, rng):
    model = save_model(mlp_model(rng), tmp_path / "mlp.onnx")
    np.save(tmp_path / "features.npy", rng.standard_normal((2, 4)).astype(np.float32))
    out = tmp_path / "out"
    run_to_dir(model, {"features": tmp_path / "features.npy"}, out)
    assert sorted(os.listdir(out)) == ["output_0.pb", "output_1.pb"]


def test_threads_do_not_change_the_result(tmp_path, rng):
    model = save_model(conv_model(rng), tmp_path / "conv.onnx")
    np.save(tmp_path / "image.npy", rng.standard_normal((1, 2, 9, 9)).astype(np.float32))
    one = run_to_dir(model, {"image": tmp_path / "image.npy"}, tmp_path / "one", "--threads", "1")
    two = run_to_dir(model, {"image": tmp_path / "image.npy"}, tmp_path / "two", "--threads", "2")
    np.testing.assert_allclose(one[0][1], two[0][1], rtol=1e-5, atol=1e-6)


def test_random_inputs_give_outputs_of_the_declared_shapes(tmp_path, rng):
    model = save_model(mlp_model(rng), tmp_path / "mlp.onnx")
    outputs = run_to_dir(model, {}, tmp_path / "out", "--random")
    assert [(name, value.shape, value.dtype) for name, value in outputs] == [
        ("Y", (2, 3), np.float32), ("hidden", (2, 8), np.float32)]
    assert np.all(outputs[1][1] >= 0)  # Relu
    assert np.all(np.isfinite(outputs[0][1]))


def test_run_without_output_dir_prints_the_outputs(tmp_path, rng):
    model = save_model(mlp_model(rng), tmp_path / "mlp.onnx")
    np.save(tmp_path / "features.npy", rng.standard_normal((2, 4)).astype(np.float32))
    proc = run_onyx("run", model, "--input", f"features={tmp_path / 'features.npy'}")
    assert proc.returncode == 0, proc.stderr
    assert "Y" in proc.stdout and "hidden" in proc.stdout


@pytest.mark.parametrize("name", ["mlp_mnist", "cnn_small"])
def test_shipped_models_match_onnxruntime(tmp_path, name):
    model = os.path.join(ROOT, "models", f"{name}.onnx")
    sample = os.path.join(ROOT, "models", f"{name}_input.npy")
    outputs = run_to_dir(model, {"input": sample}, tmp_path / "out")
    reference = ort_run(model, {"input": np.load(sample)})
    assert_matches_ort(outputs, reference, ["probabilities"], rtol=1e-4, atol=1e-6)
    assert np.array_equal(outputs[0][1].argmax(axis=1), reference["probabilities"].argmax(axis=1))
