#!/usr/bin/env bash
# libFuzzer runs of onyx's fuzz targets (tests/fuzz/), ASan + UBSan, in build-fuzz/ (clang).
#   scripts/fuzz.sh --list             names the targets
#   scripts/fuzz.sh TARGET SECONDS     builds if needed and fuzzes TARGET for SECONDS on its seed
#                                      corpus; state (corpus, crashes) under .cache/fuzz/TARGET/
#   scripts/fuzz.sh --ci               each target for a fixed number of executions (about a minute
#                                      each on 2 cores) from a fixed seed and the seed corpus only,
#                                      so the verdict depends on the commit alone; fails on any crash
#                                      and prints the reproducer's path; with FUZZ_REPORT=FILE also
#                                      writes each target's result there as JSON (test.sh's)
# A crash's reproducer goes to .cache/fuzz/TARGET/crashes/; minimize it with
#   build-fuzz/onyx_fuzz_TARGET -minimize_crash=1 -runs=10000 FILE
# and store it under tests/fuzz/regressions/TARGET/ (replayed by onyx_tests' FuzzRegressions).
# The build folder is shared with scripts/sanitize.sh (scripts/sanitized_build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source "$ROOT/scripts/sanitized_build.sh"
BUILD=$SANITIZED_BUILD
STATE=$ROOT/.cache/fuzz
PYTHON=$ROOT/.venv/bin/python
TARGETS=(model_run model_mutate tensor_files data_readers checkpoint)
# CI's executions per target (measured: about 60 s each on CI's 2 cores), run from -seed=1.
declare -A CI_RUNS=([model_run]=20000 [model_mutate]=2500 [tensor_files]=45000 [data_readers]=30000
                    [checkpoint]=28000)
# The targets' scratch files (tests/fuzz/fuzz_entries.cc) go under a temporary folder of this
# script's own, removed when it exits: a crashing target cannot clean up after itself.
FUZZ_TMP=$(mktemp -d "${TMPDIR:-/tmp}/onyx-fuzz-run.XXXXXX")
trap 'rm -rf "$FUZZ_TMP"' EXIT
# Every finding stops the run with a stack; leaks count (a fuzz input must not leak either).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}

build() {
  sanitized_configure
  cmake --build "$BUILD" -j"${JOBS:-2}" --target onyx $(printf 'onyx_fuzz_%s ' "${TARGETS[@]}")
}

