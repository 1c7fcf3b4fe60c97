// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-select | FileCheck %s
// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-select="target=cpu cpu=x86-64-v3" | FileCheck %s --check-prefix=AVX2
// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-select="target=cuda:sm_90a" | FileCheck %s --check-prefix=CUDA
// RUN: not linac-opt %s -split-input-file -linac-select="target=tpu" 2>&1 | FileCheck %s --check-prefix=BADTARGET

// Diagonal transitions are chunked; decode is recurrent.
// CHECK-LABEL: func.func @gla
// CHECK: linac.recurrence decay(diagonal) {{.*}} {linac.mode = "prefill", linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 16, value_tile = 16>}
// CHECK: linac.recurrence decay(diagonal) {{.*}} {linac.mode = "decode", linac.schedule = #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 16, value_tile = 16>}
// AVX2-LABEL: func.func @gla
// AVX2: #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 8, value_tile = 16>
// CUDA-LABEL: func.func @gla
// CUDA: #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, value_tile = 16, warps = 4, stages = 2, load = "tma">
// BADTARGET: error: linac-select: unknown target 'tpu'
func.func @gla(%q: tensor<1x8x2x16xf32>, %g: tensor<1x8x2x16xf32>)
    -> (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>) {
  %0 = linac.recurrence decay(diagonal)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) g(%g : tensor<1x8x2x16xf32>)
      {linac.mode = "prefill"} -> tensor<1x8x2x16xf32>
  %1 = linac.recurrence decay(diagonal)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) g(%g : tensor<1x8x2x16xf32>)
      {linac.mode = "decode"} -> tensor<1x8x2x16xf32>
  return %0, %1 : tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>
}

// -----

// Rank-one transitions use the WY/UT form; a requested chunk size wins; the
// module's target attributes are the default target.
// CHECK-LABEL: func.func @delta
// CHECK: #linac.schedule<algorithm = chunked_wy, chunk_size = 32, vector_width = 8, value_tile = 16>
// CHECK: #linac.schedule<algorithm = chunked_wy, chunk_size = 64, vector_width = 8, value_tile = 16>
module attributes {linac.target = "cpu", linac.cpu = "x86-64-v3"} {
  func.func @delta(%q: tensor<1x8x2x16xf32>, %beta: tensor<1x8x2xf32>)
      -> (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>) {
    %0 = linac.recurrence decay(none) rank_one(delta)
        q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
        v(%q : tensor<1x8x2x16xf32>) beta(%beta : tensor<1x8x2xf32>)
        {linac.chunk_size = 32 : i64} -> tensor<1x8x2x16xf32>
    %1 = linac.recurrence decay(diagonal) rank_one(dplr)
        q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
        v(%q : tensor<1x8x2x16xf32>) g(%q : tensor<1x8x2x16xf32>)
        a(%q : tensor<1x8x2x16xf32>) b(%q : tensor<1x8x2x16xf32>)
        -> tensor<1x8x2x16xf32>
    return %0, %1 : tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>
  }
}

// -----

// A state taller than 256 rows (taylor2 of K = 16: 273) gets chunks of 32; a
// schedule written by hand is kept.
// CHECK-LABEL: func.func @tall_and_manual
// CHECK: #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 16, value_tile = 16>
// CHECK: #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 4>
func.func @tall_and_manual(%q: tensor<1x8x2x16xf32>)
    -> (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>) {
  %0 = linac.recurrence decay(none) feature_map(taylor2)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  %1 = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 4>}
      -> tensor<1x8x2x16xf32>
  return %0, %1 : tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>
}

// -----

func.func @bad_mode(%q: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  // expected-error @+1 {{unknown linac.mode 'train' (expected prefill or decode)}}
  %0 = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) {linac.mode = "train"} -> tensor<1x8x2x16xf32>
  return %0 : tensor<1x8x2x16xf32>
}

// -----

// Wide value heads are split into value tiles: 128 columns per prefill task
// (each tile recomputes the chunk scores), 64 per decode task (free: decode
// only streams the state); a spec's linac.value_tile wins.
// CHECK-LABEL: func.func @value_tiles
// CHECK: #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 16, value_tile = 128>
// CHECK: #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 16, value_tile = 64>
// CHECK: #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 16, value_tile = 32>
func.func @value_tiles(%q: tensor<1x8x2x16xf32>, %v: tensor<1x8x2x256xf32>)
    -> (tensor<1x8x2x256xf32>, tensor<1x8x2x256xf32>, tensor<1x8x2x256xf32>) {
  %0 = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%v : tensor<1x8x2x256xf32>) -> tensor<1x8x2x256xf32>
  %1 = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%v : tensor<1x8x2x256xf32>) {linac.mode = "decode"} -> tensor<1x8x2x256xf32>
  %2 = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%v : tensor<1x8x2x256xf32>) {linac.value_tile = 32 : i64} -> tensor<1x8x2x256xf32>
  return %0, %1, %2 : tensor<1x8x2x256xf32>, tensor<1x8x2x256xf32>, tensor<1x8x2x256xf32>
}

