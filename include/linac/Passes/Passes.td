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

    On CUDA targets (`cuda:sm_90a`, `cuda:sm_80`) a task is a thread block of
    4 warps whose tiles live in shared memory, so the schedule is the widest
    value tile (V itself up to 64 columns, else the widest divisor of V that
    is a multiple of 8 and at most 64), then the longest chunk (64, 32, 16),
    whose tiles fit the chip's shared memory (227 KiB on sm_90a, 163 KiB on
    sm_80; the spec's `chunk_size` / `value_tile` fix either), with
    `warps = 4, stages = 1`. The estimate counts the tiles `linac-chunk`
    allocates for the op's structure (the delta rule's beta, K Kᵀ,
    (K ⊙ Γ) S and U; dplr's a, b, W, right-hand side, extra scores and
    delayed tiles; rwkv6's shifted tiles) and the scratch of
    `linac-lower-chunk-gpu`, byte for byte. When nothing fits, the op is
    reported.

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
      `linac.recurrent_step`. For the dplr transition the reads
      `a_tᵀ S_{t-1}` are solved instead (`linac.chunk_dplr_solve`, with k,
      v, b and g delayed by one row for the coefficients that stop before
      row t) and enter the state through the update's `pair`; decode
      passes `lowrank(a, b)`. For rwkv6's output form
      (`previous_state_plus_bonus`), k, v and g are delayed by one token
      (`linac.tile_shift_rows`), the loop runs one token further, and
      `linac.chunk_bonus` adds the bonus; decode passes `u` as the step's
      bonus.
    - `<name>_tasks(buffers...) -> index`: the number of tasks,
      sequences x value heads x value tiles.

    Tensors become strided memrefs with a unit inner stride; results become
    output buffers (`o`, `ht`) appended after the arguments, in signature
    order. The names (`linac.arg`), mode, schedule and variant are recorded
    on the task function for the ABI pass and the manifest. Retention and
    Lightning decays become constant log gates selected by head.

    `normalizer(sum)`,
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

def LinacGpuMap : Pass<"linac-gpu-map", "::mlir::ModuleOp"> {
  let summary = "Map each task function onto a CUDA kernel: one block per task";
  let description = [{
    For every task function of `linac-chunk` (`NAME_task`), builds a
    `gpu.module @NAME_module` holding one kernel `gpu.func @NAME` and erases
    the task function and its task counter:

    - the kernel takes the task's buffers (memrefs, in the same order) and,
      for prefill, one `i32` presence flag per optional state (`h0`, then
      `ht`), nonzero when the tensor was passed;
    - block `blockIdx.x` runs task `blockIdx.x` = (sequence, value head,
      value tile), with `32 * warps` threads (`known_block_size`); the host
      launches `S * HV * (V / value_tile)` blocks;
    - every scratch tile (`memref.alloca`) becomes a view of the block's
      dynamic shared memory at a 16-byte aligned offset; the total is
      recorded as `linac.shared_bytes` and must fit the chip (227 KiB on
      sm_90a, 163 KiB on sm_80);
    - offsets read from `cu_seqlens` are clamped into `[0, T]`, so no
      content of that tensor can make the kernel address memory outside `q`,
      `k`, `v`, `g` and `o` (the runtime cannot read device memory to check
      it before the launch);
    - the task's `linac.*` metadata moves to the kernel, plus `linac.target`
      and `linac.mma` (the tensor-core operand type: `bf16` or `f16` for
      16-bit inputs, `none` for f32, which runs on CUDA cores).

    The chunked-scan ops are left for `linac-lower-chunk-gpu`.

    ```mlir
    gpu.module @gla_prefill_module {
      gpu.func @gla_prefill(%q: memref<?x?x16x128xbf16, strided<[?, ?, ?, 1], offset: ?>>,
                            ..., %has_h0: i32, %has_ht: i32) kernel
          attributes {known_block_size = array<i32: 128, 1, 1>,
                      linac.shared_bytes = 154112 : i64, ...} {
        %task = gpu.block_id x
        %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
        %state = memref.view %smem[%c0][] : ... to memref<128x64xf32, #gpu.address_space<workgroup>>
        ...
      }
    }
    ```
  }];
  let options = [
    Option<"target", "target", "std::string", /*default=*/"\"\"",
           "cuda:sm_90a or cuda:sm_80 (default: the module's linac.target)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::memref::MemRefDialect"];
}

