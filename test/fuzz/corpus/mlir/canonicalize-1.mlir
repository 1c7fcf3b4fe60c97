func.func @negative_zero_scalar_gate(%q: tensor<1x8x2x16xf32>, %beta: tensor<1x8x2xf32>)
    -> tensor<1x8x2x16xf32> {
  %g = arith.constant dense<-0.0> : tensor<1x8x2xf32>
  %o = linac.recurrence decay(scalar) rank_one(delta)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) g(%g : tensor<1x8x2xf32>)
      beta(%beta : tensor<1x8x2xf32>) -> tensor<1x8x2x16xf32>
  return %o : tensor<1x8x2x16xf32>
}
