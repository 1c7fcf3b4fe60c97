// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-select=target=cuda:sm_90a | FileCheck %s --check-prefixes=CHECK,SM90
// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-select=target=cuda:sm_80 | FileCheck %s --check-prefixes=CHECK,SM80

// The CUDA schedule: one task per block of 4 warps, and the widest value
// tile (at most 64 columns, a multiple
// of the n8 MMA fragment), then the longest chunk, whose shared-memory tiles
// fit the chip (227 KiB on sm_90a, 163 KiB on sm_80).
//
// GLA at K = V = 128 keeps four C x K gate tiles: C = 64 would need 277 KiB,
// C = 32 with 64 value columns needs 151 KiB. A scalar gate has 1-column
// gate tiles, so C = 64 fits. Decode has no chunk. At K = V = 256 only
// C = 16 fits, with 64 columns on sm_90a but 32 on sm_80. A small V (24) is
// one tile. On sm_90a the chunk tiles come through TMA, with two stages
// (a buffer per tile, the next chunk's copies in flight) when those
// buffers fit too, else one shared buffer (below: the delta rule's C = 64
// and RWKV-6's C = 32 at K = 128). sm_80 has no TMA: its threads'
// asynchronous copies (cp.async) run one chunk ahead where the per-tile
// buffers fit at the chosen chunk, else thread loads; decode has neither.
// CHECK-LABEL: func.func @gpu
// SM90: #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 0, value_tile = 64, warps = 4, stages = 2, mma = "wgmma", load = "tma">
// SM80: #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 0, value_tile = 64, warps = 4, stages = 1>
// SM90: #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, value_tile = 64, warps = 4, stages = 2, mma = "wgmma", load = "tma">
// SM80: #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, value_tile = 64, warps = 4, stages = 1>
// CHECK: #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 0, value_tile = 64, warps = 4, stages = 1>
// SM90: #linac.schedule<algorithm = chunked, chunk_size = 16, vector_width = 0, value_tile = 64, warps = 4, stages = 2, mma = "wgmma", load = "tma">
// SM80: #linac.schedule<algorithm = chunked, chunk_size = 16, vector_width = 0, value_tile = 32, warps = 4, stages = 1>
// SM90: #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, value_tile = 24, warps = 4, stages = 2, mma = "wgmma", load = "tma">
// SM80: #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, value_tile = 24, warps = 4, stages = 2, load = "cp.async">
func.func @gpu(%q: tensor<1x8x2x128xbf16>, %g: tensor<1x8x2x128xf32>,
               %gs: tensor<1x8x2xf32>, %q2: tensor<1x8x2x256xbf16>,
               %g2: tensor<1x8x2x256xf32>, %v: tensor<1x8x2x24xbf16>)
    -> (tensor<1x8x2x128xbf16>, tensor<1x8x2x128xbf16>,
        tensor<1x8x2x128xbf16>, tensor<1x8x2x256xbf16>,
        tensor<1x8x2x24xbf16>) {
  %0 = linac.recurrence decay(diagonal)
      q(%q : tensor<1x8x2x128xbf16>) k(%q : tensor<1x8x2x128xbf16>)
      v(%q : tensor<1x8x2x128xbf16>) g(%g : tensor<1x8x2x128xf32>)
      -> tensor<1x8x2x128xbf16>
  %1 = linac.recurrence decay(scalar)
      q(%q : tensor<1x8x2x128xbf16>) k(%q : tensor<1x8x2x128xbf16>)
      v(%q : tensor<1x8x2x128xbf16>) g(%gs : tensor<1x8x2xf32>)
      -> tensor<1x8x2x128xbf16>
  %2 = linac.recurrence decay(diagonal)
      q(%q : tensor<1x8x2x128xbf16>) k(%q : tensor<1x8x2x128xbf16>)
      v(%q : tensor<1x8x2x128xbf16>) g(%g : tensor<1x8x2x128xf32>)
      {linac.mode = "decode"} -> tensor<1x8x2x128xbf16>
  %3 = linac.recurrence decay(diagonal)
      q(%q2 : tensor<1x8x2x256xbf16>) k(%q2 : tensor<1x8x2x256xbf16>)
      v(%q2 : tensor<1x8x2x256xbf16>) g(%g2 : tensor<1x8x2x256xf32>)
      -> tensor<1x8x2x256xbf16>
  %4 = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x128xbf16>) k(%q : tensor<1x8x2x128xbf16>)
      v(%v : tensor<1x8x2x24xbf16>) -> tensor<1x8x2x24xbf16>
  return %0, %1, %2, %3, %4 : tensor<1x8x2x128xbf16>, tensor<1x8x2x128xbf16>,
      tensor<1x8x2x128xbf16>, tensor<1x8x2x256xbf16>, tensor<1x8x2x24xbf16>
}

