func.func @case16(%q: tensor<1x8x2x16xf32>, %x: tensor<1x8x2x8xf32>) {
  %o = linac.recurrence decay(diagonal) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) g(%x : tensor<1x8x2x8xf32>) -> tensor<1x8x2x16xf32>
  return
}
