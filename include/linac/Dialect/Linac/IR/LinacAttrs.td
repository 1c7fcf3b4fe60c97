//===- LinacAttrs.td - linac attributes --------------------*- tablegen -*-===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_DIALECT_LINAC_IR_LINACATTRS_TD
#define LINAC_DIALECT_LINAC_IR_LINACATTRS_TD

include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "linac/Dialect/Linac/IR/LinacEnums.td"

def Linac_ScheduleAttr : AttrDef<Linac_Dialect, "Schedule"> {
  let mnemonic = "schedule";
  let summary = "How a recurrence is evaluated: algorithm, chunk, vector width";
  let description = [{
    The schedule chosen for one `linac.recurrence` by `linac-select`, kept
    on the op as the discardable attribute `linac.schedule` so that the
    choice can be tested, printed (`linacc --explain`) and overridden without
    touching the lowering (like IREE's lowering configs).

    - `algorithm`: `recurrent` (the sequential scan of decode),
      `chunked` (diagonal transitions: intra-chunk masked matmuls plus an
      inter-chunk state pass) or `chunked_wy` (rank-one transitions: the
      chunk's transition product in WY/UT form).
    - `chunk_size`: tokens per chunk (0 for `recurrent`).
    - `vector_width`: f32 lanes of the target's vectors (16 for AVX-512, 8
      for AVX2; 0 for GPU targets, whose tiles are chosen per warp).
    - `value_tile`: value columns of the state one task owns (optional; 0 or
      absent means all of V). Columns of the state evolve independently for
      the diagonal family, so splitting V gives parallel tasks at the price
      of recomputing the intra-chunk scores once per tile.

    ```mlir
    #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 16>
    ```
  }];
  let parameters = (ins
    EnumParameter<Linac_Algorithm>:$algorithm,
    "int64_t":$chunk_size,
    "int64_t":$vector_width,
    DefaultValuedParameter<"int64_t", "0">:$value_tile
  );
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif // LINAC_DIALECT_LINAC_IR_LINACATTRS_TD
