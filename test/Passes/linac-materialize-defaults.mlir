// RUN: linac-opt %s -linac-materialize-defaults -split-input-file | FileCheck %s

// scale defaults to K^-0.5 with K the input head dimension: 64 -> 0.125.
// CHECK-LABEL: func.func @default_scale
// CHECK: linac.recurrence decay(none) scale(1.250000e-01) q(
// CHECK-NOT: eps(
func.func @default_scale(%q: tensor<1x4x2x64xf32>) -> tensor<1x4x2x64xf32> {
  %o = linac.recurrence decay(none)
      q(%q : tensor<1x4x2x64xf32>) k(%q : tensor<1x4x2x64xf32>)
      v(%q : tensor<1x4x2x64xf32>) -> tensor<1x4x2x64xf32>
  return %o : tensor<1x4x2x64xf32>
}

// -----

// An explicit scale is kept.
// CHECK-LABEL: func.func @explicit_scale
// CHECK: scale(2.000000e+00)
func.func @explicit_scale(%q: tensor<1x4x2x64xf32>) -> tensor<1x4x2x64xf32> {
  %o = linac.recurrence decay(none) scale(2.0)
      q(%q : tensor<1x4x2x64xf32>) k(%q : tensor<1x4x2x64xf32>)
      v(%q : tensor<1x4x2x64xf32>) -> tensor<1x4x2x64xf32>
  return %o : tensor<1x4x2x64xf32>
}

// -----

// taylor2 widens the state to 1 + K + K^2 rows, but the scale still follows
// the input K = 16: 0.25. The sum normalizer gets eps = 1e-6.
// CHECK-LABEL: func.func @taylor2_normalized
// CHECK: feature_map(taylor2) normalizer(sum) scale(2.500000e-01) eps(9.99999997E-7)
func.func @taylor2_normalized(%q: tensor<1x4x2x16xf32>) -> tensor<1x4x2x16xf32> {
  %o = linac.recurrence decay(none) feature_map(taylor2) normalizer(sum)
      q(%q : tensor<1x4x2x16xf32>) k(%q : tensor<1x4x2x16xf32>)
      v(%q : tensor<1x4x2x16xf32>) -> tensor<1x4x2x16xf32>
  return %o : tensor<1x4x2x16xf32>
}

// -----

// Ops nested in other regions are reached too.
// CHECK-LABEL: func.func @nested
// CHECK: scf.execute_region
// CHECK: linac.recurrence decay(none) scale(0.176776692)
func.func @nested(%q: tensor<1x4x2x32xf32>) -> tensor<1x4x2x32xf32> {
  %r = scf.execute_region -> tensor<1x4x2x32xf32> {
    %o = linac.recurrence decay(none)
        q(%q : tensor<1x4x2x32xf32>) k(%q : tensor<1x4x2x32xf32>)
        v(%q : tensor<1x4x2x32xf32>) -> tensor<1x4x2x32xf32>
    scf.yield %o : tensor<1x4x2x32xf32>
  }
  return %r : tensor<1x4x2x32xf32>
}
