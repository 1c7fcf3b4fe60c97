// RUN: linac-opt %s -linac-vectorize-cpu=vector-width=16 | FileCheck %s --check-prefixes=CHECK,W16
// RUN: linac-opt %s -linac-vectorize-cpu=vector-width=8 | FileCheck %s --check-prefixes=CHECK,W8
// RUN: linac-opt %s -linac-vectorize-cpu | FileCheck %s --check-prefix=SCHED
// RUN: linac-opt %s -linac-vectorize-cpu=vector-width=16 | FileCheck %s --check-prefix=GONE
// RUN: linac-opt %s -linac-vectorize-cpu="vector-width=16 outline-ops=true" | FileCheck %s --check-prefix=OUTLINE

// linac-vectorize-cpu on one op at a time, on the static tiles linac-chunk
// makes for C = 32, K = 16, sub-chunks of 16: AVX-512 (16 lanes) and AVX2
// (8 lanes) register tilings, f16/bf16 conversions, the exp expansion and
// the placement of scratch tiles.

// Nothing of the linac dialect and no math.exp survive (exp becomes a
// polynomial, so the object needs no libm).
// GONE-NOT: {{^ *}}linac.
// GONE-NOT: math.exp

// outline-ops: each op is lowered inside its own never-inlined function and
// called in its place, so that profiles split a kernel's time by op.
// OUTLINE: func.func private @__linac_chunk_inter_0(%{{.+}}: memref<32x16xf32>, %{{.+}}: memref<16x16xf32>, %{{.+}}: memref<32x16xf32>) attributes {llvm.linkage = #llvm.linkage<internal>, passthrough = ["noinline"]} {
// OUTLINE: vector.fma
// OUTLINE: func.func @inter(%[[A:.+]]: memref<32x16xf32>, %[[B:.+]]: memref<16x16xf32>, %[[C:.+]]: memref<32x16xf32>) {
// OUTLINE-NEXT: call @__linac_chunk_inter_0(%[[A]], %[[B]], %[[C]])
// OUTLINE-NEXT: return

// The register-tiled outer product: an 8 x 1 block of 16-lane accumulators
// (8 x 2 of 8 lanes) is carried through the K loop as iter_args, each step
// broadcasting a scalar of q and loading row kk of the state.
// CHECK-LABEL: func.func @inter(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<32x16xf32>, %[[S:[a-z0-9]+]]: memref<16x16xf32>, %[[O:[a-z0-9]+]]: memref<32x16xf32>)
// CHECK: scf.for %[[M0:[a-z0-9_]+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK: scf.for %[[N0:[a-z0-9_]+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// W16: %[[ACC:.+]]:8 = scf.for %[[KK:[a-z0-9_]+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[A0:[a-z0-9_]+]] = %[[ZERO:[a-z0-9_]+]], %{{.+}} = %[[ZERO]], %{{.+}} = %[[ZERO]], %{{.+}} = %[[ZERO]], %{{.+}} = %[[ZERO]], %{{.+}} = %[[ZERO]], %{{.+}} = %[[ZERO]], %{{.+}} = %[[ZERO]]) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// W16-NEXT: %[[B:.+]] = vector.load %[[S]][%[[KK]], %[[N0]]] : memref<16x16xf32>, vector<16xf32>
// W16-NEXT: %[[X:.+]] = memref.load %[[Q]][%[[M0]], %[[KK]]] : memref<32x16xf32>
// W16-NEXT: %[[XB:.+]] = vector.broadcast %[[X]] : f32 to vector<16xf32>
// W16-NEXT: vector.fma %[[XB]], %[[B]], %[[A0]] : vector<16xf32>
// W16-COUNT-7: vector.fma %{{.+}}, %[[B]], %{{.+}} : vector<16xf32>
// W16-NEXT: scf.yield
// W16-NEXT: }
// W16-NEXT: vector.store %[[ACC]]#0, %[[O]][%[[M0]], %[[N0]]] : memref<32x16xf32>, vector<16xf32>
// W8: %[[ACC:.+]]:16 = scf.for %[[KK:[a-z0-9_]+]] = {{.*}} iter_args({{.*}}) -> (vector<8xf32>,
// W8-NEXT: %[[B0:.+]] = vector.load %[[S]][%[[KK]], %[[N0]]] : memref<16x16xf32>, vector<8xf32>
// W8-NEXT: %[[N1:.+]] = arith.addi %[[N0]], %{{.+}} : index
// W8-NEXT: %[[B1:.+]] = vector.load %[[S]][%[[KK]], %[[N1]]] : memref<16x16xf32>, vector<8xf32>
// W8-NEXT: %[[X:.+]] = memref.load %[[Q]][%[[M0]], %[[KK]]] : memref<32x16xf32>
// W8-NEXT: %[[XB:.+]] = vector.broadcast %[[X]] : f32 to vector<8xf32>
// W8-NEXT: vector.fma %[[XB]], %[[B0]], %{{.+}} : vector<8xf32>
// W8-NEXT: vector.fma %[[XB]], %[[B1]], %{{.+}} : vector<8xf32>
// W8: scf.yield
// W8: vector.store %[[ACC]]#15, %[[O]]
func.func @inter(%q: memref<32x16xf32>, %s: memref<16x16xf32>,
                 %o: memref<32x16xf32>) {
  linac.chunk_inter ins(%q, %s : memref<32x16xf32>, memref<16x16xf32>)
      outs(%o : memref<32x16xf32>) sub_chunk(16)
  return
}

// With a (scalar) prefix gate, q is first scaled into a scratch tile with a
// 1 x 1 carry of the sub-chunk products: both are allocas at function entry,
// before any loop.
// CHECK-LABEL: func.func @inter_gated(
// CHECK-NOT: scf.for
// CHECK-DAG: %[[CARRY:.+]] = memref.alloca() : memref<1x1xf32>
// CHECK-DAG: %[[QS:.+]] = memref.alloca() : memref<32x16xf32>
// CHECK: scf.for
// CHECK: vector.store %{{.+}}, %[[QS]]
// CHECK: memref.load %[[QS]]
// CHECK: vector.fma
// CHECK: return
func.func @inter_gated(%q: memref<32x16xf32>, %s: memref<16x16xf32>,
                       %p: memref<32x1xf32>, %o: memref<32x16xf32>) {
  linac.chunk_inter ins(%q, %s : memref<32x16xf32>, memref<16x16xf32>)
      gates(%p : memref<32x1xf32>) outs(%o : memref<32x16xf32>) sub_chunk(16)
  return
}

