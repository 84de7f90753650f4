"""Zero-size variants of the ONNX node tests, with onnxruntime's outputs as the expected values
(the ONNX reference implementation's where onnxruntime's are known to be unset memory).

Each node test whose inputs have dims gets two variants: every input whose first (last) dim has
the size of the first such input's is cut to 0 along that axis (so inputs that share a batch or a
feature size stay consistent), and the model's
declared input and output dims become symbolic. onnxruntime runs each variant in a worker process
of its own (onnxruntime itself aborts on some empty inputs, e.g. a bidirectional GRU with batch 0);
a variant that onnxruntime refuses or crashes on is left out, since there is nothing to compare
with. What remains is written as backend-test folders for `onyx test`.

  python zero_size_cases.py NODE_TESTS_DIR OUT_DIR     (also used by test_zero_size_dims.py)
"""
import glob
import json
import os
import subprocess
import sys

import numpy as np
import onnx
from onnx import TensorProto, numpy_helper

FLOAT8_TYPES = {TensorProto.FLOAT8E4M3FN, TensorProto.FLOAT8E4M3FNUZ, TensorProto.FLOAT8E5M2,
                TensorProto.FLOAT8E5M2FNUZ, TensorProto.FLOAT8E8M0}


def read_inputs(test_dir):
    files = glob.glob(os.path.join(test_dir, "test_data_set_0", "input_*.pb"))
    files.sort(key=lambda path: int(path.rsplit("_", 1)[1][:-3]))
    arrays = []
    for path in files:
        proto = onnx.TensorProto()
        proto.ParseFromString(open(path, "rb").read())  # sequences, optionals: not a TensorProto
        arrays.append(numpy_helper.to_array(proto))
    return arrays


def zero_size_variant(test_dir, axis):
    """(model, inputs) with dim `axis` (0 or -1) cut to 0, or None when the test has none to cut."""
    model = onnx.load(os.path.join(test_dir, "model.onnx"))
    initializers = {init.name for init in model.graph.initializer}
    graph_inputs = [vi for vi in model.graph.input if vi.name not in initializers]
    try:
        arrays = read_inputs(test_dir)
    except Exception:  # noqa: BLE001 - an input that is not a tensor: nothing to cut
        return None
    if not arrays or len(arrays) != len(graph_inputs):
        return None
    size = next((a.shape[axis] for a in arrays if a.ndim >= 1 and a.shape[axis] > 0 and a.dtype != object), None)
    if size is None:
        return None
    cut = [np.take(a, [], axis=axis) if a.ndim >= 1 and a.shape[axis] == size and a.dtype != object else a
           for a in arrays]
    for vi in list(graph_inputs) + list(model.graph.output):
        if vi.type.HasField("tensor_type") and vi.type.tensor_type.HasField("shape"):
            for k, dim in enumerate(vi.type.tensor_type.shape.dim):
                dim.Clear()
                dim.dim_param = f"{vi.name}_{k}"
    del model.graph.value_info[:]
    return model, {vi.name: a for vi, a in zip(graph_inputs, cut)}


RECURRENT_OPS = {"RNN": ["initial_h"], "GRU": ["initial_h"], "LSTM": ["initial_h", "initial_c"]}


def settle_empty_sequence_states(model, feeds, outputs):
    """A recurrent op over a sequence of no steps ends in its initial state (zeros when none is
    given), by the ONNX definition of Y_h/Y_c; onnxruntime returns uninitialized memory for them,
    so the expected state outputs are set from the spec instead. Other outputs stay onnxruntime's."""
    if len(model.graph.node) != 1 or model.graph.node[0].op_type not in RECURRENT_OPS:
        return outputs
    node = model.graph.node[0]
    layout = next((a.i for a in node.attribute if a.name == "layout"), 0)
    x = feeds[node.input[0]]
    if x.shape[1 if layout else 0] != 0:
        return outputs
    settled = list(outputs)
    for k, state in enumerate(RECURRENT_OPS[node.op_type], start=1):
        if k >= len(node.output) or not node.output[k]:
            continue
        position = [o.name for o in model.graph.output].index(node.output[k])
        input_slot = 5 if state == "initial_h" else 6
        given = node.input[input_slot] if len(node.input) > input_slot else ""
        initializers = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
        initial = feeds.get(given, initializers.get(given))
        settled[position] = initial.copy() if initial is not None else np.zeros_like(outputs[position])
    return settled


