#!/usr/bin/env python3
"""Reduced precision per model family: speed of onyx fp32, bf16 (`--precision bf16`) and int8
(the model quantized by onnxruntime.quantization.quantize_static, QDQ format, per-channel int8
weights, int8 activations: its defaults plus per_channel) against onnxruntime fp32 and
onnxruntime on the same int8 model, with the accuracy each costs against onnxruntime's fp32
outputs: top-1 agreement and the largest absolute difference of the outputs (next to the
standard deviation of the reference outputs, which sets their scale).

  .venv/bin/python scripts/precision_report.py [--threads 1 2] [-n 30] [--rounds 2] [--images 32]
                                               [--markdown] [--cpu-time]

Inputs for accuracy: the image models (resnet18, mobilenet_v2, squeezenet1_1, ...: seeded random
weights from scripts/export_architectures.py) get real images, the first --images pictures of
Fashion-MNIST's test set (/usr/share/datasets/fashion-mnist) scaled to the model's input size,
grey copied to three channels, normalised with ImageNet's mean and deviation; the other models
get their exported test case. The trained family is the Fashion-MNIST CNN
(models/cnn_fashion_untrained.onnx trained here with `onyx train` for --train-epochs epochs,
cached in .cache/precision/): its accuracy against the 10 000 test labels is reported for each
precision. Calibration for int8 uses other images (or perturbed test cases) than the ones
measured. Timings are per run at the model's first test case (batch 1 for the image models),
the best of --rounds alternating rounds.
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_vs_ort  # noqa: E402  (shared timing helpers)

ROOT = bench_vs_ort.ROOT
CACHE = os.path.join(ROOT, ".cache", "precision")
FASHION = "/usr/share/datasets/fashion-mnist"
FAMILIES = ["resnet18", "mobilenet_v2", "squeezenet1_1", "efficientnet_b0", "transformer", "mlp"]
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], np.float32).reshape(1, 3, 1, 1)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], np.float32).reshape(1, 3, 1, 1)


def fashion(split, count=None):
    """(images [N, 28, 28] float in [0, 1], labels [N]) of Fashion-MNIST's `split` (train or t10k)."""
    with gzip.open(os.path.join(FASHION, f"{split}-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 28, 28)
    with gzip.open(os.path.join(FASHION, f"{split}-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    if count is not None:
        images, labels = images[:count], labels[:count]
    return images.astype(np.float32) / 255.0, labels


def as_imagenet_batch(images, height, width):
    """Grey [N, 28, 28] pictures as normalised [N, 3, height, width] (nearest-neighbour scaling)."""
    rows = (np.arange(height) * 28 // height).astype(np.int64)
    cols = (np.arange(width) * 28 // width).astype(np.int64)
    scaled = images[:, rows][:, :, cols][:, None]
    return ((np.repeat(scaled, 3, axis=1) - IMAGENET_MEAN) / IMAGENET_STD).astype(np.float32)


def ort_session(path, threads):
    import onnxruntime as ort
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    return ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])


def ort_outputs(path, feeds):
    session = ort_session(path, 2)
    return session.run(None, feeds)


def onyx_outputs(onyx, path, feeds, precision):
    """Every output of one `onyx run` as numpy arrays, in order."""
    from onnx import numpy_helper
    with tempfile.TemporaryDirectory() as scratch:
        command = [onyx, "run", path, "--output-dir", scratch, "--precision", precision]
        for name, array in feeds.items():
            file = os.path.join(scratch, f"in_{len(command)}.npy")
            np.save(file, array)
            command += ["--input", f"{name}={file}"]
        proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if proc.returncode != 0:
            raise SystemExit(f"precision_report: onyx run {path} --precision {precision}: {proc.stderr.strip()}")
        outputs, k = [], 0
        while os.path.exists(os.path.join(scratch, f"output_{k}.pb")):
            tensor = onnx.TensorProto()
            with open(os.path.join(scratch, f"output_{k}.pb"), "rb") as f:
                tensor.ParseFromString(f.read())
            outputs.append(numpy_helper.to_array(tensor))
            k += 1
        return outputs


def quantize(model_path, out_path, calibration):
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter(calibration)

        def get_next(self):
            return next(self.items, None)

    if not os.path.exists(out_path):
        os.makedirs(os.path.dirname(out_path), exist_ok=True)
        quantize_static(model_path, out_path + ".tmp", Reader(), quant_format=QuantFormat.QDQ, per_channel=True)
        os.replace(out_path + ".tmp", out_path)
    return out_path


def agreement(reference, actual):
    """(top-1 agreement over the rows of the first output, max abs difference over all outputs)."""
    top1 = float(np.mean(np.argmax(reference[0].reshape(-1, reference[0].shape[-1]), -1) ==
                         np.argmax(actual[0].reshape(-1, actual[0].shape[-1]), -1)))
    error = max(float(np.max(np.abs(r.astype(np.float64) - a.astype(np.float64)))) for r, a in zip(reference, actual))
    return top1, error


def best_time(function, rounds):
    best = None
    for _ in range(rounds):
        result = function()
        value = bench_vs_ort.headline(result)
        if value is not None and (best is None or value < best):
            best = value
    return best


def train_fashion_cnn(onyx, epochs):
    out = os.path.join(CACHE, f"cnn_fashion_{epochs}epochs.onnx")
    if not os.path.exists(out):
        os.makedirs(CACHE, exist_ok=True)
        proc = subprocess.run([onyx, "train", os.path.join(ROOT, "models", "cnn_fashion_untrained.onnx"), "--data",
                               FASHION, "--label", "label", "--loss", "cross_entropy", "--optimizer", "adam", "--lr",
                               "1e-3", "--epochs", str(epochs), "--batch-size", "64", "--progress", "none", "--out",
                               out + ".tmp.onnx"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        if proc.returncode != 0:
            raise SystemExit(f"precision_report: onyx train failed: {proc.stderr.strip()}")
        os.replace(out + ".tmp.onnx", out)
    return out


def families(args):
    """[(name, model path, timing feeds, accuracy feeds, calibration feeds)]."""
    rows = []
    for path, feeds in bench_vs_ort.architecture_models(args.torch_python):
        name = os.path.splitext(os.path.basename(path))[0]
        if name not in FAMILIES:
            continue
        (input_name, x), = feeds.items() if len(feeds) == 1 else [(None, None)]
        if input_name is not None and x.ndim == 4 and x.shape[1] == 3:
            images, _ = fashion("t10k", args.images + 8)
            batch = as_imagenet_batch(images, x.shape[2], x.shape[3])
            accuracy_feeds = {input_name: batch[:args.images]}
            calibration = [{input_name: batch[args.images + i:args.images + i + 1]} for i in range(8)]
        else:
            accuracy_feeds = feeds
            rng = np.random.default_rng(3)
            calibration = [{k: (v + 0.1 * rng.standard_normal(v.shape)).astype(v.dtype)
                            if np.issubdtype(v.dtype, np.floating) else v for k, v in feeds.items()} for _ in range(4)]
        rows.append((name, path, feeds, accuracy_feeds, calibration))
    rows.sort(key=lambda row: FAMILIES.index(row[0]))
    trained = train_fashion_cnn(args.onyx, args.train_epochs)
    images, labels = fashion("t10k")
    model = onnx.load(trained)
    input_name = model.graph.input[0].name
    train_images, _ = fashion("train", 64)
    rows.append(("cnn_fashion (trained)", trained, {input_name: images[:1, None]}, {input_name: images[:, None]},
                 [{input_name: train_images[i:i + 8, None]} for i in range(0, 64, 8)]))
    return rows, labels


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("-n", "--iterations", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--images", type=int, default=32, help="real images per image model for top-1 agreement")
    parser.add_argument("--train-epochs", type=int, default=2)
    parser.add_argument("--cpu-time", action="store_true", help="process CPU time per run instead of wall time")
    parser.add_argument("--markdown", action="store_true", help="print the tables as Markdown")
    parser.add_argument("--onyx", default=os.environ.get("ONYX_BIN", os.path.join(ROOT, "build", "onyx")))
    parser.add_argument("--torch-python", default=os.environ.get("ONYX_TORCH_PYTHON", "/usr/bin/python3"))
    args = parser.parse_args()
    bench_vs_ort.HEADLINE = "cpu_ms" if args.cpu_time else "median_ms"

    rows, labels = families(args)
    speed, accuracy = [], []
    for name, path, feeds, accuracy_feeds, calibration in rows:
        stem = name.split(" ")[0]
        qpath = quantize(path, os.path.join(CACHE, f"{stem}_int8_qdq.onnx"), calibration)
        scratch = os.path.join(CACHE, "inputs", stem)
        for threads in args.threads:
            t = {
                "ort fp32": best_time(lambda: bench_vs_ort.time_ort(path, feeds, args.iterations, 3, threads), args.rounds),
                "onyx fp32": best_time(lambda: bench_vs_ort.time_onyx(args.onyx, path, feeds, args.iterations, threads,
                                                                     scratch), args.rounds),
                "onyx bf16": best_time(lambda: bench_vs_ort.time_onyx(args.onyx, path, feeds, args.iterations, threads,
                                                                     scratch, ["--precision", "bf16"]), args.rounds),
                "ort int8": best_time(lambda: bench_vs_ort.time_ort(qpath, feeds, args.iterations, 3, threads), args.rounds),
                "onyx int8": best_time(lambda: bench_vs_ort.time_onyx(args.onyx, qpath, feeds, args.iterations, threads,
                                                                     scratch), args.rounds),
            }
            speed.append((name, threads, t))
            print(f"{name} T{threads}: " + ", ".join(f"{k} {v:.3f} ms" for k, v in t.items()), file=sys.stderr, flush=True)
        reference = ort_outputs(path, accuracy_feeds)
        row = {"images": len(next(iter(accuracy_feeds.values()))), "spread": float(np.std(reference[0]))}
        for label, model, precision in [("onyx fp32", path, "fp32"), ("onyx bf16", path, "bf16"),
                                        ("ort int8", qpath, "fp32"), ("onyx int8", qpath, "fp32")]:
            actual = ort_outputs(model, accuracy_feeds) if label.startswith("ort") else \
                onyx_outputs(args.onyx, model, accuracy_feeds, precision)
            row[label] = agreement(reference, actual)
            if name.startswith("cnn_fashion"):
                row[label] += (float(np.mean(np.argmax(actual[0], -1) == labels)),)
        if name.startswith("cnn_fashion"):
            row["ort fp32 accuracy"] = float(np.mean(np.argmax(reference[0], -1) == labels))
        accuracy.append((name, row))

    def table(header, lines):
        if args.markdown:
            print("| " + " | ".join(header) + " |")
            print("|" + "---|" * len(header))
            for line in lines:
                print("| " + " | ".join(line) + " |")
        else:
            widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
            print("  ".join(h.ljust(w) for h, w in zip(header, widths)))
            for line in lines:
                print("  ".join(c.ljust(w) for c, w in zip(line, widths)))
        print()

    unit = "CPU ms" if args.cpu_time else "ms"
    table(["model", "threads", f"ort fp32 {unit}", f"onyx fp32 {unit}", f"onyx bf16 {unit}", "bf16: ort fp32 / onyx",
           f"ort int8 {unit}", f"onyx int8 {unit}", "int8: ort fp32 / onyx", "int8: ort int8 / onyx"],
          [[name, str(threads), f"{t['ort fp32']:.3f}", f"{t['onyx fp32']:.3f}", f"{t['onyx bf16']:.3f}",
            f"{t['ort fp32'] / t['onyx bf16']:.2f}x", f"{t['ort int8']:.3f}", f"{t['onyx int8']:.3f}",
            f"{t['ort fp32'] / t['onyx int8']:.2f}x", f"{t['ort int8'] / t['onyx int8']:.2f}x"]
           for name, threads, t in speed])
    lines = []
    for name, row in accuracy:
        line = [name, str(row["images"]), f"{row['spread']:.3g}"]
        for label in ["onyx fp32", "onyx bf16", "ort int8", "onyx int8"]:
            line += [f"{row[label][0]:.1%}", f"{row[label][1]:.3g}"]
        lines.append(line)
    table(["model", "inputs", "output std", "fp32 top-1 agr.", "fp32 max err", "bf16 top-1 agr.", "bf16 max err", "ort int8 top-1 agr.",
           "ort int8 max err", "onyx int8 top-1 agr.", "onyx int8 max err"], lines)
    for name, row in accuracy:
        if "ort fp32 accuracy" in row:
            print(f"{name}: test accuracy on Fashion-MNIST's 10000 test images: ort fp32 {row['ort fp32 accuracy']:.2%}, "
                  + ", ".join(f"{label} {row[label][2]:.2%}" for label in ["onyx fp32", "onyx bf16", "ort int8", "onyx int8"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
