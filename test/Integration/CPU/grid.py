#!/usr/bin/env python3
"""Correctness grid of the CPU backend against the float64 oracle.

Every case compiles a spec with linac-run (the same pipeline as linacc, with
its artifact cache), runs the kernel and lets linac-run compare each output
with the oracle at the SEMANTICS.md tolerance (--check). Two families of
cases need inputs that the random generator does not draw, and are built
here from linac-oracle's .npy files:

- gate extremes: g = 0, -80 and -inf at chosen tokens (hard resets);
- decode continuation: prefill(T) == prefill(T - n) then n decode steps.

Usage: grid.py --linac-run PATH --linac-oracle PATH --work DIR [--quick]
Prints one line per case and exits 1 if any case fails.
"""

import argparse
import ast
import json
import math
import os
import struct
import subprocess
import sys

DIAGONAL = ["linear_attn", "retention", "lightning", "simple_gla", "gla"]
DELTA = ["delta_rule", "gated_delta_rule", "kda"]
# RWKV-6: diagonal decay, output from the state before the update plus a
# bonus u.
# dplr (RWKV-7): diagonal decay plus b_t (a_tᵀ S_{t-1}).
VARIANTS = DIAGONAL + DELTA + ["rwkv6", "dplr"]


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
        # One lambda per value head, spread over (0.8, 1).
        heads = HV if HV is not None else H
        lambdas = ", ".join(str(1.0 - 0.2 * (h + 1) / (heads + 1)) for h in range(heads))
        lines.append(f"decay = [{lambdas}]")
    if extra:
        lines.append(extra)
    path = os.path.join(work, name + ".toml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


# --- .npy without numpy -----------------------------------------------------


def npy_load(path):
    with open(path, "rb") as f:
        data = f.read()
    header_len = struct.unpack("<H", data[8:10])[0]
    header = ast.literal_eval(data[10 : 10 + header_len].decode("latin1"))
    descr = header["descr"]
    return descr, list(header["shape"]), data[10 + header_len :]


def npy_save(path, descr, shape, body):
    header = "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }" % (
        descr,
        "".join(f"{d}, " for d in shape),
    )
    pad = 64 - (10 + len(header) + 1) % 64
    header = header + " " * pad + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode("latin1") + body)


