func.func @f(%q: tensor<1x8x2x4294967296xf32>, %v: tensor<1x8x2x16xf32>) {
  %o = linac.recurrence decay(none) feature_map(taylor2) q(%q : tensor<1x8x2x4294967296xf32>) k(%q : tensor<1x8x2x4294967296xf32>) v(%v : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}
