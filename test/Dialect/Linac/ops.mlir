// RUN: linac-opt %s | linac-opt | FileCheck %s
// RUN: linac-opt %s --mlir-print-op-generic | linac-opt | FileCheck %s
// RUN: linac-opt %s --emit-bytecode | linac-opt | FileCheck %s

// Round trip of every form of linac.recurrence: each variant of SEMANTICS.md,
// each optional operand, each option, dynamic batch/time/head sizes.

// CHECK-LABEL: func.func @linear_attn
// CHECK: linac.recurrence decay(none) q(%{{.*}} : tensor<2x65x4x64xf32>) k(%{{.*}} : tensor<2x65x4x64xf32>) v(%{{.*}} : tensor<2x65x4x96xf32>) -> tensor<2x65x4x96xf32>
func.func @linear_attn(%q: tensor<2x65x4x64xf32>, %k: tensor<2x65x4x64xf32>,
                       %v: tensor<2x65x4x96xf32>) -> tensor<2x65x4x96xf32> {
  %o = linac.recurrence decay(none)
      q(%q : tensor<2x65x4x64xf32>) k(%k : tensor<2x65x4x64xf32>)
      v(%v : tensor<2x65x4x96xf32>) -> tensor<2x65x4x96xf32>
  return %o : tensor<2x65x4x96xf32>
}

// CHECK-LABEL: func.func @retention
// CHECK: linac.recurrence decay(constant) constants([9.687500e-01, 9.843750e-01]) q(
func.func @retention(%q: tensor<1x8x2x16xbf16>, %v: tensor<1x8x2x16xbf16>)
    -> tensor<1x8x2x16xbf16> {
  %o = linac.recurrence decay(constant) constants([0.96875, 0.984375])
      q(%q : tensor<1x8x2x16xbf16>) k(%q : tensor<1x8x2x16xbf16>)
      v(%v : tensor<1x8x2x16xbf16>) -> tensor<1x8x2x16xbf16>
  return %o : tensor<1x8x2x16xbf16>
}

// CHECK-LABEL: func.func @lightning_unit_decay
// CHECK: decay(constant) constants([1.000000e+00, 5.000000e-01])
func.func @lightning_unit_decay(%q: tensor<1x8x2x16xf16>,
                                %v: tensor<1x8x2x16xf16>) -> tensor<1x8x2x16xf16> {
  %o = linac.recurrence decay(constant) constants([1.0, 0.5])
      q(%q : tensor<1x8x2x16xf16>) k(%q : tensor<1x8x2x16xf16>)
      v(%v : tensor<1x8x2x16xf16>) -> tensor<1x8x2x16xf16>
  return %o : tensor<1x8x2x16xf16>
}

// CHECK-LABEL: func.func @simple_gla
// CHECK: linac.recurrence decay(scalar) q({{.*}}) k({{.*}}) v({{.*}}) g(%{{.*}} : tensor<1x63x4xf32>) -> tensor<1x63x4x128xf32>
func.func @simple_gla(%q: tensor<1x63x4x128xf32>, %v: tensor<1x63x4x128xf32>,
                      %g: tensor<1x63x4xf32>) -> tensor<1x63x4x128xf32> {
  %o = linac.recurrence decay(scalar)
      q(%q : tensor<1x63x4x128xf32>) k(%q : tensor<1x63x4x128xf32>)
      v(%v : tensor<1x63x4x128xf32>) g(%g : tensor<1x63x4xf32>)
      -> tensor<1x63x4x128xf32>
  return %o : tensor<1x63x4x128xf32>
}

// CHECK-LABEL: func.func @gla_state_in_out
// CHECK: %[[O:.+]], %[[HT:.+]] = linac.recurrence decay(diagonal) q({{.*}}) k({{.*}}) v({{.*}}) g(%{{.*}} : tensor<2x64x4x128xf32>) h0(%{{.*}} : tensor<2x4x128x128xf32>) -> tensor<2x64x4x128xbf16>, tensor<2x4x128x128xf32>
// CHECK: return %[[O]], %[[HT]]
func.func @gla_state_in_out(%q: tensor<2x64x4x128xf32>, %v: tensor<2x64x4x128xf32>,
                            %g: tensor<2x64x4x128xf32>, %h0: tensor<2x4x128x128xf32>)
    -> (tensor<2x64x4x128xbf16>, tensor<2x4x128x128xf32>) {
  %o, %ht = linac.recurrence decay(diagonal)
      q(%q : tensor<2x64x4x128xf32>) k(%q : tensor<2x64x4x128xf32>)
      v(%v : tensor<2x64x4x128xf32>) g(%g : tensor<2x64x4x128xf32>)
      h0(%h0 : tensor<2x4x128x128xf32>)
      -> tensor<2x64x4x128xbf16>, tensor<2x4x128x128xf32>
  return %o, %ht : tensor<2x64x4x128xbf16>, tensor<2x4x128x128xf32>
}

