func.func @dplr_ops(%ab: memref<32x32xf32>, %rhs: memref<32x48xf32>,
                    %w: memref<32x48xf32>, %k: memref<32x16xf32>,
                    %s: memref<16x48xf32>, %row: memref<1x16xf32>,
                    %vrow: memref<1x48xf32>) {
  linac.chunk_dplr_solve ins(%ab, %rhs : memref<32x32xf32>, memref<32x48xf32>)
      outs(%w : memref<32x48xf32>)
  linac.chunk_state_update ins(%k, %rhs : memref<32x16xf32>, memref<32x48xf32>)
      pair(%k, %w : memref<32x16xf32>, memref<32x48xf32>)
      gates(%k, %k : memref<32x16xf32>, memref<32x16xf32>)
      outs(%s : memref<16x48xf32>) sub_chunk(16)
  linac.recurrent_step ins(%row, %row, %vrow : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      gates(%row : memref<1x16xf32>) lowrank(%row, %row : memref<1x16xf32>, memref<1x16xf32>)
      state(%s : memref<16x48xf32>)
      outs(%s, %vrow : memref<16x48xf32>, memref<1x48xf32>)
  return
}

