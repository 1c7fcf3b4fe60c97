func.func @solve_v_rows(%kk: memref<32x32xf32>, %beta: memref<32x1xf32>,
                        %v: memref<16x48xf32>, %u: memref<32x48xf32>) {
  linac.chunk_delta_solve ins(%kk, %beta, %v, %u : memref<32x32xf32>, memref<32x1xf32>, memref<16x48xf32>, memref<32x48xf32>)
      outs(%u : memref<32x48xf32>)
  return
}
