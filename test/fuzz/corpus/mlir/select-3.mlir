func.func @bad_mode(%q: tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32> {
  %0 = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) {linac.mode = "train"} -> tensor<1x8x2x16xf32>
  return %0 : tensor<1x8x2x16xf32>
}