// chunk_scores with per-key gates: scratch for q * prefix, for (k * suffix)ᵀ
// and for the running k_j * decays of the diagonal blocks, all at entry.
// Blocks below the diagonal go through the register-tiled kernel; the
// diagonal blocks are dot products whose horizontal sum may be reassociated.
// CHECK-LABEL: func.func @scores(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<32x16xf32>, %[[K:[a-z0-9]+]]: memref<32x16xf32>, %[[D:[a-z0-9]+]]: memref<32x16xf32>, %[[P:[a-z0-9]+]]: memref<32x16xf32>, %[[SUF:[a-z0-9]+]]: memref<32x16xf32>, %[[A:[a-z0-9]+]]: memref<32x32xf32>)
// CHECK-NOT: scf.for
// CHECK-DAG: %[[KD:.+]] = memref.alloca() : memref<1x16xf32>
// CHECK-DAG: %[[QF:.+]] = memref.alloca() : memref<32x16xf32>
// CHECK-DAG: %[[KT:.+]] = memref.alloca() : memref<16x32xf32>
// The scores start at zero (the upper triangle stays so).
// CHECK: scf.for
// W16: vector.store %{{.+}}, %[[A]][%{{.+}}, %{{.+}}] : memref<32x32xf32>, vector<16xf32>
// W8: vector.store %{{.+}}, %[[A]][%{{.+}}, %{{.+}}] : memref<32x32xf32>, vector<8xf32>
// qf = q * prefix, vector by vector.
// CHECK: %[[QV:.+]] = vector.load %[[Q]]
// CHECK-NEXT: %[[PV:.+]] = vector.load %[[P]]
// CHECK-NEXT: %[[QP:.+]] = arith.mulf %[[QV]], %[[PV]]
// CHECK-NEXT: vector.store %[[QP]], %[[QF]]
// kt[c, j] = k[j, c] * suffix[j, c], scalar by scalar (a transpose).
// CHECK: %[[KX:.+]] = memref.load %[[K]][%[[J:.+]], %[[C:.+]]] : memref<32x16xf32>
// CHECK-NEXT: %[[SX:.+]] = memref.load %[[SUF]][%[[J]], %[[C]]] : memref<32x16xf32>
// CHECK-NEXT: %[[KS:.+]] = arith.mulf %[[KX]], %[[SX]] : f32
// CHECK-NEXT: memref.store %[[KS]], %[[KT]][%[[C]], %[[J]]] : memref<16x32xf32>
// Farther blocks: q_I also decays through the whole sub-chunk in between.
// CHECK: scf.if
// CHECK: vector.load %[[P]]
// CHECK: }
// W16: scf.for {{.*}} iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// W8: scf.for {{.*}} iter_args({{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// CHECK: vector.load %[[KT]]
// CHECK: memref.load %[[QF]]
// CHECK: vector.fma
// Diagonal blocks: kd = k_j, score (j, j), then kd *= decay[i] and score
// (i, j) for the later rows i of the sub-chunk.
// CHECK: vector.store %{{.+}}, %[[KD]]
// W16: %[[DOT:.+]] = vector.reduction <add>, %{{.+}} fastmath<reassoc> : vector<16xf32> into f32
// W8: %[[DOT:.+]] = vector.reduction <add>, %{{.+}} fastmath<reassoc> : vector<8xf32> into f32
// CHECK-NEXT: memref.store %[[DOT]], %[[A]][%[[JJ:.+]], %[[JJ]]] : memref<32x32xf32>
// CHECK: scf.for %[[I:[a-z0-9_]+]] = %{{.+}} to %{{.+}} step
// CHECK: vector.load %[[D]][%[[I]],
// CHECK: %[[DOT2:.+]] = vector.reduction <add>, %{{.+}} fastmath<reassoc>
// CHECK-NEXT: memref.store %[[DOT2]], %[[A]][%[[I]], %[[JJ]]] : memref<32x32xf32>
func.func @scores(%q: memref<32x16xf32>, %k: memref<32x16xf32>,
                  %d: memref<32x16xf32>, %p: memref<32x16xf32>,
                  %s: memref<32x16xf32>, %a: memref<32x32xf32>) {
  linac.chunk_scores ins(%q, %k : memref<32x16xf32>, memref<32x16xf32>)
      gates(%d, %p, %s : memref<32x16xf32>, memref<32x16xf32>, memref<32x16xf32>)
      outs(%a : memref<32x32xf32>) sub_chunk(16)
  return
}

// Without gates there is nothing to scale: only the transposed k and the
// diagonal carry are scratch, and no decay is read.
// CHECK-LABEL: func.func @scores_ungated(
// CHECK-NOT: memref.alloca() : memref<32x16xf32>
// CHECK-DAG: memref.alloca() : memref<1x16xf32>
// CHECK-DAG: memref.alloca() : memref<16x32xf32>
// CHECK-NOT: memref.alloca
// CHECK-NOT: scf.if
// CHECK: return
func.func @scores_ungated(%q: memref<32x16xf32>, %a: memref<32x32xf32>) {
  linac.chunk_scores ins(%q, %q : memref<32x16xf32>, memref<32x16xf32>)
      outs(%a : memref<32x32xf32>) sub_chunk(16)
  return
}

