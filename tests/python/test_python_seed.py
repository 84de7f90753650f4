"""python/examples/seed_loop.py, the seed experiment in Python, in its --quick form: the report's
lines and their numbers, the sums checked against n(n-1)/2 and the tensor-update loop against
the script's own NumPy recurrence (it exits 1 on a mismatch), and the traced models it saves run
by onnxruntime."""
import os
import re
import subprocess
import sys

import numpy as np
import onnxruntime

from cli_helpers import ROOT

SCRIPT = os.path.join(ROOT, "python", "examples", "seed_loop.py")
ROW = re.compile(r"^N=(\d+)(?: \(sum (\d+)\))?\s+eager\s+([\d.]+) ms\s+function\s+([\d.]+) ms\s+speedup\s+([\d.]+)x$")


def test_quick_run_reports_both_times_and_the_speedup(tmp_path):
    result = subprocess.run([sys.executable, SCRIPT, "--quick", "--save-dir", str(tmp_path)], capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    rows = [ROW.match(line) for line in lines]
    rows = [m for m in rows if m]
    assert [int(m.group(1)) for m in rows] == [100, 1000, 1000]
    for m in rows[:2]:
        n = int(m.group(1))
        assert int(m.group(2)) == n * (n - 1) // 2
    for m in rows:
        eager_ms, graph_ms, speedup = float(m.group(3)), float(m.group(4)), float(m.group(5))
        assert eager_ms > 0 and graph_ms > 0
        assert abs(speedup - eager_ms / graph_ms) <= 0.05 * speedup + 0.1  # printed rounded
    assert any(line.startswith("lowest speedup over N: ") for line in lines)
    assert "traced nodes: Max Loop" in result.stdout  # one Loop node, not an unrolled graph
    assert "traces: 1" in lines
    x_lines = " ".join(line for line in lines if line.startswith("x[0] "))
    values = dict(re.findall(r"(eager|function|numpy) (-?[\d.]+)", x_lines))
    assert values["eager"] == values["function"] == values["numpy"]

    sum_model = onnxruntime.InferenceSession(str(tmp_path / "sum_below.onnx"), providers=["CPUExecutionProvider"])
    [total] = sum_model.run(None, {sum_model.get_inputs()[0].name: np.array(37, np.int64)})
    assert total == 37 * 36 // 2
    decay = onnxruntime.InferenceSession(str(tmp_path / "decay_loop.onnx"), providers=["CPUExecutionProvider"])
    n_input, x_input = (i.name for i in decay.get_inputs())
    [x] = decay.run(None, {n_input: np.array(3, np.int64), x_input: np.ones(16, np.float32)})
    expected = np.ones(16, np.float32)
    for i in range(3):
        expected = expected * np.float32(0.999) + np.float32(i) * np.float32(1e-4)
    np.testing.assert_allclose(x, expected, rtol=1e-6)
