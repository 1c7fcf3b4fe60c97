// RUN: linac-opt %s -canonicalize -split-input-file | FileCheck %s

// A zero log-space gate decays by exp(0) = 1: gla with g = 0 is linear_attn.
// CHECK-LABEL: func.func @zero_diagonal_gate
// CHECK-NOT: arith.constant
// CHECK: linac.recurrence decay(none) q(%{{.*}}) k(%{{.*}}) v(%{{.*}}) -> tensor<1x8x2x16xf32>
func.func @zero_diagonal_gate(%q: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  %g = arith.constant dense<0.0> : tensor<1x8x2x16xf32>
  %o = linac.recurrence decay(diagonal)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) g(%g : tensor<1x8x2x16xf32>)
      -> tensor<1x8x2x16xf32>
  return %o : tensor<1x8x2x16xf32>
}

// -----

// Gated DeltaNet with g = -0.0 is DeltaNet; beta stays.
// CHECK-LABEL: func.func @negative_zero_scalar_gate
// CHECK: linac.recurrence decay(none) rank_one(delta) q({{.*}}) k({{.*}}) v({{.*}}) beta(%{{.*}} : tensor<1x8x2xf32>)
func.func @negative_zero_scalar_gate(%q: tensor<1x8x2x16xf32>, %beta: tensor<1x8x2xf32>)
    -> tensor<1x8x2x16xf32> {
  %g = arith.constant dense<-0.0> : tensor<1x8x2xf32>
  %o = linac.recurrence decay(scalar) rank_one(delta)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) g(%g : tensor<1x8x2xf32>)
      beta(%beta : tensor<1x8x2xf32>) -> tensor<1x8x2x16xf32>
  return %o : tensor<1x8x2x16xf32>
}

// -----

// A gate that is not all zeros is kept.
// CHECK-LABEL: func.func @nonzero_gate
// CHECK: %[[G:.+]] = arith.constant dense<{{\[+}}0.000000e+00, -1.000000e+00{{\]+}}>
// CHECK: linac.recurrence decay(scalar) q({{.*}}) k({{.*}}) v({{.*}}) g(%[[G]] : tensor<1x1x2xf32>)
func.func @nonzero_gate(%q: tensor<1x1x2x16xf32>) -> tensor<1x1x2x16xf32> {
  %g = arith.constant dense<[[[0.0, -1.0]]]> : tensor<1x1x2xf32>
  %o = linac.recurrence decay(scalar)
      q(%q : tensor<1x1x2x16xf32>) k(%q : tensor<1x1x2x16xf32>)
      v(%q : tensor<1x1x2x16xf32>) g(%g : tensor<1x1x2xf32>)
      -> tensor<1x1x2x16xf32>
  return %o : tensor<1x1x2x16xf32>
}

// -----

// A gate that is not a constant is kept.
// CHECK-LABEL: func.func @dynamic_gate
// CHECK: linac.recurrence decay(scalar)
func.func @dynamic_gate(%q: tensor<1x1x2x16xf32>, %g: tensor<1x1x2xf32>)
    -> tensor<1x1x2x16xf32> {
  %o = linac.recurrence decay(scalar)
      q(%q : tensor<1x1x2x16xf32>) k(%q : tensor<1x1x2x16xf32>)
      v(%q : tensor<1x1x2x16xf32>) g(%g : tensor<1x1x2xf32>)
      -> tensor<1x1x2x16xf32>
  return %o : tensor<1x1x2x16xf32>
}

// -----

// Lightning with every decay equal to 1 is linear attention.
// CHECK-LABEL: func.func @unit_constants
// CHECK: linac.recurrence decay(none) q(
// CHECK-NOT: constants
func.func @unit_constants(%q: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  %o = linac.recurrence decay(constant) constants([1.0, 1.0])
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return %o : tensor<1x8x2x16xf32>
}

// -----

// One head that decays keeps the constant decay.
// CHECK-LABEL: func.func @mixed_constants
// CHECK: decay(constant) constants([1.000000e+00, 5.000000e-01])
func.func @mixed_constants(%q: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  %o = linac.recurrence decay(constant) constants([1.0, 0.5])
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return %o : tensor<1x8x2x16xf32>
}

// -----

// dplr with a = 0 has no rank-one term: it is gla.
// CHECK-LABEL: func.func @zero_dplr_factor
// CHECK: linac.recurrence decay(diagonal) q({{.*}}) k({{.*}}) v({{.*}}) g(%{{.*}} : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
func.func @zero_dplr_factor(%q: tensor<1x8x2x16xf32>, %g: tensor<1x8x2x16xf32>,
                            %b: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  %a = arith.constant dense<0.0> : tensor<1x8x2x16xf32>
  %o = linac.recurrence decay(diagonal) rank_one(dplr)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) g(%g : tensor<1x8x2x16xf32>)
      a(%a : tensor<1x8x2x16xf32>) b(%b : tensor<1x8x2x16xf32>)
      -> tensor<1x8x2x16xf32>
  return %o : tensor<1x8x2x16xf32>
}

// -----

// dplr with both gate and factors zero collapses all the way to linear_attn.
// CHECK-LABEL: func.func @all_zero_dplr
// CHECK: linac.recurrence decay(none) q({{.*}}) k({{.*}}) v({{.*}}) -> tensor<1x8x2x16xf32>
func.func @all_zero_dplr(%q: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  %z = arith.constant dense<0.0> : tensor<1x8x2x16xf32>
  %o = linac.recurrence decay(diagonal) rank_one(dplr)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) g(%z : tensor<1x8x2x16xf32>)
      a(%z : tensor<1x8x2x16xf32>) b(%z : tensor<1x8x2x16xf32>)
      -> tensor<1x8x2x16xf32>
  return %o : tensor<1x8x2x16xf32>
}

// -----

// A final state nobody reads is not computed; discardable attributes stay.
// CHECK-LABEL: func.func @unused_final_state
// CHECK: %[[O:.+]] = linac.recurrence decay(none) q({{.*}}) k({{.*}}) v({{.*}}) h0(%{{.*}}) {linac.note = "kept"} -> tensor<1x8x2x16xf32>{{$}}
// CHECK: return %[[O]]
func.func @unused_final_state(%q: tensor<1x8x2x16xf32>, %h0: tensor<1x2x16x16xf32>)
    -> tensor<1x8x2x16xf32> {
  %o, %ht = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) h0(%h0 : tensor<1x2x16x16xf32>)
      {linac.note = "kept"} -> tensor<1x8x2x16xf32>, tensor<1x2x16x16xf32>
  return %o : tensor<1x8x2x16xf32>
}

// -----

// A final state that is read stays.
// CHECK-LABEL: func.func @used_final_state
// CHECK: %{{.+}}, %[[HT:.+]] = linac.recurrence
// CHECK: return %[[HT]]
func.func @used_final_state(%q: tensor<1x8x2x16xf32>) -> tensor<1x2x16x16xf32> {
  %o, %ht = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>, tensor<1x2x16x16xf32>
  return %ht : tensor<1x2x16x16xf32>
}

// -----

// The op is pure: when neither result is used it is erased.
// CHECK-LABEL: func.func @dead
// CHECK-NOT: linac.recurrence
func.func @dead(%q: tensor<1x8x2x16xf32>) {
  %o, %ht = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>, tensor<1x2x16x16xf32>
  return
}
