// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-chunk | FileCheck %s
// RUN: linacc %linac_src_root/examples/retention.toml --emit-after=linac-select | linac-opt -linac-chunk | FileCheck %s --check-prefix=RETNET

// linac-chunk turns a function whose body is one scheduled linac.recurrence
// into NAME_task (one (sequence, value head, value tile) per call: a loop of
// chunked-scan ops, or of recurrent steps for decode) and NAME_tasks (their
// count). Small static head sizes (K = V = 16, sub-chunks of 16) keep the
// expected IR readable. The pass does not canonicalize, so constants are
// matched loosely and values by what they are computed from.

// From the front end: examples/retention.toml (16 heads, K = V = 128,
// gamma_h = 1 - 2^(-5-h)) gives a 16-way select chain of f32 log decays,
// log(31/32) for head 0 down to log(1 - 2^-20) for head 15, in both the
// prefill chunk loop (C x 1 gate tiles) and the decode step (1 x 1).
// RETNET-LABEL: func.func private @retention_prefill_task(
// RETNET: memref.alloca() : memref<128x128xf32>
// RETNET: scf.for
// RETNET: arith.constant -0.0317486972 : f32
// RETNET-COUNT-15: arith.select
// RETNET: arith.constant -9.53674771E-7 : f32
// RETNET: linac.chunk_gates ins(%{{.+}} : memref<64x1xf32>)
// RETNET-LABEL: func.func private @retention_decode_task(
// RETNET: arith.constant -0.0317486972 : f32
// RETNET: arith.constant -9.53674771E-7 : f32
// RETNET: linac.chunk_gates ins(%{{.+}} : memref<1x1xf32>) {{.*}} sub_chunk(1)
// RETNET: linac.recurrent_step {{.*}} gates(%{{.+}} : memref<1x1xf32>)

// GLA prefill with optional h0/ht and bf16 activations: the full op
// sequence of one chunk, the task decomposition and the signatures.
// CHECK-LABEL: func.func private @gla_task(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[K:[a-z0-9]+]]: memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[V:[a-z0-9]+]]: memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[G:[a-z0-9]+]]: memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[H0:[a-z0-9]+]]: memref<?x2x16x16xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[O:[a-z0-9]+]]: memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[HT:[a-z0-9]+]]: memref<?x2x16x16xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[HAS_H0:[a-z0-9]+]]: i1, %[[HAS_HT:[a-z0-9]+]]: i1, %[[TASK:[a-z0-9]+]]: index)
// CHECK-SAME: attributes {linac.kernel = "gla", linac.mode = "prefill",
// CHECK-SAME: linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 16, value_tile = 16>,
// CHECK-SAME: linac.tensors = ["q", "k", "v", "g", "h0", "o", "ht"], linac.variant = "gla"}
//
// task = (sequence * HV + value head) * tiles + tile; one tile of 16 here.
// CHECK: %[[TILES:.+]] = arith.constant 1 : index
// CHECK: %[[HV:.+]] = memref.dim %[[V]], %{{.+}}
// CHECK: %[[NH:.+]] = memref.dim %[[Q]], %{{.+}}
// CHECK: %[[PERSEQ:.+]] = arith.muli %[[HV]], %[[TILES]] : index
// CHECK: %[[SEQ:.+]] = arith.divui %[[TASK]], %[[PERSEQ]] : index
// CHECK: %[[REST:.+]] = arith.remui %[[TASK]], %[[PERSEQ]] : index
// CHECK: %[[VH:.+]] = arith.divui %[[REST]], %[[TILES]] : index
// CHECK: %[[TILE:.+]] = arith.remui %[[REST]], %[[TILES]] : index
// CHECK: %[[C16:.+]] = arith.constant 16 : index
// CHECK: %[[COL:.+]] = arith.muli %[[TILE]], %[[C16]] : index
// CHECK: %[[GROUP:.+]] = arith.divui %[[HV]], %[[NH]] : index
// CHECK: %[[HEAD:.+]] = arith.divui %[[VH]], %[[GROUP]] : index
// CHECK: %[[BEGIN:.+]] = arith.constant 0 : index
// CHECK: %[[T:.+]] = memref.dim %[[Q]], %{{.+}}
//
// Scratch: the K x Vt state, q/k/v/o and the C x C scores, then the gate
// tiles (C x K for a diagonal decay).
// CHECK: %[[S:.+]] = memref.alloca() : memref<16x16xf32>
// CHECK: %[[QT:.+]] = memref.alloca() : memref<32x16xf32>
// CHECK: %[[KT:.+]] = memref.alloca() : memref<32x16xf32>
// CHECK: %[[VT:.+]] = memref.alloca() : memref<32x16xf32>
// CHECK: %[[OT:.+]] = memref.alloca() : memref<32x16xf32>
// CHECK: %[[A:.+]] = memref.alloca() : memref<32x32xf32>
// CHECK: %[[GT:.+]] = memref.alloca() : memref<32x16xf32>
// CHECK: %[[D:.+]] = memref.alloca() : memref<32x16xf32>
// CHECK: %[[P:.+]] = memref.alloca() : memref<32x16xf32>
// CHECK: %[[SUF:.+]] = memref.alloca() : memref<32x16xf32>
//
// S = h0[seq, value head, :, col:col+16] when h0 was passed, else zeros.
// CHECK: scf.if %[[HAS_H0]] {
// CHECK-NEXT: %[[W0:.+]] = memref.subview %[[H0]][%[[SEQ]], %[[VH]], 0, %[[COL]]] [1, 1, 16, 16] [1, 1, 1, 1] : memref<?x2x16x16xf32, strided<[?, ?, ?, 1], offset: ?>> to memref<16x16xf32, strided<[?, 1], offset: ?>>
// CHECK-NEXT: linac.tile_copy ins(%[[W0]] : memref<16x16xf32, strided<[?, 1], offset: ?>>) outs(%[[S]] : memref<16x16xf32>)
// CHECK-NEXT: } else {
// CHECK-NEXT: linac.tile_zero outs(%[[S]] : memref<16x16xf32>)
// CHECK-NEXT: }
//
// Chunks of 32 tokens; the last one is short (len = min(32, T - t0)).
// CHECK: %[[C32:.+]] = arith.constant 32 : index
// CHECK-NEXT: scf.for %[[T0:.+]] = %[[BEGIN]] to %[[T]] step %[[C32]] {
// CHECK-NEXT: %[[LEFT:.+]] = arith.subi %[[T]], %[[T0]] : index
// CHECK-NEXT: %[[LEN:.+]] = arith.minsi %[[C32]], %[[LEFT]] : index
// CHECK-NEXT: %[[C0:.+]] = arith.constant 0 : index
// q takes the scale and reads head h of its group; k has no scale; v reads
// the value head and the task's column tile; the log gates pad with 0.
// CHECK-NEXT: linac.chunk_load %[[Q]][%[[SEQ]], %[[T0]], %[[HEAD]], %[[C0]]] len(%[[LEN]]) scale(2.500000e-01) : memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>> into %[[QT]] : memref<32x16xf32>
// CHECK-NEXT: linac.chunk_load %[[K]][%[[SEQ]], %[[T0]], %[[HEAD]], %[[C0]]] len(%[[LEN]]) : memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>> into %[[KT]] : memref<32x16xf32>
// CHECK-NEXT: linac.chunk_load %[[V]][%[[SEQ]], %[[T0]], %[[VH]], %[[COL]]] len(%[[LEN]]) : memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>> into %[[VT]] : memref<32x16xf32>
// CHECK-NEXT: linac.chunk_load %[[G]][%[[SEQ]], %[[T0]], %[[VH]], %[[C0]]] len(%[[LEN]]) pad(0.000000e+00) : memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>> into %[[GT]] : memref<32x16xf32>
// CHECK-NEXT: linac.chunk_gates ins(%[[GT]] : memref<32x16xf32>) outs(%[[D]], %[[P]], %[[SUF]] : memref<32x16xf32>, memref<32x16xf32>, memref<32x16xf32>) sub_chunk(16)
// The key side first (scores), then everything that reads or writes the
// state (at the chunk start before its update), then the store.
// CHECK-NEXT: linac.chunk_scores ins(%[[QT]], %[[KT]] : memref<32x16xf32>, memref<32x16xf32>) gates(%[[D]], %[[P]], %[[SUF]] : memref<32x16xf32>, memref<32x16xf32>, memref<32x16xf32>) outs(%[[A]] : memref<32x32xf32>) sub_chunk(16)
// CHECK-NEXT: linac.chunk_inter ins(%[[QT]], %[[S]] : memref<32x16xf32>, memref<16x16xf32>) gates(%[[P]] : memref<32x16xf32>) outs(%[[OT]] : memref<32x16xf32>) sub_chunk(16)
// CHECK-NEXT: linac.chunk_attend ins(%[[A]], %[[VT]] : memref<32x32xf32>, memref<32x16xf32>) outs(%[[OT]] : memref<32x16xf32>)
// CHECK-NEXT: linac.chunk_state_update ins(%[[KT]], %[[VT]] : memref<32x16xf32>, memref<32x16xf32>) gates(%[[P]], %[[SUF]] : memref<32x16xf32>, memref<32x16xf32>) outs(%[[S]] : memref<16x16xf32>) sub_chunk(16)
// CHECK-NEXT: linac.chunk_store %[[OT]] into %[[O]][%[[SEQ]], %[[T0]], %[[VH]], %[[COL]]] len(%[[LEN]]) : memref<32x16xf32> into memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>>
// CHECK-NEXT: }
//
// ht[seq, value head] = S when ht was asked for.
// CHECK-NEXT: scf.if %[[HAS_HT]] {
// CHECK-NEXT: %[[W1:.+]] = memref.subview %[[HT]][%[[SEQ]], %[[VH]], 0, %[[COL]]] [1, 1, 16, 16] [1, 1, 1, 1]
// CHECK-NEXT: linac.tile_copy ins(%[[S]] : memref<16x16xf32>) outs(%[[W1]] : memref<16x16xf32, strided<[?, 1], offset: ?>>)
// CHECK-NEXT: }
// CHECK-NEXT: return
//
// The task count takes the buffers only: B x HV x tiles.
// CHECK-LABEL: func.func private @gla_tasks(
// CHECK-SAME: %[[TQ:[a-z0-9]+]]: memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[TV:arg2]]: memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %{{[a-z0-9]+}}: memref<?x2x16x16xf32, strided<[?, ?, ?, 1], offset: ?>>) -> index {
// CHECK: %[[NB:.+]] = memref.dim %[[TQ]], %{{.+}}
// CHECK: %[[NHV:.+]] = memref.dim %[[TV]], %{{.+}}
// CHECK: %[[NTILES:.+]] = arith.constant 1 : index
// CHECK: %[[M:.+]] = arith.muli %[[NB]], %[[NHV]] : index
// CHECK: %[[N:.+]] = arith.muli %[[M]], %[[NTILES]] : index
// CHECK: return %[[N]] : index
// The original function is gone.
// CHECK-NOT: func.func @gla(
func.func @gla(%q: tensor<?x?x2x16xbf16> {linac.arg = "q"},
               %k: tensor<?x?x2x16xbf16> {linac.arg = "k"},
               %v: tensor<?x?x2x16xbf16> {linac.arg = "v"},
               %g: tensor<?x?x2x16xf32> {linac.arg = "g"},
               %h0: tensor<?x2x16x16xf32> {linac.arg = "h0"})
    -> (tensor<?x?x2x16xbf16> {linac.arg = "o"},
        tensor<?x2x16x16xf32> {linac.arg = "ht"})
    attributes {linac.variant = "gla"} {
  %o, %ht = linac.recurrence decay(diagonal) scale(0.25)
      q(%q : tensor<?x?x2x16xbf16>) k(%k : tensor<?x?x2x16xbf16>)
      v(%v : tensor<?x?x2x16xbf16>) g(%g : tensor<?x?x2x16xf32>)
      h0(%h0 : tensor<?x2x16x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 16, value_tile = 16>}
      -> tensor<?x?x2x16xbf16>, tensor<?x2x16x16xf32>
  return %o, %ht : tensor<?x?x2x16xbf16>, tensor<?x2x16x16xf32>
}

