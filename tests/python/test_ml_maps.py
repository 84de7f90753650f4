"""Map values end to end, against onnxruntime: ZipMap after a small classifier (seq(map) outputs as
lists of dicts), DictVectorizer feeding a MatMul (dict inputs), CastMap in every cast_to/map_form,
the type strings of get_inputs()/get_outputs(), the same models through `onyx run`, `onyx test`
and `onyx inspect` with MapProto / SequenceProto value files, and the errors for wrong feeds."""
import os
import subprocess

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import onyx
from cli_helpers import assert_one_error_line, make_model, run_onyx, save_model

FLOAT, INT64, STRING = TensorProto.FLOAT, TensorProto.INT64, TensorProto.STRING
OPSETS = {"": 17, "ai.onnx.ml": 1}


def map_type(key, value):
    return helper.make_map_type_proto(key, helper.make_tensor_type_proto(value, None))


def map_input(name, key, value):
    return helper.make_value_info(name, map_type(key, value))


def seq_map_output(name, key, value):
    return helper.make_value_info(name, helper.make_sequence_type_proto(map_type(key, value)))


def map_proto(entries, name=""):
    """A MapProto of float values (onnx's numpy_helper.from_dict cannot take str keys)."""
    key_type = STRING if isinstance(next(iter(entries)), str) else INT64
    values = helper.make_sequence("", onnx.SequenceProto.TENSOR,
                                  [numpy_helper.from_array(np.array(v, np.float32)) for v in entries.values()])
    return helper.make_map(name, key_type, [k.encode() if key_type == STRING else k for k in entries], values)


def ml_node(op, inputs, outputs, **attributes):
    return helper.make_node(op, inputs, outputs, domain="ai.onnx.ml", **attributes)


def both_sessions(tmp_path, nodes, inputs, outputs, initializers=()):
    path = save_model(make_model(nodes, inputs, outputs, initializers, opsets=OPSETS), tmp_path / "model.onnx")
    reference = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return path, onyx.InferenceSession(str(path)), reference


def assert_same_outputs(expected, actual):
    assert len(expected) == len(actual)
    for e, a in zip(expected, actual):
        if isinstance(e, list):
            assert isinstance(a, list) and len(a) == len(e)
            for e_map, a_map in zip(e, a):
                assert list(a_map) == list(e_map)  # same keys, same order, same Python types
                assert all(type(k) is type(ek) for k, ek in zip(a_map, e_map))
                assert all(isinstance(v, float) for v in a_map.values())
                np.testing.assert_allclose(list(a_map.values()), list(e_map.values()), rtol=1e-6, atol=1e-7)
        elif e.dtype == object:
            assert a.shape == e.shape and a.tolist() == e.tolist()
        else:
            assert a.dtype == e.dtype and a.shape == e.shape
            np.testing.assert_allclose(a, e, rtol=1e-5, atol=1e-6)


def classifier(labels):
    """X[N,4] -> MatMul -> Softmax ("probabilities_tensor") -> ZipMap ("probabilities")."""
    rng = np.random.default_rng(16)
    weights = numpy_helper.from_array(rng.standard_normal((4, len(labels))).astype(np.float32), "W")
    label_attribute = "classlabels_strings" if isinstance(labels[0], str) else "classlabels_int64s"
    nodes = [helper.make_node("MatMul", ["X", "W"], ["scores"]),
             helper.make_node("Softmax", ["scores"], ["probabilities_tensor"], axis=1),
             ml_node("ZipMap", ["probabilities_tensor"], ["probabilities"], **{label_attribute: labels})]
    key = STRING if isinstance(labels[0], str) else INT64
    return (nodes, [helper.make_tensor_value_info("X", FLOAT, ["N", 4])],
            [helper.make_tensor_value_info("probabilities_tensor", FLOAT, ["N", len(labels)]),
             seq_map_output("probabilities", key, FLOAT)], [weights])


