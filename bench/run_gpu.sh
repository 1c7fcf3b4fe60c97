#!/usr/bin/env bash
# GPU benchmark: linac's CUDA kernels (linac-run --bench, CUDA events)
# beside FLA's Triton kernels on issue 4's shapes, one JSON object per line
# in bench/results/gpu-<device>.jsonl. See bench/README.md.
#
#   bench/run_gpu.sh prepare [--build DIR] [--chip sm_90a|sm_80]
#       where linac is built (no GPU needed): specs, cubins (linacc) and a
#       copy of linac-run, which needs no LLVM to run them, in
#       bench/gpu-bundle/ (git-ignored).
#   bench/run_gpu.sh grid [--memcheck] [--cases all|diagonal|rank-one]
#       on the GPU machine: the CUDA correctness grid (200 cases) on the
#       prepared cubins, against the float64 oracle.
#   bench/run_gpu.sh run [--dry-run] [--only REGEX] [--no-fla] [--no-linac]
#                        [--no-check] [--fla DIR] [--out FILE] [--reps N]
#       on the GPU machine, with bench/gpu-bundle and third_party/fla (FLA's
#       source, git-ignored) carried there. --dry-run prints the plan
#       anywhere.
#
# PYTHON names the interpreter (default python3: on the GPU machines, the
# one that has PyTorch and Triton).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-python3}
if ! command -v "$python" > /dev/null 2>&1; then
  echo "run_gpu.sh: error: no $python on PATH (set PYTHON)" >&2
  exit 1
fi
export PYTHONUNBUFFERED=1
exec "$python" "$root/bench/run_gpu.py" "$@"
