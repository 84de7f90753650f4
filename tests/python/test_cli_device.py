"""`--device` on run, test, inspect and bench: nodes go to the device's provider with a CPU
fallback per node, shape chains stay on the CPU, and a device that is unknown, absent from the
build or absent from the machine is one readable error. The emulated device (CPU kernels on
memory claimed as a device's) exercises placement and copies on machines without a GPU."""
import os

import numpy as np
import pytest
from onnx import TensorProto, helper, numpy_helper

from cli_helpers import assert_one_error_line, make_model, mlp_model, read_outputs, run_onyx, save_model


def has_gpu():
    return os.path.exists("/dev/nvidia0")


@pytest.fixture
def reshape_chain_model(tmp_path):
    """x[N,6] -> Relu -> Reshape to [N,2,3], the shape computed from Shape(x) at run time."""
    nodes = [
        helper.make_node("Relu", ["x"], ["r"]),
        helper.make_node("Shape", ["x"], ["s"]),
        helper.make_node("Gather", ["s", "zero"], ["n"]),
        helper.make_node("Unsqueeze", ["n", "axis0"], ["n1"]),
        helper.make_node("Concat", ["n1", "tail"], ["shape"], axis=0),
        helper.make_node("Reshape", ["r", "shape"], ["y"]),
    ]
    inits = [numpy_helper.from_array(np.array(0, np.int64), "zero"),
             numpy_helper.from_array(np.array([0], np.int64), "axis0"),
             numpy_helper.from_array(np.array([2, 3], np.int64), "tail")]
    model = make_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 6])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 2, 3])], inits)
    return save_model(model, tmp_path / "reshape_chain.onnx")


def test_inspect_shows_placement_with_shape_chains_on_the_cpu(reshape_chain_model):
    proc = run_onyx("inspect", reshape_chain_model, "--device", "emulated")
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "placement: CPU 4 nodes; EMULATED 2 nodes;" in out, out
    assert "copies inside the graph: 0" in out, out
    for op in ("Shape", "Gather", "Unsqueeze", "Concat"):
        assert f"({op}): shape computation" in out, out
    assert "'y': emulated:0 -> cpu (graph output)" in out, out


def test_run_on_the_emulated_device_matches_the_cpu(tmp_path, rng):
    model = save_model(mlp_model(rng), tmp_path / "mlp.onnx")
    features = rng.standard_normal((2, 4)).astype(np.float32)
    np.save(tmp_path / "features.npy", features)
    results = {}
    for device in ("cpu", "emulated"):
        out_dir = tmp_path / device
        proc = run_onyx("run", model, "--device", device, "-i", f"features={tmp_path / 'features.npy'}",
                        "-o", out_dir, "--verbose")
        assert proc.returncode == 0, proc.stderr
        results[device] = read_outputs(out_dir)
    assert len(results["cpu"]) == len(results["emulated"]) == 2
    for (cpu_name, on_cpu), (name, emulated) in zip(results["cpu"], results["emulated"]):
        assert name == cpu_name
        np.testing.assert_array_equal(emulated, on_cpu)


def test_an_unknown_device_is_one_error_line(reshape_chain_model):
    proc = run_onyx("run", reshape_chain_model, "--device", "tpu", "--random")
    assert_one_error_line(proc, "unknown execution provider 'tpu'", "cpu")
    proc = run_onyx("run", reshape_chain_model, "--device", "cuda:x", "--random")
    assert_one_error_line(proc, "device id 'x'")


@pytest.mark.skipif(has_gpu(), reason="a GPU is present: CUDA is not absent here")
def test_cuda_without_a_gpu_or_without_the_provider_is_one_error_line(reshape_chain_model):
    for verb in (("run", "--random"), ("bench",)):
        proc = run_onyx(verb[0], reshape_chain_model, "--device", "cuda", *verb[1:])
        assert_one_error_line(proc, "CUDA")


def test_inspect_on_cuda_needs_no_gpu(reshape_chain_model):
    proc = run_onyx("inspect", reshape_chain_model, "--device", "cuda")
    if "no CUDA provider" in proc.stderr:  # a build without the CUDA toolkit
        assert_one_error_line(proc, "no CUDA provider")
        return
    assert proc.returncode == 0, proc.stderr
    assert "CUDA 2 nodes" in proc.stdout, proc.stdout
    assert "copies inside the graph: 0" in proc.stdout, proc.stdout


def test_conformance_tests_run_on_the_emulated_device(tmp_path):
    # `onyx test --device` runs backend test folders there; a Loop's body runs on the device.
    root = os.path.join(os.path.dirname(__file__), "..", "..", ".cache", "onnx-node")
    folders = [os.path.join(root, name) for name in ("test_loop11", "test_reshape_reordered_all_dims", "test_if")]
    if not all(os.path.isdir(folder) for folder in folders):
        pytest.fail("the onnx node tests are not generated (scripts/conformance.py generates them)")
    proc = run_onyx("test", *folders, "--device", "emulated")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "3 passed, 0 failed" in proc.stdout, proc.stdout
