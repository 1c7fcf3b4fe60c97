func.func @solve_beta(%kk: memref<32x32xf32>, %beta: memref<32x2xf32>,
                      %v: memref<32x48xf32>) {
  linac.chunk_delta_solve ins(%kk, %beta, %v, %v : memref<32x32xf32>, memref<32x2xf32>, memref<32x48xf32>, memref<32x48xf32>)
      outs(%v : memref<32x48xf32>)
  return
}
