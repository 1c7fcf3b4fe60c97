// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-select -linac-chunk -linac-gpu-map -linac-lower-chunk-gpu | FileCheck %s
// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-select -linac-chunk -linac-gpu-map -linac-lower-chunk-gpu=mma-emulation | FileCheck %s --check-prefix=EMU

// bf16 linear attention with l2norm, K = 32, V = 16, chunks of 32, 4 warps.
// Every chunked-scan op becomes block-cooperative code between barriers:
// elementwise ops are loops from the thread id in steps of the block size,
// the four matmul-shaped ops are warp loops over 16 x 8 fragments around
// nvvm.mma.sync m16n8k16 on bf16 operands packed in i32 registers.
// CHECK-LABEL: gpu.func @la(
// CHECK-SAME: linac.mma = "bf16"
// The tiles (18432 bytes) and l2norm's 32 row scales.
// CHECK-SAME: linac.shared_bytes = 18560 : i64
// CHECK-NOT: linac.tile_zero
// tile_zero of the state: 512 elements over 128 threads.
// CHECK: gpu.barrier
// CHECK: %[[TID:.+]] = gpu.thread_id x
// CHECK: scf.for %{{.+}} = %[[TID]] to %{{.+}} step %{{.+}} {
// CHECK: gpu.barrier
// The chunk loop: l2norm row sums (one thread per row), then the scaled
// elementwise load, for q and then k.
// CHECK: scf.for
// CHECK: gpu.barrier
// CHECK: math.rsqrt
// CHECK: gpu.barrier
// CHECK: math.rsqrt
// CHECK: gpu.barrier
// inter, scores, attend: warps (tid / 32) walk the fragments.
// CHECK: %[[WARP:.+]] = arith.divui %thread_id_x{{[_0-9]*}}, %{{.+}} : index
// CHECK: scf.for %{{.+}} = %[[WARP]] to
// CHECK: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK: gpu.barrier
// CHECK: nvvm.mma.sync
// CHECK: gpu.barrier
// CHECK: nvvm.mma.sync
// CHECK: gpu.barrier
// chunk_store, then the state update.
// CHECK: arith.truncf %{{.+}} : f32 to bf16
// CHECK: gpu.barrier
// CHECK: nvvm.mma.sync
// CHECK: gpu.barrier
// CHECK-NOT: linac.
// CHECK: gpu.return
//
// Emulated tensor cores: the same fragment walk, with scalar FMAs of
// operands rounded to bf16.
// EMU-LABEL: gpu.func @la(
// EMU-NOT: nvvm.mma.sync
// EMU: arith.truncf %{{.+}} : f32 to bf16
// EMU-NEXT: arith.extf %{{.+}} : bf16 to f32
// EMU: math.fma
// EMU-NOT: nvvm.mma.sync
// EMU: gpu.return
module attributes {linac.target = "cuda:sm_90a"} {
  func.func @la(%q: tensor<?x?x1x32xbf16> {linac.arg = "q"},
                %k: tensor<?x?x1x32xbf16> {linac.arg = "k"},
                %v: tensor<?x?x1x16xbf16> {linac.arg = "v"})
      -> (tensor<?x?x1x16xbf16> {linac.arg = "o"}) {
    %o = linac.recurrence decay(none) feature_map(l2norm)
        q(%q : tensor<?x?x1x32xbf16>) k(%k : tensor<?x?x1x32xbf16>)
        v(%v : tensor<?x?x1x16xbf16>) {linac.chunk_size = 32 : i64}
        -> tensor<?x?x1x16xbf16>
    return %o : tensor<?x?x1x16xbf16>
  }
}

// -----

// f16 takes nvgpu.mma.sync (vector<4x2xf16> x vector<2x2xf16>); gated GLA
// adds the sub-chunk decay carries (scratch after the tiles).
// CHECK-LABEL: gpu.func @gla16(
// CHECK-SAME: linac.mma = "f16"
// CHECK: math.exp
// CHECK: nvgpu.mma.sync(%{{.+}}, %{{.+}}, %{{.+}}) {mmaShape = [16, 8, 16]} : (vector<4x2xf16>, vector<2x2xf16>, vector<2x2xf32>) -> vector<2x2xf32>
// CHECK-NOT: nvvm.mma.sync
// CHECK: gpu.return
module attributes {linac.target = "cuda:sm_80"} {
  func.func @gla16(%q: tensor<?x?x1x32xf16> {linac.arg = "q"},
                   %k: tensor<?x?x1x32xf16> {linac.arg = "k"},
                   %v: tensor<?x?x1x16xf16> {linac.arg = "v"},
                   %g: tensor<?x?x1x32xf32> {linac.arg = "g"})
      -> (tensor<?x?x1x16xf16> {linac.arg = "o"}) {
    %o = linac.recurrence decay(diagonal)
        q(%q : tensor<?x?x1x32xf16>) k(%k : tensor<?x?x1x32xf16>)
        v(%v : tensor<?x?x1x16xf16>) g(%g : tensor<?x?x1x32xf32>)
        -> tensor<?x?x1x16xf16>
    return %o : tensor<?x?x1x16xf16>
  }
}

