#!/usr/bin/env bash
# The GPU check, run on the GPU test machine through the device tool with the bundle that
# scripts/gpu_bundle.sh made here:
#   run(command="bash scripts/gpu_check.sh", carry=["gpu_bundle"], timeout_s=420)
# In one run (about 5 minutes; every part has its own time limit, and a failing part does not
# stop the others): the machine (nvidia-smi, where cuDNN/cuBLAS were found), the CUDA
# GoogleTest cases (each CUDA kernel against the CPU kernel), the onnx node conformance suite
# with --device cuda, and the model benchmark against PyTorch (scripts/bench_gpu_vs_torch.py).
# Everything goes to $OUT (the device tool's output folder; /tmp/onyx-gpu-out elsewhere):
# gpu_check.log, cuda_tests.{log,json}, conformance_cuda.{log,json}, bench.json. Record the
# figures in docs/gpu_results.md with the date.
set -uo pipefail
cd "$(dirname "$0")/.."
OUT=${OUT:-/tmp/onyx-gpu-out}
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu_check.log") 2>&1
START=$(date +%s)
stamp() { echo; echo "=== [$(( $(date +%s) - START ))s] $*"; }
PYTHON=${PYTHON:-python3}

stamp "machine"
nvidia-smi || echo "gpu_check: nvidia-smi failed"
BUNDLE=gpu_bundle/onyx-gpu.tar.xz
if [ ! -f "$BUNDLE" ]; then
  echo "gpu_check: $BUNDLE is missing: run scripts/gpu_bundle.sh here first and carry gpu_bundle"
  exit 2
fi
WORK=$(mktemp -d /tmp/onyx-gpu-XXXXXX)
tar -C "$WORK" -xJf "$BUNDLE"
ONYX_HOME=$WORK/onyx-gpu
echo "bundle built at commit $(cat "$ONYX_HOME/COMMIT"), checkout at $(git rev-parse HEAD 2>/dev/null || echo '?')"
# CUDA's libraries come from PyTorch's NVIDIA wheels (nvidia/<name>/lib in site-packages).
NVIDIA_LIBS=$("$PYTHON" - <<'PY'
import glob, os, site
roots = site.getsitepackages() + [site.getusersitepackages()]
dirs = sorted({os.path.dirname(p) for r in roots for p in glob.glob(os.path.join(r, "nvidia", "*", "lib", "*.so*"))})
print(":".join(dirs))
PY
)
export LD_LIBRARY_PATH=$ONYX_HOME/lib:$NVIDIA_LIBS:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}
echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"
for lib in libcudart.so libcublas.so libcublasLt.so libcudnn.so; do
  found=""
  IFS=: read -ra search_dirs <<< "$LD_LIBRARY_PATH"
  for dir in "${search_dirs[@]}"; do
    candidate=$(ls "$dir"/"$lib"* 2>/dev/null | head -1)
    if [ -n "$candidate" ]; then found=$candidate; break; fi
  done
  echo "$lib: ${found:-NOT FOUND}"
done
if ldd "$ONYX_HOME/bin/onyx" | grep "not found"; then
  echo "gpu_check: libraries missing for the bundled binaries (above)"
fi
ONYX=$ONYX_HOME/bin/onyx
"$ONYX" inspect models/mlp_fashion_untrained.onnx --device cuda | tail -3

stamp "CUDA GoogleTest cases"
timeout 150 "$ONYX_HOME/bin/onyx_tests" --gtest_filter='*Cuda*:*CUDA*' --gtest_output="json:$OUT/cuda_tests.json" \
  > "$OUT/cuda_tests.log" 2>&1
echo "onyx_tests exit status: $?"
grep -E '^\[  FAILED  \]|Failure|^\[==========\]|^\[  PASSED  \]|^\[  SKIPPED \] [0-9]+ test' "$OUT/cuda_tests.log" | head -80

stamp "onnx node conformance on cuda"
timeout 150 "$PYTHON" scripts/conformance.py --device cuda --suite onnx-node --onyx "$ONYX" --jobs 12 \
  --test-timeout 60 --summary "$OUT/conformance_cuda.json" > "$OUT/conformance_cuda.log" 2>&1
echo "conformance exit status: $?"
grep -E '^onnx-node:|^conformance:' "$OUT/conformance_cuda.log"
grep -E '^  unexpected' "$OUT/conformance_cuda.log" | head -60
cp .cache/conformance/cuda/onnx-node.json "$OUT/conformance_cuda_results.json" 2>/dev/null || true

stamp "benchmark against PyTorch"
timeout 200 "$PYTHON" scripts/bench_gpu_vs_torch.py --onyx "$ONYX" --device cuda --out "$OUT/bench.json" \
  --budget 170 2>&1 | grep -v "Warning\|warnings.warn" | tail -40

stamp "done"
