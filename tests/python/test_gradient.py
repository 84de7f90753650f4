"""`onyx gradient`: the gradient models it writes are valid ONNX (onnx.checker), run in onyx and
in onnxruntime, and their gradients match PyTorch autograd (Debian's /usr/bin/python3 has torch)
for an MLP with softmax cross-entropy and a small CNN (Conv, BatchNorm in training and inference
mode, MaxPool with overlapping windows, AveragePool, Gemm, LogSoftmax + NLL), and torchvision's
ResNet-18 as torch.onnx exports it in training mode (also run in onnxruntime)."""
import json
import os
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from cli_helpers import make_model, ort_run, read_outputs, run_onyx

TORCH_PYTHON = "/usr/bin/python3"

# Computes loss and parameter gradients with torch autograd from an .npz of inputs and weights.
TORCH_SCRIPT = r"""
import json, sys
import numpy as np
import torch
import torch.nn.functional as F
data = dict(np.load(sys.argv[1]))
kind, training = sys.argv[2], sys.argv[3] == "1"
p = {k: torch.tensor(v, requires_grad=k.startswith("W") or k.startswith("B") or k.startswith("S"))
     for k, v in data.items()}
if kind == "mlp":
    h = F.relu(p["x"] @ p["W1"] + p["B1"])
    logits = h @ p["W2"].T + p["B2"]
    loss = F.cross_entropy(logits, p["labels"])
else:
    c = F.conv2d(p["image"], p["Wc"], p["Bc"], stride=2, padding=1)
    running_mean = p["mean"].clone()
    running_var = p["var"].clone()
    n = F.batch_norm(c, running_mean, running_var, p["Sbn"], p["Bbn"], training=training,
                     momentum=0.1, eps=1e-5)
    r = F.relu(n)
    m = F.max_pool2d(r, 2, stride=1)
    a = F.avg_pool2d(m, 2, stride=1)
    logits = a.flatten(1) @ p["Wfc"].T
    loss = F.nll_loss(F.log_softmax(logits, dim=1), p["labels"])
loss.backward()
out = {"loss": loss.detach().numpy()}
for k, v in p.items():
    if v.requires_grad:
        out[k] = v.grad.numpy()
if kind == "cnn":
    out["running_mean"] = running_mean.numpy()
np.savez(sys.argv[4], **out)
"""


def torch_reference(tmp_path, kind, arrays, training=True):
    inputs = tmp_path / f"{kind}_torch_in.npz"
    outputs = tmp_path / f"{kind}_torch_out.npz"
    np.savez(inputs, **arrays)
    proc = subprocess.run([TORCH_PYTHON, "-c", TORCH_SCRIPT, str(inputs), kind, "1" if training else "0",
                           str(outputs)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return dict(np.load(outputs))


def build_gradient(tmp_path, model, *extra):
    forward = tmp_path / "forward.onnx"
    onnx.save(model, forward)
    gradient = tmp_path / "gradient.onnx"
    proc = run_onyx("gradient", forward, "--loss", "loss", "-o", gradient, *extra)
    assert proc.returncode == 0, proc.stderr
    mapping = {}
    for line in proc.stdout.splitlines():
        kind, value, name = line.split()
        mapping[(kind, value)] = name
    onnx.checker.check_model(onnx.load(gradient))
    return gradient, mapping


def onyx_outputs(tmp_path, model_path, feeds):
    args = []
    for name, array in feeds.items():
        path = tmp_path / f"feed_{name}.npy"
        np.save(path, array)
        args += ["--input", f"{name}={path}"]
    out_dir = tmp_path / "onyx_out"
    proc = run_onyx("run", model_path, *args, "--output-dir", out_dir)
    assert proc.returncode == 0, proc.stderr
    return dict(read_outputs(out_dir))


def mlp(rng):
    weights = {"W1": rng.standard_normal((6, 16)).astype(np.float32) * 0.5,
               "B1": rng.standard_normal(16).astype(np.float32) * 0.1,
               "W2": rng.standard_normal((4, 16)).astype(np.float32) * 0.5,
               "B2": rng.standard_normal(4).astype(np.float32) * 0.1}
    nodes = [helper.make_node("Gemm", ["x", "W1", "B1"], ["h"]),
             helper.make_node("Relu", ["h"], ["r"]),
             helper.make_node("Gemm", ["r", "W2", "B2"], ["logits"], transB=1),
             helper.make_node("SoftmaxCrossEntropyLoss", ["logits", "labels"], ["loss"])]
    model = make_model(nodes,
                       [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 6]),
                        helper.make_tensor_value_info("labels", TensorProto.INT64, ["N"])],
                       [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["N", 4]),
                        helper.make_tensor_value_info("loss", TensorProto.FLOAT, [])],
                       [numpy_helper.from_array(v, k) for k, v in weights.items()], name="mlp")
    feeds = {"x": rng.standard_normal((8, 6)).astype(np.float32),
             "labels": rng.integers(0, 4, 8).astype(np.int64)}
    return model, weights, feeds