// -----

// f32 inputs stay on CUDA cores (f32 FMAs, one thread per output element);
// decode splits each value column's keys over threads and sums the partial
// outputs in shared memory after a barrier.
// CHECK-LABEL: gpu.func @la_f32(
// CHECK-SAME: linac.mma = "none"
// CHECK-NOT: mma.sync
// CHECK: math.fma
// CHECK-LABEL: gpu.func @la_f32_decode(
// CHECK: gpu.thread_id x
// CHECK: math.fma
// CHECK: gpu.barrier
// CHECK: arith.addf
// CHECK-NOT: mma.sync
// CHECK: gpu.return
module attributes {linac.target = "cuda:sm_90a"} {
  func.func @la_f32(%q: tensor<?x?x1x32xf32> {linac.arg = "q"},
                    %k: tensor<?x?x1x32xf32> {linac.arg = "k"},
                    %v: tensor<?x?x1x16xf32> {linac.arg = "v"})
      -> (tensor<?x?x1x16xf32> {linac.arg = "o"}) {
    %o = linac.recurrence decay(none)
        q(%q : tensor<?x?x1x32xf32>) k(%k : tensor<?x?x1x32xf32>)
        v(%v : tensor<?x?x1x16xf32>) -> tensor<?x?x1x16xf32>
    return %o : tensor<?x?x1x16xf32>
  }
  func.func @la_f32_decode(%q: tensor<?x?x1x32xf32> {linac.arg = "q"},
                           %k: tensor<?x?x1x32xf32> {linac.arg = "k"},
                           %v: tensor<?x?x1x16xf32> {linac.arg = "v"},
                           %h0: tensor<?x1x32x16xf32> {linac.arg = "h0"})
      -> (tensor<?x?x1x16xf32> {linac.arg = "o"},
          tensor<?x1x32x16xf32> {linac.arg = "ht"}) {
    %o, %ht = linac.recurrence decay(none)
        q(%q : tensor<?x?x1x32xf32>) k(%k : tensor<?x?x1x32xf32>)
        v(%v : tensor<?x?x1x16xf32>) h0(%h0 : tensor<?x1x32x16xf32>)
        {linac.mode = "decode"} -> tensor<?x?x1x16xf32>, tensor<?x1x32x16xf32>
    return %o, %ht : tensor<?x?x1x16xf32>, tensor<?x1x32x16xf32>
  }
}

// -----

// Kernels written by hand must say how many threads they have...
module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{needs known_block_size = [32 * warps, 1, 1] to lower chunked-scan ops}}
    gpu.func @no_block_size(%t: memref<16x16xf32, #gpu.address_space<workgroup>>) kernel {
      linac.tile_zero outs(%t : memref<16x16xf32, #gpu.address_space<workgroup>>)
      gpu.return
    }
  }
}

// -----

// ...name a known tensor-core type...
module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{has linac.mma = 'tf32' (expected bf16, f16 or none)}}
    gpu.func @bad_mma(%t: memref<16x16xf32, #gpu.address_space<workgroup>>) kernel
        attributes {known_block_size = array<i32: 64, 1, 1>, linac.mma = "tf32"} {
      linac.tile_zero outs(%t : memref<16x16xf32, #gpu.address_space<workgroup>>)
      gpu.return
    }
  }
}

// -----

// ...and still fit the chip once the ops' scratch is added (here l2norm's
// 16 row scales on top of a kernel that claims all of sm_80's shared memory).
module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{needs 166976 bytes of shared memory (166912 for tiles, 64 for scratch), more than the 166912 bytes of sm_80; choose a smaller chunk_size or value_tile}}
    gpu.func @overflow(%q: memref<?x?x1x16xf32, strided<[?, ?, ?, 1], offset: ?>>,
                       %t: memref<16x16xf32, #gpu.address_space<workgroup>>) kernel
        attributes {known_block_size = array<i32: 64, 1, 1>,
                    linac.shared_bytes = 166912 : i64, linac.target = "cuda:sm_80"} {
      %c0 = arith.constant 0 : index
      %c16 = arith.constant 16 : index
      linac.chunk_load %q[%c0, %c0, %c0, %c0] len(%c16) feature_map(l2norm)
          : memref<?x?x1x16xf32, strided<[?, ?, ?, 1], offset: ?>>
          into %t : memref<16x16xf32, #gpu.address_space<workgroup>>
      gpu.return
    }
  }
}