# The checkpoint seeds: two epochs of a short training run of a tiny linear classifier (the
# checkpoints stay a few KB: small inputs fuzz faster) on a made-up 32-sample data set.
checkpoint_seeds() {
  local dir=$STATE/checkpoint/train
  if ! ls "$dir"/ckpt/*.onnx >/dev/null 2>&1; then
    mkdir -p "$dir"
    "$PYTHON" - "$dir" <<'PY'
import sys, numpy as np, onnx
from onnx import helper, numpy_helper, TensorProto
d = sys.argv[1]
r = np.random.default_rng(0)
np.savez(f"{d}/data.npz", x=r.random((32, 4), np.float32), label=r.integers(0, 3, 32))
g = helper.make_graph([helper.make_node("Gemm", ["x", "w", "b"], ["logits"])], "tiny",
    [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", 4])],
    [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch", 3])],
    [numpy_helper.from_array(r.random((4, 3), np.float32), "w"), numpy_helper.from_array(np.zeros(3, np.float32), "b")])
onnx.save(helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)]), f"{d}/tiny.onnx")
PY
    "$BUILD/onyx" train "$dir/tiny.onnx" --data "$dir/data.npz" --label label \
      --loss cross_entropy --optimizer adam --lr 1e-3 --epochs 2 --batch-size 16 --threads 1 \
      --checkpoint-dir "$dir/ckpt" --out "$dir/trained.onnx" >/dev/null
  fi
  ls "$dir"/ckpt/*.onnx
}

# fuzz TARGET SECONDS [CORPUS [LIBFUZZER_ARGS...]]: exit status 0, or 1 on a crash (its
# reproducer under crashes/). New inputs go to CORPUS (default .cache/fuzz/TARGET/corpus, kept
# between runs).
fuzz() {
  local target=$1 seconds=$2 dir=$STATE/$1
  local corpus=${3:-$dir/corpus}
  local extra_args=("${@:4}")
  mkdir -p "$corpus" "$dir/seeds" "$dir/crashes"
  if [ -z "$(ls -A "$dir/seeds")" ]; then
    local extra=()
    [ "$target" = checkpoint ] && mapfile -t extra < <(checkpoint_seeds)
    "$PYTHON" scripts/fuzz_seeds.py "$target" "$dir/seeds" "${extra[@]}"
  fi
  # seeds/ is read only. One job, one thread:
  # the machine is shared. rss_limit and malloc_limit catch runaway allocations.
  # The fuzzer's exit status, not grep's: read PIPESTATUS right after the pipeline, with errexit
  # off (an "|| true" would replace PIPESTATUS with its own).
  local status=0 started
  started=$(date +%s)
  set +e
  TMPDIR=$FUZZ_TMP OMP_NUM_THREADS=1 "$BUILD/onyx_fuzz_$target" "$corpus" "$dir/seeds" -max_total_time="$seconds" \
    -artifact_prefix="$dir/crashes/" -rss_limit_mb=4096 -malloc_limit_mb=2048 -timeout=20 \
    -print_final_stats=1 "${extra_args[@]}" ${FUZZ_ARGS:-} 2>&1 | tee "$dir/last.log" | grep -E "^#[0-9]+ +(INITED|DONE)|ERROR|SUMMARY|Test unit written|stat::number_of_executed_units"
  status=${PIPESTATUS[0]}
  set -e
  local runs
  # Executions: the final stats, or (with FUZZ_ARGS=-fork=N, which prints none) the last status line.
  runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "$dir/last.log" | tail -1 | grep -o '[0-9]*$' ||
         grep -oE '^#[0-9]+' "$dir/last.log" | tail -1 | tr -d '#' || echo 0)
  local took=$(( $(date +%s) - started ))
  echo "$target: ${runs:-0} executions in ${took}s, corpus $(ls "$corpus" | wc -l) files (exit $status)"
  REPORT_LINES+=("\"$target\": {\"ok\": $([ "$status" -eq 0 ] && echo true || echo false), \"seconds\": $took, \"executions\": ${runs:-0}}")
  return "$status"
}

case "${1:-}" in
  --list) printf '%s\n' "${TARGETS[@]}" ;;
  --ci)
    build
    failed=0
    REPORT_LINES=()
    for target in "${TARGETS[@]}"; do
      # A fresh corpus (the seeds only) and a fixed seed and count: what a run finds depends on
      # the commit, not on earlier runs or the machine's speed. The time limit is only a cap.
      if ! fuzz "$target" "${FUZZ_CI_SECONDS:-300}" "$FUZZ_TMP/corpus-$target" -seed=1 -runs="${CI_RUNS[$target]}"; then
        failed=1
        echo "fuzz.sh: $target crashed; reproducer: $(grep -o 'Test unit written to .*' "$STATE/$target/last.log" | sed 's/Test unit written to //')"
      fi
    done
    if [ -n "${FUZZ_REPORT:-}" ]; then
      (IFS=,; echo "{\"targets\": {${REPORT_LINES[*]}}}") >"$FUZZ_REPORT"
    fi
    exit "$failed" ;;
  "" | -h | --help) sed -n '2,12p' "$0"; exit 2 ;;
  *)
    [[ " ${TARGETS[*]} " == *" $1 "* ]] || { echo "fuzz.sh: unknown target '$1' (see --list)" >&2; exit 2; }
    build
    REPORT_LINES=()
    fuzz "$1" "${2:?seconds}" ;;
esac
