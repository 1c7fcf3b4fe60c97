func.func @missing_decay(%q: tensor<1x4x2x32xf32>) {
  %o = linac.recurrence q(%q : tensor<1x4x2x32xf32>) k(%q : tensor<1x4x2x32xf32>) v(%q : tensor<1x4x2x32xf32>) -> tensor<1x4x2x32xf32>
  return
}