// o += tril(scores) v: the accumulators start from o, and the reduction of
// the row block starting at m0 stops at min(m0 + 8, C) (the rest of its
// scores are zero).
// CHECK-LABEL: func.func @attend(
// CHECK-SAME: %[[A:[a-z0-9]+]]: memref<32x32xf32>, %[[V:[a-z0-9]+]]: memref<32x16xf32>, %[[O:[a-z0-9]+]]: memref<32x16xf32>)
// CHECK: scf.for %[[M0:[a-z0-9_]+]] = %{{.+}} to %[[C32:[a-z0-9_]+]] step %[[C8:[a-z0-9_]+]] {
// CHECK-NEXT: %[[M8:.+]] = arith.addi %[[M0]], %[[C8]] : index
// CHECK-NEXT: %[[KEND:.+]] = arith.minui %[[M8]], %[[C32]] : index
// CHECK-NEXT: scf.for %[[N0:[a-z0-9_]+]] =
// W16-NEXT: %[[INIT:.+]] = vector.load %[[O]][%[[M0]], %[[N0]]] : memref<32x16xf32>, vector<16xf32>
// W8-NEXT: %[[INIT:.+]] = vector.load %[[O]][%[[M0]], %[[N0]]] : memref<32x16xf32>, vector<8xf32>
// CHECK: scf.for %{{.+}} = %{{.+}} to %[[KEND]] step %{{.+}} iter_args(%{{.+}} = %[[INIT]],
// CHECK: memref.load %[[A]]
// CHECK: vector.fma
func.func @attend(%a: memref<32x32xf32>, %v: memref<32x16xf32>,
                  %o: memref<32x16xf32>) {
  linac.chunk_attend ins(%a, %v : memref<32x32xf32>, memref<32x16xf32>)
      outs(%o : memref<32x16xf32>)
  return
}

// The state pass: k scaled by its decay to the end of the chunk (walking
// the sub-chunks backwards), S scaled by the decay of the whole chunk (the
// final 1 x 1 carry), then S += kᵀ v with S as the accumulator.
// CHECK-LABEL: func.func @update(
// CHECK-SAME: %[[K:[a-z0-9]+]]: memref<32x16xf32>, %[[V:[a-z0-9]+]]: memref<32x16xf32>, %[[P:[a-z0-9]+]]: memref<32x1xf32>, %[[SUF:[a-z0-9]+]]: memref<32x1xf32>, %[[S:[a-z0-9]+]]: memref<16x16xf32>)
// CHECK-DAG: %[[CARRY:.+]] = memref.alloca() : memref<1x1xf32>
// CHECK-DAG: %[[KS:.+]] = memref.alloca() : memref<32x16xf32>
// The carry starts at 1; the last sub-chunk comes first: block = (2 - 1) - s.
// CHECK: vector.store %{{.+}}, %[[CARRY]]
// CHECK: scf.for %[[SB:[a-z0-9_]+]] = %{{.+}} to %{{.+}} step
// CHECK-NEXT: %[[BLK:.+]] = arith.subi %{{.+}}, %[[SB]] : index
// CHECK: memref.load %[[SUF]]
// CHECK: memref.load %[[CARRY]]
// CHECK: vector.store %{{.+}}, %[[KS]]
// CHECK: vector.load %[[P]]
// CHECK: %[[TOTAL:.+]] = memref.load %[[CARRY]][%{{.+}}, %{{.+}}] : memref<1x1xf32>
// CHECK-NEXT: %[[SROW:.+]] = vector.load %[[S]]
// CHECK-NEXT: %[[TB:.+]] = vector.broadcast %[[TOTAL]]
// CHECK-NEXT: %[[SD:.+]] = arith.mulf %[[SROW]], %[[TB]]
// CHECK-NEXT: vector.store %[[SD]], %[[S]]
// CHECK: %[[INIT:.+]] = vector.load %[[S]]
// CHECK: scf.for %{{.+}} iter_args(%{{.+}} = %[[INIT]],
// CHECK: vector.load %[[V]]
// CHECK: memref.load %[[KS]]
// CHECK: vector.fma
func.func @update(%k: memref<32x16xf32>, %v: memref<32x16xf32>,
                  %p: memref<32x1xf32>, %s: memref<32x1xf32>,
                  %st: memref<16x16xf32>) {
  linac.chunk_state_update ins(%k, %v : memref<32x16xf32>, memref<32x16xf32>)
      gates(%p, %s : memref<32x1xf32>, memref<32x1xf32>)
      outs(%st : memref<16x16xf32>) sub_chunk(16)
  return
}

// chunk_gates: exp is expanded in place (range reduction, polynomial, the
// exponent built with integer ops); prefix is the running product forward
// through each sub-chunk of 16, suffix the exclusive product backward.
// CHECK-LABEL: func.func @gates(
// CHECK-SAME: %[[G:[a-z0-9]+]]: memref<32x16xf32>, %[[D:[a-z0-9]+]]: memref<32x16xf32>, %[[P:[a-z0-9]+]]: memref<32x16xf32>, %[[SUF:[a-z0-9]+]]: memref<32x16xf32>)
// CHECK-NOT: math.exp
// W16: %[[FWD:.+]] = scf.for {{.*}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (vector<16xf32>) {
// W8: %[[FWD:.+]] = scf.for {{.*}} iter_args(%[[ACC:.+]] = %{{.+}}) -> (vector<8xf32>) {
// CHECK: %[[GV:.+]] = vector.load %[[G]]
// CHECK: math.fma
// W16: arith.fptosi %{{.+}} : vector<16xf32> to vector<16xi32>
// W16: %[[POW:.+]] = arith.bitcast %{{.+}} : vector<16xi32> to vector<16xf32>
// W8: arith.fptosi %{{.+}} : vector<8xf32> to vector<8xi32>
// W8: %[[POW:.+]] = arith.bitcast %{{.+}} : vector<8xi32> to vector<8xf32>
// CHECK-NEXT: %[[DEC:.+]] = arith.mulf %{{.+}}, %[[POW]]
// CHECK-NEXT: vector.store %[[DEC]], %[[D]]
// CHECK-NEXT: %[[PRE:.+]] = arith.mulf %[[ACC]], %[[DEC]]
// CHECK-NEXT: vector.store %[[PRE]], %[[P]]
// CHECK-NEXT: scf.yield %[[PRE]]
// CHECK: scf.for {{.*}} iter_args(%[[BACC:.+]] = %{{.+}})
// CHECK: vector.store %[[BACC]], %[[SUF]]
// CHECK-NEXT: %[[DV:.+]] = vector.load %[[D]]
// CHECK-NEXT: %[[NEXT:.+]] = arith.mulf %[[BACC]], %[[DV]]
// CHECK-NEXT: scf.yield %[[NEXT]]
// CHECK-NOT: math.exp
// CHECK: return
func.func @gates(%g: memref<32x16xf32>, %d: memref<32x16xf32>,
                 %p: memref<32x16xf32>, %s: memref<32x16xf32>) {
  linac.chunk_gates ins(%g : memref<32x16xf32>)
      outs(%d, %p, %s : memref<32x16xf32>, memref<32x16xf32>, memref<32x16xf32>)
      sub_chunk(16)
  return
}

