func.func @case24(%q: tensor<1x8x2x16xf32>, %x: tensor<1x8x4x16xf32>) {
  %o = linac.recurrence decay(diagonal) rank_one(dplr) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) g(%q : tensor<1x8x2x16xf32>) a(%q : tensor<1x8x2x16xf32>) b(%x : tensor<1x8x4x16xf32>) -> tensor<1x8x2x16xf32>
  return
}
