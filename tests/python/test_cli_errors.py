"""Bad input never crashes onyx: each case prints exactly one `onyx: error:` line naming the
problem and exits with status 1."""
import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from cli_helpers import (OPSET, assert_one_error_line, make_model, mlp_model, run_onyx, save_model,
                         write_pb)


@pytest.fixture
def mlp_path(tmp_path, rng):
    return save_model(mlp_model(rng), tmp_path / "mlp.onnx")


@pytest.fixture
def features(tmp_path, rng):
    path = tmp_path / "features.npy"
    np.save(path, rng.standard_normal((2, 4)).astype(np.float32))
    return path


def test_missing_model_file(tmp_path):
    missing = tmp_path / "no_such_model.onnx"
    assert_one_error_line(run_onyx("run", missing, "--random"), "no_such_model.onnx")
    assert_one_error_line(run_onyx("inspect", missing), "no_such_model.onnx")


@pytest.mark.parametrize("keep", [0.5, 0.9])
def test_truncated_model(tmp_path, mlp_path, keep):
    data = mlp_path.read_bytes()
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(data[:int(len(data) * keep)])
    for verb in (["run", truncated, "--random"], ["inspect", truncated]):
        line = assert_one_error_line(run_onyx(*verb), "truncated.onnx", "not a valid ONNX model")
        assert f"({int(len(data) * keep)} bytes;" in line, line


@pytest.mark.parametrize("content", [b"this is not an ONNX model\n", bytes(range(256)) * 4, b""])
def test_not_an_onnx_file(tmp_path, content):
    path = tmp_path / "garbage.onnx"
    path.write_bytes(content)
    for verb in (["run", path, "--random"], ["inspect", path]):
        assert_one_error_line(run_onyx(*verb), "garbage.onnx", "not a valid ONNX model",
                              f"({len(content)} bytes;")


def test_node_reads_an_undefined_value(tmp_path):
    model = make_model([helper.make_node("Add", ["features", "ghost_value"], ["Y"])],
                       [helper.make_tensor_value_info("features", TensorProto.FLOAT, [2, 4])],
                       [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [2, 4])])
    path = save_model(model, tmp_path / "undefined.onnx", check=False)
    assert_one_error_line(run_onyx("run", path, "--random"), "ghost_value")


@pytest.mark.parametrize("domain,opset,shown_domain", [("", OPSET, "ai.onnx"),
                                                        ("com.example.unknown", 3, "com.example.unknown")])
def test_unknown_op_names_op_domain_and_opset(tmp_path, domain, opset, shown_domain):
    opsets = {"": OPSET}
    opsets[domain] = opset
    model = make_model([helper.make_node("FrobnicateTensor", ["features"], ["Y"], domain=domain)],
                       [helper.make_tensor_value_info("features", TensorProto.FLOAT, [2, 4])],
                       [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [2, 4])], opsets=opsets)
    path = save_model(model, tmp_path / "unknown_op.onnx", check=False)
    assert_one_error_line(run_onyx("run", path, "--random"), "FrobnicateTensor", shown_domain, str(opset))


def test_wrong_input_name(tmp_path, mlp_path, features):
    assert_one_error_line(run_onyx("run", mlp_path, "--input", f"not_an_input={features}",
                                   "--output-dir", tmp_path / "out"), "not_an_input")


def test_wrong_input_shape(tmp_path, mlp_path, rng):
    path = tmp_path / "wrong_shape.npy"
    np.save(path, rng.standard_normal((3, 5)).astype(np.float32))
    assert_one_error_line(run_onyx("run", mlp_path, "--input", f"features={path}",
                                   "--output-dir", tmp_path / "out"), "features")


def test_wrong_input_rank(tmp_path, mlp_path, rng):
    path = tmp_path / "wrong_rank.npy"
    np.save(path, rng.standard_normal((8,)).astype(np.float32))
    assert_one_error_line(run_onyx("run", mlp_path, "--input", f"features={path}"), "features")


@pytest.mark.parametrize("dtype,name", [(np.int32, "int32"), (np.float64, "double")])
def test_wrong_input_dtype(tmp_path, mlp_path, dtype, name):
    path = tmp_path / "wrong_dtype.npy"
    np.save(path, np.ones((2, 4), dtype=dtype))
    assert_one_error_line(run_onyx("run", mlp_path, "--input", f"features={path}"), "features", name)