def test_mlp_gradients_match_torch_in_onyx_and_onnxruntime(tmp_path, rng):
    model, weights, feeds = mlp(rng)
    gradient, mapping = build_gradient(tmp_path, model)
    reference = torch_reference(tmp_path, "mlp", {**weights, **feeds})
    ours = onyx_outputs(tmp_path, gradient, feeds)
    ort = ort_run(gradient, feeds)
    np.testing.assert_allclose(ours["loss"], reference["loss"], rtol=1e-5)
    np.testing.assert_allclose(ort["loss"], reference["loss"], rtol=1e-5)
    assert {value for (_, value) in mapping} == set(weights)
    for name in weights:
        output = mapping[("gradient", name)]
        np.testing.assert_allclose(ours[output], reference[name], rtol=1e-4, atol=1e-6, err_msg=f"onyx d/d{name}")
        np.testing.assert_allclose(ort[output], reference[name], rtol=1e-4, atol=1e-6, err_msg=f"ort d/d{name}")


def cnn(rng):
    weights = {"Wc": rng.standard_normal((6, 3, 3, 3)).astype(np.float32) * 0.3,
               "Bc": rng.standard_normal(6).astype(np.float32) * 0.1,
               "Sbn": rng.uniform(0.5, 1.5, 6).astype(np.float32),
               "Bbn": rng.standard_normal(6).astype(np.float32) * 0.1,
               "Wfc": rng.standard_normal((5, 24)).astype(np.float32) * 0.3}
    stats = {"mean": rng.standard_normal(6).astype(np.float32) * 0.1,
             "var": rng.uniform(0.5, 1.5, 6).astype(np.float32)}
    nodes = [helper.make_node("Conv", ["image", "Wc", "Bc"], ["c"], kernel_shape=[3, 3], strides=[2, 2],
                              pads=[1, 1, 1, 1]),
             helper.make_node("BatchNormalization", ["c", "Sbn", "Bbn", "mean", "var"], ["n"], momentum=0.9),
             helper.make_node("Relu", ["n"], ["r"]),
             helper.make_node("MaxPool", ["r"], ["m"], kernel_shape=[2, 2], strides=[1, 1]),
             helper.make_node("AveragePool", ["m"], ["a"], kernel_shape=[2, 2], strides=[1, 1]),
             helper.make_node("Flatten", ["a"], ["f"]),
             helper.make_node("Gemm", ["f", "Wfc"], ["logits"], transB=1),
             helper.make_node("LogSoftmax", ["logits"], ["logp"], axis=1),
             helper.make_node("NegativeLogLikelihoodLoss", ["logp", "labels"], ["loss"])]
    inits = [numpy_helper.from_array(v, k) for k, v in {**weights, **stats}.items()]
    model = make_model(nodes,
                       [helper.make_tensor_value_info("image", TensorProto.FLOAT, [4, 3, 8, 8]),
                        helper.make_tensor_value_info("labels", TensorProto.INT64, [4])],
                       [helper.make_tensor_value_info("loss", TensorProto.FLOAT, [])],
                       inits, name="cnn")
    feeds = {"image": rng.standard_normal((4, 3, 8, 8)).astype(np.float32),
             "labels": rng.integers(0, 5, 4).astype(np.int64)}
    return model, weights, stats, feeds


