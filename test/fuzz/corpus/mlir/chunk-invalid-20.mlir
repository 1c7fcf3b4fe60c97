func.func @scores_gate_columns(%q: memref<32x16xf32>, %g: memref<32x8xf32>,
                               %a: memref<32x32xf32>) {
  linac.chunk_scores ins(%q, %q : memref<32x16xf32>, memref<32x16xf32>)
      gates(%g, %g, %g : memref<32x8xf32>, memref<32x8xf32>, memref<32x8xf32>)
      outs(%a : memref<32x32xf32>) sub_chunk(16)
  return
}
