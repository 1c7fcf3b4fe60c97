#!/usr/bin/env bash
#===- demo.sh - the main job of `make demo` -------------------------------===#
#
# What linac does today, end to end on this machine:
#   1. every example recurrence (examples/mlir/) goes through linac-opt's
#      front of the pipeline (verify, make defaults explicit, canonicalize);
#   2. the float64 reference oracle runs the default problem (gla, B=1,
#      T=1024, H=HV=4, K=V=128) on seeded inputs, with timings, and writes the
#      inputs and outputs as .npy files that later kernels are checked
#      against.
# Later issues replace step 2 with a compiled kernel checked against the
# oracle (linac-run --check --bench).
#
#===----------------------------------------------------------------------===#
set -euo pipefail
BUILD_DIR=${1:-build}
BIN="$BUILD_DIR/bin"
cd "$(dirname "$0")/.."

echo "== linac-opt: examples/mlir through -linac-materialize-defaults -canonicalize"
for f in examples/mlir/*.mlir; do
  "$BIN/linac-opt" "$f" -linac-materialize-defaults -canonicalize >/dev/null
  printf '  %-22s ok\n' "$(basename "$f" .mlir)"
done
echo
echo "== examples/mlir/gated_delta_rule.mlir after the front of the pipeline"
"$BIN/linac-opt" examples/mlir/gated_delta_rule.mlir \
  -linac-materialize-defaults -canonicalize
echo
OUT="$BUILD_DIR/demo"
echo "== float64 oracle, default problem (inputs and outputs in $OUT/)"
"$BIN/linac-oracle" --variant=gla --B=1 --T=1024 --H=4 --HV=4 --K=128 \
  --V=128 --seed=0 --out="$OUT"
