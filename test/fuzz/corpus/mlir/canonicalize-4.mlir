func.func @unit_constants(%q: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  %o = linac.recurrence decay(constant) constants([1.0, 1.0])
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return %o : tensor<1x8x2x16xf32>
}