def LinacLowerChunkGpu : Pass<"linac-lower-chunk-gpu", "::mlir::ModuleOp"> {
  let summary = "Lower chunked-scan ops in CUDA kernels to block-cooperative code";
  let description = [{
    Replaces every chunked-scan op inside a kernel of `linac-gpu-map` with
    code that all threads of the block run together, fenced by
    `gpu.barrier`s (a barrier before and after each op, so every op sees the
    tiles its predecessors wrote):

    - elementwise work (loads with the feature map and scale, stores, tile
      copies, masks) is a thread-strided loop over the tile's elements, so
      consecutive threads touch consecutive columns of a row;
    - `chunk_gates` scans each (gate column, sub-chunk) pair in one thread;
    - the matmul-shaped ops (`chunk_scores` Q Kᵀ, `chunk_attend` P V,
      `chunk_inter` Q S, `chunk_state_update` Kᵀ V) run on tensor cores when
      the kernel's `linac.mma` is `bf16` (`nvvm.mma.sync` m16n8k16,
      bf16 x bf16 + f32) or `f16` (`nvgpu.mma.sync` m16n8k16): each warp
      owns 16 x 8 output fragments, builds its operand registers from the
      f32 tiles (applying the decay factors on the way) and accumulates in
      f32. The diagonal sub-chunk blocks of gated scores take the running
      product of decays per element, as on the CPU. With `linac.mma = none`
      (f32 inputs) or dimensions that are not multiples of the fragment,
      every op is a thread-strided loop of f32 FMAs on CUDA cores. With a
      schedule `mma = "wgmma"` (sm_90a), `chunk_inter`, `chunk_attend` and
      `chunk_state_update` with whole 64-row output tiles run on
      `nvvm.wgmma.mma_async` m64nNk16 instead: the block (one warpgroup)
      stages 16-bit operand slices in shared memory without swizzle,
      fences the async proxy, and issues fence / wgmma / commit / wait;
      `mma-emulation` replaces them by per-register FMA loops;
    - `chunk_delta_solve` and `chunk_dplr_solve` (forward substitutions,
      row t after the rows before it) solve the value columns in parallel,
      in blocks of 16 rows: all threads first add the solved blocks' part
      of each row's sum, then one thread per column walks the block's rows
      in order; f32 on CUDA cores. The matmul-shaped ops whose results a
      solve reads, and those that read what it solved (U, W), also stay in
      f32 on CUDA cores in a bf16/f16 kernel, so the delta residual and
      the solved values never pass through a 16-bit operand;
    - `tile_shift_rows` and `chunk_bonus` are elementwise (the bonus
      weights of each row first, in scratch); `chunk_state_update` with
      `pair(b, w)` adds its second sum into the same accumulators;
    - `recurrent_step` splits the keys of each value column over threads
      and sums the partial outputs in shared memory; with `beta` or
      `lowrank` a first pass over the state sums S'ᵀk and S'ᵀq (or aᵀS)
      before the second writes the new state; with `bonus` the output
      reads the state before the update.

    - with a schedule `load = "tma"` (sm_90a), every `chunk_load` of a
      rank-4 f32/f16/bf16 kernel argument whose tile is one TMA box (at
      most 256 x 256 elements, rows of whole 16-byte units) and that runs
      once per chunk-loop iteration goes through the Tensor Memory
      Accelerator: the kernel takes, after its other arguments, one `i32`
      flag per such tensor and then one `!llvm.ptr` tensor map per tensor
      (`linac.tma` records each tensor and its box, innermost first);
      thread 0 initializes one mbarrier per load site at the kernel's
      start, and per chunk issues `nvvm.mbarrier.arrive.expect_tx` and
      `nvvm.cp.async.bulk.tensor.shared.cluster.global` of the raw tile
      into a shared staging buffer, every thread waits with
      `nvvm.mbarrier.try_wait.parity` (the parity of the chunk-loop
      iteration), and the conversion reads the staging buffer. Rows past
      `len` are padded as before, so the rows TMA brings from beyond the
      sequence (zeros past T, the next sequence's with `cu_seqlens`) are
      never used. When the launch's flag is 0 (the runtime could not
      describe the view by a tensor map) the threads load as before;
      `mma-emulation` copies the box in thread 0 and counts the mbarrier's
      phases instead;

    Any other linac op in a kernel is an error.

    Op-internal scratch (l2norm row scales, per-sub-chunk decay carries,
    bonus weights, partial sums) shares one region of dynamic shared memory
    after the tiles (and the wgmma and TMA buffers); `linac.shared_bytes`
    grows to include it and is checked against the chip again.

    ```mlir
    // Before
    linac.chunk_attend ins(%a, %v : memref<64x64xf32, #gpu.address_space<workgroup>>, ...)
        outs(%o : memref<64x64xf32, #gpu.address_space<workgroup>>)
    // After (linac.mma = "bf16")
    gpu.barrier
    scf.for %f = %warp to %c32 step %c4 {
      ... nvvm.mma.sync A[...] B[...] C[...] {... multiplicandAPtxType = #nvvm.mma_type<bf16> ...}
    }
    gpu.barrier
    ```

    With `mma-emulation`, each lane computes the four accumulators it owns
    with scalar FMAs over operands rounded to the MMA type, instead of
    `mma.sync` (which needs the whole warp): the fragment walk, operand
    functions, masks and rounding stay those of the tensor-core path, so
    `linac-emulate-gpu` can run the kernel on a CPU. The same option turns
    each TMA copy into an element-by-element copy of the box by thread 0
    (zeros outside the tensor) and each mbarrier into a counter of
    completed phases, checked (`cf.assert`) against the parity the threads
    wait for.
  }];
  let options = [
    Option<"mmaEmulation", "mma-emulation", "bool", /*default=*/"false",
           "Replace mma.sync, wgmma and TMA/mbarrier operations by per-thread "
           "code that runs without a GPU (for linac-emulate-gpu)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::cf::ControlFlowDialect",
                           "::mlir::gpu::GPUDialect",
                           "::mlir::LLVM::LLVMDialect",
                           "::mlir::math::MathDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::NVVM::NVVMDialect",
                           "::mlir::nvgpu::NVGPUDialect",
                           "::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect"];
}

