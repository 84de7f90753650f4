#!/usr/bin/python3
"""Exports real PyTorch architectures to ONNX with seeded random weights, together with one
input and PyTorch's own output for each, so that onyx can be checked end to end against a
reference that onyx did not compute.

Run it with Debian's Python (/usr/bin/python3 with python3-torch and python3-torchvision), not
the project's .venv:

  /usr/bin/python3 scripts/export_architectures.py            export if missing or stale
  /usr/bin/python3 scripts/export_architectures.py --force    export again

Everything goes to .cache/architectures/<stamp>/ (outside git), where the stamp hashes this file
and the torch/torchvision versions: a changed script exports into a new folder, and a folder only
appears once complete (written under a temporary name, then renamed), so a half-written export is
never read. The script prints the folder on its last line. It holds manifest.json, which lists
per model its .onnx file, its inputs and PyTorch's outputs (.npy files, by ONNX name), plus the
files themselves. (The exporter needs no `onnx` package, and Debian's Python has none.)

Models (opset 17, float32, eval mode, seeds fixed):
  mlp              Linear/GELU/LayerNorm/Linear/Softmax, symbolic batch
  resnet18         torchvision resnet18, symbolic batch and size (1x3x224x224, 2x3x96x128)
  mobilenet_v2     torchvision mobilenet_v2, symbolic batch and size (1x3x224x224, 3x3x160x160)
  mobilenet_v3_small, efficientnet_b0, shufflenet_v2_x1_0
                   torchvision models, symbolic batch and size (1x3x96x96, 2x3x64x80)
  transformer      token + position embeddings, 2-layer nn.TransformerEncoder with a key
                   padding mask, masked mean pooling, classifier; symbolic batch and length
  lstm             2-layer bidirectional nn.LSTM + Linear head; symbolic batch and length
  loop_if          torch.jit.script'ed module: a for loop whose trip count is an input, an if on
                   a tensor condition inside it, and a while loop on a tensor condition
"""
import argparse
import dataclasses
import hashlib
import json
import os
import shutil
import sys
import time
import warnings

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_CACHE = os.path.join(ROOT, ".cache", "architectures")
OPSET = 17
STALE_AFTER_S = 3600  # other stamps' folders older than this are removed after an export


def stamp():
    """Hash of this script and the torch/torchvision versions (read without importing torch,
    so that an up-to-date cache is found in milliseconds)."""
    digest = hashlib.sha256()
    with open(os.path.abspath(__file__), "rb") as f:
        digest.update(f.read())
    from importlib import metadata
    for package in ("torch", "torchvision"):
        try:
            digest.update(f"{package}={metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{package}=?".encode())
    return digest.hexdigest()[:16]


# --- models ----------------------------------------------------------------------------------
@dataclasses.dataclass
class Architecture:
    name: str
    module: object  # torch.nn.Module or a scripted module
    input_names: list
    output_names: list
    cases: list  # tuples of input tensors; the first one is the export example
    dynamic_axes: dict = None


def calibrate_batch_norm(torch, module, image_size):
    """torchvision's initialisation leaves BatchNorm at mean 0, variance 1, so activations drift
    layer by layer (MobileNetV2's logits end near 1e-9, where any absolute tolerance passes
    anything). Give each BatchNorm random affine parameters and the statistics of random images,
    as training would, so that the outputs are of order one and BN folding sees real values."""
    for layer in module.modules():
        if isinstance(layer, torch.nn.BatchNorm2d):
            layer.reset_running_stats()
            layer.momentum = None  # a plain average over the calibration batches
            torch.nn.init.uniform_(layer.weight, 0.5, 1.5)
            torch.nn.init.normal_(layer.bias, 0.0, 0.1)
    module.train()
    with torch.no_grad():
        module(torch.randn(4, 3, image_size, image_size))
    module.eval()
    return module


