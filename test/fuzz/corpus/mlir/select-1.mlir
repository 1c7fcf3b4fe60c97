module attributes {linac.target = "cpu", linac.cpu = "x86-64-v3"} {
  func.func @delta(%q: tensor<1x8x2x16xf32>, %beta: tensor<1x8x2xf32>)
      -> (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>) {
    %0 = linac.recurrence decay(none) rank_one(delta)
        q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
        v(%q : tensor<1x8x2x16xf32>) beta(%beta : tensor<1x8x2xf32>)
        {linac.chunk_size = 32 : i64} -> tensor<1x8x2x16xf32>
    %1 = linac.recurrence decay(diagonal) rank_one(dplr)
        q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
        v(%q : tensor<1x8x2x16xf32>) g(%q : tensor<1x8x2x16xf32>)
        a(%q : tensor<1x8x2x16xf32>) b(%q : tensor<1x8x2x16xf32>)
        -> tensor<1x8x2x16xf32>
    return %0, %1 : tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>
  }
}
