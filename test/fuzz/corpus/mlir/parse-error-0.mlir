func.func @unknown_decay(%q: tensor<1x4x2x32xf32>) {
  %o = linac.recurrence decay(exponential) q(%q : tensor<1x4x2x32xf32>) k(%q : tensor<1x4x2x32xf32>) v(%q : tensor<1x4x2x32xf32>) -> tensor<1x4x2x32xf32>
  return
}
