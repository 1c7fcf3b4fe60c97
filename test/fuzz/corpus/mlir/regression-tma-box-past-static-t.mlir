module attributes {linac.target = "cuda:sm_90a"} {
  func.func @short(%q: tensor<2x3x2x128xf32> {linac.arg = "q"},
                   %k: tensor<2x3x2x128xf32> {linac.arg = "k"},
                   %v: tensor<2x3x2x128xf32> {linac.arg = "v"},
                   %g: tensor<2x3x2x128xf32> {linac.arg = "g"})
      -> (tensor<2x3x2x128xf32> {linac.arg = "o"}) {
    %o = linac.recurrence decay(diagonal)
        q(%q : tensor<2x3x2x128xf32>) k(%k : tensor<2x3x2x128xf32>)
        v(%v : tensor<2x3x2x128xf32>) g(%g : tensor<2x3x2x128xf32>)
        -> tensor<2x3x2x128xf32>
    return %o : tensor<2x3x2x128xf32>
  }
}
