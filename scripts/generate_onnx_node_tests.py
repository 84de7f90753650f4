#!/usr/bin/env python3
"""Writes the node test cases of the installed onnx package in the backend-test layout.

The onnx wheel ships the test *definitions* (onnx/backend/test/case/node) but not their data;
this script runs the definitions and writes model.onnx plus test_data_set_*/input_*.pb and
output_*.pb for each case, the layout `onyx test` reads. The reference outputs come from onnx's
own expectations (NumPy code and its reference evaluator), never from onyx.
"""
import argparse
import os
import shutil
import sys
import warnings

import onnx
from onnx import numpy_helper
from onnx.backend.test.case import node as node_cases


def serialize_input(value, value_info):
    value_type = value_info.type
    if value_type.HasField("sequence_type"):
        return numpy_helper.from_list(value, value_info.name).SerializeToString()
    if value_type.HasField("optional_type"):
        return numpy_helper.from_optional(value, value_info.name).SerializeToString()
    if value_type.HasField("map_type"):
        return numpy_helper.from_dict(value, value_info.name).SerializeToString()
    if isinstance(value, onnx.TensorProto):
        return value.SerializeToString()
    return numpy_helper.from_array(value, value_info.name).SerializeToString()


def write_case(case, out_dir):
    case_dir = os.path.join(out_dir, case.name)
    tmp_dir = case_dir + ".tmp"
    shutil.rmtree(tmp_dir, ignore_errors=True)
    os.makedirs(tmp_dir)
    with open(os.path.join(tmp_dir, "model.onnx"), "wb") as f:
        f.write(case.model.SerializeToString())
    for k, (inputs, outputs) in enumerate(case.data_sets):
        data_dir = os.path.join(tmp_dir, f"test_data_set_{k}")
        os.makedirs(data_dir)
        for j, value in enumerate(inputs):
            with open(os.path.join(data_dir, f"input_{j}.pb"), "wb") as f:
                f.write(serialize_input(value, case.model.graph.input[j]))
        for j, value in enumerate(outputs):
            with open(os.path.join(data_dir, f"output_{j}.pb"), "wb") as f:
                f.write(serialize_input(value, case.model.graph.output[j]))
    shutil.rmtree(case_dir, ignore_errors=True)
    os.rename(tmp_dir, case_dir)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("output", help="folder to write <case>/model.onnx ... into")
    args = parser.parse_args()
    stamp = os.path.join(args.output, ".onnx-version")
    if os.path.exists(stamp) and open(stamp).read() == onnx.__version__:
        print(f"node tests for onnx {onnx.__version__} already in {args.output}")
        return 0
    warnings.simplefilter("ignore")
    os.makedirs(args.output, exist_ok=True)
    cases = node_cases.collect_testcases(None)
    for case in cases:
        write_case(case, args.output)
    with open(stamp, "w") as f:
        f.write(onnx.__version__)
    print(f"wrote {len(cases)} node tests for onnx {onnx.__version__} to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
