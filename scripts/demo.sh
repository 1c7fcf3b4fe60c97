#!/usr/bin/env bash
#===- demo.sh - the main job of `make demo` -------------------------------===#
#
# What linac does today, end to end on this machine:
#   1. the default spec (examples/gla.toml: gla, H=16, K=V=128, f32) goes
#      through linacc's front end into linac IR;
#   2. every example recurrence (examples/mlir/) goes through linac-opt's
#      front of the pipeline (verify, make defaults explicit, canonicalize);
#   3. the float64 reference oracle runs the default spec at B=1, T=1024 on
#      seeded inputs, with timings, and writes the inputs and outputs as .npy
#      files that later kernels are checked against.
# Later issues replace step 2 with a compiled kernel checked against the
# oracle (linac-run --check --bench).
#
#===----------------------------------------------------------------------===#
set -euo pipefail
BUILD_DIR=${1:-build}
BIN="$BUILD_DIR/bin"
cd "$(dirname "$0")/.."

SPEC=examples/gla.toml
echo "== linacc $SPEC --emit=mlir"
"$BIN/linacc" "$SPEC" --emit=mlir
echo
echo "== linac-opt: examples/mlir through -linac-materialize-defaults -canonicalize"
for f in examples/mlir/*.mlir; do
  "$BIN/linac-opt" "$f" -linac-materialize-defaults -canonicalize >/dev/null
  printf '  %-22s ok\n' "$(basename "$f" .mlir)"
done
echo
OUT="$BUILD_DIR/demo"
echo "== float64 oracle on $SPEC, B=1 T=1024 (inputs and outputs in $OUT/)"
"$BIN/linac-oracle" --spec="$SPEC" --B=1 --T=1024 --seed=0 --out="$OUT"
