// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-select | FileCheck %s

// Inputs that crashed or overflowed the front end while the .mlir fuzz
// target (test/fuzz/Fuzz_mlir.cpp) was written; each is also in its seed
// corpus as test/fuzz/corpus/mlir/regression-*.mlir.

// A static head count of 0 divided by zero (HV % H) in the verifier.
func.func @zero_heads(%q: tensor<1x8x0x16xf32>, %v: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{'q' dimension 2 (H) is 0; sizes must be at least 1}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x0x16xf32>) k(%q : tensor<1x8x0x16xf32>) v(%v : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// K = 0 verified, then linac-materialize-defaults wrote scale = K^-0.5 = inf.
func.func @zero_key_dim(%q: tensor<1x8x2x0xf32>, %v: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{'q' dimension 3 (K) is 0; sizes must be at least 1}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x2x0xf32>) k(%q : tensor<1x8x2x0xf32>) v(%v : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// Zero value heads, and a zero length that only k states (q's is dynamic).
func.func @zero_value_heads(%q: tensor<1x8x2x16xf32>, %v: tensor<1x8x0x16xf32>) {
  // expected-error @+1 {{'v' dimension 2 (HV) is 0; sizes must be at least 1}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%v : tensor<1x8x0x16xf32>) -> tensor<1x8x0x16xf32>
  return
}

// -----

func.func @zero_length(%q: tensor<1x?x2x16xf32>, %k: tensor<1x0x2x16xf32>) {
  // expected-error @+1 {{'k' dimension 1 (T) is 0; sizes must be at least 1}}
  %o = linac.recurrence decay(none) q(%q : tensor<1x?x2x16xf32>) k(%k : tensor<1x0x2x16xf32>) v(%q : tensor<1x?x2x16xf32>) -> tensor<1x?x2x16xf32>
  return
}

// -----

// taylor2's 1 + K + K^2 state rows overflowed int64 (signed overflow).
func.func @taylor2_overflow(%q: tensor<1x8x2x4294967296xf32>, %v: tensor<1x8x2x16xf32>) {
  // expected-error @+1 {{feature_map(taylor2) with K = 4294967296 needs 1 + K + K^2 state rows, more than a 64-bit size holds}}
  %o = linac.recurrence decay(none) feature_map(taylor2) q(%q : tensor<1x8x2x4294967296xf32>) k(%q : tensor<1x8x2x4294967296xf32>) v(%v : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}

// -----

// A huge static HV overflowed heads * (V / tile) in linac-select, which then
// split V as if there were a single head. Many heads: no split below 128.
// CHECK-LABEL: func.func @many_value_heads
// CHECK: linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 16, value_tile = 128>
func.func @many_value_heads(%q: tensor<1x8x1x16xf32>, %v: tensor<1x8x4611686018427387904x1024xf32>) -> tensor<1x8x4611686018427387904x1024xf32> {
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x1x16xf32>) k(%q : tensor<1x8x1x16xf32>) v(%v : tensor<1x8x4611686018427387904x1024xf32>) -> tensor<1x8x4611686018427387904x1024xf32>
  return %o : tensor<1x8x4611686018427387904x1024xf32>
}