def LinacGpuAbi : Pass<"linac-gpu-abi", "::mlir::gpu::GPUModuleOp"> {
  let summary = "Give lowered CUDA kernels the launch ABI of their TMA loads";
  let description = [{
    Runs on the `llvm.func` kernels of a `gpu.module` after
    `convert-gpu-to-nvvm`. For a kernel with `linac.tma` (the TMA loads of
    `linac-lower-chunk-gpu`), its last `linac.tma.size()` arguments are
    tensor maps: each becomes a `CUtensorMap` passed by value, a 128-byte,
    64-byte-aligned `.param` array that stays in parameter space
    (`llvm.byval = !llvm.array<128 x i8>`, `llvm.align = 64`,
    `nvvm.grid_constant`: CUDA's `__grid_constant__`), which the runtime
    fills with `cuTensorMapEncodeTiled` per launch and the copy reads
    through a generic address of the parameter. The module's dynamic shared
    memory is then aligned to 128 bytes, the alignment a bulk tensor copy's
    destination needs. Other kernels are left alone.

    Neither can be said on a `gpu.func`: the NVVM verifier accepts
    `nvvm.grid_constant` on kernels only, which a `gpu.func` is not yet, and
    the conversion drops `llvm.byval` from its arguments.

    ```mlir
    // Before
    llvm.func @gla_prefill(..., %tma_q: i32, %map_q: !llvm.ptr)
        attributes {linac.tma = [{box = array<i64: 128, 1, 64, 1>, tensor = "q"} ],
                    nvvm.kernel, ...}
    // After
    llvm.func @gla_prefill(..., %tma_q: i32,
        %map_q: !llvm.ptr {llvm.align = 64 : i32,
                           llvm.byval = !llvm.array<128 x i8>,
                           nvvm.grid_constant}) attributes {...}
    ```
  }];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::NVVM::NVVMDialect"];
}

def LinacEmulateGpu : Pass<"linac-emulate-gpu", "::mlir::ModuleOp"> {
  let summary = "Turn CUDA kernels back into CPU task functions, threads serialized";
  let description = [{
    A testing aid for machines without a GPU: runs the block-cooperative
    code of `linac-lower-chunk-gpu` (built with `mma-emulation`) on the CPU
    by turning every kernel `gpu.func @NAME` into the task function
    `NAME_task(buffers..., [has_h0: i1], [has_ht: i1], task: index)` and its
    counter `NAME_tasks` that `linac-cpu-abi` expects:

    - the block id becomes the task index; dynamic shared memory becomes a
      stack buffer of `linac.shared_bytes` bytes;
    - the code between two barriers that depends on the thread id is
      wrapped in a loop over the block's threads (`known_block_size`), in
      place, and the barriers disappear. This is exact for code where every
      thread-dependent value dies before the next barrier and no uniform op
      with side effects shares a barrier interval with per-thread code,
      which the pass checks (it fails otherwise); uniform ops run once
      instead of once per thread.

    What it cannot check is the tensor-core register layout itself (the
    A and B fragments of `mma.sync`), which `mma-emulation` bypasses.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::func::FuncDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::scf::SCFDialect"];
}

#endif // LINAC_PASSES_PASSES_TD
