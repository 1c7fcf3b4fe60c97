// RUN: linac-opt %s -split-input-file -verify-diagnostics

// Unknown structural keywords are rejected by the parser with the list of
// valid spellings.

func.func @unknown_decay(%q: tensor<1x4x2x32xf32>) {
  // expected-error @+2 {{expected one of [none, constant, scalar, diagonal] for diagonal part of the state transition, got: exponential}}
  // expected-error @+1 {{invalid value for property decay}}
  %o = linac.recurrence decay(exponential) q(%q : tensor<1x4x2x32xf32>) k(%q : tensor<1x4x2x32xf32>) v(%q : tensor<1x4x2x32xf32>) -> tensor<1x4x2x32xf32>
  return
}

// -----

func.func @unknown_feature_map(%q: tensor<1x4x2x32xf32>) {
  // expected-error @+2 {{expected one of [identity, elu_plus_one, relu, silu, l2norm, taylor2] for feature map applied to q and k before the recurrence, got: gelu}}
  // expected-error @+1 {{invalid value for property feature_map}}
  %o = linac.recurrence decay(none) feature_map(gelu) q(%q : tensor<1x4x2x32xf32>) k(%q : tensor<1x4x2x32xf32>) v(%q : tensor<1x4x2x32xf32>) -> tensor<1x4x2x32xf32>
  return
}

// -----

func.func @missing_decay(%q: tensor<1x4x2x32xf32>) {
  // expected-error @+1 {{expected 'decay'}}
  %o = linac.recurrence q(%q : tensor<1x4x2x32xf32>) k(%q : tensor<1x4x2x32xf32>) v(%q : tensor<1x4x2x32xf32>) -> tensor<1x4x2x32xf32>
  return
}
