#!/usr/bin/env python3
"""Correctness grid of the CUDA kernels, emulated on the CPU or on a GPU.

Every case is one `linac-run SPEC --target=cuda:CHIP --check`: linac-run
compiles the spec through linac_compile (cached), stages the tensors as for
a GPU (copies in, outputs poisoned), launches, copies o and ht back and
compares them with the float64 oracle at the SEMANTICS.md tolerance.

Without --device no GPU is needed: linac-run gets --cuda-emulate, which
runs the CUDA kernels' own code (linac-gpu-map and linac-lower-chunk-gpu,
tensor-core operands rounded as the GPU rounds them) with the threads of a
block serialized between barriers, on buffers standing in for device
memory. What this does not cover is the register layout of mma.sync and
anything only hardware does (timing, the memory model); see docs/cuda.md.

With --device the same grid is compiled to cubins for the chip of device 0
(sm_90a for compute capability 9.0, sm_80 for 8.x) and run on it.

A GPU machine without linac's compiler (no LLVM/MLIR 22; linac-run then
needs --artifact) runs the grid in two steps: --prepare DIR --linacc PATH
--chip CHIP, where linac builds, writes every spec and its cubins for CHIP
into DIR; --device --artifacts DIR runs them there (bench/run_gpu.sh
prepare and grid do both). --memcheck runs each case under
compute-sanitizer's memcheck (given its path).

--cases picks the diagonal-decay variants' cases (emulation.test), those
of the delta rule, rwkv6 and dplr (emulation-rank-one.test), or all of them
(the default; gpu.test).

Usage: emulation.py --linac-run PATH --work DIR [--device]
                    [--cases=all|diagonal|rank-one]
                    [--artifacts DIR] [--memcheck COMPUTE_SANITIZER]
       emulation.py --prepare DIR --linacc PATH [--chip sm_90a|sm_80]
Prints one line per case and exits 1 if any case fails.
"""

import argparse
import ctypes
import os
import subprocess
import sys

VARIANTS = ["linear_attn", "retention", "lightning", "simple_gla", "gla"]
# The delta-rule family (WY/UT form, chunk_delta_solve), RWKV-6 (shifted
# tiles, chunk_bonus) and dplr (chunk_dplr_solve, the pair state update).
RANK_ONE = ["delta_rule", "gated_delta_rule", "kda", "rwkv6", "dplr"]
DELTA = ["delta_rule", "gated_delta_rule", "kda"]


