// RUN: linac-opt %s -linac-select -linac-chunk -linac-gpu-map -linac-lower-chunk-gpu | FileCheck %s
// RUN: linac-opt %s -linac-select -linac-chunk -linac-gpu-map -linac-lower-chunk-gpu=mma-emulation | FileCheck %s --check-prefix=EMU

// bf16 linear attention on sm_90a, K = 32, V = 16, chunks of 64: the
// schedule asks for wgmma, and Q S (64 x 16, reduction 32) and P V (64 x 16,
// reduction 64) get it; Q Kᵀ and the state update (32 rows) keep mma.sync.
// The staging buffer (64 + 16 rows of 64 bf16 = 10240 bytes) follows the
// tiles. Each slice: a barrier, the threads' 16-bit stores, the
// async-proxy fence, a barrier, then fence / wgmma per k16 step / commit /
// wait 0.
// CHECK-LABEL: gpu.func @la(
// CHECK-SAME: mma = "wgmma"
// Q Kᵀ first (the key side of the chunk), on mma.sync.
// CHECK: nvvm.mma.sync
// CHECK: gpu.barrier
// CHECK: memref.store {{.*}} : memref<2048xbf16, #gpu.address_space<workgroup>>
// CHECK: memref.store {{.*}} : memref<512xbf16, #gpu.address_space<workgroup>>
// CHECK: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: gpu.barrier
// CHECK-NEXT: nvvm.wgmma.fence.aligned
// The descriptors: no swizzle, leading byte offset 128 (8 << 16), stride
// byte offset depth * 16 = 512 for the 32-deep Q S slice (32 << 32).
// CHECK: arith.constant 137439477760 : i64
// CHECK: nvvm.wgmma.mma_async {{.*}}, <m = 64, n = 16, k = 16>, D[<f32>, <one>], A[<bf16>, <one>, <row>], B[<bf16>, <one>, <col>] : !llvm.struct<(f32, f32, f32, f32, f32, f32, f32, f32)>
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// P V: a 64-deep slice (stride byte offset 1024: 64 << 32); then the
// state update on mma.sync.
// CHECK: memref.store {{.*}} : memref<4096xbf16, #gpu.address_space<workgroup>>
// CHECK: arith.constant 274878431232 : i64
// CHECK: nvvm.wgmma.mma_async
// CHECK: nvvm.mma.sync
// Under emulation: no NVVM op at all, each accumulator register's sum from
// FMAs of bf16-rounded operands.
// EMU-LABEL: gpu.func @la(
// EMU-NOT: nvvm.wgmma
// EMU-NOT: nvvm.fence
// EMU: arith.truncf {{.*}} : f32 to bf16
// EMU: math.fma
module attributes {linac.target = "cuda:sm_90a"} {
  func.func @la(%q: tensor<?x?x1x32xbf16> {linac.arg = "q"},
                %k: tensor<?x?x1x32xbf16> {linac.arg = "k"},
                %v: tensor<?x?x1x16xbf16> {linac.arg = "v"})
      -> (tensor<?x?x1x16xbf16> {linac.arg = "o"}) {
    %o = linac.recurrence decay(none)
        q(%q : tensor<?x?x1x32xbf16>) k(%k : tensor<?x?x1x32xbf16>)
        v(%v : tensor<?x?x1x16xbf16>) -> tensor<?x?x1x16xbf16>
    return %o : tensor<?x?x1x16xbf16>
  }
}
