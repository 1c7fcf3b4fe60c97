func.func @attend_o_shape(%a: memref<32x32xf32>, %v: memref<32x16xf32>,
                          %o: memref<32x32xf32>) {
  linac.chunk_attend ins(%a, %v : memref<32x32xf32>, memref<32x16xf32>)
      outs(%o : memref<32x32xf32>)
  return
}
