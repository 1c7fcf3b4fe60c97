func.func @case20(%q: tensor<1x8x2x16xf32>) {
  %o = linac.recurrence decay(none) rank_one(delta) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) beta(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return
}
