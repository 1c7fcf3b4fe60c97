#!/usr/bin/env python3
"""GPU benchmark: linac's CUDA kernels beside FLA's Triton kernels.

The shapes are issue 4's (bf16): prefill B=8 T=1024 H=8 K=V=64, B=4 T=4096
H=64 K=V=128 and B=1 T=8192 H=96 K=V=128; decode B=256 H=32 K=V=128, one
token. The variants: gla, simple_gla, retention and the delta family
(delta_rule, gated_delta_rule, kda, rwkv6, dplr), each against FLA's kernel
for the same problem (chunk_* for prefill, fused_recurrent_* for decode;
dplr against chunk_rwkv7 / fused_recurrent_rwkv7).

Two steps, because the GPU machines have a driver, the CUDA toolkit,
PyTorch and Triton, but not the LLVM/MLIR 22 that linac's compiler needs:

  prepare  where linac is built (no GPU needed): one spec per variant and
           head shape, compiled to sm_90a (or --chip) cubins with linacc,
           plus a copy of linac-run (which runs --artifact without any LLVM
           library) in bench/gpu-bundle/.
  grid     on the GPU machine: the CUDA correctness grid of
           test/Integration/CUDA/emulation.py (200 cases, every variant;
           gpu.test's grid) on the cubins prepare compiled, each case
           linac-run --check against the float64 oracle; --memcheck runs
           each under compute-sanitizer's memcheck.
  run      on the GPU machine: per case, linac-run --check on the very
           cubins at a small size (against the float64 oracle), then
           linac-run --bench (a warm-up, CUDA-event timings: median, min,
           first call and tenth), then FLA's kernel on the same shapes in
           this process, timed the same way with torch.cuda events. The
           device's two ceilings (a bf16 matmul, a device-to-device copy)
           are measured once. Every record is a JSON line appended to
           bench/results/gpu-<device>.jsonl (copied to $OUT when that is
           set, so that it comes back from the device machine).

FLA is not part of linac: its source goes in third_party/fla (git-ignored),
where `import fla` finds it; see bench/README.md for how to fetch it. The
calls in fla_call() were checked line by line against FLA at FLA_CHECKED
(signatures, argument order, layouts, dtypes, defaults); an FLA call that
raises is recorded with its error and the run goes on.
--dry-run prints the plan and needs neither a GPU nor FLA.

Usage: run_gpu.py prepare [--build DIR] [--chip sm_90a] [--no-grid]
       run_gpu.py grid [--memcheck] [--cases all|diagonal|rank-one]
       run_gpu.py run [--dry-run] [--only REGEX] [--no-fla] [--no-linac]
                      [--no-check] [--memcheck] [--fla DIR] [--out FILE]
                      [--reps N]
"""

import argparse
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_BUNDLE = os.path.join(ROOT, "bench", "gpu-bundle")
GRID = os.path.join(ROOT, "test", "Integration", "CUDA", "emulation.py")

PREFILL_SHAPES = [
    dict(B=8, T=1024, H=8, K=64),
    dict(B=4, T=4096, H=64, K=128),
    dict(B=1, T=8192, H=96, K=128),
]
DECODE_SHAPE = dict(B=256, T=1, H=32, K=128)
# Decode from a state pool of 2 B + 1 slots (state_indices = true), as a
# serving engine keeps them: linac reads and writes the slots in the kernel;
# FLA's kernels take a dense [B, ...] state, so its record gathers the
# batch's slots first and scatters the final states back (index_select and
# index_copy_ on the same pool), inside its time.
POOL_SHAPE = dict(DECODE_SHAPE, pool=2 * DECODE_SHAPE["B"] + 1)
POOL_VARIANTS = ["gated_delta_rule"]
VARIANTS = ["gla", "simple_gla", "retention", "delta_rule", "gated_delta_rule",
            "kda", "rwkv6", "dplr"]
DELTA = ["delta_rule", "gated_delta_rule", "kda"]
# FLA's kernel for each variant: (prefill, decode).
FLA_KERNELS = {
    "gla": ("chunk_gla", "fused_recurrent_gla"),
    "simple_gla": ("chunk_simple_gla", "fused_recurrent_simple_gla"),
    "retention": ("chunk_retention", "fused_recurrent_retention"),
    "delta_rule": ("chunk_delta_rule", "fused_recurrent_delta_rule"),
    "gated_delta_rule": ("chunk_gated_delta_rule",
                         "fused_recurrent_gated_delta_rule"),
    "kda": ("chunk_kda", "fused_recurrent_kda"),
    "rwkv6": ("chunk_rwkv6", "fused_recurrent_rwkv6"),
    "dplr": ("chunk_rwkv7", "fused_recurrent_rwkv7"),
}
FLA_MODULES = {
    "gla": "fla.ops.gla", "simple_gla": "fla.ops.simple_gla",
    "retention": "fla.ops.retention", "delta_rule": "fla.ops.delta_rule",
    "gated_delta_rule": "fla.ops.gated_delta_rule", "kda": "fla.ops.kda",
    "rwkv6": "fla.ops.rwkv6", "dplr": "fla.ops.rwkv7",
}
# The FLA commit whose signatures fla_call() was checked against (its
# fla/__init__.py says 0.5.2). A newer FLA usually works; a call it breaks
# shows up as that case's `error` in the results.
FLA_CHECKED = "bc3b101dcb713ddc5bd8924b66754eb68b5ccf89"
FETCH_FLA = (
    "FLA's source is not in {dir}. Fetch it where the repository lives "
    "(a linac session: the fetch tool on github:fla-org/flash-linear-attention, "
    "then `mkdir -p third_party/fla && git -C "
    "/work/.mirror/fla-org+flash-linear-attention/repo archive HEAD fla LICENSE "
    "| tar -x -C third_party/fla && git -C "
    "/work/.mirror/fla-org+flash-linear-attention/repo rev-parse HEAD "
    "> third_party/fla/COMMIT`; elsewhere: `git clone --depth 1 "
    "https://github.com/fla-org/flash-linear-attention third_party/fla`), carry "
    "third_party/fla to the GPU machine, or pass --no-fla.")


