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
    - `warps`: warps per thread block on CUDA targets (optional; 0 on CPUs).
      One block runs one task; every chunked-scan op is block-cooperative.
    - `stages`: depth of the pipeline that overlaps loading chunk `t + 1`
      with computing chunk `t` on CUDA targets (optional; 0 on CPUs). 1: no
      overlap. 2 (with `load = "tma"` or `"cp.async"`): every staged tile
      has a buffer of its own, the first chunk's copies are issued before
      the chunk loop and chunk `t + 1`'s as soon as chunk `t`'s tiles are
      converted, so they fly during chunk `t`'s compute. Other values are
      refused by `linac-gpu-map`.
    - `mma`: the tensor-core instruction of the matmul-shaped ops on CUDA
      targets (optional). `"wgmma"` (sm_90a with bf16/f16 inputs, prefill):
      warpgroup MMA (`wgmma.mma_async`) on operands staged in shared memory
      for the ops whose shapes allow it, mma.sync for the rest. Absent: the
      input type decides, mma.sync for bf16/f16 and CUDA cores for f32.
    - `load`: how chunk tiles of per-token inputs reach shared memory on
      CUDA targets (optional). `"tma"` (sm_90a, prefill): the Tensor Memory
      Accelerator copies each tile whose rows are whole 16-byte units
      (`cp.async.bulk.tensor` through a tensor map the runtime encodes per
      launch, completion tracked by an mbarrier) into a staging buffer,
      which the threads then convert (feature map, scale, f32); the
      staging buffer is part of the shared-memory plan. `"cp.async"`
      (sm_80 and later, prefill, `stages = 2`): the threads copy the next
      chunk's tiles into per-tile buffers with asynchronous 16-byte copies
      (`cp.async.cg`, commit groups), waited for at the first load of the
      next iteration. Absent: the threads read global memory themselves.

    ```mlir
    #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 16>
    #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 0,
                    value_tile = 64, warps = 4, stages = 1>
    #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0,
                    value_tile = 64, warps = 4, stages = 2, mma = "wgmma",
                    load = "tma">
    ```
  }];
  let parameters = (ins
    EnumParameter<Linac_Algorithm>:$algorithm,
    "int64_t":$chunk_size,
    "int64_t":$vector_width,
    DefaultValuedParameter<"int64_t", "0">:$value_tile,
    DefaultValuedParameter<"int64_t", "0">:$warps,
    DefaultValuedParameter<"int64_t", "0">:$stages,
    StringRefParameter<"tensor-core instruction", "\"\"">:$mma,
    StringRefParameter<"how chunk tiles are loaded", "\"\"">:$load
  );
  // The CPU schedule, which has no warps or stages.
  let builders = [
    AttrBuilder<(ins "::linac::Algorithm":$algorithm, "int64_t":$chunk_size,
                     "int64_t":$vector_width, "int64_t":$value_tile), [{
      return $_get($_ctxt, algorithm, chunk_size, vector_width, value_tile,
                   /*warps=*/0, /*stages=*/0, /*mma=*/"", /*load=*/"");
    }]>
  ];
  let assemblyFormat = "`<` struct(params) `>`";
}

#endif // LINAC_DIALECT_LINAC_IR_LINACATTRS_TD
