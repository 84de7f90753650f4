#!/usr/bin/env python3
"""Runs the ONNX conformance suites through `onyx test` and checks them against the
expected-failure lists in tests/conformance/expected_failures/<suite>.txt.

A suite fails when a test outside its list does not pass, when a listed test passes (so a list
only ever shrinks: delete the line), when a listed test no longer exists, or when its pass ratio
falls below the suite's minimum. Skipped tests count as not passing: they must be listed too.

List format: one test name per line, then `  # reason`. Blank lines and lines starting with `#`
are ignored.

  scripts/conformance.py                      all suites, check against the lists
  scripts/conformance.py --suite onnx-node    one suite (repeatable)
  scripts/conformance.py --jobs 2             run chunks of tests in 2 processes at once
  scripts/conformance.py --device cuda        run on a device (nodes without a kernel there fall
                                              back to the CPU); expected failures are the CPU
                                              list plus expected_failures/<device>/<suite>.txt
  scripts/conformance.py --update             rewrite the lists from this run's results
                                              (keeps reasons; a new entry says "not implemented:
                                              OP" for a missing kernel, else "not triaged: ERROR")

A suite also fails when it does not hold the number of tests EXPECTED_TESTS names. With CI set
in the environment, --suite and --update are refused.
"""
import argparse
import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEBIAN_DATA = "/usr/share/libonnx-testdata/data"
SUITES = {
    "onnx-node": os.path.join(ROOT, ".cache", "onnx-node"),
    "debian-node": os.path.join(DEBIAN_DATA, "node"),
    "debian-pytorch-converted": os.path.join(DEBIAN_DATA, "pytorch-converted"),
    "debian-pytorch-operator": os.path.join(DEBIAN_DATA, "pytorch-operator"),
    "debian-simple": os.path.join(DEBIAN_DATA, "simple"),
}
# How many tests each suite holds: the onnx node tests of the pinned onnx (requirements.lock)
# and Debian 12's libonnx-testdata. A different count means the data is not the data these
# lists were made for (another onnx, a partial generation, a missing package): the suite fails.
EXPECTED_TESTS = {"onnx-node": 1884, "debian-node": 932, "debian-pytorch-converted": 82,
                  "debian-pytorch-operator": 35, "debian-simple": 23}
# The pass ratio (passed / all tests) each suite must keep, just under today's (1876/1884,
# 926/932, all of the others); raise these as onyx improves, never lower them.
MIN_PASS_RATIO = {"onnx-node": 0.995, "debian-node": 0.993, "debian-pytorch-converted": 1.0,
                  "debian-pytorch-operator": 1.0, "debian-simple": 1.0}
# Under CI (CI set in the environment) the run must be the whole check: every suite, the lists
# as committed.
REFUSED_IN_CI = ("--suite", "--update")
LIST_DIR = os.path.join(ROOT, "tests", "conformance", "expected_failures")
RESULTS_DIR = os.path.join(ROOT, ".cache", "conformance")
CHUNK_SIZE = 200  # tests per `onyx test` process; small enough to balance two workers
LIST_HEADER = """\
# Expected failures of the {suite} conformance suite, checked by scripts/conformance.py.
# One test per line: NAME  # reason. When a listed test starts passing the check fails:
# delete its line. `scripts/conformance.py --update` rewrites this file from a run, keeping
# reasons ("not implemented: OP" for a missing kernel); replace every "not triaged" reason it
# adds with the real cause.
"""


# The device of this run ("cpu" or a provider name such as "cuda", "emulated"), set by main().
DEVICE = "cpu"
DEVICE_ARGUMENT = ""


def device_name(device):
    return (device or "cpu").split(",")[0].split(":")[0].lower()


def list_path(suite, device="cpu"):
    """The CPU list, or the list of a device's own failures (beyond the CPU's)."""
    if device == "cpu":
        return os.path.join(LIST_DIR, f"{suite}.txt")
    return os.path.join(LIST_DIR, device, f"{suite}.txt")


