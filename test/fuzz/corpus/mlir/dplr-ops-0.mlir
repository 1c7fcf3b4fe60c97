func.func @rwkv6_ops(%k: memref<32x16xf32>, %ks: memref<32x16xf32>,
                     %carry: memref<1x16xf32>, %n: index,
                     %v: memref<32x48xf32>, %o: memref<32x48xf32>,
                     %row: memref<1x16xf32>, %vrow: memref<1x48xf32>,
                     %s: memref<16x48xf32>) {
  linac.tile_shift_rows ins(%k : memref<32x16xf32>) carry(%carry : memref<1x16xf32>)
      len(%n) outs(%ks : memref<32x16xf32>)
  linac.chunk_bonus ins(%k, %ks, %carry, %v : memref<32x16xf32>, memref<32x16xf32>, memref<1x16xf32>, memref<32x48xf32>)
      outs(%o : memref<32x48xf32>)
  linac.recurrent_step ins(%row, %row, %vrow : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      gates(%row : memref<1x16xf32>) bonus(%carry : memref<1x16xf32>)
      state(%s : memref<16x48xf32>)
      outs(%s, %vrow : memref<16x48xf32>, memref<1x48xf32>)
  return
}