def floats(descr, body):
    assert descr == "<f4", descr
    return struct.unpack("<%df" % (len(body) // 4), body)


def rel_rms(x, ref):
    num = sum((a - b) ** 2 for a, b in zip(x, ref))
    den = sum(b * b for b in ref)
    return math.sqrt(num / den) if den else (0.0 if num == 0 else math.inf)


# --- running cases ----------------------------------------------------------


class Grid:
    def __init__(self, args):
        self.args = args
        self.failures = []
        self.count = 0

    def run(self, label, spec, *flags):
        cmd = [self.args.linac_run, spec, "--check", "--json"] + list(flags)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        self.count += 1
        summary = proc.stderr.strip().splitlines()[-1:] if proc.returncode else []
        try:
            result = json.loads(proc.stdout.strip().splitlines()[-1])
            check = result["check"]
            errors = " ".join(f"{k}={v['rel_rms']:.2e}" for k, v in check.items())
            ok = proc.returncode == 0 and all(v["pass"] for v in check.values())
        except (IndexError, KeyError, ValueError):
            errors, ok = " ".join(summary) or proc.stdout.strip(), False
        print(f"{'PASS' if ok else 'FAIL'} {label}: {errors}")
        if not ok:
            self.failures.append(label)
            print("  command: " + " ".join(cmd))
        return ok

    def oracle(self, spec, out, T, B=1, seed=3):
        subprocess.run(
            [self.args.linac_oracle, f"--spec={spec}", f"--B={B}", f"--T={T}",
             "--h0", f"--seed={seed}", f"--out={out}"],
            check=True, capture_output=True)


def gate_extremes(grid, work, variant):
    """g = 0, -80 and -inf at chosen tokens; finite, exact outputs."""
    spec = write_spec(work, f"extreme_{variant}", variant, 64, 64, 2)
    inputs = os.path.join(work, f"extreme_{variant}_in")
    T = 150
    grid.oracle(spec, inputs, T)
    descr, shape, body = npy_load(os.path.join(inputs, "g.npy"))
    values = list(floats(descr, body))
    per_token = len(values) // T
    for t in range(T):
        row = slice(t * per_token, (t + 1) * per_token)
        if t in (5, 70, 71):
            values[row] = [-math.inf] * per_token  # hard reset
        elif t in (9, 100):
            values[row] = [-80.0] * per_token
        elif 20 <= t < 40 or t >= 140:
            values[row] = [0.0] * per_token  # no decay
        elif t % 7 == 0:
            # Mixed within a row: some keys reset, some untouched.
            values[row] = [(-math.inf if i % 3 == 0 else 0.0) for i in range(per_token)]
    npy_save(os.path.join(inputs, "g.npy"), descr, shape,
             struct.pack("<%df" % len(values), *values))
    grid.run(f"{variant} gates 0/-80/-inf", spec, f"--inputs={inputs}",
             f"--shape=B=1,T={T}")


def split_tokens(src, dst, first, count):
    """Copies tokens [first, first + count) of every [1, T, ...] input."""
    os.makedirs(dst, exist_ok=True)
    for name in ("q", "k", "v", "g", "beta", "a", "b"):
        path = os.path.join(src, name + ".npy")
        if not os.path.exists(path):
            continue
        descr, shape, body = npy_load(path)
        row = len(body) // shape[1]
        npy_save(os.path.join(dst, name + ".npy"), descr,
                 [1, count] + shape[2:], body[first * row : (first + count) * row])
    # Per-head inputs (rwkv6's bonus u) are not split.
    path = os.path.join(src, "u.npy")
    if os.path.exists(path):
        with open(path, "rb") as f, open(os.path.join(dst, "u.npy"), "wb") as g:
            g.write(f.read())


def decode_continuation(grid, work, variant, T=97, n=3):
    """prefill(T) equals prefill(T - n) followed by n decode steps."""
    spec = write_spec(work, f"cont_{variant}", variant, 64, 64, 2)
    full = os.path.join(work, f"cont_{variant}_full")
    grid.oracle(spec, full, T)
    first = os.path.join(work, f"cont_{variant}_first")
    rest = os.path.join(work, f"cont_{variant}_rest")
    split_tokens(full, first, 0, T - n)
    split_tokens(full, rest, T - n, n)
    descr, shape, body = npy_load(os.path.join(full, "h0.npy"))
    npy_save(os.path.join(first, "h0.npy"), descr, shape, body)
    out1 = os.path.join(work, f"cont_{variant}_out1")
    out2 = os.path.join(work, f"cont_{variant}_out2")
    ok = grid.run(f"{variant} prefill T-{n}", spec, f"--inputs={first}",
                  f"--outputs={out1}", f"--shape=B=1,T={T - n}")
    descr, shape, body = npy_load(os.path.join(out1, "ht.npy"))
    npy_save(os.path.join(rest, "h0.npy"), descr, shape, body)
    ok &= grid.run(f"{variant} then decode {n}", spec, "--mode=decode",
                   f"--inputs={rest}", f"--outputs={out2}",
                   f"--shape=B=1,T={n}")
    if not ok:
        return
    o = floats(*npy_load(os.path.join(out1, "o.npy"))[::2]) + \
        floats(*npy_load(os.path.join(out2, "o.npy"))[::2])
    want_o = floats(*npy_load(os.path.join(full, "o.npy"))[::2])
    ht = floats(*npy_load(os.path.join(out2, "ht.npy"))[::2])
    want_ht = floats(*npy_load(os.path.join(full, "ht.npy"))[::2])
    # The oracle's files are f32 roundings of f64 values: 1e-5 is the
    # chunked tolerance, far above that rounding.
    eo, eh = rel_rms(o, want_o), rel_rms(ht, want_ht)
    ok = eo <= 1e-5 and eh <= 1e-5
    grid.count += 1
    print(f"{'PASS' if ok else 'FAIL'} {variant} prefill(T) == prefill(T-{n}) "
          f"+ decode({n}): o={eo:.2e} ht={eh:.2e}")
    if not ok:
        grid.failures.append(f"{variant} continuation")


def save_floats(path, descr, shape, values):
    npy_save(path, descr, shape, struct.pack("<%df" % len(values), *values))


def delta_cases(grid, work):
    """The delta rule's own cases (issue: beta in {0, 1, 2}, normalised and
    un-normalised keys, kda == gated_delta_rule for gates constant over K,
    long sequences)."""
    T = 150
    for variant in DELTA:
        spec = write_spec(work, f"beta_{variant}", variant, 64, 64, 2)
        base = os.path.join(work, f"beta_{variant}_in")
        grid.oracle(spec, base, T)
        descr, shape, body = npy_load(os.path.join(base, "beta.npy"))
        for beta in (0.0, 1.0, 2.0):
            # beta = 2 gives the transition I - 2kkᵀ (a reflection, eigenvalue
            # -1 for unit keys): the state must neither blow up nor decay.
            inputs = os.path.join(work, f"beta_{variant}_{beta}")
            os.makedirs(inputs, exist_ok=True)
            for name in os.listdir(base):
                with open(os.path.join(base, name), "rb") as f:
                    data = f.read()
                with open(os.path.join(inputs, name), "wb") as f:
                    f.write(data)
            save_floats(os.path.join(inputs, "beta.npy"), descr, shape,
                        [beta] * (len(body) // 4))
            grid.run(f"{variant} beta={beta:g}", spec, f"--inputs={inputs}",
                     f"--shape=B=1,T={T}")
            grid.run(f"{variant} beta={beta:g} decode", spec, "--mode=decode",
                     f"--inputs={inputs}", f"--shape=B=1,T={T}")

        # Keys of norm 1.3: as given (un-normalised; beta |k|^2 < 2 keeps the
        # recurrence stable) and through feature_map = l2norm.
        inputs = os.path.join(work, f"keys_{variant}_in")
        grid.oracle(spec, inputs, T)
        kdescr, kshape, kbody = npy_load(os.path.join(inputs, "k.npy"))
        save_floats(os.path.join(inputs, "k.npy"), kdescr, kshape,
                    [1.3 * x for x in floats(kdescr, kbody)])
        grid.run(f"{variant} un-normalised keys", spec, f"--inputs={inputs}",
                 f"--shape=B=1,T={T}")
        l2 = write_spec(work, f"keys_l2_{variant}", variant, 64, 64, 2,
                        extra='feature_map = "l2norm"')
        grid.run(f"{variant} l2norm keys", l2, f"--inputs={inputs}",
                 f"--shape=B=1,T={T}")

    # kda with g constant across K is gated_delta_rule.
    gated = write_spec(work, "same_gated", "gated_delta_rule", 64, 64, 2)
    kda = write_spec(work, "same_kda", "kda", 64, 64, 2)
    inputs = os.path.join(work, "same_in")
    grid.oracle(gated, inputs, T)
    gdescr, gshape, gbody = npy_load(os.path.join(inputs, "g.npy"))
    kda_inputs = os.path.join(work, "same_kda_in")
    os.makedirs(kda_inputs, exist_ok=True)
    for name in os.listdir(inputs):
        with open(os.path.join(inputs, name), "rb") as f:
            data = f.read()
        with open(os.path.join(kda_inputs, name), "wb") as f:
            f.write(data)
    save_floats(os.path.join(kda_inputs, "g.npy"), gdescr, gshape + [64],
                [x for x in floats(gdescr, gbody) for _ in range(64)])
    outs = []
    for label, spec, where in (("gated_delta_rule", gated, inputs),
                               ("kda", kda, kda_inputs)):
        out = os.path.join(work, f"same_{label}_out")
        grid.run(f"{label} for kda == gated_delta_rule", spec,
                 f"--inputs={where}", f"--outputs={out}", f"--shape=B=1,T={T}")
        outs.append(out)
    for name in ("o", "ht"):
        a = floats(*npy_load(os.path.join(outs[0], name + ".npy"))[::2])
        b = floats(*npy_load(os.path.join(outs[1], name + ".npy"))[::2])
        err = rel_rms(b, a)
        ok = err <= 1e-6
        grid.count += 1
        print(f"{'PASS' if ok else 'FAIL'} kda with g constant over K == "
              f"gated_delta_rule: {name}={err:.2e}")
        if not ok:
            grid.failures.append(f"kda == gated_delta_rule ({name})")

    # Grouped value heads as Qwen3-Next has them (HV = 2H is in the common
    # grid): HV = 4H.
    for variant in DELTA:
        spec = write_spec(work, f"gva4_{variant}", variant, 64, 64, 2, HV=8)
        grid.run(f"{variant} H=2 HV=8", spec, "--shape=B=1,T=100")

    # A long sequence: no drift beyond the tolerance over 16384 tokens.
    spec = write_spec(work, "long_gated_delta_rule", "gated_delta_rule", 64,
                      64, 1)
    grid.run("gated_delta_rule T=16384", spec, "--shape=B=1,T=16384")


def normalize_cases(grid, work):
    """normalize = "sum": z, the state of a column of ones, divides each
    output row. elu_plus_one keeps z . q positive, as linear transformers
    use it; the other variants get it through the same value side."""
    for variant in ("linear_attn", "retention", "lightning", "simple_gla",
                    "gla", "rwkv6", "dplr"):
        spec = write_spec(work, f"normalize_{variant}", variant, 64, 64, 2,
                          HV=4, extra='feature_map = "elu_plus_one"\n'
                                      'normalize = "sum"')
        for T in (1, 63, 130):
            grid.run(f"{variant} normalize T={T}", spec, f"--shape=B=2,T={T}")
        grid.run(f"{variant} normalize decode", spec, "--mode=decode",
                 "--shape=B=2,T=4")
        grid.run(f"{variant} normalize without h0", spec, "--shape=B=1,T=70",
                 "--no-h0")
    spec = write_spec(work, "normalize_eps", "gla", 32, 32, 2,
                      extra='feature_map = "relu"\nnormalize = "sum"\n'
                            'eps = 0.5')
    grid.run("gla normalize eps=0.5 relu", spec, "--shape=B=1,T=100")
    spec = write_spec(work, "normalize_bf16", "gla", 64, 64, 2, dtype="bf16",
                      extra='feature_map = "elu_plus_one"\n'
                            'normalize = "sum"')
    grid.run("gla normalize bf16", spec, "--shape=B=1,T=200")
    spec = write_spec(work, "normalize_varlen", "simple_gla", 64, 64, 2,
                      extra='feature_map = "elu_plus_one"\n'
                            'normalize = "sum"\nvarlen = true\n'
                            '[modes]\ndecode = false')
    grid.run("simple_gla normalize varlen N=3", spec, "--shape=B=1,T=300,N=3")
    for variant in ("linear_attn", "gla"):
        spec = write_spec(work, f"normalize_avx2_{variant}", variant, 64, 64,
                          2, extra='feature_map = "elu_plus_one"\n'
                                   'normalize = "sum"')
        grid.run(f"{variant} normalize AVX2", spec, "--cpu=x86-64-v3",
                 "--shape=B=1,T=90")
        grid.run(f"{variant} normalize AVX2 decode", spec, "--cpu=x86-64-v3",
                 "--mode=decode", "--shape=B=1,T=3")


def taylor2_cases(grid, work):
    """feature_map = "taylor2" (Based): K' = 1 + K + K^2 state rows, which
    the CPU pads to whole vectors (273 -> 288 at K = 16; 73 -> 80 at K = 8
    with K itself less than a vector). Per-key inputs (g, a, b, u) have K'
    columns. The delta rule is left out: its write with the unnormalised
    features (|phi(k)|^2 = 1 + |k|^2 + |k|^4 / 2) has eigenvalues far below
    -1, which the oracle and any kernel agree only on as overflow."""
    for variant, K in (("linear_attn", 16), ("retention", 8),
                       ("simple_gla", 16), ("gla", 8), ("rwkv6", 8),
                       ("dplr", 8)):
        spec = write_spec(work, f"taylor2_{variant}", variant, K, 32, 2,
                          extra='feature_map = "taylor2"')
        for T in (1, 65):
            grid.run(f"{variant} taylor2 K={K} T={T}", spec,
                     f"--shape=B=2,T={T}")
        grid.run(f"{variant} taylor2 K={K} decode", spec, "--mode=decode",
                 "--shape=B=2,T=3")
    # Based as published: linear attention, taylor2, the sum normalizer.
    spec = write_spec(work, "based", "linear_attn", 16, 64, 2, HV=4,
                      extra='feature_map = "taylor2"\nnormalize = "sum"')
    grid.run("based (taylor2 + normalize) T=300", spec, "--shape=B=1,T=300")
    grid.run("based decode", spec, "--mode=decode", "--shape=B=2,T=4")
    grid.run("based without h0", spec, "--shape=B=2,T=40", "--no-h0")
    grid.run("based AVX2", spec, "--cpu=x86-64-v3", "--shape=B=1,T=70")
    spec = write_spec(work, "based_bf16", "linear_attn", 16, 64, 2,
                      dtype="bf16", extra='feature_map = "taylor2"')
    grid.run("linear_attn taylor2 bf16", spec, "--shape=B=1,T=100")


def pool_cases(grid, work):
    """state_indices = true: h0 and ht are a pool of P slots updated in
    place. linac-run gives every sequence a distinct random slot of a pool
    of 2 S + 1 (so most slots are named by nobody and must come back
    unchanged) and --pad=N the last N sequences the padding index -1 (no
    slot read or written, zero outputs)."""
    for variant in VARIANTS:
        spec = write_spec(work, f"pool_{variant}", variant, 32, 32, 2,
                          extra="state_indices = true")
        grid.run(f"{variant} pool decode", spec, "--mode=decode",
                 "--shape=B=5,T=2", "--pad=1")
        grid.run(f"{variant} pool prefill", spec, "--shape=B=3,T=70",
                 "--pad=1")
    for variant in ("gla", "gated_delta_rule"):
        spec = write_spec(work, f"pool_varlen_{variant}", variant, 64, 64, 2,
                          HV=4, dtype="bf16",
                          extra="varlen = true\nstate_indices = true")
        grid.run(f"{variant} pool varlen bf16 N=5", spec,
                 "--shape=B=1,T=300,N=5", "--pad=2")
        grid.run(f"{variant} pool bf16 decode", spec, "--mode=decode",
                 "--shape=B=4,T=1")
    spec = write_spec(work, "pool_full", "kda", 64, 64, 1, HV=2,
                      extra="state_indices = true")
    grid.run("kda pool decode, every slot named", spec, "--mode=decode",
             "--shape=B=6,T=1,P=6")
    grid.run("kda pool decode, all padding", spec, "--mode=decode",
             "--shape=B=3,T=1", "--pad=3")
    spec = write_spec(work, "pool_bhtd", "simple_gla", 64, 64, 2,
                      extra='layout = "bhtd"\nstate_indices = true')
    grid.run("simple_gla pool bhtd decode", spec, "--mode=decode",
             "--shape=B=3,T=3", "--pad=1")
    grid.run("simple_gla pool bhtd strided", spec, "--shape=B=3,T=90",
             "--strided")
    spec = write_spec(work, "pool_taylor2", "linear_attn", 16, 16, 2,
                      extra='feature_map = "taylor2"\nstate_indices = true')
    grid.run("based pool decode", spec, "--mode=decode", "--shape=B=3,T=2",
             "--pad=1")
    grid.run("based pool prefill", spec, "--shape=B=3,T=40", "--pad=1")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--linac-run", required=True)
    parser.add_argument("--linac-oracle", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--quick", action="store_true",
                        help="fewer lengths and head sizes")
    args = parser.parse_args()
    os.makedirs(args.work, exist_ok=True)
    grid = Grid(args)
    work = args.work

    lengths = [1, 2, 63, 64, 65, 1000, 4097]
    for variant in VARIANTS:
        spec = write_spec(work, f"len_{variant}", variant, 64, 64, 2)
        for T in ([1, 65, 1000] if args.quick else lengths):
            grid.run(f"{variant} T={T}", spec, f"--shape=B=2,T={T}")

    dims = [(16, 16), (64, 64), (96, 96), (128, 128), (256, 256), (128, 64),
            (64, 256)]
    for variant in ("gla", "simple_gla", "retention", "rwkv6", "dplr") + tuple(DELTA):
        for K, V in dims[:3] if args.quick else dims:
            spec = write_spec(work, f"dims_{variant}_{K}_{V}", variant, K, V, 2)
            grid.run(f"{variant} K={K} V={V}", spec, "--shape=B=1,T=130")

    for variant in VARIANTS:
        spec = write_spec(work, f"gva_{variant}", variant, 64, 64, 2, HV=4)
        grid.run(f"{variant} H=2 HV=4", spec, "--shape=B=2,T=150")
        spec = write_spec(work, f"gva8_{variant}", variant, 32, 32, 1, HV=8)
        grid.run(f"{variant} H=1 HV=8", spec, "--shape=B=1,T=90")
        spec = write_spec(work, f"plain_{variant}", variant, 64, 64, 2)
        grid.run(f"{variant} without h0", spec, "--shape=B=2,T=150", "--no-h0")
        grid.run(f"{variant} strided", spec, "--shape=B=2,T=150", "--strided")
        for T in (1, 5):
            grid.run(f"{variant} decode T={T}", spec, "--mode=decode",
                     f"--shape=B=3,T={T}")
        spec = write_spec(work, f"varlen_{variant}", variant, 64, 64, 2,
                          extra="varlen = true\n[modes]\ndecode = false")
        grid.run(f"{variant} varlen N=4", spec, "--shape=B=1,T=500,N=4")
        spec = write_spec(work, f"bf16_{variant}", variant, 64, 64, 2,
                          dtype="bf16")
        grid.run(f"{variant} bf16", spec, "--shape=B=1,T=300")
        grid.run(f"{variant} bf16 decode", spec, "--mode=decode",
                 "--shape=B=2,T=3")

    # Feature maps are applied as q and k are loaded (l2norm per row), and
    # a spec without a final state has no ht to write.
    for fmap in ("elu_plus_one", "relu", "silu", "l2norm"):
        spec = write_spec(work, f"fmap_{fmap}", "gla", 96, 48, 2,
                          extra=f'feature_map = "{fmap}"')
        grid.run(f"gla feature_map={fmap}", spec, "--shape=B=1,T=133")
        grid.run(f"gla feature_map={fmap} decode", spec, "--mode=decode",
                 "--shape=B=2,T=2")
    spec = write_spec(work, "no_final_state", "retention", 64, 64, 2,
                      extra="final_state = false")
    grid.run("retention without ht", spec, "--shape=B=1,T=70")
    spec = write_spec(work, "bf16_in_f32_out", "gla", 64, 64, 2,
                      dtype="bf16", extra='output_dtype = "f32"')
    grid.run("gla bf16 in, f32 out", spec, "--shape=B=1,T=70")
    grid.run("gla bf16 in, f32 out decode", spec, "--mode=decode",
             "--shape=B=1,T=2")

    # layout = "bhtd": linac-run stores the activations head-major, the
    # manifest lists [B, H, T, ...] and the ABI swaps the dims back.
    for variant in ("simple_gla", "gla", "gated_delta_rule", "rwkv6", "dplr"):
        spec = write_spec(work, f"bhtd_{variant}", variant, 64, 64, 2, HV=4,
                          extra='layout = "bhtd"')
        grid.run(f"{variant} bhtd", spec, "--shape=B=2,T=130")
        grid.run(f"{variant} bhtd strided", spec, "--shape=B=2,T=70",
                 "--strided")
        grid.run(f"{variant} bhtd decode", spec, "--mode=decode",
                 "--shape=B=2,T=3")

    # One value head: prefill splits V = 128 into two tasks of 64 columns.
    for variant in ("gla", "gated_delta_rule"):
        spec = write_spec(work, f"one_head_{variant}", variant, 128, 128, 1)
        grid.run(f"{variant} one head (two value tiles)", spec,
                 "--shape=B=1,T=200")

    # AVX2 code (8 lanes, 16 registers) from the same pipeline: this machine
    # runs it too, since every x86-64-v3 instruction is in x86-64-v4.
    for variant in ("linear_attn", "retention", "gla"):
        for K, V in ((96, 96), (64, 128)):
            spec = write_spec(work, f"avx2_{variant}_{K}_{V}", variant, K, V, 2)
            grid.run(f"{variant} AVX2 K={K} V={V}", spec, "--cpu=x86-64-v3",
                     "--shape=B=2,T=65")
            grid.run(f"{variant} AVX2 K={K} V={V} decode", spec,
                     "--cpu=x86-64-v3", "--mode=decode", "--shape=B=2,T=3")

    for variant in ("gla", "simple_gla", "gated_delta_rule", "kda", "rwkv6",
                    "dplr"):
        gate_extremes(grid, work, variant)
    for variant in VARIANTS:
        decode_continuation(grid, work, variant)

    delta_cases(grid, work)
    normalize_cases(grid, work)
    taylor2_cases(grid, work)
    pool_cases(grid, work)

    print(f"{grid.count - len(grid.failures)} of {grid.count} cases passed")
    return 1 if grid.failures else 0


if __name__ == "__main__":
    sys.exit(main())
