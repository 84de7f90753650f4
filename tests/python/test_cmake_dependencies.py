"""Configuring onyx without one of its dependencies stops at once with one message naming the
Debian 12 package to install (CMakeLists.txt's onyx_require_package / onyx_require_pkg_config),
not with CMake's search-path dump or a compile error later."""
import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]

# (what to hide from CMake, the Debian package the message must name)
FIND_PACKAGE_DEPENDENCIES = [
    ("Protobuf", "libprotobuf-dev"),
    ("dnnl", "libdnnl-dev"),
    ("ZLIB", "zlib1g-dev"),
    ("Eigen3", "libeigen3-dev"),
    ("CLI11", "libcli11-dev"),
    ("nlohmann_json", "nlohmann-json3-dev"),
    ("GTest", "libgtest-dev"),
]


def configure(build_dir, *args, env=None):
    return subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build_dir), "-DONYX_CUDA=OFF", *args],
                          capture_output=True, text=True, env=env, timeout=120)


def error_text(result):
    # CMake wraps a message at 80 columns; the words are what matters.
    return " ".join(result.stderr.split())


@pytest.mark.parametrize("package,debian_package", FIND_PACKAGE_DEPENDENCIES)
def test_a_missing_find_package_dependency_names_its_debian_package(tmp_path, package, debian_package):
    result = configure(tmp_path, f"-DCMAKE_DISABLE_FIND_PACKAGE_{package}=TRUE", "-DONYX_TESTS=ON")
    assert result.returncode != 0
    assert (f"onyx: dependency {package} not found: install the Debian 12 package {debian_package}"
            in error_text(result)), result.stderr


def test_a_missing_pkg_config_dependency_names_its_debian_package(tmp_path):
    env = dict(os.environ, PKG_CONFIG_LIBDIR=str(tmp_path / "no-pkg-config-files"))
    result = configure(tmp_path / "build", env=env)
    assert result.returncode != 0
    assert ("onyx: dependency re2 (pkg-config) not found: install the Debian 12 package libre2-dev"
            in error_text(result)), result.stderr


def test_every_dependency_present_configures(tmp_path):
    result = configure(tmp_path, "-DONYX_TESTS=ON", "-DONYX_BENCHMARKS=ON")
    assert result.returncode == 0, result.stderr


def test_the_python_module_without_nanobind_names_the_fix(tmp_path):
    """ONYX_PYTHON with a Python that lacks nanobind (Debian's own, not the venv) says where it
    comes from."""
    result = configure(tmp_path, "-DONYX_PYTHON=ON", "-DPython_EXECUTABLE=/usr/bin/python3")
    assert result.returncode != 0
    text = error_text(result)
    assert "onyx: ONYX_PYTHON needs" in text and "scripts/setup.sh --tests" in text, result.stderr
