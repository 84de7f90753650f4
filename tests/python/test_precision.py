"""Reduced precision end to end: `--precision bf16` on a real exported architecture against
onnxruntime's fp32 outputs, its fallback where the CPU lacks avx512_bf16 (pretended with
ONYX_PRETEND_NO_BF16=1), and quantized models as onnxruntime.quantization writes them (QDQ and
QOperator formats) against onnxruntime running the same quantized model.

Tolerances. bf16 keeps 8 significant bits, so each product carries a relative error up to
2^-8 per operand; through resnet18's 20 layers the logits (spread about 1) move by a few 1e-2:
|onyx bf16 - ORT fp32| <= 0.1 * std(reference) elementwise, and the top-1 class must not change.
Quantized outputs are integers: onyx's int8 kernels requantize in float like onnxruntime's,
so an output may differ by one step where a sum lies at a rounding boundary (and a step
propagates through later layers): at most 1 step on the synthetic models, with at most 2% of
the values off at all.
"""
import os
import re
import subprocess

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from cli_helpers import make_model, mlp_model, onyx_path, ort_run, read_outputs, run_onyx, save_model


def cpu_has_bf16():
    """Whether this CPU runs bf16 natively; without it a bf16 session runs fp32 (as tested)."""
    with open("/proc/cpuinfo") as f:
        return any(line.startswith("flags") and " avx512_bf16" in line for line in f)


