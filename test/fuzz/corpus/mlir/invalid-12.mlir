func.func @case12(%q: tensor<1x8x2x16xf32>) {
  %o = linac.recurrence decay(none) constants([0.5, 0.5]) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}
