#!/usr/bin/env python3
"""ptxas resource use of every CUDA kernel, against a committed record.

For each variant (the examples/ specs at K = V = 128, 16 heads), f32 and
bf16, sm_80 and sm_90a, prefill and decode: linacc writes
the PTX, `ptxas -v` assembles it, and this script collects registers per
thread, spill stores and loads, stack frame, and the dynamic shared memory
of the launch record. Any spill fails. With --update the table is written
to the record (ptxas-resources.txt); otherwise it is compared with it, so a
change in register use or shared memory shows up as a failing test whose
output says what moved. Registers depend on the ptxas version, so when the
record comes from another ptxas only the spill rule is enforced.
--variants measures some variants only (two lit tests share the record,
so that they run in parallel); --update then rewrites only their rows.

Usage: resources.py --linacc PATH --ptxas PATH --record FILE [--update]
                    [--variants=a,b,...]
"""

import argparse
import os
import re
import subprocess
import sys
import tempfile

VARIANTS = ["linear_attn", "retention", "lightning", "simple_gla", "gla",
            "delta_rule", "gated_delta_rule", "kda", "rwkv6", "dplr"]
FIELDS = ["registers", "spill_stores", "spill_loads", "stack", "shared"]


def ptxas_version(ptxas):
    out = subprocess.run([ptxas, "--version"], capture_output=True, text=True).stdout
    match = re.search(r"release [0-9.]+, V([0-9.]+)", out)
    return match.group(1) if match else "unknown"


def measure(args, examples, work, variants):
    rows = {}
    for variant in variants:
        with open(os.path.join(examples, f"{variant}.toml")) as f:
            spec_text = f.read()
        for dtype in ["f32", "bf16"]:
            spec = os.path.join(work, f"{variant}_{dtype}.toml")
            with open(spec, "w") as f:
                f.write(spec_text.replace('dtype = "f32"', f'dtype = "{dtype}"'))
            for chip in ["sm_80", "sm_90a"]:
                manifest = subprocess.run(
                    [args.linacc, spec, f"--target=cuda:{chip}", "--emit=manifest"],
                    capture_output=True, text=True, check=True).stdout
                shared = {}
                for kernel, size in re.findall(r"kernel (\S+)\n(?:.*\n)*?launch \d+ (\d+)",
                                               manifest):
                    shared[kernel] = int(size)
                for mode in ["prefill", "decode"]:
                    kernel = f"{variant}_{dtype}_{mode}"
                    ptx = os.path.join(work, f"{kernel}_{chip}.ptx")
                    subprocess.run([args.linacc, spec, f"--target=cuda:{chip}",
                                    "--emit=ptx", f"--kernel={kernel}", "-o", ptx],
                                   check=True)
                    info = subprocess.run(
                        [args.ptxas, f"-arch={chip}", "-O3", "-v", ptx, "-o", os.devnull],
                        capture_output=True, text=True, check=True).stderr
                    used = re.search(r"Used (\d+) registers", info)
                    spill = re.search(r"(\d+) bytes stack frame, (\d+) bytes spill stores, "
                                      r"(\d+) bytes spill loads", info)
                    rows[(variant, dtype, chip, mode)] = {
                        "registers": int(used.group(1)),
                        "stack": int(spill.group(1)),
                        "spill_stores": int(spill.group(2)),
                        "spill_loads": int(spill.group(3)),
                        "shared": shared[kernel],
                    }
    return rows


def format_row(key, values):
    return " ".join(key) + " " + " ".join(f"{f}={values[f]}" for f in FIELDS)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--linacc", required=True)
    parser.add_argument("--ptxas", required=True)
    parser.add_argument("--record", required=True)
    parser.add_argument("--update", action="store_true")
    parser.add_argument("--variants", default=",".join(VARIANTS))
    args = parser.parse_args()
    variants = args.variants.split(",")
    unknown = [v for v in variants if v not in VARIANTS]
    if unknown:
        parser.error(f"unknown variants {unknown}")
    examples = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..",
                            "examples")
    version = ptxas_version(args.ptxas)
    with tempfile.TemporaryDirectory() as work:
        rows = measure(args, examples, work, variants)

    failures = 0
    for key, values in rows.items():
        if values["spill_stores"] or values["spill_loads"]:
            print(f"SPILL {format_row(key, values)}")
            failures += 1

    recorded = {}
    recorded_version = None
    if os.path.exists(args.record):
        with open(args.record) as f:
            for line in f:
                if line.startswith("#") or not line.strip():
                    continue
                parts = line.split()
                if parts[0] == "ptxas":
                    recorded_version = parts[1]
                    continue
                recorded[tuple(parts[:4])] = {k: int(v) for k, v in
                                              (p.split("=") for p in parts[4:])}

    if args.update:
        if recorded_version not in (None, version):
            # Registers of another ptxas cannot share one record.
            recorded = {}
        recorded.update(rows)
        order = {v: i for i, v in enumerate(VARIANTS)}
        keys = sorted(recorded, key=lambda k: (order.get(k[0], len(order)),
                                               ["f32", "bf16"].index(k[1]),
                                               ["sm_80", "sm_90a"].index(k[2]),
                                               ["prefill", "decode"].index(k[3])))
        with open(args.record, "w") as f:
            f.write("# ptxas -v resource use of every CUDA kernel (examples/ specs, K = V = 128,\n"
                    "# 16 heads; dtype replaced), written by resources.py --update.\n"
                    "# variant dtype chip mode registers spill_stores spill_loads stack "
                    "shared(dynamic bytes)\n")
            f.write(f"ptxas {version}\n")
            for key in keys:
                f.write(format_row(key, recorded[key]) + "\n")
        print(f"wrote {len(rows)} kernels to {args.record}")
        return 1 if failures else 0

    same_ptxas = recorded_version == version
    if not same_ptxas:
        print(f"note: record from ptxas {recorded_version}, this is {version}: "
              "only spills and shared memory are compared")
    for key, values in rows.items():
        want = recorded.get(key)
        if want is None:
            print(f"MISSING from the record: {format_row(key, values)}")
            failures += 1
            continue
        fields = FIELDS if same_ptxas else ["shared", "spill_stores", "spill_loads"]
        moved = [f"{f} {want[f]} -> {values[f]}" for f in fields if want[f] != values[f]]
        if moved:
            print(f"MISMATCH {' '.join(key)}: {', '.join(moved)} "
                  "(intended? rerun with --update)")
            failures += 1
        else:
            print(f"ok {format_row(key, values)}")
    print(f"{len(rows) - failures} of {len(rows)} kernels match the record")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