def log(message):
    print(message, file=sys.stderr, flush=True)


def spec_name(variant, shape):
    pool = "_pool" if shape.get("pool") else ""
    return f"{variant}_h{shape['H']}_k{shape['K']}{pool}"


def cases(only=None):
    """(name, variant, mode, shape) of every case whose name `only` (a
    regex) matches, in run order."""
    out = []
    for variant in VARIANTS:
        for shape in PREFILL_SHAPES:
            out.append((f"{variant}-prefill-B{shape['B']}-T{shape['T']}-H{shape['H']}"
                        f"-K{shape['K']}", variant, "prefill", shape))
        shape = DECODE_SHAPE
        out.append((f"{variant}-decode-B{shape['B']}-H{shape['H']}-K{shape['K']}",
                    variant, "decode", shape))
    for variant in POOL_VARIANTS:
        shape = POOL_SHAPE
        out.append((f"{variant}-decode-pool-B{shape['B']}-P{shape['pool']}"
                    f"-H{shape['H']}-K{shape['K']}", variant, "decode", shape))
    return [case for case in out if not only or re.search(only, case[0])]


def write_spec(directory, variant, shape):
    """A bf16 spec with the case's heads; the delta family normalizes q and
    k (l2norm), as FLA's use_qk_l2norm_in_kernel does."""
    lines = ["[attention]", f'variant = "{variant}"',
             f"head_dim_k = {shape['K']}", f"head_dim_v = {shape['K']}",
             f"num_heads = {shape['H']}", 'dtype = "bf16"']
    if variant in DELTA:
        lines.append('feature_map = "l2norm"')
    if shape.get("pool"):
        lines.append("state_indices = true")
    path = os.path.join(directory, spec_name(variant, shape) + ".toml")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


# --- prepare ------------------------------------------------------------------


def prepare(args):
    build = os.path.abspath(args.build)
    linacc = os.path.join(build, "bin", "linacc")
    linac_run = os.path.join(build, "bin", "linac-run")
    for tool in (linacc, linac_run):
        if not os.access(tool, os.X_OK):
            log(f"error: {tool} is missing: build linac first (make, or ninja -C "
                f"{build})")
            return 1
    specs = os.path.join(args.bundle, "specs")
    artifacts = os.path.join(args.bundle, "artifacts", args.chip)
    os.makedirs(specs, exist_ok=True)
    os.makedirs(artifacts, exist_ok=True)
    os.makedirs(os.path.join(args.bundle, "bin"), exist_ok=True)
    done = set()
    for _, variant, _, shape in cases(args.only):
        name = spec_name(variant, shape)
        if name in done:
            continue
        done.add(name)
        spec = write_spec(specs, variant, shape)
        artifact = os.path.join(artifacts, name + ".so")
        command = [linacc, spec, f"--target=cuda:{args.chip}", "-o", artifact]
        log("$ " + " ".join(command))
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0:
            log(f"error: linacc failed for {name}:\n{result.stderr}")
            return 1
    shutil.copy2(linac_run, os.path.join(args.bundle, "bin", "linac-run"))
    if not args.no_grid:
        command = [sys.executable, GRID, "--prepare", os.path.join(args.bundle, "grid"),
                   "--linacc", linacc, "--chip", args.chip]
        log("$ " + " ".join(command))
        if subprocess.run(command).returncode != 0:
            log("error: preparing the correctness grid failed")
            return 1
    with open(os.path.join(args.bundle, "manifest.json"), "w") as f:
        json.dump({"chip": args.chip, "specs": sorted(done),
                   "git": git_commit(), "date": today()}, f, indent=1)
    size = sum(os.path.getsize(os.path.join(d, n))
               for d, _, names in os.walk(args.bundle) for n in names)
    log(f"wrote {args.bundle} ({len(done)} artifacts for {args.chip}, "
        f"{size / 2**20:.1f} MiB). On the GPU machine: bench/run_gpu.sh run "
        "(carry bench/gpu-bundle and third_party/fla).")
    return 0


# --- run ----------------------------------------------------------------------


def git_commit():
    try:
        return subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True).stdout.strip()
    except OSError:
        return ""


