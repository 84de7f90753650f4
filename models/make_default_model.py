#!/usr/bin/env python3
"""Builds the small models onyx ships, with onnx.helper, plus their sample inputs.

  models/mlp_mnist.onnx        784 -> 128 -> 10 classifier: Gemm, Relu, Gemm, Softmax
  models/mlp_mnist_input.npy   float32 [8, 784], pixels scaled to [0, 1]
  models/cnn_small.onnx        Conv(8, 3x3) -> Relu -> MaxPool(2x2) -> Flatten -> Gemm(10) -> Softmax
  models/cnn_small_input.npy   float32 [8, 1, 28, 28], the same images

The images are the first 8 test images of Fashion-MNIST when Debian's `dataset-fashion-mnist`
package is installed, else scikit-learn's 8x8 digits scaled up to 28x28. With Fashion-MNIST at
hand the MLP is also trained for a few epochs (plain NumPy SGD, seeded) so that its predictions
mean something; otherwise, and always for the CNN, the weights are seeded random (He init).
Everything is deterministic: running the script again rewrites the same files on the same
machine (training uses float32 BLAS, so another CPU may differ in the last bits).

The batch dimension is symbolic ("batch"), so the models accept any batch size.
"""
import argparse
import gzip
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = os.path.dirname(os.path.abspath(__file__))
FASHION_DIR = "/usr/share/datasets/fashion-mnist"
OPSET = 21
IR_VERSION = 10  # what onnxruntime and older tools read without complaint
SAMPLES = 8


def read_idx(path):
    """Reads an IDX file (the MNIST format): a magic number, dims, then uint8 data."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fashion(split):
    images = read_idx(os.path.join(FASHION_DIR, f"{split}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(FASHION_DIR, f"{split}-labels-idx1-ubyte.gz"))
    return images.reshape(len(images), 784).astype(np.float32) / 255.0, labels.astype(np.int64)


def sample_images():
    """Returns (float32 [8, 784] in [0, 1], source description)."""
    if os.path.exists(os.path.join(FASHION_DIR, "t10k-images-idx3-ubyte.gz")):
        images, _ = load_fashion("t10k")
        return images[:SAMPLES], "Fashion-MNIST test images 0-7"
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        sys.exit("make_default_model: needs Debian's dataset-fashion-mnist package or scikit-learn")
    digits = load_digits().images[:SAMPLES] / 16.0  # [8, 8, 8] in [0, 1]
    # Nearest-neighbour upscale 8x8 -> 24x24, centred in 28x28 like MNIST's padding.
    big = np.zeros((SAMPLES, 28, 28), dtype=np.float32)
    big[:, 2:26, 2:26] = np.kron(digits, np.ones((3, 3)))
    return big.reshape(SAMPLES, 784).astype(np.float32), "scikit-learn digits 0-7, upscaled"


def he_init(rng, shape, fan_in):
    return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)


def train_mlp(w1, b1, w2, b2, rng, epochs=3, batch=128, lr=0.1):
    """Softmax-regression SGD on Fashion-MNIST's training set; w are [out, in] like Gemm transB."""
    x_all, y_all = load_fashion("train")
    for _ in range(epochs):
        order = rng.permutation(len(x_all))
        for start in range(0, len(order), batch):
            idx = order[start:start + batch]
            x, y = x_all[idx], y_all[idx]
            h = np.maximum(x @ w1.T + b1, 0)
            logits = h @ w2.T + b2
            p = np.exp(logits - logits.max(axis=1, keepdims=True))
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(len(y)), y] -= 1
            g_logits = p / len(y)
            g_h = (g_logits @ w2) * (h > 0)
            w2 -= lr * (g_logits.T @ h)
            b2 -= lr * g_logits.sum(axis=0)
            w1 -= lr * (g_h.T @ x)
            b1 -= lr * g_h.sum(axis=0)
    x_test, y_test = load_fashion("t10k")
    h = np.maximum(x_test @ w1.T + b1, 0)
    accuracy = float(((h @ w2.T + b2).argmax(axis=1) == y_test).mean())
    return accuracy


def make_model(graph, doc):
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)],
                              producer_name="onyx/models/make_default_model.py", doc_string=doc)
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def build_mlp(rng, train):
    w1 = he_init(rng, (128, 784), 784)
    b1 = np.zeros(128, np.float32)
    w2 = he_init(rng, (10, 128), 128)
    b2 = np.zeros(10, np.float32)
    doc = "MNIST-sized MLP with seeded random weights"
    if train:
        accuracy = train_mlp(w1, b1, w2, b2, rng)
        doc = f"MNIST-sized MLP trained 3 epochs on Fashion-MNIST (test accuracy {accuracy:.3f})"
        print(f"mlp_mnist: {doc}")
    nodes = [
        helper.make_node("Gemm", ["input", "fc1.weight", "fc1.bias"], ["fc1"], name="fc1", transB=1),
        helper.make_node("Relu", ["fc1"], ["relu1"], name="relu1"),
        helper.make_node("Gemm", ["relu1", "fc2.weight", "fc2.bias"], ["logits"], name="fc2", transB=1),
        helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1),
    ]
    inits = [numpy_helper.from_array(a, n) for n, a in
             [("fc1.weight", w1), ("fc1.bias", b1), ("fc2.weight", w2), ("fc2.bias", b2)]]
    graph = helper.make_graph(
        nodes, "mlp_mnist",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 784])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 10])],
        inits)
    return make_model(graph, doc)


def build_cnn(rng):
    conv_w = he_init(rng, (8, 1, 3, 3), 9)
    conv_b = (rng.standard_normal(8) * 0.1).astype(np.float32)
    fc_w = he_init(rng, (10, 8 * 14 * 14), 8 * 14 * 14)
    fc_b = np.zeros(10, np.float32)
    nodes = [
        helper.make_node("Conv", ["input", "conv.weight", "conv.bias"], ["conv"], name="conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["conv"], ["relu"], name="relu"),
        helper.make_node("MaxPool", ["relu"], ["pool"], name="pool", kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["pool"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.weight", "fc.bias"], ["logits"], name="fc", transB=1),
        helper.make_node("Softmax", ["logits"], ["probabilities"], name="softmax", axis=1),
    ]
    inits = [numpy_helper.from_array(a, n) for n, a in
             [("conv.weight", conv_w), ("conv.bias", conv_b), ("fc.weight", fc_w), ("fc.bias", fc_b)]]
    graph = helper.make_graph(
        nodes, "cnn_small",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", 1, 28, 28])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, ["batch", 10])],
        inits)
    return make_model(graph, "Tiny CNN with seeded random weights")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=HERE, help="folder to write into (default: models/)")
    parser.add_argument("--no-train", action="store_true", help="keep the MLP's random weights")
    args = parser.parse_args()
    images, source = sample_images()
    can_train = not args.no_train and os.path.exists(os.path.join(FASHION_DIR, "train-images-idx3-ubyte.gz"))
    rng = np.random.default_rng(20241124)
    mlp = build_mlp(rng, can_train)
    cnn = build_cnn(np.random.default_rng(7))
    os.makedirs(args.out, exist_ok=True)
    onnx.save(mlp, os.path.join(args.out, "mlp_mnist.onnx"))
    onnx.save(cnn, os.path.join(args.out, "cnn_small.onnx"))
    np.save(os.path.join(args.out, "mlp_mnist_input.npy"), images)
    np.save(os.path.join(args.out, "cnn_small_input.npy"), images.reshape(SAMPLES, 1, 28, 28))
    print(f"wrote mlp_mnist.onnx, cnn_small.onnx and their inputs ({source}) to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
