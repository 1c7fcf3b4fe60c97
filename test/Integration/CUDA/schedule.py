#!/usr/bin/env python3
"""The GPU schedule of every variant, planned against what the kernels use.

linac-select picks a CUDA schedule (chunk, value tile) from its estimate of
a task's shared memory (passes/GpuSchedule.cpp, which mirrors the tiles
linac-chunk allocates for each structure and the scratch of
linac-lower-chunk-gpu). For every variant at K = V = 128 and K = V = 64, on
sm_90a and sm_80, prefill and decode, this compares the estimate (`linacc
--explain`) with the dynamic shared memory of the lowered kernel (the
manifest's launch record) and with the chip's limit, and prints the
schedule (with its pipeline stages: 2 when the next chunk's TMA copies
run during this chunk). A MISMATCH means the estimate and the lowering disagree: the
schedule may then be refused at compile time or smaller than it could be.

Usage: schedule.py --linacc PATH --work DIR
"""

import argparse
import os
import re
import subprocess
import sys

VARIANTS = ["linear_attn", "retention", "lightning", "simple_gla", "gla",
            "delta_rule", "gated_delta_rule", "kda", "rwkv6", "dplr"]
LIMITS = {"sm_90a": 227 * 1024, "sm_80": 163 * 1024}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--linacc", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    examples = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                            "examples")
    count = failures = 0
    for size in [128, 64]:
        for variant in VARIANTS:
            with open(os.path.join(examples, f"{variant}.toml")) as f:
                text = f.read()
            text = text.replace("head_dim_k = 128", f"head_dim_k = {size}")
            text = text.replace("head_dim_v = 128", f"head_dim_v = {size}")
            spec = os.path.join(args.work, f"{variant}_{size}.toml")
            with open(spec, "w") as f:
                f.write(text)
            for chip in ["sm_90a", "sm_80"]:
                target = f"--target=cuda:{chip}"
                explain = subprocess.run([args.linacc, spec, target, "--explain"],
                                         capture_output=True, text=True)
                manifest = subprocess.run([args.linacc, spec, target, "--emit=manifest"],
                                          capture_output=True, text=True)
                if explain.returncode or manifest.returncode:
                    failures += 1
                    print(f"FAIL K={size} {variant} {chip}: "
                          f"{(explain.stderr + manifest.stderr).strip()}")
                    continue
                planned = re.findall(
                    r"^(\S+):\n(?:  .*\n)*?  chunk size: +(\d+)\n(?:  .*\n)*?"
                    r"  gpu: +value tile (\d+), \d+ warps per block, (\d+) pipeline "
                    r"stage\(s\), (\d+) bytes of shared memory",
                    explain.stdout, re.M)
                launched = dict(re.findall(r"kernel (\S+)\n(?:.*\n)*?launch \d+ (\d+)",
                                           manifest.stdout))
                for kernel, chunk, tile, stages, bytes_ in planned:
                    count += 1
                    mode = kernel.rsplit("_", 1)[1]
                    used = int(launched.get(kernel, -1))
                    row = (f"K={size} {variant} {chip} {mode} chunk {chunk} tile {tile} "
                           f"stages {stages} planned {bytes_} used {used}")
                    if used != int(bytes_) or used > LIMITS[chip]:
                        failures += 1
                        print(f"MISMATCH {row} (limit {LIMITS[chip]})")
                    else:
                        print(f"ok {row}")
    print(f"{count - failures} of {count} kernels use the shared memory planned")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
