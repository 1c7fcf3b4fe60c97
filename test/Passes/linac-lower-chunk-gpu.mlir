// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-select -linac-chunk -linac-gpu-map -linac-lower-chunk-gpu | FileCheck %s
// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-select -linac-chunk -linac-gpu-map -linac-lower-chunk-gpu=mma-emulation | FileCheck %s --check-prefix=EMU

// bf16 linear attention with l2norm, K = 32, V = 16, chunks of 32, 4 warps.
// Every chunked-scan op becomes block-cooperative code between barriers:
// elementwise ops are loops from the thread id in steps of the block size,
// the four matmul-shaped ops are warp loops over 16 x 8 fragments around
// nvvm.mma.sync m16n8k16 on bf16 operands packed in i32 registers.
// CHECK-LABEL: gpu.func @la(
// CHECK-SAME: linac.mma = "bf16"
// The tiles (18432 bytes), the TMA region (a schedule with load = "tma"
// and two stages: 16 mbarriers in 128 bytes, then a buffer per staged
// tile, 2048 bytes for q and k each, 1024 for v) and l2norm's 32 row
// scales; linac-lower-chunk-gpu-tma*.mlir check the loads.
// CHECK-SAME: linac.shared_bytes = 23808 : i64
// CHECK-NOT: linac.tile_zero
// Thread 0 initializes the loads' mbarriers.
// CHECK: gpu.barrier
// CHECK: nvvm.mbarrier.init
// CHECK: nvvm.fence.mbarrier.init
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
// scores, inter, attend, the state update: warps (tid / 32) walk the
// fragments.
// CHECK: %[[WARP:.+]] = arith.divui %thread_id_x{{[_0-9]*}}, %{{.+}} : index
// CHECK: scf.for %{{.+}} = %[[WARP]] to
// CHECK: nvvm.mma.sync A[{{.*}}] B[{{.*}}] C[{{.*}}] {layoutA = #nvvm.mma_layout<row>, layoutB = #nvvm.mma_layout<col>, multiplicandAPtxType = #nvvm.mma_type<bf16>, multiplicandBPtxType = #nvvm.mma_type<bf16>, shape = #nvvm.shape<m = 16, n = 8, k = 16>} : (i32, i32, f32) -> !llvm.struct<(f32, f32, f32, f32)>
// CHECK: gpu.barrier
// CHECK: nvvm.mma.sync
// CHECK: gpu.barrier
// CHECK: nvvm.mma.sync
// CHECK: gpu.barrier
// CHECK: nvvm.mma.sync
// CHECK: gpu.barrier
// Then chunk_store.
// CHECK: arith.truncf %{{.+}} : f32 to bf16
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

// -----

