func.func @nonzero_gate(%q: tensor<1x1x2x16xf32>) -> tensor<1x1x2x16xf32> {
  %g = arith.constant dense<[[[0.0, -1.0]]]> : tensor<1x1x2xf32>
  %o = linac.recurrence decay(scalar)
      q(%q : tensor<1x1x2x16xf32>) k(%q : tensor<1x1x2x16xf32>)
      v(%q : tensor<1x1x2x16xf32>) g(%g : tensor<1x1x2xf32>)
      -> tensor<1x1x2x16xf32>
  return %o : tensor<1x1x2x16xf32>
}
