func.func @scores_sub_chunk_negative(%q: memref<32x16xf32>, %a: memref<32x32xf32>) {
  linac.chunk_scores ins(%q, %q : memref<32x16xf32>, memref<32x16xf32>)
      outs(%a : memref<32x32xf32>) sub_chunk(-16)
  return
}
