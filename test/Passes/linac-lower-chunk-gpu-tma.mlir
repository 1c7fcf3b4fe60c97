// RUN: linac-opt %s -linac-chunk -linac-gpu-map -linac-lower-chunk-gpu | FileCheck %s
// RUN: linac-opt %s -linac-chunk -linac-gpu-map -linac-lower-chunk-gpu=mma-emulation | FileCheck %s --check-prefix=EMU

// Varlen bf16 GLA on sm_90a, K = 32, V = 16, chunks of 32, with a
// one-stage TMA schedule (linac-select's choice when two stages do not
// fit; linac-lower-chunk-gpu-tma2.mlir has the two-stage form): q, k (32 x 32 bf16), v (32 x 16 bf16) and the
// per-key gates (32 x 32 f32) each get a flag and a tensor map, the last
// kernel arguments. Shared memory: the tiles (34816 bytes), 16 mbarriers at
// 34816 (128-byte aligned), the staging tile at 34944 (the largest: the
// gates' 4096 bytes), then the gate carries' scratch.
// CHECK-LABEL: gpu.func @gla(
// CHECK-SAME: %[[Q:[a-z0-9]+]]: memref<1x?x1x32xbf16,
// CHECK-SAME: %[[USE_Q:[a-z0-9]+]]: i32, %{{[a-z0-9]+}}: i32, %{{[a-z0-9]+}}: i32, %[[USE_G:[a-z0-9]+]]: i32, %[[MAP_Q:[a-z0-9]+]]: !llvm.ptr, %{{[a-z0-9]+}}: !llvm.ptr, %{{[a-z0-9]+}}: !llvm.ptr, %[[MAP_G:[a-z0-9]+]]: !llvm.ptr)
// CHECK-SAME: load = "tma"
// CHECK-SAME: linac.shared_bytes = 39424 : i64
// CHECK-SAME: linac.tma = [{box = array<i64: 32, 1, 32, 1>, tensor = "q"}, {box = array<i64: 32, 1, 32, 1>, tensor = "k"}, {box = array<i64: 16, 1, 32, 1>, tensor = "v"}, {box = array<i64: 32, 1, 32, 1>, tensor = "g"}]
// Thread 0 initializes one mbarrier per load site for one arrival, and
// fences the initialization for the async proxy, between barriers.
// CHECK: gpu.barrier
// CHECK: scf.if
// CHECK: arith.constant 34816 : index
// CHECK: nvvm.mbarrier.init %{{.+}}, %{{.+}} : !llvm.ptr<3>, i32
// CHECK: arith.constant 34840 : index
// CHECK: nvvm.mbarrier.init
// CHECK-NEXT: nvvm.fence.mbarrier.init
// CHECK: gpu.barrier
// Per chunk, with the launch's flag: the staging tile, the parity of the
// chunk loop's iteration, thread 0's expect_tx of the box's 2048 bytes and
// copy of the box at (column 0, head, chunk start, batch 0), the wait of
// every thread, and the conversion from the staged bf16.
// CHECK: scf.for %[[START:[a-z0-9]+]] = %[[BEGIN:[a-z0-9]+]] to %{{.+}} step %c32
// CHECK: %[[TMA_Q:.+]] = arith.cmpi ne, %[[USE_Q]], %{{.+}} : i32
// CHECK-NEXT: scf.if %[[TMA_Q]] {
// CHECK: %[[STAGED:.+]] = memref.view %{{.+}}[%c34944{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<1024xbf16, #gpu.address_space<workgroup>>
// CHECK: %[[OFF:.+]] = arith.subi %[[START]], %[[BEGIN]] : index
// CHECK-NEXT: %[[ITER:.+]] = arith.divui %[[OFF]], %c32 : index
// CHECK: %[[PAR:.+]] = arith.remui %[[ITER]], %c2{{.*}} : index
// CHECK-NEXT: %[[PARITY:.+]] = arith.index_cast %[[PAR]] : index to i32
// CHECK: scf.if
// CHECK: %[[DST:.+]] = llvm.addrspacecast %{{.+}} : !llvm.ptr<3> to !llvm.ptr<7>
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: %[[BYTES:.+]] = arith.constant 2048 : i32
// CHECK-NEXT: nvvm.mbarrier.arrive.expect_tx %[[BAR:.+]], %[[BYTES]] : !llvm.ptr<3>, i32
// CHECK: %[[ROW:.+]] = arith.index_cast %[[START]] : index to i32
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global %[[DST]], %[[MAP_Q]], %[[BAR]], box[%{{.+}}, %{{.+}}, %[[ROW]], %{{.+}}] : !llvm.ptr<7>, !llvm.ptr
// CHECK: nvvm.mbarrier.try_wait.parity %{{.+}}, %[[PARITY]], %c10000000_i32 : !llvm.ptr<3>, i32, i32
// CHECK: memref.load %[[STAGED]][%{{.+}}] : memref<1024xbf16, #gpu.address_space<workgroup>>
// CHECK-NEXT: arith.extf %{{.+}} : bf16 to f32
// Without the flag (a view TMA cannot describe) the threads read q.
// CHECK: } else {
// CHECK: memref.load %[[Q]][
// The f32 gates: 4096 bytes staged as f32, read without conversion.
// CHECK: arith.cmpi ne, %[[USE_G]], %{{.+}} : i32
// CHECK: memref.view %{{.+}}[%c34944{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<1024xf32, #gpu.address_space<workgroup>>
// CHECK: nvvm.mbarrier.arrive.expect_tx %{{.+}}, %c4096_i32
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.+}}, %[[MAP_G]],
// CHECK: gpu.return
//
// Emulated: no NVVM op; each mbarrier is an i32 of completed phases (0 at
// the start), thread 0 copies the box element by element with zeros
// outside the tensor and counts the phase.
// EMU-LABEL: gpu.func @gla(
// EMU-NOT: nvvm.
// EMU: memref.view %{{.+}}[%c34816][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<1xi32, #gpu.address_space<workgroup>>
// EMU: memref.store %c0_i32
// EMU: scf.for
// EMU: scf.if %{{.+}} -> (bf16) {
// EMU-NEXT: memref.load
// EMU-NEXT: scf.yield
// EMU-NEXT: } else {
// EMU-NEXT: arith.constant 0.000000e+00 : bf16
// EMU: %[[PHASES:.+]] = arith.addi %{{.+}}, %c1_i32
// EMU-NEXT: memref.store %[[PHASES]], %{{.+}}[%{{.+}}] : memref<1xi32, #gpu.address_space<workgroup>>
// Thread 0 then checks, where the threads wait, that the phase of the
// iteration's parity has completed.
// EMU: %[[COUNT:.+]] = memref.load %{{.+}}[%{{.+}}] : memref<1xi32, #gpu.address_space<workgroup>>
// EMU: %[[ODD:.+]] = arith.andi %[[COUNT]], %c1_i32
// EMU-NEXT: %[[DONE:.+]] = arith.cmpi ne, %[[ODD]], %{{.+}} : i32
// EMU-NEXT: cf.assert %[[DONE]], "linac: a TMA load waits for an mbarrier phase its copy does not complete"
// EMU-NOT: nvvm.
// EMU: gpu.return
module attributes {linac.target = "cuda:sm_90a"} {
  func.func @gla(%q: tensor<1x?x1x32xbf16> {linac.arg = "q"},
                 %k: tensor<1x?x1x32xbf16> {linac.arg = "k"},
                 %v: tensor<1x?x1x16xbf16> {linac.arg = "v"},
                 %g: tensor<1x?x1x32xf32> {linac.arg = "g"},
                 %cu: tensor<?xi32> {linac.arg = "cu_seqlens"})
      -> (tensor<1x?x1x16xbf16> {linac.arg = "o"}) {
    %o = linac.recurrence decay(diagonal)
        q(%q : tensor<1x?x1x32xbf16>) k(%k : tensor<1x?x1x32xbf16>)
        v(%v : tensor<1x?x1x16xbf16>) g(%g : tensor<1x?x1x32xf32>)
        cu_seqlens(%cu : tensor<?xi32>)
        {linac.mode = "prefill", linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 0, value_tile = 16, warps = 4, stages = 1, load = "tma">}
        -> tensor<1x?x1x16xbf16>
    return %o : tensor<1x?x1x16xbf16>
  }
}
