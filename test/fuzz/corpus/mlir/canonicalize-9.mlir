func.func @used_final_state(%q: tensor<1x8x2x16xf32>) -> tensor<1x2x16x16xf32> {
  %o, %ht = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>, tensor<1x2x16x16xf32>
  return %ht : tensor<1x2x16x16xf32>
}
