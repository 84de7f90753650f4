"""pytest checks of the onyx CLI (build/onyx, or $ONYX_BIN) and of the Python package. A missing
binary fails every test: these checks are part of the build's contract, so they never skip."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from cli_helpers import ROOT, onyx_path

TORCH_PYTHON = os.environ.get("ONYX_TORCH_PYTHON", "/usr/bin/python3")
EXPORT_SCRIPT = os.path.join(ROOT, "scripts", "export_architectures.py")
EXPORT_TIMEOUT_S = 600


@pytest.fixture(autouse=True)
def onyx_binary():
    path = onyx_path()
    if not os.access(path, os.X_OK):
        pytest.fail(f"{path} is missing or not executable: build onyx first (scripts/setup.sh)")
    return path


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


# The example custom-op models of models/custom_ops (test_cli_custom_ops.py,
# test_python_session.py), made once per session.
@pytest.fixture(scope="session")
def custom_op_models(tmp_path_factory):
    folder = tmp_path_factory.mktemp("custom_op_models")
    subprocess.run([sys.executable, os.path.join(ROOT, "models", "custom_ops", "make_example_models.py"), str(folder)],
                   check=True)
    return folder


# The PyTorch exports of scripts/export_architectures.py (test_architectures.py,
# test_ort_compatibility.py).
@pytest.fixture(scope="session")
def exported():
    """(folder, {model name: manifest entry}) of the current export, made now if missing."""
    try:
        proc = subprocess.run([TORCH_PYTHON, EXPORT_SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True, timeout=EXPORT_TIMEOUT_S)
    except FileNotFoundError:
        pytest.fail(f"{TORCH_PYTHON} not found: install python3-torch and python3-torchvision (scripts/setup.sh)")
    if proc.returncode != 0:
        pytest.fail(f"{EXPORT_SCRIPT} failed (exit status {proc.returncode}):\n{proc.stderr[-4000:]}")
    folder = proc.stdout.strip().splitlines()[-1]
    with open(os.path.join(folder, "manifest.json")) as f:
        manifest = json.load(f)
    return folder, {entry["name"]: entry for entry in manifest["models"]}