// CHECK-LABEL: func.func @rwkv6
// CHECK: linac.recurrence decay(diagonal) output(previous_state_plus_bonus) q({{.*}}) k({{.*}}) v({{.*}}) g({{.*}}) u(%{{.*}} : tensor<4x64xf32>) -> tensor<1x16x4x64xf32>
func.func @rwkv6(%q: tensor<1x16x4x64xf32>, %w: tensor<1x16x4x64xf32>,
                 %u: tensor<4x64xf32>) -> tensor<1x16x4x64xf32> {
  %o = linac.recurrence decay(diagonal) output(previous_state_plus_bonus)
      q(%q : tensor<1x16x4x64xf32>) k(%q : tensor<1x16x4x64xf32>)
      v(%q : tensor<1x16x4x64xf32>) g(%w : tensor<1x16x4x64xf32>)
      u(%u : tensor<4x64xf32>) -> tensor<1x16x4x64xf32>
  return %o : tensor<1x16x4x64xf32>
}

// CHECK-LABEL: func.func @delta_rule
// CHECK: linac.recurrence decay(none) rank_one(delta) feature_map(l2norm) q({{.*}}) k({{.*}}) v({{.*}}) beta(%{{.*}} : tensor<1x9x2xbf16>) -> tensor<1x9x2x64xbf16>
func.func @delta_rule(%q: tensor<1x9x2x64xbf16>, %beta: tensor<1x9x2xbf16>)
    -> tensor<1x9x2x64xbf16> {
  %o = linac.recurrence decay(none) rank_one(delta) feature_map(l2norm)
      q(%q : tensor<1x9x2x64xbf16>) k(%q : tensor<1x9x2x64xbf16>)
      v(%q : tensor<1x9x2x64xbf16>) beta(%beta : tensor<1x9x2xbf16>)
      -> tensor<1x9x2x64xbf16>
  return %o : tensor<1x9x2x64xbf16>
}

// Gated DeltaNet with grouped value heads (HV = 2H), as in Qwen3-Next.
// CHECK-LABEL: func.func @gated_delta_rule_gva
// CHECK: linac.recurrence decay(scalar) rank_one(delta) scale(1.250000e-01) q(%{{.*}} : tensor<1x33x2x64xf32>) k(%{{.*}} : tensor<1x33x2x64xf32>) v(%{{.*}} : tensor<1x33x4x128xf32>) g(%{{.*}} : tensor<1x33x4xf32>) beta(%{{.*}} : tensor<1x33x4xf32>) -> tensor<1x33x4x128xf32>, tensor<1x4x64x128xf32>
func.func @gated_delta_rule_gva(%q: tensor<1x33x2x64xf32>, %v: tensor<1x33x4x128xf32>,
                                %g: tensor<1x33x4xf32>, %beta: tensor<1x33x4xf32>)
    -> tensor<1x4x64x128xf32> {
  %o, %ht = linac.recurrence decay(scalar) rank_one(delta) scale(0.125)
      q(%q : tensor<1x33x2x64xf32>) k(%q : tensor<1x33x2x64xf32>)
      v(%v : tensor<1x33x4x128xf32>) g(%g : tensor<1x33x4xf32>)
      beta(%beta : tensor<1x33x4xf32>)
      -> tensor<1x33x4x128xf32>, tensor<1x4x64x128xf32>
  return %ht : tensor<1x4x64x128xf32>
}

