func.func @all_zero_dplr(%q: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  %z = arith.constant dense<0.0> : tensor<1x8x2x16xf32>
  %o = linac.recurrence decay(diagonal) rank_one(dplr)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) g(%z : tensor<1x8x2x16xf32>)
      a(%z : tensor<1x8x2x16xf32>) b(%z : tensor<1x8x2x16xf32>)
      -> tensor<1x8x2x16xf32>
  return %o : tensor<1x8x2x16xf32>
}
