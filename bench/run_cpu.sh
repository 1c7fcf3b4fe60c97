#!/usr/bin/env bash
# CPU benchmark grid: linac-run --bench --json per case, one JSON object per
# line in bench/results/cpu-<machine>.jsonl (machine = CPU model, cores).
# Usage: bench/run_cpu.sh [BUILD_DIR]   (default: build)
#
# Reference shape (issue 3): B=1, H=HV=16, K=V=128, T=4096, f32, 2 threads;
# batched decode B=64 one step. Timings are medians over >= 10 runs and 1 s.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
run=$build/bin/linac-run
model=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //; s/ \+/ /g')
cores=$(nproc)
slug=$(echo "$model" | tr -c 'A-Za-z0-9\n' '-' | tr -s '-' | sed 's/-$//')
out=$root/bench/results/cpu-${slug}-${cores}c.jsonl
: > "$out"
echo "# $model, $cores cores, $(date -u +%Y-%m-%d)" >&2
case_() {
  local spec=$1; shift
  "$run" "$root/examples/$spec.toml" --bench --json --threads=2 "$@" | tee -a "$out"
}
for spec in gla simple_gla retention lightning linear_attn; do
  case_ "$spec" --shape=B=1,T=4096
done
# The delta-rule family, dplr and rwkv6 (issue 5; gated_delta_rule: 80 ms).
for spec in gated_delta_rule kda delta_rule dplr rwkv6; do
  case_ "$spec" --shape=B=1,T=4096
done
"$run" "$root/examples/gla.toml" --bench --json --threads=1 --shape=B=1,T=4096 | tee -a "$out"
case_ gla --shape=B=4,T=1024
for spec in gla simple_gla linear_attn gated_delta_rule; do
  case_ "$spec" --mode=decode --shape=B=64,T=1
done
# Decode from a state pool (Qwen3-Next's shapes, bf16, 64 of 129 slots).
case_ serving/gated_delta_rule_pool --mode=decode --shape=B=64,T=1
echo "wrote $out" >&2