def write_spec(work, name, variant, K, V, H, HV=None, dtype="f32", extra=""):
    lines = [
        "[attention]",
        f'variant = "{variant}"',
        f"head_dim_k = {K}",
        f"head_dim_v = {V}",
        f"num_heads = {H}",
        f'dtype = "{dtype}"',
    ]
    if HV is not None:
        lines.append(f"num_value_heads = {HV}")
    if variant == "lightning":
        heads = HV if HV is not None else H
        lambdas = ", ".join(str(1.0 - 0.2 * (h + 1) / (heads + 1)) for h in range(heads))
        lines.append(f"decay = [{lambdas}]")
    if extra:
        lines.append(extra)
    path = os.path.join(work, name + ".toml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def run_flags(mode, check_args):
    """linac-run's flags for a case's KEY=VALUE arguments: B, T, N (varlen:
    that many sequences), H, HV (sizes; T defaults to 100 for prefill and 3
    for decode), h0=0 (prefill without an initial state), seed, strided=1
    (q, k, v, g and o with 3 elements of padding in every outer stride, so
    16-bit rows are only 2-byte aligned), gates=1 (log gates of 0, -80 and
    -inf at chosen tokens), beta=N (the delta rule's write strength for
    every token), P (a state pool's slots), pad=N (padding rows of a
    pool)."""
    keys = dict(arg.split("=", 1) for arg in check_args)
    dims = {"B": keys.pop("B", "1"), "T": keys.pop("T", "3" if mode == "decode" else "100")}
    for dim in ["N", "H", "HV", "P"]:
        if dim in keys:
            dims[dim] = keys.pop(dim)
    flags = ["--shape=" + ",".join(f"{k}={v}" for k, v in dims.items())]
    if keys.pop("h0", "1") == "0":
        flags.append("--no-h0")
    if "seed" in keys:
        flags.append("--seed=" + keys.pop("seed"))
    if keys.pop("strided", "0") == "1":
        flags += ["--strided", "--stride-pad=3"]
    if keys.pop("gates", "0") == "1":
        flags.append("--gates=extreme")
    if "beta" in keys:
        flags.append("--beta=" + keys.pop("beta"))
    if "pad" in keys:
        flags.append("--pad=" + keys.pop("pad"))
    if keys:
        raise ValueError(f"unknown case keys {sorted(keys)}")
    return flags


def device_chip():
    """The linac target of device 0, or None."""
    try:
        driver = ctypes.CDLL(os.environ.get("LINAC_LIBCUDA") or "libcuda.so.1")
        major, minor = ctypes.c_int(0), ctypes.c_int(0)
        if (driver.cuInit(0) != 0
                or driver.cuDeviceGetAttribute(ctypes.byref(major), 75, 0) != 0
                or driver.cuDeviceGetAttribute(ctypes.byref(minor), 76, 0) != 0):
            return None
    except OSError:
        return None
    if major.value == 9 and minor.value == 0:
        return "sm_90a"
    if major.value == 8:
        return "sm_80"
    return None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--linac-run")
    parser.add_argument("--work")
    parser.add_argument("--device", action="store_true")
    parser.add_argument("--prepare", help="write the specs and their cubins here")
    parser.add_argument("--linacc", help="linacc, for --prepare")
    parser.add_argument("--chip", default="sm_90a", choices=["sm_90a", "sm_80"],
                        help="the cubins' chip, for --prepare")
    parser.add_argument("--artifacts", help="run --prepare's cubins (with --device)")
    parser.add_argument("--memcheck", help="compute-sanitizer: run each case under "
                                           "its memcheck")
    parser.add_argument("--cases", choices=["all", "diagonal", "rank-one"],
                        default="all",
                        help="the diagonal-decay variants' cases, those of the "
                             "delta rule, rwkv6 and dplr, or both")
    args = parser.parse_args()
    if args.prepare:
        if not args.linacc:
            parser.error("--prepare needs --linacc")
    elif not args.linac_run or not args.work:
        parser.error("--linac-run and --work are required")
    if args.artifacts and not args.device:
        parser.error("--artifacts holds cubins: it needs --device")
    chip_override = None
    if args.prepare:
        chip_override = args.chip
    elif args.device:
        chip_override = device_chip()
        if chip_override is None:
            print("FAIL no sm_90a (9.0) or sm_80 (8.x) device to run on")
            return 1

    # (spec name, spec arguments, chip, [(mode, check arguments)...])
    specs = []
    standard = [("prefill", ["T=100"]), ("prefill", ["T=1", "h0=0"]),
                ("decode", ["B=2", "T=3"])]
    for variant in VARIANTS:
        for dtype in ["f32", "bf16"]:
            specs.append((f"{variant}_{dtype}", dict(variant=variant, K=64, V=64, H=2,
                                                       dtype=dtype), "sm_90a", standard))
    # Gates of 0, -80 and -inf (hard resets) must give finite, exact
    # results; non-contiguous views (padded rows) must be read and written
    # through their strides.
    specs.append(("gla_extremes", dict(variant="gla", K=32, V=32, H=2, dtype="bf16"),
                  "sm_90a", [("prefill", ["T=150", "gates=1"]),
                             ("prefill", ["T=150", "gates=1", "strided=1"]),
                             ("decode", ["B=2", "T=3", "gates=1", "strided=1"])]))
    specs.append(("simple_gla_extremes", dict(variant="simple_gla", K=32, V=32, H=2),
                  "sm_80", [("prefill", ["T=150", "gates=1"]),
                            ("decode", ["B=1", "T=4", "gates=1"])]))
    specs.append(("linear_attn_strided", dict(variant="linear_attn", K=32, V=48, H=2, HV=4),
                  "sm_90a", [("prefill", ["T=90", "strided=1"]),
                             ("decode", ["B=2", "T=2", "strided=1"])]))
    # f16 takes the nvgpu.mma.sync path; GVA; odd lengths across chunks.
    specs.append(("gla_f16", dict(variant="gla", K=64, V=64, H=2, dtype="f16"), "sm_90a",
                  [("prefill", ["T=65"]), ("decode", ["B=1", "T=2"])]))
    specs.append(("simple_gla_gva", dict(variant="simple_gla", K=32, V=32, H=2, HV=4,
                                         dtype="bf16"), "sm_80",
                  [("prefill", ["T=97"]), ("decode", ["B=3", "T=1"])]))
    # Varlen: uneven sequences packed along T, per-sequence states.
    specs.append(("gla_varlen", dict(variant="gla", K=32, V=64, H=2, dtype="bf16",
                                     extra="varlen = true"), "sm_90a",
                  [("prefill", ["T=130", "N=3"]), ("prefill", ["T=40", "N=4", "h0=0"])]))
    specs.append(("linear_attn_varlen", dict(variant="linear_attn", K=32, V=32, H=1,
                                             extra="varlen = true"), "sm_80",
                  [("prefill", ["T=77", "N=2"])]))
    # Feature maps (l2norm needs the row sums, the others are elementwise).
    for fmap in ["l2norm", "elu_plus_one", "silu", "relu"]:
        specs.append((f"gla_{fmap}", dict(variant="gla", K=32, V=32, H=2, dtype="bf16",
                                          extra=f'feature_map = "{fmap}"'), "sm_90a",
                      [("prefill", ["T=50"])]))
    # Head sizes that are not whole MMA fragments (CUDA-core fallback), and
    # the largest heads, whose schedule differs per chip (C = 16; value tile
    # 64 on sm_90a, 32 on sm_80).
    specs.append(("gla_k24", dict(variant="gla", K=24, V=40, H=1, dtype="bf16"), "sm_90a",
                  [("prefill", ["T=70"]), ("decode", ["B=1", "T=2"])]))
    for chip in ["sm_90a", "sm_80"]:
        specs.append((f"gla_k256_{chip}", dict(variant="gla", K=256, V=256, H=1,
                                               dtype="bf16"), chip,
                      [("prefill", ["T=40"])]))
    specs.append(("retention_f32_sm80", dict(variant="retention", K=64, V=128, H=2), "sm_80",
                  [("prefill", ["T=129"]), ("decode", ["B=2", "T=2"])]))
    # normalize = "sum": a second value side of ones (z), then a division.
    for variant, chip in [("linear_attn", "sm_80"), ("gla", "sm_90a")]:
        specs.append((f"{variant}_normalize", dict(
            variant=variant, K=64, V=64, H=2, dtype="bf16",
            extra='feature_map = "elu_plus_one"\nnormalize = "sum"'), chip,
            [("prefill", ["T=100"]), ("decode", ["B=2", "T=3"])]))
    # taylor2 (Based): K' = 1 + K + K^2 = 273 state rows, no padding on a
    # GPU (CUDA cores for the ragged fragments); with the normalizer too.
    specs.append(("based", dict(variant="linear_attn", K=16, V=32, H=2, dtype="bf16",
                                extra='feature_map = "taylor2"\nnormalize = "sum"'),
                  "sm_90a", [("prefill", ["T=70"]), ("decode", ["B=2", "T=2"])]))
    specs.append(("gla_taylor2", dict(variant="gla", K=8, V=32, H=2,
                                      extra='feature_map = "taylor2"'), "sm_80",
                  [("prefill", ["T=70"]), ("decode", ["B=1", "T=2"])]))
    # layout = "bhtd": head-major activations, which the runtime passes the
    # kernel in [B, T, H, D] order (sizes and strides swapped); on sm_90a
    # through TMA maps with those strides, strided views by thread loads.
    specs.append(("gla_bhtd", dict(variant="gla", K=64, V=64, H=2, HV=4, dtype="bf16",
                                   extra='layout = "bhtd"'), "sm_90a",
                  [("prefill", ["B=2", "T=100"]), ("prefill", ["T=70", "strided=1"]),
                   ("decode", ["B=2", "T=3"])]))
    specs.append(("simple_gla_bhtd_varlen", dict(variant="simple_gla", K=32, V=32, H=2,
                                                 extra='layout = "bhtd"\nvarlen = true'),
                  "sm_80", [("prefill", ["T=90", "N=3"])]))
    # A state pool (state_indices): each sequence's slot of h0/ht is read
    # from device memory; out-of-pool indices (padding) are checked in the
    # kernel; the chunk loops keep their TMA and cp.async pipelines.
    for chip in ["sm_90a", "sm_80"]:
        specs.append((f"gla_pool_{chip}", dict(variant="gla", K=64, V=64, H=2,
                                               dtype="bf16",
                                               extra="state_indices = true"), chip,
                      [("prefill", ["B=3", "T=100", "pad=1"]),
                       ("decode", ["B=4", "T=2", "pad=1"])]))
    specs.append(("simple_gla_pool_varlen", dict(variant="simple_gla", K=32, V=32, H=2,
                                                 extra="varlen = true\n"
                                                       "state_indices = true"),
                  "sm_90a", [("prefill", ["T=90", "N=4", "pad=1"])]))
    diagonal = specs
    specs = []

    # The delta rule, rwkv6 and dplr: each variant, f32 and bf16, prefill
    # (odd lengths across chunks, T = 1 without h0) and decode.
    for variant in RANK_ONE:
        for dtype in ["f32", "bf16"]:
            checks = [("prefill", ["T=97"]), ("prefill", ["T=1", "h0=0"]),
                      ("decode", ["B=2", "T=3"])]
            if variant in DELTA:
                # Write strengths of 0 (no write), 1 (replace) and 2 (the
                # reflection I - 2kkᵀ for unit keys, which keeps every
                # rounding error: the case that needs the f32 products
                # around the solve).
                for beta in ["0", "1", "2"]:
                    checks += [("prefill", ["T=150", f"beta={beta}"]),
                               ("decode", ["B=1", "T=4", f"beta={beta}"])]
            if variant == "delta_rule":
                checks.append(("prefill", ["T=600", "beta=2"]))
            if variant != "delta_rule":
                # Log gates of 0, -80 and -inf (hard resets).
                checks += [("prefill", ["T=150", "gates=1"]),
                           ("decode", ["B=1", "T=3", "gates=1"])]
            specs.append((f"{variant}_{dtype}", dict(variant=variant, K=64, V=64, H=2,
                                                     dtype=dtype), "sm_90a", checks))
    # GVA, strided views, varlen (per-sequence carries for rwkv6's shifted
    # tiles), the other chip's schedule.
    for variant in ["gated_delta_rule", "rwkv6", "dplr"]:
        specs.append((f"{variant}_gva", dict(variant=variant, K=32, V=32, H=2, HV=4,
                                             dtype="bf16"), "sm_80",
                      [("prefill", ["T=97"]), ("prefill", ["T=70", "strided=1"]),
                       ("decode", ["B=3", "T=2", "strided=1"])]))
    for variant in ["kda", "rwkv6", "dplr"]:
        specs.append((f"{variant}_varlen", dict(variant=variant, K=32, V=64, H=2,
                                                dtype="bf16", extra="varlen = true"),
                      "sm_80", [("prefill", ["T=130", "N=3"]),
                                ("prefill", ["T=40", "N=4", "h0=0"])]))
    # l2norm keys (as the examples and Qwen3-Next use them) and f16.
    specs.append(("gated_delta_rule_l2norm", dict(variant="gated_delta_rule", K=64, V=64,
                                                  H=2, dtype="bf16",
                                                  extra='feature_map = "l2norm"'),
                  "sm_80", [("prefill", ["T=100"]), ("decode", ["B=1", "T=2"])]))
    specs.append(("kda_f16", dict(variant="kda", K=64, V=64, H=2, dtype="f16"), "sm_90a",
                  [("prefill", ["T=65"]), ("decode", ["B=1", "T=2"])]))
    # Not whole MMA fragments (CUDA cores; a solve over 40 columns).
    specs.append(("delta_rule_k24", dict(variant="delta_rule", K=24, V=40, H=1,
                                         dtype="bf16"), "sm_90a",
                  [("prefill", ["T=70"]), ("decode", ["B=1", "T=2"])]))
    # K = V = 128: the schedules of the examples, which differ per chip and
    # variant (C = 16 .. 64, value tiles of 32 or 64).
    for variant, chip in [("gated_delta_rule", "sm_80"), ("kda", "sm_80"),
                          ("rwkv6", "sm_90a"), ("dplr", "sm_80"), ("dplr", "sm_90a")]:
        specs.append((f"{variant}_k128_{chip}", dict(variant=variant, K=128, V=128, H=1,
                                                     dtype="bf16"), chip,
                      [("prefill", ["T=70"]), ("decode", ["B=1", "T=2"])]))
    for variant in ["rwkv6", "dplr"]:
        specs.append((f"{variant}_normalize", dict(
            variant=variant, K=32, V=32, H=2, HV=4,
            extra='feature_map = "elu_plus_one"\nnormalize = "sum"'), "sm_90a",
            [("prefill", ["T=100"]), ("decode", ["B=2", "T=3"])]))
    specs.append(("gated_delta_rule_bhtd", dict(variant="gated_delta_rule", K=64, V=64,
                                                H=2, HV=4, dtype="bf16",
                                                extra='layout = "bhtd"'), "sm_90a",
                  [("prefill", ["B=2", "T=97"]), ("decode", ["B=2", "T=2"])]))
    for variant, chip in [("gated_delta_rule", "sm_90a"), ("kda", "sm_80"),
                          ("rwkv6", "sm_90a"), ("dplr", "sm_80")]:
        specs.append((f"{variant}_pool", dict(variant=variant, K=32, V=32, H=2, HV=4,
                                              dtype="bf16",
                                              extra="state_indices = true"), chip,
                      [("prefill", ["B=3", "T=70", "pad=1"]),
                       ("decode", ["B=3", "T=2", "pad=1", "P=3"])]))
    rank_one = specs
    specs = {"all": diagonal + rank_one, "diagonal": diagonal,
             "rank-one": rank_one}[args.cases]

    if args.prepare:
        return prepare(args, specs)
    os.makedirs(args.work, exist_ok=True)
    cases = passed = 0
    for name, spec_args, chip, checks in specs:
        chip = chip_override or chip
        if args.artifacts:
            spec = os.path.join(args.artifacts, name + ".toml")
            given = [f"--artifact={os.path.join(args.artifacts, f'{name}_{chip}.so')}"]
        else:
            spec = write_spec(args.work, name, **spec_args)
            given = []
        emulate = [] if args.device else ["--cuda-emulate"]
        sanitizer = ([args.memcheck, "--tool", "memcheck", "--leak-check", "full",
                      "--error-exitcode", "3"] if args.memcheck else [])
        for mode, check_args in checks:
            cases += 1
            # One thread, as the lit suite runs tests side by side.
            command = (sanitizer + [args.linac_run, spec, f"--target=cuda:{chip}"] +
                       emulate + given + [f"--mode={mode}", "--check", "--threads=1"] +
                       run_flags(mode, check_args))
            run = subprocess.run(command, capture_output=True, text=True)
            label = f"{name} {chip} {mode} {' '.join(check_args)}"
            if run.returncode == 0:
                passed += 1
                print(f"ok   {label}")
            else:
                print(f"FAIL {label}: {(run.stdout + run.stderr).strip()}")
    print(f"{passed} of {cases} cases passed")
    return 0 if passed == cases else 1


def prepare(args, specs):
    """Every spec of the grid and its cubins for args.chip in args.prepare,
    for a GPU machine where linac cannot compile."""
    os.makedirs(args.prepare, exist_ok=True)
    for name, spec_args, _, _ in specs:
        spec = write_spec(args.prepare, name, **spec_args)
        artifact = os.path.join(args.prepare, f"{name}_{args.chip}.so")
        build = subprocess.run([args.linacc, spec, f"--target=cuda:{args.chip}", "-o",
                                artifact], capture_output=True, text=True)
        if build.returncode != 0:
            print(f"FAIL {name}: linacc: {build.stderr.strip()}")
            return 1
    print(f"prepared {len(specs)} specs for {args.chip} in {args.prepare}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