@pytest.mark.parametrize("labels", [[10, 3, 7], ["setosa", "virginica", "versicolor"]])
def test_zipmap_after_a_classifier_gives_a_list_of_dicts(tmp_path, labels):
    _, session, reference = both_sessions(tmp_path, *classifier(labels))
    x = np.random.default_rng(1).standard_normal((5, 4)).astype(np.float32)
    expected = reference.run(None, {"X": x})
    actual = session.run(None, {"X": x})
    assert_same_outputs(expected, actual)
    assert isinstance(actual[1], list) and isinstance(actual[1][0], dict)
    # No rows: an empty list, as onnxruntime gives.
    assert session.run(["probabilities"], {"X": np.zeros((0, 4), np.float32)})[0] == []


def test_map_type_strings_match_onnxruntime(tmp_path):
    _, session, reference = both_sessions(tmp_path, *classifier(["a", "b", "c"]))
    assert [o.type for o in session.get_outputs()] == [o.type for o in reference.get_outputs()]
    assert session.get_outputs()[1].type == "seq(map(string,tensor(float)))"
    nodes = [ml_node("DictVectorizer", ["features"], ["Y"], int64_vocabulary=[1, 2])]
    _, session, reference = both_sessions(tmp_path, nodes, [map_input("features", INT64, FLOAT)],
                                          [helper.make_tensor_value_info("Y", FLOAT, [1, 2])])
    assert session.get_inputs()[0].type == reference.get_inputs()[0].type == "map(int64,tensor(float))"
    assert session.get_inputs()[0].shape == reference.get_inputs()[0].shape


def dict_vectorizer_model(key):
    vocabulary = {"string_vocabulary": ["height", "weight", "age"]} if key == STRING else {"int64_vocabulary": [7, 3, 11]}
    weights = numpy_helper.from_array(np.arange(6, dtype=np.float32).reshape(3, 2) - 2.5, "W")
    nodes = [ml_node("DictVectorizer", ["features"], ["vector"], **vocabulary),
             helper.make_node("MatMul", ["vector", "W"], ["Y"])]
    return (nodes, [map_input("features", key, FLOAT)],
            [helper.make_tensor_value_info("vector", FLOAT, [1, 3]), helper.make_tensor_value_info("Y", FLOAT, [1, 2])],
            [weights])


@pytest.mark.parametrize("key,feed", [
    (STRING, {"weight": 70.5, "height": 1.8}),
    (STRING, {"age": 3.0, "unknown": 9.0}),  # a key outside the vocabulary is ignored
    (INT64, {11: 2.0, 7: -1.0, 3: 0.25}),
])  # onnxruntime refuses an empty dict ("Size of dictionary is empty"), so none is compared here
def test_dict_vectorizer_takes_a_dict(tmp_path, key, feed):
    _, session, reference = both_sessions(tmp_path, *dict_vectorizer_model(key))
    assert_same_outputs(reference.run(None, {"features": feed}), session.run(None, {"features": feed}))


@pytest.mark.parametrize("cast_to,output_type", [("TO_FLOAT", FLOAT), ("TO_INT64", INT64), ("TO_STRING", STRING)])
@pytest.mark.parametrize("map_form", ["DENSE", "SPARSE"])
def test_cast_map_matches_onnxruntime(tmp_path, cast_to, output_type, map_form):
    nodes = [ml_node("CastMap", ["X"], ["Y"], cast_to=cast_to, map_form=map_form, max_map=6)]
    _, session, reference = both_sessions(tmp_path, nodes, [map_input("X", INT64, FLOAT)],
                                          [helper.make_tensor_value_info("Y", output_type, [1, None])])
    feed = {4: 1.5, 0: 2.25, 1: 1e10, 5: -3.75}
    expected, actual = reference.run(None, {"X": feed}), session.run(None, {"X": feed})
    assert_same_outputs(expected, actual)


