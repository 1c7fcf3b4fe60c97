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

#endif // LINAC_PASSES_PASSES_TD
