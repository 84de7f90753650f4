#!/usr/bin/env python3
"""Writes the node test cases of the installed onnx package in the backend-test layout.

The onnx wheel ships the test *definitions* (onnx/backend/test/case/node) but not their data;
this script runs the definitions and writes model.onnx plus test_data_set_*/input_*.pb and
output_*.pb for each case, the layout `onyx test` reads. The reference outputs come from onnx's
own expectations (NumPy code and its reference evaluator), never from onyx.

One correction, so that the verdicts follow the specification and not the installed
numpy/ml_dtypes: the Cast/CastLike definitions from FLOAT/FLOAT16 to INT4/UINT4/INT2/UINT2 feed
values outside the target range (-9..15 into INT4, -3..3 into UINT2, ...) and take the expected
output from `ml_dtypes` casts, which wrap in one release and give 0 in the next. The Cast
specification says a float outside the range of a fixed-point type converts to an *undefined*
value, so no output is right for those elements. For those cases (and their `_expanded`
variants) the generator feeds, in the same shape, every value of the target range in turn and
writes the expected output by exact integer packing (`spec_defined_low_bit_cast`), with no
ml_dtypes involved.
"""
import argparse
import os
import re
import shutil
import sys
import warnings

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.backend.test.case import node as node_cases

# Bump when the generated data changes for the same onnx version, so that cached suites are
# written again (.onnx-version holds "<onnx version> <GENERATOR_REVISION>").
GENERATOR_REVISION = "2"

# Float -> low-bit integer casts whose onnx definitions feed out-of-range values.
LOW_BIT_CAST = re.compile(r"^test_cast(?:like)?_(FLOAT|FLOAT16)_to_(INT4|UINT4|INT2|UINT2)(?:_expanded)?$")
LOW_BIT_RANGES = {"INT4": (-8, 7), "UINT4": (0, 15), "INT2": (-2, 1), "UINT2": (0, 3)}
LOW_BIT_WIDTH = {"INT4": 4, "UINT4": 4, "INT2": 2, "UINT2": 2}


def pack_low_bit(values, bits):
    """Packs integers into bytes, element 0 in the lowest bits (the ONNX layout for 4- and
    2-bit types), by plain integer arithmetic."""
    per_byte = 8 // bits
    mask = (1 << bits) - 1
    packed = bytearray((len(values) + per_byte - 1) // per_byte)
    for i, value in enumerate(values):
        packed[i // per_byte] |= (int(value) & mask) << (bits * (i % per_byte))
    return bytes(packed)


def spec_defined_low_bit_cast(case, source, target):
    """Rewrites a float -> INT4/UINT4/INT2/UINT2 cast case to feed only values the
    specification defines a result for: every value of the target range in turn, in the
    shape of the original input; the expected output is those integers, packed."""
    low, high = LOW_BIT_RANGES[target]
    float_type = np.float32 if source == "FLOAT" else np.float16
    data_sets = []
    for inputs, outputs in case.data_sets:
        original = inputs[0]
        shape = tuple(original.dims) if isinstance(original, onnx.TensorProto) else original.shape
        count = int(np.prod(shape))
        values = np.resize(np.arange(low, high + 1), count)
        new_input = numpy_helper.from_array(values.astype(float_type).reshape(shape), "input")
        to_type = getattr(onnx.TensorProto, target)
        new_output = onnx.helper.make_tensor("output", to_type, shape,
                                             vals=pack_low_bit(values, LOW_BIT_WIDTH[target]), raw=True)
        data_sets.append(([new_input, *inputs[1:]], [new_output]))
    case.data_sets = data_sets
    return case


def spec_corrected(case):
    match = LOW_BIT_CAST.match(case.name)
    return spec_defined_low_bit_cast(case, *match.groups()) if match else case


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
    version = f"{onnx.__version__} {GENERATOR_REVISION}"
    if os.path.exists(stamp) and open(stamp).read() == version:
        print(f"node tests for onnx {onnx.__version__} already in {args.output}")
        return 0
    warnings.simplefilter("ignore")
    os.makedirs(args.output, exist_ok=True)
    cases = [spec_corrected(case) for case in node_cases.collect_testcases(None)]
    for case in cases:
        write_case(case, args.output)
    with open(stamp, "w") as f:
        f.write(version)
    print(f"wrote {len(cases)} node tests for onnx {onnx.__version__} to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
