// RUN: linac-opt %s | linac-opt | FileCheck %s
// RUN: linac-opt %s --mlir-print-op-generic | linac-opt | FileCheck %s
// RUN: linac-opt %s --emit-bytecode | linac-opt | FileCheck %s

// Round trip of every form of the chunked-scan ops (LinacChunkOps.td): each
// optional part (gates, feature_map, scale, pad), strided windows, rank-3
// sources with a 1-column tile, f16/bf16 tensors. The shapes are those
// linac-chunk produces for C = 32, K = 16, Vt = 16, sub-chunks of 16.

// Tile ops, with a strided state window on either side of tile_copy.
// CHECK-LABEL: func.func @tiles
// CHECK: linac.tile_zero outs(%{{.*}} : memref<16x16xf32>)
// CHECK: linac.tile_copy ins(%{{.*}} : memref<16x16xf32, strided<[?, 1], offset: ?>>) outs(%{{.*}} : memref<16x16xf32>)
// CHECK: linac.tile_copy ins(%{{.*}} : memref<16x16xf32>) outs(%{{.*}} : memref<16x16xf32, strided<[?, 1], offset: ?>>)
func.func @tiles(%w: memref<16x16xf32, strided<[?, 1], offset: ?>>,
                 %s: memref<16x16xf32>) {
  linac.tile_zero outs(%s : memref<16x16xf32>)
  linac.tile_copy ins(%w : memref<16x16xf32, strided<[?, 1], offset: ?>>)
                  outs(%s : memref<16x16xf32>)
  linac.tile_copy ins(%s : memref<16x16xf32>)
                  outs(%w : memref<16x16xf32, strided<[?, 1], offset: ?>>)
  return
}

// chunk_load: bare; with every optional part (the feature map is printed
// before scale, scale before pad); each feature map; a rank-3 source of
// scalar gates into a 1-column tile; bf16 and f16 sources.
// CHECK-LABEL: func.func @loads
// CHECK: linac.chunk_load %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] len(%{{.*}}) : memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>> into %{{.*}} : memref<32x16xf32>
// CHECK: linac.chunk_load %{{.*}} len(%{{.*}}) feature_map(l2norm) scale(2.500000e-01) pad(0.000000e+00) : memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>> into %{{.*}} : memref<32x16xf32>
// CHECK: linac.chunk_load %{{.*}} len(%{{.*}}) feature_map(elu_plus_one) : memref
// CHECK: linac.chunk_load %{{.*}} len(%{{.*}}) feature_map(relu) : memref
// CHECK: linac.chunk_load %{{.*}} len(%{{.*}}) feature_map(silu) scale(1.250000e-01) : memref
// CHECK: linac.chunk_load %{{.*}} len(%{{.*}}) pad(-1.000000e+00) : memref<?x?x2xf32, strided<[?, ?, 1], offset: ?>> into %{{.*}} : memref<32x1xf32>
// CHECK: linac.chunk_load %{{.*}} len(%{{.*}}) : memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>> into %{{.*}} : memref<32x16xf32>
// CHECK: linac.chunk_load %{{.*}} len(%{{.*}}) : memref<1x7x2xf16> into %{{.*}} : memref<32x1xf32>
func.func @loads(%x: memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>>,
                 %g: memref<?x?x2xf32, strided<[?, ?, 1], offset: ?>>,
                 %xb: memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>>,
                 %gh: memref<1x7x2xf16>,
                 %b: index, %t: index, %h: index, %n: index,
                 %tile: memref<32x16xf32>, %col: memref<32x1xf32>) {
  %c0 = arith.constant 0 : index
  linac.chunk_load %x[%b, %t, %h, %c0] len(%n)
      : memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>> into %tile : memref<32x16xf32>
  linac.chunk_load %x[%b, %t, %h, %c0] len(%n) feature_map(l2norm) scale(0.25) pad(0.0)
      : memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>> into %tile : memref<32x16xf32>
  linac.chunk_load %x[%b, %t, %h, %c0] len(%n) feature_map(elu_plus_one)
      : memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>> into %tile : memref<32x16xf32>
  linac.chunk_load %x[%b, %t, %h, %c0] len(%n) feature_map(relu)
      : memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>> into %tile : memref<32x16xf32>
  linac.chunk_load %x[%b, %t, %h, %c0] len(%n) feature_map(silu) scale(0.125)
      : memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>> into %tile : memref<32x16xf32>
  linac.chunk_load %g[%b, %t, %h, %c0] len(%n) pad(-1.0)
      : memref<?x?x2xf32, strided<[?, ?, 1], offset: ?>> into %col : memref<32x1xf32>
  linac.chunk_load %xb[%b, %t, %h, %c0] len(%n)
      : memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>> into %tile : memref<32x16xf32>
  linac.chunk_load %gh[%b, %t, %h, %c0] len(%n)
      : memref<1x7x2xf16> into %col : memref<32x1xf32>
  return
}

