func.func @store_too_wide(%o: memref<?x?x2x16xbf16>, %i: index, %t: memref<32x32xf32>) {
  linac.chunk_store %t into %o[%i, %i, %i, %i] len(%i) : memref<32x32xf32> into memref<?x?x2x16xbf16>
  return
}
