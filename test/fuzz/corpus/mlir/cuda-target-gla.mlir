module attributes {linac.target = "cuda:sm_90a"} {
func.func @gla(%q: tensor<1x?x16x128xbf16>, %k: tensor<1x?x16x128xbf16>, %v: tensor<1x?x16x128xbf16>, %g: tensor<1x?x16x128xf32>, %h0: tensor<1x16x128x128xf32>)
    -> (tensor<1x?x16x128xbf16>, tensor<1x16x128x128xf32>) {
  %o, %ht = linac.recurrence decay(diagonal)
      q(%q : tensor<1x?x16x128xbf16>) k(%k : tensor<1x?x16x128xbf16>) v(%v : tensor<1x?x16x128xbf16>) g(%g : tensor<1x?x16x128xf32>) h0(%h0 : tensor<1x16x128x128xf32>)
      -> tensor<1x?x16x128xbf16>, tensor<1x16x128x128xf32>
  return %o, %ht : tensor<1x?x16x128xbf16>, tensor<1x16x128x128xf32>
}
}
