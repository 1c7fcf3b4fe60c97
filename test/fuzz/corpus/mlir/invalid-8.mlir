func.func @case8(%q: tensor<1x8x2x16xf32>, %x: tensor<1x8x?x16xf32>) {
  %o = linac.recurrence decay(constant) constants([0.5, 0.5]) q(%x : tensor<1x8x?x16xf32>) k(%x : tensor<1x8x?x16xf32>) v(%x : tensor<1x8x?x16xf32>) -> tensor<1x8x?x16xf32>
  return
}
