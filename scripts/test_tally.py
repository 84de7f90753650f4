#!/usr/bin/env python3
"""Closes scripts/test.sh: one count over every test case that ran, and the skip rule.

  test_tally.py REPORTS_DIR [--left-out PART] [--expect fuzz] [FAILED_PART ...]

Counts the GoogleTest cases (ctest's JUnit report), the pytest cases (pytest's JUnit report) and
each conformance suite as one check (it passes when it matches its expected-failure list), and
each fuzz target CI ran (fuzz.json of scripts/fuzz.sh --ci; --expect fuzz: its absence fails) as
one check. A
part that failed without reporting a failed case (it crashed, or its report is missing) counts
as one failure; so does a part with no report that was not left out on purpose (--left-out:
a local run without the conformance suites).

A skipped test is a test that did not run, so it fails the run unless its skip message says a
GPU is missing (the CUDA cases on a machine without one): on a CPU-only machine that is the
only reason a test may not run. Prints every skip with its message, writes the closing line
`N passed, N failed, N skipped` to REPORTS_DIR/tally.txt, and exits 1 when a skip is not allowed.
"""
import argparse
import json
import os
import re
import sys
import xml.etree.ElementTree as ET

# A skip is allowed only when its message says that no GPU / CUDA device is there.
ALLOWED_SKIP = re.compile(r"\b(no (CUDA )?(GPU|device)|GPU (is )?(missing|absent|not available)|"
                          r"CUDA device (is )?(missing|absent|not available)|without a GPU)\b", re.I)


def junit_cases(path):
    """(passed, failed, [(name, skip message)]) from one JUnit XML report."""
    if not os.path.exists(path):
        return 0, 0, [], False
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError:
        return 0, 0, [], False
    passed = failed = 0
    skips = []
    for case in root.iter("testcase"):
        classname, test = case.get("classname", ""), case.get("name", "")
        name = test if classname in ("", test) else f"{classname}.{test}"  # ctest repeats the name
        if case.find("failure") is not None or case.find("error") is not None or case.get("status") == "fail":
            failed += 1
            continue
        skipped = case.find("skipped")
        if skipped is not None or case.get("status") in ("notrun", "disabled"):
            message = skipped.get("message", "") if skipped is not None else ""
            message = message.replace("SKIP_REGULAR_EXPRESSION_MATCHED", "")  # ctest's, says nothing
            # ctest puts the test's own output (GoogleTest's skip message) in system-out.
            output = case.findtext("system-out") or ""
            gtest_skip = re.search(r"Skipped\s*\n?(.*)", output)
            detail = " ".join(part for part in (message, gtest_skip.group(1) if gtest_skip else "",
                                                (skipped.text or "") if skipped is not None else "")
                              if part).strip()
            skips.append((name, detail or "(no message)"))
            continue
        passed += 1
    return passed, failed, skips, True


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("reports")
    parser.add_argument("--left-out", action="append", default=[])
    parser.add_argument("--expect", action="append", default=[])  # parts that run only in CI
    parser.add_argument("failed_parts", nargs="*")
    args = parser.parse_intermixed_args()
    reports, failed_parts = args.reports, set(args.failed_parts)
    passed = failed = 0
    skips = []
    for part, report in (("ctest", "ctest.xml"), ("pytest", "pytest.xml")):
        part_passed, part_failed, part_skips, found = junit_cases(os.path.join(reports, report))
        passed += part_passed
        skips += part_skips
        failed += part_failed or (1 if part in failed_parts or not found else 0)
    path = os.path.join(reports, "conformance.json")
    conformance_failed = 0
    if os.path.exists(path):
        for suite in json.load(open(path))["suites"].values():
            if suite["ok"]:
                passed += 1
            else:
                conformance_failed += 1
    elif "conformance" not in args.left_out:
        conformance_failed = 1  # the conformance part did not report: it did not run
    failed += conformance_failed or (1 if "conformance" in failed_parts else 0)
    path = os.path.join(reports, "fuzz.json")
    fuzz_failed = 0
    if os.path.exists(path):
        for target in json.load(open(path))["targets"].values():
            if target["ok"]:
                passed += 1
            else:
                fuzz_failed += 1
    elif "fuzz" in args.expect:
        fuzz_failed = 1  # the fuzz part (CI only) did not report: it did not run or its build failed
    failed += fuzz_failed or (1 if "fuzz" in failed_parts else 0)

    refused = [(name, message) for name, message in skips if not ALLOWED_SKIP.search(message)]
    for name, message in skips:
        verdict = "allowed (no GPU)" if (name, message) not in refused else "NOT ALLOWED"
        print(f"skipped: {name}: {message} -- {verdict}")
    if refused:
        print(f"test_tally: {len(refused)} test(s) skipped for a reason other than a missing GPU; "
              f"a test that cannot run here must fail, not skip")
        failed += len(refused)
    line = f"{passed} passed, {failed} failed, {len(skips)} skipped"
    print(line)
    with open(os.path.join(reports, "tally.txt"), "w") as f:
        f.write(line + "\n")
    return 1 if refused else 0


if __name__ == "__main__":
    sys.exit(main())
