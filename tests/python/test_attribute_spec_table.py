"""The checked-in attribute table (onnx_ops/attribute_spec_table.inc) is what
scripts/gen_attribute_spec.py writes from the pinned onnx package now: it cannot go stale."""
import os
import subprocess
import sys

from cli_helpers import ROOT

SCRIPT = os.path.join(ROOT, "scripts", "gen_attribute_spec.py")
TABLE = os.path.join(ROOT, "onnx_ops", "attribute_spec_table.inc")


def test_the_checked_in_table_is_what_the_generator_writes():
    generated = subprocess.run([sys.executable, SCRIPT, "--stdout"], capture_output=True, text=True, check=True).stdout
    with open(TABLE, encoding="utf-8") as f:
        checked_in = f.read()
    assert checked_in == generated, "onnx_ops/attribute_spec_table.inc is stale: run scripts/gen_attribute_spec.py"


def test_the_table_names_its_onnx_version():
    import onnx
    with open(TABLE, encoding="utf-8") as f:
        first = f.readline()
    assert f"from onnx {onnx.__version__}; do not edit" in first
