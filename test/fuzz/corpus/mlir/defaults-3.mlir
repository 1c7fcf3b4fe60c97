func.func @nested(%q: tensor<1x4x2x32xf32>) -> tensor<1x4x2x32xf32> {
  %r = scf.execute_region -> tensor<1x4x2x32xf32> {
    %o = linac.recurrence decay(none)
        q(%q : tensor<1x4x2x32xf32>) k(%q : tensor<1x4x2x32xf32>)
        v(%q : tensor<1x4x2x32xf32>) -> tensor<1x4x2x32xf32>
    scf.yield %o : tensor<1x4x2x32xf32>
  }
  return %r : tensor<1x4x2x32xf32>
}
