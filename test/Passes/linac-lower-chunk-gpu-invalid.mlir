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