// chunk_store into f32 and bf16 tensors, and from a tile narrower than the
// tensor rows (one value tile of several).
// CHECK-LABEL: func.func @stores
// CHECK: linac.chunk_store %{{.*}} into %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] len(%{{.*}}) : memref<32x16xf32> into memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>>
// CHECK: linac.chunk_store %{{.*}} len(%{{.*}}) : memref<32x16xf32> into memref<?x?x2x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
func.func @stores(%o: memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>>,
                  %ob: memref<?x?x2x64xbf16, strided<[?, ?, ?, 1], offset: ?>>,
                  %b: index, %t: index, %h: index, %c: index, %n: index,
                  %tile: memref<32x16xf32>) {
  %c0 = arith.constant 0 : index
  linac.chunk_store %tile into %o[%b, %t, %h, %c0] len(%n)
      : memref<32x16xf32> into memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>>
  linac.chunk_store %tile into %ob[%b, %t, %h, %c] len(%n)
      : memref<32x16xf32> into memref<?x?x2x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  return
}

// chunk_gates on per-key (C x K) and scalar (C x 1) gates.
// CHECK-LABEL: func.func @gates
// CHECK: linac.chunk_gates ins(%{{.*}} : memref<32x16xf32>) outs(%{{.*}}, %{{.*}}, %{{.*}} : memref<32x16xf32>, memref<32x16xf32>, memref<32x16xf32>) sub_chunk(16)
// CHECK: linac.chunk_gates ins(%{{.*}} : memref<32x1xf32>) outs(%{{.*}}, %{{.*}}, %{{.*}} : memref<32x1xf32>, memref<32x1xf32>, memref<32x1xf32>) sub_chunk(8)
// CHECK: linac.chunk_gates ins(%{{.*}} : memref<1x16xf32>) {{.*}} sub_chunk(1)
func.func @gates(%g: memref<32x16xf32>, %g1: memref<32x1xf32>,
                 %row: memref<1x16xf32>) {
  linac.chunk_gates ins(%g : memref<32x16xf32>)
      outs(%g, %g, %g : memref<32x16xf32>, memref<32x16xf32>, memref<32x16xf32>)
      sub_chunk(16)
  linac.chunk_gates ins(%g1 : memref<32x1xf32>)
      outs(%g1, %g1, %g1 : memref<32x1xf32>, memref<32x1xf32>, memref<32x1xf32>)
      sub_chunk(8)
  linac.chunk_gates ins(%row : memref<1x16xf32>)
      outs(%row, %row, %row : memref<1x16xf32>, memref<1x16xf32>, memref<1x16xf32>)
      sub_chunk(1)
  return
}

// chunk_scores without gates, with per-key and with scalar gates.
// CHECK-LABEL: func.func @scores
// CHECK: linac.chunk_scores ins(%{{.*}}, %{{.*}} : memref<32x16xf32>, memref<32x16xf32>) outs(%{{.*}} : memref<32x32xf32>) sub_chunk(16)
// CHECK: linac.chunk_scores ins(%{{.*}}, %{{.*}} : memref<32x16xf32>, memref<32x16xf32>) gates(%{{.*}}, %{{.*}}, %{{.*}} : memref<32x16xf32>, memref<32x16xf32>, memref<32x16xf32>) outs(%{{.*}} : memref<32x32xf32>) sub_chunk(16)
// CHECK: linac.chunk_scores {{.*}} gates(%{{.*}}, %{{.*}}, %{{.*}} : memref<32x1xf32>, memref<32x1xf32>, memref<32x1xf32>) outs(%{{.*}} : memref<32x32xf32>) sub_chunk(32)
func.func @scores(%q: memref<32x16xf32>, %g: memref<32x16xf32>,
                  %g1: memref<32x1xf32>, %a: memref<32x32xf32>) {
  linac.chunk_scores ins(%q, %q : memref<32x16xf32>, memref<32x16xf32>)
      outs(%a : memref<32x32xf32>) sub_chunk(16)
  linac.chunk_scores ins(%q, %q : memref<32x16xf32>, memref<32x16xf32>)
      gates(%g, %g, %g : memref<32x16xf32>, memref<32x16xf32>, memref<32x16xf32>)
      outs(%a : memref<32x32xf32>) sub_chunk(16)
  linac.chunk_scores ins(%q, %q : memref<32x16xf32>, memref<32x16xf32>)
      gates(%g1, %g1, %g1 : memref<32x1xf32>, memref<32x1xf32>, memref<32x1xf32>)
      outs(%a : memref<32x32xf32>) sub_chunk(32)
  return
}