def build_architectures(torch):
    import torchvision
    from torch import nn

    class Mlp(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(nn.Linear(64, 128), nn.GELU(), nn.LayerNorm(128),
                                      nn.Linear(128, 128), nn.ReLU(), nn.Linear(128, 10))

        def forward(self, x):
            return torch.softmax(self.body(x), dim=-1)

    class TransformerClassifier(nn.Module):
        def __init__(self, vocabulary=100, width=64, heads=4, layers=2, max_length=32, classes=5):
            super().__init__()
            self.tokens = nn.Embedding(vocabulary, width)
            self.positions = nn.Embedding(max_length, width)
            layer = nn.TransformerEncoderLayer(width, heads, dim_feedforward=128, dropout=0.0,
                                               activation="gelu", batch_first=True)
            self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
            self.head = nn.Linear(width, classes)

        def forward(self, ids, padding):
            # padding: True where the position is padding (PyTorch's key-padding-mask convention).
            positions = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
            hidden = self.encoder(self.tokens(ids) + self.positions(positions),
                                  src_key_padding_mask=padding)
            keep = (~padding).unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * keep).sum(dim=1) / keep.sum(dim=1).clamp(min=1.0)
            return self.head(pooled)

    class LstmTagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(16, 32, num_layers=2, bidirectional=True, batch_first=True)
            self.head = nn.Linear(64, 6)

        def forward(self, x):
            hidden, (h, c) = self.lstm(x)
            return self.head(hidden), h

    class GruTagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = nn.GRU(16, 32, num_layers=2, batch_first=True)
            self.head = nn.Linear(32, 6)

        def forward(self, x):
            hidden, h = self.gru(x)
            return self.head(hidden), h

    class LoopIf(nn.Module):
        """Control flow that tracing would unroll: scripting keeps it as ONNX Loop and If."""

        def __init__(self):
            super().__init__()
            self.step = nn.Linear(8, 8)

        def forward(self, x, steps):
            h = x
            halvings = torch.zeros(1, dtype=torch.long)  # how often the If took its then-branch
            for _ in range(int(steps)):  # trip count from an input
                h = torch.tanh(self.step(h))
                if bool(h.sum() > 0):  # a branch on a tensor computed in the loop
                    h = h * 0.5
                    halvings = halvings + 1
                else:
                    h = h + 0.25
            shrinks = torch.zeros(1, dtype=torch.long)
            while bool(h.abs().max() > 0.1):  # a trip count decided by the data
                h = h * 0.5
                shrinks = shrinks + 1
            return h, halvings, shrinks

    def seeded(seed, make):
        """Each model draws its weights from its own seed, so adding one changes no other."""
        torch.manual_seed(seed)
        return make()

    mlp = seeded(0, Mlp)
    resnet = seeded(1, lambda: calibrate_batch_norm(torch, torchvision.models.resnet18(weights=None), 224))
    mobilenet = seeded(2, lambda: calibrate_batch_norm(torch, torchvision.models.mobilenet_v2(weights=None), 224))
    # Three more CNNs whose blocks differ: squeeze-and-excitation with HardSwish/HardSigmoid,
    # SiLU (Sigmoid * x) everywhere, and channel shuffles (Reshape/Transpose/Slice/Concat).
    more_cnns = {}
    for seed, name in enumerate(("mobilenet_v3_small", "efficientnet_b0", "shufflenet_v2_x1_0"), start=3):
        module = seeded(seed, lambda: getattr(torchvision.models, name)(weights=None))
        for layer in module.modules():  # their classifiers start at N(0, 0.01): logits near 0.01
            if isinstance(layer, nn.Linear):
                layer.reset_parameters()
        more_cnns[name] = calibrate_batch_norm(torch, module, 96)
    transformer = seeded(6, TransformerClassifier)
    lstm = seeded(7, LstmTagger)
    loop_if = seeded(8, lambda: torch.jit.script(LoopIf()))
    gru = seeded(9, GruTagger)
    squeezenet = seeded(10, lambda: torchvision.models.squeezenet1_1(weights=None))

    def token_batch(batch, length, lengths):
        """Random token ids with the positions past each sequence's length padded (id 0)."""
        ids = torch.randint(1, 100, (batch, length))
        padding = torch.arange(length).unsqueeze(0) >= torch.tensor(lengths).unsqueeze(1)
        ids[padding] = 0
        return ids, padding

    def loop_case(seed, steps):
        """Inputs for LoopIf from their own generator: seed 5 takes the then-branch twice in 6
        steps, seed 1 once in 12, the else-branch otherwise (tests/python/test_architectures.py
        checks that both branches are taken)."""
        generator = torch.Generator().manual_seed(seed)
        return torch.randn(2, 8, generator=generator) * 2, torch.tensor(steps)

    torch.manual_seed(1)
    image = torch.randn(1, 3, 224, 224)
    return [
        Architecture("mlp", mlp, ["x"], ["probabilities"],
                     [(torch.randn(4, 64),), (torch.randn(1, 64),)], {"x": {0: "batch"}}),
        Architecture("resnet18", resnet, ["image"], ["logits"], [(image,), (torch.randn(2, 3, 96, 128),)],
                     {"image": {0: "batch", 2: "height", 3: "width"}}),
        Architecture("mobilenet_v2", mobilenet, ["image"], ["logits"], [(image,), (torch.randn(3, 3, 160, 160),)],
                     {"image": {0: "batch", 2: "height", 3: "width"}}),
        *[Architecture(name, module, ["image"], ["logits"], [(torch.randn(1, 3, 96, 96),), (torch.randn(2, 3, 64, 80),)],
                       {"image": {0: "batch", 2: "height", 3: "width"}}) for name, module in more_cnns.items()],
        Architecture("transformer", transformer, ["ids", "padding"], ["logits"],
                     [token_batch(3, 12, [12, 9, 5]), token_batch(2, 20, [3, 20])],
                     {"ids": {0: "batch", 1: "length"}, "padding": {0: "batch", 1: "length"}}),
        Architecture("lstm", lstm, ["x"], ["tags", "h_n"],
                     [(torch.randn(2, 7, 16),), (torch.randn(3, 1, 16),)], {"x": {0: "batch", 1: "length"}}),
        # The first case is the one benchmarks time: one sequence of 32 steps.
        Architecture("gru", gru, ["x"], ["tags", "h_n"],
                     [(torch.randn(1, 32, 16),), (torch.randn(3, 5, 16),)], {"x": {0: "batch", 1: "length"}}),
        Architecture("squeezenet1_1", squeezenet, ["image"], ["logits"],
                     [(image,), (torch.randn(2, 3, 96, 96),)], {"image": {0: "batch", 2: "height", 3: "width"}}),
        Architecture("loop_if", loop_if, ["x", "steps"], ["y", "halvings", "shrinks"],
                     [loop_case(5, 6), loop_case(0, 0), loop_case(1, 12)]),
    ]


