// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-select -linac-chunk -linac-gpu-map | FileCheck %s

// linac-gpu-map turns each task function of linac-chunk into a kernel of its
// own gpu.module: block id = task index, i32 presence flags, scratch tiles as
// views of dynamic shared memory, and the launch metadata on the kernel.
// Scalar-decay varlen prefill, bf16, K = V = 16, on sm_80 (the module's
// target): chunks of 64, one value tile of 16, 4 warps, two stages of
// cp.async loads (their buffers come after the tiles, in
// linac-lower-chunk-gpu).
// CHECK-LABEL: gpu.module @sgla_module
// CHECK: gpu.func @sgla(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<1x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>>
// CHECK-SAME: %[[CU:[a-z0-9]+]]: memref<?xi32, strided<[1], offset: ?>>
// CHECK-SAME: %[[HAS_H0:[a-z0-9]+]]: i32, %[[HAS_HT:[a-z0-9]+]]: i32) kernel
// CHECK-SAME: known_block_size = array<i32: 128, 1, 1>
// CHECK-SAME: linac.kernel = "sgla", linac.mma = "bf16", linac.mode = "prefill"
// CHECK-SAME: linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, value_tile = 16, warps = 4, stages = 2, load = "cp.async">
// CHECK-SAME: linac.shared_bytes = 34816 : i64, linac.target = "cuda:sm_80"
// CHECK-SAME: linac.tensors = ["q", "k", "v", "g", "h0", "cu_seqlens", "o", "ht"]
//
// Tiles packed from offset 0 at 16-byte boundaries: the state (16 x 16),
// q, k, v, o (64 x 16), the scores (64 x 64), four 64 x 1 gate tiles.
// CHECK: %[[SMEM:.+]] = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
// CHECK: %[[C0:.+]] = arith.constant 0 : index
// CHECK: %[[S:.+]] = memref.view %[[SMEM]][%[[C0]]][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<16x16xf32, #gpu.address_space<workgroup>>
// CHECK: arith.constant 1024 : index
// CHECK: arith.constant 17408 : index
// CHECK: memref.view {{.*}} to memref<64x64xf32, #gpu.address_space<workgroup>>
// CHECK: arith.constant 34560 : index
// CHECK: memref.view {{.*}} to memref<64x1xf32, #gpu.address_space<workgroup>>
//
// Flags become i1 again; the task is the block id.
// CHECK: %[[ZERO:.+]] = arith.constant 0 : i32
// CHECK: %[[H0:.+]] = arith.cmpi ne, %[[HAS_H0]], %[[ZERO]] : i32
// CHECK: %[[TASK:.+]] = gpu.block_id x
// CHECK: %[[SEQ:.+]] = arith.divui %[[TASK]],
//
// Both offsets of the sequence are clamped into [0, T].
// CHECK: %[[BEGIN:.+]] = memref.load %[[CU]][%[[SEQ]]]
// CHECK: %[[T:.+]] = memref.dim %[[Q]], %{{.+}}
// CHECK: %[[T32:.+]] = arith.index_cast %[[T]] : index to i32
// CHECK: %[[LOW:.+]] = arith.maxsi %[[BEGIN]], %{{.+}} : i32
// CHECK: %[[CLAMPED:.+]] = arith.minsi %[[LOW]], %[[T32]] : i32
// CHECK: arith.index_cast %[[CLAMPED]] : i32 to index
// CHECK: memref.load %[[CU]]
// CHECK: arith.maxsi
// CHECK: arith.minsi
//
// The chunked-scan ops stay, now on shared memory.
// CHECK: scf.if %[[H0]] {
// CHECK: linac.tile_copy ins(%{{.+}} : memref<16x16xf32, strided<[?, 1], offset: ?>>) outs(%[[S]] : memref<16x16xf32, #gpu.address_space<workgroup>>)
// CHECK: scf.for
// CHECK: linac.chunk_scores
// CHECK: linac.chunk_state_update
// CHECK: gpu.return
// The task function and its counter are gone.
// CHECK-NOT: func.func
module attributes {linac.target = "cuda:sm_80"} {
  func.func @sgla(%q: tensor<1x?x2x16xbf16> {linac.arg = "q"},
                  %k: tensor<1x?x2x16xbf16> {linac.arg = "k"},
                  %v: tensor<1x?x2x16xbf16> {linac.arg = "v"},
                  %g: tensor<1x?x2xf32> {linac.arg = "g"},
                  %h0: tensor<?x2x16x16xf32> {linac.arg = "h0"},
                  %cu: tensor<?xi32> {linac.arg = "cu_seqlens"})
      -> (tensor<1x?x2x16xbf16> {linac.arg = "o"},
          tensor<?x2x16x16xf32> {linac.arg = "ht"}) {
    %o, %ht = linac.recurrence decay(scalar)
        q(%q : tensor<1x?x2x16xbf16>) k(%k : tensor<1x?x2x16xbf16>)
        v(%v : tensor<1x?x2x16xbf16>) g(%g : tensor<1x?x2xf32>)
        h0(%h0 : tensor<?x2x16x16xf32>) cu_seqlens(%cu : tensor<?xi32>)
        -> tensor<1x?x2x16xbf16>, tensor<?x2x16x16xf32>
    return %o, %ht : tensor<1x?x2x16xbf16>, tensor<?x2x16x16xf32>
  }
}

