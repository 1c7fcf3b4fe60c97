func.func @case0(%q: tensor<1x8x2x16xf32>, %x: tensor<8x2x16xf32>) {
  %o = linac.recurrence decay(none) q(%x : tensor<8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}
