// RUN: linac-opt %s -linac-select -linac-chunk -linac-gpu-map -linac-lower-chunk-gpu | FileCheck %s
// RUN: linac-opt %s -linac-select -linac-chunk -linac-gpu-map -linac-lower-chunk-gpu=mma-emulation | FileCheck %s --check-prefix=EMU

// The two-stage TMA schedule (stages = 2, linac-select's choice where the
// buffers fit), on the module of linac-lower-chunk-gpu-tma.mlir: varlen
// bf16 GLA on sm_90a, K = 32, V = 16, chunks of 32. Every load site has a
// buffer of its own after the 16 mbarriers at 34816: q at 34944 (2048
// bytes), k at 36992 (2048), v at 39040 (1024), the f32 gates at 40064
// (4096); then the scratch.
// CHECK-LABEL: gpu.func @gla(
// CHECK-SAME: %[[USE_Q:[a-z0-9]+]]: i32, %{{[a-z0-9]+}}: i32, %{{[a-z0-9]+}}: i32, %{{[a-z0-9]+}}: i32, %[[MAP_Q:[a-z0-9]+]]: !llvm.ptr, %[[MAP_K:[a-z0-9]+]]: !llvm.ptr, %{{[a-z0-9]+}}: !llvm.ptr, %[[MAP_G:[a-z0-9]+]]: !llvm.ptr)
// CHECK-SAME: stages = 2, load = "tma"
// CHECK-SAME: linac.shared_bytes = 44544 : i64
// CHECK: nvvm.fence.mbarrier.init
// Before the chunk loop, between barriers, thread 0 starts the first
// chunk's copy of each tile (when the flag is set and the sequence has a
// chunk): q's box at row %[[BEGIN]], the loop's lower bound.
// CHECK: gpu.barrier
// CHECK: %[[HAS_Q:.+]] = arith.cmpi ne, %[[USE_Q]], %{{.+}} : i32
// CHECK: %[[FIRST:.+]] = arith.cmpi eq, %{{.+}}, %{{.+}} : index
// CHECK-NEXT: %[[ANY:.+]] = arith.cmpi ult, %[[BEGIN:.+]], %[[END:.+]] : index
// CHECK-NEXT: %[[T0:.+]] = arith.andi %[[FIRST]], %[[ANY]] : i1
// CHECK-NEXT: %[[GO:.+]] = arith.andi %[[HAS_Q]], %[[T0]] : i1
// CHECK-NEXT: scf.if %[[GO]] {
// CHECK: arith.constant 34944 : index
// CHECK: nvvm.mbarrier.arrive.expect_tx %{{.+}}, %c2048_i32
// CHECK: %[[ROW0:.+]] = arith.index_cast %[[BEGIN]] : index to i32
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.+}}, %[[MAP_Q]], %{{.+}}, box[%{{.+}}, %{{.+}}, %[[ROW0]], %{{.+}}]
// CHECK: }
// CHECK-NEXT: gpu.barrier
// The other tiles' first copies, then the loop.
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.+}}, %[[MAP_K]],
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.+}}, %[[MAP_G]],
// CHECK: scf.for %[[START:[a-z0-9]+]] = %[[BEGIN]] to %[[END]] step %[[STEP:[a-z0-9]+]] {
// In the loop no copy precedes the wait: the threads wait for this
// iteration's phase, convert q's tile from its own buffer, and once every
// thread has read it thread 0 starts the next chunk's copy into the same
// buffer (row %[[START]] + 32), if there is a next chunk.
// CHECK: scf.if
// CHECK: %[[STAGED:.+]] = memref.view %{{.+}}[%c34944{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<1024xbf16, #gpu.address_space<workgroup>>
// CHECK-NOT: nvvm.cp.async.bulk.tensor
// CHECK: nvvm.mbarrier.try_wait.parity
// CHECK: memref.load %[[STAGED]]
// CHECK: gpu.barrier
// CHECK-NEXT: %[[NEXT:.+]] = arith.addi %[[START]], %[[STEP]] : index
// CHECK: %[[ME:.+]] = arith.cmpi eq, %{{.+}}, %{{.+}} : index
// CHECK-NEXT: %[[MORE:.+]] = arith.cmpi ult, %[[NEXT]], %[[END]] : index
// CHECK-NEXT: %[[ISSUE:.+]] = arith.andi %[[ME]], %[[MORE]] : i1
// CHECK-NEXT: scf.if %[[ISSUE]] {
// CHECK: nvvm.fence.proxy
// CHECK-NEXT: %{{.+}} = arith.constant 2048 : i32
// CHECK: %[[ROW:.+]] = arith.index_cast %[[NEXT]] : index to i32
// CHECK: nvvm.cp.async.bulk.tensor.shared.cluster.global %{{.+}}, %[[MAP_Q]], %{{.+}}, box[%{{.+}}, %{{.+}}, %[[ROW]], %{{.+}}]
// Without the flag the threads read q themselves.
// CHECK: } else {
// k, v and the gates in their own buffers.
// CHECK: memref.view %{{.+}}[%c36992{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<1024xbf16,
// CHECK: memref.view %{{.+}}[%c39040{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<512xbf16,
// CHECK: memref.view %{{.+}}[%c40064{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<1024xf32,
// CHECK: gpu.return
//
// Emulated: the first copy before the loop counts the phase, the wait in
// the loop checks that the iteration's phase has completed, and the next
// copy (the next row) counts the next one.
// EMU-LABEL: gpu.func @gla(
// EMU-NOT: nvvm.
// EMU: scf.if
// EMU: scf.if %{{.+}} -> (bf16) {
// EMU: arith.addi %{{.+}}, %c1_i32
// EMU: scf.for %[[START:[a-z0-9]+]] =
// EMU: cf.assert %{{.+}}, "linac: a TMA load waits for an mbarrier phase its copy does not complete"
// EMU: %[[NEXT:.+]] = arith.addi %[[START]], %{{.+}} : index
// EMU: scf.if
// EMU: arith.addi %[[NEXT]], %{{.+}} : index
// EMU: scf.if %{{.+}} -> (bf16) {
// EMU: arith.addi %{{.+}}, %c1_i32
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
        cu_seqlens(%cu : tensor<?xi32>) {linac.chunk_size = 32 : i64}
        -> tensor<1x?x1x16xbf16>
    return %o : tensor<1x?x1x16xbf16>
  }
}
