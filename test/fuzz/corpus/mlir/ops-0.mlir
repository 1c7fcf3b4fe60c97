func.func @linear_attn(%q: tensor<2x65x4x64xf32>, %k: tensor<2x65x4x64xf32>,
                       %v: tensor<2x65x4x96xf32>) -> tensor<2x65x4x96xf32> {
  %o = linac.recurrence decay(none)
      q(%q : tensor<2x65x4x64xf32>) k(%k : tensor<2x65x4x64xf32>)
      v(%v : tensor<2x65x4x96xf32>) -> tensor<2x65x4x96xf32>
  return %o : tensor<2x65x4x96xf32>
}

func.func @retention(%q: tensor<1x8x2x16xbf16>, %v: tensor<1x8x2x16xbf16>)
    -> tensor<1x8x2x16xbf16> {
  %o = linac.recurrence decay(constant) constants([0.96875, 0.984375])
      q(%q : tensor<1x8x2x16xbf16>) k(%q : tensor<1x8x2x16xbf16>)
      v(%v : tensor<1x8x2x16xbf16>) -> tensor<1x8x2x16xbf16>
  return %o : tensor<1x8x2x16xbf16>
}

func.func @lightning_unit_decay(%q: tensor<1x8x2x16xf16>,
                                %v: tensor<1x8x2x16xf16>) -> tensor<1x8x2x16xf16> {
  %o = linac.recurrence decay(constant) constants([1.0, 0.5])
      q(%q : tensor<1x8x2x16xf16>) k(%q : tensor<1x8x2x16xf16>)
      v(%v : tensor<1x8x2x16xf16>) -> tensor<1x8x2x16xf16>
  return %o : tensor<1x8x2x16xf16>
}

func.func @simple_gla(%q: tensor<1x63x4x128xf32>, %v: tensor<1x63x4x128xf32>,
                      %g: tensor<1x63x4xf32>) -> tensor<1x63x4x128xf32> {
  %o = linac.recurrence decay(scalar)
      q(%q : tensor<1x63x4x128xf32>) k(%q : tensor<1x63x4x128xf32>)
      v(%v : tensor<1x63x4x128xf32>) g(%g : tensor<1x63x4xf32>)
      -> tensor<1x63x4x128xf32>
  return %o : tensor<1x63x4x128xf32>
}

func.func @gla_state_in_out(%q: tensor<2x64x4x128xf32>, %v: tensor<2x64x4x128xf32>,
                            %g: tensor<2x64x4x128xf32>, %h0: tensor<2x4x128x128xf32>)
    -> (tensor<2x64x4x128xbf16>, tensor<2x4x128x128xf32>) {
  %o, %ht = linac.recurrence decay(diagonal)
      q(%q : tensor<2x64x4x128xf32>) k(%q : tensor<2x64x4x128xf32>)
      v(%v : tensor<2x64x4x128xf32>) g(%g : tensor<2x64x4x128xf32>)
      h0(%h0 : tensor<2x4x128x128xf32>)
      -> tensor<2x64x4x128xbf16>, tensor<2x4x128x128xf32>
  return %o, %ht : tensor<2x64x4x128xbf16>, tensor<2x4x128x128xf32>
}

func.func @rwkv6(%q: tensor<1x16x4x64xf32>, %w: tensor<1x16x4x64xf32>,
                 %u: tensor<4x64xf32>) -> tensor<1x16x4x64xf32> {
  %o = linac.recurrence decay(diagonal) output(previous_state_plus_bonus)
      q(%q : tensor<1x16x4x64xf32>) k(%q : tensor<1x16x4x64xf32>)
      v(%q : tensor<1x16x4x64xf32>) g(%w : tensor<1x16x4x64xf32>)
      u(%u : tensor<4x64xf32>) -> tensor<1x16x4x64xf32>
  return %o : tensor<1x16x4x64xf32>
}

func.func @delta_rule(%q: tensor<1x9x2x64xbf16>, %beta: tensor<1x9x2xbf16>)
    -> tensor<1x9x2x64xbf16> {
  %o = linac.recurrence decay(none) rank_one(delta) feature_map(l2norm)
      q(%q : tensor<1x9x2x64xbf16>) k(%q : tensor<1x9x2x64xbf16>)
      v(%q : tensor<1x9x2x64xbf16>) beta(%beta : tensor<1x9x2xbf16>)
      -> tensor<1x9x2x64xbf16>
  return %o : tensor<1x9x2x64xbf16>
}
