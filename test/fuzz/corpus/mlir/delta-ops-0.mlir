func.func @step(%q: memref<1x16xf32>, %v: memref<1x48xf32>,
                %d1: memref<1x1xf32>, %s: memref<16x48xf32>,
                %w: memref<16x48xf32, strided<[?, 1], offset: ?>>) {
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      state(%w : memref<16x48xf32, strided<[?, 1], offset: ?>>)
      outs(%w, %v : memref<16x48xf32, strided<[?, 1], offset: ?>>, memref<1x48xf32>)
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      gates(%q : memref<1x16xf32>)
      state(%s : memref<16x48xf32>)
      outs(%w, %v : memref<16x48xf32, strided<[?, 1], offset: ?>>, memref<1x48xf32>)
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      gates(%d1 : memref<1x1xf32>)
      state(%s : memref<16x48xf32>)
      outs(%s, %v : memref<16x48xf32>, memref<1x48xf32>)
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      gates(%d1 : memref<1x1xf32>) beta(%d1 : memref<1x1xf32>)
      state(%s : memref<16x48xf32>)
      outs(%s, %v : memref<16x48xf32>, memref<1x48xf32>)
  linac.recurrent_step ins(%q, %q, %v : memref<1x16xf32>, memref<1x16xf32>, memref<1x48xf32>)
      beta(%d1 : memref<1x1xf32>)
      state(%s : memref<16x48xf32>)
      outs(%s, %v : memref<16x48xf32>, memref<1x48xf32>)
  return
}

