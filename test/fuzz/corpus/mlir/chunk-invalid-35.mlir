func.func @step_k_shape(%q: memref<1x16xf32>, %k: memref<1x32xf32>,
                        %v: memref<1x16xf32>, %s: memref<16x16xf32>) {
  linac.recurrent_step ins(%q, %k, %v : memref<1x16xf32>, memref<1x32xf32>, memref<1x16xf32>)
      state(%s : memref<16x16xf32>) outs(%s, %v : memref<16x16xf32>, memref<1x16xf32>)
  return
}
