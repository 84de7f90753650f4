"""The compatibility proof of onyx's inference API: one script, written for onnxruntime, runs with
`import onnxruntime as rt` and with `import onyx as rt` over the shipped models (models/) and the
PyTorch exports (scripts/export_architectures.py); both runs must describe the models alike
and compute the same outputs (onnxruntime's are the reference: rtol = atol = 1e-4 for floats,
as test_architectures.py uses, equality for integers)."""
import glob
import os

import numpy as np
import onnx
import onnxruntime
import pytest

import onyx
from cli_helpers import ROOT

RTOL = 1e-4
ATOL = 1e-4


def ort_script(rt, model_path, inputs_by_name):
    """What an onnxruntime user writes: options, a session from a path and one from bytes,
    the model's description, run() of every output and of one by name."""
    options = rt.SessionOptions()
    options.intra_op_num_threads = 1
    options.graph_optimization_level = rt.GraphOptimizationLevel.ORT_ENABLE_ALL
    session = rt.InferenceSession(model_path, sess_options=options, providers=["CPUExecutionProvider"])
    feeds = {arg.name: inputs_by_name[arg.name] for arg in session.get_inputs()}
    first_output = session.get_outputs()[0].name
    with open(model_path, "rb") as f:
        from_bytes = rt.InferenceSession(f.read(), providers=rt.get_available_providers()[-1:])
    meta = session.get_modelmeta()
    return {
        "inputs": [(arg.name, arg.shape, arg.type) for arg in session.get_inputs()],
        "outputs": [(arg.name, arg.shape, arg.type) for arg in session.get_outputs()],
        "meta": (meta.producer_name, meta.graph_name, meta.domain, meta.version, meta.custom_metadata_map),
        "providers": session.get_providers(),
        "results": session.run(None, feeds),
        "first": session.run([first_output], feeds),
        "from_bytes": from_bytes.run(None, feeds),
    }


def shipped_cases():
    """models/*.onnx with their models/<name>_input.npy, or seeded data of the declared shape
    (symbolic dims as 2)."""
    cases = []
    for path in sorted(glob.glob(os.path.join(ROOT, "models", "*.onnx"))):
        model = onnx.load(path)
        initializers = {t.name for t in model.graph.initializer}
        feeds = {}
        for k, value in enumerate(i for i in model.graph.input if i.name not in initializers):
            saved = path[: -len(".onnx")] + "_input.npy"
            if k == 0 and os.path.exists(saved):
                feeds[value.name] = np.load(saved)
                continue
            shape = [d.dim_value if d.HasField("dim_value") else 2 for d in value.type.tensor_type.shape.dim]
            dtype = onnx.helper.tensor_dtype_to_np_dtype(value.type.tensor_type.elem_type)
            feeds[value.name] = np.random.default_rng(k).standard_normal(shape).astype(dtype)
        cases.append(pytest.param(path, feeds, id=os.path.basename(path)))
    return cases


def assert_same(onyx_side, ort_side, what):
    for key in ("inputs", "outputs", "meta", "providers"):
        assert onyx_side[key] == ort_side[key], f"{what}: {key} differ"
    for key in ("results", "first", "from_bytes"):
        assert len(onyx_side[key]) == len(ort_side[key]), f"{what}: {key} count"
        for k, (mine, reference) in enumerate(zip(onyx_side[key], ort_side[key])):
            label = f"{what}: {key}[{k}]"
            assert isinstance(mine, np.ndarray), label
            assert (mine.dtype, mine.shape) == (reference.dtype, reference.shape), label
            if np.issubdtype(reference.dtype, np.floating):
                np.testing.assert_allclose(mine, reference, rtol=RTOL, atol=ATOL, err_msg=label)
            else:
                np.testing.assert_array_equal(mine, reference, err_msg=label)


@pytest.mark.parametrize("path,feeds", shipped_cases())
def test_shipped_model_under_both_runtimes(path, feeds):
    assert_same(ort_script(onyx, path, feeds), ort_script(onnxruntime, path, feeds), os.path.basename(path))


def test_exported_architectures_under_both_runtimes(exported):
    folder, models = exported
    for name, entry in sorted(models.items()):
        case = entry["cases"][0]
        feeds = {input_name: np.load(os.path.join(folder, file)) for input_name, file in case["inputs"].items()}
        path = os.path.join(folder, entry["model"])
        assert_same(ort_script(onyx, path, feeds), ort_script(onnxruntime, path, feeds), name)
