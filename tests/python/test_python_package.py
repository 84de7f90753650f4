"""The Python package as installed (scripts/setup.sh --tests: pip install --no-build-isolation .):
`import onyx` finds the venv's copy built from this checkout, with its native module, the
onyx_core library and the CLI binary inside, and `python -m onyx` is the CLI."""
import importlib.metadata
import json
import os
import re
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper

import onyx
from cli_helpers import ROOT, make_model, save_model

SITE_PACKAGES = os.path.join(ROOT, ".venv", "lib", f"python{sys.version_info.major}.{sys.version_info.minor}",
                             "site-packages")


def test_onyx_is_the_installed_package_not_the_checkout():
    package = os.path.dirname(os.path.realpath(onyx.__file__))
    assert package == os.path.realpath(os.path.join(SITE_PACKAGES, "onyx")), package
    native = os.path.realpath(onyx._onyx.__file__)
    assert os.path.dirname(native) == package, f"the native module lies outside the package: {native}"
    assert os.path.exists(os.path.join(package, "libonyx_core.so"))


def test_installed_from_this_checkout_at_the_pyproject_version():
    with open(os.path.join(ROOT, "pyproject.toml")) as f:
        version = re.search(r'^version = "([^"]+)"', f.read(), re.M).group(1)
    distribution = importlib.metadata.distribution("onyx")
    assert distribution.version == version == onyx.__version__
    origin = json.loads(distribution.read_text("direct_url.json"))
    assert os.path.realpath(origin["url"].removeprefix("file://")) == os.path.realpath(ROOT), origin


def test_the_native_module_and_the_cli_link_the_installed_library():
    """Both must load the libonyx_core.so of the package, not the build folder's."""
    package = os.path.dirname(onyx._onyx.__file__)
    for binary in (onyx._onyx.__file__, os.path.join(package, "bin", "onyx")):
        proc = subprocess.run(["ldd", binary], stdout=subprocess.PIPE, text=True, check=True)
        line = next(line for line in proc.stdout.splitlines() if "libonyx_core.so" in line)
        assert os.path.realpath(line.split("=>")[1].split()[0]) == os.path.realpath(
            os.path.join(package, "libonyx_core.so")), f"{binary}: {line}"


def python_m_onyx(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "onyx", *map(str, args)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=120, cwd=cwd)


def test_python_m_onyx_lists_the_cli_verbs():
    proc = python_m_onyx("--help")
    assert proc.returncode == 0, proc.stderr
    for verb in ("run", "inspect", "test", "bench", "gradient", "train"):
        assert re.search(rf"^\s+{verb}\b", proc.stdout, re.M), f"{verb} missing from:\n{proc.stdout}"


def test_python_m_onyx_run_prints_the_outputs(tmp_path):
    model = make_model([helper.make_node("Relu", ["x"], ["y"])],
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3])])
    path = save_model(model, tmp_path / "relu.onnx")
    x = np.array([[-1, 2, -3], [4, -5, 6]], np.float32)
    np.save(tmp_path / "x.npy", x)
    proc = python_m_onyx("run", path, "--input", f"x={tmp_path / 'x.npy'}", "--output-dir", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("y: float [2,3]"), proc.stdout
    y = onnx.numpy_helper.to_array(onnx.load_tensor(str(tmp_path / "out" / "output_0.pb")))
    np.testing.assert_array_equal(y, np.maximum(x, 0))


def test_python_m_onyx_reports_errors_as_the_cli_does(tmp_path):
    proc = python_m_onyx("run", tmp_path / "missing.onnx")
    assert proc.returncode == 1
    assert proc.stderr.startswith("onyx: error: ") and "missing.onnx" in proc.stderr, proc.stderr