def run_to_outputs(tmp_path, model_path, inputs, *extra, env=None):
    """Runs `onyx run` with .npy inputs (and extra environment variables); returns
    ({output name: array}, stderr)."""
    folder = tmp_path / f"out{len(os.listdir(tmp_path))}"
    args = ["run", model_path, "--output-dir", folder, *extra]
    for name, array in inputs.items():
        path = tmp_path / f"{name}.npy"
        np.save(path, array)
        args += ["--input", f"{name}={path}"]
    proc = subprocess.run([onyx_path(), *map(str, args)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=300, env={**os.environ, **(env or {})})
    assert proc.returncode == 0, proc.stderr
    return dict(read_outputs(folder)), proc.stderr


def resnet18_case(exported):
    folder, models = exported
    entry = models["resnet18"]
    case = entry["cases"][0]
    inputs = {name: np.load(os.path.join(folder, file)) for name, file in case["inputs"].items()}
    return os.path.join(folder, entry["model"]), inputs


def test_bf16_resnet18_keeps_top1_against_onnxruntime_fp32(tmp_path, exported):
    model_path, inputs = resnet18_case(exported)
    reference = ort_run(model_path, inputs)
    outputs, stderr = run_to_outputs(tmp_path, model_path, inputs, "--precision", "bf16")
    fp32, _ = run_to_outputs(tmp_path, model_path, inputs)
    if not cpu_has_bf16():
        assert "avx512_bf16" in stderr and all(np.array_equal(outputs[k], fp32[k]) for k in fp32), stderr
        return
    for name, expected in reference.items():
        actual = outputs[name]
        spread = float(np.std(expected))
        assert spread > 1e-2, f"{name}: degenerate reference"
        error = float(np.max(np.abs(actual - expected)))
        assert error <= 0.1 * spread, f"{name}: bf16 max abs error {error} against a spread of {spread}"
        assert np.array_equal(np.argmax(actual, axis=-1), np.argmax(expected, axis=-1)), f"{name}: top-1 changed"
        # The bf16 kernels did run: fp32 matches onnxruntime far closer than that.
        fp32_error = float(np.max(np.abs(fp32[name] - expected)))
        assert fp32_error < 1e-3 < error, f"{name}: fp32 error {fp32_error}, bf16 error {error}"


def test_bf16_falls_back_to_fp32_with_one_notice(tmp_path, exported):
    model_path, inputs = resnet18_case(exported)
    fp32, _ = run_to_outputs(tmp_path, model_path, inputs)
    outputs, stderr = run_to_outputs(tmp_path, model_path, inputs, "--precision", "bf16",
                                     env={"ONYX_PRETEND_NO_BF16": "1"})
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "avx512_bf16" in lines[0] and "fp32" in lines[0], stderr
    for name, expected in fp32.items():
        assert np.array_equal(outputs[name], expected), name


def test_bench_reports_the_precision(exported):
    model_path, _ = resnet18_case(exported)
    proc = run_onyx("bench", model_path, "--precision", "bf16", "-n", "1", "--warmup", "0", "--json", "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    assert '"precision":"bf16"' in proc.stdout


def test_unknown_precision_is_refused(tmp_path, rng):
    path = save_model(mlp_model(rng), tmp_path / "mlp.onnx")
    proc = run_onyx("run", path, "--random", "--precision", "int3")
    assert proc.returncode != 0 and "precision" in proc.stderr.lower(), proc.stderr


# --- int8: models quantized by onnxruntime.quantization ------------------------------------------

def float_model(rng, tmp_path):
    """x[1,8,12,12] -> Conv3x3(16)+bias -> Relu -> Conv3x3(16, stride 2) -> Relu -> Flatten ->
    MatMul(576x10) -> Add -> y, and Gemm(transB) on the same features -> z."""
    w1 = (rng.standard_normal((16, 8, 3, 3)) * 0.2).astype(np.float32)
    b1 = (rng.standard_normal(16) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((16, 16, 3, 3)) * 0.15).astype(np.float32)
    b2 = (rng.standard_normal(16) * 0.1).astype(np.float32)
    w3 = (rng.standard_normal((576, 10)) * 0.05).astype(np.float32)
    b3 = (rng.standard_normal(10) * 0.1).astype(np.float32)
    w4 = (rng.standard_normal((12, 576)) * 0.05).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2", "b2"], ["c2"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("Flatten", ["r2"], ["f"]),
        helper.make_node("MatMul", ["f", "w3"], ["m"]),
        helper.make_node("Add", ["m", "b3"], ["y"]),
        helper.make_node("Gemm", ["f", "w4"], ["z"], transB=1),
    ]
    inits = [numpy_helper.from_array(a, n) for a, n in [(w1, "w1"), (b1, "b1"), (w2, "w2"), (b2, "b2"), (w3, "w3"),
                                                       (b3, "b3"), (w4, "w4")]]
    model = make_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 12, 12])],
                       [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 10]),
                        helper.make_tensor_value_info("z", TensorProto.FLOAT, [1, 12])], inits)
    return save_model(model, tmp_path / "float.onnx")


def quantize(float_path, out_path, samples, quant_format, activation_type, per_channel, op_types=None):
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static

    class Reader(CalibrationDataReader):
        def __init__(self):
            self.items = iter(samples)

        def get_next(self):
            return next(self.items, None)

    quantize_static(str(float_path), str(out_path), Reader(),
                    quant_format=QuantFormat.QDQ if quant_format == "qdq" else QuantFormat.QOperator,
                    activation_type=QuantType.QUInt8 if activation_type == "u8" else QuantType.QInt8,
                    weight_type=QuantType.QInt8, per_channel=per_channel, op_types_to_quantize=op_types)
    return out_path


PROFILE_ROW = re.compile(r"^(\S+)(?: \[([^\]]+)\])?\s+(\d+)\s+[0-9.]+\s+[0-9.]+%$")


def op_counts_after_optimization(model_path):
    """({op type: nodes}, {op type: implementations}) of the plan onyx runs, from `onyx bench
    --profile` (which names the implementation a kernel chose, "QLinearConv [oneDNN int8]")."""
    proc = run_onyx("bench", model_path, "--profile", "-n", "1", "--warmup", "0", "--threads", "1")
    assert proc.returncode == 0, proc.stderr
    counts, implementations, table = {}, {}, False
    for line in proc.stdout.splitlines():
        if line.startswith("op "):
            table = True
            continue
        if table and line.split():
            match = PROFILE_ROW.match(line)
            assert match, f"unexpected profile row {line!r}"
            op, implementation, nodes = match.groups()
            counts[op] = counts.get(op, 0) + int(nodes)
            if implementation:
                implementations.setdefault(op, set()).add(implementation)
    return counts, implementations


