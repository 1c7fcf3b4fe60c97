func.func @gates(%g: memref<32x16xf32>, %g1: memref<32x1xf32>,
                 %row: memref<1x16xf32>) {
  linac.chunk_gates ins(%g : memref<32x16xf32>)
      outs(%g, %g, %g : memref<32x16xf32>, memref<32x16xf32>, memref<32x16xf32>)
      sub_chunk(16)
  linac.chunk_gates ins(%g1 : memref<32x1xf32>)
      outs(%g1, %g1, %g1 : memref<32x1xf32>, memref<32x1xf32>, memref<32x1xf32>)
      sub_chunk(8)
  linac.chunk_gates ins(%row : memref<1x16xf32>)
      outs(%row, %row, %row : memref<1x16xf32>, memref<1x16xf32>, memref<1x16xf32>)
      sub_chunk(1)
  return
}

func.func @scores(%q: memref<32x16xf32>, %g: memref<32x16xf32>,
                  %g1: memref<32x1xf32>, %a: memref<32x32xf32>) {
  linac.chunk_scores ins(%q, %q : memref<32x16xf32>, memref<32x16xf32>)
      outs(%a : memref<32x32xf32>) sub_chunk(16)
  linac.chunk_scores ins(%q, %q : memref<32x16xf32>, memref<32x16xf32>)
      gates(%g, %g, %g : memref<32x16xf32>, memref<32x16xf32>, memref<32x16xf32>)
      outs(%a : memref<32x32xf32>) sub_chunk(16)
  linac.chunk_scores ins(%q, %q : memref<32x16xf32>, memref<32x16xf32>)
      gates(%g1, %g1, %g1 : memref<32x1xf32>, memref<32x1xf32>, memref<32x1xf32>)
      outs(%a : memref<32x32xf32>) sub_chunk(32)
  return
}

func.func @attend(%a: memref<32x32xf32>, %v: memref<32x48xf32>) {
  linac.chunk_attend ins(%a, %v : memref<32x32xf32>, memref<32x48xf32>)
      outs(%v : memref<32x48xf32>)
  return
}

func.func @inter(%q: memref<32x16xf32>, %s: memref<16x48xf32>,
                 %p: memref<32x1xf32>, %o: memref<32x48xf32>) {
  linac.chunk_inter ins(%q, %s : memref<32x16xf32>, memref<16x48xf32>)
      outs(%o : memref<32x48xf32>) sub_chunk(16)
  linac.chunk_inter ins(%q, %s : memref<32x16xf32>, memref<16x48xf32>)
      gates(%p : memref<32x1xf32>) outs(%o : memref<32x48xf32>) sub_chunk(16)
  return
}

func.func @state_update(%k: memref<32x16xf32>, %v: memref<32x48xf32>,
                        %s: memref<16x48xf32>,
                        %w: memref<16x48xf32, strided<[?, 1], offset: ?>>) {
  linac.chunk_state_update ins(%k, %v : memref<32x16xf32>, memref<32x48xf32>)
      outs(%s : memref<16x48xf32>) sub_chunk(16)
  linac.chunk_state_update ins(%k, %v : memref<32x16xf32>, memref<32x48xf32>)
      gates(%k, %k : memref<32x16xf32>, memref<32x16xf32>)
      outs(%w : memref<16x48xf32, strided<[?, 1], offset: ?>>) sub_chunk(16)
  return
}
