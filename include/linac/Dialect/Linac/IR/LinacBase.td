//===- LinacBase.td - linac dialect definition -------------*- tablegen -*-===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_DIALECT_LINAC_IR_LINACBASE_TD
#define LINAC_DIALECT_LINAC_IR_LINACBASE_TD

include "mlir/IR/DialectBase.td"
include "mlir/IR/OpBase.td"

def Linac_Dialect : Dialect {
  let name = "linac";
  let cppNamespace = "::linac";
  let summary = "Linear-attention recurrences and their chunked scans";
  let description = [{
    The `linac` dialect expresses linear-attention recurrences (linear
    attention, RetNet, Lightning, GLA, Mamba-2, DeltaNet, Gated DeltaNet, KDA,
    RWKV-6/7) as one structured op on tensors, `linac.recurrence`. Every such
    recurrence is an instance of a single form: a diagonal-plus-low-rank
    transition applied to a matrix state plus a rank-1 write,

    ```
    S_t = (D_t + b_t a_tᵀ) S_{t-1} + k_t v_tᵀ
    ```

    The op records *which structure* the transition has (the kind of decay
    `D_t`, the kind of rank-1 part, how the output reads the state) rather
    than a variant name, so that passes pick an algorithm from the structure
    and a new variant that shares a structure needs no new lowering.

    The numerical contract of every form is fixed in SEMANTICS.md and
    implemented, in float64, by the reference oracle of the runtime.
  }];
  let useDefaultAttributePrinterParser = 1;
  let hasCanonicalizer = 0;
}

class Linac_Op<string mnemonic, list<Trait> traits = []>
    : Op<Linac_Dialect, mnemonic, traits>;

#endif // LINAC_DIALECT_LINAC_IR_LINACBASE_TD
