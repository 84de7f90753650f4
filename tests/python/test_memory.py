"""Peak resident memory of the CLI (issue 15, item 8): a CPU process never loads the CUDA
provider's libraries (cuBLASLt alone costs about 150 MB resident when it loads), and a model's
weights are held about once while it loads (not file bytes + parsed message + tensors).
`onyx bench` reports the process's peak resident set (VmHWM), which these bounds read."""
import os
import re
import subprocess

import pytest

from cli_helpers import ROOT, TIMEOUT_S, onyx_path, run_onyx

CUDA_LIBRARIES = ("libonyx_cuda.so", "libcublas", "libcublasLt", "libcudnn", "libcudart")


def peak_resident_mib(proc):
    assert proc.returncode == 0, proc.stderr
    match = re.search(r"peak resident memory: ([0-9.]+) MiB", proc.stdout)
    assert match, proc.stdout
    return float(match.group(1))


def loaded_libraries(*args):
    """Shared objects the dynamic loader opened while onyx ran `args` (LD_DEBUG=files)."""
    env = dict(os.environ, LD_DEBUG="files")
    proc = subprocess.run([onyx_path(), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, errors="replace", env=env, timeout=TIMEOUT_S)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    return set(re.findall(r"file=(\S+)", proc.stderr))


def test_a_cpu_run_loads_no_cuda_library():
    model = os.path.join(ROOT, "models", "cnn_small.onnx")
    inputs = "input=" + os.path.join(ROOT, "models", "cnn_small_input.npy")
    libraries = loaded_libraries("run", model, "--input", inputs)
    assert libraries, "LD_DEBUG=files printed nothing"
    assert not [lib for lib in libraries if any(name in lib for name in CUDA_LIBRARIES)], sorted(libraries)


def test_asking_for_cuda_loads_the_provider_library():
    # Whatever the machine (a GPU or not), the provider's library is what `--device cuda` loads;
    # without a GPU the run then stops with the driver's message (test_cli_device.py).
    model = os.path.join(ROOT, "models", "cnn_small.onnx")
    inputs = "input=" + os.path.join(ROOT, "models", "cnn_small_input.npy")
    libraries = loaded_libraries("run", model, "--input", inputs, "--device", "cuda")
    if not any("libonyx_cuda.so" in lib for lib in libraries):
        pytest.fail(f"--device cuda did not load libonyx_cuda.so: {sorted(libraries)}")


def test_small_model_peak_memory():
    # 233 MB when the CLI linked the CUDA libraries; about 21 MB without them.
    proc = run_onyx("bench", os.path.join(ROOT, "models", "cnn_small.onnx"), "-n", "3", "--threads", "1")
    assert peak_resident_mib(proc) < 60


def test_resnet18_peak_memory_is_at_most_150_mb(exported):
    # ResNet-18's 47 MB of weights: 298 MB before (CUDA libraries, file bytes read into a string
    # that doubled, then parsed message and tensors side by side); about 120 MB now.
    folder, _ = exported
    model = os.path.join(folder, "resnet18.onnx")
    image = os.path.join(folder, "resnet18.case0.input.image.npy")
    proc = run_onyx("bench", model, "--input", "image=" + image, "-n", "2", "--threads", "1")
    assert peak_resident_mib(proc) <= 150
