func.func @zero_dplr_factor(%q: tensor<1x8x2x16xf32>, %g: tensor<1x8x2x16xf32>,
                            %b: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  %a = arith.constant dense<0.0> : tensor<1x8x2x16xf32>
  %o = linac.recurrence decay(diagonal) rank_one(dplr)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) g(%g : tensor<1x8x2x16xf32>)
      a(%a : tensor<1x8x2x16xf32>) b(%b : tensor<1x8x2x16xf32>)
      -> tensor<1x8x2x16xf32>
  return %o : tensor<1x8x2x16xf32>
}
