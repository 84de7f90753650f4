"""Real architectures exported by PyTorch run end to end in `onyx run` and match two references
that onyx did not compute: PyTorch's own outputs (saved by scripts/export_architectures.py) and
onnxruntime's outputs on the exported model.

The export (the `exported` fixture of conftest.py) runs with Debian's Python ($ONYX_TORCH_PYTHON,
default /usr/bin/python3, which has python3-torch and python3-torchvision; scripts/setup.sh
installs them) once per test session, and only when .cache/architectures holds no export of the
current script.

Tolerance for float outputs: |onyx - reference| <= ATOL + RTOL * |reference|, elementwise, with
RTOL = ATOL = 1e-4 (the outputs are of order 0.1 to 1: each test first checks that its reference
is not degenerate, so the absolute part cannot hide a wrong result). Integer outputs must be
equal.
"""
import os

import numpy as np
import onnx
import pytest

from cli_helpers import ort_run, read_outputs, run_onyx

RTOL = 1e-4
ATOL = 1e-4
MIN_REFERENCE_SPREAD = 1e-2  # a float reference whose values barely vary checks nothing

# The op types that make each export the architecture it claims to be (subgraphs included).
KEY_OPS = {
    "mlp": {"Gemm", "Erf", "LayerNormalization", "Softmax"},
    "resnet18": {"Conv", "MaxPool", "Add", "GlobalAveragePool", "Gemm"},
    "mobilenet_v2": {"Conv", "Clip", "Add", "GlobalAveragePool", "Gemm"},
    "mobilenet_v3_small": {"Conv", "HardSwish", "HardSigmoid", "Mul", "GlobalAveragePool"},
    "efficientnet_b0": {"Conv", "Sigmoid", "Mul", "GlobalAveragePool"},
    "shufflenet_v2_x1_0": {"Conv", "Reshape", "Transpose", "Slice", "Concat", "MaxPool"},
    "transformer": {"Gather", "MatMul", "Softmax", "LayerNormalization", "Where", "Erf"},
    "lstm": {"LSTM"},
    "gru": {"GRU"},
    "squeezenet1_1": {"Conv", "Relu", "MaxPool", "Concat", "GlobalAveragePool"},
    "loop_if": {"Loop", "If"},
}


def op_types(graph):
    found = set()
    for node in graph.node:
        found.add(node.op_type)
        for attribute in node.attribute:
            for subgraph in ([attribute.g] if attribute.HasField("g") else []) + list(attribute.graphs):
                found |= op_types(subgraph)
    return found


def assert_matches(actual, reference, what):
    assert actual.dtype == reference.dtype, f"{what}: dtype {actual.dtype}, reference {reference.dtype}"
    assert actual.shape == reference.shape, f"{what}: shape {actual.shape}, reference {reference.shape}"
    if np.issubdtype(reference.dtype, np.floating):
        np.testing.assert_allclose(actual, reference, rtol=RTOL, atol=ATOL, err_msg=what)
    else:
        np.testing.assert_array_equal(actual, reference, err_msg=what)


def test_every_architecture_was_exported(exported):
    _, models = exported
    assert sorted(models) == sorted(KEY_OPS)