def read_list(suite, device="cpu"):
    """Returns {test name: reason} from the suite's expected-failure list (empty if none)."""
    entries = {}
    path = list_path(suite, device)
    if not os.path.exists(path):
        return entries
    with open(path) as f:
        for line in f:
            text = line.strip()
            if not text or text.startswith("#"):
                continue
            name, _, reason = text.partition("#")
            entries[name.strip()] = reason.strip()
    return entries


MISSING_KERNEL = re.compile(r"no \w+ kernel for op '([^']+)' in domain '([^']+)' at opset (\d+)"
                            r" \((onyx does not implement this op|kernels exist for [^)]*)\)")


def new_reason(message):
    """The reason for a newly listed test. A missing kernel is a diagnosis already; anything
    else says "not triaged" so that a person replaces it with the cause."""
    missing = MISSING_KERNEL.search(message or "")
    if missing:
        op, domain, opset, detail = missing.groups()
        if detail.startswith("onyx does not"):
            return f"not implemented: {op} ({domain})"
        return f"not implemented: {op} ({domain}) at opset {opset}; {detail}"
    return "not triaged: " + first_line(message)


def write_list(suite, failing, old_entries, device="cpu"):
    """Writes the list: every not-passing test, with its old reason or a new one."""
    os.makedirs(LIST_DIR, exist_ok=True)
    lines = [LIST_HEADER.format(suite=suite)]
    for name in sorted(failing):
        reason = old_entries.get(name) or new_reason(failing[name]["message"])
        lines.append(f"{name}  # {reason}\n")
    os.makedirs(os.path.dirname(list_path(suite, device)), exist_ok=True)
    with open(list_path(suite, device), "w") as f:
        f.writelines(lines)


def first_line(message, limit=160):
    text = (message or "").strip().splitlines()
    text = text[0] if text else "(no message)"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def find_tests(folder):
    """Test folders of a suite: the subfolders holding a model.onnx, by name."""
    if not os.path.isdir(folder):
        return []
    return sorted(entry.path for entry in os.scandir(folder)
                  if entry.is_dir() and os.path.exists(os.path.join(entry.path, "model.onnx")))


def parse_stdout(text):
    """Per-test results from `onyx test` lines (used when the JSON file is missing)."""
    results = {}
    for line in text.splitlines():
        word, _, rest = line.partition(" ")
        if word not in ("PASS", "FAIL", "ERROR", "SKIP"):
            continue
        name, _, message = rest.partition(": ")
        results[name.strip()] = {"status": word.lower(), "message": message}
    return results