def test_wrong_input_dtype_in_pb(tmp_path, mlp_path):
    path = write_pb(np.ones((2, 4), dtype=np.int64), "features", tmp_path / "wrong_dtype.pb")
    assert_one_error_line(run_onyx("run", mlp_path, "--input", f"features={path}"), "features", "int64")


def test_missing_input_file(tmp_path, mlp_path):
    missing = tmp_path / "no_such_input.npy"
    assert_one_error_line(run_onyx("run", mlp_path, "--input", f"features={missing}"), "no_such_input.npy")


def test_corrupt_input_file(tmp_path, mlp_path):
    path = tmp_path / "corrupt.npy"
    path.write_bytes(b"\x93NUMPY garbage")
    assert_one_error_line(run_onyx("run", mlp_path, "--input", f"features={path}"), "corrupt.npy", CORRUPT_NPY)


# What `onyx run` says of a .npy file whose header is cut off (checked in test_corrupt_input_file).
CORRUPT_NPY = "truncated .npy header"


def external_data_model(location):
    """features[2,4] + W -> Y, with W's data stored externally at `location`."""
    weight = TensorProto()
    weight.name = "W"
    weight.data_type = TensorProto.FLOAT
    weight.dims.extend([2, 4])
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"), ("length", "32")):
        entry = weight.external_data.add()
        entry.key, entry.value = key, value
    return make_model([helper.make_node("Add", ["features", "W"], ["Y"])],
                      [helper.make_tensor_value_info("features", TensorProto.FLOAT, [2, 4])],
                      [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [2, 4])], [weight])


@pytest.mark.parametrize("location", ["../x", "sub/../../x", "ABSOLUTE"])
def test_external_data_escaping_the_model_folder(tmp_path, location):
    # The escaping target exists and holds valid data, so only the confinement rule can refuse it.
    target = tmp_path / "x"
    target.write_bytes(np.arange(8, dtype=np.float32).tobytes())
    if location == "ABSOLUTE":
        location = str(target)
    model_dir = tmp_path / "model"
    (model_dir / "sub").mkdir(parents=True)
    path = save_model(external_data_model(location), model_dir / "model.onnx", check=False)
    expected = ("must be a path relative to the model's folder" if location == str(target)
                else "leaves the model's folder")
    assert_one_error_line(run_onyx("run", path, "--random"), "external data location", location, expected)


def test_external_data_inside_the_model_folder_loads(tmp_path, rng):
    # The control for the case above: the same model with its data beside it runs.
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    weights = np.arange(8, dtype=np.float32)
    (model_dir / "weights.bin").write_bytes(weights.tobytes())
    path = save_model(external_data_model("weights.bin"), model_dir / "model.onnx", check=False)
    features = rng.standard_normal((2, 4)).astype(np.float32)
    np.save(tmp_path / "features.npy", features)
    out = tmp_path / "out"
    proc = run_onyx("run", path, "--input", f"features={tmp_path / 'features.npy'}", "--output-dir", out)
    assert proc.returncode == 0, proc.stderr
    result = numpy_helper.to_array(_read_tensor(out / "output_0.pb"))
    np.testing.assert_allclose(result, features + weights.reshape(2, 4), rtol=1e-6)


def test_missing_external_data_file(tmp_path):
    path = save_model(external_data_model("missing.bin"), tmp_path / "model.onnx", check=False)
    assert_one_error_line(run_onyx("run", path, "--random"), "cannot open external data file", "missing.bin",
                          "'W'")


@pytest.mark.parametrize("args,named", [(["frobnicate"], "unknown command 'frobnicate'"),
                                        (["run", "--no-such-option"], "--no-such-option")])
def test_usage_errors_exit_2_with_one_line_naming_the_mistake(mlp_path, args, named):
    proc = run_onyx(args[0], mlp_path, *args[1:])
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("onyx: error:"), proc.stderr
    assert named in lines[0], proc.stderr


def _read_tensor(path):
    tensor = TensorProto()
    tensor.ParseFromString(path.read_bytes())
    return tensor


def test_usage_mistakes_give_one_line_and_exit_status_2():
    for args, named in ((["run"], "model"), (["frobnicate"], "frobnicate"),
                        (["run", "m.onnx", "--threads", "-3"], "--threads")):
        proc = run_onyx(*args)
        assert proc.returncode == 2, (args, proc.returncode)
        lines = proc.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("onyx: error:"), (args, proc.stderr)
        assert named in lines[0], (args, proc.stderr)
