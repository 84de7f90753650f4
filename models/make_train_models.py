#!/usr/bin/python3
"""Exports the untrained models `onyx train` ships as its default, with Debian's PyTorch
(/usr/bin/python3, python3-torch), the way a user exports a model to train it elsewhere:

  models/mlp_fashion_untrained.onnx   Flatten -> Linear(784, 256) -> ReLU -> Linear(256, 10)
  models/cnn_fashion_untrained.onnx   (--cnn) Conv(1->16, 3x3) -> ReLU -> MaxPool(2) -> Conv(16->32, 3x3)
                                      -> ReLU -> MaxPool(2) -> Flatten -> Linear(800, 64) -> ReLU -> Linear(64, 10)

Input "image" float32 [batch, 1, 28, 28] (pixels in [0, 1], as `onyx train` reads IDX files),
output "logits" [batch, 10]; the batch dim is dynamic. Weights are PyTorch's default init with a
fixed seed, so the files are reproducible. Train with cross_entropy against integer labels.

  /usr/bin/python3 models/make_train_models.py [--out-dir models] [--cnn]
"""
import argparse
import os

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))


def mlp():
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))


def cnn():
    return nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(16, 32, 3, padding=1),
                         nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1568, 64), nn.ReLU(), nn.Linear(64, 10))


def export(model, path, quiet=False):
    model.eval()
    torch.onnx.export(model, torch.zeros(1, 1, 28, 28), path, input_names=["image"], output_names=["logits"],
                      dynamic_axes={"image": {0: "batch"}, "logits": {0: "batch"}}, opset_version=14,
                      do_constant_folding=False)
    if not quiet:
        print("wrote", path)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out-dir", default=HERE)
    parser.add_argument("--cnn", action="store_true", help="also write the CNN")
    args = parser.parse_args()
    torch.manual_seed(0)
    export(mlp(), os.path.join(args.out_dir, "mlp_fashion_untrained.onnx"))
    if args.cnn:
        torch.manual_seed(0)
        export(cnn(), os.path.join(args.out_dir, "cnn_fashion_untrained.onnx"))


if __name__ == "__main__":
    main()