// -----

// A single value head (static HV = 1) is split in two prefill tasks of 64
// columns so that both cores work on B = 1; two heads, or an unknown head
// count, are not split, and decode keeps its own rule.
// CHECK-LABEL: func.func @one_head
// CHECK: #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 16, value_tile = 64>
// CHECK: #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 16, value_tile = 128>
// CHECK: #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 16, value_tile = 128>
// CHECK: #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 16, value_tile = 64>
func.func @one_head(%q1: tensor<1x8x1x16xf32>, %v1: tensor<1x8x1x128xf32>,
                    %q2: tensor<1x8x2x16xf32>, %v2: tensor<1x8x2x128xf32>,
                    %qd: tensor<1x8x?x16xf32>, %vd: tensor<1x8x?x128xf32>)
    -> (tensor<1x8x1x128xf32>, tensor<1x8x2x128xf32>, tensor<1x8x?x128xf32>,
        tensor<1x8x1x128xf32>) {
  %0 = linac.recurrence decay(none)
      q(%q1 : tensor<1x8x1x16xf32>) k(%q1 : tensor<1x8x1x16xf32>)
      v(%v1 : tensor<1x8x1x128xf32>) -> tensor<1x8x1x128xf32>
  %1 = linac.recurrence decay(none)
      q(%q2 : tensor<1x8x2x16xf32>) k(%q2 : tensor<1x8x2x16xf32>)
      v(%v2 : tensor<1x8x2x128xf32>) -> tensor<1x8x2x128xf32>
  %2 = linac.recurrence decay(none)
      q(%qd : tensor<1x8x?x16xf32>) k(%qd : tensor<1x8x?x16xf32>)
      v(%vd : tensor<1x8x?x128xf32>) -> tensor<1x8x?x128xf32>
  %3 = linac.recurrence decay(none)
      q(%q1 : tensor<1x8x1x16xf32>) k(%q1 : tensor<1x8x1x16xf32>)
      v(%v1 : tensor<1x8x1x128xf32>) {linac.mode = "decode"} -> tensor<1x8x1x128xf32>
  return %0, %1, %2, %3 : tensor<1x8x1x128xf32>, tensor<1x8x2x128xf32>,
      tensor<1x8x?x128xf32>, tensor<1x8x1x128xf32>
}

// -----

// Schedule hints come from the input and are checked before any tile is
// sized from them: a chunk of 2^40 rows overflowed int64 in the CUDA
// shared-memory plan (found by linac-fuzz-pipeline).
func.func @huge_chunk(%q: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  // expected-error @+1 {{linac.chunk_size 1099511627776 must be a multiple of 16 in [16, 256]}}
  %0 = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) {linac.chunk_size = 1099511627776 : i64}
      -> tensor<1x8x2x16xf32>
  return %0 : tensor<1x8x2x16xf32>
}

// -----

func.func @odd_chunk(%q: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  // expected-error @+1 {{linac.chunk_size 24 must be a multiple of 16 in [16, 256]}}
  %0 = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) {linac.chunk_size = 24 : i64}
      -> tensor<1x8x2x16xf32>
  return %0 : tensor<1x8x2x16xf32>
}

// -----

func.func @negative_chunk(%q: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  // expected-error @+1 {{linac.chunk_size -16 must be a multiple of 16 in [16, 256]}}
  %0 = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) {linac.chunk_size = -16 : i64, linac.mode = "decode"}
      -> tensor<1x8x2x16xf32>
  return %0 : tensor<1x8x2x16xf32>
}

// -----

// Wider than 64 bits: out of range, not an assertion in APInt.
func.func @wide_chunk(%q: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  // expected-error @+1 {{linac.chunk_size 18446744073709551632 must be a multiple of 16 in [16, 256]}}
  %0 = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) {linac.chunk_size = 18446744073709551632 : i128}
      -> tensor<1x8x2x16xf32>
  return %0 : tensor<1x8x2x16xf32>
}

// -----

func.func @text_chunk(%q: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  // expected-error @+1 {{linac.chunk_size must be an integer; got "64"}}
  %0 = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) {linac.chunk_size = "64"}
      -> tensor<1x8x2x16xf32>
  return %0 : tensor<1x8x2x16xf32>
}

// -----

func.func @tile_not_dividing(%q: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  // expected-error @+1 {{linac.value_tile 3 must divide V = 16}}
  %0 = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) {linac.value_tile = 3 : i64}
      -> tensor<1x8x2x16xf32>
  return %0 : tensor<1x8x2x16xf32>
}

// -----

func.func @tile_zero(%q: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  // expected-error @+1 {{linac.value_tile 0 must divide V = 16}}
  %0 = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) {linac.value_tile = 0 : i64}
      -> tensor<1x8x2x16xf32>
  return %0 : tensor<1x8x2x16xf32>
}
