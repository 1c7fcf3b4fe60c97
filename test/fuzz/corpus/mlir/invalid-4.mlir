func.func @case4(%q: tensor<1x8x2x16xf32>, %x: tensor<1x8x2x16xbf16>) {
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%x : tensor<1x8x2x16xbf16>) -> tensor<1x8x2x16xf32>
  return
}