// -----

// No decay: no gate tiles, no chunk_gates, the consumers take no gates(...).
// No h0/ht: no presence flags, the state starts at zero unconditionally.
// V = 32 in value tiles of 16: two tasks per (sequence, head), v/o windows
// start at tile * 16. The feature map applies to q and k, not v.
// CHECK-LABEL: func.func private @linear_task(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>>, %{{[a-z0-9]+}}: memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[V:[a-z0-9]+]]: memref<?x?x2x32xf32, strided<[?, ?, ?, 1], offset: ?>>, %{{[a-z0-9]+}}: memref<?x?x2x32xf32, strided<[?, ?, ?, 1], offset: ?>>, %[[TASK:[a-z0-9]+]]: index)
// CHECK-SAME: linac.tensors = ["q", "k", "v", "o"]
// CHECK: %[[TILES:.+]] = arith.constant 2 : index
// CHECK: %[[TILE:.+]] = arith.remui %{{.+}}, %[[TILES]] : index
// CHECK: %[[C16:.+]] = arith.constant 16 : index
// CHECK-NEXT: %[[COL:.+]] = arith.muli %[[TILE]], %[[C16]] : index
// Six tiles (state, q, k, v, o, scores; all 16 x 16 here) and no gates.
// CHECK-NOT: scf.if
// CHECK: %[[S:.+]] = memref.alloca() : memref<16x16xf32>
// CHECK-COUNT-5: memref.alloca() : memref<16x16xf32>
// CHECK-NEXT: linac.tile_zero outs(%[[S]] : memref<16x16xf32>)
// CHECK-NEXT: %[[C:.+]] = arith.constant 16 : index
// CHECK-NEXT: scf.for %{{.+}} step %[[C]] {
// CHECK: linac.chunk_load %[[Q]]{{.*}} len(%{{.+}}) feature_map(elu_plus_one) scale(1.000000e+00) : memref
// CHECK-NEXT: linac.chunk_load %{{.+}} len(%{{.+}}) feature_map(elu_plus_one) : memref
// CHECK-NEXT: linac.chunk_load %[[V]][%{{.+}}, %{{.+}}, %{{.+}}, %[[COL]]] len(%{{.+}}) : memref<?x?x2x32xf32, strided<[?, ?, ?, 1], offset: ?>> into %{{.+}} : memref<16x16xf32>
// CHECK-NEXT: linac.chunk_scores ins(%{{.+}}, %{{.+}} : memref<16x16xf32>, memref<16x16xf32>) outs(%{{.+}} : memref<16x16xf32>) sub_chunk(16)
// CHECK-NEXT: linac.chunk_inter ins(%{{.+}}, %[[S]] : memref<16x16xf32>, memref<16x16xf32>) outs(%{{.+}} : memref<16x16xf32>) sub_chunk(16)
// CHECK-NEXT: linac.chunk_attend
// CHECK-NEXT: linac.chunk_state_update ins(%{{.+}}, %{{.+}} : memref<16x16xf32>, memref<16x16xf32>) outs(%[[S]] : memref<16x16xf32>) sub_chunk(16)
// CHECK-NEXT: linac.chunk_store %{{.+}} into %{{.+}}[%{{.+}}, %{{.+}}, %{{.+}}, %[[COL]]] len(%{{.+}}) : memref<16x16xf32> into memref<?x?x2x32xf32, strided<[?, ?, ?, 1], offset: ?>>
// CHECK-NEXT: }
// CHECK-NEXT: return
// CHECK-LABEL: func.func private @linear_tasks(
// CHECK: memref.dim %arg2, %{{.+}} : memref<?x?x2x32xf32
// CHECK-NEXT: %[[N:.+]] = arith.constant 2 : index
// CHECK-NEXT: %[[M:.+]] = arith.muli
// CHECK-NEXT: arith.muli %[[M]], %[[N]] : index
func.func @linear(%q: tensor<?x?x2x16xf32> {linac.arg = "q"},
                  %k: tensor<?x?x2x16xf32> {linac.arg = "k"},
                  %v: tensor<?x?x2x32xf32> {linac.arg = "v"})
    -> (tensor<?x?x2x32xf32> {linac.arg = "o"}) {
  %o = linac.recurrence decay(none) feature_map(elu_plus_one) scale(1.0)
      q(%q : tensor<?x?x2x16xf32>) k(%k : tensor<?x?x2x16xf32>)
      v(%v : tensor<?x?x2x32xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 16, vector_width = 8, value_tile = 16>}
      -> tensor<?x?x2x32xf32>
  return %o : tensor<?x?x2x32xf32>
}

// -----

// Scalar decay with grouped value heads (GQA/GVA: H = 1 query/key head for
// HV = 2 value heads) and ht only: the [B, T, HV] gates load into C x 1
// tiles, q/k read head value_head / (HV / H), one presence flag (has_ht).
// CHECK-LABEL: func.func private @gva_task(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<2x40x1x16xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[G:[a-z0-9]+]]: memref<2x40x2xf32, strided<[?, ?, 1], offset: ?>>,
// CHECK-SAME: %{{[a-z0-9]+}}: memref<2x2x16x16xf32, strided<[?, ?, ?, 1], offset: ?>>, %[[HAS_HT:[a-z0-9]+]]: i1, %{{[a-z0-9]+}}: index)
// CHECK-SAME: linac.tensors = ["q", "k", "v", "g", "o", "ht"]
// CHECK: %[[HV:.+]] = memref.dim %{{.+}}, %{{.+}} : memref<2x40x2x16xf32
// CHECK: %[[NH:.+]] = memref.dim %[[Q]], %{{.+}} : memref<2x40x1x16xf32
// CHECK: %[[REST:.+]] = arith.remui
// CHECK-NEXT: %[[VH:.+]] = arith.divui %[[REST]], %{{.+}} : index
// CHECK: %[[GROUP:.+]] = arith.divui %[[HV]], %[[NH]] : index
// CHECK-NEXT: %[[HEAD:.+]] = arith.divui %[[VH]], %[[GROUP]] : index
// CHECK: %[[GT:.+]] = memref.alloca() : memref<32x1xf32>
// CHECK-NEXT: %[[D:.+]] = memref.alloca() : memref<32x1xf32>
// CHECK-NEXT: %[[P:.+]] = memref.alloca() : memref<32x1xf32>
// CHECK-NEXT: %[[SUF:.+]] = memref.alloca() : memref<32x1xf32>
// CHECK-NEXT: linac.tile_zero
// CHECK: scf.for
// CHECK: linac.chunk_load %[[Q]][%{{.+}}, %{{.+}}, %[[HEAD]], %{{.+}}]
// CHECK: linac.chunk_load %[[G]][%{{.+}}, %{{.+}}, %[[VH]], %{{.+}}] len(%{{.+}}) pad(0.000000e+00) : memref<2x40x2xf32, strided<[?, ?, 1], offset: ?>> into %[[GT]] : memref<32x1xf32>
// CHECK-NEXT: linac.chunk_gates ins(%[[GT]] : memref<32x1xf32>) outs(%[[D]], %[[P]], %[[SUF]] : memref<32x1xf32>, memref<32x1xf32>, memref<32x1xf32>) sub_chunk(16)
// CHECK-NEXT: linac.chunk_scores {{.*}} gates(%[[D]], %[[P]], %[[SUF]] : memref<32x1xf32>, memref<32x1xf32>, memref<32x1xf32>)
// CHECK-NEXT: linac.chunk_inter {{.*}} gates(%[[P]] : memref<32x1xf32>)
// CHECK: linac.chunk_state_update {{.*}} gates(%[[P]], %[[SUF]] : memref<32x1xf32>, memref<32x1xf32>)
// CHECK-NEXT: linac.chunk_store
// CHECK-NEXT: }
// CHECK-NEXT: scf.if %[[HAS_HT]] {
// CHECK-LABEL: func.func private @gva_tasks(
func.func @gva(%q: tensor<2x40x1x16xf32> {linac.arg = "q"},
               %k: tensor<2x40x1x16xf32> {linac.arg = "k"},
               %v: tensor<2x40x2x16xf32> {linac.arg = "v"},
               %g: tensor<2x40x2xf32> {linac.arg = "g"})
    -> (tensor<2x40x2x16xf32> {linac.arg = "o"},
        tensor<2x2x16x16xf32> {linac.arg = "ht"}) {
  %o, %ht = linac.recurrence decay(scalar) scale(0.25)
      q(%q : tensor<2x40x1x16xf32>) k(%k : tensor<2x40x1x16xf32>)
      v(%v : tensor<2x40x2x16xf32>) g(%g : tensor<2x40x2xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 16>}
      -> tensor<2x40x2x16xf32>, tensor<2x2x16x16xf32>
  return %o, %ht : tensor<2x40x2x16xf32>, tensor<2x2x16x16xf32>
}

// -----

