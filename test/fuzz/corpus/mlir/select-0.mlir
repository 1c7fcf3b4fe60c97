func.func @gla(%q: tensor<1x8x2x16xf32>, %g: tensor<1x8x2x16xf32>)
    -> (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>) {
  %0 = linac.recurrence decay(diagonal)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) g(%g : tensor<1x8x2x16xf32>)
      {linac.mode = "prefill"} -> tensor<1x8x2x16xf32>
  %1 = linac.recurrence decay(diagonal)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) g(%g : tensor<1x8x2x16xf32>)
      {linac.mode = "decode"} -> tensor<1x8x2x16xf32>
  return %0, %1 : tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>
}
