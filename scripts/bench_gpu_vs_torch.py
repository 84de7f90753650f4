#!/usr/bin/env python3
"""onyx on a device against PyTorch eager (and torch.compile where it works) in one run.

Builds each model in PyTorch with seeded weights, exports it to ONNX (opset 17, static shapes:
one file per batch and precision), checks that onyx's output matches PyTorch's on the same
input, then times both: onyx through `onyx bench --device DEVICE --device-io --json` (inputs
bound on the device once, outputs kept there, as onnxruntime's IOBinding), PyTorch with the
model and input already on the device, synchronised, after warm-up runs. Prints a table with the
ratio onyx/PyTorch (below 1: onyx is faster) and writes everything as JSON.

  python3 scripts/bench_gpu_vs_torch.py --onyx build/onyx --device cuda --out results.json
  /usr/bin/python3 scripts/bench_gpu_vs_torch.py --device cpu --quick     (a dry run here)

Models: resnet18, resnet50, mobilenet_v2 (torchvision, 224x224), a 4-layer transformer
encoder (d_model 256, 8 heads, sequence 128), a 2-layer LSTM (hidden 256, sequence 32);
batch 1 and 32; fp32 and fp16 (fp16 only on CUDA).
"""
import argparse
import inspect
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np


def build_models(torch, quick):
    import torchvision
    from torch import nn

    class Encoder(nn.Module):
        def __init__(self):
            super().__init__()
            layer = nn.TransformerEncoderLayer(256, 8, 1024, dropout=0.0, batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, 2 if quick else 4)
            self.head = nn.Linear(256, 10)

        def forward(self, x):
            return self.head(self.encoder(x).mean(dim=1))

    class Recurrent(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(128, 256, num_layers=2, batch_first=True)
            self.head = nn.Linear(256, 10)

        def forward(self, x):
            out, _ = self.lstm(x)
            return self.head(out[:, -1])

    image = lambda batch: (batch, 3, 224, 224) if not quick else (batch, 3, 64, 64)
    models = {
        "resnet18": (lambda: torchvision.models.resnet18(weights=None), image),
        "resnet50": (lambda: torchvision.models.resnet50(weights=None), image),
        "mobilenet_v2": (lambda: torchvision.models.mobilenet_v2(weights=None), image),
        "transformer": (Encoder, lambda batch: (batch, 32 if quick else 128, 256)),
        "lstm": (Recurrent, lambda batch: (batch, 8 if quick else 32, 128)),
    }
    return models


def export(torch, module, example, path):
    kwargs = dict(opset_version=17, input_names=["x"], output_names=["y"])
    if "dynamo" in inspect.signature(torch.onnx.export).parameters:
        kwargs["dynamo"] = False  # the TorchScript exporter: no onnxscript rewrite passes needed
    # Not under no_grad: there nn.TransformerEncoderLayer takes its fused fast path, which the
    # exporter cannot express.
    torch.onnx.export(module, (example,), path, **kwargs)


def time_torch(torch, module, example, device, warmup, iterations):
    with torch.no_grad():
        for _ in range(warmup):
            module(example)
        if device == "cuda":
            torch.cuda.synchronize()
        times = []
        for _ in range(iterations):
            start = time.perf_counter()
            module(example)
            if device == "cuda":
                torch.cuda.synchronize()
            times.append((time.perf_counter() - start) * 1e3)
    return float(np.median(times))


def run_onyx_bench(onyx, model_path, device, warmup, iterations, input_path):
    command = [onyx, "bench", model_path, "--json", "-n", str(iterations), "--warmup", str(warmup),
               "-i", f"x={input_path}"]
    if device != "cpu":
        command += ["--device", device, "--device-io"]
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def onyx_output(onyx, model_path, device, input_path, folder):
    command = [onyx, "run", model_path, "-i", f"x={input_path}", "-o", folder]
    if device != "cpu":
        command += ["--device", device]
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=300)
    if proc.returncode != 0:
        raise RuntimeError(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"exit {proc.returncode}")
    try:
        from onnx import TensorProto, numpy_helper
    except ImportError:  # Debian's python3 (the dry run here) has no onnx package
        return None
    tensor = TensorProto()
    with open(os.path.join(folder, "output_0.pb"), "rb") as f:
        tensor.ParseFromString(f.read())
    return numpy_helper.to_array(tensor)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--onyx", default=os.path.join(os.path.dirname(__file__), "..", "build", "onyx"))
    parser.add_argument("--device", default="cuda", help="cuda (default) or cpu (a dry run of this script)")
    parser.add_argument("--out", help="write the results as JSON here")
    parser.add_argument("--quick", action="store_true", help="small shapes and few runs (a dry run)")
    parser.add_argument("--models", help="comma-separated subset")
    parser.add_argument("--compile", action="store_true", help="also time torch.compile (batch 1, fp32)")
    parser.add_argument("--budget", type=float, default=240, help="seconds; models left when it is spent are skipped")
    args = parser.parse_args()
    import torch
    if hasattr(torch.backends, "mha"):
        torch.backends.mha.set_fastpath_enabled(False)  # keep eager on the exported graph's math

    started = time.monotonic()
    warmup, iterations = (1, 3) if args.quick else (10, 50)
    device = "cuda" if args.device.startswith("cuda") else "cpu"
    precisions = ["fp32", "fp16"] if device == "cuda" else ["fp32"]
    models = build_models(torch, args.quick)
    if args.models:
        models = {name: models[name] for name in args.models.split(",")}
    results = []
    with tempfile.TemporaryDirectory(prefix="onyx-gpu-bench-") as tmp:
        for name, (make, shape_of) in models.items():
            for precision in precisions:
                for batch in (1, 32):
                    entry = {"model": name, "precision": precision, "batch": batch}
                    results.append(entry)
                    if time.monotonic() - started > args.budget:
                        entry["error"] = "skipped: time budget spent"
                        continue
                    try:
                        torch.manual_seed(0)
                        module = make().eval()
                        dtype = torch.float16 if precision == "fp16" else torch.float32
                        module = module.to(device=device, dtype=dtype)
                        example = torch.randn(*shape_of(batch), device=device, dtype=dtype)
                        path = os.path.join(tmp, f"{name}_{precision}_b{batch}.onnx")
                        export(torch, module, example, path)
                        input_path = os.path.join(tmp, f"{name}_{precision}_b{batch}.npy")
                        np.save(input_path, example.cpu().numpy())
                        with torch.no_grad():
                            expected = module(example).float().cpu().numpy()
                        got = onyx_output(args.onyx, path, args.device, input_path, os.path.join(tmp, "out"))
                        if got is not None:
                            entry["max_abs_diff"] = float(np.max(np.abs(got.astype(np.float32) - expected)))
                            entry["max_abs_ref"] = float(np.max(np.abs(expected)))
                        entry["torch_ms"] = time_torch(torch, module, example, device, warmup, iterations)
                        report = run_onyx_bench(args.onyx, path, args.device, warmup, iterations, input_path)
                        entry["onyx_ms"] = report["median_ms"]
                        entry["onyx_nodes_on_cpu"] = report.get("nodes_on_cpu")
                        entry["onyx_copies_inside_graph"] = report.get("copies_inside_graph")
                        entry["ratio"] = entry["onyx_ms"] / entry["torch_ms"]
                        if args.compile and batch == 1 and precision == "fp32":
                            compiled = torch.compile(module)
                            entry["torch_compile_ms"] = time_torch(torch, compiled, example, device, warmup, iterations)
                    except Exception as error:  # one model's failure must not hide the others
                        entry["error"] = f"{type(error).__name__}: {str(error).strip()[:300]}"
                    print(json.dumps(entry), flush=True)

    print(f"\n{'model':<14}{'prec':<6}{'batch':>6}{'torch ms':>11}{'onyx ms':>11}{'ratio':>8}"
          f"{'compile ms':>12}{'max|diff|':>11}  notes")
    for e in results:
        if "error" in e and "onyx_ms" not in e:
            print(f"{e['model']:<14}{e['precision']:<6}{e['batch']:>6}  {e['error']}")
            continue
        compile_ms = f"{e['torch_compile_ms']:.3f}" if "torch_compile_ms" in e else "-"
        notes = f"cpu nodes {e.get('onyx_nodes_on_cpu')}, inner copies {e.get('onyx_copies_inside_graph')}"
        print(f"{e['model']:<14}{e['precision']:<6}{e['batch']:>6}{e['torch_ms']:>11.3f}{e['onyx_ms']:>11.3f}"
              f"{e['ratio']:>8.2f}{compile_ms:>12}{e.get('max_abs_diff', float('nan')):>11.2e}  {notes}")
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"device": args.device, "torch": torch.__version__, "results": results}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