// CHECK-LABEL: func.func @kda
// CHECK: linac.recurrence decay(diagonal) rank_one(delta) q({{.*}}) k({{.*}}) v({{.*}}) g(%{{.*}} : tensor<1x5x2x32xf32>) beta(
func.func @kda(%q: tensor<1x5x2x32xf32>, %g: tensor<1x5x2x32xf32>,
               %beta: tensor<1x5x2xf32>) -> tensor<1x5x2x32xf32> {
  %o = linac.recurrence decay(diagonal) rank_one(delta)
      q(%q : tensor<1x5x2x32xf32>) k(%q : tensor<1x5x2x32xf32>)
      v(%q : tensor<1x5x2x32xf32>) g(%g : tensor<1x5x2x32xf32>)
      beta(%beta : tensor<1x5x2xf32>) -> tensor<1x5x2x32xf32>
  return %o : tensor<1x5x2x32xf32>
}

// CHECK-LABEL: func.func @dplr
// CHECK: linac.recurrence decay(diagonal) rank_one(dplr) q({{.*}}) k({{.*}}) v({{.*}}) g({{.*}}) a(%{{.*}} : tensor<1x5x2x32xf32>) b(%{{.*}} : tensor<1x5x2x32xf32>) -> tensor<1x5x2x32xf32>
func.func @dplr(%q: tensor<1x5x2x32xf32>, %g: tensor<1x5x2x32xf32>,
                %a: tensor<1x5x2x32xf32>, %b: tensor<1x5x2x32xf32>)
    -> tensor<1x5x2x32xf32> {
  %o = linac.recurrence decay(diagonal) rank_one(dplr)
      q(%q : tensor<1x5x2x32xf32>) k(%q : tensor<1x5x2x32xf32>)
      v(%q : tensor<1x5x2x32xf32>) g(%g : tensor<1x5x2x32xf32>)
      a(%a : tensor<1x5x2x32xf32>) b(%b : tensor<1x5x2x32xf32>)
      -> tensor<1x5x2x32xf32>
  return %o : tensor<1x5x2x32xf32>
}

// Varlen: three packed sequences, per-sequence initial and final states.
// CHECK-LABEL: func.func @varlen
// CHECK: linac.recurrence decay(scalar) q({{.*}}) k({{.*}}) v({{.*}}) g({{.*}}) h0(%{{.*}} : tensor<3x4x64x64xf32>) cu_seqlens(%{{.*}} : tensor<4xi32>) -> tensor<1x100x4x64xf32>, tensor<3x4x64x64xf32>
func.func @varlen(%q: tensor<1x100x4x64xf32>, %g: tensor<1x100x4xf32>,
                  %h0: tensor<3x4x64x64xf32>, %cu: tensor<4xi32>)
    -> (tensor<1x100x4x64xf32>, tensor<3x4x64x64xf32>) {
  %o, %ht = linac.recurrence decay(scalar)
      q(%q : tensor<1x100x4x64xf32>) k(%q : tensor<1x100x4x64xf32>)
      v(%q : tensor<1x100x4x64xf32>) g(%g : tensor<1x100x4xf32>)
      h0(%h0 : tensor<3x4x64x64xf32>) cu_seqlens(%cu : tensor<4xi32>)
      -> tensor<1x100x4x64xf32>, tensor<3x4x64x64xf32>
  return %o, %ht : tensor<1x100x4x64xf32>, tensor<3x4x64x64xf32>
}

// Dynamic batch, time and head counts; i64 offsets.
// CHECK-LABEL: func.func @dynamic
// CHECK: linac.recurrence decay(diagonal) q(%{{.*}} : tensor<?x?x?x128xf16>) k({{.*}}) v(%{{.*}} : tensor<?x?x?x128xf16>) g(%{{.*}} : tensor<?x?x?x128xf16>) cu_seqlens(%{{.*}} : tensor<?xi64>) -> tensor<?x?x?x128xf16>, tensor<?x?x128x128xf32>
func.func @dynamic(%q: tensor<?x?x?x128xf16>, %g: tensor<?x?x?x128xf16>,
                   %cu: tensor<?xi64>)
    -> (tensor<?x?x?x128xf16>, tensor<?x?x128x128xf32>) {
  %o, %ht = linac.recurrence decay(diagonal)
      q(%q : tensor<?x?x?x128xf16>) k(%q : tensor<?x?x?x128xf16>)
      v(%q : tensor<?x?x?x128xf16>) g(%g : tensor<?x?x?x128xf16>)
      cu_seqlens(%cu : tensor<?xi64>)
      -> tensor<?x?x?x128xf16>, tensor<?x?x128x128xf32>
  return %o, %ht : tensor<?x?x?x128xf16>, tensor<?x?x128x128xf32>
}