// -----

// Decode (f32 inputs: no tensor cores) has no presence flags: h0 and ht are
// required.
// CHECK-LABEL: gpu.module @la_decode_module
// CHECK: gpu.func @la_decode(
// CHECK-SAME: memref<?x2x16x16xf32, strided<[?, ?, ?, 1], offset: ?>>) kernel
// CHECK-SAME: linac.mma = "none", linac.mode = "decode"
// CHECK: gpu.block_id x
// CHECK: linac.recurrent_step
module attributes {linac.target = "cuda:sm_90a"} {
  func.func @la_decode(%q: tensor<?x?x2x16xf32> {linac.arg = "q"},
                       %k: tensor<?x?x2x16xf32> {linac.arg = "k"},
                       %v: tensor<?x?x2x16xf32> {linac.arg = "v"},
                       %h0: tensor<?x2x16x16xf32> {linac.arg = "h0"})
      -> (tensor<?x?x2x16xf32> {linac.arg = "o"},
          tensor<?x2x16x16xf32> {linac.arg = "ht"}) {
    %o, %ht = linac.recurrence decay(none)
        q(%q : tensor<?x?x2x16xf32>) k(%k : tensor<?x?x2x16xf32>)
        v(%v : tensor<?x?x2x16xf32>) h0(%h0 : tensor<?x2x16x16xf32>)
        {linac.mode = "decode"} -> tensor<?x?x2x16xf32>, tensor<?x2x16x16xf32>
    return %o, %ht : tensor<?x?x2x16xf32>, tensor<?x2x16x16xf32>
  }
}

// -----

// A CPU schedule has no block shape.
module attributes {linac.target = "cuda:sm_90a"} {
  // expected-error @+1 {{has a CPU schedule (vector_width = 16); run linac-select with target=cuda:sm_90a}}
  func.func @cpu_schedule(%q: tensor<?x?x2x16xf32> {linac.arg = "q"},
                          %k: tensor<?x?x2x16xf32> {linac.arg = "k"},
                          %v: tensor<?x?x2x16xf32> {linac.arg = "v"})
      -> (tensor<?x?x2x16xf32> {linac.arg = "o"}) {
    %o = linac.recurrence decay(none)
        q(%q : tensor<?x?x2x16xf32>) k(%k : tensor<?x?x2x16xf32>)
        v(%v : tensor<?x?x2x16xf32>)
        {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 16>}
        -> tensor<?x?x2x16xf32>
    return %o : tensor<?x?x2x16xf32>
  }
}

// -----

