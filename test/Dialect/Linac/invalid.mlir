// RUN: linac-opt %s -split-input-file -verify-diagnostics

// One case per verifier message of linac.recurrence.

// Q must be rank 4.
func.func @case0(%q: tensor<1x8x2x16xf32>, %x: tensor<8x2x16xf32>) {
  // expected-error @+1 {{'q' must have rank 4 [B, T, H, K]; got 'tensor<8x2x16xf32>'}}
  %o = linac.recurrence decay(none) q(%x : tensor<8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// K and q disagree on T.
func.func @case1(%q: tensor<1x8x2x16xf32>, %x: tensor<1x9x2x16xf32>) {
  // expected-error @+1 {{'k' dimension 1 (T) is 9 but T = 8 (from 'q')}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x2x16xf32>) k(%x : tensor<1x9x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// V disagrees on B.
func.func @case2(%q: tensor<1x8x2x16xf32>, %x: tensor<2x8x2x16xf32>) {
  // expected-error @+1 {{'v' dimension 0 (B) is 2 but B = 1 (from 'q')}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%x : tensor<2x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// F64 inputs.
func.func @case3(%q: tensor<1x8x2x16xf32>, %x: tensor<1x8x2x16xf64>) {
  // expected-error @+1 {{'q', 'k' and 'v' must have element type f32, f16 or bf16; got 'f64'}}
  %o = linac.recurrence decay(none) q(%x : tensor<1x8x2x16xf64>) k(%x : tensor<1x8x2x16xf64>) v(%x : tensor<1x8x2x16xf64>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Mixed input types.
func.func @case4(%q: tensor<1x8x2x16xf32>, %x: tensor<1x8x2x16xbf16>) {
  // expected-error @+1 {{'q', 'k' and 'v' must share one element type; got 'f32', 'f32' and 'bf16'}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%x : tensor<1x8x2x16xbf16>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Dynamic head dim.
func.func @case5(%q: tensor<1x8x2x16xf32>, %x: tensor<1x8x2x?xf32>) {
  // expected-error @+1 {{head dimensions K and V must be static}}
  %o = linac.recurrence decay(none) q(%x : tensor<1x8x2x?xf32>) k(%x : tensor<1x8x2x?xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// HV not a multiple of H.
func.func @case6(%q: tensor<1x8x2x16xf32>, %x: tensor<1x8x3x16xf32>) {
  // expected-error @+1 {{value heads HV = 3 must be a multiple of query/key heads H = 2}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%x : tensor<1x8x3x16xf32>) -> tensor<1x8x3x16xf32>
  return
}

// -----

// Constant decay without constants.
func.func @case7(%q: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{decay(constant) requires 'constants', one decay per value head}}
  %o = linac.recurrence decay(constant) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Constant decay with dynamic HV.
func.func @case8(%q: tensor<1x8x2x16xf32>, %x: tensor<1x8x?x16xf32>) {
  // expected-error @+1 {{decay(constant) requires a static number of value heads HV}}
  %o = linac.recurrence decay(constant) constants([0.5, 0.5]) q(%x : tensor<1x8x?x16xf32>) k(%x : tensor<1x8x?x16xf32>) v(%x : tensor<1x8x?x16xf32>) -> tensor<1x8x?x16xf32>
  return
}

// -----

// Wrong number of constants.
func.func @case9(%q: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{'constants' has 3 values but HV = 2}}
  %o = linac.recurrence decay(constant) constants([0.5, 0.5, 0.5]) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Constant out of range.
func.func @case10(%q: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{'constants' must lie in (0, 1]; element 1 is 1.5}}
  %o = linac.recurrence decay(constant) constants([0.5, 1.5]) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Constant zero.
func.func @case11(%q: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{'constants' must lie in (0, 1]; element 0 is 0}}
  %o = linac.recurrence decay(constant) constants([0.0, 0.5]) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Constants with another decay.
func.func @case12(%q: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{'constants' is only used by decay(constant), not decay(none)}}
  %o = linac.recurrence decay(none) constants([0.5, 0.5]) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Scalar decay without g.
func.func @case13(%q: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{decay(scalar) requires a log-space gate 'g' [B, T, HV]}}
  %o = linac.recurrence decay(scalar) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Diagonal decay without g.
func.func @case14(%q: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{decay(diagonal) requires a log-space gate 'g' [B, T, HV, K']}}
  %o = linac.recurrence decay(diagonal) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Scalar gate shaped like a diagonal one.
func.func @case15(%q: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{'g' must have rank 3 [B, T, HV] for decay(scalar); got 'tensor<1x8x2x16xf32>'}}
  %o = linac.recurrence decay(scalar) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) g(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Diagonal gate with the wrong K.
func.func @case16(%q: tensor<1x8x2x16xf32>, %x: tensor<1x8x2x8xf32>) {
  // expected-error @+1 {{'g' dimension 3 (K') is 8 but K' = 16 (from 'q')}}
  %o = linac.recurrence decay(diagonal) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) g(%x : tensor<1x8x2x8xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Integer gate.
func.func @case17(%q: tensor<1x8x2x16xf32>, %x: tensor<1x8x2xi32>) {
  // expected-error @+1 {{'g' must have element type f32, f16 or bf16; got 'i32'}}
  %o = linac.recurrence decay(scalar) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) g(%x : tensor<1x8x2xi32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Gate without data-dependent decay.
func.func @case18(%q: tensor<1x8x2x16xf32>, %x: tensor<1x8x2xf32>) {
  // expected-error @+1 {{'g' is not used by decay(none); remove it}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) g(%x : tensor<1x8x2xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Delta without beta.
func.func @case19(%q: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{rank_one(delta) requires 'beta' [B, T, HV]}}
  %o = linac.recurrence decay(none) rank_one(delta) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Beta per key channel.
func.func @case20(%q: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{'beta' must have rank 3 [B, T, HV] for rank_one(delta); got 'tensor<1x8x2x16xf32>'}}
  %o = linac.recurrence decay(none) rank_one(delta) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) beta(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Beta without delta.
func.func @case21(%q: tensor<1x8x2x16xf32>, %x: tensor<1x8x2xf32>) {
  // expected-error @+1 {{'beta' is not used by rank_one(none); remove it}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) beta(%x : tensor<1x8x2xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Dplr without a.
func.func @case22(%q: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{rank_one(dplr) requires 'a' [B, T, HV, K']}}
  %o = linac.recurrence decay(diagonal) rank_one(dplr) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) g(%q : tensor<1x8x2x16xf32>) b(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Dplr without b.
func.func @case23(%q: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{rank_one(dplr) requires 'b' [B, T, HV, K']}}
  %o = linac.recurrence decay(diagonal) rank_one(dplr) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) g(%q : tensor<1x8x2x16xf32>) a(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Dplr factor with the wrong heads.
func.func @case24(%q: tensor<1x8x2x16xf32>, %x: tensor<1x8x4x16xf32>) {
  // expected-error @+1 {{'b' dimension 2 (HV) is 4 but HV = 2 (from 'v')}}
  %o = linac.recurrence decay(diagonal) rank_one(dplr) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) g(%q : tensor<1x8x2x16xf32>) a(%q : tensor<1x8x2x16xf32>) b(%x : tensor<1x8x4x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// A without dplr.
func.func @case25(%q: tensor<1x8x2x16xf32>, %x: tensor<1x8x2xf32>) {
  // expected-error @+1 {{'a' is not used by rank_one(delta); remove it}}
  %o = linac.recurrence decay(none) rank_one(delta) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) beta(%x : tensor<1x8x2xf32>) a(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Bonus output with a delta rule.
func.func @case26(%q: tensor<1x8x2x16xf32>, %x: tensor<1x8x2xf32>) {
  // expected-error @+1 {{output(previous_state_plus_bonus) is only defined with rank_one(none); got rank_one(delta)}}
  %o = linac.recurrence decay(none) rank_one(delta) output(previous_state_plus_bonus) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) beta(%x : tensor<1x8x2xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Bonus output without u.
func.func @case27(%q: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{output(previous_state_plus_bonus) requires the bonus 'u' [HV, K']}}
  %o = linac.recurrence decay(diagonal) output(previous_state_plus_bonus) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) g(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// U with the wrong K.
func.func @case28(%q: tensor<1x8x2x16xf32>, %x: tensor<2x15xf32>) {
  // expected-error @+1 {{'u' dimension 1 (K') is 15 but K' = 16 (from 'q')}}
  %o = linac.recurrence decay(diagonal) output(previous_state_plus_bonus) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) g(%q : tensor<1x8x2x16xf32>) u(%x : tensor<2x15xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// U without bonus output.
func.func @case29(%q: tensor<1x8x2x16xf32>, %x: tensor<2x16xf32>) {
  // expected-error @+1 {{'u' is not used by output(current_state); remove it}}
  %o = linac.recurrence decay(diagonal) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) g(%q : tensor<1x8x2x16xf32>) u(%x : tensor<2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Normalizer with a delta rule.
func.func @case30(%q: tensor<1x8x2x16xf32>, %x: tensor<1x8x2xf32>) {
  // expected-error @+1 {{normalizer(sum) is not defined with rank_one(delta)}}
  %o = linac.recurrence decay(none) rank_one(delta) normalizer(sum) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) beta(%x : tensor<1x8x2xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Eps without normalizer.
func.func @case32(%q: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{'eps' is only used by normalizer(sum)}}
  %o = linac.recurrence decay(none) eps(1.0e-6) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Negative eps.
func.func @case33(%q: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{'eps' must be finite and positive; got -1}}
  %o = linac.recurrence decay(none) normalizer(sum) eps(-1.0) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Zero scale.
func.func @case34(%q: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{'scale' must be finite and non-zero; got 0}}
  %o = linac.recurrence decay(none) scale(0.0) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Infinite scale.
func.func @case35(%q: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{'scale' must be finite and non-zero; got INF}}
  %o = linac.recurrence decay(none) scale(0x7F800000) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// 2-D offsets.
func.func @case36(%q: tensor<1x8x2x16xf32>, %x: tensor<2x2xi32>) {
  // expected-error @+1 {{'cu_seqlens' must have rank 1 [N + 1]; got 'tensor<2x2xi32>'}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) cu_seqlens(%x : tensor<2x2xi32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Float offsets.
func.func @case37(%q: tensor<1x8x2x16xf32>, %x: tensor<3xf32>) {
  // expected-error @+1 {{'cu_seqlens' must have element type i32 or i64; got 'f32'}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) cu_seqlens(%x : tensor<3xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Single offset.
func.func @case38(%q: tensor<1x8x2x16xf32>, %x: tensor<1xi64>) {
  // expected-error @+1 {{'cu_seqlens' needs at least 2 offsets (one sequence); got 1}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) cu_seqlens(%x : tensor<1xi64>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Varlen with B > 1.
func.func @case39(%q: tensor<1x8x2x16xf32>, %x: tensor<3xi32>, %y: tensor<2x8x2x16xf32>) {
  // expected-error @+1 {{varlen ('cu_seqlens') packs sequences along T and requires B = 1; got B = 2}}
  %o = linac.recurrence decay(none) q(%y : tensor<2x8x2x16xf32>) k(%y : tensor<2x8x2x16xf32>) v(%y : tensor<2x8x2x16xf32>) cu_seqlens(%x : tensor<3xi32>) -> tensor<2x8x2x16xf32>
  return
}

// -----

// H0 per batch element with varlen.
func.func @case40(%q: tensor<1x8x2x16xf32>, %x: tensor<4xi32>, %h: tensor<1x2x16x16xf32>) {
  // expected-error @+1 {{'h0' dimension 0 (N) is 1 but N = 3 (from 'cu_seqlens')}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) h0(%h : tensor<1x2x16x16xf32>) cu_seqlens(%x : tensor<4xi32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// H0 of rank 3.
func.func @case41(%q: tensor<1x8x2x16xf32>, %h: tensor<2x16x16xf32>) {
  // expected-error @+1 {{'h0' must have rank 4 [N, HV, K', V] for a state; got 'tensor<2x16x16xf32>'}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) h0(%h : tensor<2x16x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Bf16 state.
func.func @case42(%q: tensor<1x8x2x16xf32>, %h: tensor<1x2x16x16xbf16>) {
  // expected-error @+1 {{'h0' is a state and must have element type f32; got 'bf16'}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) h0(%h : tensor<1x2x16x16xbf16>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Taylor2 final state with K rows.
func.func @case43(%q: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{'ht' dimension 2 (K') is 16 but K' = 273 (from 'q')}}
  %o, %ht = linac.recurrence decay(none) feature_map(taylor2) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>, tensor<1x2x16x16xf32>
  return
}

// -----

// Output with the wrong V.
func.func @case44(%q: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{'o' dimension 3 (V) is 8 but V = 16 (from 'v')}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x8xf32>
  return
}

// -----

// F64 output.
func.func @case45(%q: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{'o' must have element type f32, f16 or bf16; got 'f64'}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf64>
  return
}

// -----

// State indices of rank 2.
func.func @pool1(%q: tensor<2x8x2x16xf32>, %x: tensor<2x1xi32>, %h: tensor<4x2x16x16xf32>) {
  // expected-error @+1 {{'state_indices' must have rank 1 [N]; got 'tensor<2x1xi32>'}}
  %o, %ht = linac.recurrence decay(none) q(%q : tensor<2x8x2x16xf32>) k(%q : tensor<2x8x2x16xf32>) v(%q : tensor<2x8x2x16xf32>) h0(%h : tensor<4x2x16x16xf32>) state_indices(%x : tensor<2x1xi32>) -> tensor<2x8x2x16xf32>, tensor<4x2x16x16xf32>
  return
}

// -----

// Float state indices.
func.func @pool2(%q: tensor<2x8x2x16xf32>, %x: tensor<2xf32>, %h: tensor<4x2x16x16xf32>) {
  // expected-error @+1 {{'state_indices' must have element type i32 or i64; got 'f32'}}
  %o, %ht = linac.recurrence decay(none) q(%q : tensor<2x8x2x16xf32>) k(%q : tensor<2x8x2x16xf32>) v(%q : tensor<2x8x2x16xf32>) h0(%h : tensor<4x2x16x16xf32>) state_indices(%x : tensor<2xf32>) -> tensor<2x8x2x16xf32>, tensor<4x2x16x16xf32>
  return
}

// -----

// A pool without the updated pool as a result.
func.func @pool3(%q: tensor<2x8x2x16xf32>, %x: tensor<2xi32>, %h: tensor<4x2x16x16xf32>) {
  // expected-error @+1 {{'state_indices' picks slots of a state pool, so it needs both 'h0' and the result 'ht' (the updated pool)}}
  %o = linac.recurrence decay(none) q(%q : tensor<2x8x2x16xf32>) k(%q : tensor<2x8x2x16xf32>) v(%q : tensor<2x8x2x16xf32>) h0(%h : tensor<4x2x16x16xf32>) state_indices(%x : tensor<2xi32>) -> tensor<2x8x2x16xf32>
  return
}

// -----

// One index per sequence: B = 2 sequences, 3 indices.
func.func @pool4(%q: tensor<2x8x2x16xf32>, %x: tensor<3xi32>, %h: tensor<4x2x16x16xf32>) {
  // expected-error @+1 {{'state_indices' dimension 0 (N) is 3 but N = 2 (from 'q')}}
  %o, %ht = linac.recurrence decay(none) q(%q : tensor<2x8x2x16xf32>) k(%q : tensor<2x8x2x16xf32>) v(%q : tensor<2x8x2x16xf32>) h0(%h : tensor<4x2x16x16xf32>) state_indices(%x : tensor<3xi32>) -> tensor<2x8x2x16xf32>, tensor<4x2x16x16xf32>
  return
}

// -----

// The updated pool has another number of slots than the pool.
func.func @pool5(%q: tensor<2x8x2x16xf32>, %x: tensor<2xi32>, %h: tensor<4x2x16x16xf32>) {
  // expected-error @+1 {{'ht' dimension 0 (P) is 5 but P = 4 (from 'h0')}}
  %o, %ht = linac.recurrence decay(none) q(%q : tensor<2x8x2x16xf32>) k(%q : tensor<2x8x2x16xf32>) v(%q : tensor<2x8x2x16xf32>) h0(%h : tensor<4x2x16x16xf32>) state_indices(%x : tensor<2xi32>) -> tensor<2x8x2x16xf32>, tensor<5x2x16x16xf32>
  return
}

// -----

// A static number of sequences beside offsets of run-time length.
func.func @static_n(%q: tensor<1x8x2x16xf32>, %x: tensor<?xi32>, %h: tensor<3x2x16x16xf32>) {
  // expected-error @+1 {{'h0' dimension 0 (N) is static (3) but 'cu_seqlens' has a run-time length, which sets N; make both static or both dynamic}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) h0(%h : tensor<3x2x16x16xf32>) cu_seqlens(%x : tensor<?xi32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// The same for a pool's indices (the pool's own P may be static).
func.func @static_n_pool(%q: tensor<1x8x2x16xf32>, %x: tensor<?xi32>, %i: tensor<3xi32>, %h: tensor<5x2x16x16xf32>) {
  // expected-error @+1 {{'state_indices' dimension 0 (N) is static (3) but 'cu_seqlens' has a run-time length}}
  %o, %ht = linac.recurrence decay(none) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) h0(%h : tensor<5x2x16x16xf32>) cu_seqlens(%x : tensor<?xi32>) state_indices(%i : tensor<3xi32>) -> tensor<1x8x2x16xf32>, tensor<5x2x16x16xf32>
  return
}