// A bf16 load with l2norm and a scale: widen with extf, one sum of squares
// per row, then x * rsqrt(sum + eps) * scale; rows len .. 31 get zeros.
// CHECK-LABEL: func.func @load_bf16(
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>>, %[[B:[a-z0-9]+]]: index, %[[T:[a-z0-9]+]]: index, %[[H:[a-z0-9]+]]: index, %[[LEN:[a-z0-9]+]]: index, %[[TILE:[a-z0-9]+]]: memref<32x16xf32>)
// CHECK-DAG: %[[ZERO:.+]] = arith.constant dense<0.000000e+00> : vector<[[W:16|8]]xf32>
// CHECK-DAG: %[[SCALE:.+]] = arith.constant dense<2.500000e-01> : vector<[[W]]xf32>
// CHECK-DAG: %[[EPS:.+]] = arith.constant 9.99999997E-7 : f32
// CHECK: scf.for %[[R:[a-z0-9_]+]] = %{{.+}} to %[[LEN]] step
// CHECK: %[[ROW:.+]] = arith.addi %[[T]], %[[R]] : index
// CHECK-NEXT: %[[RAW:.+]] = vector.load %[[X]][%[[B]], %[[ROW]], %[[H]], %{{.+}}] : memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>>, vector<[[W]]xbf16>
// CHECK-NEXT: %[[WIDE:.+]] = arith.extf %[[RAW]] : vector<[[W]]xbf16> to vector<[[W]]xf32>
// CHECK-NEXT: vector.fma %[[WIDE]], %[[WIDE]]
// CHECK: %[[SUM:.+]] = vector.reduction <add>
// CHECK-NEXT: %[[SUMEPS:.+]] = arith.addf %[[SUM]], %[[EPS]] : f32
// CHECK: arith.extf
// CHECK: arith.mulf
// CHECK-NEXT: %[[SCALED:.+]] = arith.mulf %{{.+}}, %[[SCALE]] : vector<[[W]]xf32>
// CHECK-NEXT: vector.store %[[SCALED]], %[[TILE]][%[[R]], %{{.+}}]
// CHECK: scf.for %[[PR:[a-z0-9_]+]] = %[[LEN]] to %{{.+}} step
// CHECK: vector.store %[[ZERO]], %[[TILE]][%[[PR]], %{{.+}}] : memref<32x16xf32>, vector<[[W]]xf32>
func.func @load_bf16(%x: memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>>,
                     %b: index, %t: index, %h: index, %n: index,
                     %tile: memref<32x16xf32>) {
  %c0 = arith.constant 0 : index
  linac.chunk_load %x[%b, %t, %h, %c0] len(%n) feature_map(l2norm) scale(0.25)
      : memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>> into %tile : memref<32x16xf32>
  return
}

// Scalar gates ([B, T, H], f16) into a 1-column tile: one scalar load per
// row, widened and stored as a 1-lane vector; the pad value fills the rest.
// CHECK-LABEL: func.func @load_scalar_gates(
// CHECK-SAME: %[[G:[a-z0-9]+]]: memref<?x?x2xf16, strided<[?, ?, 1], offset: ?>>
// CHECK-DAG: %[[PAD:.+]] = arith.constant dense<-1.000000e+00> : vector<1xf32>
// CHECK: %[[S:.+]] = memref.load %[[G]][%{{.+}}, %{{.+}}, %{{.+}}] : memref<?x?x2xf16, strided<[?, ?, 1], offset: ?>>
// CHECK-NEXT: %[[SF:.+]] = arith.extf %[[S]] : f16 to f32
// CHECK-NEXT: %[[SV:.+]] = vector.broadcast %[[SF]] : f32 to vector<1xf32>
// CHECK-NEXT: vector.store %[[SV]], %{{.+}} : memref<32x1xf32>, vector<1xf32>
// CHECK: vector.store %[[PAD]], %{{.+}} : memref<32x1xf32>, vector<1xf32>
func.func @load_scalar_gates(%g: memref<?x?x2xf16, strided<[?, ?, 1], offset: ?>>,
                             %b: index, %t: index, %h: index, %n: index,
                             %tile: memref<32x1xf32>) {
  %c0 = arith.constant 0 : index
  linac.chunk_load %g[%b, %t, %h, %c0] len(%n) pad(-1.0)
      : memref<?x?x2xf16, strided<[?, ?, 1], offset: ?>> into %tile : memref<32x1xf32>
  return
}

