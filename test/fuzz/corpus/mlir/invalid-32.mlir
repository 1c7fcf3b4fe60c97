func.func @case33(%q: tensor<1x8x2x16xf32>) {
  %o = linac.recurrence decay(none) normalizer(sum) eps(-1.0) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}