def test_cnn_training_mode_gradients_match_torch(tmp_path, rng):
    model, weights, stats, feeds = cnn(rng)
    gradient, mapping = build_gradient(tmp_path, model)
    reference = torch_reference(tmp_path, "cnn", {**weights, **stats, **feeds}, training=True)
    ours = onyx_outputs(tmp_path, gradient, feeds)
    np.testing.assert_allclose(ours["loss"], reference["loss"], rtol=1e-5)
    # The running statistics are updated, not trained.
    assert {value for (kind, value) in mapping if kind == "gradient"} == set(weights)
    np.testing.assert_allclose(ours[mapping[("state", "mean")]], reference["running_mean"], rtol=1e-5, atol=1e-6)
    for name in weights:
        np.testing.assert_allclose(ours[mapping[("gradient", name)]], reference[name], rtol=1e-4, atol=1e-5,
                                   err_msg=f"d/d{name}")


def test_cnn_inference_mode_gradients_match_torch_and_onnxruntime(tmp_path, rng):
    model, weights, stats, feeds = cnn(rng)
    gradient, mapping = build_gradient(tmp_path, model, "--inference-mode", "--frozen", "mean",
                                       "--frozen", "var")
    reference = torch_reference(tmp_path, "cnn", {**weights, **stats, **feeds}, training=False)
    ours = onyx_outputs(tmp_path, gradient, feeds)
    ort = ort_run(gradient, feeds)
    for name in weights:
        output = mapping[("gradient", name)]
        np.testing.assert_allclose(ours[output], reference[name], rtol=1e-4, atol=1e-5, err_msg=f"onyx d/d{name}")
        np.testing.assert_allclose(ort[output], reference[name], rtol=1e-4, atol=1e-5, err_msg=f"ort d/d{name}")


def test_gradient_of_a_missing_rule_is_one_error_line(tmp_path):
    nodes = [helper.make_node("Hardmax", ["x"], ["h"], name="pick"),
             helper.make_node("ReduceSum", ["h"], ["loss"], keepdims=0)]
    model = make_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3])],
                       [helper.make_tensor_value_info("loss", TensorProto.FLOAT, [])], [], name="hardmax")
    forward = tmp_path / "forward.onnx"
    onnx.save(model, forward)
    proc = run_onyx("gradient", forward, "--loss", "loss", "--trainable", "x", "-o", tmp_path / "g.onnx")
    assert proc.returncode == 1
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("onyx: error:") and "Hardmax" in lines[0], proc.stderr
    assert not (tmp_path / "g.onnx").exists()


# Exports torchvision's ResNet-18 in training mode (BatchNorm with batch statistics) and
# computes the reference gradients of cross-entropy with autograd.
RESNET_SCRIPT = r"""
import sys
import numpy as np
import torch
import torch.nn.functional as F
import torchvision
torch.manual_seed(0)
model = torchvision.models.resnet18(num_classes=10)
model.train()
x = torch.randn(4, 3, 32, 32)
labels = torch.tensor([1, 7, 3, 3])
torch.onnx.export(model, x, sys.argv[1], opset_version=14, training=torch.onnx.TrainingMode.TRAINING,
                  do_constant_folding=False, input_names=["x"], output_names=["logits"])
# The export ran the model once in training mode: restore the running statistics it changed.
torch.manual_seed(0)
model = torchvision.models.resnet18(num_classes=10)
model.train()
loss = F.cross_entropy(model(x), labels)
loss.backward()
out = {"x": x.numpy(), "labels": labels.numpy(), "loss": loss.detach().numpy()}
for name, p in model.named_parameters():
    out["grad:" + name] = p.grad.numpy()
np.savez(sys.argv[2], **out)
"""