def today():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%MZ")


def slug(text):
    return re.sub(r"-+", "-", re.sub(r"[^A-Za-z0-9]", "-", text)).strip("-")


def gpu_name():
    """Device 0's name, or None with no usable GPU (nvidia-smi, then torch)."""
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=60)
        if out.returncode == 0 and out.stdout.strip():
            return out.stdout.strip().splitlines()[0].strip()
    except (OSError, subprocess.TimeoutExpired):
        pass
    try:
        import torch
        if torch.cuda.is_available():
            return torch.cuda.get_device_name(0)
    except ImportError:
        pass
    return None


def linac_commands(name, variant, mode, shape, args, chip):
    """The linac-run command lines of a case: the check, then the bench."""
    spec = os.path.join(args.bundle, "specs", spec_name(variant, shape) + ".toml")
    artifact = os.path.join(args.bundle, "artifacts", chip, spec_name(variant, shape) + ".so")
    run = [os.path.join(args.bundle, "bin", "linac-run"), spec, f"--artifact={artifact}",
           "--target=cuda", f"--mode={mode}", "--json"]
    # The check: the same cubins at a size the float64 oracle does quickly,
    # odd lengths across chunks for prefill.
    small = "B=2,T=1" if mode == "decode" else "B=1,T=300"
    check = sanitizer_prefix(args) + run + [f"--shape={small}", "--check"]
    pool = f",P={shape['pool']}" if shape.get("pool") else ""
    bench = run + [f"--shape=B={shape['B']},T={shape['T']}{pool}", "--bench"]
    if shape.get("pool"):
        # A padding row in the check (its slot untouched, its o zero).
        check.append("--pad=1")
    if args.reps:
        bench.append(f"--reps={args.reps}")
    return check, bench


def compute_sanitizer():
    """compute-sanitizer from PATH or the CUDA toolkit, or None."""
    found = shutil.which("compute-sanitizer")
    for candidate in [found, "/usr/local/cuda/bin/compute-sanitizer",
                      "/usr/local/cuda/compute-sanitizer/compute-sanitizer"]:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def sanitizer_prefix(args):
    if not getattr(args, "memcheck", False):
        return []
    return [compute_sanitizer() or "compute-sanitizer", "--tool", "memcheck",
            "--leak-check", "full", "--error-exitcode", "3"]


def grid(args):
    """emulation.py's grid on the GPU with prepare's cubins."""
    prepared = os.path.join(args.bundle, "grid")
    if not os.path.isdir(prepared):
        log(f"error: {prepared} is missing: run `bench/run_gpu.sh prepare` where "
            "linac is built, and carry bench/gpu-bundle here")
        return 1
    device = os.environ.get("LINAC_BENCH_DEVICE") or gpu_name()
    if device is None:
        log("error: no GPU: nvidia-smi and torch.cuda see no device")
        return 1
    command = [sys.executable, GRID, "--device", "--linac-run",
               os.path.join(args.bundle, "bin", "linac-run"), "--artifacts", prepared,
               "--work", os.path.join(args.work, "grid"), f"--cases={args.cases}"]
    if args.memcheck:
        sanitizer = compute_sanitizer()
        if not sanitizer:
            log("error: --memcheck: no compute-sanitizer on PATH or in /usr/local/cuda")
            return 1
        command += ["--memcheck", sanitizer]
    log("$ " + " ".join(command))
    proc = subprocess.run(command, capture_output=True, text=True)
    print(proc.stdout, end="")
    print(proc.stderr, end="", file=sys.stderr)
    lines = proc.stdout.strip().splitlines()
    out = args.out or os.path.join(ROOT, "bench", "results", f"gpu-{slug(device)}.jsonl")
    results = Results(out, device)
    results.add({"kind": "grid", "command": " ".join(command), "exit": proc.returncode,
                 "memcheck": bool(args.memcheck), "cases": args.cases,
                 "summary": lines[-1] if lines else "",
                 "failures": [line for line in lines if line.startswith("FAIL")][:50]})
    log(f"# wrote {out}")
    if os.environ.get("OUT"):
        shutil.copy2(out, os.path.join(os.environ["OUT"], os.path.basename(out)))
    return proc.returncode


class Results:
    """JSON lines appended to the results file, each with the device, date
    and commit."""

    def __init__(self, path, device):
        self.path, self.device = path, device
        os.makedirs(os.path.dirname(path), exist_ok=True)
        self.common = {"device": device, "date": today(), "git": git_commit(),
                       "host": os.uname().nodename}

    def add(self, record):
        record = dict(record, **{k: v for k, v in self.common.items() if k not in record})
        with open(self.path, "a") as f:
            f.write(json.dumps(record) + "\n")
        return record


