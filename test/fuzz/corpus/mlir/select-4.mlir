func.func @value_tiles(%q: tensor<1x8x2x16xf32>, %v: tensor<1x8x2x256xf32>)
    -> (tensor<1x8x2x256xf32>, tensor<1x8x2x256xf32>, tensor<1x8x2x256xf32>) {
  %0 = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%v : tensor<1x8x2x256xf32>) -> tensor<1x8x2x256xf32>
  %1 = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%v : tensor<1x8x2x256xf32>) {linac.mode = "decode"} -> tensor<1x8x2x256xf32>
  %2 = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%v : tensor<1x8x2x256xf32>) {linac.value_tile = 32 : i64} -> tensor<1x8x2x256xf32>
  return %0, %1, %2 : tensor<1x8x2x256xf32>, tensor<1x8x2x256xf32>, tensor<1x8x2x256xf32>
}
