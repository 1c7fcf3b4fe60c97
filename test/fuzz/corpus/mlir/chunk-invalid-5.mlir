func.func @load_rank(%x: memref<8x16xf32>, %i: index, %t: memref<32x16xf32>) {
  linac.chunk_load %x[%i, %i, %i, %i] len(%i) : memref<8x16xf32> into %t : memref<32x16xf32>
  return
}