// A bf16 store narrows with truncf and writes row start + r, column col + c.
// CHECK-LABEL: func.func @store_bf16(
// CHECK-SAME: %[[O:[a-z0-9]+]]: memref<?x?x2x32xbf16, strided<[?, ?, ?, 1], offset: ?>>, %[[B:[a-z0-9]+]]: index, %[[T:[a-z0-9]+]]: index, %[[H:[a-z0-9]+]]: index, %[[COL:[a-z0-9]+]]: index, %[[LEN:[a-z0-9]+]]: index, %[[TILE:[a-z0-9]+]]: memref<32x16xf32>)
// CHECK: scf.for %[[R:[a-z0-9_]+]] = %{{.+}} to %[[LEN]] step
// CHECK-NEXT: scf.for %[[C:[a-z0-9_]+]] = %{{.+}} to %{{.+}} step
// W16-NEXT: %[[V:.+]] = vector.load %[[TILE]][%[[R]], %[[C]]] : memref<32x16xf32>, vector<16xf32>
// W16-NEXT: %[[N:.+]] = arith.truncf %[[V]] : vector<16xf32> to vector<16xbf16>
// W8-NEXT: %[[V:.+]] = vector.load %[[TILE]][%[[R]], %[[C]]] : memref<32x16xf32>, vector<8xf32>
// W8-NEXT: %[[N:.+]] = arith.truncf %[[V]] : vector<8xf32> to vector<8xbf16>
// CHECK-NEXT: %[[ROW:.+]] = arith.addi %[[T]], %[[R]] : index
// CHECK-NEXT: %[[CC:.+]] = arith.addi %[[COL]], %[[C]] : index
// CHECK-NEXT: vector.store %[[N]], %[[O]][%[[B]], %[[ROW]], %[[H]], %[[CC]]]
func.func @store_bf16(%o: memref<?x?x2x32xbf16, strided<[?, ?, ?, 1], offset: ?>>,
                      %b: index, %t: index, %h: index, %c: index, %n: index,
                      %tile: memref<32x16xf32>) {
  linac.chunk_store %tile into %o[%b, %t, %h, %c] len(%n)
      : memref<32x16xf32> into memref<?x?x2x32xbf16, strided<[?, ?, ?, 1], offset: ?>>
  return
}

// One decode step streams the state once: per key row, S_out = d * S_in +
// k v (an fma), stored right away, and o accumulates q * S_out in
// registers. V = 32: two 16-lane vectors or four 8-lane ones per row.
// CHECK-LABEL: func.func @step(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<1x16xf32>, %[[V:[a-z0-9]+]]: memref<1x32xf32>, %[[D:[a-z0-9]+]]: memref<1x16xf32>, %[[SI:[a-z0-9]+]]: memref<16x32xf32, strided<[?, 1], offset: ?>>, %[[SO:[a-z0-9]+]]: memref<16x32xf32, strided<[?, 1], offset: ?>>, %[[O:[a-z0-9]+]]: memref<1x32xf32>)
// W16: %[[ACC:.+]]:2 = scf.for %[[KK:[a-z0-9_]+]] = {{.*}} -> (vector<16xf32>, vector<16xf32>) {
// W8: %[[ACC:.+]]:4 = scf.for %[[KK:[a-z0-9_]+]] = {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// CHECK: %[[DS:.+]] = memref.load %[[D]][%{{.+}}, %[[KK]]] : memref<1x16xf32>
// CHECK-NEXT: %[[DB:.+]] = vector.broadcast %[[DS]]
// CHECK-NEXT: %[[SIN:.+]] = vector.load %[[SI]][%[[KK]], %{{.+}}]
// CHECK-NEXT: %[[SDEC:.+]] = arith.mulf %[[SIN]], %[[DB]]
// CHECK-NEXT: %[[SNEW:.+]] = vector.fma %{{.+}}, %{{.+}}, %[[SDEC]]
// CHECK-NEXT: vector.store %[[SNEW]], %[[SO]][%[[KK]], %{{.+}}]
// CHECK-NEXT: vector.fma %{{.+}}, %[[SNEW]], %{{.+}}
// CHECK: vector.store %[[ACC]]#0, %[[O]]
// W16: vector.store %[[ACC]]#1, %[[O]]
// W8: vector.store %[[ACC]]#3, %[[O]]
func.func @step(%q: memref<1x16xf32>, %v: memref<1x32xf32>, %d: memref<1x16xf32>,
                %si: memref<16x32xf32, strided<[?, 1], offset: ?>>,
                %so: memref<16x32xf32, strided<[?, 1], offset: ?>>,
                %o: memref<1x32xf32>) {
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x32xf32>)
      gates(%d : memref<1x16xf32>)
      state(%si : memref<16x32xf32, strided<[?, 1], offset: ?>>)
      outs(%so, %o : memref<16x32xf32, strided<[?, 1], offset: ?>>, memref<1x32xf32>)
  return
}

// The delta rule's forward substitution: row t starts from v[t] - ks[t],
// subtracts kk[t, j] u[j] for the rows j < t solved before it (the loop's
// upper bound is t), with the whole row in registers, and is scaled by
// beta[t] on the way out.
// CHECK-LABEL: func.func @solve(
// CHECK-SAME: %[[KK:[a-z0-9]+]]: memref<32x32xf32>, %[[BETA:[a-z0-9]+]]: memref<32x1xf32>, %[[V:[a-z0-9]+]]: memref<32x32xf32>, %[[KS:[a-z0-9]+]]: memref<32x32xf32>, %[[U:[a-z0-9]+]]: memref<32x32xf32>)
// CHECK: scf.for %[[T:[a-z0-9_]+]] = %{{.+}} to %{{.+}} step
// CHECK: %[[V0:.+]] = vector.load %[[V]][%[[T]], %{{.+}}]
// CHECK-NEXT: %[[KS0:.+]] = vector.load %[[KS]][%[[T]], %{{.+}}]
// CHECK-NEXT: %[[R0:.+]] = arith.subf %[[V0]], %[[KS0]]
// W16: %[[ACC:.+]]:2 = scf.for %[[J:[a-z0-9_]+]] = %{{.+}} to %[[T]] step %{{.+}} iter_args(%[[A0:.+]] = %[[R0]], %{{.+}} = %{{.+}}) -> (vector<16xf32>, vector<16xf32>) {
// W8: %[[ACC:.+]]:4 = scf.for %[[J:[a-z0-9_]+]] = %{{.+}} to %[[T]] step %{{.+}} iter_args(%[[A0:.+]] = %[[R0]], {{.*}}) -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// CHECK-NEXT: %[[W:.+]] = memref.load %[[KK]][%[[T]], %[[J]]]
// CHECK-NEXT: %[[NW:.+]] = arith.negf %[[W]] : f32
// CHECK-NEXT: %[[NWB:.+]] = vector.broadcast %[[NW]]
// CHECK-NEXT: %[[UJ:.+]] = vector.load %[[U]][%[[J]], %{{.+}}]
// CHECK-NEXT: vector.fma %[[NWB]], %[[UJ]], %[[A0]]
// CHECK: %[[B:.+]] = memref.load %[[BETA]][%[[T]], %{{.+}}] : memref<32x1xf32>
// CHECK-NEXT: %[[BB:.+]] = vector.broadcast %[[B]]
// CHECK-NEXT: %[[OUT:.+]] = arith.mulf %[[ACC]]#0, %[[BB]]
// CHECK-NEXT: vector.store %[[OUT]], %[[U]][%[[T]], %{{.+}}]
func.func @solve(%kk: memref<32x32xf32>, %beta: memref<32x1xf32>,
                 %v: memref<32x32xf32>, %ks: memref<32x32xf32>,
                 %u: memref<32x32xf32>) {
  linac.chunk_delta_solve ins(%kk, %beta, %v, %ks : memref<32x32xf32>, memref<32x1xf32>, memref<32x32xf32>, memref<32x32xf32>)
      outs(%u : memref<32x32xf32>)
  return
}