# 0 runs the graph as exported; 2 (the default) folds BatchNormalization and runs convolutions
# channels-last (runtime/optimizer/): both must give PyTorch's results. On the emulated device
# (providers/emulated/) every node a device could run runs there, with the copies the
# partitioner plans (on a CUDA device's placement), and must give the same results.
@pytest.mark.parametrize("level,device", [(0, ""), (2, ""), (2, "emulated")])
@pytest.mark.parametrize("name", sorted(KEY_OPS))
def test_architecture_matches_pytorch_and_onnxruntime(tmp_path, exported, name, level, device):
    folder, models = exported
    entry = models[name]
    model_path = os.path.join(folder, entry["model"])
    ops = op_types(onnx.load(model_path, load_external_data=False).graph)
    assert KEY_OPS[name] <= ops, f"{name}: the export lacks {sorted(KEY_OPS[name] - ops)}"

    for k, case in enumerate(entry["cases"]):
        inputs = {input_name: os.path.join(folder, file) for input_name, file in case["inputs"].items()}
        args = ["run", model_path, "--output-dir", tmp_path / f"case{k}", "--optimization-level", level]
        if device:
            args += ["--device", device]
        for input_name, path in inputs.items():
            args += ["--input", f"{input_name}={path}"]
        proc = run_onyx(*args)
        assert proc.returncode == 0, f"{name} case {k}: exit status {proc.returncode}\n{proc.stderr}"
        outputs = read_outputs(tmp_path / f"case{k}")
        assert [output_name for output_name, _ in outputs] == list(case["outputs"]), f"{name} case {k}"

        from_torch = {output_name: np.load(os.path.join(folder, file)) for output_name, file in case["outputs"].items()}
        from_ort = ort_run(model_path, {input_name: np.load(path) for input_name, path in inputs.items()})
        for output_name, actual in outputs:
            reference = from_torch[output_name]
            if np.issubdtype(reference.dtype, np.floating):
                assert np.std(reference) > MIN_REFERENCE_SPREAD, f"{name} case {k}: {output_name} is degenerate"
            assert_matches(actual, reference, f"{name} case {k} {output_name} vs PyTorch")
            assert_matches(actual, from_ort[output_name], f"{name} case {k} {output_name} vs onnxruntime")


# One session runs the cases again and again, alternating them: every run after a case's first
# is served from the arena layout recorded for its input shapes (runtime/session/
# shape_specialized_memory.h), which `onyx run` (one run per process) never reaches.
@pytest.mark.parametrize("name", sorted(KEY_OPS))
def test_architecture_repeated_runs_in_one_session_match_pytorch(exported, name):
    import onyx
    folder, models = exported
    entry = models[name]
    session = onyx.InferenceSession(os.path.join(folder, entry["model"]))
    cases = entry["cases"]
    order = [k for _ in range(3) for k in range(len(cases))]
    for k in order:
        feeds = {input_name: np.load(os.path.join(folder, file)) for input_name, file in cases[k]["inputs"].items()}
        outputs = session.run(None, feeds)
        for output_name, actual in zip(cases[k]["outputs"], outputs):
            reference = np.load(os.path.join(folder, cases[k]["outputs"][output_name]))
            assert_matches(np.asarray(actual), reference, f"{name} case {k} {output_name} vs PyTorch")


# Copies made on every run inside each model (graph inputs and outputs aside) when it runs on
# CUDA, from `onyx inspect --device cuda` (placement needs no GPU). The goal is none, apart
# from what control flow must read on the host. A change that adds copies fails here.
CUDA_INNER_COPIES = {
    "mlp": 0, "resnet18": 0, "mobilenet_v2": 0, "mobilenet_v3_small": 0, "efficientnet_b0": 0,
    "shufflenet_v2_x1_0": 0,
    "transformer": 0, "lstm": 0, "gru": 0, "squeezenet1_1": 0,
    "loop_if": 1,  # the inner Loop's condition, computed on the device, read by the host
}


@pytest.mark.parametrize("name", sorted(KEY_OPS))
def test_cuda_placement_copies(exported, name):
    folder, models = exported
    proc = run_onyx("inspect", os.path.join(folder, models[name]["model"]), "--device", "cuda")
    if "no CUDA provider" in proc.stderr:
        pytest.fail("this build has no CUDA provider: the CUDA toolkit is expected on build machines")
    assert proc.returncode == 0, proc.stderr
    placement = next(line for line in proc.stdout.splitlines() if line.startswith("placement:"))
    copies = int(placement.split("copies inside the graph: ")[1].split(",")[0])
    assert copies <= CUDA_INNER_COPIES[name], f"{name}: {placement}\n{proc.stdout}"


def test_loop_if_cases_take_both_branches(exported):
    """The If inside the Loop must go both ways in the cases, or half of it is untested."""
    folder, models = exported
    halvings, steps = [], []
    for case in models["loop_if"]["cases"]:
        halvings.append(int(np.load(os.path.join(folder, case["outputs"]["halvings"]))[0]))
        steps.append(int(np.load(os.path.join(folder, case["inputs"]["steps"]))))
    assert any(h > 0 for h in halvings), "the then-branch is never taken"
    assert any(h < s for h, s in zip(halvings, steps)), "the else-branch is never taken"
    assert 0 in steps, "no case with a zero trip count"