def run_linac(results, name, variant, mode, shape, args, chip):
    check, bench = linac_commands(name, variant, mode, shape, args, chip)
    record = None
    for kind, command in ([] if args.no_check else [("linac-check", check)]) + [
            ("linac", bench)]:
        log("$ " + " ".join(command))
        started = time.time()
        proc = subprocess.run(command, capture_output=True, text=True)
        entry = {"kind": kind, "case": name, "variant": variant, "mode": mode,
                 "command": " ".join(command), "exit": proc.returncode,
                 "wall_s": round(time.time() - started, 2)}
        try:
            entry.update(json.loads(proc.stdout.strip().splitlines()[-1]))
        except (ValueError, IndexError):
            entry["error"] = (proc.stderr or proc.stdout).strip()[-2000:]
        if proc.returncode != 0 and "error" not in entry:
            entry["error"] = proc.stderr.strip()[-2000:]
        entry = results.add(entry)
        if kind == "linac":
            record = entry
        elif proc.returncode != 0:
            log(f"  check failed ({proc.returncode}): {entry.get('error', entry.get('check'))}")
    return record


def fla_inputs(torch, variant, mode, shape, device="cuda"):
    """Random inputs in FLA's [B, T, H, ...] layout for the case's problem
    (never zeros: those can run faster than real data).

    The problem is linac's: the spec write_spec() makes has H = HV (no GVA),
    K = V, an f32 initial state h0 [B, H, K, V] in prefill as well as decode
    (a spec's initial_state and final_state default to true, so linac's
    prefill reads h0 and writes ht; FLA is asked for the same), and
    log-space gates g <= 0 (FLA's g/gk/w are log-space too).

    Dtypes: q, k, v bf16 on both sides; g f32 on both (FLA's tests pass f32
    gates and its chunked kernels take the cumulative sum in f32). beta, a, b
    and u are bf16 here, the dtype FLA's own tests and layers give them
    (tests/ops/test_kda.py, test_dplr_delta.py, test_rwkv6.py), where linac's
    spec reads them as f32 (docs/spec.md): FLA reads 2 bytes fewer per
    element of those tensors; the record lists the dtypes."""
    B, T, H, K = shape["B"], shape["T"], shape["H"], shape["K"]
    V = K
    dev, bf = device, torch.bfloat16
    gen = torch.Generator(device=dev).manual_seed(1)

    def randn(*size, dtype=bf, scale=1.0):
        return (torch.randn(*size, device=dev, generator=gen) * scale).to(dtype)

    q, k, v = randn(B, T, H, K), randn(B, T, H, K), randn(B, T, H, V)
    logsig = torch.nn.functional.logsigmoid
    x = {"q": q, "k": k, "v": v}
    if variant in ("gla", "kda", "rwkv6", "dplr"):  # per-key gate [B, T, H, K]
        x["g"] = logsig(randn(B, T, H, K, dtype=torch.float32) + 4.0) / 16
    if variant in ("simple_gla", "gated_delta_rule"):  # per-head gate [B, T, H]
        x["g"] = logsig(randn(B, T, H, dtype=torch.float32) + 4.0) / 16
    if variant in DELTA:  # write strength in (0, 1), post-sigmoid
        x["beta"] = torch.rand(B, T, H, device=dev, generator=gen).to(bf)
    if variant == "rwkv6":  # the bonus u [H, K]
        x["u"] = randn(H, K, scale=0.1)
    if variant == "dplr":
        # RWKV-7's own a and b (FLA's RWKV7Attention, fla/layers/rwkv7.py:313:
        # a = -kk, b = kk * iclr with kk unit-norm and iclr in (0, 1)), so
        # the transition Diag(exp g) + b aᵀ = Diag(exp g) - iclr kk kkᵀ is
        # symmetric with eigenvalues in (-1, 1], as in a model.
        kk = torch.nn.functional.normalize(randn(B, T, H, K, dtype=torch.float32), dim=-1)
        x["a"], x["b"] = (-kk).to(bf), (kk * torch.rand(B, T, H, 1, device=dev,
                                                        generator=gen)).to(bf)
    x["h0"] = randn(B, H, K, V, dtype=torch.float32, scale=0.1)
    return x


def fla_dtypes(x):
    """{tensor: dtype} of fla_inputs' tensors, for the record."""
    return {name: str(t.dtype).replace("torch.", "") for name, t in x.items()}