// A hand-written schedule whose tiles do not fit: C = 128 at K = V = 256
// needs 1.3 MiB (256 KiB of state, 128 KiB for each of q, k, v, o, 512 KiB
// of gate tiles).
module attributes {linac.target = "cuda:sm_80"} {
  // expected-error @+1 {{needs 1376256 bytes of shared memory for its tiles, more than the 166912 bytes of sm_80; choose a smaller chunk_size or value_tile}}
  func.func @too_big(%q: tensor<?x?x1x256xbf16> {linac.arg = "q"},
                     %k: tensor<?x?x1x256xbf16> {linac.arg = "k"},
                     %v: tensor<?x?x1x256xbf16> {linac.arg = "v"},
                     %g: tensor<?x?x1x256xf32> {linac.arg = "g"})
      -> (tensor<?x?x1x256xbf16> {linac.arg = "o"}) {
    %o = linac.recurrence decay(diagonal)
        q(%q : tensor<?x?x1x256xbf16>) k(%k : tensor<?x?x1x256xbf16>)
        v(%v : tensor<?x?x1x256xbf16>) g(%g : tensor<?x?x1x256xf32>)
        {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 128, vector_width = 0, value_tile = 256, warps = 4, stages = 1>}
        -> tensor<?x?x1x256xbf16>
    return %o : tensor<?x?x1x256xbf16>
  }
}
// -----

// A hand-written schedule for K = V = 2^32: the tiles' byte counts saturate
// instead of overflowing int64 (which would wrap to a size that "fits").
module attributes {linac.target = "cuda:sm_90a"} {
  // expected-error @+1 {{needs more than 2^50 bytes of shared memory for its tiles, more than the 232448 bytes of sm_90a}}
  func.func @huge(%q: tensor<?x?x1x4294967296xbf16> {linac.arg = "q"},
                  %k: tensor<?x?x1x4294967296xbf16> {linac.arg = "k"},
                  %v: tensor<?x?x1x4294967296xbf16> {linac.arg = "v"})
      -> (tensor<?x?x1x4294967296xbf16> {linac.arg = "o"}) {
    %o = linac.recurrence decay(none)
        q(%q : tensor<?x?x1x4294967296xbf16>) k(%k : tensor<?x?x1x4294967296xbf16>)
        v(%v : tensor<?x?x1x4294967296xbf16>)
        {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, value_tile = 4294967296, warps = 4, stages = 1>}
        -> tensor<?x?x1x4294967296xbf16>
    return %o : tensor<?x?x1x4294967296xbf16>
  }
}


// -----

// expected-error @+1 {{linac-gpu-map: no target; pass target=cuda:sm_90a|cuda:sm_80 or set the module's linac.target}}
module {
  func.func @no_target(%q: tensor<?x?x2x16xf32> {linac.arg = "q"},
                       %k: tensor<?x?x2x16xf32> {linac.arg = "k"},
                       %v: tensor<?x?x2x16xf32> {linac.arg = "v"})
      -> (tensor<?x?x2x16xf32> {linac.arg = "o"}) {
    %o = linac.recurrence decay(none)
        q(%q : tensor<?x?x2x16xf32>) k(%k : tensor<?x?x2x16xf32>)
        v(%v : tensor<?x?x2x16xf32>) -> tensor<?x?x2x16xf32>
    return %o : tensor<?x?x2x16xf32>
  }
}

// -----

// The delta rule's WY/UT form maps like any other task: its extra tiles
// (beta 32 x 1, the key scores 32 x 32, (K ⊙ Γ) S and U 32 x 16) join the
// diagonal-decay ones in shared memory: 2048 (state) + 2 x 4096 (q, k) +
// 2 x 2048 (v, o) + 4096 (scores) + 128 + 4096 + 2 x 2048 + 4 x 128 (gate
// tiles) = 27264 bytes, what linac-select planned for it.
// CHECK-LABEL: gpu.module @gdn_module
// CHECK: gpu.func @gdn(
// CHECK-SAME: linac.schedule = #linac.schedule<algorithm = chunked_wy, chunk_size = 32, vector_width = 0, value_tile = 16, warps = 4, stages = 2, load = "tma">
// CHECK-SAME: linac.shared_bytes = 27264 : i64
// CHECK-SAME: linac.variant = "gdn"
// CHECK: linac.chunk_delta_solve ins({{.*}} : memref<32x32xf32, #gpu.address_space<workgroup>>, memref<32x1xf32, #gpu.address_space<workgroup>>, memref<32x16xf32, #gpu.address_space<workgroup>>, memref<32x16xf32, #gpu.address_space<workgroup>>) outs(%{{.+}} : memref<32x16xf32, #gpu.address_space<workgroup>>)
// CHECK: gpu.return
module attributes {linac.target = "cuda:sm_90a"} {
  func.func @gdn(%q: tensor<1x?x1x32xbf16> {linac.arg = "q"},
                 %k: tensor<1x?x1x32xbf16> {linac.arg = "k"},
                 %v: tensor<1x?x1x16xbf16> {linac.arg = "v"},
                 %g: tensor<1x?x1xf32> {linac.arg = "g"},
                 %beta: tensor<1x?x1xf32> {linac.arg = "beta"})
      -> (tensor<1x?x1x16xbf16> {linac.arg = "o"}) attributes {linac.variant = "gdn"} {
    %o = linac.recurrence decay(scalar) rank_one(delta) q(%q : tensor<1x?x1x32xbf16>)
        k(%k : tensor<1x?x1x32xbf16>) v(%v : tensor<1x?x1x16xbf16>)
        g(%g : tensor<1x?x1xf32>) beta(%beta : tensor<1x?x1xf32>) {linac.chunk_size = 32 : i64}
        -> tensor<1x?x1x16xbf16>
    return %o : tensor<1x?x1x16xbf16>
  }
}

