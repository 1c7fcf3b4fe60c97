// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-lower-chunk-gpu

// linac-lower-chunk-gpu lowers the ops of linac-chunk; any other linac op
// in a kernel (which would fail later, in the NVVM lowering, without
// naming it) is refused by name.
module attributes {gpu.container_module} {
  gpu.module @m {
    gpu.func @whole(%q: tensor<1x4x1x16xf32>, %v: tensor<1x4x1x16xf32>) kernel
        attributes {known_block_size = array<i32: 128, 1, 1>} {
      // expected-error @+1 {{has no block-cooperative lowering (linac-lower-chunk-gpu lowers the chunked-scan ops of linac-chunk only)}}
      %o = linac.recurrence decay(none) q(%q : tensor<1x4x1x16xf32>)
          k(%q : tensor<1x4x1x16xf32>) v(%v : tensor<1x4x1x16xf32>) -> tensor<1x4x1x16xf32>
      gpu.return
    }
  }
}

// -----

// A schedule's load field must be one the pass knows...
module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{has a schedule with load = "ldmatrix" (expected "tma", "cp.async" or none)}}
    gpu.func @unknown_load(%q: memref<1x64x1x16xbf16>) kernel
        attributes {known_block_size = array<i32: 128, 1, 1>,
                    linac.target = "cuda:sm_90a", linac.tensors = ["q"],
                    linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, warps = 4, stages = 1, load = "ldmatrix">} {
      %c0 = arith.constant 0 : index
      %c64 = arith.constant 64 : index
      %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
      %tile = memref.view %smem[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64x16xf32, #gpu.address_space<workgroup>>
      linac.chunk_load %q[%c0, %c0, %c0, %c0] len(%c64) : memref<1x64x1x16xbf16> into %tile : memref<64x16xf32, #gpu.address_space<workgroup>>
      gpu.return
    }
  }
}

// -----

// ...and TMA needs an sm_90a kernel (linac-gpu-map refuses such a schedule
// for sm_80 first; this is a hand-written kernel).
module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{has a tma schedule but no sm_90a linac.target (the Tensor Memory Accelerator is sm_90a's)}}
    gpu.func @tma_sm80(%q: memref<1x64x1x16xbf16>) kernel
        attributes {known_block_size = array<i32: 128, 1, 1>,
                    linac.target = "cuda:sm_80", linac.tensors = ["q"],
                    linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, warps = 4, stages = 1, load = "tma">} {
      %c0 = arith.constant 0 : index
      %c64 = arith.constant 64 : index
      %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
      %tile = memref.view %smem[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64x16xf32, #gpu.address_space<workgroup>>
      linac.chunk_load %q[%c0, %c0, %c0, %c0] len(%c64) : memref<1x64x1x16xbf16> into %tile : memref<64x16xf32, #gpu.address_space<workgroup>>
      gpu.return
    }
  }
}

// -----

// The tensor records of the manifest name the TMA tensors, so each needs a
// name in linac.tensors.
module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{has no linac.tensors name for argument 0}}
    gpu.func @unnamed(%q: memref<1x64x1x16xbf16>) kernel
        attributes {known_block_size = array<i32: 128, 1, 1>,
                    linac.target = "cuda:sm_90a", linac.tensors = [],
                    linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 64, vector_width = 0, warps = 4, stages = 1, load = "tma">} {
      %c0 = arith.constant 0 : index
      %c64 = arith.constant 64 : index
      %smem = gpu.dynamic_shared_memory : memref<?xi8, #gpu.address_space<workgroup>>
      %tile = memref.view %smem[%c0][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<64x16xf32, #gpu.address_space<workgroup>>
      linac.chunk_load %q[%c0, %c0, %c0, %c0] len(%c64) : memref<1x64x1x16xbf16> into %tile : memref<64x16xf32, #gpu.address_space<workgroup>>
      gpu.return
    }
  }
}
