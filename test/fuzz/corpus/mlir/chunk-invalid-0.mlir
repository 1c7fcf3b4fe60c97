func.func @dynamic_tile(%t: memref<?x16xf32>) {
  linac.tile_zero outs(%t : memref<?x16xf32>)
  return
}
