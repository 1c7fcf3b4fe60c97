func.func @feature_maps(%q: tensor<1x3x1x16xf32>) {
  %0 = linac.recurrence decay(none) feature_map(elu_plus_one)
      q(%q : tensor<1x3x1x16xf32>) k(%q : tensor<1x3x1x16xf32>)
      v(%q : tensor<1x3x1x16xf32>) -> tensor<1x3x1x16xf32>
  %1 = linac.recurrence decay(none) feature_map(relu)
      q(%q : tensor<1x3x1x16xf32>) k(%q : tensor<1x3x1x16xf32>)
      v(%q : tensor<1x3x1x16xf32>) -> tensor<1x3x1x16xf32>
  %2 = linac.recurrence decay(none) feature_map(silu)
      q(%q : tensor<1x3x1x16xf32>) k(%q : tensor<1x3x1x16xf32>)
      v(%q : tensor<1x3x1x16xf32>) -> tensor<1x3x1x16xf32>
  %3 = linac.recurrence decay(none) rank_one(none) output(current_state)
      feature_map(identity) normalizer(none)
      q(%q : tensor<1x3x1x16xf32>) k(%q : tensor<1x3x1x16xf32>)
      v(%q : tensor<1x3x1x16xf32>) -> tensor<1x3x1x16xf32>
  return
}

func.func @taylor2_rwkv6_normalized(%q: tensor<1x3x2x4xf32>, %v: tensor<1x3x2x8xf32>,
                                    %w: tensor<1x3x2x21xf32>, %u: tensor<2x21xf32>)
    -> tensor<1x2x21x8xf32> {
  %o, %ht = linac.recurrence decay(diagonal) output(previous_state_plus_bonus)
      feature_map(taylor2) normalizer(sum)
      q(%q : tensor<1x3x2x4xf32>) k(%q : tensor<1x3x2x4xf32>)
      v(%v : tensor<1x3x2x8xf32>) g(%w : tensor<1x3x2x21xf32>)
      u(%u : tensor<2x21xf32>) -> tensor<1x3x2x8xf32>, tensor<1x2x21x8xf32>
  return %ht : tensor<1x2x21x8xf32>
}

func.func @dplr_normalized(%q: tensor<1x5x2x32xf32>) -> tensor<1x5x2x32xf32> {
  %o = linac.recurrence decay(diagonal) rank_one(dplr) normalizer(sum) eps(1.0e-3)
      q(%q : tensor<1x5x2x32xf32>) k(%q : tensor<1x5x2x32xf32>)
      v(%q : tensor<1x5x2x32xf32>) g(%q : tensor<1x5x2x32xf32>)
      a(%q : tensor<1x5x2x32xf32>) b(%q : tensor<1x5x2x32xf32>)
      -> tensor<1x5x2x32xf32>
  return %o : tensor<1x5x2x32xf32>
}

func.func @exact_constants(%q: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  %o = linac.recurrence decay(constant) constants([0.99999904632568359, 0.99999999906867743])
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  return %o : tensor<1x8x2x16xf32>
}