// The delta rule's forward substitution: rows in blocks of 16 (an scf.for
// with two barriers in it); first every thread takes elements (row, column)
// of the block and subtracts the solved blocks' part of the sum from
// v - ks; then one thread per value column walks the block's rows in order
// and scales by beta. All in f32 on CUDA cores.
// CHECK-LABEL: gpu.func @delta_solve(
// CHECK-SAME: %[[KK:[a-z0-9]+]]: memref<32x32xf32, {{.*}}>, %[[BETA:[a-z0-9]+]]: memref<32x1xf32, {{.*}}>, %[[V:[a-z0-9]+]]: memref<32x16xf32, {{.*}}>, %[[KS:[a-z0-9]+]]: memref<32x16xf32, {{.*}}>, %[[U:[a-z0-9]+]]: memref<32x16xf32,
// CHECK: gpu.barrier
// CHECK: scf.for %[[R0:.+]] = %{{.+}} to %c32{{[_0-9]*}} step %c16{{[_0-9]*}} {
// CHECK:   scf.for %[[EL:.+]] = %thread_id_x{{[_0-9]*}} to %c256{{[_0-9]*}} step %c128{{[_0-9]*}} {
// CHECK:     memref.load %[[V]]
// CHECK:     memref.load %[[KS]]
// CHECK:     %[[BASE:.+]] = arith.subf
// CHECK:     scf.for %{{.+}} = %{{.+}} to %[[R0]] step %{{.+}} iter_args(%{{.+}} = %[[BASE]]) -> (f32) {
// CHECK:       memref.load %[[KK]]
// CHECK:       arith.negf
// CHECK:       memref.load %[[U]]
// CHECK:       math.fma
// CHECK:     memref.store %{{.+}}, %[[U]]
// CHECK:   gpu.barrier
// CHECK:   scf.for %[[COL:.+]] = %thread_id_x{{.*}} to %c16{{.*}} step %c128{{.*}} {
// CHECK:     scf.for %[[T:.+]] = %[[R0]] to %{{.+}} step
// CHECK:       memref.load %[[U]][%[[T]], %[[COL]]]
// CHECK:       scf.for %{{.+}} = %[[R0]] to %[[T]] step
// CHECK:         math.fma
// CHECK:       memref.load %[[BETA]][%[[T]],
// CHECK:       arith.mulf
// CHECK:       memref.store %{{.+}}, %[[U]][%[[T]], %[[COL]]]
// CHECK:   gpu.barrier
// CHECK-NOT: linac.
// CHECK: gpu.return
//
// The dplr reads: the same substitution over w with the coefficients
// ab[t, j + 1] and no scaling.
// CHECK-LABEL: gpu.func @dplr_solve(
// CHECK-SAME: %[[AB:[a-z0-9]+]]: memref<32x32xf32, {{.*}}>, %[[RHS:[a-z0-9]+]]: memref<32x16xf32, {{.*}}>, %[[W:[a-z0-9]+]]: memref<32x16xf32,
// CHECK: scf.for %[[R0:.+]] = %{{.+}} to %c32{{[_0-9]*}} step %c16{{[_0-9]*}} {
// CHECK:   memref.load %[[RHS]]
// CHECK:   scf.for %[[J:.+]] = %{{.+}} to %[[R0]] step
// CHECK:     %[[J1:.+]] = arith.addi %[[J]], %c1{{[_0-9]*}}
// CHECK:     memref.load %[[AB]][%{{.+}}, %[[J1]]]
// CHECK:     memref.load %[[W]][%[[J]],
// CHECK:     math.fma
// CHECK:   gpu.barrier
// CHECK:   scf.for %{{.+}} = %{{.+}} to %c16{{.*}} step %c128{{[_0-9]*}}
// CHECK-NOT: arith.mulf
// CHECK:   gpu.barrier
// CHECK: gpu.return
//
// tile_shift_rows: row 0 from the carry, the others from the row above
// (only the taken side reads), then, after a barrier and only when the
// chunk has rows, the carry takes the chunk's last real row.
// CHECK-LABEL: gpu.func @shift(
// CHECK-SAME: %[[SRC:[a-z0-9]+]]: memref<16x8xf32, {{.*}}>, %[[CARRY:[a-z0-9]+]]: memref<1x8xf32, {{.*}}>, %[[DST:[a-z0-9]+]]: memref<16x8xf32, {{.*}}>, %[[LEN:[a-z0-9]+]]: index)
// CHECK: scf.for %{{.+}} = %thread_id_x{{[_0-9]*}} to %c128{{[_0-9]*}} step %c64{{[_0-9]*}} {
// CHECK:   %[[FIRST:.+]] = arith.cmpi eq
// CHECK:   scf.if %[[FIRST]] -> (f32) {
// CHECK:     memref.load %[[CARRY]]
// CHECK:   } else {
// CHECK:     arith.subi
// CHECK:     memref.load %[[SRC]]
// CHECK:   memref.store %{{.+}}, %[[DST]]
// CHECK: gpu.barrier
// CHECK: %[[ANY:.+]] = arith.cmpi sgt, %[[LEN]], %c0{{[_0-9]*}}
// CHECK: scf.if %[[ANY]] {
// CHECK:   %[[LAST:.+]] = arith.subi %[[LEN]], %c1{{[_0-9]*}}
// CHECK:   scf.for %[[C:.+]] = %thread_id_x{{[_0-9]*}} to %c8{{[_0-9]*}} step %c64{{[_0-9]*}} {
// CHECK:     %[[X:.+]] = memref.load %[[SRC]][%[[LAST]], %[[C]]]
// CHECK:     memref.store %[[X]], %[[CARRY]][%c0{{[_0-9]*}}, %[[C]]]
// CHECK: gpu.barrier
//
// chunk_bonus: the row weights (q ⊙ u) · k in scratch after the kernel's
// tiles (16 rows x 1, at byte 1024), then o += weight v per element.
// CHECK-LABEL: gpu.func @bonus(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<16x8xf32, {{.*}}>, %[[K:[a-z0-9]+]]: memref<16x8xf32, {{.*}}>, %[[UB:[a-z0-9]+]]: memref<1x8xf32, {{.*}}>, %[[VB:[a-z0-9]+]]: memref<16x4xf32, {{.*}}>, %[[O:[a-z0-9]+]]: memref<16x4xf32,
// CHECK-SAME: linac.shared_bytes = 1088 : i64
// CHECK: %[[WTS:.+]] = memref.view %{{.+}}[%c1024{{[_0-9]*}}][] : {{.*}} to memref<16x1xf32
// CHECK: scf.for %[[R:.+]] = %thread_id_x{{[_0-9]*}} to %c16{{[_0-9]*}} step %c64{{[_0-9]*}} {
// CHECK:   memref.load %[[Q]][%[[R]],
// CHECK:   memref.load %[[K]][%[[R]],
// CHECK:   arith.mulf
// CHECK:   memref.load %[[UB]]
// CHECK:   math.fma
// CHECK:   memref.store %{{.+}}, %[[WTS]][%[[R]], %c0{{[_0-9]*}}]
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK:   memref.load %[[WTS]]
// CHECK:   memref.load %[[VB]]
// CHECK:   memref.load %[[O]]
// CHECK:   math.fma
// CHECK:   memref.store %{{.+}}, %[[O]]
// CHECK: gpu.barrier
//
// tile_taylor2: one thread per feature; rows past len and columns past
// 1 + K + K^2 (here 4 + 21 .. 24) are zero, the pair (i, j) of column c is
// ((c - 5) / 4, (c - 5) % 4).
// CHECK-LABEL: gpu.func @taylor2(
// CHECK-SAME: %[[X:[a-z0-9]+]]: memref<16x4xf32, {{.*}}>, %[[PHI:[a-z0-9]+]]: memref<16x24xf32, {{.*}}>, %[[LEN:[a-z0-9]+]]: index)
// CHECK: scf.for %[[EL:.+]] = %thread_id_x{{[_0-9]*}} to %c384{{[_0-9]*}} step %c64{{[_0-9]*}} {
// CHECK:   %[[R:.+]] = arith.divui %[[EL]], %c24
// CHECK:   %[[C:.+]] = arith.remui %[[EL]], %c24
// CHECK:   %[[LIVE:.+]] = arith.cmpi ult, %[[R]], %[[LEN]]
// CHECK:   scf.if %[[LIVE]] -> (f32) {
// CHECK:     arith.cmpi eq, %[[C]], %c0
// CHECK:     arith.cmpi ult, %[[C]], %c5
// CHECK:     arith.cmpi ult, %[[C]], %c21
// CHECK:     %[[P:.+]] = arith.subi %[[C]], %c5
// CHECK:     %[[I:.+]] = arith.divui %[[P]], %c4
// CHECK:     memref.load %[[X]][%[[R]], %[[I]]]
// CHECK:     %[[J:.+]] = arith.remui %[[P]], %c4
// CHECK:     memref.load %[[X]][%[[R]], %[[J]]]
// CHECK:   memref.store %{{.+}}, %[[PHI]][%[[R]], %[[C]]]
// CHECK: gpu.barrier
//
// chunk_normalize: one thread per element of o, each dividing by its row's
// den[r, 0] + eps.
// CHECK-LABEL: gpu.func @normalize(
// CHECK-SAME: %[[DEN:[a-z0-9]+]]: memref<16x16xf32, {{.*}}>, %[[ON:[a-z0-9]+]]: memref<16x8xf32,
// CHECK: %[[EPS:.+]] = arith.constant 2.500000e-01 : f32
// CHECK: scf.for %[[EL:.+]] = %thread_id_x{{[_0-9]*}} to %c128{{[_0-9]*}} step %c64{{[_0-9]*}} {
// CHECK:   %[[R:.+]] = arith.divui %[[EL]], %c8
// CHECK:   %[[C:.+]] = arith.remui %[[EL]], %c8
// CHECK:   %[[D:.+]] = memref.load %[[DEN]][%[[R]], %c0{{[_0-9]*}}]
// CHECK:   %[[DE:.+]] = arith.addf %[[D]], %[[EPS]]
// CHECK:   %[[X:.+]] = memref.load %[[ON]][%[[R]], %[[C]]]
// CHECK:   %[[Q:.+]] = arith.divf %[[X]], %[[DE]]
// CHECK:   memref.store %[[Q]], %[[ON]][%[[R]], %[[C]]]
// CHECK: gpu.barrier
//
// chunk_state_update with pair(b, w) on tensor cores: the second sum
// continues the first one's accumulators (two reductions, one store, the
// state decayed once by the whole chunk's carry).
// CHECK-LABEL: gpu.func @pair(
// CHECK-SAME: %[[KP:[a-z0-9]+]]: memref<16x16xf32, {{.*}}>, %[[VP:[a-z0-9]+]]: memref<16x8xf32, {{.*}}>, %[[BP:[a-z0-9]+]]: memref<16x16xf32, {{.*}}>, %[[WP:[a-z0-9]+]]: memref<16x8xf32, {{.*}}>, %{{.+}}: memref<16x16xf32, {{.*}}>, %{{.+}}: memref<16x16xf32, {{.*}}>, %[[S:[a-z0-9]+]]: memref<16x8xf32,
// CHECK: %[[FIRST:.+]]:4 = scf.for {{.*}} -> (f32, f32, f32, f32) {
// CHECK:   memref.load %[[KP]]
// CHECK:   memref.load %[[VP]]
// CHECK:   nvvm.mma.sync
// CHECK: %[[SECOND:.+]]:4 = scf.for {{.*}} iter_args(%{{.+}} = %[[FIRST]]#0, %{{.+}} = %[[FIRST]]#1, %{{.+}} = %[[FIRST]]#2, %{{.+}} = %[[FIRST]]#3)
// CHECK:   memref.load %[[BP]]
// CHECK:   memref.load %[[WP]]
// CHECK:   nvvm.mma.sync
// CHECK: memref.store %[[SECOND]]#0, %[[S]]
// CHECK: memref.store %[[SECOND]]#1, %[[S]]
// CHECK: memref.store %[[SECOND]]#2, %[[S]]
// CHECK: memref.store %[[SECOND]]#3, %[[S]]
// CHECK-NOT: memref.store {{.*}}, %[[S]]
// CHECK: gpu.return
#w = #gpu.address_space<workgroup>
module attributes {gpu.container_module} {
  gpu.module @m {
    gpu.func @delta_solve(%kk: memref<32x32xf32, #w>, %beta: memref<32x1xf32, #w>,
                          %v: memref<32x16xf32, #w>, %ks: memref<32x16xf32, #w>,
                          %u: memref<32x16xf32, #w>) kernel
        attributes {known_block_size = array<i32: 128, 1, 1>} {
      linac.chunk_delta_solve ins(%kk, %beta, %v, %ks : memref<32x32xf32, #w>, memref<32x1xf32, #w>, memref<32x16xf32, #w>, memref<32x16xf32, #w>)
          outs(%u : memref<32x16xf32, #w>)
      gpu.return
    }
    gpu.func @dplr_solve(%ab: memref<32x32xf32, #w>, %rhs: memref<32x16xf32, #w>,
                         %w: memref<32x16xf32, #w>) kernel
        attributes {known_block_size = array<i32: 128, 1, 1>} {
      linac.chunk_dplr_solve ins(%ab, %rhs : memref<32x32xf32, #w>, memref<32x16xf32, #w>)
          outs(%w : memref<32x16xf32, #w>)
      gpu.return
    }
    gpu.func @shift(%src: memref<16x8xf32, #w>, %carry: memref<1x8xf32, #w>,
                    %dst: memref<16x8xf32, #w>, %len: index) kernel
        attributes {known_block_size = array<i32: 64, 1, 1>} {
      linac.tile_shift_rows ins(%src : memref<16x8xf32, #w>) carry(%carry : memref<1x8xf32, #w>)
          len(%len) outs(%dst : memref<16x8xf32, #w>)
      gpu.return
    }
    gpu.func @bonus(%q: memref<16x8xf32, #w>, %k: memref<16x8xf32, #w>, %u: memref<1x8xf32, #w>,
                    %v: memref<16x4xf32, #w>, %o: memref<16x4xf32, #w>) kernel
        attributes {known_block_size = array<i32: 64, 1, 1>, linac.shared_bytes = 1024 : i64} {
      linac.chunk_bonus ins(%q, %k, %u, %v : memref<16x8xf32, #w>, memref<16x8xf32, #w>, memref<1x8xf32, #w>, memref<16x4xf32, #w>)
          outs(%o : memref<16x4xf32, #w>)
      gpu.return
    }
    gpu.func @taylor2(%x: memref<16x4xf32, #w>, %phi: memref<16x24xf32, #w>, %len: index) kernel
        attributes {known_block_size = array<i32: 64, 1, 1>} {
      linac.tile_taylor2 ins(%x : memref<16x4xf32, #w>) len(%len) outs(%phi : memref<16x24xf32, #w>)
      gpu.return
    }
    gpu.func @normalize(%den: memref<16x16xf32, #w>, %o: memref<16x8xf32, #w>) kernel
        attributes {known_block_size = array<i32: 64, 1, 1>} {
      linac.chunk_normalize ins(%den : memref<16x16xf32, #w>) outs(%o : memref<16x8xf32, #w>) eps(0.25)
      gpu.return
    }
    gpu.func @pair(%k: memref<16x16xf32, #w>, %v: memref<16x8xf32, #w>, %b: memref<16x16xf32, #w>,
                   %w: memref<16x8xf32, #w>, %p: memref<16x16xf32, #w>, %s: memref<16x16xf32, #w>,
                   %state: memref<16x8xf32, #w>) kernel
        attributes {known_block_size = array<i32: 128, 1, 1>, linac.mma = "bf16"} {
      linac.chunk_state_update ins(%k, %v : memref<16x16xf32, #w>, memref<16x8xf32, #w>)
          pair(%b, %w : memref<16x16xf32, #w>, memref<16x8xf32, #w>)
          gates(%p, %s : memref<16x16xf32, #w>, memref<16x16xf32, #w>)
          outs(%state : memref<16x8xf32, #w>) sub_chunk(16)
      gpu.return
    }
  }
}

// -----

// Decode steps (4 key ranges of 4 keys per column, 32 columns, 128
// threads). With beta: pass 1 sums S'ᵀk and S'ᵀq into two partials tiles;
// then per column r = beta (v - S'ᵀk) (kept in scratch) and
// o = S'ᵀq + (k · q) r; after a barrier, pass 2 writes S' + k rᵀ, one
// thread per element.
// CHECK-LABEL: gpu.func @step_beta(
// CHECK-SAME: %[[S:[a-z0-9]+]]: memref<16x32xf32, strided<[?, 1], offset: ?>>, %[[O:[a-z0-9]+]]: memref<1x32xf32
// CHECK-SAME: linac.shared_bytes = 1152 : i64
// CHECK: %[[KPART:.+]] = memref.view {{.*}} to memref<4x32xf32
// CHECK: %[[QPART:.+]] = memref.view {{.*}} to memref<4x32xf32
// CHECK: %[[RES:.+]] = memref.view {{.*}} to memref<1x32xf32
// CHECK: scf.for %{{.+}} = %thread_id_x{{[_0-9]*}} to %c128{{[_0-9]*}} step %c128{{[_0-9]*}} {
// CHECK:   %[[SUMS:.+]]:2 = scf.for {{.*}} -> (f32, f32) {
// CHECK:     memref.load %[[S]]
// CHECK:     arith.mulf
// CHECK:     math.fma
// CHECK:     math.fma
// CHECK:   memref.store %[[SUMS]]#0, %[[KPART]]
// CHECK:   memref.store %[[SUMS]]#1, %[[QPART]]
// CHECK: gpu.barrier
// CHECK: scf.for %{{.+}} = %thread_id_x{{[_0-9]*}} to %c32{{[_0-9]*}} step %c128{{[_0-9]*}} {
// CHECK:   %[[R:.+]] = arith.mulf
// CHECK:   memref.store %[[R]], %[[RES]]
// CHECK:   math.fma %{{.+}}, %[[R]],
// CHECK:   memref.store %{{.+}}, %[[O]]
// CHECK: gpu.barrier
// CHECK: scf.for %{{.+}} = %thread_id_x{{[_0-9]*}} to %c512{{[_0-9]*}} step %c128{{[_0-9]*}} {
// CHECK:   memref.load %[[RES]]
// CHECK:   memref.load %[[S]]
// CHECK:   math.fma
// CHECK:   memref.store %{{.+}}, %[[S]]
// CHECK: gpu.barrier
//
// RWKV-6's bonus: one pass; o reads the state loaded before the store
// (S_in and S_out may be the same window), then adds ((q ⊙ u) · k) v.
// CHECK-LABEL: gpu.func @step_bonus(
// CHECK-SAME: %[[S:[a-z0-9]+]]: memref<16x32xf32, strided<[?, 1], offset: ?>>
// CHECK: scf.for {{.*}} -> (f32) {
// CHECK:   %[[OLD:.+]] = memref.load %[[S]]
// CHECK:   %[[NEW:.+]] = math.fma %{{.+}}, %{{.+}}, %[[OLD]]
// CHECK:   memref.store %[[NEW]], %[[S]]
// CHECK:   math.fma %{{.+}}, %[[OLD]],
// CHECK: gpu.barrier
// CHECK: scf.for
// CHECK:   arith.addf
// CHECK:   arith.mulf
// CHECK:   math.fma
// CHECK:   math.fma
// CHECK: gpu.barrier
//
// dplr: pass 1 sums aᵀS_in, the read lands in scratch after a barrier,
// pass 2 writes D S_in + b wᵀ + k vᵀ and sums o from the new state.
// CHECK-LABEL: gpu.func @step_lowrank(
// CHECK-SAME: %[[S:[a-z0-9]+]]: memref<16x32xf32, strided<[?, 1], offset: ?>>
// CHECK: %[[OPART:.+]] = memref.view {{.*}} to memref<4x32xf32
// CHECK: %[[WPART:.+]] = memref.view {{.*}} to memref<4x32xf32
// CHECK: %[[READ:.+]] = memref.view {{.*}} to memref<1x32xf32
// CHECK: memref.store %{{.+}}, %[[WPART]]
// CHECK: gpu.barrier
// CHECK: memref.store %{{.+}}, %[[READ]]
// CHECK: gpu.barrier
// CHECK: scf.for {{.*}} -> (f32) {
// CHECK:   memref.load %[[READ]]
// CHECK:   memref.load %[[S]]
// CHECK:   math.fma
// CHECK:   %[[NEW:.+]] = math.fma
// CHECK:   memref.store %[[NEW]], %[[S]]
// CHECK:   math.fma %{{.+}}, %[[NEW]],
// CHECK: memref.store %{{.+}}, %[[OPART]]
// CHECK: gpu.barrier
// CHECK: gpu.barrier
#w = #gpu.address_space<workgroup>
module attributes {gpu.container_module} {
  gpu.module @m {
    gpu.func @step_beta(%q: memref<1x16xf32, #w>, %k: memref<1x16xf32, #w>, %v: memref<1x32xf32, #w>,
                        %d: memref<1x1xf32, #w>, %beta: memref<1x1xf32, #w>,
                        %s: memref<16x32xf32, strided<[?, 1], offset: ?>>, %o: memref<1x32xf32, #w>) kernel
        attributes {known_block_size = array<i32: 128, 1, 1>} {
      linac.recurrent_step ins(%q, %k, %v : memref<1x16xf32, #w>, memref<1x16xf32, #w>, memref<1x32xf32, #w>)
          gates(%d : memref<1x1xf32, #w>) beta(%beta : memref<1x1xf32, #w>)
          state(%s : memref<16x32xf32, strided<[?, 1], offset: ?>>)
          outs(%s, %o : memref<16x32xf32, strided<[?, 1], offset: ?>>, memref<1x32xf32, #w>)
      gpu.return
    }
    gpu.func @step_bonus(%q: memref<1x16xf32, #w>, %k: memref<1x16xf32, #w>, %v: memref<1x32xf32, #w>,
                         %u: memref<1x16xf32, #w>,
                         %s: memref<16x32xf32, strided<[?, 1], offset: ?>>, %o: memref<1x32xf32, #w>) kernel
        attributes {known_block_size = array<i32: 128, 1, 1>} {
      linac.recurrent_step ins(%q, %k, %v : memref<1x16xf32, #w>, memref<1x16xf32, #w>, memref<1x32xf32, #w>)
          bonus(%u : memref<1x16xf32, #w>)
          state(%s : memref<16x32xf32, strided<[?, 1], offset: ?>>)
          outs(%s, %o : memref<16x32xf32, strided<[?, 1], offset: ?>>, memref<1x32xf32, #w>)
      gpu.return
    }
    gpu.func @step_lowrank(%q: memref<1x16xf32, #w>, %k: memref<1x16xf32, #w>, %v: memref<1x32xf32, #w>,
                           %d: memref<1x16xf32, #w>, %a: memref<1x16xf32, #w>, %b: memref<1x16xf32, #w>,
                           %s: memref<16x32xf32, strided<[?, 1], offset: ?>>, %o: memref<1x32xf32, #w>) kernel
        attributes {known_block_size = array<i32: 128, 1, 1>} {
      linac.recurrent_step ins(%q, %k, %v : memref<1x16xf32, #w>, memref<1x16xf32, #w>, memref<1x32xf32, #w>)
          gates(%d : memref<1x16xf32, #w>) lowrank(%a, %b : memref<1x16xf32, #w>, memref<1x16xf32, #w>)
          state(%s : memref<16x32xf32, strided<[?, 1], offset: ?>>)
          outs(%s, %o : memref<16x32xf32, strided<[?, 1], offset: ?>>, memref<1x32xf32, #w>)
      gpu.return
    }
  }
}

// -----

// A bf16 gated delta rule, whole: the products that feed the solve (the
// gated K Kᵀ and (K ⊙ Γ) S) and those that read U (P U, Kᵀ U) stay in f32
// on CUDA cores; only the query side, Q S and Q Kᵀ, uses mma.sync.
// CHECK-LABEL: gpu.func @gdn(
// CHECK-SAME: linac.mma = "bf16"
// Q Kᵀ (the key side comes first), the solve, then Q S.
// CHECK: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: arith.negf
// CHECK: nvvm.mma.sync
// CHECK-NOT: nvvm.mma.sync
// CHECK: gpu.return
module attributes {linac.target = "cuda:sm_90a"} {
  func.func @gdn(%q: tensor<1x?x1x32xbf16> {linac.arg = "q"},
                 %k: tensor<1x?x1x32xbf16> {linac.arg = "k"},
                 %v: tensor<1x?x1x16xbf16> {linac.arg = "v"},
                 %g: tensor<1x?x1xf32> {linac.arg = "g"},
                 %beta: tensor<1x?x1xf32> {linac.arg = "beta"})
      -> (tensor<1x?x1x16xbf16> {linac.arg = "o"}) {
    %o = linac.recurrence decay(scalar) rank_one(delta) q(%q : tensor<1x?x1x32xbf16>)
        k(%k : tensor<1x?x1x32xbf16>) v(%v : tensor<1x?x1x16xbf16>)
        g(%g : tensor<1x?x1xf32>) beta(%beta : tensor<1x?x1xf32>) {linac.chunk_size = 32 : i64}
        -> tensor<1x?x1x16xbf16>
    return %o : tensor<1x?x1x16xbf16>
  }
}

