//===- Passes.td - linac pass definitions ------------------*- tablegen -*-===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_PASSES_PASSES_TD
#define LINAC_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def LinacMaterializeDefaults : Pass<"linac-materialize-defaults"> {
  let summary = "Make the implicit scalars of linac.recurrence explicit";
  let description = [{
    `linac.recurrence` lets `scale` default to `K^-0.5` (with `K` the input
    head dimension of `q` and `k`) and the normalizer's `eps` default to
    `1e-6`. This pass writes those values into the op, so that every later
    stage (selection, chunking, code generation, the manifest of the emitted
    artifact) reads one explicit number instead of repeating the default
    rule. It runs first in every pipeline; it changes no semantics.

    Example:

    ```mlir
    // Before
    %o = linac.recurrence decay(none) q(%q : tensor<1x8x2x64xf32>) ...
    // After
    %o = linac.recurrence decay(none) scale(1.250000e-01) q(%q : ...) ...
    ```
  }];
  let dependentDialects = [];
}

def LinacSelect : Pass<"linac-select", "::mlir::ModuleOp"> {
  let summary = "Choose the algorithm, chunk size and vector width of each recurrence";
  let description = [{
    Attaches a `#linac.schedule` to every `linac.recurrence` as the
    discardable attribute `linac.schedule`. The choice depends only on the
    op's structure, its mode (`linac.mode`, default `prefill`) and the
    target, so it can be tested apart from any lowering:

    - decode: `recurrent` (a few tokens from a given state: the sequential
      scan does the least work and streams the state once);
    - prefill with `rank_one(none)`: `chunked`;
    - prefill with `rank_one(delta)` or `rank_one(dplr)`: `chunked_wy`.

    The chunk size is the op's `linac.chunk_size` when the spec set it, else
    64, or 32 when the state has more than 256 rows (taylor2), which keeps a
    chunk's K' x C and C x C tiles in the caches. The vector width is 16 f32
    lanes for AVX-512 (`native` on this project's machines, `x86-64-v4`), 8
    for AVX2 (`x86-64-v3`) and 0 on CUDA targets. An existing
    `linac.schedule` is kept, so a schedule written by hand wins.

    The target and CPU come from the options, or else from the module's
    `linac.target` / `linac.cpu` attributes (written by the spec front
    end), or else `cpu` / `native`.

    ```mlir
    // After -linac-select
    %o = linac.recurrence decay(diagonal) ... {linac.schedule =
        #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 16>}
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"\"",
           "cpu, cuda:sm_90a or cuda:sm_80 (default: the module's linac.target, else cpu)">,
    Option<"cpu", "cpu", "std::string", /*default=*/"\"\"",
           "native, x86-64-v3 or x86-64-v4 (default: the module's linac.cpu, else native)">
  ];
}

def LinacChunk : Pass<"linac-chunk", "::mlir::ModuleOp"> {
  let summary = "Rewrite scheduled recurrences into chunked-scan task functions";
  let description = [{
    For every function whose body is one scheduled `linac.recurrence`
    (`return linac.recurrence(arguments)`), builds two private functions and
    erases the original:

    - `<name>_task(buffers..., [has_h0: i1], [has_ht: i1], task: index)`:
      the work of task `task` = (sequence, value head, value tile). For
      `algorithm = chunked` it loops over chunks of `chunk_size` tokens:
      `linac.chunk_load` of q (feature map, scale), k, v and the log gates,
      `linac.chunk_gates`, then `linac.chunk_inter` (the state's
      contribution), `linac.chunk_scores` + `linac.chunk_attend` (the masked
      intra-chunk matmuls), `linac.chunk_store` of the output and
      `linac.chunk_state_update` (the inter-chunk state pass). For
      `algorithm = recurrent` (decode) it runs one `linac.recurrent_step`
      per token, reading `h0` first and then the state it wrote to `ht`.
      For `algorithm = chunked_wy` (a delta write: `delta_rule`,
      `gated_delta_rule`, `kda`) each chunk also loads `beta`, reads the
      state through the decayed keys (`linac.chunk_inter` with k as q),
      scores the keys against themselves (`linac.chunk_scores`) and solves
      for the written values with `linac.chunk_delta_solve`; those values
      then take v's place in `linac.chunk_attend` and
      `linac.chunk_state_update`. Decode passes `beta` to
      `linac.recurrent_step`.
    - `<name>_tasks(buffers...) -> index`: the number of tasks,
      sequences x value heads x value tiles.

    Tensors become strided memrefs with a unit inner stride; results become
    output buffers (`o`, `ht`) appended after the arguments, in signature
    order. The names (`linac.arg`), mode, schedule and variant are recorded
    on the task function for the ABI pass and the manifest. Retention and
    Lightning decays become constant log gates selected by head.

    The dplr transition, `rwkv6`'s output form, `normalizer(sum)`,
    `taylor2` and the `bhtd` layout are reported as not supported yet.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

def LinacVectorizeCPU : Pass<"linac-vectorize-cpu", "::mlir::ModuleOp"> {
  let summary = "Lower chunked-scan ops to vector register tiles for CPUs";
  let description = [{
    Replaces every chunked-scan op with scf loops over `vector` ops of the
    target's width (the task function's `linac.schedule` vector width, or
    the option):

    - `chunk_inter`, `chunk_attend`, `chunk_state_update` and the blocks of
      `chunk_scores` below the diagonal become one register-tiled
      outer-product kernel: up to 8 x 4 vector accumulators live across the
      reduction loop, which broadcasts scalars of the left operand and loads
      vectors of the right one (`vector.fma`);
    - the diagonal blocks of `chunk_scores` carry `k_j` times the running
      product of decays down the block, with one reduction per pair;
    - loads convert f16/bf16 to f32 (`arith.extf`), apply the feature map
      and scale; stores truncate back.

    `math.exp` is then expanded into its polynomial approximation, so the
    object needs no libm (l2norm's one scalar `math.rsqrt` per row lowers
    to a square root and a division). Scratch tiles are
    `memref.alloca`s at function entry.

    With `outline-ops`, each op is first moved into a private function
    `__linac_<op>_<n>` marked `noinline` (an LLVM
    `passthrough` attribute), so that `perf report` splits a
    kernel's time by op.
  }];
  let options = [
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"0",
           "f32 lanes per vector (0: the schedule's vector_width)">,
    Option<"outlineOps", "outline-ops", "bool", /*default=*/"false",
           "Lower each chunked-scan op in its own never-inlined function "
           "named after the op, so that a profiler attributes time per op "
           "(slower; for profiling only)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def LinacCpuAbi : Pass<"linac-cpu-abi", "::mlir::ModuleOp"> {
  let summary = "Give each CPU task function its C entry points and manifest";
  let description = [{
    For every task function of `linac-chunk`, adds

    - `NAME_manifest`: an `llvm.mlir.global` holding the manifest text (the
      kernel's tensors in ABI order with dtypes and symbolic shapes, its
      target CPU and the features it needs), which the runtime validates
      tensors against;
    - `NAME_body(closure, begin, end)`: runs tasks `[begin, end)`; the
      closure is the `linac_tensor` array, from which it rebuilds the memref
      descriptors (LLVM-dialect loads cast to memrefs);
    - `NAME_kernel(tensors, parallel_for, pool)`: counts the tasks and calls
      `parallel_for(pool, n, NAME_body, tensors)`, or `NAME_body` directly
      when `parallel_for` is NULL.

    The C declarations are in `include/linac/runtime/linac.h`; a NULL
    optional tensor reads as a zeroed descriptor and clears its presence
    flag.
  }];
  let options = [
    Option<"cpu", "cpu", "std::string", /*default=*/"\"\"",
           "native, x86-64-v3 or x86-64-v4 (default: the module's linac.cpu, else native)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::scf::SCFDialect"];
}

#endif // LINAC_PASSES_PASSES_TD
