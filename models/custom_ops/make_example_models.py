"""Writes the example models that use build/libonyx_example_ops.so (domain com.example):

  example_top_level.onnx  x[N,4] -> Swish(beta 0.5) -> WeightedSum(s, x; weights 2, -1)
                          -> ShiftAndNorm(., shift) -> y, norm; HuberLoss(y, target) -> loss
  example_loop.onnx       a Loop whose body applies Swish and WeightedSum(c, x) to the carried value
  example_no_shift.onnx   ShiftAndNorm with its optional Shift left out and only Y used

Usage: make_example_models.py OUTPUT_DIR  (the tests write them into a temporary folder)."""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

DOMAIN = "com.example"
OPSETS = [helper.make_opsetid("", 17), helper.make_opsetid(DOMAIN, 1)]


def floats(name, shape):
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def save(graph, path):
    model = helper.make_model(graph, opset_imports=OPSETS, producer_name="onyx-custom-ops-example")
    model.ir_version = 8
    onnx.save(model, path)


def top_level(path):
    shift = numpy_helper.from_array(np.linspace(-1, 1, 4, dtype=np.float32), "shift")
    nodes = [
        helper.make_node("Swish", ["x"], ["s"], domain=DOMAIN, beta=0.5),
        helper.make_node("WeightedSum", ["s", "x"], ["w"], domain=DOMAIN, weights=[2.0, -1.0]),
        helper.make_node("ShiftAndNorm", ["w", "shift"], ["y", "norm"], domain=DOMAIN),
        helper.make_node("HuberLoss", ["y", "target"], ["loss"], domain=DOMAIN, delta=0.75),
    ]
    # Outputs declare no shapes: `onyx inspect` shows what the custom ops' rules infer.
    graph = helper.make_graph(nodes, "example_top_level", [floats("x", ["N", 4]), floats("target", ["N", 4])],
                              [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in ("y", "norm", "loss")],
                              [shift])
    save(graph, path)


def loop(path):
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"]),
         helper.make_node("Swish", ["c"], ["swished"], domain=DOMAIN),
         helper.make_node("WeightedSum", ["swished", "x"], ["c_out"], domain=DOMAIN, weights=[1.0, 0.5])],
        "loop_body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []), floats("c", [3])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []), floats("c_out", [3])])
    graph = helper.make_graph(
        [helper.make_node("Loop", ["trips", "", "x"], ["y"], body=body)], "example_loop",
        [floats("x", [3]), helper.make_tensor_value_info("trips", TensorProto.INT64, [])], [floats("y", [3])])
    save(graph, path)


def no_shift(path):
    graph = helper.make_graph([helper.make_node("ShiftAndNorm", ["x", ""], ["y"], domain=DOMAIN)], "example_no_shift",
                              [floats("x", ["N", 2])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    save(graph, path)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    os.makedirs(sys.argv[1], exist_ok=True)
    for name, build in (("example_top_level", top_level), ("example_loop", loop), ("example_no_shift", no_shift)):
        build(os.path.join(sys.argv[1], name + ".onnx"))


if __name__ == "__main__":
    main()
