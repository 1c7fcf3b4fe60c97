module attributes {linac.target = "cuda:sm_80"} {
func.func @kda(%q: tensor<1x?x16x128xbf16>, %k: tensor<1x?x16x128xbf16>, %v: tensor<1x?x16x128xbf16>, %g: tensor<1x?x16x128xf32>, %beta: tensor<1x?x16xf32>, %h0: tensor<1x16x128x128xf32>)
    -> (tensor<1x?x16x128xbf16>, tensor<1x16x128x128xf32>) {
  %o, %ht = linac.recurrence decay(diagonal) rank_one(delta) feature_map(l2norm)
      q(%q : tensor<1x?x16x128xbf16>) k(%k : tensor<1x?x16x128xbf16>) v(%v : tensor<1x?x16x128xbf16>) g(%g : tensor<1x?x16x128xf32>) beta(%beta : tensor<1x?x16xf32>) h0(%h0 : tensor<1x16x128x128xf32>)
      -> tensor<1x?x16x128xbf16>, tensor<1x16x128x128xf32>
  return %o, %ht : tensor<1x?x16x128xbf16>, tensor<1x16x128x128xf32>
}
}