// A decode step with a delta write reads the state twice: a first loop
// accumulates S'ᵀk and S'ᵀq (two sets of accumulators, nothing stored), then
// r = beta (v - S'ᵀk) and o = S'ᵀq + (k·q) r, then a second loop writes
// S' + k rᵀ row by row.
// CHECK-LABEL: func.func @delta_step(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<1x16xf32>, %[[K:[a-z0-9]+]]: memref<1x16xf32>, %[[V:[a-z0-9]+]]: memref<1x32xf32>, %[[BETA:[a-z0-9]+]]: memref<1x1xf32>, %[[S:[a-z0-9]+]]: memref<16x32xf32>, %[[O:[a-z0-9]+]]: memref<1x32xf32>)
// W16: %[[SUMS:.+]]:4 = scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>) {
// W8: %[[SUMS:.+]]:8 = scf.for {{.*}} -> (vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>, vector<8xf32>) {
// CHECK-NOT: vector.store
// CHECK: scf.yield
// CHECK: %[[KQ:.+]] = scf.for {{.*}} -> (vector<{{8|16}}xf32>)
// CHECK: vector.reduction <add>, %[[KQ]] fastmath<reassoc>
// CHECK: memref.load %[[BETA]]
// CHECK: arith.subf %{{.+}}, %[[SUMS]]#0
// CHECK: vector.store %{{.+}}, %[[O]]
// CHECK: scf.for
// CHECK: vector.load %[[S]]
// CHECK: vector.fma
// CHECK-NEXT: vector.store %{{.+}}, %[[S]]
func.func @delta_step(%q: memref<1x16xf32>, %k: memref<1x16xf32>,
                      %v: memref<1x32xf32>, %beta: memref<1x1xf32>,
                      %s: memref<16x32xf32>, %o: memref<1x32xf32>) {
  linac.recurrent_step ins(%q, %k, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x32xf32>)
      beta(%beta : memref<1x1xf32>)
      state(%s : memref<16x32xf32>)
      outs(%s, %o : memref<16x32xf32>, memref<1x32xf32>)
  return
}

// RWKV-6's delay by one token: row 0 from the carry, rows 1 .. C-1 from
// rows 0 .. C-2, then (only when the chunk has rows) the carry takes row
// len - 1.
// CHECK-LABEL: func.func @shift(
// CHECK-SAME: %[[K:[a-z0-9]+]]: memref<32x16xf32>, %[[KS:[a-z0-9]+]]: memref<32x16xf32>, %[[C:[a-z0-9]+]]: memref<1x16xf32>, %[[N:[a-z0-9]+]]: index)
// CHECK: %[[C0:.+]] = vector.load %[[C]][%{{.+}}, %{{.+}}] : memref<1x16xf32>
// CHECK-NEXT: vector.store %[[C0]], %[[KS]][%{{.+}}, %{{.+}}]
// CHECK: scf.for %[[R:[a-z0-9_]+]] = %{{.+}} to %c31 step
// CHECK: %[[ROW:.+]] = vector.load %[[K]][%[[R]], %{{.+}}]
// CHECK-NEXT: %[[R1:.+]] = arith.addi %[[R]], %c1
// CHECK-NEXT: vector.store %[[ROW]], %[[KS]][%[[R1]], %{{.+}}]
// CHECK: %[[ANY:.+]] = arith.cmpi sgt, %[[N]], %{{.+}} : index
// CHECK-NEXT: scf.if %[[ANY]] {
// CHECK-NEXT: %[[LAST:.+]] = arith.subi %[[N]], %c1
// CHECK: %[[L:.+]] = vector.load %[[K]][%[[LAST]], %{{.+}}]
// CHECK-NEXT: vector.store %[[L]], %[[C]]
func.func @shift(%k: memref<32x16xf32>, %ks: memref<32x16xf32>,
                 %carry: memref<1x16xf32>, %n: index) {
  linac.tile_shift_rows ins(%k : memref<32x16xf32>) carry(%carry : memref<1x16xf32>)
      len(%n) outs(%ks : memref<32x16xf32>)
  return
}