// Based: the taylor2 feature map turns K = 16 into 1 + 16 + 256 = 273 state
// rows; the sum normalizer with an explicit eps.
// CHECK-LABEL: func.func @based
// CHECK: linac.recurrence decay(none) feature_map(taylor2) normalizer(sum) eps(9.99999974E-6) q({{.*}}) k({{.*}}) v({{.*}}) -> tensor<1x7x2x64xf32>, tensor<1x2x273x64xf32>
func.func @based(%q: tensor<1x7x2x16xf32>, %v: tensor<1x7x2x64xf32>)
    -> tensor<1x2x273x64xf32> {
  %o, %ht = linac.recurrence decay(none) feature_map(taylor2) normalizer(sum)
      eps(1.0e-5)
      q(%q : tensor<1x7x2x16xf32>) k(%q : tensor<1x7x2x16xf32>)
      v(%v : tensor<1x7x2x64xf32>) -> tensor<1x7x2x64xf32>, tensor<1x2x273x64xf32>
  return %ht : tensor<1x2x273x64xf32>
}

// Every feature map spelling.
// CHECK-LABEL: func.func @feature_maps
// CHECK: feature_map(elu_plus_one)
// CHECK: feature_map(relu)
// CHECK: feature_map(silu)
// CHECK-NOT: feature_map(identity)
// CHECK: decay(none) q(
func.func @feature_maps(%q: tensor<1x3x1x16xf32>) {
  %0 = linac.recurrence decay(none) feature_map(elu_plus_one)
      q(%q : tensor<1x3x1x16xf32>) k(%q : tensor<1x3x1x16xf32>)
      v(%q : tensor<1x3x1x16xf32>) -> tensor<1x3x1x16xf32>
  %1 = linac.recurrence decay(none) feature_map(relu)
      q(%q : tensor<1x3x1x16xf32>) k(%q : tensor<1x3x1x16xf32>)
      v(%q : tensor<1x3x1x16xf32>) -> tensor<1x3x1x16xf32>
  %2 = linac.recurrence decay(none) feature_map(silu)
      q(%q : tensor<1x3x1x16xf32>) k(%q : tensor<1x3x1x16xf32>)
      v(%q : tensor<1x3x1x16xf32>) -> tensor<1x3x1x16xf32>
  // Spelling out a default is accepted and printed without it.
  %3 = linac.recurrence decay(none) rank_one(none) output(current_state)
      feature_map(identity) normalizer(none)
      q(%q : tensor<1x3x1x16xf32>) k(%q : tensor<1x3x1x16xf32>)
      v(%q : tensor<1x3x1x16xf32>) -> tensor<1x3x1x16xf32>
  return
}

// Per-key inputs live in the feature-mapped key space: with taylor2 and
// K = 4 the gate, the bonus and the state have K' = 1 + 4 + 16 = 21 rows. The
// sum normalizer is defined for the bonus output form.
// CHECK-LABEL: func.func @taylor2_rwkv6_normalized
// CHECK: linac.recurrence decay(diagonal) output(previous_state_plus_bonus) feature_map(taylor2) normalizer(sum) q(%{{.*}} : tensor<1x3x2x4xf32>) k({{.*}}) v({{.*}}) g(%{{.*}} : tensor<1x3x2x21xf32>) u(%{{.*}} : tensor<2x21xf32>) -> tensor<1x3x2x8xf32>, tensor<1x2x21x8xf32>
func.func @taylor2_rwkv6_normalized(%q: tensor<1x3x2x4xf32>, %v: tensor<1x3x2x8xf32>,
                                    %w: tensor<1x3x2x21xf32>, %u: tensor<2x21xf32>)
    -> tensor<1x2x21x8xf32> {
  %o, %ht = linac.recurrence decay(diagonal) output(previous_state_plus_bonus)
      feature_map(taylor2) normalizer(sum)
      q(%q : tensor<1x3x2x4xf32>) k(%q : tensor<1x3x2x4xf32>)
      v(%v : tensor<1x3x2x8xf32>) g(%w : tensor<1x3x2x21xf32>)
      u(%u : tensor<2x21xf32>) -> tensor<1x3x2x8xf32>, tensor<1x2x21x8xf32>
  return %ht : tensor<1x2x21x8xf32>
}

