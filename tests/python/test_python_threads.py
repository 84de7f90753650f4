"""run() from several Python threads: one session shared by threads gives each its own right
results, and the GIL is free while a model runs (other Python threads keep going)."""
import threading
import time

import numpy as np
from onnx import TensorProto, helper, numpy_helper

import onyx
from cli_helpers import make_model, save_model


def matmul_chain(tmp_path, size, steps, rng):
    """x[?, size] -> `steps` MatMuls by one W[size, size] -> y; returns (model path, W)."""
    weights = (rng.standard_normal((size, size)) / np.sqrt(size)).astype(np.float32)
    nodes, previous = [], "x"
    for step in range(steps):
        name = "y" if step == steps - 1 else f"h{step}"
        nodes.append(helper.make_node("MatMul", [previous, "W"], [name]))
        previous = name
    model = make_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, size])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, size])],
                       [numpy_helper.from_array(weights, "W")])
    return str(save_model(model, tmp_path / "chain.onnx")), weights


def test_threads_share_one_session(tmp_path, rng):
    path, weights = matmul_chain(tmp_path, 16, 3, rng)
    session = onyx.InferenceSession(path)
    inputs = [rng.standard_normal((k + 1, 16)).astype(np.float32) for k in range(8)]
    expected = [x @ weights @ weights @ weights for x in inputs]
    failures = []

    def work(k):
        for _ in range(25):
            y, = session.run(None, {"x": inputs[k]})
            if y.shape != expected[k].shape or not np.allclose(y, expected[k], rtol=1e-4, atol=1e-5):
                failures.append(k)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not failures, f"threads {sorted(set(failures))} got wrong results"


def test_the_gil_is_released_while_a_model_runs(tmp_path, rng):
    path, _ = matmul_chain(tmp_path, 384, 40, rng)
    options = onyx.SessionOptions()
    options.intra_op_num_threads = 1
    session = onyx.InferenceSession(path, options)
    x = rng.standard_normal((384, 384)).astype(np.float32)
    session.run(None, {"x": x})  # warm
    ticks, stop = [], threading.Event()

    def count():
        while not stop.is_set():
            ticks.append(time.perf_counter())

    counter = threading.Thread(target=count)
    counter.start()
    time.sleep(0.02)
    start = time.perf_counter()
    session.run(None, {"x": x})
    end = time.perf_counter()
    stop.set()
    counter.join()
    # With the GIL held through the run, the counting thread could not tick inside it (beyond
    # the interpreter's 5 ms switch interval at its start); with it released it ticks throughout.
    margin = 0.2 * (end - start)
    inside = [t for t in ticks if start + margin < t < end - margin]
    assert end - start > 0.02, f"the model ran {end - start:.3f}s: too short to tell"
    assert len(inside) > 100, f"{len(inside)} ticks of another thread during a {end - start:.3f}s run"
