"""Zero-size dims everywhere (issue 13.1): every ONNX node test, with its first or its last dim cut
to 0 (tests/python/zero_size_cases.py), runs in onyx and matches onnxruntime, except for the
differences listed here, each for a stated reason. A listed variant that starts to match must be
removed from the list, so it only shrinks; a crash is never allowed."""
import json
import os
import subprocess
import sys

from cli_helpers import ROOT, onyx_path
from zero_size_cases import make_cases

NODE_TESTS = os.path.join(ROOT, ".cache", "onnx-node")

MEAN_OF_NOTHING = ("the mean of an empty set is NaN in onyx, as in numpy and PyTorch (ONNX: undefined); "
                   "onnxruntime gives 0")


def both_axes(*tests):
    return [f"{test}_zero_{where}_dim" for test in tests for where in ("leading", "last")]


DIFFERENCES = {
    **dict.fromkeys(both_axes(
        "test_reduce_mean_default_axes_keepdims_example", "test_reduce_mean_default_axes_keepdims_random",
        "test_nllloss_NCd1", "test_nllloss_NCd1_expanded", "test_nllloss_NCd1d2_reduction_mean",
        "test_nllloss_NCd1d2_reduction_mean_expanded"), MEAN_OF_NOTHING),
    **dict.fromkeys([f"test_{name}_zero_last_dim" for name in (
        "sce_mean_3d", "sce_mean_3d_expanded", "sce_mean_3d_log_prob", "sce_mean_3d_log_prob_expanded",
        "layer_normalization_2d_axis0_expanded", "layer_normalization_2d_axis0_expanded_ver18",
        "layer_normalization_2d_axis1_expanded", "layer_normalization_2d_axis1_expanded_ver18",
        "layer_normalization_2d_axis_negative_1_expanded", "layer_normalization_2d_axis_negative_1_expanded_ver18",
        "layer_normalization_2d_axis_negative_2_expanded", "layer_normalization_2d_axis_negative_2_expanded_ver18")],
        MEAN_OF_NOTHING),
    **dict.fromkeys(both_axes("test_batchnorm_epsilon_training_mode", "test_batchnorm_example_training_mode"),
                    "an empty training batch leaves the running statistics unchanged in onyx; onnxruntime "
                    "and the ONNX reference make them NaN (0/0), which poisons every later step"),
    **dict.fromkeys(both_axes("test_dynamicquantizelinear", "test_dynamicquantizelinear_max_adjusted",
                              "test_dynamicquantizelinear_min_adjusted"),
                    "an empty range gives y_scale 1/255 in onyx, as in the ONNX reference; onnxruntime 1"),
    **dict.fromkeys(both_axes("test_compress_default_axis"),
                    "a true condition entry past the axis is refused, as numpy.compress does; onnxruntime "
                    "ignores it"),
    **dict.fromkeys(["test_gathernd_example_float32_zero_last_dim", "test_gathernd_example_int32_zero_last_dim"],
                    "index tuples of 0 entries are outside the spec (indices.shape[-1] >= 1) and refused; "
                    "onnxruntime accepts them"),
}
def test_every_node_test_with_a_zero_size_dim_matches_onnxruntime(tmp_path):
    if not os.path.isdir(NODE_TESTS):
        subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "generate_onnx_node_tests.py"), NODE_TESTS],
                       check=True)
    cases = make_cases(NODE_TESTS, str(tmp_path / "variants"))
    # Far fewer variants would mean the generator broke, not that onyx got better.
    assert len(cases["made"]) >= 2000, f"only {len(cases['made'])} variants were made"
    proc = subprocess.run([onyx_path(), "test", str(tmp_path / "variants"), "--json", str(tmp_path / "results.json"),
                           "--jobs", "2", "--timeout", "60"], capture_output=True, text=True)
    assert os.path.exists(tmp_path / "results.json"), proc.stdout[-2000:] + proc.stderr[-2000:]
    results = {r["name"]: r for r in json.load(open(tmp_path / "results.json"))["results"]}
    assert set(results) == set(cases["made"])
    unexpected = [f"{name}: {r['status']}: {r['message'][:200]}" for name, r in sorted(results.items())
                  if r["status"] != "pass" and name not in DIFFERENCES]
    now_matching = [name for name in DIFFERENCES if results.get(name, {}).get("status") == "pass"]
    missing = [name for name in DIFFERENCES if name not in results]
    crashes = [f"{name}: {r['message'][:200]}" for name, r in results.items()
               if r["status"] != "pass" and ("signal" in r["message"] or "std::" in r["message"])]
    assert not crashes, "\n".join(crashes)
    assert not unexpected, "\n".join(unexpected)
    assert not now_matching, "these match onnxruntime now; remove them from DIFFERENCES: " + ", ".join(now_matching)
    assert not missing, "listed variants no longer made: " + ", ".join(missing)