def export(torch, folder):
    import numpy as np
    manifest = {"opset": OPSET, "torch": torch.__version__, "models": []}
    for architecture in build_architectures(torch):
        started = time.perf_counter()
        name, module = architecture.name, architecture.module
        module.eval()
        entry = {"name": name, "model": f"{name}.onnx", "cases": []}
        for k, inputs in enumerate(architecture.cases):
            # Gradients stay enabled: under no_grad, nn.TransformerEncoderLayer takes its fused
            # fast path, which the exporter cannot express; the reference takes the same path.
            outputs = module(*inputs)
            outputs = outputs if isinstance(outputs, tuple) else (outputs,)
            case = {"inputs": {}, "outputs": {}}
            for kind, names, values in (("inputs", architecture.input_names, inputs),
                                        ("outputs", architecture.output_names, outputs)):
                for value_name, value in zip(names, values):
                    case[kind][value_name] = f"{name}.case{k}.{kind[:-1]}.{value_name}.npy"
                    np.save(os.path.join(folder, case[kind][value_name]), value.detach().numpy())
            entry["cases"].append(case)
        with warnings.catch_warnings():  # the exporter's notes on its own shape inference
            warnings.simplefilter("ignore")
            torch.onnx.export(module, architecture.cases[0], os.path.join(folder, entry["model"]),
                              opset_version=OPSET, input_names=architecture.input_names,
                              output_names=architecture.output_names, dynamic_axes=architecture.dynamic_axes)
        manifest["models"].append(entry)
        print(f"export_architectures: {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)


def remove_stale(cache, keep):
    for entry in os.listdir(cache):
        path = os.path.join(cache, entry)
        if entry != keep and os.path.isdir(path) and time.time() - os.path.getmtime(path) > STALE_AFTER_S:
            shutil.rmtree(path, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", default=DEFAULT_CACHE, help="parent folder of the stamped exports")
    parser.add_argument("--force", action="store_true", help="export even when an up-to-date export exists")
    args = parser.parse_args()

    folder = os.path.join(args.cache, stamp())
    if os.path.exists(os.path.join(folder, "manifest.json")) and not args.force:
        print(folder)
        return 0
    try:
        import torch
        import torch.onnx  # noqa: F401
        import torchvision  # noqa: F401
    except ImportError as error:
        sys.exit(f"export_architectures: {error}: run with Debian's /usr/bin/python3 "
                 "(packages python3-torch and python3-torchvision)")
    torch.set_num_threads(1)
    os.makedirs(args.cache, exist_ok=True)
    partial = f"{folder}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    os.makedirs(partial)
    try:
        export(torch, partial)
        if args.force:
            shutil.rmtree(folder, ignore_errors=True)
        if not os.path.exists(folder):  # else another process finished the same export first
            os.rename(partial, folder)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    remove_stale(args.cache, os.path.basename(folder))
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
