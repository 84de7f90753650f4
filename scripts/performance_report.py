#!/usr/bin/env python3
"""Measures onyx against its peers and rewrites docs/performance.md, the one place the figures live.

In one run: scripts/bench_vs_ort.py at 1 and 2 threads (best of --rounds alternating rounds,
median wall time and process CPU time per run, session creation, first run and peak resident
memory), scripts/bench_train_vs_torch.py (a training step against PyTorch CPU, MLP and CNN) and
build/onyx_eager_seed (graph vs eager, Loop overhead per iteration, eager per-op cost). The
comparison tables are built from bench_vs_ort's JSON; the other two programs' own output is
copied in as they print it. Written atomically (temp file + rename).

  .venv/bin/python scripts/performance_report.py                 everything (about 15 minutes)
  .venv/bin/python scripts/performance_report.py --rounds 5      steadier figures on a busy machine
  .venv/bin/python scripts/performance_report.py --only-ort      just the onnxruntime tables
"""
import argparse
import datetime
import json
import math
import os
import platform
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "docs", "performance.md")
TORCH_PYTHON = os.environ.get("ONYX_TORCH_PYTHON", "/usr/bin/python3")
# Left out of the geometric mean: the issue keeps control flow apart (its own per-iteration goal).
LOOP_MODELS = {"loop_if"}


def run(command, **kwargs):
    print("+", " ".join(command), file=sys.stderr, flush=True)
    return subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, **kwargs)


