func.func @tiles(%w: memref<16x16xf32, strided<[?, 1], offset: ?>>,
                 %s: memref<16x16xf32>) {
  linac.tile_zero outs(%s : memref<16x16xf32>)
  linac.tile_copy ins(%w : memref<16x16xf32, strided<[?, 1], offset: ?>>)
                  outs(%s : memref<16x16xf32>)
  linac.tile_copy ins(%s : memref<16x16xf32>)
                  outs(%w : memref<16x16xf32, strided<[?, 1], offset: ?>>)
  return
}

func.func @loads(%x: memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>>,
                 %g: memref<?x?x2xf32, strided<[?, ?, 1], offset: ?>>,
                 %xb: memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>>,
                 %gh: memref<1x7x2xf16>,
                 %b: index, %t: index, %h: index, %n: index,
                 %tile: memref<32x16xf32>, %col: memref<32x1xf32>) {
  %c0 = arith.constant 0 : index
  linac.chunk_load %x[%b, %t, %h, %c0] len(%n)
      : memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>> into %tile : memref<32x16xf32>
  linac.chunk_load %x[%b, %t, %h, %c0] len(%n) feature_map(l2norm) scale(0.25) pad(0.0)
      : memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>> into %tile : memref<32x16xf32>
  linac.chunk_load %x[%b, %t, %h, %c0] len(%n) feature_map(elu_plus_one)
      : memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>> into %tile : memref<32x16xf32>
  linac.chunk_load %x[%b, %t, %h, %c0] len(%n) feature_map(relu)
      : memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>> into %tile : memref<32x16xf32>
  linac.chunk_load %x[%b, %t, %h, %c0] len(%n) feature_map(silu) scale(0.125)
      : memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>> into %tile : memref<32x16xf32>
  linac.chunk_load %g[%b, %t, %h, %c0] len(%n) pad(-1.0)
      : memref<?x?x2xf32, strided<[?, ?, 1], offset: ?>> into %col : memref<32x1xf32>
  linac.chunk_load %xb[%b, %t, %h, %c0] len(%n)
      : memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>> into %tile : memref<32x16xf32>
  linac.chunk_load %gh[%b, %t, %h, %c0] len(%n)
      : memref<1x7x2xf16> into %col : memref<32x1xf32>
  return
}

func.func @stores(%o: memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>>,
                  %ob: memref<?x?x2x64xbf16, strided<[?, ?, ?, 1], offset: ?>>,
                  %b: index, %t: index, %h: index, %c: index, %n: index,
                  %tile: memref<32x16xf32>) {
  %c0 = arith.constant 0 : index
  linac.chunk_store %tile into %o[%b, %t, %h, %c0] len(%n)
      : memref<32x16xf32> into memref<?x?x2x16xf32, strided<[?, ?, ?, 1], offset: ?>>
  linac.chunk_store %tile into %ob[%b, %t, %h, %c] len(%n)
      : memref<32x16xf32> into memref<?x?x2x64xbf16, strided<[?, ?, ?, 1], offset: ?>>
  return
}