def assert_quantized_match(actual, expected, scale, what, max_step=1, max_fraction=0.02):
    """Outputs dequantized with `scale` (float outputs of QDQ models) or integers."""
    steps = np.abs(actual.astype(np.float64) - expected.astype(np.float64)) / scale
    assert np.max(steps) <= max_step + 1e-3, f"{what}: {np.max(steps)} steps apart"
    assert np.mean(steps > 1e-3) <= max_fraction, f"{what}: {np.mean(steps > 1e-3):.1%} of the values differ"


@pytest.mark.parametrize("activation_type", ["u8", "s8"])
@pytest.mark.parametrize("per_channel", [False, True])
@pytest.mark.parametrize("quant_format", ["qdq", "qop"])
def test_quantized_model_matches_onnxruntime(tmp_path, rng, quant_format, activation_type, per_channel):
    float_path = float_model(rng, tmp_path)
    samples = [{"x": rng.standard_normal((1, 8, 12, 12)).astype(np.float32)} for _ in range(8)]
    # The QOperator format writes a Gemm as com.microsoft's QGemm, not an ONNX op: there the
    # Gemm stays float.
    op_types = ["Conv", "MatMul"] if quant_format == "qop" else None
    qpath = quantize(float_path, tmp_path / "q.onnx", samples, quant_format, activation_type, per_channel, op_types)
    model = onnx.load(str(qpath))
    ops = {node.op_type for node in model.graph.node}
    if quant_format == "qop":
        assert "QLinearConv" in ops and "QLinearMatMul" in ops and "DequantizeLinear" in ops, ops
    counts, implementations = op_counts_after_optimization(qpath)
    # Channels-last (com.onyx NhwcQLinearConv), as float convolutions run.
    assert counts.get("NhwcQLinearConv", 0) == 2, counts
    assert counts.get("Conv", 0) + counts.get("NhwcConv", 0) == 0, counts
    assert counts.get("QLinearMatMul", 0) >= 1, counts
    # Every quantized product runs on oneDNN's int8 kernels, not the portable loops.
    assert implementations["NhwcQLinearConv"] == {"oneDNN int8"}, implementations
    assert implementations["QLinearMatMul"] == {"oneDNN int8"}, implementations
    # An output a DequantizeLinear makes is counted in its steps; one that float ops make from
    # dequantized values (QOperator's Add of the bias, its float Gemm) may move by a step of
    # the coarsest quantized tensor.
    inits = {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}
    dequantized = {node.output[0]: inits[node.input[1]].item() for node in model.graph.node
                   if node.op_type == "DequantizeLinear" and inits[node.input[1]].size == 1}
    coarsest = max(dequantized.values())
    for k in range(3):
        x = rng.standard_normal((1, 8, 12, 12)).astype(np.float32)
        expected = ort_run(qpath, {"x": x})
        actual, _ = run_to_outputs(tmp_path, qpath, {"x": x})
        for name, reference in expected.items():
            if name in dequantized:
                assert_quantized_match(actual[name], reference, dequantized[name], f"{name} sample {k}")
            else:
                error = float(np.max(np.abs(actual[name] - reference)))
                assert error <= coarsest, f"{name} sample {k}: {error} apart, a step is {coarsest}"