def run_chunk(onyx, tests, timeout, test_timeout, env):
    """Runs one `onyx test` process over `tests`; returns {test name: result}."""
    with tempfile.TemporaryDirectory(prefix="onyx-conformance-") as tmp:
        json_path = os.path.join(tmp, "results.json")
        command = [onyx, "test", *tests, "--json", json_path, "--timeout", str(test_timeout)]
        if DEVICE_ARGUMENT:
            command += ["--device", DEVICE_ARGUMENT]
        try:
            proc = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                  text=True, errors="replace", timeout=timeout, env=env)
            output, status = proc.stdout, proc.returncode
        except subprocess.TimeoutExpired as e:
            output = e.stdout.decode(errors="replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
            status = f"timed out after {timeout}s"
        results = {}
        if os.path.exists(json_path):
            try:
                with open(json_path) as f:
                    for item in json.load(f)["results"]:
                        key = os.path.basename(item["path"].rstrip("/")) if item.get("path") else item["name"]
                        results[key] = {"status": item["status"], "message": item.get("message", "")}
            except (ValueError, KeyError, TypeError) as e:
                print(f"conformance: unreadable JSON from onyx test: {e}", file=sys.stderr)
                results = {}
        if not results:
            results = parse_stdout(output)
    for test in tests:
        name = os.path.basename(test)
        if name not in results:
            tail = first_line(output.strip().splitlines()[-1] if output.strip() else "")
            results[name] = {"status": "error",
                             "message": f"no result from onyx test (exit status {status}; last output: {tail})"}
    return results


def run_suites(onyx, suites, jobs, timeout, test_timeout):
    """Runs every selected suite in chunks over `jobs` processes; returns {suite: {name: result}}."""
    env = dict(os.environ)
    # Parallel processes each running OpenMP teams would oversubscribe the cores.
    env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // jobs)))
    work = []
    for suite in suites:
        tests = find_tests(SUITES[suite])
        for start in range(0, len(tests), CHUNK_SIZE):
            work.append((suite, tests[start:start + CHUNK_SIZE]))
    results = {suite: {} for suite in suites}
    with concurrent.futures.ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = {pool.submit(run_chunk, onyx, tests, timeout, test_timeout, env): suite for suite, tests in work}
        for future in concurrent.futures.as_completed(futures):
            results[futures[future]].update(future.result())
    return results


def check_suite(suite, results, expected, min_ratio, expected_total, cpu_expected=None):
    """Prints the suite's report; returns (ok, summary dict). On a device, `expected` is the
    device's own list and `cpu_expected` the CPU's: a test the CPU fails may fail there too,
    and passing there is no error (the CPU list is the one to shrink)."""
    cpu_expected = cpu_expected or {}
    device_list = dict(expected)
    expected = {**cpu_expected, **expected}
    total = len(results)
    count_ok = total == expected_total
    passed = sorted(n for n, r in results.items() if r["status"] == "pass")
    failing = {n: r for n, r in results.items() if r["status"] != "pass"}
    unexpected_failures = sorted(set(failing) - set(expected))
    unexpected_passes = sorted(set(passed) & set(device_list))
    stale = sorted(set(device_list) - set(results))
    ratio = len(passed) / total if total else 0.0
    ratio_ok = ratio >= min_ratio
    ok = (total > 0 and count_ok and not unexpected_failures and not unexpected_passes and not stale
          and ratio_ok)
    counts = {s: sum(1 for r in results.values() if r["status"] == s) for s in ("fail", "error", "skip")}
    print(f"{suite}: {len(passed)}/{total} passed ({100 * ratio:.1f}%), "
          f"{counts['fail']} failed, {counts['error']} errors, {counts['skip']} skipped; "
          f"{len(expected)} expected failures"
          + (f"; minimum {100 * min_ratio:.1f}%" if min_ratio else "")
          + (" -- OK" if ok else " -- FAILED"))
    if total == 0:
        print(f"  no tests found in {SUITES[suite]}")
    elif not count_ok:
        print(f"  {total} tests found in {SUITES[suite]}, expected {expected_total} (another onnx or "
              f"libonnx-testdata than requirements.lock / Debian 12's? update EXPECTED_TESTS with the lists)")
    for name in unexpected_failures:
        r = failing[name]
        print(f"  unexpected {r['status'].upper()}: {name}: {first_line(r['message'], 300)}")
    for name in unexpected_passes:
        print(f"  unexpected PASS: {name} (listed in {os.path.relpath(list_path(suite, DEVICE), ROOT)}: "
              f"delete its line)")
    for name in stale:
        print(f"  stale entry: {name} is listed but no such test exists (delete its line)")
    if not ratio_ok:
        print(f"  pass ratio {100 * ratio:.1f}% is below the minimum {100 * min_ratio:.1f}%")
    summary = {"total": total, "passed": len(passed), **counts, "ratio": ratio, "ok": ok,
               "unexpected_failures": unexpected_failures, "unexpected_passes": unexpected_passes,
               "stale": stale, "expected_total": expected_total}
    return ok, summary


def generate_node_tests():
    generator = os.path.join(ROOT, "scripts", "generate_onnx_node_tests.py")
    subprocess.run([sys.executable, generator, SUITES["onnx-node"]], check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--suite", action="append", choices=sorted(SUITES),
                        help="run only this suite (repeatable; default: all)")
    parser.add_argument("--jobs", type=int, default=1, help="onyx test processes at once")
    parser.add_argument("--update", action="store_true",
                        help="rewrite the expected-failure lists from this run")
    parser.add_argument("--onyx", default=os.environ.get("ONYX_BIN", os.path.join(ROOT, "build", "onyx")),
                        help="the onyx binary (default: $ONYX_BIN or build/onyx)")
    parser.add_argument("--timeout", type=int, default=1200, help="seconds per onyx test process")
    parser.add_argument("--test-timeout", type=int, default=120,
                        help="seconds per test before onyx test stops it (reported as ERROR)")
    parser.add_argument("--summary", help="write a JSON summary of the run here")
    parser.add_argument("--device", default="",
                        help="onyx test --device: cpu (default), cuda[:N], emulated, with options after commas")
    args = parser.parse_args()
    global DEVICE, DEVICE_ARGUMENT
    DEVICE = device_name(args.device)
    DEVICE_ARGUMENT = args.device if DEVICE != "cpu" else ""
    if os.environ.get("CI"):
        refused = [flag for flag in REFUSED_IN_CI if getattr(args, flag.lstrip("-"))]
        if refused:
            print(f"conformance: {', '.join(refused)} refused under CI: CI checks every suite "
                  f"against the committed lists", file=sys.stderr)
            return 2
    suites = args.suite or list(SUITES)
    jobs = max(1, args.jobs)

    if not os.access(args.onyx, os.X_OK):
        print(f"conformance: {args.onyx} not found or not executable; build onyx first "
              f"(scripts/setup.sh)", file=sys.stderr)
        return 2
    if "onnx-node" in suites:
        try:
            generate_node_tests()
        except (OSError, subprocess.CalledProcessError) as e:
            print(f"conformance: generating the onnx node tests failed: {e}", file=sys.stderr)
            return 2

    start = time.monotonic()
    results = run_suites(args.onyx, suites, jobs, args.timeout, args.test_timeout)
    elapsed = time.monotonic() - start
    results_dir = RESULTS_DIR if DEVICE == "cpu" else os.path.join(RESULTS_DIR, DEVICE)
    os.makedirs(results_dir, exist_ok=True)

    all_ok = True
    summary = {"suites": {}, "seconds": elapsed}
    for suite in suites:
        with open(os.path.join(results_dir, f"{suite}.json"), "w") as f:
            json.dump(results[suite], f, indent=1, sort_keys=True)
        cpu_expected = read_list(suite) if DEVICE != "cpu" else None
        expected = read_list(suite, DEVICE)
        if args.update:
            failing = {n: r for n, r in results[suite].items()
                       if r["status"] != "pass" and n not in (cpu_expected or {})}
            write_list(suite, failing, expected, DEVICE)
            expected = read_list(suite, DEVICE)
        # The pass-ratio floor is the CPU's; a device is held to its lists.
        min_ratio = MIN_PASS_RATIO[suite] if DEVICE == "cpu" else 0.0
        ok, summary["suites"][suite] = check_suite(suite, results[suite], expected, min_ratio,
                                                   EXPECTED_TESTS[suite], cpu_expected)
        all_ok = all_ok and ok
    total = sum(s["total"] for s in summary["suites"].values())
    passed = sum(s["passed"] for s in summary["suites"].values())
    summary["ok"] = all_ok
    if args.summary:
        with open(args.summary, "w") as f:
            json.dump(summary, f, indent=1)
    print(f"conformance: {passed}/{total} tests passed in {len(suites)} suites ({elapsed:.0f}s); "
          + ("all suites match their expected-failure lists" if all_ok else "MISMATCH, see above"))
    if args.update:
        print(f"conformance: rewrote {', '.join(os.path.relpath(list_path(s, DEVICE), ROOT) for s in suites)}")
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