def test_torchvision_resnet18_exported_in_training_mode_matches_autograd(tmp_path):
    exported = tmp_path / "resnet18.onnx"
    reference_path = tmp_path / "resnet18_reference.npz"
    proc = subprocess.run([TORCH_PYTHON, "-c", RESNET_SCRIPT, str(exported), str(reference_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    reference = dict(np.load(reference_path))
    model = onnx.load(exported)
    model.graph.node.append(helper.make_node("SoftmaxCrossEntropyLoss", ["logits", "labels"], ["loss"]))
    model.graph.input.append(helper.make_tensor_value_info("labels", TensorProto.INT64, [4]))
    model.graph.output.append(helper.make_tensor_value_info("loss", TensorProto.FLOAT, []))
    gradient, mapping = build_gradient(tmp_path, model)
    feeds = {"x": reference["x"], "labels": reference["labels"]}
    ours = onyx_outputs(tmp_path, gradient, feeds)
    ort = ort_run(gradient, feeds)  # onnxruntime runs the same gradient model
    np.testing.assert_allclose(ours["loss"], reference["loss"], rtol=1e-4)
    trained = {value for (kind, value) in mapping if kind == "gradient"}
    assert trained == {key[len("grad:"):] for key in reference if key.startswith("grad:")}
    # float32 through 20 batch-statistics BatchNorms (layer4 normalizes 4 values per channel):
    # summation order moves the smallest elements, so the tolerance is relative to each
    # tensor's largest gradient.
    worst = {"onyx": 0.0, "onnxruntime": 0.0}
    for name in sorted(trained):
        expected = reference["grad:" + name]
        for runtime, outputs in (("onyx", ours), ("onnxruntime", ort)):
            actual = outputs[mapping[("gradient", name)]]
            worst[runtime] = max(worst[runtime], float(np.abs(actual - expected).max() / np.abs(expected).max()))
            np.testing.assert_allclose(actual, expected, rtol=1e-3, atol=1e-3 * np.abs(expected).max(),
                                       err_msg=f"{runtime} d/d{name}")
    print(f"resnet18: worst gradient difference, relative to the tensor's largest element: {worst}")


# A small BERT-style encoder (embedding, nn.TransformerEncoderLayer with GELU, a classifier on
# the first token) exported by torch.onnx at opset 14, where LayerNorm and attention are spelled
# out in primitive ops, with Shape/Gather/Concat chains. Dropout is 0 so autograd can compare.
ENCODER_SCRIPT = r"""
import sys
import numpy as np
import torch
import torch.nn.functional as F

class Encoder(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = torch.nn.Embedding(20, 16)
        self.layer = torch.nn.TransformerEncoderLayer(16, 2, 32, dropout=0.0, activation="gelu",
                                                      batch_first=True)
        self.head = torch.nn.Linear(16, 3)

    def forward(self, ids, mask):
        h = self.layer(self.embed(ids), src_key_padding_mask=mask)
        return self.head(h[:, 0])

torch.manual_seed(0)
model = Encoder()
model.train()
ids = torch.tensor([[1, 5, 5, 9, 2, 0], [3, 3, 7, 1, 0, 0]])
mask = torch.tensor([[False] * 5 + [True], [False] * 4 + [True] * 2])
labels = torch.tensor([2, 0])
torch.onnx.export(model, (ids, mask), sys.argv[1], opset_version=14, training=torch.onnx.TrainingMode.TRAINING,
                  do_constant_folding=False, input_names=["ids", "mask"], output_names=["logits"])
loss = F.cross_entropy(model(ids, mask), labels)
loss.backward()
out = {"ids": ids.numpy(), "mask": mask.numpy(), "labels": labels.numpy(), "loss": loss.detach().numpy()}
for name, p in model.named_parameters():
    out["grad:" + name] = p.grad.numpy()
np.savez(sys.argv[2], **out)
"""


def test_transformer_encoder_exported_by_torch_matches_autograd(tmp_path):
    exported = tmp_path / "encoder.onnx"
    reference_path = tmp_path / "encoder_reference.npz"
    proc = subprocess.run([TORCH_PYTHON, "-c", ENCODER_SCRIPT, str(exported), str(reference_path)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    reference = dict(np.load(reference_path))
    model = onnx.load(exported)
    model.graph.node.append(helper.make_node("SoftmaxCrossEntropyLoss", ["logits", "labels"], ["loss"]))
    model.graph.input.append(helper.make_tensor_value_info("labels", TensorProto.INT64, [2]))
    model.graph.output.append(helper.make_tensor_value_info("loss", TensorProto.FLOAT, []))
    gradient, mapping = build_gradient(tmp_path, model)
    feeds = {"ids": reference["ids"], "mask": reference["mask"], "labels": reference["labels"]}
    ours = onyx_outputs(tmp_path, gradient, feeds)
    np.testing.assert_allclose(ours["loss"], reference["loss"], rtol=1e-5)
    expected_names = {key[len("grad:"):] for key in reference if key.startswith("grad:")}
    trained = {value for (kind, value) in mapping if kind == "gradient"}
    print("trained:", sorted(trained), "expected:", sorted(expected_names))
    for name in sorted(trained & expected_names):
        expected = reference["grad:" + name]
        np.testing.assert_allclose(ours[mapping[("gradient", name)]], expected, rtol=1e-4,
                                   atol=1e-5 * np.abs(expected).max(), err_msg=f"d/d{name}")
    assert trained == expected_names
