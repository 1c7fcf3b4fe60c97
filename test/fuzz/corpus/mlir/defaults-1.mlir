func.func @explicit_scale(%q: tensor<1x4x2x64xf32>) -> tensor<1x4x2x64xf32> {
  %o = linac.recurrence decay(none) scale(2.0)
      q(%q : tensor<1x4x2x64xf32>) k(%q : tensor<1x4x2x64xf32>)
      v(%q : tensor<1x4x2x64xf32>) -> tensor<1x4x2x64xf32>
  return %o : tensor<1x4x2x64xf32>
}