def bench_vs_ort(threads, rounds, iterations, cpu_time):
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "results.json")
        command = [sys.executable, os.path.join(ROOT, "scripts", "bench_vs_ort.py"), "--threads", str(threads),
                   "--rounds", str(rounds), "-n", str(iterations), "--json", path]
        if cpu_time:
            command.append("--cpu-time")
        proc = run(command, env=dict(os.environ, OMP_NUM_THREADS=str(threads)))
        if not os.path.exists(path):
            sys.exit(f"performance_report: bench_vs_ort.py failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        with open(path) as f:
            return json.load(f)["results"]


def name_of(row):
    return os.path.splitext(os.path.basename(row["model"]))[0]


def geomean(values):
    values = [v for v in values if v]
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def ort_tables(wall, cpu):
    """Markdown: latency per thread count, then cold start and memory (1 thread)."""
    lines = ["| model | T1 onyx ms | T1 ort ms | T1 onyx/ort | T2 onyx ms | T2 ort ms | T2 onyx/ort | "
             "T1 onyx/ort (CPU time) |", "|---|---|---|---|---|---|---|---|"]
    by_name = {threads: {name_of(r): r for r in rows} for threads, rows in wall.items()}
    cpu_by_name = {name_of(r): r for r in cpu}
    names = [name_of(r) for r in wall[1]]
    ratios = {1: [], 2: []}
    for name in names:
        cells = [name]
        for threads in (1, 2):
            row = by_name[threads].get(name)
            if not row or not row.get("ratio"):
                cells += ["error", "", ""]
                continue
            cells += [f"{row['onyx']['median_ms']:.3f}", f"{row['ort']['median_ms']:.3f}", f"**{row['ratio']:.2f}**"
                      if row["ratio"] > 1 else f"{row['ratio']:.2f}"]
            if name not in LOOP_MODELS:
                ratios[threads].append(row["ratio"])
        cpu_row = cpu_by_name.get(name)
        cells.append(f"{cpu_row['ratio']:.2f}" if cpu_row and cpu_row.get("ratio") else "")
        lines.append("| " + " | ".join(cells) + " |")
    lines.append(f"| geomean (non-loop) | | | {geomean(ratios[1]):.2f} | | | {geomean(ratios[2]):.2f} | |")
    cold = ["| model | onyx create ms | onyx first run ms | ort create ms | ort first run ms | "
            "time to first result onyx/ort | onyx peak RSS MiB |", "|---|---|---|---|---|---|---|"]
    for name in names:
        row = by_name[1].get(name)
        if not row or "error" in row["onyx"]:
            continue
        o, r = row["onyx"], row["ort"]
        onyx_total = o.get("session_create_ms", 0) + o.get("first_run_ms", 0)
        ort_total = r.get("session_create_ms", 0) + r.get("first_run_ms", 0)
        cold.append(f"| {name} | {o.get('session_create_ms', 0):.1f} | {o.get('first_run_ms', 0):.1f} | "
                    f"{r.get('session_create_ms', 0):.1f} | {r.get('first_run_ms', 0):.1f} | "
                    f"{onyx_total / ort_total:.2f} | {o.get('peak_rss_mb', 0):.0f} |")
    return "\n".join(lines), "\n".join(cold)


def program_output(command, what):
    proc = run(command)
    text = (proc.stdout + ("\n" + proc.stderr if proc.returncode else "")).strip()
    return f"```\n$ {' '.join(os.path.relpath(c, ROOT) if c.startswith(ROOT) else c for c in command)}\n{text}\n```" \
        if text else f"({what} printed nothing; exit status {proc.returncode})"


PRECISION_INTRO = (
    "Process CPU time per run at one thread (the machine is shared: wall time and two-thread figures "
    "move too much to compare), best of 3 rounds of 30 runs, batch 1. bf16 is `--precision bf16` "
    "(docs/architecture.md, Reduced precision); int8 is the model quantized by onnxruntime's "
    "`quantize_static` (QDQ, per-channel int8 weights, int8 activations, 8 calibration images), which "
    "onyx fuses into QLinearConv/QLinearMatMul on oneDNN's VNNI kernels and onnxruntime runs its own way. "
    "Accuracy is against onnxruntime fp32 on the same inputs: real images (Fashion-MNIST test pictures "
    "scaled to 224x224, three grey channels, ImageNet normalisation) for the image models, whose weights "
    "are PyTorch's seeded random ones; the exported test case for the others; the 10 000 labelled test "
    "images for the Fashion-MNIST CNN trained by `onyx train` (2 epochs). `output std` is the spread of "
    "the reference outputs, the scale of the errors beside it.")


def precision_tables():
    """scripts/precision_report.py's Markdown tables (one thread, CPU time)."""
    command = [sys.executable, os.path.join(ROOT, "scripts", "precision_report.py"), "--threads", "1", "-n", "30",
               "--rounds", "3", "--cpu-time", "--markdown"]
    proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        return f"(precision_report.py failed: {(proc.stderr.strip().splitlines() or ['exit status ' + str(proc.returncode)])[-1]})"
    return proc.stdout.strip()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per model (the fastest counts)")
    parser.add_argument("-n", "--iterations", type=int, default=100, help="timed runs per model and round")
    parser.add_argument("--only-ort", action="store_true", help="leave out the training and seed programs")
    parser.add_argument("--out", default=OUT)
    args = parser.parse_args()
    started = datetime.datetime.now(datetime.timezone.utc)
    wall = {threads: bench_vs_ort(threads, args.rounds, args.iterations, False) for threads in (1, 2)}
    cpu = bench_vs_ort(1, args.rounds, args.iterations, True)
    latency, cold = ort_tables(wall, cpu)
    sections = [
        "# Performance",
        "",
        f"Measured {started:%Y-%m-%d %H:%M} UTC on {platform.node() or 'this machine'} ({os.cpu_count()} cores, "
        f"{platform.processor() or platform.machine()}), written by `scripts/performance_report.py "
        f"--rounds {args.rounds} -n {args.iterations}`; rerun it to refresh every figure here. Timings on a shared "
        "2-core machine move by 10-20% between runs: each figure is the best of the alternating rounds.",
        "",
        "## Inference against onnxruntime (`scripts/bench_vs_ort.py`)",
        "",
        "Median wall time per run, batch and inputs as bench_vs_ort.py feeds them (the architectures' first "
        "test case), onnxruntime with all graph optimizations. onyx/ort below 1: onyx is faster; above 1 in bold. "
        "The last column compares process CPU time at one thread, which waiting for a core does not inflate.",
        "",
        latency,
        "",
        "### Cold start and memory (1 thread)",
        "",
        "Session creation and the first run (timed apart from the steady state), each runtime's first session in a "
        "fresh process (`onyx bench`; onnxruntime in a new Python process after `import onnxruntime`), and onyx's "
        "peak resident memory over the whole benchmark process.",
        "",
        cold,
    ]
    if not args.only_ort:
        sections += ["", "## Training step against PyTorch (`scripts/bench_train_vs_torch.py`)", ""]
        # Both models at both thread counts in one run (the script's default), on 6400 samples.
        sections += [program_output([TORCH_PYTHON, os.path.join(ROOT, "scripts", "bench_train_vs_torch.py"),
                                     "--samples", "6400", "--repeats", "2"], "bench_train_vs_torch.py"), ""]
        sections += ["## Control flow and eager mode (`build/onyx_eager_seed`)", "",
                     program_output([os.path.join(ROOT, "build", "onyx_eager_seed")], "onyx_eager_seed")]
        sections += ["", "## Reduced precision: bf16 and int8 (`scripts/precision_report.py`)", "", PRECISION_INTRO, "",
                     precision_tables()]
    text = "\n".join(sections) + "\n"
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=os.path.dirname(args.out), prefix=".performance-")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(temporary, args.out)
    print(f"performance_report: wrote {os.path.relpath(args.out, ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