// Constant decay (retention, gamma = 0.5 and 0.25 for the two heads): no g
// tensor; each chunk fills its C x 1 log-gate tile with log(gamma_h), picked
// by a chain of selects on the value head, for rows < len and 0 after.
// CHECK-LABEL: func.func private @retention_task(
// CHECK: %[[REST:.+]] = arith.remui
// CHECK-NEXT: %[[VH:.+]] = arith.divui %[[REST]], %{{.+}} : index
// CHECK: %[[GT:.+]] = memref.alloca() : memref<32x1xf32>
// CHECK: scf.for
// CHECK-NOT: linac.chunk_load {{.*}} pad(
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[IS0:.+]] = arith.cmpi eq, %[[VH]], %{{.+}} : index
// CHECK-NEXT: %[[LOG0:.+]] = arith.constant -0.693147182 : f32
// CHECK-NEXT: %[[SEL0:.+]] = arith.select %[[IS0]], %[[LOG0]], %[[ZERO]] : f32
// CHECK: %[[IS1:.+]] = arith.cmpi eq, %[[VH]], %{{.+}} : index
// CHECK-NEXT: %[[LOG1:.+]] = arith.constant -1.38629436 : f32
// CHECK-NEXT: %[[LOGG:.+]] = arith.select %[[IS1]], %[[LOG1]], %[[SEL0]] : f32
// CHECK: scf.for %[[ROW:.+]] = %{{.+}} to %{{.+}} step
// CHECK-NEXT: %[[IN:.+]] = arith.cmpi ult, %[[ROW]], %[[LEN:.+]] : index
// CHECK-NEXT: %[[X:.+]] = arith.select %[[IN]], %[[LOGG]], %{{.+}} : f32
// CHECK-NEXT: memref.store %[[X]], %[[GT]][%[[ROW]], %{{.+}}] : memref<32x1xf32>
// CHECK-NEXT: }
// CHECK-NEXT: linac.chunk_gates ins(%[[GT]] : memref<32x1xf32>)
func.func @retention(%q: tensor<?x?x2x16xf32> {linac.arg = "q"},
                     %k: tensor<?x?x2x16xf32> {linac.arg = "k"},
                     %v: tensor<?x?x2x16xf32> {linac.arg = "v"})
    -> (tensor<?x?x2x16xf32> {linac.arg = "o"}) {
  %o = linac.recurrence decay(constant) constants([0.5, 0.25]) scale(0.25)
      q(%q : tensor<?x?x2x16xf32>) k(%k : tensor<?x?x2x16xf32>)
      v(%v : tensor<?x?x2x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 16>}
      -> tensor<?x?x2x16xf32>
  return %o : tensor<?x?x2x16xf32>
}

// -----

// Varlen: the sequence's tokens are cu_seqlens[seq] .. cu_seqlens[seq + 1]
// of batch 0, and the task count is (len(cu_seqlens) - 1) x HV x tiles. The
// state windows still take the sequence index.
// CHECK-LABEL: func.func private @varlen_task(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<1x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[H0:[a-z0-9]+]]: memref<?x2x16x16xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[CU:[a-z0-9]+]]: memref<?xi64, strided<[1], offset: ?>>,
// CHECK-SAME: %{{[a-z0-9]+}}: memref<1x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>>, %[[HAS_H0:[a-z0-9]+]]: i1, %[[TASK:[a-z0-9]+]]: index)
// CHECK-SAME: linac.tensors = ["q", "k", "v", "g", "h0", "cu_seqlens", "o"]
// CHECK: %[[SEQ:.+]] = arith.divui %[[TASK]], %{{.+}} : index
// CHECK: %[[B0:.+]] = arith.constant 0 : index
// CHECK-NEXT: %[[RAW0:.+]] = memref.load %[[CU]][%[[SEQ]]] : memref<?xi64, strided<[1], offset: ?>>
// CHECK-NEXT: %[[BEGIN:.+]] = arith.index_cast %[[RAW0]] : i64 to index
// CHECK-NEXT: %[[ONE:.+]] = arith.constant 1 : index
// CHECK-NEXT: %[[NEXT:.+]] = arith.addi %[[SEQ]], %[[ONE]] : index
// CHECK-NEXT: %[[RAW1:.+]] = memref.load %[[CU]][%[[NEXT]]] : memref<?xi64, strided<[1], offset: ?>>
// CHECK-NEXT: %[[END:.+]] = arith.index_cast %[[RAW1]] : i64 to index
// CHECK: scf.if %[[HAS_H0]] {
// CHECK-NEXT: memref.subview %[[H0]][%[[SEQ]],
// CHECK: scf.for %[[T0:.+]] = %[[BEGIN]] to %[[END]] step %{{.+}} {
// CHECK-NEXT: %[[LEFT:.+]] = arith.subi %[[END]], %[[T0]] : index
// CHECK: linac.chunk_load %[[Q]][%[[B0]], %[[T0]], %{{.+}}, %{{.+}}]
// CHECK-LABEL: func.func private @varlen_tasks(
// CHECK-SAME: %[[TCU:arg5]]: memref<?xi64, strided<[1], offset: ?>>
// CHECK: %[[N:.+]] = memref.dim %[[TCU]], %{{.+}}
// CHECK-NEXT: %[[C1:.+]] = arith.constant 1 : index
// CHECK-NEXT: %[[SEQS:.+]] = arith.subi %[[N]], %[[C1]] : index
// CHECK: arith.muli %[[SEQS]], %{{.+}} : index
func.func @varlen(%q: tensor<1x?x2x16xf32> {linac.arg = "q"},
                  %k: tensor<1x?x2x16xf32> {linac.arg = "k"},
                  %v: tensor<1x?x2x16xf32> {linac.arg = "v"},
                  %g: tensor<1x?x2x16xf32> {linac.arg = "g"},
                  %h0: tensor<?x2x16x16xf32> {linac.arg = "h0"},
                  %cu: tensor<?xi64> {linac.arg = "cu_seqlens"})
    -> (tensor<1x?x2x16xf32> {linac.arg = "o"}) {
  %o = linac.recurrence decay(diagonal) scale(0.25)
      q(%q : tensor<1x?x2x16xf32>) k(%k : tensor<1x?x2x16xf32>)
      v(%v : tensor<1x?x2x16xf32>) g(%g : tensor<1x?x2x16xf32>)
      h0(%h0 : tensor<?x2x16x16xf32>) cu_seqlens(%cu : tensor<?xi64>)
      {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 16>}
      -> tensor<1x?x2x16xf32>
  return %o : tensor<1x?x2x16xf32>
}

// -----