@pytest.mark.parametrize("op", ["ConvInteger", "MatMulInteger"])
def test_integer_ops_match_onnxruntime(tmp_path, rng, op):
    """The int32 ops (no requantization): exactly onnxruntime's sums."""
    if op == "ConvInteger":
        x = rng.integers(0, 256, (2, 6, 9, 9), dtype=np.uint8)
        w = rng.integers(-128, 128, (8, 6, 3, 3), dtype=np.int8)
        node = helper.make_node("ConvInteger", ["x", "w", "xz"], ["y"], pads=[1, 1, 1, 1])
        y_shape = [2, 8, 9, 9]
    else:
        x = rng.integers(0, 256, (2, 7, 40), dtype=np.uint8)
        w = rng.integers(-128, 128, (40, 24), dtype=np.int8)
        node = helper.make_node("MatMulInteger", ["x", "w", "xz"], ["y"])
        y_shape = [2, 7, 24]
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.array(131, dtype=np.uint8), "xz")]
    model = make_model([node], [helper.make_tensor_value_info("x", TensorProto.UINT8, list(x.shape))],
                       [helper.make_tensor_value_info("y", TensorProto.INT32, y_shape)], inits)
    path = save_model(model, tmp_path / "m.onnx")
    expected = ort_run(path, {"x": x})["y"]
    actual, _ = run_to_outputs(tmp_path, path, {"x": x})
    assert np.array_equal(actual["y"], expected)


def test_quantized_resnet18_matches_onnxruntime(tmp_path, exported):
    """One exported architecture, quantized (QDQ, per channel, uint8 activations): onyx and
    onnxruntime run the same quantized model and agree on the classes and, to a few output
    steps, on the logits."""
    model_path, inputs = resnet18_case(exported)
    (name, x), = inputs.items()
    rng = np.random.default_rng(5)
    samples = [{name: x}] + [{name: (x + 0.5 * rng.standard_normal(x.shape)).astype(np.float32)} for _ in range(2)]
    qpath = quantize(model_path, tmp_path / "resnet18_qdq.onnx", samples, "qdq", "u8", True)
    counts, implementations = op_counts_after_optimization(qpath)
    assert counts.get("NhwcQLinearConv", 0) == 20, counts
    assert implementations["NhwcQLinearConv"] == {"oneDNN int8"}, implementations
    expected = ort_run(qpath, {name: x})
    actual, _ = run_to_outputs(tmp_path, qpath, {name: x})
    for output, reference in expected.items():
        spread = float(np.std(reference))
        assert float(np.max(np.abs(actual[output] - reference))) <= 0.1 * spread, output
        assert np.array_equal(np.argmax(actual[output], axis=-1), np.argmax(reference, axis=-1)), output


def test_train_in_bf16_learns_and_differs_from_fp32(tmp_path):
    """`onyx train --precision bf16`: the Gemm of the forward graph and the products of its
    gradient run in bf16; the model still learns the separable clusters, and its weights differ
    from an fp32 run's (by bf16 rounding, not more)."""
    from test_cli_train import accuracy_of, linear_model, separable_data, train_args
    x, y = separable_data(400)
    np.savez(tmp_path / "train.npz", x=x, y=y)
    model = linear_model(tmp_path / "m.onnx")
    weights = {}
    for precision in ["fp32", "bf16"]:
        out = tmp_path / f"{precision}.onnx"
        proc = run_onyx(*train_args(model, tmp_path / "train.npz", out, "--epochs", "3", "--batch-size", "32",
                                    "--precision", precision))
        assert proc.returncode == 0, proc.stderr
        vx, vy = separable_data(200, seed=1)
        assert accuracy_of(out, vx, vy) > 0.9, precision
        weights[precision] = {i.name: numpy_helper.to_array(i) for i in onnx.load(str(out)).graph.initializer}
    gap = max(float(np.max(np.abs(weights["fp32"][k] - weights["bf16"][k]))) for k in weights["fp32"])
    scale = max(float(np.max(np.abs(w))) for w in weights["fp32"].values())
    if cpu_has_bf16():
        assert 0 < gap < 0.05 * scale, f"bf16 weights {gap} from fp32 ones (largest weight {scale})"
    else:
        assert gap == 0, "without avx512_bf16 a bf16 run must be the fp32 run"