// chunk_attend: V tile wider than K.
// CHECK-LABEL: func.func @attend
// CHECK: linac.chunk_attend ins(%{{.*}}, %{{.*}} : memref<32x32xf32>, memref<32x48xf32>) outs(%{{.*}} : memref<32x48xf32>)
func.func @attend(%a: memref<32x32xf32>, %v: memref<32x48xf32>) {
  linac.chunk_attend ins(%a, %v : memref<32x32xf32>, memref<32x48xf32>)
      outs(%v : memref<32x48xf32>)
  return
}

// chunk_inter without and with its prefix gate.
// CHECK-LABEL: func.func @inter
// CHECK: linac.chunk_inter ins(%{{.*}}, %{{.*}} : memref<32x16xf32>, memref<16x48xf32>) outs(%{{.*}} : memref<32x48xf32>) sub_chunk(16)
// CHECK: linac.chunk_inter ins(%{{.*}}, %{{.*}} : memref<32x16xf32>, memref<16x48xf32>) gates(%{{.*}} : memref<32x1xf32>) outs(%{{.*}} : memref<32x48xf32>) sub_chunk(16)
func.func @inter(%q: memref<32x16xf32>, %s: memref<16x48xf32>,
                 %p: memref<32x1xf32>, %o: memref<32x48xf32>) {
  linac.chunk_inter ins(%q, %s : memref<32x16xf32>, memref<16x48xf32>)
      outs(%o : memref<32x48xf32>) sub_chunk(16)
  linac.chunk_inter ins(%q, %s : memref<32x16xf32>, memref<16x48xf32>)
      gates(%p : memref<32x1xf32>) outs(%o : memref<32x48xf32>) sub_chunk(16)
  return
}

// chunk_state_update without and with (prefix, suffix); the state may be a
// strided window.
// CHECK-LABEL: func.func @state_update
// CHECK: linac.chunk_state_update ins(%{{.*}}, %{{.*}} : memref<32x16xf32>, memref<32x48xf32>) outs(%{{.*}} : memref<16x48xf32>) sub_chunk(16)
// CHECK: linac.chunk_state_update ins(%{{.*}}, %{{.*}} : memref<32x16xf32>, memref<32x48xf32>) gates(%{{.*}}, %{{.*}} : memref<32x16xf32>, memref<32x16xf32>) outs(%{{.*}} : memref<16x48xf32, strided<[?, 1], offset: ?>>) sub_chunk(16)
func.func @state_update(%k: memref<32x16xf32>, %v: memref<32x48xf32>,
                        %s: memref<16x48xf32>,
                        %w: memref<16x48xf32, strided<[?, 1], offset: ?>>) {
  linac.chunk_state_update ins(%k, %v : memref<32x16xf32>, memref<32x48xf32>)
      outs(%s : memref<16x48xf32>) sub_chunk(16)
  linac.chunk_state_update ins(%k, %v : memref<32x16xf32>, memref<32x48xf32>)
      gates(%k, %k : memref<32x16xf32>, memref<32x16xf32>)
      outs(%w : memref<16x48xf32, strided<[?, 1], offset: ?>>) sub_chunk(16)
  return
}

