"""Shared helpers for the CLI tests: locating and running build/onyx, building small models with
onnx.helper, writing inputs, and reading `--output-dir` results."""
import os
import subprocess

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OPSET = 17
IR_VERSION = 8
TIMEOUT_S = 120


def onyx_path():
    """The binary under test: $ONYX_BIN, else build/onyx."""
    return os.environ.get("ONYX_BIN", os.path.join(ROOT, "build", "onyx"))


def run_onyx(*args, cwd=None):
    """Runs onyx with `args`; returns the CompletedProcess (text stdout/stderr)."""
    return subprocess.run([onyx_path(), *map(str, args)], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, errors="replace",
                          timeout=TIMEOUT_S, cwd=cwd)


def assert_one_error_line(proc, *must_mention):
    """The bad-input contract: exit status 1 (never a signal), exactly one stderr line starting
    with "onyx: error:", which names each of `must_mention` (case-insensitive)."""
    described = f"exit status {proc.returncode}\nstdout: {proc.stdout!r}\nstderr: {proc.stderr!r}"
    assert proc.returncode == 1, described
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, "expected exactly one stderr line\n" + described
    assert lines[0].startswith("onyx: error:"), described
    for word in must_mention:
        assert str(word).lower() in lines[0].lower(), f"the error should mention {word!r}\n{described}"
    return lines[0]


def save_model(model, path, check=True):
    model.ir_version = IR_VERSION
    if check:
        onnx.checker.check_model(model, full_check=True)
    os.makedirs(os.path.dirname(str(path)), exist_ok=True)
    onnx.save(model, str(path))
    return path


def make_model(nodes, inputs, outputs, initializers=(), opsets=None, name="g"):
    graph = helper.make_graph(nodes, name, inputs, outputs, list(initializers))
    opsets = opsets or {"": OPSET}
    return helper.make_model(graph, opset_imports=[helper.make_opsetid(d, v) for d, v in opsets.items()],
                             producer_name="onyx-tests")


def mlp_model(rng):
    """features[2,4] -> Gemm(4->8) -> Relu ("hidden", also an output) -> Gemm(8->3) -> Y."""
    w1 = rng.standard_normal((4, 8)).astype(np.float32)
    b1 = rng.standard_normal(8).astype(np.float32)
    w2 = rng.standard_normal((3, 8)).astype(np.float32)
    b2 = rng.standard_normal(3).astype(np.float32)
    nodes = [
        helper.make_node("Gemm", ["features", "W1", "B1"], ["fc1"]),
        helper.make_node("Relu", ["fc1"], ["hidden"]),
        helper.make_node("Gemm", ["hidden", "W2", "B2"], ["Y"], transB=1, alpha=0.5, beta=2.0),
    ]
    inits = [numpy_helper.from_array(a, n) for n, a in (("W1", w1), ("B1", b1), ("W2", w2), ("B2", b2))]
    return make_model(nodes,
                      [helper.make_tensor_value_info("features", TensorProto.FLOAT, [2, 4])],
                      [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [2, 3]),
                       helper.make_tensor_value_info("hidden", TensorProto.FLOAT, [2, 8])],
                      inits, name="mlp")


def conv_model(rng):
    """image[1,2,9,9] -> Conv(4, 3x3, pad 1, bias) -> MaxPool(2x2, stride 2) -> Y[1,4,4,4]."""
    w = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["image", "W", "B"], ["conv"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("MaxPool", ["conv"], ["Y"], kernel_shape=[2, 2], strides=[2, 2]),
    ]
    inits = [numpy_helper.from_array(w, "W"), numpy_helper.from_array(b, "B")]
    return make_model(nodes,
                      [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 2, 9, 9])],
                      [helper.make_tensor_value_info("Y", TensorProto.FLOAT, [1, 4, 4, 4])],
                      inits, name="conv")


def write_pb(array, name, path):
    with open(path, "wb") as f:
        f.write(numpy_helper.from_array(array, name).SerializeToString())
    return path


def read_outputs(folder):
    """Reads output_0.pb, output_1.pb, ... from `folder`: a list of (name, array)."""
    outputs = []
    k = 0
    while os.path.exists(os.path.join(folder, f"output_{k}.pb")):
        tensor = TensorProto()
        with open(os.path.join(folder, f"output_{k}.pb"), "rb") as f:
            tensor.ParseFromString(f.read())
        outputs.append((tensor.name, numpy_helper.to_array(tensor)))
        k += 1
    return outputs


def ort_run(model_path, feeds):
    """Reference outputs from onnxruntime, by output name."""
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1
    session = ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(None, feeds)))