// dplr with the sum normalizer (z follows the same transition).
// CHECK-LABEL: func.func @dplr_normalized
// CHECK: decay(diagonal) rank_one(dplr) normalizer(sum) eps(1.000000e-03)
func.func @dplr_normalized(%q: tensor<1x5x2x32xf32>) -> tensor<1x5x2x32xf32> {
  %o = linac.recurrence decay(diagonal) rank_one(dplr) normalizer(sum) eps(1.0e-3)
      q(%q : tensor<1x5x2x32xf32>) k(%q : tensor<1x5x2x32xf32>)
      v(%q : tensor<1x5x2x32xf32>) g(%q : tensor<1x5x2x32xf32>)
      a(%q : tensor<1x5x2x32xf32>) b(%q : tensor<1x5x2x32xf32>)
      -> tensor<1x5x2x32xf32>
  return %o : tensor<1x5x2x32xf32>
}

// Decay constants are f64 and print exactly: 1 - 2^-20 and 1 - 2^-30 survive
// the round trip (f32 or a 7-digit print would turn the second into 1.0).
// CHECK-LABEL: func.func @exact_constants
// CHECK: constants([0.99999904632568359, 0.99999999906867743])
func.func @exact_constants(%q: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  %o = linac.recurrence decay(constant) constants([0.99999904632568359, 0.99999999906867743])
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return %o : tensor<1x8x2x16xf32>
}

// A state pool: 8 slots for 3 sequences, picked by i32 indices; ht is the
// updated pool.
// CHECK-LABEL: func.func @pool
// CHECK: linac.recurrence decay(scalar) rank_one(delta) q({{.*}}) k({{.*}}) v({{.*}}) g({{.*}}) beta({{.*}}) h0(%{{.*}} : tensor<8x4x64x64xf32>) state_indices(%{{.*}} : tensor<3xi32>) -> tensor<3x1x4x64xf32>, tensor<8x4x64x64xf32>
func.func @pool(%q: tensor<3x1x4x64xf32>, %g: tensor<3x1x4xf32>,
                %pool: tensor<8x4x64x64xf32>, %idx: tensor<3xi32>)
    -> (tensor<3x1x4x64xf32>, tensor<8x4x64x64xf32>) {
  %o, %ht = linac.recurrence decay(scalar) rank_one(delta)
      q(%q : tensor<3x1x4x64xf32>) k(%q : tensor<3x1x4x64xf32>)
      v(%q : tensor<3x1x4x64xf32>) g(%g : tensor<3x1x4xf32>)
      beta(%g : tensor<3x1x4xf32>)
      h0(%pool : tensor<8x4x64x64xf32>) state_indices(%idx : tensor<3xi32>)
      -> tensor<3x1x4x64xf32>, tensor<8x4x64x64xf32>
  return %o, %ht : tensor<3x1x4x64xf32>, tensor<8x4x64x64xf32>
}

// A pool with varlen sequences and i64 indices, all sizes dynamic.
// CHECK-LABEL: func.func @pool_varlen
// CHECK: linac.recurrence decay(none) q({{.*}}) k({{.*}}) v({{.*}}) h0(%{{.*}} : tensor<?x?x32x32xf32>) cu_seqlens(%{{.*}} : tensor<?xi32>) state_indices(%{{.*}} : tensor<?xi64>) -> tensor<1x?x?x32xbf16>, tensor<?x?x32x32xf32>
func.func @pool_varlen(%q: tensor<1x?x?x32xbf16>, %pool: tensor<?x?x32x32xf32>,
                       %cu: tensor<?xi32>, %idx: tensor<?xi64>)
    -> (tensor<1x?x?x32xbf16>, tensor<?x?x32x32xf32>) {
  %o, %ht = linac.recurrence decay(none)
      q(%q : tensor<1x?x?x32xbf16>) k(%q : tensor<1x?x?x32xbf16>)
      v(%q : tensor<1x?x?x32xbf16>) h0(%pool : tensor<?x?x32x32xf32>)
      cu_seqlens(%cu : tensor<?xi32>) state_indices(%idx : tensor<?xi64>)
      -> tensor<1x?x?x32xbf16>, tensor<?x?x32x32xf32>
  return %o, %ht : tensor<1x?x?x32xbf16>, tensor<?x?x32x32xf32>
}