// Decode (algorithm = recurrent): h0 and ht are required (no presence
// flags), one recurrent_step per token on 1-row tiles, reading the h0 window
// at the first token and the ht window (the state it wrote) after that.
// V = 32 in value tiles of 16; f16 activations; l2norm on q and k.
// CHECK-LABEL: func.func private @decode_task(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<?x?x2x16xf16, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[G:[a-z0-9]+]]: memref<?x?x2xf32, strided<[?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[H0:[a-z0-9]+]]: memref<?x2x16x32xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[O:[a-z0-9]+]]: memref<?x?x2x32xf16, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[HT:[a-z0-9]+]]: memref<?x2x16x32xf32, strided<[?, ?, ?, 1], offset: ?>>, %[[TASK:[a-z0-9]+]]: index)
// CHECK-SAME: linac.mode = "decode"
// CHECK-SAME: linac.schedule = #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 16, value_tile = 16>
// CHECK: %[[REST:.+]] = arith.remui %[[TASK]], %{{.+}} : index
// CHECK-NEXT: arith.divui %[[REST]]
// CHECK-NEXT: %[[TILE:.+]] = arith.remui %[[REST]], %{{.+}} : index
// CHECK-NEXT: %[[C16:.+]] = arith.constant 16 : index
// CHECK-NEXT: %[[COL:.+]] = arith.muli %[[TILE]], %[[C16]] : index
// CHECK: %[[BEGIN:.+]] = arith.constant 0 : index
// CHECK: %[[IN:.+]] = memref.subview %[[H0]][%{{.+}}, %{{.+}}, 0, %[[COL]]] [1, 1, 16, 16] [1, 1, 1, 1] : memref<?x2x16x32xf32, strided<[?, ?, ?, 1], offset: ?>> to memref<16x16xf32, strided<[?, 1], offset: ?>>
// CHECK-NEXT: %[[OUT:.+]] = memref.subview %[[HT]][%{{.+}}, %{{.+}}, 0, %[[COL]]] [1, 1, 16, 16] [1, 1, 1, 1]
// CHECK-NEXT: %[[QR:.+]] = memref.alloca() : memref<1x16xf32>
// CHECK-NEXT: %[[KR:.+]] = memref.alloca() : memref<1x16xf32>
// CHECK-NEXT: %[[VR:.+]] = memref.alloca() : memref<1x16xf32>
// CHECK-NEXT: %[[OR:.+]] = memref.alloca() : memref<1x16xf32>
// CHECK-NEXT: %[[GR:.+]] = memref.alloca() : memref<1x1xf32>
// CHECK-NEXT: %[[DR:.+]] = memref.alloca() : memref<1x1xf32>
// CHECK-NEXT: memref.alloca() : memref<1x1xf32>
// CHECK-NEXT: memref.alloca() : memref<1x1xf32>
// CHECK-NEXT: %[[ONE:.+]] = arith.constant 1 : index
// CHECK-NEXT: scf.for %[[T:.+]] = %[[BEGIN]] to %{{.+}} step %[[ONE]] {
// CHECK: linac.chunk_load %[[Q]][%{{.+}}, %[[T]], %{{.+}}, %{{.+}}] len(%[[ONE]]) feature_map(l2norm) scale(2.500000e-01) : {{.*}} into %[[QR]] : memref<1x16xf32>
// CHECK-NEXT: linac.chunk_load {{.*}} len(%[[ONE]]) feature_map(l2norm) : {{.*}} into %[[KR]]
// CHECK-NEXT: linac.chunk_load {{.*}} len(%[[ONE]]) : {{.*}} into %[[VR]]
// CHECK-NEXT: linac.chunk_load %[[G]]{{.*}} len(%[[ONE]]) pad(0.000000e+00) : {{.*}} into %[[GR]] : memref<1x1xf32>
// CHECK-NEXT: linac.chunk_gates ins(%[[GR]] : memref<1x1xf32>) outs(%[[DR]], {{.*}}) sub_chunk(1)
// CHECK-NEXT: %[[FIRST:.+]] = arith.cmpi eq, %[[T]], %[[BEGIN]] : index
// CHECK-NEXT: %[[SRC:.+]] = arith.select %[[FIRST]], %[[IN]], %[[OUT]] : memref<16x16xf32, strided<[?, 1], offset: ?>>
// CHECK-NEXT: linac.recurrent_step ins(%[[QR]], %[[KR]], %[[VR]] : memref<1x16xf32>, memref<1x16xf32>, memref<1x16xf32>) gates(%[[DR]] : memref<1x1xf32>) state(%[[SRC]] : memref<16x16xf32, strided<[?, 1], offset: ?>>) outs(%[[OUT]], %[[OR]] : memref<16x16xf32, strided<[?, 1], offset: ?>>, memref<1x16xf32>)
// CHECK-NEXT: linac.chunk_store %[[OR]] into %[[O]][%{{.+}}, %[[T]], %{{.+}}, %[[COL]]] len(%[[ONE]]) : memref<1x16xf32> into memref<?x?x2x32xf16, strided<[?, ?, ?, 1], offset: ?>>
// CHECK-NEXT: }
// CHECK-NEXT: return
// CHECK-NOT: linac.chunk_scores
// CHECK-LABEL: func.func private @decode_tasks(
func.func @decode(%q: tensor<?x?x2x16xf16> {linac.arg = "q"},
                  %k: tensor<?x?x2x16xf16> {linac.arg = "k"},
                  %v: tensor<?x?x2x32xf16> {linac.arg = "v"},
                  %g: tensor<?x?x2xf32> {linac.arg = "g"},
                  %h0: tensor<?x2x16x32xf32> {linac.arg = "h0"})
    -> (tensor<?x?x2x32xf16> {linac.arg = "o"},
        tensor<?x2x16x32xf32> {linac.arg = "ht"}) {
  %o, %ht = linac.recurrence decay(scalar) feature_map(l2norm) scale(0.25)
      q(%q : tensor<?x?x2x16xf16>) k(%k : tensor<?x?x2x16xf16>)
      v(%v : tensor<?x?x2x32xf16>) g(%g : tensor<?x?x2xf32>)
      h0(%h0 : tensor<?x2x16x32xf32>)
      {linac.mode = "decode", linac.schedule = #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 16, value_tile = 16>}
      -> tensor<?x?x2x32xf16>, tensor<?x2x16x32xf32>
  return %o, %ht : tensor<?x?x2x32xf16>, tensor<?x2x16x32xf32>
}

// -----

// K' = 1 with a one-column value tile (K = V = 1 on a cuda target): every
// size of the state window is 1, and the window must still keep the state's
// unit inner stride, which the tile ops require (found by
// linac-fuzz-pipeline; the inferred rank-reduced type had strided<[?, ?]>).
// CHECK-LABEL: func.func private @k1_v1_task(
// CHECK: memref.subview %{{.+}}[%{{.+}}, %{{.+}}, 0, %{{.+}}] [1, 1, 1, 1] [1, 1, 1, 1] : memref<?x2x1x1xf32, strided<[?, ?, ?, 1], offset: ?>> to memref<1x1xf32, strided<[?, 1], offset: ?>>
// CHECK: linac.recurrent_step {{.*}} state(%{{.+}} : memref<1x1xf32, strided<[?, 1], offset: ?>>)
func.func @k1_v1(%q: tensor<?x?x2x1xf32> {linac.arg = "q"},
                 %k: tensor<?x?x2x1xf32> {linac.arg = "k"},
                 %v: tensor<?x?x2x1xf32> {linac.arg = "v"},
                 %h0: tensor<?x2x1x1xf32> {linac.arg = "h0"})
    -> (tensor<?x?x2x1xf32> {linac.arg = "o"},
        tensor<?x2x1x1xf32> {linac.arg = "ht"}) {
  %o, %ht = linac.recurrence decay(none)
      q(%q : tensor<?x?x2x1xf32>) k(%k : tensor<?x?x2x1xf32>)
      v(%v : tensor<?x?x2x1xf32>) h0(%h0 : tensor<?x2x1x1xf32>)
      {linac.mode = "decode", linac.schedule = #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 0, value_tile = 1, warps = 4, stages = 1>}
      -> tensor<?x?x2x1xf32>, tensor<?x2x1x1xf32>
  return %o, %ht : tensor<?x?x2x1xf32>, tensor<?x2x1x1xf32>
}

// -----

//===----------------------------------------------------------------------===//
// Rejected inputs
//===----------------------------------------------------------------------===//

// Chunking needs the schedule linac-select writes.
func.func @no_schedule(%q: tensor<1x32x1x16xf32> {linac.arg = "q"})
    -> (tensor<1x32x1x16xf32> {linac.arg = "o"}) {
  // expected-error @+1 {{'linac.recurrence' op has no linac.schedule; run linac-select first}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x32x1x16xf32>)
      k(%q : tensor<1x32x1x16xf32>) v(%q : tensor<1x32x1x16xf32>)
      -> tensor<1x32x1x16xf32>
  return %o : tensor<1x32x1x16xf32>
}

// -----

// The delta rule's WY/UT form (gated delta rule: scalar gates): per chunk,
// beta is loaded as a C x 1 tile, the state is read through the decayed keys
// (chunk_inter with k in q's place), the keys are scored against themselves,
// and chunk_delta_solve gives the new values U, which then play V's part
// in the output and in the state update.
// CHECK-LABEL: func.func private @gdn_task(
// CHECK-SAME: linac.schedule = #linac.schedule<algorithm = chunked_wy, chunk_size = 32, vector_width = 16>
// CHECK-SAME: linac.tensors = ["q", "k", "v", "g", "beta", "o"]
// CHECK: %[[S:.+]] = memref.alloca() : memref<16x16xf32>
// CHECK: scf.for
// CHECK: linac.chunk_load %arg0{{.*}} into %[[Q:[a-z0-9_]+]]
// CHECK: linac.chunk_load %arg1{{.*}} into %[[K:[a-z0-9_]+]]
// CHECK: linac.chunk_load %arg2{{.*}} into %[[V:[a-z0-9_]+]]
// CHECK: linac.chunk_gates ins(%{{.+}} : memref<32x1xf32>) outs(%[[D:.+]], %[[P:.+]], %[[X:.+]] : memref<32x1xf32>, memref<32x1xf32>, memref<32x1xf32>)
// CHECK: linac.chunk_load %arg4{{.*}} pad(0.000000e+00) : memref<1x?x1xf32, strided<[?, ?, 1], offset: ?>> into %[[B:.+]] : memref<32x1xf32>
// CHECK-NEXT: linac.chunk_scores ins(%[[K]], %[[K]] : {{.*}}) gates(%[[D]], %[[P]], %[[X]] : {{.*}}) outs(%[[KK:.+]] : memref<32x32xf32>)
// CHECK-NEXT: linac.chunk_scores ins(%[[Q]], %[[K]] : {{.*}}) outs(%[[A:.+]] : memref<32x32xf32>)
// CHECK-NEXT: linac.chunk_inter ins(%[[K]], %[[S]] : {{.*}}) gates(%[[P]] : memref<32x1xf32>) outs(%[[KS:.+]] : memref<32x16xf32>)
// CHECK-NEXT: linac.chunk_delta_solve ins(%[[KK]], %[[B]], %[[V]], %[[KS]] : {{.*}}) outs(%[[U:.+]] : memref<32x16xf32>)
// CHECK-NEXT: linac.chunk_inter ins(%[[Q]], %[[S]] : {{.*}}) gates(%[[P]] : memref<32x1xf32>) outs(%[[O:.+]] : memref<32x16xf32>)
// CHECK-NEXT: linac.chunk_attend ins(%[[A]], %[[U]] : {{.*}}) outs(%[[O]] : memref<32x16xf32>)
// CHECK-NEXT: linac.chunk_state_update ins(%[[K]], %[[U]] : {{.*}}) gates(%[[P]], %[[X]] : {{.*}}) outs(%[[S]] : memref<16x16xf32>)
// CHECK-NEXT: linac.chunk_store %[[O]]
func.func @gdn(%q: tensor<1x?x1x16xf32> {linac.arg = "q"},
               %k: tensor<1x?x1x16xf32> {linac.arg = "k"},
               %v: tensor<1x?x1x16xf32> {linac.arg = "v"},
               %g: tensor<1x?x1xf32> {linac.arg = "g"},
               %beta: tensor<1x?x1xf32> {linac.arg = "beta"})
    -> (tensor<1x?x1x16xf32> {linac.arg = "o"}) {
  %o = linac.recurrence decay(scalar) rank_one(delta) q(%q : tensor<1x?x1x16xf32>)
      k(%k : tensor<1x?x1x16xf32>) v(%v : tensor<1x?x1x16xf32>)
      g(%g : tensor<1x?x1xf32>) beta(%beta : tensor<1x?x1xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked_wy, chunk_size = 32, vector_width = 16>}
      -> tensor<1x?x1x16xf32>
  return %o : tensor<1x?x1x16xf32>
}

// -----

// Decode with a delta write: one step reads beta as a 1 x 1 tile.
// CHECK-LABEL: func.func private @dn_decode_task(
// CHECK: scf.for %[[T:.+]] = 
// CHECK: linac.chunk_load %arg3[%{{.+}}, %[[T]], %{{.+}}, %{{.+}}] len(%{{.+}}) : memref<1x?x1xf32, strided<[?, ?, 1], offset: ?>> into %[[B:.+]] : memref<1x1xf32>
// CHECK: linac.recurrent_step ins({{.*}}) beta(%[[B]] : memref<1x1xf32>) state(
func.func @dn_decode(%q: tensor<1x?x1x16xf32> {linac.arg = "q"},
                     %k: tensor<1x?x1x16xf32> {linac.arg = "k"},
                     %v: tensor<1x?x1x16xf32> {linac.arg = "v"},
                     %beta: tensor<1x?x1xf32> {linac.arg = "beta"},
                     %h0: tensor<1x1x16x16xf32> {linac.arg = "h0"})
    -> (tensor<1x?x1x16xf32> {linac.arg = "o"},
        tensor<1x1x16x16xf32> {linac.arg = "ht"}) {
  %o, %ht = linac.recurrence decay(none) rank_one(delta) q(%q : tensor<1x?x1x16xf32>)
      k(%k : tensor<1x?x1x16xf32>) v(%v : tensor<1x?x1x16xf32>)
      beta(%beta : tensor<1x?x1xf32>) h0(%h0 : tensor<1x1x16x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 16>}
      -> tensor<1x?x1x16xf32>, tensor<1x1x16x16xf32>
  return %o, %ht : tensor<1x?x1x16xf32>, tensor<1x1x16x16xf32>
}

// -----

// A rank-one transition needs the WY form: algorithm chunked cannot
// express it.
func.func @delta_chunked(%q: tensor<1x32x1x16xf32> {linac.arg = "q"},
                         %beta: tensor<1x32x1xf32> {linac.arg = "beta"})
    -> (tensor<1x32x1x16xf32> {linac.arg = "o"}) {
  // expected-error @+1 {{'linac.recurrence' op has a rank-one transition, which algorithm chunked cannot express; use chunked_wy}}
  %o = linac.recurrence decay(none) rank_one(delta) q(%q : tensor<1x32x1x16xf32>)
      k(%q : tensor<1x32x1x16xf32>) v(%q : tensor<1x32x1x16xf32>)
      beta(%beta : tensor<1x32x1xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 16>}
      -> tensor<1x32x1x16xf32>
  return %o : tensor<1x32x1x16xf32>
}

// -----

// The chunked WY form is for rank-one transitions only.
func.func @wy_without_delta(%q: tensor<1x32x1x16xf32> {linac.arg = "q"})
    -> (tensor<1x32x1x16xf32> {linac.arg = "o"}) {
  // expected-error @+1 {{'linac.recurrence' op is not supported by linac-chunk yet: algorithm chunked_wy without a rank-one transition}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x32x1x16xf32>)
      k(%q : tensor<1x32x1x16xf32>) v(%q : tensor<1x32x1x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked_wy, chunk_size = 32, vector_width = 16>}
      -> tensor<1x32x1x16xf32>
  return %o : tensor<1x32x1x16xf32>
}

// -----

// The dplr transition (RWKV-7): a and b are loaded per value head; k, v, b
// and g are delayed by one row with zeros in row 0 (the carry is zeroed
// before each shift), the delayed gates get their own chunk_gates, the
// reads W are solved from rhs = (a ⊙ exclusive decay) S_0 + (a k'ᵀ) v', and
// W then enters the output through (q bᵀ) W and the state through the
// update's pair.
// CHECK-LABEL: func.func private @dplr_task(
// CHECK: scf.for
// CHECK: linac.chunk_load %arg0{{.*}} into %[[Q:[a-z0-9_]+]]
// CHECK: linac.chunk_load %arg1{{.*}} into %[[K:[a-z0-9_]+]]
// CHECK: linac.chunk_load %arg2{{.*}} into %[[V:[a-z0-9_]+]]
// CHECK: linac.chunk_load %arg3{{.*}} into %[[G:[a-z0-9_]+]]
// CHECK-NEXT: linac.chunk_gates ins(%[[G]] : {{.*}}) outs(%[[D:.+]], %[[P:.+]], %[[X:.+]] : {{.*}})
// CHECK-NEXT: linac.chunk_load %arg4{{.*}} into %[[A:[a-z0-9_]+]]
// CHECK-NEXT: linac.chunk_load %arg5{{.*}} into %[[B:[a-z0-9_]+]]
// CHECK-NEXT: linac.tile_zero outs(%[[GC:.+]] : memref<1x16xf32>)
// CHECK-NEXT: linac.tile_shift_rows ins(%[[G]] : {{.*}}) carry(%[[GC]] : {{.*}}) len(%{{.+}}) outs(%[[GD:.+]] : memref<32x16xf32>)
// CHECK-NEXT: linac.chunk_gates ins(%[[GD]] : {{.*}}) outs(%[[D2:.+]], %[[P2:.+]], %[[X2:.+]] : {{.*}})
// CHECK-NEXT: linac.tile_zero outs(%[[KC:.+]] : memref<1x16xf32>)
// CHECK-NEXT: linac.tile_shift_rows ins(%[[K]] : {{.*}}) carry(%[[KC]] : {{.*}}) len(%{{.+}}) outs(%[[KD:.+]] : memref<32x16xf32>)
// CHECK-NEXT: linac.tile_zero outs(%[[KC]] : memref<1x16xf32>)
// CHECK-NEXT: linac.tile_shift_rows ins(%[[B]] : {{.*}}) carry(%[[KC]] : {{.*}}) len(%{{.+}}) outs(%[[BD:.+]] : memref<32x16xf32>)
// CHECK-NEXT: linac.chunk_scores ins(%[[A]], %[[KD]] : {{.*}}) gates(%[[D2]], %[[P2]], %[[X2]] : {{.*}}) outs(%[[AK:.+]] : memref<32x32xf32>)
// CHECK-NEXT: linac.chunk_scores ins(%[[A]], %[[BD]] : {{.*}}) gates(%[[D2]], %[[P2]], %[[X2]] : {{.*}}) outs(%[[AB:.+]] : memref<32x32xf32>)
// CHECK-NEXT: linac.chunk_scores ins(%[[Q]], %[[B]] : {{.*}}) gates(%[[D]], %[[P]], %[[X]] : {{.*}}) outs(%[[QB:.+]] : memref<32x32xf32>)
// CHECK-NEXT: linac.chunk_scores ins(%[[Q]], %[[K]] : {{.*}}) gates(%[[D]], %[[P]], %[[X]] : {{.*}}) outs(%[[QK:.+]] : memref<32x32xf32>)
// CHECK-NEXT: linac.tile_zero
// CHECK-NEXT: linac.tile_shift_rows ins(%[[V]] : {{.*}}) outs(%[[VD:.+]] : memref<32x16xf32>)
// CHECK-NEXT: linac.chunk_inter ins(%[[A]], %[[S:.+]] : {{.*}}) gates(%[[P2]] : {{.*}}) outs(%[[RHS:.+]] : memref<32x16xf32>)
// CHECK-NEXT: linac.chunk_attend ins(%[[AK]], %[[VD]] : {{.*}}) outs(%[[RHS]] : memref<32x16xf32>)
// CHECK-NEXT: linac.chunk_dplr_solve ins(%[[AB]], %[[RHS]] : {{.*}}) outs(%[[W:.+]] : memref<32x16xf32>)
// CHECK-NEXT: linac.chunk_inter ins(%[[Q]], %[[S]] : {{.*}}) gates(%[[P]] : {{.*}}) outs(%[[O:.+]] : memref<32x16xf32>)
// CHECK-NEXT: linac.chunk_attend ins(%[[QK]], %[[V]] : {{.*}}) outs(%[[O]] : {{.*}})
// CHECK-NEXT: linac.chunk_attend ins(%[[QB]], %[[W]] : {{.*}}) outs(%[[O]] : {{.*}})
// CHECK-NEXT: linac.chunk_state_update ins(%[[K]], %[[V]] : {{.*}}) pair(%[[B]], %[[W]] : {{.*}}) gates(%[[P]], %[[X]] : {{.*}}) outs(%[[S]] : memref<16x16xf32>)
// CHECK-NEXT: linac.chunk_store %[[O]]
func.func @dplr(%q: tensor<1x?x1x16xf32> {linac.arg = "q"},
                %k: tensor<1x?x1x16xf32> {linac.arg = "k"},
                %v: tensor<1x?x1x16xf32> {linac.arg = "v"},
                %g: tensor<1x?x1x16xf32> {linac.arg = "g"},
                %a: tensor<1x?x1x16xf32> {linac.arg = "a"},
                %b: tensor<1x?x1x16xf32> {linac.arg = "b"})
    -> (tensor<1x?x1x16xf32> {linac.arg = "o"}) {
  %o = linac.recurrence decay(diagonal) rank_one(dplr) q(%q : tensor<1x?x1x16xf32>)
      k(%k : tensor<1x?x1x16xf32>) v(%v : tensor<1x?x1x16xf32>)
      g(%g : tensor<1x?x1x16xf32>) a(%a : tensor<1x?x1x16xf32>)
      b(%b : tensor<1x?x1x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked_wy, chunk_size = 32, vector_width = 16>}
      -> tensor<1x?x1x16xf32>
  return %o : tensor<1x?x1x16xf32>
}

// -----

// Its decode step gets the low-rank pair of the token.
// CHECK-LABEL: func.func private @dplr_decode_task(
// CHECK: scf.for %[[T:.+]] =
// CHECK: linac.chunk_load %arg4[%{{.+}}, %[[T]], %{{.+}}, %{{.+}}] {{.*}} into %[[A:.+]] : memref<1x16xf32>
// CHECK-NEXT: linac.chunk_load %arg5[%{{.+}}, %[[T]], %{{.+}}, %{{.+}}] {{.*}} into %[[B:.+]] : memref<1x16xf32>
// CHECK: linac.recurrent_step ins({{.*}}) gates(%{{.+}}) lowrank(%[[A]], %[[B]] : memref<1x16xf32>, memref<1x16xf32>) state(
func.func @dplr_decode(%q: tensor<1x?x1x16xf32> {linac.arg = "q"},
                       %k: tensor<1x?x1x16xf32> {linac.arg = "k"},
                       %v: tensor<1x?x1x16xf32> {linac.arg = "v"},
                       %g: tensor<1x?x1x16xf32> {linac.arg = "g"},
                       %a: tensor<1x?x1x16xf32> {linac.arg = "a"},
                       %b: tensor<1x?x1x16xf32> {linac.arg = "b"},
                       %h0: tensor<1x1x16x16xf32> {linac.arg = "h0"})
    -> (tensor<1x?x1x16xf32> {linac.arg = "o"},
        tensor<1x1x16x16xf32> {linac.arg = "ht"}) {
  %o, %ht = linac.recurrence decay(diagonal) rank_one(dplr) q(%q : tensor<1x?x1x16xf32>)
      k(%k : tensor<1x?x1x16xf32>) v(%v : tensor<1x?x1x16xf32>)
      g(%g : tensor<1x?x1x16xf32>) a(%a : tensor<1x?x1x16xf32>)
      b(%b : tensor<1x?x1x16xf32>) h0(%h0 : tensor<1x1x16x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 16>}
      -> tensor<1x?x1x16xf32>, tensor<1x1x16x16xf32>
  return %o, %ht : tensor<1x?x1x16xf32>, tensor<1x1x16x16xf32>
}

// -----

// RWKV-6 reads the state before the update plus a bonus term: k, v and g
// are delayed by one token (tile_shift_rows with a carry that starts at
// zero), the chunk loop runs to T + 1 so that the last delayed row (the
// real last token) completes the state, the attention reads the delayed
// tiles and chunk_bonus adds the token's own term from the undelayed ones.
// CHECK-LABEL: func.func private @rwkv6_task(
// CHECK: %[[U:.+]] = memref.subview %arg4[%{{.+}}, 0] [1, 16] [1, 1]
// CHECK: linac.tile_copy ins(%[[U]] : {{.*}}) outs(%[[UT:.+]] : memref<1x16xf32>)
// CHECK: %[[LAST:.+]] = arith.addi %{{.+}}, %c1{{.*}} : index
// CHECK-NEXT: scf.for %[[T:.+]] = %{{.+}} to %[[LAST]] step
// CHECK: %[[LEN:.+]] = arith.minsi
// CHECK: linac.chunk_load %arg0{{.*}} into %[[Q:[a-z0-9_]+]]
// CHECK: linac.chunk_load %arg1{{.*}} into %[[K:[a-z0-9_]+]]
// CHECK: linac.chunk_load %arg2{{.*}} into %[[V:[a-z0-9_]+]]
// CHECK: linac.chunk_load %arg3{{.*}} into %[[G:[a-z0-9_]+]]
// CHECK-NEXT: linac.tile_shift_rows ins(%[[G]] : memref<32x16xf32>) carry(%{{.+}} : memref<1x16xf32>) len(%[[LEN]]) outs(%[[GS:.+]] : memref<32x16xf32>)
// CHECK-NEXT: linac.chunk_gates ins(%[[GS]] : memref<32x16xf32>)
// CHECK-NEXT: linac.tile_shift_rows ins(%[[K]] : {{.*}}) len(%[[LEN]]) outs(%[[KS:.+]] : memref<32x16xf32>)
// CHECK-NEXT: linac.chunk_scores ins(%[[Q]], %[[KS]] : {{.*}}) outs(%[[A:.+]] : memref<32x32xf32>)
// CHECK-NEXT: linac.tile_shift_rows ins(%[[V]] : {{.*}}) len(%[[LEN]]) outs(%[[VS:.+]] : memref<32x16xf32>)
// CHECK-NEXT: linac.chunk_inter ins(%[[Q]], %{{.+}} : {{.*}}) outs(%[[O:.+]] : memref<32x16xf32>)
// CHECK-NEXT: linac.chunk_attend ins(%[[A]], %[[VS]] : {{.*}}) outs(%[[O]] : memref<32x16xf32>)
// CHECK-NEXT: linac.chunk_bonus ins(%[[Q]], %[[K]], %[[UT]], %[[V]] : {{.*}}) outs(%[[O]] : memref<32x16xf32>)
// CHECK-NEXT: linac.chunk_state_update ins(%[[KS]], %[[VS]] : {{.*}})
// CHECK-NEXT: linac.chunk_store %[[O]]{{.*}} len(%[[LEN]])
func.func @rwkv6(%q: tensor<1x?x1x16xf32> {linac.arg = "q"},
                 %k: tensor<1x?x1x16xf32> {linac.arg = "k"},
                 %v: tensor<1x?x1x16xf32> {linac.arg = "v"},
                 %g: tensor<1x?x1x16xf32> {linac.arg = "g"},
                 %u: tensor<1x16xf32> {linac.arg = "u"})
    -> (tensor<1x?x1x16xf32> {linac.arg = "o"}) {
  %o = linac.recurrence decay(diagonal) output(previous_state_plus_bonus)
      q(%q : tensor<1x?x1x16xf32>) k(%k : tensor<1x?x1x16xf32>)
      v(%v : tensor<1x?x1x16xf32>) g(%g : tensor<1x?x1x16xf32>)
      u(%u : tensor<1x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 16>}
      -> tensor<1x?x1x16xf32>
  return %o : tensor<1x?x1x16xf32>
}

// -----

// Its decode step gets the bonus row.
// CHECK-LABEL: func.func private @rwkv6_decode_task(
// CHECK: linac.tile_copy ins(%{{.+}}) outs(%[[UT:.+]] : memref<1x16xf32>)
// CHECK: scf.for
// CHECK: linac.recurrent_step ins({{.*}}) gates(%{{.+}} : memref<1x16xf32>) bonus(%[[UT]] : memref<1x16xf32>) state(
func.func @rwkv6_decode(%q: tensor<1x?x1x16xf32> {linac.arg = "q"},
                        %k: tensor<1x?x1x16xf32> {linac.arg = "k"},
                        %v: tensor<1x?x1x16xf32> {linac.arg = "v"},
                        %g: tensor<1x?x1x16xf32> {linac.arg = "g"},
                        %u: tensor<1x16xf32> {linac.arg = "u"},
                        %h0: tensor<1x1x16x16xf32> {linac.arg = "h0"})
    -> (tensor<1x?x1x16xf32> {linac.arg = "o"},
        tensor<1x1x16x16xf32> {linac.arg = "ht"}) {
  %o, %ht = linac.recurrence decay(diagonal) output(previous_state_plus_bonus)
      q(%q : tensor<1x?x1x16xf32>) k(%k : tensor<1x?x1x16xf32>)
      v(%v : tensor<1x?x1x16xf32>) g(%g : tensor<1x?x1x16xf32>)
      u(%u : tensor<1x16xf32>) h0(%h0 : tensor<1x1x16x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 16>}
      -> tensor<1x?x1x16xf32>, tensor<1x1x16x16xf32>
  return %o, %ht : tensor<1x?x1x16xf32>, tensor<1x1x16x16xf32>
}

// -----

// normalize = "sum": a second value side whose values are a column of ones
// (a 16-wide tile, one vector) and whose state is z, zeroed whatever h0
// holds; its output divides the output rows before the store. Prefill runs
// the value-side ops twice; decode takes a second recurrent step on z.
// CHECK-LABEL: func.func private @normalized_task(
// CHECK: memref.alloca() : memref<32x32xf32>
// CHECK-NEXT: %[[Z:.+]] = memref.alloca() : memref<16x16xf32>
// CHECK-NEXT: %[[ONES:.+]] = memref.alloca() : memref<32x16xf32>
// CHECK-NEXT: %[[ZO:.+]] = memref.alloca() : memref<32x16xf32>
// CHECK-NEXT: linac.tile_zero outs(%[[Z]] : memref<16x16xf32>)
// CHECK-NEXT: linac.tile_zero outs(%[[ONES]] : memref<32x16xf32>)
// CHECK: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK: scf.for %[[R:.+]] = %{{.+}} to %c32{{[_0-9]*}} step
// CHECK-NEXT: memref.store %[[ONE]], %[[ONES]][%[[R]], %{{.+}}]
// CHECK: scf.for
// CHECK: linac.chunk_inter ins(%{{.+}}, %[[S:.+]] : memref<32x16xf32>, memref<16x16xf32>) outs(%[[O:.+]] : memref<32x16xf32>)
// CHECK: linac.chunk_attend ins(%{{.+}}, %{{.+}} : memref<32x32xf32>, memref<32x16xf32>) outs(%[[O]] : memref<32x16xf32>)
// CHECK: linac.chunk_state_update ins(%{{.+}}, %{{.+}} : memref<32x16xf32>, memref<32x16xf32>) outs(%[[S]] : memref<16x16xf32>)
// CHECK: linac.chunk_inter ins(%{{.+}}, %[[Z]] : memref<32x16xf32>, memref<16x16xf32>) outs(%[[ZO]] : memref<32x16xf32>)
// CHECK: linac.chunk_attend ins(%{{.+}}, %[[ONES]] : memref<32x32xf32>, memref<32x16xf32>) outs(%[[ZO]] : memref<32x16xf32>)
// CHECK: linac.chunk_state_update ins(%{{.+}}, %[[ONES]] : memref<32x16xf32>, memref<32x16xf32>) outs(%[[Z]] : memref<16x16xf32>)
// CHECK: linac.chunk_normalize ins(%[[ZO]] : memref<32x16xf32>) outs(%[[O]] : memref<32x16xf32>) eps(5.000000e-01)
// CHECK-NEXT: linac.chunk_store %[[O]] into
func.func @normalized(%q: tensor<1x?x1x16xf32> {linac.arg = "q"},
                      %k: tensor<1x?x1x16xf32> {linac.arg = "k"},
                      %v: tensor<1x?x1x16xf32> {linac.arg = "v"},
                      %h0: tensor<1x1x16x16xf32> {linac.arg = "h0"})
    -> (tensor<1x?x1x16xf32> {linac.arg = "o"}) {
  %o = linac.recurrence decay(none) normalizer(sum) eps(0.5) q(%q : tensor<1x?x1x16xf32>)
      k(%k : tensor<1x?x1x16xf32>) v(%v : tensor<1x?x1x16xf32>) h0(%h0 : tensor<1x1x16x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 16>}
      -> tensor<1x?x1x16xf32>
  return %o : tensor<1x?x1x16xf32>
}

// CHECK-LABEL: func.func private @normalized_decode_task(
// CHECK: %[[Z:.+]] = memref.alloca() : memref<16x16xf32>
// CHECK-NEXT: %[[ONES:.+]] = memref.alloca() : memref<1x16xf32>
// CHECK-NEXT: %[[ZO:.+]] = memref.alloca() : memref<1x16xf32>
// CHECK-NEXT: linac.tile_zero outs(%[[Z]] : memref<16x16xf32>)
// CHECK: scf.for
// CHECK: linac.recurrent_step ins(%{{.+}}, %{{.+}}, %{{.+}} : {{.*}}) state(%{{.+}} : {{.*}}) outs(%{{.+}}, %[[O:.+]] : {{.*}})
// CHECK-NEXT: linac.recurrent_step ins(%{{.+}}, %{{.+}}, %[[ONES]] : {{.*}}) state(%[[Z]] : memref<16x16xf32>) outs(%[[Z]], %[[ZO]] : memref<16x16xf32>, memref<1x16xf32>)
// CHECK-NEXT: linac.chunk_normalize ins(%[[ZO]] : memref<1x16xf32>) outs(%[[O]] : memref<1x16xf32>) eps(9.99999997E-7)
// CHECK-NEXT: linac.chunk_store %[[O]] into
func.func @normalized_decode(%q: tensor<1x?x1x16xf32> {linac.arg = "q"},
                             %k: tensor<1x?x1x16xf32> {linac.arg = "k"},
                             %v: tensor<1x?x1x16xf32> {linac.arg = "v"},
                             %h0: tensor<1x1x16x16xf32> {linac.arg = "h0"})
    -> (tensor<1x?x1x16xf32> {linac.arg = "o"}, tensor<1x1x16x16xf32> {linac.arg = "ht"}) {
  %o, %ht = linac.recurrence decay(none) normalizer(sum) q(%q : tensor<1x?x1x16xf32>)
      k(%k : tensor<1x?x1x16xf32>) v(%v : tensor<1x?x1x16xf32>) h0(%h0 : tensor<1x1x16x16xf32>)
      {linac.mode = "decode", linac.schedule = #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 16>}
      -> tensor<1x?x1x16xf32>, tensor<1x1x16x16xf32>
  return %o, %ht : tensor<1x?x1x16xf32>, tensor<1x1x16x16xf32>
}

// -----

// taylor2 with K = 4: K' = 21 state rows, padded to 32 (two vectors). q
// and k are loaded raw (4 columns) and expanded by tile_taylor2 (q with the
// scale); the state tile is zeroed and h0's 21 rows copied into its first
// rows, and ht gets those rows back.
// CHECK-LABEL: func.func private @taylor2_task(
// CHECK: %[[S:.+]] = memref.alloca() : memref<32x16xf32>
// CHECK-NEXT: %[[QT:.+]] = memref.alloca() : memref<32x32xf32>
// CHECK-NEXT: %[[KT:.+]] = memref.alloca() : memref<32x32xf32>
// CHECK-NEXT: %[[QRAW:.+]] = memref.alloca() : memref<32x4xf32>
// CHECK-NEXT: %[[KRAW:.+]] = memref.alloca() : memref<32x4xf32>
// CHECK: linac.tile_zero outs(%[[S]] : memref<32x16xf32>)
// CHECK: %[[SW:.+]] = memref.subview %[[S]][0, 0] [21, 16] [1, 1] : memref<32x16xf32> to memref<21x16xf32, strided<[16, 1]>>
// CHECK-NEXT: linac.tile_copy ins(%{{.+}} : memref<21x16xf32, strided<[?, 1], offset: ?>>) outs(%[[SW]] : memref<21x16xf32, strided<[16, 1]>>)
// CHECK: scf.for
// CHECK: linac.chunk_load %arg0{{.*}} len(%[[LEN:.+]]) : {{.*}} into %[[QRAW]] : memref<32x4xf32>
// CHECK-NEXT: linac.tile_taylor2 ins(%[[QRAW]] : memref<32x4xf32>) len(%[[LEN]]) outs(%[[QT]] : memref<32x32xf32>) scale(5.000000e-01)
// CHECK: linac.chunk_load %arg1{{.*}} into %[[KRAW]] : memref<32x4xf32>
// CHECK-NEXT: linac.tile_taylor2 ins(%[[KRAW]] : memref<32x4xf32>) len(%[[LEN]]) outs(%[[KT]] : memref<32x32xf32>)
// CHECK-NOT: scale
// CHECK: linac.chunk_state_update ins(%[[KT]], %{{.+}} : memref<32x32xf32>, memref<32x16xf32>) outs(%[[S]] : memref<32x16xf32>)
// CHECK: %[[SO:.+]] = memref.subview %[[S]][0, 0] [21, 16] [1, 1]
// CHECK: linac.tile_copy ins(%[[SO]] : memref<21x16xf32, strided<[16, 1]>>) outs(%{{.+}} : memref<21x16xf32, strided<[?, 1], offset: ?>>)
func.func @taylor2(%q: tensor<1x?x1x4xf32> {linac.arg = "q"},
                   %k: tensor<1x?x1x4xf32> {linac.arg = "k"},
                   %v: tensor<1x?x1x16xf32> {linac.arg = "v"},
                   %h0: tensor<1x1x21x16xf32> {linac.arg = "h0"})
    -> (tensor<1x?x1x16xf32> {linac.arg = "o"}, tensor<1x1x21x16xf32> {linac.arg = "ht"}) {
  %o, %ht = linac.recurrence decay(none) feature_map(taylor2) q(%q : tensor<1x?x1x4xf32>)
      k(%k : tensor<1x?x1x4xf32>) v(%v : tensor<1x?x1x16xf32>) h0(%h0 : tensor<1x1x21x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 16>}
      -> tensor<1x?x1x16xf32>, tensor<1x1x21x16xf32>
  return %o, %ht : tensor<1x?x1x16xf32>, tensor<1x1x21x16xf32>
}

// -----

// A hand-written chunked_wy schedule on a diagonal recurrence.
func.func @wy_schedule(%q: tensor<1x32x1x16xf32> {linac.arg = "q"})
    -> (tensor<1x32x1x16xf32> {linac.arg = "o"}) {
  // expected-error @+1 {{'linac.recurrence' op is not supported by linac-chunk yet: algorithm chunked_wy}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x32x1x16xf32>)
      k(%q : tensor<1x32x1x16xf32>) v(%q : tensor<1x32x1x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked_wy, chunk_size = 32, vector_width = 16>}
      -> tensor<1x32x1x16xf32>
  return %o : tensor<1x32x1x16xf32>
}

// -----

// Chunks are whole sub-chunks of 16.
func.func @chunk_40(%q: tensor<1x32x1x16xf32> {linac.arg = "q"})
    -> (tensor<1x32x1x16xf32> {linac.arg = "o"}) {
  // expected-error @+1 {{'linac.recurrence' op chunk_size 40 must be a multiple of 16 (the sub-chunk)}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x32x1x16xf32>)
      k(%q : tensor<1x32x1x16xf32>) v(%q : tensor<1x32x1x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 40, vector_width = 16>}
      -> tensor<1x32x1x16xf32>
  return %o : tensor<1x32x1x16xf32>
}

// -----

// K = 16 rows of vectors of 32 lanes do not exist. Head sizes are reported
// at the tensor that has them (k here), which a spec points at its key.
func.func @too_wide(%q: tensor<1x32x1x16xf32> {linac.arg = "q"})
    // expected-error @-1 {{head dim K = 16 must be a multiple of the vector width 32 (every row of a tile is whole vectors; pad head_dim_k to a multiple of 32)}}
    -> (tensor<1x32x1x16xf32> {linac.arg = "o"}) {
  %o = linac.recurrence decay(none) q(%q : tensor<1x32x1x16xf32>)
      k(%q : tensor<1x32x1x16xf32>) v(%q : tensor<1x32x1x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 32>}
      -> tensor<1x32x1x16xf32>
  return %o : tensor<1x32x1x16xf32>
}

// -----

// Value tiles split V exactly.
func.func @ragged_tiles(%q: tensor<1x32x1x16xf32> {linac.arg = "q"},
                        %v: tensor<1x32x1x48xf32> {linac.arg = "v"})
    // expected-error @-1 {{head dim V = 48: the value tile 32 must be a multiple of the vector width 16 and divide V (every row of a tile is whole vectors; x86-64-v3 has 8-lane vectors, or pad head_dim_v to a multiple of 16)}}
    -> (tensor<1x32x1x48xf32> {linac.arg = "o"}) {
  %o = linac.recurrence decay(none) q(%q : tensor<1x32x1x16xf32>)
      k(%q : tensor<1x32x1x16xf32>) v(%v : tensor<1x32x1x48xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 16, value_tile = 32>}
      -> tensor<1x32x1x48xf32>
  return %o : tensor<1x32x1x48xf32>
}

// -----

// The function must be exactly `return linac.recurrence(arguments)`: here
// the output goes through another op first.
func.func @not_whole_body(%q: tensor<1x32x1x16xf32> {linac.arg = "q"})
    -> (tensor<1x32x1x16xf32> {linac.arg = "o"}) {
  // expected-error @+1 {{'linac.recurrence' op must be the whole body of its function (return linac.recurrence over the arguments) to be chunked}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x32x1x16xf32>)
      k(%q : tensor<1x32x1x16xf32>) v(%q : tensor<1x32x1x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 16>}
      -> tensor<1x32x1x16xf32>
  %neg = arith.negf %o : tensor<1x32x1x16xf32>
  return %neg : tensor<1x32x1x16xf32>
}

// -----

// ... and its operands must be the function's arguments.
func.func @computed_operand(%q: tensor<1x32x1x16xf32> {linac.arg = "q"})
    -> (tensor<1x32x1x16xf32> {linac.arg = "o"}) {
  %k = arith.negf %q : tensor<1x32x1x16xf32>
  // expected-error @+1 {{'linac.recurrence' op must be the whole body of its function}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x32x1x16xf32>)
      k(%k : tensor<1x32x1x16xf32>) v(%q : tensor<1x32x1x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 16>}
      -> tensor<1x32x1x16xf32>
  return %o : tensor<1x32x1x16xf32>
}

// -----

// Decode updates a state it is given: no ht, no decode.
func.func @decode_without_state(%q: tensor<1x1x1x16xf32> {linac.arg = "q"},
                                %h0: tensor<1x1x16x16xf32> {linac.arg = "h0"})
    -> (tensor<1x1x1x16xf32> {linac.arg = "o"}) {
  // expected-error @+1 {{'linac.recurrence' op decode needs both h0 and ht (the state it updates)}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x1x1x16xf32>)
      k(%q : tensor<1x1x1x16xf32>) v(%q : tensor<1x1x1x16xf32>)
      h0(%h0 : tensor<1x1x16x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 16>}
      -> tensor<1x1x1x16xf32>
  return %o : tensor<1x1x1x16xf32>
}

// -----

// Nor without h0.
func.func @decode_without_h0(%q: tensor<1x1x1x16xf32> {linac.arg = "q"})
    -> (tensor<1x1x1x16xf32> {linac.arg = "o"},
        tensor<1x1x16x16xf32> {linac.arg = "ht"}) {
  // expected-error @+1 {{'linac.recurrence' op decode needs both h0 and ht (the state it updates)}}
  %o, %ht = linac.recurrence decay(none) q(%q : tensor<1x1x1x16xf32>)
      k(%q : tensor<1x1x1x16xf32>) v(%q : tensor<1x1x1x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 16>}
      -> tensor<1x1x1x16xf32>, tensor<1x1x16x16xf32>
  return %o, %ht : tensor<1x1x1x16xf32>, tensor<1x1x16x16xf32>
}

// -----

// Decode runs batches of single sequences, not packed ones.
func.func @decode_varlen(%q: tensor<1x4x1x16xf32> {linac.arg = "q"},
                         %h0: tensor<2x1x16x16xf32> {linac.arg = "h0"},
                         %cu: tensor<3xi32> {linac.arg = "cu_seqlens"})
    -> (tensor<1x4x1x16xf32> {linac.arg = "o"},
        tensor<2x1x16x16xf32> {linac.arg = "ht"}) {
  // expected-error @+1 {{'linac.recurrence' op decode does not take cu_seqlens}}
  %o, %ht = linac.recurrence decay(none) q(%q : tensor<1x4x1x16xf32>)
      k(%q : tensor<1x4x1x16xf32>) v(%q : tensor<1x4x1x16xf32>)
      h0(%h0 : tensor<2x1x16x16xf32>) cu_seqlens(%cu : tensor<3xi32>)
      {linac.schedule = #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 16>}
      -> tensor<1x4x1x16xf32>, tensor<2x1x16x16xf32>
  return %o, %ht : tensor<1x4x1x16xf32>, tensor<2x1x16x16xf32>
}

// -----

// Every tensor needs its role name (the ABI and the manifest are built from
// them).
// expected-error @+1 {{'func.func' op argument or result 1 has no linac.arg name (q, k, v, g, beta, a, b, u, h0, cu_seqlens, state_indices, o, ht)}}
func.func @unnamed(%q: tensor<1x32x1x16xf32> {linac.arg = "q"},
                   %v: tensor<1x32x1x16xf32>)
    -> (tensor<1x32x1x16xf32> {linac.arg = "o"}) {
  %o = linac.recurrence decay(none) q(%q : tensor<1x32x1x16xf32>)
      k(%q : tensor<1x32x1x16xf32>) v(%v : tensor<1x32x1x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 16>}
      -> tensor<1x32x1x16xf32>
  return %o : tensor<1x32x1x16xf32>
}

// -----

// The linac.arg names decide which buffer plays which role, so a name that
// disagrees with the operand wiring is an error, not a silent swap.
func.func @swapped(%a: tensor<1x32x1x16xf32> {linac.arg = "q"},
                   %b: tensor<1x32x1x16xf32> {linac.arg = "k"},
                   %c: tensor<1x32x1x16xf32> {linac.arg = "v"})
    -> (tensor<1x32x1x16xf32> {linac.arg = "o"}) {
  // expected-error @+1 {{operand 'k' must be the function argument named linac.arg = "k"}}
  %o = linac.recurrence decay(none) scale(0.25) q(%a : tensor<1x32x1x16xf32>)
      k(%c : tensor<1x32x1x16xf32>) v(%b : tensor<1x32x1x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 16>}
      -> tensor<1x32x1x16xf32>
  return %o : tensor<1x32x1x16xf32>
}

// -----

// A chunk of zero tokens would be a loop of step 0.
func.func @empty_chunk(%q: tensor<1x32x1x16xf32> {linac.arg = "q"},
                       %k: tensor<1x32x1x16xf32> {linac.arg = "k"},
                       %v: tensor<1x32x1x16xf32> {linac.arg = "v"})
    -> (tensor<1x32x1x16xf32> {linac.arg = "o"}) {
  // expected-error @+1 {{chunk_size 0 must be a multiple of 16}}
  %o = linac.recurrence decay(none) scale(0.25) q(%q : tensor<1x32x1x16xf32>)
      k(%k : tensor<1x32x1x16xf32>) v(%v : tensor<1x32x1x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 0, vector_width = 16>}
      -> tensor<1x32x1x16xf32>
  return %o : tensor<1x32x1x16xf32>
}

// -----

// layout = "bhtd": tasks still index [B, T, H, D] views (linac-cpu-abi swaps
// the stored dims); a per-token tensor stored [B, H, T] then has no unit
// stride in that order, so its buffer keeps all strides dynamic, while the
// [B, T, H, D] ones keep their unit inner stride.
// CHECK-LABEL: func.func private @hm_task(
// CHECK-SAME: %arg0: memref<?x?x1x16xf32, strided<[?, ?, ?, 1], offset: ?>>
// CHECK-SAME: %arg3: memref<?x?x1xf32, strided<[?, ?, ?], offset: ?>>
module attributes {linac.layout = "bhtd"} {
  func.func @hm(%q: tensor<?x?x1x16xf32> {linac.arg = "q"},
                %k: tensor<?x?x1x16xf32> {linac.arg = "k"},
                %v: tensor<?x?x1x16xf32> {linac.arg = "v"},
                %g: tensor<?x?x1xf32> {linac.arg = "g"})
      -> (tensor<?x?x1x16xf32> {linac.arg = "o"}) {
    %o = linac.recurrence decay(scalar) q(%q : tensor<?x?x1x16xf32>)
        k(%k : tensor<?x?x1x16xf32>) v(%v : tensor<?x?x1x16xf32>)
        g(%g : tensor<?x?x1xf32>)
        {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 16>}
        -> tensor<?x?x1x16xf32>
    return %o : tensor<?x?x1x16xf32>
  }
}

// -----

// A CPU task's tiles live on the stack: K = V = 1024 in chunks of 256 with
// one value tile needs a 4 MiB state and 1 MiB for each of q, k, v and o.
func.func @too_deep(%q: tensor<1x?x1x1024xf32> {linac.arg = "q"},
                    %k: tensor<1x?x1x1024xf32> {linac.arg = "k"},
                    %v: tensor<1x?x1x1024xf32> {linac.arg = "v"})
    -> (tensor<1x?x1x1024xf32> {linac.arg = "o"}) {
  // expected-error @+1 {{'linac.recurrence' op needs 8448 KiB of tiles per task (K' = 1024, value tile 1024, chunk 256), more than the 6 MiB of stack a CPU task may use; choose a smaller chunk_size or head dims}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x?x1x1024xf32>)
      k(%k : tensor<1x?x1x1024xf32>) v(%v : tensor<1x?x1x1024xf32>)
      {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 256, vector_width = 16, value_tile = 1024>}
      -> tensor<1x?x1x1024xf32>
  return %o : tensor<1x?x1x1024xf32>
}

// -----

// A state pool (state_indices): the task's slot is state_indices[seq] when
// it lies in [0, P), P = dim 0 of h0 (one unsigned compare also catches
// negative padding indices), and 0 otherwise so that no address outside
// the pool is formed. A padding row gets an empty step loop and a second
// loop that stores zero rows of o over the sequence instead.
// CHECK-LABEL: func.func private @pool_decode_task(
// CHECK-SAME: %[[H0:[a-z0-9]+]]: memref<?x1x16x16xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[IDX:[a-z0-9]+]]: memref<?xi32, strided<[1], offset: ?>>,
// CHECK-SAME: %[[O:[a-z0-9]+]]: memref<?x?x1x16xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[HT:[a-z0-9]+]]: memref<?x1x16x16xf32, strided<[?, ?, ?, 1], offset: ?>>, %[[TASK:[a-z0-9]+]]: index)
// CHECK-SAME: linac.tensors = ["q", "k", "v", "h0", "state_indices", "o", "ht"]
// CHECK: %[[SEQ:.+]] = arith.divui %[[TASK]]
// CHECK: %[[BEGIN:.+]] = arith.constant 0 : index
// CHECK: %[[T:.+]] = memref.dim %{{.+}}, %{{.+}} : memref<?x?x1x16xf32
// CHECK-NEXT: %[[RAW:.+]] = memref.load %[[IDX]][%[[SEQ]]]
// CHECK-NEXT: %[[INDEX:.+]] = arith.index_cast %[[RAW]] : i32 to index
// CHECK: %[[P:.+]] = memref.dim %[[H0]], %{{.+}} : memref<?x1x16x16xf32
// CHECK-NEXT: %[[IN:.+]] = arith.cmpi ult, %[[INDEX]], %[[P]] : index
// CHECK: %[[SLOT:.+]] = arith.select %[[IN]], %[[INDEX]], %{{.+}} : index
// CHECK-NEXT: %[[PADEND:.+]] = arith.select %[[IN]], %[[BEGIN]], %[[T]] : index
// CHECK-NEXT: %[[END:.+]] = arith.select %[[IN]], %[[T]], %[[BEGIN]] : index
// CHECK-NEXT: memref.subview %[[H0]][%[[SLOT]],
// CHECK-NEXT: memref.subview %[[HT]][%[[SLOT]],
// CHECK-NEXT: memref.alloca() : memref<1x16xf32>
// CHECK-NEXT: memref.alloca() : memref<1x16xf32>
// CHECK-NEXT: memref.alloca() : memref<1x16xf32>
// CHECK-NEXT: %[[OR:.+]] = memref.alloca() : memref<1x16xf32>
// CHECK: scf.for %{{.+}} = %[[BEGIN]] to %[[END]] step
// CHECK: linac.recurrent_step
// CHECK: linac.chunk_store %[[OR]] into %[[O]]
// CHECK: linac.tile_zero outs(%[[OR]] : memref<1x16xf32>)
// CHECK: scf.for %[[ZT:.+]] = %[[BEGIN]] to %[[PADEND]] step
// CHECK: linac.chunk_store %[[OR]] into %[[O]][%[[SEQ]], %[[ZT]],
// CHECK: return
func.func @pool_decode(%q: tensor<?x?x1x16xf32> {linac.arg = "q"},
                       %k: tensor<?x?x1x16xf32> {linac.arg = "k"},
                       %v: tensor<?x?x1x16xf32> {linac.arg = "v"},
                       %h0: tensor<?x1x16x16xf32> {linac.arg = "h0"},
                       %idx: tensor<?xi32> {linac.arg = "state_indices"})
    -> (tensor<?x?x1x16xf32> {linac.arg = "o"},
        tensor<?x1x16x16xf32> {linac.arg = "ht"}) {
  %o, %ht = linac.recurrence decay(none)
      q(%q : tensor<?x?x1x16xf32>) k(%k : tensor<?x?x1x16xf32>)
      v(%v : tensor<?x?x1x16xf32>) h0(%h0 : tensor<?x1x16x16xf32>)
      state_indices(%idx : tensor<?xi32>)
      {linac.mode = "decode", linac.schedule = #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 16, value_tile = 16>}
      -> tensor<?x?x1x16xf32>, tensor<?x1x16x16xf32>
  return %o, %ht : tensor<?x?x1x16xf32>, tensor<?x1x16x16xf32>
}

// -----

// A pool in prefill: h0's slot is read only when it is in the pool (the
// state is zero otherwise), ht's is written only then, and a padding row's
// o rows are zeroed through the output tile after the (empty) chunk loop.
// CHECK-LABEL: func.func private @pool_prefill_task(
// CHECK-SAME: %[[H0:[a-z0-9]+]]: memref<?x1x16x16xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[IDX:[a-z0-9]+]]: memref<?xi32, strided<[1], offset: ?>>,
// CHECK-SAME: %[[O:[a-z0-9]+]]: memref<?x?x1x16xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[HT:[a-z0-9]+]]: memref<?x1x16x16xf32, strided<[?, ?, ?, 1], offset: ?>>, %{{.+}}: index)
// CHECK: %[[IN:.+]] = arith.cmpi ult
// CHECK: %[[SLOT:.+]] = arith.select %[[IN]]
// CHECK-NEXT: %[[PADEND:.+]] = arith.select %[[IN]]
// CHECK-NEXT: %[[END:.+]] = arith.select %[[IN]]
// CHECK: %[[STATE:.+]] = memref.alloca() : memref<16x16xf32>
// CHECK-NEXT: memref.alloca() : memref<32x16xf32>
// CHECK-NEXT: memref.alloca() : memref<32x16xf32>
// CHECK-NEXT: memref.alloca() : memref<32x16xf32>
// CHECK-NEXT: %[[OT:.+]] = memref.alloca() : memref<32x16xf32>
// CHECK: scf.if %[[IN]] {
// CHECK-NEXT: memref.subview %[[H0]][%[[SLOT]],
// CHECK-NEXT: linac.tile_copy
// CHECK-NEXT: } else {
// CHECK-NEXT: linac.tile_zero outs(%[[STATE]]
// CHECK: scf.for %{{.+}} = %{{.+}} to %[[END]] step
// CHECK: linac.chunk_store %[[OT]] into %[[O]]
// CHECK: scf.if %[[IN]] {
// CHECK-NEXT: %[[W:.+]] = memref.subview %[[HT]][%[[SLOT]],
// CHECK-NEXT: linac.tile_copy ins(%[[STATE]] : memref<16x16xf32>) outs(%[[W]]
// CHECK-NEXT: }
// CHECK-NEXT: linac.tile_zero outs(%[[OT]] : memref<32x16xf32>)
// CHECK: scf.for %{{.+}} = %{{.+}} to %[[PADEND]] step
// CHECK: linac.chunk_store %[[OT]] into %[[O]]
// CHECK: return
func.func @pool_prefill(%q: tensor<?x?x1x16xf32> {linac.arg = "q"},
                       %k: tensor<?x?x1x16xf32> {linac.arg = "k"},
                       %v: tensor<?x?x1x16xf32> {linac.arg = "v"},
                       %h0: tensor<?x1x16x16xf32> {linac.arg = "h0"},
                       %idx: tensor<?xi32> {linac.arg = "state_indices"})
    -> (tensor<?x?x1x16xf32> {linac.arg = "o"},
        tensor<?x1x16x16xf32> {linac.arg = "ht"}) {
  %o, %ht = linac.recurrence decay(none)
      q(%q : tensor<?x?x1x16xf32>) k(%k : tensor<?x?x1x16xf32>)
      v(%v : tensor<?x?x1x16xf32>) h0(%h0 : tensor<?x1x16x16xf32>)
      state_indices(%idx : tensor<?xi32>)
      {linac.mode = "prefill", linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 16, value_tile = 16>}
      -> tensor<?x?x1x16xf32>, tensor<?x1x16x16xf32>
  return %o, %ht : tensor<?x?x1x16xf32>, tensor<?x1x16x16xf32>
}