def test_wrong_feeds_give_one_clear_error(tmp_path):
    _, session, _ = both_sessions(tmp_path, *dict_vectorizer_model(STRING))
    with pytest.raises(onyx.InvalidArgument, match=r"input 'features' expects a map map\(string,tensor\(float\)\) \(a dict\), got a list"):
        session.run(None, {"features": [1.0, 2.0]})
    with pytest.raises(onyx.InvalidArgument, match="each key must be a str, got a int"):
        session.run(None, {"features": {3: 1.0}})
    with pytest.raises(onyx.InvalidArgument, match="each value must be a number, got a str"):
        session.run(None, {"features": {"age": "old"}})
    _, session, _ = both_sessions(tmp_path, *classifier([1, 2, 3]))
    with pytest.raises(onyx.InvalidArgument, match="expects a tensor"):
        session.run(None, {"X": {1: 2.0}})


# --- the CLI: value files, inspect, backend-test folders ----------------------------------------

def test_onyx_run_reads_a_map_file_and_writes_a_sequence_of_maps(tmp_path):
    nodes, inputs, outputs, inits = dict_vectorizer_model(STRING)
    # A DictVectorizer pipeline ending in a classifier's ZipMap: map in, seq(map) out.
    nodes += [helper.make_node("Softmax", ["Y"], ["probabilities_tensor"], axis=1),
              ml_node("ZipMap", ["probabilities_tensor"], ["probabilities"], classlabels_int64s=[0, 1])]
    outputs = [seq_map_output("probabilities", INT64, FLOAT)]
    path, _, reference = both_sessions(tmp_path, nodes, inputs, outputs, inits)
    feed = {"age": 0.5, "height": 1.25}
    map_file = tmp_path / "features.pb"
    map_file.write_bytes(map_proto(feed, "features").SerializeToString())
    proc = run_onyx("run", path, "-i", f"features={map_file}", "-o", tmp_path / "out")
    assert proc.returncode == 0, proc.stderr
    assert "probabilities: sequence of 1 [ map(int64,tensor(float)) of 2 { 0: " in proc.stdout
    written = onnx.SequenceProto()
    written.ParseFromString((tmp_path / "out" / "output_0.pb").read_bytes())
    assert written.name == "probabilities" and written.elem_type == onnx.SequenceProto.MAP
    actual = [{k: float(v) for k, v in numpy_helper.to_dict(m).items()} for m in written.map_values]
    assert_same_outputs(reference.run(None, {"features": feed}), [actual])

    inspect = run_onyx("inspect", path)
    assert inspect.returncode == 0, inspect.stderr
    assert "features: map(string,tensor(float))" in inspect.stdout
    assert "probabilities: seq(map(int64,tensor(float)))" in inspect.stdout

    bad = tmp_path / "bad.pb"
    bad.write_bytes(map_proto({1: 1.0}, "features").SerializeToString())
    assert_one_error_line(run_onyx("run", path, "-i", f"features={bad}"), "features",
                          "map(string,tensor(float))", "map(int64,tensor(float))")


def test_onyx_test_passes_a_backend_folder_with_map_data(tmp_path):
    folder = tmp_path / "test_zipmap_classifier"
    nodes, inputs, outputs, inits = classifier(["cat", "dog", "bird"])
    path, _, reference = both_sessions(folder, nodes, inputs, outputs[1:], inits)
    x = np.random.default_rng(5).standard_normal((3, 4)).astype(np.float32)
    expected = reference.run(None, {"X": x})[0]
    data = folder / "test_data_set_0"
    data.mkdir()
    (data / "input_0.pb").write_bytes(numpy_helper.from_array(x, "X").SerializeToString())
    sequence = helper.make_sequence("probabilities", onnx.SequenceProto.MAP, [map_proto(m) for m in expected])
    (data / "output_0.pb").write_bytes(sequence.SerializeToString())
    proc = run_onyx("test", folder)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS" in proc.stdout
    # A wrong probability fails the test, naming the map values.
    wrong = [dict(m) for m in expected]
    wrong[1]["dog"] += 0.5
    sequence = helper.make_sequence("probabilities", onnx.SequenceProto.MAP, [map_proto(m) for m in wrong])
    (data / "output_0.pb").write_bytes(sequence.SerializeToString())
    proc = run_onyx("test", folder)
    assert proc.returncode != 0 and "sequence item 1: map values" in proc.stdout + proc.stderr
