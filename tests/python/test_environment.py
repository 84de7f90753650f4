"""The test environment is the pinned one: every Python package in the venv at the version
requirements.lock names and nothing else, the vendored .proto files equal to the pinned onnx's,
and the conformance references independent of whatever ml_dtypes would compute."""
import importlib.metadata
import os
import re
import sys

import numpy as np
import onnx
import pytest

from cli_helpers import ROOT

LOCK = os.path.join(ROOT, "requirements.lock")


def canonical(name):
    return re.sub(r"[-_.]+", "-", name).lower()


def locked_versions():
    pins = {}
    with open(LOCK) as f:
        for line in f:
            text = line.split("#", 1)[0].strip()
            if not text:
                continue
            match = re.fullmatch(r"([A-Za-z0-9_.\-]+)==([A-Za-z0-9_.+\-]+)", text)
            assert match, f"requirements.lock: '{text}' is not an exact pin NAME==VERSION"
            pins[canonical(match.group(1))] = match.group(2)
    return pins


# The project's own package: scripts/setup.sh installs it from the checkout (pip install .),
# test_python_package.py checks where it comes from.
OWN_PACKAGE = "onyx"


def installed_versions():
    return {canonical(dist.metadata["Name"]): dist.version for dist in importlib.metadata.distributions()
            if canonical(dist.metadata["Name"]) != OWN_PACKAGE}


def test_runs_inside_the_projects_venv():
    assert os.path.realpath(sys.prefix) == os.path.realpath(os.path.join(ROOT, ".venv")), (
        f"pytest runs under {sys.prefix}, not {ROOT}/.venv (scripts/setup.sh --tests makes it)")


def test_every_venv_package_is_the_locked_version():
    pins, installed = locked_versions(), installed_versions()
    wrong = {name: (version, pins[name]) for name, version in installed.items()
             if name in pins and pins[name] != version}
    unlocked = sorted(set(installed) - set(pins))
    missing = sorted(set(pins) - set(installed))
    assert not wrong, f"installed version differs from requirements.lock: {wrong}"
    assert not unlocked, f"installed but not in requirements.lock: {unlocked}"
    assert not missing, f"in requirements.lock but not installed: {missing}"


@pytest.mark.parametrize("name", ["onnx-ml.proto", "onnx-data.proto"])
def test_vendored_proto_is_the_pinned_onnx_packages(name):
    vendored = os.path.join(ROOT, "runtime", "ir", "proto", name)
    shipped = os.path.join(os.path.dirname(onnx.__file__), name)
    with open(vendored, "rb") as a, open(shipped, "rb") as b:
        assert a.read() == b.read(), f"{vendored} differs from onnx {onnx.__version__}'s {name}"


def _import_generator():
    sys.path.insert(0, os.path.join(ROOT, "scripts"))
    try:
        import generate_onnx_node_tests
    finally:
        sys.path.pop(0)
    return generate_onnx_node_tests


@pytest.mark.parametrize("values,bits,packed", [
    ([-8, -7, 7, 0], 4, bytes([0x98, 0x07])),        # element 0 in the low nibble
    ([1, 2, 3], 4, bytes([0x21, 0x03])),             # odd count: the last high nibble is 0
    ([-2, -1, 0, 1, 3], 2, bytes([0b01001110, 0x03])),  # element 0 in the lowest 2 bits
])
def test_generator_packs_low_bit_types_as_onnx_does(values, bits, packed):
    assert _import_generator().pack_low_bit(values, bits) == packed


def test_generator_feeds_only_the_defined_range_to_low_bit_casts():
    generator = _import_generator()
    from onnx.backend.test.case import node as node_cases
    cases = {case.name: case for case in node_cases.collect_testcases(None)
             if generator.LOW_BIT_CAST.match(case.name)}
    assert len(cases) == 24, sorted(cases)  # 8 Cast, 8 CastLike, 8 CastLike _expanded
    case = generator.spec_corrected(cases["test_cast_FLOAT_to_INT4"])
    (inputs, outputs), = case.data_sets
    fed = onnx.numpy_helper.to_array(inputs[0])
    assert fed.shape == (5, 5) and fed.dtype == np.float32
    assert fed.min() == -8 and fed.max() == 7
    assert list(fed.ravel()[:16]) == list(range(-8, 8))
    assert outputs[0].data_type == onnx.TensorProto.INT4
    assert outputs[0].raw_data == generator.pack_low_bit(fed.ravel().astype(int), 4)