// -----

// A spec's chunk size and value tile fix the choice; a schedule written by
// hand is kept.
// CHECK-LABEL: func.func @requested
// SM90: #linac.schedule<algorithm = chunked, chunk_size = 16, vector_width = 0, value_tile = 32, warps = 4, stages = 2, mma = "wgmma", load = "tma">
// SM80: #linac.schedule<algorithm = chunked, chunk_size = 16, vector_width = 0, value_tile = 32, warps = 4, stages = 2, load = "cp.async">
// CHECK: #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, value_tile = 8, warps = 2, stages = 1>
func.func @requested(%q: tensor<1x8x2x128xbf16>, %g: tensor<1x8x2x128xf32>)
    -> (tensor<1x8x2x128xbf16>, tensor<1x8x2x128xbf16>) {
  %0 = linac.recurrence decay(diagonal)
      q(%q : tensor<1x8x2x128xbf16>) k(%q : tensor<1x8x2x128xbf16>)
      v(%q : tensor<1x8x2x128xbf16>) g(%g : tensor<1x8x2x128xf32>)
      {linac.chunk_size = 16 : i64, linac.value_tile = 32 : i64}
      -> tensor<1x8x2x128xbf16>
  %1 = linac.recurrence decay(diagonal)
      q(%q : tensor<1x8x2x128xbf16>) k(%q : tensor<1x8x2x128xbf16>)
      v(%q : tensor<1x8x2x128xbf16>) g(%g : tensor<1x8x2x128xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, value_tile = 8, warps = 2, stages = 1>}
      -> tensor<1x8x2x128xbf16>
  return %0, %1 : tensor<1x8x2x128xbf16>, tensor<1x8x2x128xbf16>
}

// -----

// Nothing fits: a requested chunk of 64 at K = 256 needs more than 227 KiB
// for its q, k and gate tiles alone.
func.func @too_big(%q: tensor<1x8x2x256xbf16>, %g: tensor<1x8x2x256xf32>)
    -> tensor<1x8x2x256xbf16> {
  // expected-error @+1 {{has no schedule for cuda:sm_}}
  %0 = linac.recurrence decay(diagonal)
      q(%q : tensor<1x8x2x256xbf16>) k(%q : tensor<1x8x2x256xbf16>)
      v(%q : tensor<1x8x2x256xbf16>) g(%g : tensor<1x8x2x256xf32>)
      {linac.chunk_size = 64 : i64} -> tensor<1x8x2x256xbf16>
  return %0 : tensor<1x8x2x256xbf16>
}

// -----

