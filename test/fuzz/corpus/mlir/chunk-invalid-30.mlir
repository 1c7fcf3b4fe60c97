func.func @update_v_rows(%k: memref<32x16xf32>, %v: memref<16x16xf32>,
                         %s: memref<16x16xf32>) {
  linac.chunk_state_update ins(%k, %v : memref<32x16xf32>, memref<16x16xf32>)
      outs(%s : memref<16x16xf32>) sub_chunk(16)
  return
}