def fla_call(ops, variant, mode, x, extra=None):
    """A no-argument callable running FLA's kernel on `x`: linac's problem
    (SEMANTICS.md) stated in FLA's arguments, as at FLA_CHECKED.

    Everything after v is passed by keyword where FLA allows it, and scale
    always: FLA's defaults differ (chunk_rwkv7 defaults to scale=1.0,
    fla/ops/rwkv7/chunk.py:21, where linac and every other FLA kernel use
    K^-0.5), and positions differ between the chunked and recurrent forms
    (fused_recurrent_gated_delta_rule takes g, gk, gv, beta; fused_recurrent_kda
    takes g, beta, A_log, dt_bias, scale). Each call returns (o, final_state);
    state layout is FLA's default [N, H, K, V] (state_v_first=False), linac's.
    `extra`: more keyword arguments (RWKV7_LAYER's, for chunk_rwkv7 only)."""
    if extra and not (variant == "dplr" and mode == "prefill"):
        raise ValueError(f"extra arguments are for chunk_rwkv7 only, not {variant} {mode}")
    fn = getattr(ops, FLA_KERNELS[variant][0 if mode == "prefill" else 1])
    q, k, v = x["q"], x["k"], x["v"]
    scale = q.shape[-1] ** -0.5
    state = dict(scale=scale, initial_state=x["h0"], output_final_state=True)
    if variant == "gla":
        # chunk_gla(q, k, v, g, ...), fla/ops/gla/chunk.py:1427;
        # fused_recurrent_gla(q, k, v, gk=None, gv=None, ...), its gate is
        # gk, fla/ops/gla/fused_recurrent.py:15.
        if mode == "prefill":
            return lambda: fn(q, k, v, g=x["g"], **state)
        return lambda: fn(q, k, v, gk=x["g"], **state)
    if variant == "simple_gla":
        # chunk_simple_gla / fused_recurrent_simple_gla(q, k, v, g=None,
        # g_gamma=None, ...): g [B, T, H] log-space, fla/ops/simple_gla/
        # chunk.py:238, fused_recurrent.py:15.
        return lambda: fn(q, k, v, g=x["g"], **state)
    if variant == "retention":
        # chunk_retention / fused_recurrent_retention(q, k, v, scale, ...):
        # no gate; FLA derives log(1 - 2^(-5-h)) per head itself, as linac
        # does (fla/ops/retention/chunk.py:68; that small tensor is built
        # and copied to the GPU on every call, inside FLA's time).
        return lambda: fn(q, k, v, **state)
    if variant == "delta_rule":
        # chunk_delta_rule / fused_recurrent_delta_rule(q, k, v, beta, scale,
        # initial_state, output_final_state, use_qk_l2norm_in_kernel, ...),
        # fla/ops/delta_rule/chunk.py:227, fused_recurrent.py:443. The chunked
        # one refuses f32 q (chunk.py:303): bf16 here.
        return lambda: fn(q, k, v, beta=x["beta"], use_qk_l2norm_in_kernel=True, **state)
    if variant == "gated_delta_rule":
        # chunk_gated_delta_rule(q, k, v, g, beta, ...), fla/ops/
        # gated_delta_rule/chunk.py:397; fused_recurrent_gated_delta_rule(q,
        # k, v, g=None, gk=None, gv=None, beta=None, ...), fused_recurrent.py:309.
        # g [B, T, HV] log-space (use_gate_in_kernel=False, the default),
        # beta post-sigmoid (use_beta_sigmoid_in_kernel=False, the default).
        return lambda: fn(q, k, v, g=x["g"], beta=x["beta"],
                          use_qk_l2norm_in_kernel=True, **state)
    if variant == "kda":
        # chunk_kda(q, k, v, g, beta, scale, ...), fla/ops/kda/chunk.py:178;
        # fused_recurrent_kda(q, k, v, g, beta, A_log=None, dt_bias=None,
        # scale=None, ...), fla/ops/kda/fused_recurrent.py:339. g [B, T, HV, K]
        # is the log-space decay itself (use_gate_in_kernel=False: no A_log,
        # dt_bias or lower_bound), beta post-sigmoid.
        return lambda: fn(q, k, v, g=x["g"], beta=x["beta"],
                          use_qk_l2norm_in_kernel=True, **state)
    if variant == "rwkv6":
        # chunk_rwkv6 / fused_recurrent_rwkv6(r, k, v, w, u, scale, ...):
        # w log-space [B, T, H, K], u [H, K]; o_t reads S_{t-1} plus the
        # u-weighted current token, as linac's rwkv6. fla/ops/rwkv6/
        # chunk.py:1271, fused_recurrent.py:575 (their first argument is r).
        return lambda: fn(q, k, v, x["g"], x["u"], **state)
    if variant == "dplr":
        # chunk_rwkv7 / fused_recurrent_rwkv7(r, w, k, v, a, b, scale, ...):
        # note w (the log decay) second. Both are FLA's generic DPLR delta
        # rule (chunk_dplr_delta_rule, fused_recurrent_dplr_delta_rule with
        # gk=w), whose recurrence (fla/ops/generalized_delta_rule/dplr/
        # naive.py:34, and fla/ops/rwkv7/fused_recurrent.py:96-99 with
        # a = -kk, b = kk * a) is
        #   S_t = Diag(exp w_t) S_{t-1} + b_t (a_tᵀ S_{t-1}) + k_t v_tᵀ,
        #   o_t = scale · S_tᵀ q_t,
        # linac's dplr term for term, with a, b in the same roles (a reads
        # the undecayed state, b writes). So the same problem, with arbitrary
        # a and b, not RWKV-7's specialised form (fused_mul_recurrent_rwkv7
        # takes kk and a scalar-per-key a instead).
        more = extra or {}
        return lambda: fn(q, x["g"], k, v, x["a"], x["b"], **state, **more)
    raise ValueError(variant)