// The delta rule, dplr and RWKV-6 take value tiles like the rest (their
// state columns are independent too), and their extra tiles count: at
// K = V = 128 the gated delta rule (beta, K Kᵀ, (K ⊙ Γ) S, U) fits C = 64 on
// sm_90a (198144 bytes) but only C = 32 on sm_80 (107264); dplr (a, b, W,
// the right-hand side, three more C x C scores, the delayed k, v, b, g and
// their gates) only C = 16, with 32 columns on sm_80; RWKV-6 (the shifted
// k, v, g) C = 32 on sm_90a, C = 16 on sm_80. Decode needs a few rows.
// CHECK-LABEL: func.func @rank_one
// SM90: #linac.schedule<algorithm = chunked_wy, chunk_size = 64, vector_width = 0, value_tile = 64, warps = 4, stages = 1, mma = "wgmma", load = "tma">
// SM80: #linac.schedule<algorithm = chunked_wy, chunk_size = 32, vector_width = 0, value_tile = 64, warps = 4, stages = 2, load = "cp.async">
// SM90: #linac.schedule<algorithm = chunked_wy, chunk_size = 16, vector_width = 0, value_tile = 64, warps = 4, stages = 2, load = "tma">
// SM80: #linac.schedule<algorithm = chunked_wy, chunk_size = 16, vector_width = 0, value_tile = 32, warps = 4, stages = 1>
// SM90: #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 0, value_tile = 64, warps = 4, stages = 1, mma = "wgmma", load = "tma">
// SM80: #linac.schedule<algorithm = chunked, chunk_size = 16, vector_width = 0, value_tile = 64, warps = 4, stages = 2, load = "cp.async">
// CHECK: #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 0, value_tile = 64, warps = 4, stages = 1>
func.func @rank_one(%q: tensor<1x8x2x128xbf16>, %gs: tensor<1x8x2xf32>,
                    %beta: tensor<1x8x2xf32>, %g: tensor<1x8x2x128xf32>,
                    %u: tensor<2x128xf32>)
    -> (tensor<1x8x2x128xbf16>, tensor<1x8x2x128xbf16>,
        tensor<1x8x2x128xbf16>, tensor<1x8x2x128xbf16>) {
  %0 = linac.recurrence decay(scalar) rank_one(delta) feature_map(l2norm)
      q(%q : tensor<1x8x2x128xbf16>) k(%q : tensor<1x8x2x128xbf16>)
      v(%q : tensor<1x8x2x128xbf16>) g(%gs : tensor<1x8x2xf32>)
      beta(%beta : tensor<1x8x2xf32>) -> tensor<1x8x2x128xbf16>
  %1 = linac.recurrence decay(diagonal) rank_one(dplr)
      q(%q : tensor<1x8x2x128xbf16>) k(%q : tensor<1x8x2x128xbf16>)
      v(%q : tensor<1x8x2x128xbf16>) g(%g : tensor<1x8x2x128xf32>)
      a(%g : tensor<1x8x2x128xf32>) b(%g : tensor<1x8x2x128xf32>)
      -> tensor<1x8x2x128xbf16>
  %2 = linac.recurrence decay(diagonal) output(previous_state_plus_bonus)
      q(%q : tensor<1x8x2x128xbf16>) k(%q : tensor<1x8x2x128xbf16>)
      v(%q : tensor<1x8x2x128xbf16>) g(%g : tensor<1x8x2x128xf32>)
      u(%u : tensor<2x128xf32>) -> tensor<1x8x2x128xbf16>
  %3 = linac.recurrence decay(diagonal) rank_one(dplr)
      q(%q : tensor<1x8x2x128xbf16>) k(%q : tensor<1x8x2x128xbf16>)
      v(%q : tensor<1x8x2x128xbf16>) g(%g : tensor<1x8x2x128xf32>)
      a(%g : tensor<1x8x2x128xf32>) b(%g : tensor<1x8x2x128xf32>)
      {linac.mode = "decode"} -> tensor<1x8x2x128xbf16>
  return %0, %1, %2, %3 : tensor<1x8x2x128xbf16>, tensor<1x8x2x128xbf16>,
      tensor<1x8x2x128xbf16>, tensor<1x8x2x128xbf16>
}

// -----

// TMA loads (sm_90a prefill) need rows of whole 16-byte units: bf16 heads of
// 12 give none, so no load field. When its staging buffer would not fit,
// the same chunk and value tile are taken without it rather than a smaller
// chunk: f32 GLA at K = V = 192 fits C = 32 with 64 value columns in
// 219392 bytes, but not a 32 x 192 f32 staging tile more.
// CHECK-LABEL: func.func @tma_choice
// SM90: #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, value_tile = 12, warps = 4, stages = 1, mma = "wgmma">
// SM80: #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, value_tile = 12, warps = 4, stages = 1>
// SM90: #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 0, value_tile = 64, warps = 4, stages = 1>
// SM80: #linac.schedule<algorithm = chunked, chunk_size = 16, vector_width = 0, value_tile = 64, warps = 4, stages = 1>
func.func @tma_choice(%q: tensor<1x8x2x12xbf16>, %q2: tensor<1x8x2x192xf32>)
    -> (tensor<1x8x2x12xbf16>, tensor<1x8x2x192xf32>) {
  %0 = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x12xbf16>) k(%q : tensor<1x8x2x12xbf16>)
      v(%q : tensor<1x8x2x12xbf16>) -> tensor<1x8x2x12xbf16>
  %1 = linac.recurrence decay(diagonal)
      q(%q2 : tensor<1x8x2x192xf32>) k(%q2 : tensor<1x8x2x192xf32>)
      v(%q2 : tensor<1x8x2x192xf32>) g(%q2 : tensor<1x8x2x192xf32>)
      -> tensor<1x8x2x192xf32>
  return %0, %1 : tensor<1x8x2x12xbf16>, tensor<1x8x2x192xf32>
}
