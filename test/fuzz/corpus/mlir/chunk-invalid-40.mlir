func.func @step_gate_columns(%q: memref<1x16xf32>, %d: memref<1x4xf32>,
                             %s: memref<16x16xf32>) {
  linac.recurrent_step ins(%q, %q, %q : memref<1x16xf32>, memref<1x16xf32>, memref<1x16xf32>)
      gates(%d : memref<1x4xf32>)
      state(%s : memref<16x16xf32>) outs(%s, %q : memref<16x16xf32>, memref<1x16xf32>)
  return
}