// -----

// Warpgroup MMA is sm_90a's: a hand-written wgmma schedule for sm_80 used
// to lower to nvvm.wgmma ops that NVVM's verifier rejected after every
// linac pass had succeeded (found by linac-fuzz-pipeline).
module attributes {linac.target = "cuda:sm_80"} {
  // expected-error @+1 {{has a wgmma schedule, but sm_80 has no warpgroup MMA (sm_90a only)}}
  func.func @wgmma_sm80(%q: tensor<?x?x2x64xbf16> {linac.arg = "q"},
                        %k: tensor<?x?x2x64xbf16> {linac.arg = "k"},
                        %v: tensor<?x?x2x64xbf16> {linac.arg = "v"})
      -> (tensor<?x?x2x64xbf16> {linac.arg = "o"}) {
    %o = linac.recurrence decay(none)
        q(%q : tensor<?x?x2x64xbf16>) k(%k : tensor<?x?x2x64xbf16>)
        v(%v : tensor<?x?x2x64xbf16>)
        {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, value_tile = 64, warps = 4, stages = 1, mma = "wgmma">}
        -> tensor<?x?x2x64xbf16>
    return %o : tensor<?x?x2x64xbf16>
  }
}

// -----

// An instruction no pass knows is not silently read as "none".
module attributes {linac.target = "cuda:sm_90a"} {
  // expected-error @+1 {{has a schedule with mma = "wmma" (expected "wgmma" or none)}}
  func.func @unknown_mma(%q: tensor<?x?x2x64xbf16> {linac.arg = "q"},
                         %k: tensor<?x?x2x64xbf16> {linac.arg = "k"},
                         %v: tensor<?x?x2x64xbf16> {linac.arg = "v"})
      -> (tensor<?x?x2x64xbf16> {linac.arg = "o"}) {
    %o = linac.recurrence decay(none)
        q(%q : tensor<?x?x2x64xbf16>) k(%k : tensor<?x?x2x64xbf16>)
        v(%v : tensor<?x?x2x64xbf16>)
        {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, value_tile = 64, warps = 4, stages = 1, mma = "wmma">}
        -> tensor<?x?x2x64xbf16>
    return %o : tensor<?x?x2x64xbf16>
  }
}

// -----

// The Tensor Memory Accelerator is sm_90a's too: a hand-written tma
// schedule for sm_80 is refused...
module attributes {linac.target = "cuda:sm_80"} {
  // expected-error @+1 {{has a tma schedule, but sm_80 has no Tensor Memory Accelerator (sm_90a only)}}
  func.func @tma_sm80(%q: tensor<?x?x2x64xbf16> {linac.arg = "q"},
                      %k: tensor<?x?x2x64xbf16> {linac.arg = "k"},
                      %v: tensor<?x?x2x64xbf16> {linac.arg = "v"})
      -> (tensor<?x?x2x64xbf16> {linac.arg = "o"}) {
    %o = linac.recurrence decay(none)
        q(%q : tensor<?x?x2x64xbf16>) k(%k : tensor<?x?x2x64xbf16>)
        v(%v : tensor<?x?x2x64xbf16>)
        {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, value_tile = 64, warps = 4, stages = 1, load = "tma">}
        -> tensor<?x?x2x64xbf16>
    return %o : tensor<?x?x2x64xbf16>
  }
}

