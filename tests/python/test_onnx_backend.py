"""onnx's own backend test runner, onnx.backend.test.BackendTest, against onyx.backend: the node,
real, simple, pytorch-converted and pytorch-operator suites of the pinned onnx package, under
pytest, on the CPU.

Expected failures come from the lists scripts/conformance.py checks (tests/conformance/
expected_failures/<suite>.txt), with its rules: a listed test must fail (a listed test that
passes fails here: delete its line), every other test must pass, and a listed name must exist.
For one list to hold for both runs, outputs are judged as `onyx test` judges them: the runner's
own comparison (its per-case tolerances, two bfloat16 ulps) is replaced by the harness's C++
check (tools/value_comparison.cc through onyx._onyx.compare_outputs: rtol 1e-3, atol 1e-7,
types and shapes only for random ops).
The node cases are the ones scripts/generate_onnx_node_tests.py writes for the C++ harness,
including its correction of the out-of-range low-bit Cast cases (imported from there, so both
runs check the same data). The simple and PyTorch suites of the onnx wheel are Debian's
libonnx-testdata (checked below: the same tests with byte-identical data sets; three models
declare opset 9 where Debian's declare 6, same nodes), so their lists are the debian-* ones.
The real suite runs onnx's "light" models (shipped with the wheel) on the runner's own inputs,
against onnx's reference outputs; it has no list of its own: all of it passes.

Every suite runs whole (about 2,000 tests in 40 s on 2 cores). Alone:

    .venv/bin/python -m pytest -q tests/python/test_onnx_backend.py
"""
import filecmp
import functools
import importlib.util
import os

import onnx
import onnx.backend.test
import onnx.backend.test.loader
import pytest

import onyx.backend
from cli_helpers import ROOT


def _import_script(name):
    spec = importlib.util.spec_from_file_location(name, os.path.join(ROOT, "scripts", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


conformance = _import_script("conformance")
generator = _import_script("generate_onnx_node_tests")

# BackendTest's test classes -> the conformance suite whose list holds their expected failures.
SUITE_OF_CLASS = {
    "OnnxBackendNodeModelTest": "onnx-node",
    "OnnxBackendSimpleModelTest": "debian-simple",
    "OnnxBackendPyTorchConvertedModelTest": "debian-pytorch-converted",
    "OnnxBackendPyTorchOperatorModelTest": "debian-pytorch-operator",
    "OnnxBackendRealModelTest": None,
}
WHEEL_DATA = os.path.join(os.path.dirname(onnx.__file__), "backend", "test", "data")
DEBIAN_DATA = {kind: os.path.join(conformance.DEBIAN_DATA, kind)
               for kind in ("simple", "pytorch-converted", "pytorch-operator")}

# The runner writes the real suite's generated inputs under $ONNX_HOME: keep them in the
# checkout's cache instead of ~/.onnx.
os.environ["ONNX_HOME"] = os.path.join(ROOT, ".cache", "onnx-home")


def _correct_node_cases():
    """The generator's spec-defined replacement of the out-of-range low-bit Cast data, applied
    to the cases BackendTest reads (the list onnx's loader returns, changed in place)."""
    cases = onnx.backend.test.loader.load_model_tests(kind="node")
    cases[:] = [generator.spec_corrected(case) for case in cases]
    return {case.name for case in cases}


NODE_CASES = _correct_node_cases()


class HarnessJudgedBackend(onyx.backend.OnyxBackend):
    """onyx.backend, remembering the model it prepared last: the runner prepares a model, runs
    it and compares its outputs in that order within one test, and the comparison asks whether
    that model has random ops."""
    last_prepared = None

    @classmethod
    def prepare(cls, model, device="CPU", **kwargs):
        HarnessJudgedBackend.last_prepared = super().prepare(model, device, **kwargs)
        return HarnessJudgedBackend.last_prepared


class HarnessJudgedBackendTest(onnx.backend.test.BackendTest):
    @classmethod
    def assert_similar_outputs(cls, ref_outputs, outputs, rtol, atol, model_dir=None):
        random_values = HarnessJudgedBackend.last_prepared.session._session.has_random_outputs()
        mismatch = onyx._onyx.compare_outputs(list(ref_outputs), list(outputs), random_values)
        if mismatch is not None:
            raise AssertionError(mismatch)


def _expect_failure(test, name, reason, list_file):
    """The conformance rule for a listed test: it must fail; passing is the error."""
    @functools.wraps(test)
    def listed(*args, **kwargs):
        try:
            test(*args, **kwargs)
        except Exception:  # noqa: BLE001 (any failure is the expected one)
            return
        raise AssertionError(f"{name} passes but is listed in {list_file} ({reason}): delete its line")
    return listed


def _build_test_classes():
    backend_test = HarnessJudgedBackendTest(HarnessJudgedBackend, __name__)
    classes = backend_test.test_cases
    for class_name, test_class in classes.items():
        suite = SUITE_OF_CLASS[class_name]
        expected = conformance.read_list(suite) if suite else {}
        list_file = os.path.relpath(conformance.list_path(suite), ROOT) if suite else ""
        for attribute in [a for a in vars(test_class) if a.startswith("test_")]:
            device = attribute.rsplit("_", 1)[1]
            name = attribute[: -len(device) - 1]
            if not onyx.backend.supports_device(device.upper()):
                delattr(test_class, attribute)  # e.g. the CUDA copies in a build without CUDA
            elif name in expected:
                setattr(test_class, attribute,
                        _expect_failure(getattr(test_class, attribute), name, expected[name], list_file))
    return classes


globals().update(_build_test_classes())


@pytest.mark.parametrize("class_name", [name for name, suite in SUITE_OF_CLASS.items() if suite])
def test_every_listed_test_exists(class_name):
    suite = SUITE_OF_CLASS[class_name]
    if class_name == "OnnxBackendNodeModelTest":
        names = NODE_CASES
    else:
        kind = {"debian-simple": "simple", "debian-pytorch-converted": "pytorch-converted",
                "debian-pytorch-operator": "pytorch-operator"}[suite]
        names = set(os.listdir(os.path.join(WHEEL_DATA, kind)))
    stale = sorted(set(conformance.read_list(suite)) - names)
    assert not stale, f"listed in {conformance.list_path(suite)} but no such test: {stale}"


# Models the onnx wheel ships re-exported: opset 9 instead of Debian's 6, the same nodes.
REEXPORTED_MODELS = {"pytorch-converted/test_PixelShuffle/model.onnx",
                     "pytorch-operator/test_operator_repeat/model.onnx",
                     "pytorch-operator/test_operator_repeat_dim_overflow/model.onnx"}


@pytest.mark.parametrize("kind", sorted(DEBIAN_DATA))
def test_the_wheels_model_data_is_debians(kind):
    """What lets the BackendTest run of these suites share the debian-* lists."""
    ours, theirs = os.path.join(WHEEL_DATA, kind), DEBIAN_DATA[kind]
    assert sorted(os.listdir(ours)) == sorted(os.listdir(theirs))
    differing = set()
    for test in os.listdir(ours):
        for folder, _, files in os.walk(os.path.join(ours, test)):
            other = os.path.join(theirs, os.path.relpath(folder, ours))
            _, mismatch, errors = filecmp.cmpfiles(folder, other, files, shallow=False)
            differing |= {os.path.relpath(os.path.join(folder, name), WHEEL_DATA) for name in mismatch + errors}
    assert differing == {path for path in REEXPORTED_MODELS if path.startswith(kind + "/")}
