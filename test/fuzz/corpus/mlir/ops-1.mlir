func.func @gated_delta_rule_gva(%q: tensor<1x33x2x64xf32>, %v: tensor<1x33x4x128xf32>,
                                %g: tensor<1x33x4xf32>, %beta: tensor<1x33x4xf32>)
    -> tensor<1x4x64x128xf32> {
  %o, %ht = linac.recurrence decay(scalar) rank_one(delta) scale(0.125)
      q(%q : tensor<1x33x2x64xf32>) k(%q : tensor<1x33x2x64xf32>)
      v(%v : tensor<1x33x4x128xf32>) g(%g : tensor<1x33x4xf32>)
      beta(%beta : tensor<1x33x4xf32>)
      -> tensor<1x33x4x128xf32>, tensor<1x4x64x128xf32>
  return %ht : tensor<1x4x64x128xf32>
}

func.func @kda(%q: tensor<1x5x2x32xf32>, %g: tensor<1x5x2x32xf32>,
               %beta: tensor<1x5x2xf32>) -> tensor<1x5x2x32xf32> {
  %o = linac.recurrence decay(diagonal) rank_one(delta)
      q(%q : tensor<1x5x2x32xf32>) k(%q : tensor<1x5x2x32xf32>)
      v(%q : tensor<1x5x2x32xf32>) g(%g : tensor<1x5x2x32xf32>)
      beta(%beta : tensor<1x5x2xf32>) -> tensor<1x5x2x32xf32>
  return %o : tensor<1x5x2x32xf32>
}

func.func @dplr(%q: tensor<1x5x2x32xf32>, %g: tensor<1x5x2x32xf32>,
                %a: tensor<1x5x2x32xf32>, %b: tensor<1x5x2x32xf32>)
    -> tensor<1x5x2x32xf32> {
  %o = linac.recurrence decay(diagonal) rank_one(dplr)
      q(%q : tensor<1x5x2x32xf32>) k(%q : tensor<1x5x2x32xf32>)
      v(%q : tensor<1x5x2x32xf32>) g(%g : tensor<1x5x2x32xf32>)
      a(%a : tensor<1x5x2x32xf32>) b(%b : tensor<1x5x2x32xf32>)
      -> tensor<1x5x2x32xf32>
  return %o : tensor<1x5x2x32xf32>
}

func.func @varlen(%q: tensor<1x100x4x64xf32>, %g: tensor<1x100x4xf32>,
                  %h0: tensor<3x4x64x64xf32>, %cu: tensor<4xi32>)
    -> (tensor<1x100x4x64xf32>, tensor<3x4x64x64xf32>) {
  %o, %ht = linac.recurrence decay(scalar)
      q(%q : tensor<1x100x4x64xf32>) k(%q : tensor<1x100x4x64xf32>)
      v(%q : tensor<1x100x4x64xf32>) g(%g : tensor<1x100x4xf32>)
      h0(%h0 : tensor<3x4x64x64xf32>) cu_seqlens(%cu : tensor<4xi32>)
      -> tensor<1x100x4x64xf32>, tensor<3x4x64x64xf32>
  return %o, %ht : tensor<1x100x4x64xf32>, tensor<3x4x64x64xf32>
}

func.func @dynamic(%q: tensor<?x?x?x128xf16>, %g: tensor<?x?x?x128xf16>,
                   %cu: tensor<?xi64>)
    -> (tensor<?x?x?x128xf16>, tensor<?x?x128x128xf32>) {
  %o, %ht = linac.recurrence decay(diagonal)
      q(%q : tensor<?x?x?x128xf16>) k(%q : tensor<?x?x?x128xf16>)
      v(%q : tensor<?x?x?x128xf16>) g(%g : tensor<?x?x?x128xf16>)
      cu_seqlens(%cu : tensor<?xi64>)
      -> tensor<?x?x?x128xf16>, tensor<?x?x128x128xf32>
  return %o, %ht : tensor<?x?x?x128xf16>, tensor<?x?x128x128xf32>
}

func.func @based(%q: tensor<1x7x2x16xf32>, %v: tensor<1x7x2x64xf32>)
    -> tensor<1x2x273x64xf32> {
  %o, %ht = linac.recurrence decay(none) feature_map(taylor2) normalizer(sum)
      eps(1.0e-5)
      q(%q : tensor<1x7x2x16xf32>) k(%q : tensor<1x7x2x16xf32>)
      v(%v : tensor<1x7x2x64xf32>) -> tensor<1x7x2x64xf32>, tensor<1x2x273x64xf32>
  return %ht : tensor<1x2x273x64xf32>
}
