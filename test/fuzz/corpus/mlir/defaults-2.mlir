func.func @taylor2_normalized(%q: tensor<1x4x2x16xf32>) -> tensor<1x4x2x16xf32> {
  %o = linac.recurrence decay(none) feature_map(taylor2) normalizer(sum)
      q(%q : tensor<1x4x2x16xf32>) k(%q : tensor<1x4x2x16xf32>)
      v(%q : tensor<1x4x2x16xf32>) -> tensor<1x4x2x16xf32>
  return %o : tensor<1x4x2x16xf32>
}