// RWKV-6's bonus: per row, (q ⊙ k) · u as one reassociating lane sum, then
// o += that weight times v.
// CHECK-LABEL: func.func @bonus(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<32x16xf32>, %[[K:[a-z0-9]+]]: memref<32x16xf32>, %[[U:[a-z0-9]+]]: memref<1x16xf32>, %[[V:[a-z0-9]+]]: memref<32x32xf32>, %[[O:[a-z0-9]+]]: memref<32x32xf32>)
// CHECK: scf.for %[[R:[a-z0-9_]+]] =
// CHECK: %[[QV:.+]] = vector.load %[[Q]][%[[R]],
// CHECK-NEXT: %[[KV:.+]] = vector.load %[[K]][%[[R]],
// CHECK-NEXT: %[[QK:.+]] = arith.mulf %[[QV]], %[[KV]]
// CHECK-NEXT: %[[UV:.+]] = vector.load %[[U]]
// CHECK-NEXT: vector.fma %[[QK]], %[[UV]]
// CHECK: %[[W:.+]] = vector.reduction <add>, %{{.+}} fastmath<reassoc>
// CHECK: %[[WB:.+]] = vector.broadcast %[[W]]
// CHECK: %[[VV:.+]] = vector.load %[[V]][%[[R]],
// CHECK-NEXT: %[[OV:.+]] = vector.load %[[O]][%[[R]],
// CHECK-NEXT: %[[NEW:.+]] = vector.fma %[[WB]], %[[VV]], %[[OV]]
// CHECK-NEXT: vector.store %[[NEW]], %[[O]][%[[R]],
func.func @bonus(%q: memref<32x16xf32>, %k: memref<32x16xf32>, %u: memref<1x16xf32>,
                 %v: memref<32x32xf32>, %o: memref<32x32xf32>) {
  linac.chunk_bonus ins(%q, %k, %u, %v : memref<32x16xf32>, memref<32x16xf32>, memref<1x16xf32>, memref<32x32xf32>)
      outs(%o : memref<32x32xf32>)
  return
}

// taylor2: the tile is cleared (padding columns 273..287, rows past len),
// then per row the constant feature, the scaled row at column 1, and pair
// block i: x[r] times x[r, i] scale / √2 at column 17 + 16 i (unaligned
// vector stores).
// CHECK-LABEL: func.func @taylor2(
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<32x16xf32>, %[[N:[a-z0-9]+]]: index, %[[PHI:[a-z0-9]+]]: memref<32x288xf32>)
// W16-DAG: %[[PAIR:.+]] = arith.constant 0.353553385 : f32
// W16-DAG: %[[HALF:.+]] = arith.constant 5.000000e-01 : f32
// W16: vector.store %{{.+}}, %[[PHI]]
// W16: scf.for %[[R:.+]] = %{{.+}} to %[[N]]
// W16-NEXT: memref.store %[[HALF]], %[[PHI]][%[[R]], %c0{{[_0-9]*}}]
// W16: vector.load %[[X]][%[[R]],
// W16: arith.addi %{{.+}}, %c1{{[_0-9]*}}
// W16: %[[XI:.+]] = memref.load %[[X]][%[[R]], %[[I:.+]]] : memref<32x16xf32>
// W16-NEXT: %[[S:.+]] = arith.mulf %[[XI]], %[[PAIR]]
// W16-NEXT: %[[SB:.+]] = vector.broadcast %[[S]]
// W16-NEXT: %[[IK:.+]] = arith.muli %[[I]], %c16
// W16-NEXT: %[[BASE:.+]] = arith.addi %[[IK]], %c17
// W16: %[[XJ:.+]] = vector.load %[[X]][%[[R]], %[[J:.+]]] : memref<32x16xf32>, vector<16xf32>
// W16-NEXT: %[[P:.+]] = arith.mulf %[[SB]], %[[XJ]]
// W16-NEXT: %[[COL:.+]] = arith.addi %[[BASE]], %[[J]]
// W16-NEXT: vector.store %[[P]], %[[PHI]][%[[R]], %[[COL]]]
func.func @taylor2(%x: memref<32x16xf32>, %n: index, %phi: memref<32x288xf32>) {
  linac.tile_taylor2 ins(%x : memref<32x16xf32>) len(%n) outs(%phi : memref<32x288xf32>) scale(0.5)
  return
}

// The sum normalizer: per row, den[r, 0] + eps broadcast once, then each
// vector of o divided by it (a division, rounded once, as the oracle).
// CHECK-LABEL: func.func @normalize(
// CHECK-SAME: %[[DEN:[a-z0-9]+]]: memref<32x16xf32>, %[[O:[a-z0-9]+]]: memref<32x32xf32>)
// CHECK: %[[EPS:.+]] = arith.constant 5.000000e-01 : f32
// CHECK: scf.for %[[R:[a-z0-9_]+]] =
// CHECK: %[[D:.+]] = memref.load %[[DEN]][%[[R]], %{{.+}}]
// CHECK-NEXT: %[[DE:.+]] = arith.addf %[[D]], %[[EPS]]
// CHECK-NEXT: %[[DB:.+]] = vector.broadcast %[[DE]]
// CHECK: scf.for %[[C:[a-z0-9_]+]] =
// CHECK-NEXT: %[[OV:.+]] = vector.load %[[O]][%[[R]], %[[C]]]
// CHECK-NEXT: %[[Q:.+]] = arith.divf %[[OV]], %[[DB]]
// CHECK-NEXT: vector.store %[[Q]], %[[O]][%[[R]], %[[C]]]
func.func @normalize(%den: memref<32x16xf32>, %o: memref<32x32xf32>) {
  linac.chunk_normalize ins(%den : memref<32x16xf32>) outs(%o : memref<32x32xf32>) eps(0.5)
  return
}

// dplr's forward substitution: row t starts from rhs[t] and adds
// ab[t, j + 1] w[j] for j < t (the coefficient column is one to the right).
// CHECK-LABEL: func.func @dplr_solve(
// CHECK-SAME: %[[AB:[a-z0-9]+]]: memref<32x32xf32>, %[[RHS:[a-z0-9]+]]: memref<32x32xf32>, %[[W:[a-z0-9]+]]: memref<32x32xf32>)
// CHECK: scf.for %[[T:[a-z0-9_]+]] =
// CHECK: %[[R0:.+]] = vector.load %[[RHS]][%[[T]],
// CHECK: scf.for %[[J:[a-z0-9_]+]] = %{{.+}} to %[[T]] step %{{.+}} iter_args(%[[A0:.+]] = %[[R0]],
// CHECK-NEXT: %[[J1:.+]] = arith.addi %[[J]], %c1
// CHECK-NEXT: %[[C:.+]] = memref.load %[[AB]][%[[T]], %[[J1]]]
// CHECK-NEXT: %[[CB:.+]] = vector.broadcast %[[C]]
// CHECK-NEXT: %[[WJ:.+]] = vector.load %[[W]][%[[J]],
// CHECK-NEXT: vector.fma %[[CB]], %[[WJ]], %[[A0]]
// CHECK: vector.store %{{.+}}, %[[W]][%[[T]],
func.func @dplr_solve(%ab: memref<32x32xf32>, %rhs: memref<32x32xf32>,
                      %w: memref<32x32xf32>) {
  linac.chunk_dplr_solve ins(%ab, %rhs : memref<32x32xf32>, memref<32x32xf32>)
      outs(%w : memref<32x32xf32>)
  return
}

