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

#endif // LINAC_PASSES_PASSES_TD
