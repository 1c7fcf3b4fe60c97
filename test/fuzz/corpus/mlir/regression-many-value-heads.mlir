func.func @f(%q: tensor<1x8x1x16xf32>, %v: tensor<1x8x4611686018427387904x1024xf32>) {
  %o = linac.recurrence decay(none) q(%q : tensor<1x8x1x16xf32>) k(%q : tensor<1x8x1x16xf32>) v(%v : tensor<1x8x4611686018427387904x1024xf32>) -> tensor<1x8x4611686018427387904x1024xf32>
  return
}