// recurrent_step: no decay, per-key decay, scalar (1 x 1) decay; state in
// and out as the same or different windows.
// CHECK-LABEL: func.func @step
// CHECK: linac.recurrent_step ins(%{{.*}}, %{{.*}}, %{{.*}} : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>) state(%[[W:.*]] : memref<16x48xf32, strided<[?, 1], offset: ?>>) outs(%[[W]], %{{.*}} : memref<16x48xf32, strided<[?, 1], offset: ?>>, memref<1x48xf32>)
// CHECK: linac.recurrent_step ins({{.*}}) gates(%{{.*}} : memref<1x16xf32>) state(%{{.*}} : memref<16x48xf32>) outs(%{{.*}}, %{{.*}} : memref<16x48xf32, strided<[?, 1], offset: ?>>, memref<1x48xf32>)
// CHECK: linac.recurrent_step ins({{.*}}) gates(%{{.*}} : memref<1x1xf32>) state(
// CHECK: linac.recurrent_step ins({{.*}}) gates(%{{.*}} : memref<1x1xf32>) beta(%{{.*}} : memref<1x1xf32>) state(
// CHECK: linac.recurrent_step ins({{.*}}) beta(%{{.*}} : memref<1x1xf32>) state(
func.func @step(%q: memref<1x16xf32>, %v: memref<1x48xf32>,
                %d1: memref<1x1xf32>, %s: memref<16x48xf32>,
                %w: memref<16x48xf32, strided<[?, 1], offset: ?>>) {
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      state(%w : memref<16x48xf32, strided<[?, 1], offset: ?>>)
      outs(%w, %v : memref<16x48xf32, strided<[?, 1], offset: ?>>, memref<1x48xf32>)
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      gates(%q : memref<1x16xf32>)
      state(%s : memref<16x48xf32>)
      outs(%w, %v : memref<16x48xf32, strided<[?, 1], offset: ?>>, memref<1x48xf32>)
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      gates(%d1 : memref<1x1xf32>)
      state(%s : memref<16x48xf32>)
      outs(%s, %v : memref<16x48xf32>, memref<1x48xf32>)
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      gates(%d1 : memref<1x1xf32>) beta(%d1 : memref<1x1xf32>)
      state(%s : memref<16x48xf32>)
      outs(%s, %v : memref<16x48xf32>, memref<1x48xf32>)
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      beta(%d1 : memref<1x1xf32>)
      state(%s : memref<16x48xf32>)
      outs(%s, %v : memref<16x48xf32>, memref<1x48xf32>)
  return
}

// chunk_delta_solve: the delta rule's new values of a chunk.
// CHECK-LABEL: func.func @delta_solve
// CHECK: linac.chunk_delta_solve ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : memref<32x32xf32>, memref<32x1xf32>, memref<32x48xf32>, memref<32x48xf32>) outs(%{{.*}} : memref<32x48xf32>)
func.func @delta_solve(%kk: memref<32x32xf32>, %beta: memref<32x1xf32>,
                       %v: memref<32x48xf32>, %ks: memref<32x48xf32>,
                       %u: memref<32x48xf32>) {
  linac.chunk_delta_solve ins(%kk, %beta, %v, %ks : memref<32x32xf32>, memref<32x1xf32>, memref<32x48xf32>, memref<32x48xf32>)
      outs(%u : memref<32x48xf32>)
  return
}