def has_featureless_recurrent_input(model, feeds):
    """A recurrent op whose input has no features (input_size 0) computes its gates from the
    recurrence and the biases alone. onnxruntime's input projection then leaves its buffer
    unwritten, so its outputs vary from run to run (0 on one machine, NaN on the next), and its GRU
    aborts; such a variant takes its expected values from the ONNX reference implementation."""
    if len(model.graph.node) != 1 or model.graph.node[0].op_type not in RECURRENT_OPS:
        return False
    return feeds[model.graph.node[0].input[0]].shape[-1] == 0


def variant_name(test_dir, axis):
    return os.path.basename(test_dir) + ("_zero_leading_dim" if axis == 0 else "_zero_last_dim")


def worker():
    """Reads (folder, axis) lines from the list file, from a start line; runs each variant in onnxruntime; writes it out or says why not."""
    import onnxruntime as ort
    from onnx.reference import ReferenceEvaluator
    ort.set_default_logger_severity(4)
    out_dir, list_file, start = sys.argv[2], sys.argv[3], int(sys.argv[4])
    for line in open(list_file).read().splitlines()[start:]:
        test_dir, axis = line.split()
        name = variant_name(test_dir, int(axis))
        try:
            variant = zero_size_variant(test_dir, int(axis))
            if variant is None:
                print(json.dumps({"skipped": "no dim to cut"}), flush=True)
                continue
            model, feeds = variant
            if has_featureless_recurrent_input(model, feeds):
                outputs = ReferenceEvaluator(model).run(None, feeds)
            else:
                session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
                outputs = settle_empty_sequence_states(model, feeds, session.run(None, feeds))
        except Exception as error:  # noqa: BLE001 - onnxruntime (or the reference) refused: nothing to compare with
            print(json.dumps({"skipped": f"no expected values: {str(error)[:80]}"}), flush=True)
            continue
        if not all(isinstance(o, np.ndarray) for o in outputs):
            print(json.dumps({"skipped": "non-tensor output"}), flush=True)
            continue
        folder = os.path.join(out_dir, name)
        os.makedirs(os.path.join(folder, "test_data_set_0"), exist_ok=True)
        onnx.save(model, os.path.join(folder, "model.onnx"))
        for i, (input_name, array) in enumerate(feeds.items()):
            with open(os.path.join(folder, "test_data_set_0", f"input_{i}.pb"), "wb") as f:
                f.write(numpy_helper.from_array(array, input_name).SerializeToString())
        for i, (info, array) in enumerate(zip(model.graph.output, outputs)):
            proto = numpy_helper.from_array(array, info.name)
            declared = info.type.tensor_type.elem_type
            if declared in FLOAT8_TYPES and array.dtype == np.uint8:
                proto.data_type = declared  # onnxruntime hands float8 values over as their bytes
            with open(os.path.join(folder, "test_data_set_0", f"output_{i}.pb"), "wb") as f:
                f.write(proto.SerializeToString())
        print(json.dumps({"made": name}), flush=True)


def make_cases(node_tests_dir, out_dir):
    """Writes the variants under out_dir; returns {"made": [...], "skipped": {test: reason}}."""
    tests = [(test, axis) for test in sorted(glob.glob(os.path.join(node_tests_dir, "test_*"))) for axis in (0, -1)]
    made, skipped = [], {}
    position = 0
    # The list goes through a file: a worker's output is read while it runs, and a restarted one
    # starts after the variant its predecessor died on.
    list_file = out_dir.rstrip("/") + ".variants.txt"
    os.makedirs(out_dir, exist_ok=True)
    with open(list_file, "w") as f:
        f.write("".join(f"{test} {axis}\n" for test, axis in tests))
    while position < len(tests):
        process = subprocess.Popen([sys.executable, __file__, "--worker", out_dir, list_file, str(position)],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for line in process.stdout:
            result = json.loads(line)
            if "made" in result:
                made.append(result["made"])
            else:
                skipped[variant_name(*tests[position])] = result["skipped"]
            position += 1
        if process.wait() != 0 and position < len(tests):  # onnxruntime died on this one
            skipped[variant_name(*tests[position])] = f"onnxruntime crashed (exit {process.returncode})"
            position += 1
    return {"made": made, "skipped": skipped}


if __name__ == "__main__":
    if sys.argv[1] == "--worker":
        worker()
    else:
        summary = make_cases(sys.argv[1], sys.argv[2])
        print(f"{len(summary['made'])} variants, {len(summary['skipped'])} left out")
