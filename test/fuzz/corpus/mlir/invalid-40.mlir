func.func @case41(%q: tensor<1x8x2x16xf32>, %h: tensor<2x16x16xf32>) {
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) h0(%h : tensor<2x16x16xf32>) -> tensor<1x8x2x16xf32>
  return
}
