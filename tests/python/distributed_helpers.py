"""Running `onyx train` under mpirun for the data-parallel tests: the launcher command (root in CI,
two ranks on a two-core machine), small models and data, and reading trained parameters."""
import os
import subprocess
import time

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from cli_helpers import make_model, onyx_path, save_model

FEATURES, CLASSES = 16, 3
TIMEOUT_S = 120


def mpirun_env():
    env = dict(os.environ)
    # CI runs as root; containers forbid the cross-memory attach Open MPI's shared memory uses.
    env.update({"OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1",
                "OMPI_MCA_btl_vader_single_copy_mechanism": "none", "OMPI_MCA_rmaps_base_oversubscribe": "1"})
    return env


def run_train(ranks, *args, env=None):
    """`onyx train ARGS` as one process (ranks=0) or under `mpirun -np RANKS`; returns the
    CompletedProcess and the seconds it took."""
    command = [onyx_path(), "train", *map(str, args)]
    if ranks:
        command = ["mpirun", "--oversubscribe", "--allow-run-as-root", "-np", str(ranks), *command]
    full_env = mpirun_env()
    full_env.update(env or {})
    start = time.monotonic()
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, errors="replace",
                          timeout=TIMEOUT_S, env=full_env)
    return proc, time.monotonic() - start


def mlp_model(path, seed=0):
    """x[batch, 16] -> Gemm(16->8) -> Relu -> Gemm(8->3) -> logits."""
    rng = np.random.default_rng(seed)
    inits = [numpy_helper.from_array((rng.standard_normal((FEATURES, 8)) * 0.3).astype(np.float32), "w1"),
             numpy_helper.from_array(np.zeros(8, np.float32), "b1"),
             numpy_helper.from_array((rng.standard_normal((8, CLASSES)) * 0.3).astype(np.float32), "w2"),
             numpy_helper.from_array(np.zeros(CLASSES, np.float32), "b2")]
    nodes = [helper.make_node("Gemm", ["x", "w1", "b1"], ["h"]), helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gemm", ["r", "w2", "b2"], ["logits"])]
    model = make_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", FEATURES])],
                       [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", CLASSES])], inits)
    return save_model(model, path)


def cnn_model(path, seed=0):
    """x[batch, 16] as a 1x4x4 image -> Conv 3x3 (4 maps; no bias, as before any BatchNorm: its
    gradient is zero, and Adam would turn rounding noise into steps) -> BatchNormalization ->
    Relu -> Flatten -> Gemm -> logits."""
    rng = np.random.default_rng(seed)
    inits = [numpy_helper.from_array(np.array([-1, 1, 4, 4], np.int64), "image_shape"),
             numpy_helper.from_array((rng.standard_normal((4, 1, 3, 3)) * 0.4).astype(np.float32), "cw"),
             numpy_helper.from_array(np.ones(4, np.float32), "scale"),
             numpy_helper.from_array(np.zeros(4, np.float32), "bias"),
             numpy_helper.from_array(np.zeros(4, np.float32), "mean"),
             numpy_helper.from_array(np.ones(4, np.float32), "var"),
             numpy_helper.from_array((rng.standard_normal((64, CLASSES)) * 0.2).astype(np.float32), "w"),
             numpy_helper.from_array(np.zeros(CLASSES, np.float32), "b")]
    nodes = [helper.make_node("Reshape", ["x", "image_shape"], ["image"]),
             helper.make_node("Conv", ["image", "cw"], ["c"], pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "scale", "bias", "mean", "var"], ["n"], momentum=0.9),
             helper.make_node("Relu", ["n"], ["r"]), helper.make_node("Flatten", ["r"], ["f"]),
             helper.make_node("Gemm", ["f", "w", "b"], ["logits"])]
    model = make_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", FEATURES])],
                       [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", CLASSES])], inits)
    return save_model(model, path)


def class_data(path, n, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, CLASSES, n)
    x = (rng.standard_normal((n, FEATURES)) + y[:, None] * 0.8).astype(np.float32)
    np.savez(path, x=x, y=y.astype(np.int64))
    return path


def initializers(path):
    return {t.name: numpy_helper.to_array(t) for t in onnx.load(str(path)).graph.initializer}


def describe(proc):
    return f"exit status {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