def pooled_call(torch, call, x, shape):
    """`call` (built on x["h0"]) with its state taken from a pool of
    shape["pool"] slots and put back: B random distinct slots gathered into
    x["h0"] (the very tensor the call reads), then the final states copied
    into them, as an engine without pooled kernels must."""
    h0 = x["h0"]
    gen = torch.Generator(device=h0.device).manual_seed(2)
    pool = torch.randn(shape["pool"], *h0.shape[1:], device=h0.device,
                       generator=gen, dtype=h0.dtype) * 0.1
    slots = torch.randperm(shape["pool"], device=h0.device,
                           generator=gen)[:h0.shape[0]]

    def run():
        torch.index_select(pool, 0, slots, out=h0)
        o, ht = call()
        pool.index_copy_(0, slots, ht)
        return o, ht
    return run


def time_calls(torch, call, reps):
    """linac-run's protocol with torch.cuda events: the first call (Triton
    compiles and autotunes there) timed alone, then a warm-up, then timed
    calls back to back with an event between each; median, min, tenth."""
    def event():
        return torch.cuda.Event(enable_timing=True)
    torch.cuda.synchronize()
    first = [event(), event()]
    wall = time.perf_counter()
    first[0].record()
    call()
    first[1].record()
    torch.cuda.synchronize()
    first_wall_ms = (time.perf_counter() - wall) * 1e3
    first_ms = first[0].elapsed_time(first[1])
    warm = [event(), event()]
    warm[0].record()
    call()
    warm[1].record()
    torch.cuda.synchronize()
    warm_ms = warm[0].elapsed_time(warm[1])
    count = reps or int(min(2000, max(10, 1000.0 / max(warm_ms, 1e-3))))
    marks = [event() for _ in range(count + 1)]
    marks[0].record()
    for i in range(count):
        call()
        marks[i + 1].record()
    torch.cuda.synchronize()
    times = [marks[i].elapsed_time(marks[i + 1]) for i in range(count)]
    tenth = times[7] if count >= 8 else None
    times.sort()
    return {"median_ms": round(times[len(times) // 2], 4), "min_ms": round(times[0], 4),
            "runs": count, "first_call_ms": round(first_ms, 4),
            "first_call_wall_ms": round(first_wall_ms, 4),
            "tenth_call_ms": None if tenth is None else round(tenth, 4)}


# FLA's RWKV-7 layer (fla/layers/rwkv7.py:308) calls chunk_rwkv7 with
# safe_gate=True, lower_bound=-exp(-1/2) and chunk_size=64: faster
# tensor-core intra-chunk products that assume every log decay lies in
# [lower_bound, 0). linac's dplr assumes no bound, so the headline FLA
# record is FLA's general path (the defaults); dplr prefill cases also time
# this configuration, on the same inputs with g clamped into the bound
# (a no-op for fla_inputs' gates, which stay above -0.1), as a second record
# with "config": "rwkv7-layer".
RWKV7_LAYER = dict(safe_gate=True, lower_bound=-0.6065306597126334, chunk_size=64)


def run_fla(results, torch, name, variant, mode, shape, args, linac_record):
    module = FLA_MODULES[variant]
    function = FLA_KERNELS[variant][0 if mode == "prefill" else 1]
    base = {"kind": "fla", "case": name, "variant": variant, "mode": mode,
            "function": f"{module}.{function}",
            "B": shape["B"], "T": shape["T"], "H": shape["H"], "K": shape["K"],
            "V": shape["K"], "dtype": "bf16", "initial_state": True,
            "output_final_state": True}
    configs = [("default", None)]
    if variant == "dplr" and mode == "prefill":
        configs.append(("rwkv7-layer", RWKV7_LAYER))
    headline = None
    for config, extra in configs:
        entry = dict(base, config=config)
        x = None
        try:
            import importlib
            ops = importlib.import_module(module)
            x = fla_inputs(torch, variant, mode, shape)
            entry["dtypes"] = fla_dtypes(x)
            if extra:
                entry["kwargs"] = dict(extra)
                x["g"] = x["g"].clamp(min=extra["lower_bound"])
            call = fla_call(ops, variant, mode, x, extra)
            if shape.get("pool"):
                call = pooled_call(torch, call, x, shape)
                entry["pool"] = shape["pool"]
                entry["gather_scatter"] = True
            entry.update(time_calls(torch, call, args.reps))
        except Exception as error:  # report, and go on with the next case
            entry["error"] = f"{type(error).__name__}: {error}"[-2000:]
            log(f"  FLA {function} ({config}) failed: {entry['error'][:300]}")
        finally:
            x = call = None
            try:
                torch.cuda.empty_cache()
            except Exception:  # a sticky CUDA error: every later call says so
                pass
        # The same work as linac's record (its cost model at linac's chunk),
        # so that TFLOP/s compare as inverse times.
        if linac_record and "flops" in linac_record and "median_ms" in entry:
            entry["flops"] = linac_record["flops"]
            entry["tflops_same_work"] = round(
                linac_record["flops"] / (entry["median_ms"] * 1e-3) / 1e12, 4)
        entry = results.add(entry)
        if headline is None:
            headline = entry
    return headline


def measure_ceilings(results, torch):
    """METHOD.md's two numbers, measured: a bf16 matmul 8192^3 (random data)
    and a 2 GiB device-to-device copy (bytes read plus written)."""
    n = 8192
    a = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    mm = time_calls(torch, lambda: a @ b, 20)
    src = torch.empty(2**30, device="cuda", dtype=torch.int16).random_()
    dst = torch.empty_like(src)
    cp = time_calls(torch, lambda: dst.copy_(src), 20)
    record = {"kind": "ceiling",
              "matmul_bf16_tflops": round(2 * n**3 / (mm["median_ms"] * 1e-3) / 1e12, 1),
              "copy_gb_per_s": round(2 * src.numel() * 2 / (cp["median_ms"] * 1e-3) / 1e9, 1),
              "torch": torch.__version__}
    return results.add(record)


def run(args):
    selected = cases(args.only)
    fla_dir = os.path.abspath(args.fla)
    manifest_path = os.path.join(args.bundle, "manifest.json")
    chip = "sm_90a"
    if os.path.exists(manifest_path):
        with open(manifest_path) as f:
            chip = json.load(f).get("chip", chip)
    if args.dry_run:
        print(f"# {len(selected)} cases; bundle {args.bundle} "
              f"({'present' if os.path.exists(manifest_path) else 'MISSING: run prepare'}), "
              f"chip {chip}; FLA {fla_dir} "
              f"({'present' if os.path.isdir(os.path.join(fla_dir, 'fla')) else 'MISSING'})")
        for name, variant, mode, shape in selected:
            if not args.no_linac:
                for command in linac_commands(name, variant, mode, shape, args, chip)[
                        1 if args.no_check else 0:]:
                    print(" ".join(command))
            if not args.no_fla:
                fn = FLA_KERNELS[variant][0 if mode == "prefill" else 1]
                print(f"# FLA {FLA_MODULES[variant]}.{fn} B={shape['B']} T={shape['T']} "
                      f"H={shape['H']} K=V={shape['K']} bf16, torch.cuda events "
                      "(h0 in, ht out" + (f"; gathered from and scattered to a pool "
                                          f"of {shape['pool']}" if shape.get("pool")
                                          else "") + ")")
                if variant == "dplr" and mode == "prefill":
                    extra = ", ".join(f"{k}={v}" for k, v in RWKV7_LAYER.items())
                    print(f"# FLA {FLA_MODULES[variant]}.{fn} again, as FLA's RWKV-7 "
                          f"layer calls it: {extra}")
        return 0

    if not args.no_linac and not os.path.exists(manifest_path):
        log(f"error: {args.bundle} has no prepared artifacts: run `bench/run_gpu.sh "
            "prepare` where linac is built, and carry bench/gpu-bundle here "
            "(or pass --no-linac)")
        return 1
    if not args.no_fla and not os.path.isdir(os.path.join(fla_dir, "fla")):
        log("error: " + FETCH_FLA.format(dir=fla_dir))
        return 1
    # LINAC_BENCH_DEVICE names the device when neither nvidia-smi nor torch
    # can (the harness's own test, on the stand-in driver of LINAC_LIBCUDA).
    device = os.environ.get("LINAC_BENCH_DEVICE") or gpu_name()
    if device is None:
        log("error: no GPU: nvidia-smi and torch.cuda see no device (this "
            "benchmark runs on a GPU machine; --dry-run prints its plan)")
        return 1
    torch = None
    if not args.no_fla:
        try:
            import torch
        except ImportError:
            log("error: FLA needs PyTorch, which this python3 lacks (or pass --no-fla)")
            return 1
        # FLA's Triton kernels, not whatever FLA's backend dispatch
        # (fla/ops/backends/__init__.py) would pick: chunk_gated_delta_rule
        # and chunk_kda are @dispatch'ed and go to FlashQLA (TileLang) or
        # FlashKDA (CUTLASS) where those packages are installed. Read when
        # fla.ops.backends is imported, so set before `import fla`; an
        # explicit FLA_DISABLE_BACKEND_DISPATCH=0 keeps the dispatch.
        os.environ.setdefault("FLA_DISABLE_BACKEND_DISPATCH", "1")
        sys.path.insert(0, fla_dir)
        error = import_fla(fla_dir)
        if error:
            log(f"error: cannot import FLA from {fla_dir}: {error}")
            return 1
    out = args.out or os.path.join(ROOT, "bench", "results", f"gpu-{slug(device)}.jsonl")
    results = Results(out, device)
    log(f"# {device}: {len(selected)} cases -> {out}")
    results.add({"kind": "run", "command": " ".join(sys.argv), "cases": len(selected),
                 "fla": fla_version(fla_dir) if not args.no_fla else None,
                 "fla_checked": FLA_CHECKED,
                 "fla_backend_dispatch": None if args.no_fla else
                 os.environ.get("FLA_DISABLE_BACKEND_DISPATCH") != "1"})
    if torch is not None:
        ceiling = measure_ceilings(results, torch)
        torch.cuda.empty_cache()
        log(f"# ceilings: bf16 matmul {ceiling['matmul_bf16_tflops']} TFLOP/s, "
            f"copy {ceiling['copy_gb_per_s']} GB/s")
    rows = []
    for name, variant, mode, shape in selected:
        linac = run_linac(results, name, variant, mode, shape, args, chip) \
            if not args.no_linac else None
        fla = run_fla(results, torch, name, variant, mode, shape, args, linac) \
            if torch is not None else None
        rows.append((name, linac, fla))
        summary(rows[-1:], header=len(rows) == 1)
    print(f"# wrote {out}", file=sys.stderr)
    if os.environ.get("OUT"):
        shutil.copy2(out, os.path.join(os.environ["OUT"], os.path.basename(out)))
    return 0


def import_fla(fla_dir):
    """Imports the `fla` package from fla_dir; None, or the error.

    `import fla` runs fla/__init__.py, which also imports fla.layers and
    fla.models (transformers models). The harness needs only fla.ops, so
    when that whole-package import fails (a transformers release FLA's
    layers don't match, say), fall back to an empty `fla` package over the
    same directory: fla.ops.* and what they import (fla.utils, fla.modules)
    then load on their own, and a case whose module still fails records
    its error."""
    import importlib
    import types
    try:
        importlib.import_module("fla")
        return None
    except Exception as error:
        for name in [m for m in sys.modules if m == "fla" or m.startswith("fla.")]:
            del sys.modules[name]
        log(f"# `import fla` failed ({type(error).__name__}: {error}); "
            "importing fla.ops without fla/__init__.py")
    package = types.ModuleType("fla")
    package.__path__ = [os.path.join(fla_dir, "fla")]
    # fla/utils/_decorators.py imports it from the package.
    package.__version__ = (fla_version(fla_dir) or "0").split()[0]
    sys.modules["fla"] = package
    try:
        importlib.import_module("fla.ops.utils")
        return None
    except Exception as error:
        return f"{type(error).__name__}: {error}"


def fla_version(fla_dir):
    """FLA's version and, where the fetch wrote it (bench/README.md), the
    commit in third_party/fla/COMMIT."""
    try:
        with open(os.path.join(fla_dir, "fla", "__init__.py")) as f:
            found = re.search(r'__version__ = "([^"]+)"', f.read())
            version = found.group(1) if found else "?"
    except OSError:
        return None
    try:
        with open(os.path.join(fla_dir, "COMMIT")) as f:
            version += " " + f.read().strip()
    except OSError:
        pass
    return version


def summary(rows, header):
    if header:
        print(f"{'case':44} {'linac ms':>10} {'TFLOP/s':>8} {'FLA ms':>10} {'FLA/linac':>9}")
    for name, linac, fla in rows:
        lm = linac.get("median_ms") if linac else None
        fm = fla.get("median_ms") if fla else None
        tf = linac.get("tflops") if linac else None
        ratio = f"{fm / lm:.2f}" if lm and fm else "-"
        shown_lm = "-" if linac is None else "error" if lm is None else lm
        shown_fm = "-" if fla is None else "error" if fm is None else fm
        print(f"{name:44} {shown_lm:>10} {tf if tf is not None else '-':>8} "
              f"{shown_fm:>10} {ratio:>9}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="step", required=True)
    p = sub.add_parser("prepare", help="compile the cubins (where linac is built)")
    p.add_argument("--build", default=os.path.join(ROOT, "build"))
    p.add_argument("--chip", default="sm_90a", choices=["sm_90a", "sm_80"])
    p.add_argument("--only", help="compile only the specs of matching cases")
    p.add_argument("--no-grid", action="store_true",
                   help="skip the correctness grid's cubins")
    g = sub.add_parser("grid", help="the CUDA correctness grid on the GPU machine")
    g.add_argument("--memcheck", action="store_true",
                   help="each case under compute-sanitizer's memcheck")
    g.add_argument("--cases", default="all", choices=["all", "diagonal", "rank-one"])
    g.add_argument("--work", default="/tmp/linac-grid")
    g.add_argument("--out", help="results file (default bench/results/gpu-<device>.jsonl)")
    r = sub.add_parser("run", help="check and time on the GPU machine")
    r.add_argument("--dry-run", action="store_true", help="print the plan only")
    r.add_argument("--only", help="a regex searched in case names, e.g. "
                   "'^gla-prefill|decode' (names: VARIANT-MODE-B..-T..-H..-K..)")
    r.add_argument("--no-fla", action="store_true", help="time linac only")
    r.add_argument("--no-linac", action="store_true", help="time FLA only")
    r.add_argument("--no-check", action="store_true", help="skip linac-run --check")
    r.add_argument("--memcheck", action="store_true",
                   help="run the checks under compute-sanitizer's memcheck")
    r.add_argument("--fla", default=os.path.join(ROOT, "third_party", "fla"),
                   help="FLA source tree (holding fla/)")
    r.add_argument("--out", help="results file (default bench/results/gpu-<device>.jsonl)")
    r.add_argument("--reps", type=int, default=0,
                   help="timed calls per kernel (default: about 1 s, 10 to 2000)")
    for each in (p, g, r):
        each.add_argument("--bundle", default=DEFAULT_BUNDLE,
                          help="where prepare writes and run reads the specs, "
                               "cubins and linac-run")
    args = parser.parse_args()
    args.bundle = os.path.abspath(args.bundle)
    return {"prepare": prepare, "grid": grid, "run": run}[args.step](args)


if __name__ == "__main__":
    sys.exit(main())
