#!/usr/bin/env bash
#===- demo.sh - the main job of `make demo` -------------------------------===#
#
# The default spec (examples/gla.toml: gla, H=16, K=V=128, f32), end to end:
#   1. linacc --explain: the schedule linac-select chose and its cost;
#   2. linacc compiles it to a native object and a C header (build/demo/);
#   3. linac-run compiles it (through the same pipeline, cached), runs the
#      prefill kernel at B=1, T=4096 and the batched decode kernel at B=64,
#      one step, compares both with the float64 oracle (--check) and times
#      them (--bench: median, tokens/s, GFLOP/s, fraction of peak).
#
#===----------------------------------------------------------------------===#
set -euo pipefail
BUILD_DIR=${1:-build}
BIN="$BUILD_DIR/bin"
cd "$(dirname "$0")/.."

SPEC=examples/gla.toml
OUT="$BUILD_DIR/demo"
mkdir -p "$OUT"
echo "== linacc $SPEC --explain"
"$BIN/linacc" "$SPEC" --explain
echo
echo "== linacc $SPEC -o $OUT/gla.o --header $OUT/gla.h"
"$BIN/linacc" "$SPEC" -o "$OUT/gla.o" --header "$OUT/gla.h"
ls -l "$OUT/gla.o" "$OUT/gla.h"
echo
echo "== linac-run $SPEC: prefill B=1 T=4096, checked against the float64 oracle"
"$BIN/linac-run" "$SPEC" --shape=B=1,T=4096 --check --bench --threads=2
echo
echo "== linac-run $SPEC: decode B=64, one step (state updated in place)"
"$BIN/linac-run" "$SPEC" --mode=decode --shape=B=64,T=1 --check --bench \
  --threads=2