// A state update with a pair: the state is decayed once, then two
// accumulating matmuls add (k ⊙ decay to the end)ᵀ v and (b ⊙ ...)ᵀ w.
// CHECK-LABEL: func.func @update_pair(
// CHECK-SAME: %[[K:[a-z0-9]+]]: memref<32x16xf32>, %[[V:[a-z0-9]+]]: memref<32x16xf32>, %[[B:[a-z0-9]+]]: memref<32x16xf32>, %[[W:[a-z0-9]+]]: memref<32x16xf32>, %[[P:[a-z0-9]+]]: memref<32x16xf32>, %[[X:[a-z0-9]+]]: memref<32x16xf32>, %[[S:[a-z0-9]+]]: memref<16x16xf32>)
// CHECK-COUNT-1: arith.mulf %{{.+}}, %{{.+}} : vector<{{8|16}}xf32>
// CHECK: vector.load %[[V]]
// CHECK: vector.load %[[W]]
// CHECK-NOT: vector.load %[[V]]
func.func @update_pair(%k: memref<32x16xf32>, %v: memref<32x16xf32>,
                       %b: memref<32x16xf32>, %w: memref<32x16xf32>,
                       %p: memref<32x16xf32>, %x: memref<32x16xf32>,
                       %s: memref<16x16xf32>) {
  linac.chunk_state_update ins(%k, %v : memref<32x16xf32>, memref<32x16xf32>)
      pair(%b, %w : memref<32x16xf32>, memref<32x16xf32>)
      gates(%p, %x : memref<32x16xf32>, memref<32x16xf32>)
      outs(%s : memref<16x16xf32>) sub_chunk(16)
  return
}

// A dplr decode step: a first pass accumulates w = S_inᵀ a without storing;
// the second writes S_in * decay + b w + k v and accumulates o.
// CHECK-LABEL: func.func @lowrank_step(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<1x16xf32>, %[[A:[a-z0-9]+]]: memref<1x16xf32>, %[[B:[a-z0-9]+]]: memref<1x16xf32>, %[[V:[a-z0-9]+]]: memref<1x32xf32>, %[[D:[a-z0-9]+]]: memref<1x16xf32>, %[[S:[a-z0-9]+]]: memref<16x32xf32>, %[[O:[a-z0-9]+]]: memref<1x32xf32>)
// CHECK: %[[WS:.+]]:{{2|4}} = scf.for
// CHECK: memref.load %[[A]]
// CHECK-NOT: vector.store
// CHECK: scf.yield
// CHECK: scf.for
// CHECK: memref.load %[[B]]
// CHECK: vector.fma %{{.+}}, %[[WS]]#0,
// CHECK: vector.store %{{.+}}, %[[S]]
func.func @lowrank_step(%q: memref<1x16xf32>, %a: memref<1x16xf32>,
                        %b: memref<1x16xf32>, %v: memref<1x32xf32>,
                        %d: memref<1x16xf32>, %s: memref<16x32xf32>,
                        %o: memref<1x32xf32>) {
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x32xf32>)
      gates(%d : memref<1x16xf32>) lowrank(%a, %b : memref<1x16xf32>, memref<1x16xf32>)
      state(%s : memref<16x32xf32>)
      outs(%s, %o : memref<16x32xf32>, memref<1x32xf32>)
  return
}

// Tile copies out of a strided state window, and zeroing.
// CHECK-LABEL: func.func @tiles(
// CHECK-SAME: %[[W:[a-z0-9]+]]: memref<16x16xf32, strided<[?, 1], offset: ?>>, %[[S:[a-z0-9]+]]: memref<16x16xf32>)
// W16: %[[X:.+]] = vector.load %[[W]][%{{.+}}, %{{.+}}] : memref<16x16xf32, strided<[?, 1], offset: ?>>, vector<16xf32>
// W8: %[[X:.+]] = vector.load %[[W]][%{{.+}}, %{{.+}}] : memref<16x16xf32, strided<[?, 1], offset: ?>>, vector<8xf32>
// CHECK-NEXT: vector.store %[[X]], %[[S]]
// CHECK: vector.store %{{.+}}, %[[S]]
func.func @tiles(%w: memref<16x16xf32, strided<[?, 1], offset: ?>>,
                 %s: memref<16x16xf32>) {
  linac.tile_copy ins(%w : memref<16x16xf32, strided<[?, 1], offset: ?>>)
                  outs(%s : memref<16x16xf32>)
  linac.tile_zero outs(%s : memref<16x16xf32>)
  return
}

// Without the option, a task function's schedule gives the width (8 here);
// functions without one get 16. The option wins over the schedule.
// SCHED-LABEL: func.func @scheduled(
// SCHED: vector.store %{{.+}} : memref<16x16xf32>, vector<8xf32>
// SCHED-LABEL: func.func @unscheduled(
// SCHED: vector.store %{{.+}} : memref<16x16xf32>, vector<16xf32>
// W16-LABEL: func.func @scheduled(
// W16: vector.store %{{.+}} : memref<16x16xf32>, vector<16xf32>
func.func @scheduled(%s: memref<16x16xf32>)
    attributes {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 8>} {
  linac.tile_zero outs(%s : memref<16x16xf32>)
  return
}
func.func @unscheduled(%s: memref<16x16xf32>) {
  linac.tile_zero outs(%s : memref<16x16xf32>)
  return
}