// -----

// ...and so is a way of loading no pass knows.
module attributes {linac.target = "cuda:sm_90a"} {
  // expected-error @+1 {{has a schedule with load = "cp.async.bulk" (expected "tma", "cp.async" or none)}}
  func.func @unknown_load(%q: tensor<?x?x2x64xbf16> {linac.arg = "q"},
                          %k: tensor<?x?x2x64xbf16> {linac.arg = "k"},
                          %v: tensor<?x?x2x64xbf16> {linac.arg = "v"})
      -> (tensor<?x?x2x64xbf16> {linac.arg = "o"}) {
    %o = linac.recurrence decay(none)
        q(%q : tensor<?x?x2x64xbf16>) k(%k : tensor<?x?x2x64xbf16>)
        v(%v : tensor<?x?x2x64xbf16>)
        {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, value_tile = 64, warps = 4, stages = 1, load = "cp.async.bulk">}
        -> tensor<?x?x2x64xbf16>
    return %o : tensor<?x?x2x64xbf16>
  }
}

// -----

// Two stages overlap the next chunk's TMA copies with this chunk; there is
// no deeper pipeline...
module attributes {linac.target = "cuda:sm_90a"} {
  // expected-error @+1 {{has a schedule with stages = 3 (expected 0, 1 or 2)}}
  func.func @three_stages(%q: tensor<?x?x2x64xbf16> {linac.arg = "q"},
                          %k: tensor<?x?x2x64xbf16> {linac.arg = "k"},
                          %v: tensor<?x?x2x64xbf16> {linac.arg = "v"})
      -> (tensor<?x?x2x64xbf16> {linac.arg = "o"}) {
    %o = linac.recurrence decay(none)
        q(%q : tensor<?x?x2x64xbf16>) k(%k : tensor<?x?x2x64xbf16>)
        v(%v : tensor<?x?x2x64xbf16>)
        {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, value_tile = 64, warps = 4, stages = 3, load = "tma">}
        -> tensor<?x?x2x64xbf16>
    return %o : tensor<?x?x2x64xbf16>
  }
}

// -----

// ...thread loads are not overlapped, so two stages need TMA or cp.async...
module attributes {linac.target = "cuda:sm_90a"} {
  // expected-error @+1 {{has a schedule with stages = 2 but thread loads (two stages overlap the next chunk's TMA or cp.async copies with this chunk)}}
  func.func @two_stages_without_tma(%q: tensor<?x?x2x64xbf16> {linac.arg = "q"},
                                    %k: tensor<?x?x2x64xbf16> {linac.arg = "k"},
                                    %v: tensor<?x?x2x64xbf16> {linac.arg = "v"})
      -> (tensor<?x?x2x64xbf16> {linac.arg = "o"}) {
    %o = linac.recurrence decay(none)
        q(%q : tensor<?x?x2x64xbf16>) k(%k : tensor<?x?x2x64xbf16>)
        v(%v : tensor<?x?x2x64xbf16>)
        {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, value_tile = 64, warps = 4, stages = 2>}
        -> tensor<?x?x2x64xbf16>
    return %o : tensor<?x?x2x64xbf16>
  }
}

// -----

// ...and cp.async copies always run one chunk ahead.
module attributes {linac.target = "cuda:sm_80"} {
  // expected-error @+1 {{has a schedule with load = "cp.async" and stages = 1 (the asynchronous copies run one chunk ahead: stages = 2)}}
  func.func @cp_async_one_stage(%q: tensor<?x?x2x64xbf16> {linac.arg = "q"},
                                %k: tensor<?x?x2x64xbf16> {linac.arg = "k"},
                                %v: tensor<?x?x2x64xbf16> {linac.arg = "v"})
      -> (tensor<?x?x2x64xbf16> {linac.arg = "o"}) {
    %o = linac.recurrence decay(none)
        q(%q : tensor<?x?x2x64xbf16>) k(%k : tensor<?x?x2x64xbf16>)
        v(%v : tensor<?x?x2x64xbf16>)
        {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, value_tile = 64, warps = 4, stages = 1, load = "cp.async">}
        -> tensor<?x?x2x64xbf16>
    return %o : tensor<?x?x2x64xbf16>
  }
}