// tile_shift_rows and chunk_bonus: RWKV-6's delayed inputs and bonus; a
// decode step with a bonus.
// CHECK-LABEL: func.func @rwkv6_ops
// CHECK: linac.tile_shift_rows ins(%{{.*}} : memref<32x16xf32>) carry(%{{.*}} : memref<1x16xf32>) len(%{{.*}}) outs(%{{.*}} : memref<32x16xf32>)
// CHECK: linac.chunk_bonus ins(%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : memref<32x16xf32>, memref<32x16xf32>, memref<1x16xf32>, memref<32x48xf32>) outs(%{{.*}} : memref<32x48xf32>)
// CHECK: linac.recurrent_step ins({{.*}}) gates(%{{.*}} : memref<1x16xf32>) bonus(%{{.*}} : memref<1x16xf32>) state(
func.func @rwkv6_ops(%k: memref<32x16xf32>, %ks: memref<32x16xf32>,
                     %carry: memref<1x16xf32>, %n: index,
                     %v: memref<32x48xf32>, %o: memref<32x48xf32>,
                     %row: memref<1x16xf32>, %vrow: memref<1x48xf32>,
                     %s: memref<16x48xf32>) {
  linac.tile_shift_rows ins(%k : memref<32x16xf32>) carry(%carry : memref<1x16xf32>)
      len(%n) outs(%ks : memref<32x16xf32>)
  linac.chunk_bonus ins(%k, %ks, %carry, %v : memref<32x16xf32>, memref<32x16xf32>, memref<1x16xf32>, memref<32x48xf32>)
      outs(%o : memref<32x48xf32>)
  linac.recurrent_step ins(%row, %row, %vrow : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      gates(%row : memref<1x16xf32>) bonus(%carry : memref<1x16xf32>)
      state(%s : memref<16x48xf32>)
      outs(%s, %vrow : memref<16x48xf32>, memref<1x48xf32>)
  return
}

// The dplr pieces: the solve for the reads, a state update with a second
// rank-one sum, and a decode step with a low-rank transition.
// CHECK-LABEL: func.func @dplr_ops
// CHECK: linac.chunk_dplr_solve ins(%{{.*}}, %{{.*}} : memref<32x32xf32>, memref<32x48xf32>) outs(%{{.*}} : memref<32x48xf32>)
// CHECK: linac.chunk_state_update ins(%{{.*}}, %{{.*}} : memref<32x16xf32>, memref<32x48xf32>) pair(%{{.*}}, %{{.*}} : memref<32x16xf32>, memref<32x48xf32>) gates(%{{.*}}, %{{.*}} : memref<32x16xf32>, memref<32x16xf32>) outs(%{{.*}} : memref<16x48xf32>) sub_chunk(16)
// CHECK: linac.recurrent_step ins({{.*}}) gates(%{{.*}} : memref<1x16xf32>) lowrank(%{{.*}}, %{{.*}} : memref<1x16xf32>, memref<1x16xf32>) state(
func.func @dplr_ops(%ab: memref<32x32xf32>, %rhs: memref<32x48xf32>,
                    %w: memref<32x48xf32>, %k: memref<32x16xf32>,
                    %s: memref<16x48xf32>, %row: memref<1x16xf32>,
                    %vrow: memref<1x48xf32>) {
  linac.chunk_dplr_solve ins(%ab, %rhs : memref<32x32xf32>, memref<32x48xf32>)
      outs(%w : memref<32x48xf32>)
  linac.chunk_state_update ins(%k, %rhs : memref<32x16xf32>, memref<32x48xf32>)
      pair(%k, %w : memref<32x16xf32>, memref<32x48xf32>)
      gates(%k, %k : memref<32x16xf32>, memref<32x16xf32>)
      outs(%s : memref<16x48xf32>) sub_chunk(16)
  linac.recurrent_step ins(%row, %row, %vrow : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      gates(%row : memref<1x16xf32>) lowrank(%row, %row : memref<1x16xf32>, memref<1x16xf32>)
      state(%s : memref<16x48xf32>)
      outs(%s, %vrow : memref<16x48xf32>, memref<1x48xf32>)
  return
}


// chunk_normalize: the sum normalizer's division by a column of the ones
// side's output.
// CHECK-LABEL: func.func @normalize
// CHECK: linac.chunk_normalize ins(%{{.*}} : memref<32x16xf32>) outs(%{{.*}} : memref<32x48xf32>) eps(5.000000e-01)
func.func @normalize(%den: memref<32x16xf32>, %o: memref<32x48xf32>) {
  linac.chunk_normalize ins(%den : memref<32x16xf32>) outs(%o : memref<32x48xf32>) eps(0.5)
  return
}

// tile_taylor2: the Based features of raw q/k rows, padded to 32 columns.
// CHECK-LABEL: func.func @taylor2
// CHECK: linac.tile_taylor2 ins(%{{.*}} : memref<32x4xf32>) len(%{{.*}}) outs(%{{.*}} : memref<32x32xf32>) scale(2.500000e-01)
// CHECK: linac.tile_taylor2 ins(%{{.*}} : memref<32x4xf32>) len(%{{.*}}) outs(%{{.*}} : memref<32x21xf32>)
func.func @taylor2(%x: memref<32x4xf32>, %n: index, %phi: memref<32x32xf32>,
                   %exact: memref<32x21xf32>) {
  linac.tile_taylor2 ins(%x : memref<32x4xf32>) len(%n) outs(%phi : memref<32x32xf32>) scale(0.25)
  linac.tile_taylor2 ins(%x : memref<32x4xf32>) len(%n) outs(%exact : memref<32x21xf32>)
  return
}
