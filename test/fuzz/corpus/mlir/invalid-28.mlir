func.func @case28(%q: tensor<1x8x2x16xf32>, %x: tensor<2x15xf32>) {
  %o = linac.recurrence decay(diagonal) output(previous_state_plus_bonus) q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>) v(%q : tensor<1x8x2x16xf32>) g(%q : tensor<1x8x2x16xf32>) u(%x : tensor<2x15xf32>) -> tensor<1x8x2x16xf32>
  return
}
