func.func @solve_kk_square(%kk: memref<32x16xf32>, %beta: memref<32x1xf32>,
                           %v: memref<32x48xf32>) {
  linac.chunk_delta_solve ins(%kk, %beta, %v, %v : memref<32x16xf32>, memref<32x1xf32>, memref<32x48xf32>, memref<32x48xf32>)
      outs(%v : memref<32x48xf32>)
  return
}
