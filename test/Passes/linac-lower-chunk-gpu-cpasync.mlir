// RUN: linac-opt %s -linac-select -linac-chunk -linac-gpu-map -linac-lower-chunk-gpu | FileCheck %s
// RUN: linac-opt %s -linac-select -linac-chunk -linac-gpu-map -linac-lower-chunk-gpu=mma-emulation | FileCheck %s --check-prefix=EMU

// sm_80 has no TMA; its two-stage schedule (load = "cp.async") has the
// threads copy the next chunk's tiles asynchronously. The module of
// linac-lower-chunk-gpu-tma.mlir on sm_80: varlen bf16 GLA, K = 32,
// V = 16, chunks of 32. Buffers right after the tiles (no mbarriers): q
// at 34816, k at 36864, v at 38912, the f32 gates at 39936; no kernel
// argument is added.
// CHECK-LABEL: gpu.func @gla(
// CHECK-SAME: %{{[a-z0-9]+}}: memref<1x?x1x16xbf16, strided<[?, ?, ?, 1], offset: ?>>) kernel
// CHECK-SAME: stages = 2, load = "cp.async"
// CHECK-SAME: linac.shared_bytes = 44416 : i64
// CHECK-NOT: linac.tma
// Before the chunk loop, per tile: the view's flag (data address and the
// outer strides in 16-byte units), then, with it and a first chunk, every
// thread's share of the first chunk's copy in 16-byte pieces (8 bf16): a
// row past T is zero-filled (0 source elements) from the chunk's first
// row; then the group is committed.
// CHECK: %{{.+}}, %[[OFFSET:.+]], %{{.+}}:4, %[[STRIDES:.+]]:4 = memref.extract_strided_metadata %[[Q:.+]] : memref<1x?x1x32xbf16
// CHECK: %[[PTR:.+]] = memref.extract_aligned_pointer_as_index %[[Q]]
// CHECK: arith.remui %{{.+}}, %c16
// CHECK: arith.muli %[[STRIDES]]#0,
// CHECK: arith.muli %[[STRIDES]]#1,
// CHECK: arith.muli %[[STRIDES]]#2,
// CHECK: %[[QOK:.+]] = arith.andi
// CHECK-NEXT: %[[ANY:.+]] = arith.cmpi ult, %[[BEGIN:.+]], %[[END:.+]] : index
// CHECK-NEXT: %[[GO:.+]] = arith.andi %[[QOK]], %[[ANY]] : i1
// CHECK-NEXT: scf.if %[[GO]] {
// CHECK: %[[BUF:.+]] = memref.view %{{.+}}[%c34816][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<1024xbf16, #gpu.address_space<workgroup>>
// CHECK: %[[T:.+]] = memref.dim %[[Q]], %c1
// CHECK: scf.for
// CHECK: %[[ROW:.+]] = arith.addi %[[BEGIN]], %{{.+}} : index
// CHECK-NEXT: %[[IN:.+]] = arith.cmpi ult, %[[ROW]], %[[T]] : index
// CHECK-NEXT: %[[SAFE:.+]] = arith.select %[[IN]], %[[ROW]], %[[BEGIN]] : index
// CHECK: %[[N:.+]] = arith.select %[[IN]], %c8{{.*}}, %c0{{.*}} : index
// CHECK-NEXT: nvgpu.device_async_copy %[[Q]][%{{.+}}, %[[SAFE]], %{{.+}}, %{{.+}}], %[[BUF]][%{{.+}}], 8, %[[N]] {bypassL1}
// CHECK: }
// CHECK-NEXT: nvvm.cp.async.commit.group
// The other tiles' first copies (the f32 gates 4 elements a piece).
// CHECK: nvgpu.device_async_copy %{{.+}}, 8, %{{.+}} {bypassL1} : memref<1x?x1x32xbf16
// CHECK: nvgpu.device_async_copy %{{.+}}, 8, %{{.+}} {bypassL1} : memref<1x?x1x16xbf16
// CHECK: nvgpu.device_async_copy %{{.+}}, 4, %{{.+}} {bypassL1} : memref<1x?x1x32xf32
// In the loop, the first site waits for every committed copy and the
// barrier makes them visible; nothing of this chunk has been issued yet,
// so that is exactly the chunk's tiles.
// CHECK: scf.for %[[START:[a-z0-9]+]] = %[[BEGIN]] to %[[END]] step %[[STEP:[a-z0-9]+]] {
// CHECK: gpu.barrier
// CHECK-NEXT: nvvm.cp.async.wait.group 0
// CHECK-NEXT: gpu.barrier
// With the flag: the conversion from q's buffer, a barrier, and the next
// chunk's copy into it (if there is a next chunk), committed.
// CHECK: scf.if %[[QOK]] {
// CHECK: memref.view %{{.+}}[%c34816{{.*}}][] : memref<?xi8, #gpu.address_space<workgroup>> to memref<1024xbf16,
// CHECK: gpu.barrier
// CHECK-NEXT: %[[NEXT:.+]] = arith.addi %[[START]], %[[STEP]] : index
// CHECK-NEXT: %[[MORE:.+]] = arith.cmpi ult, %[[NEXT]], %[[END]] : index
// CHECK-NEXT: scf.if %[[MORE]] {
// CHECK: arith.addi %[[NEXT]], %{{.+}} : index
// CHECK: nvgpu.device_async_copy %[[Q]]
// CHECK: nvvm.cp.async.commit.group
// Without it the threads read q themselves.
// CHECK: } else {
// CHECK: memref.load %[[Q]]
// The later sites do not wait again.
// CHECK-NOT: nvvm.cp.async.wait.group
// CHECK: gpu.return
//
// Emulated: the copies are done at once, element by element, zeros past T.
// EMU-LABEL: gpu.func @gla(
// EMU-NOT: nvgpu.device_async_copy
// EMU-NOT: nvvm.
// EMU: scf.if %{{.+}} -> (bf16) {
// EMU: memref.load
// EMU: } else {
// EMU-NEXT: arith.constant 0.000000e+00 : bf16
// EMU-NOT: nvvm.
// EMU: gpu.return

module attributes {linac.target = "cuda:sm_80"} {
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
