func.func @tall_and_manual(%q: tensor<1x8x2x16xf32>)
    -> (tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>) {
  %0 = linac.recurrence decay(none) feature_map(taylor2)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>) -> tensor<1x8x2x16xf32>
  %1 = linac.recurrence decay(none)
      q(%q : tensor<1x8x2x16xf32>) k(%q : tensor<1x8x2x16xf32>)
      v(%q : tensor<1x8x2x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 4>}
      -> tensor<1x8x2x16xf32>
  return %0, %1 : tensor<1x8x2x16xf32>, tensor<1x8x2x16xf32>
}
