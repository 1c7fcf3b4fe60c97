// REQUIRES: cuda-toolkit
// RUN: linac-opt %s --linac-cuda-pipeline="target=cuda:sm_80 format=isa" | FileCheck %s --check-prefix=SM80
// RUN: linac-opt %s --linac-cuda-pipeline="target=cuda:sm_90a format=isa" | FileCheck %s --check-prefix=SM90
// RUN: linac-opt %s --linac-cuda-pipeline="target=cuda:sm_90a format=isa" | FileCheck %s --check-prefix=TMA
// RUN: linac-opt %s --linac-cuda-pipeline="target=cuda:sm_90a" | FileCheck %s --check-prefix=BIN
// RUN: linac-opt %s --linac-cuda-pipeline="target=cuda:sm_80" --dump-pass-pipeline 2>&1 >/dev/null | FileCheck %s --check-prefix=PASSES

// The whole CUDA pipeline, from linac.recurrence on tensors to one
// gpu.binary per kernel: PTX (format=isa) or a cubin assembled by the
// configured toolkit's ptxas (format=bin, the default). bf16 linear
// attention runs its four matmul-shaped ops on mma.sync m16n8k16.
// SM80: gpu.binary @la_module [#gpu.object<#nvvm.target<O = 3, chip = "sm_80", features = "+ptx80">
// SM80-SAME: .version 8.0\0A.target sm_80
// SM80-SAME: .visible .entry la(
// SM80-SAME: bar.sync \090
// SM80-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// SM90: gpu.binary @la_module [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">
// sm_90a (schedule mma = "wgmma"): Q Kᵀ and the state update (K = 32 rows)
// stay on mma.sync; Q S and P V, whose outputs are whole 64-row tiles
// (C = 64), run on wgmma m64n16k16 from operands staged in shared memory:
// the async-proxy fence and a barrier after staging, then fence, the
// k16 steps (2 for K = 32, 4 for C = 64), commit and wait.
// SM90-SAME: .target sm_90a
// SM90-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// SM90-SAME: fence.proxy.async.shared::cta;
// SM90-SAME: bar.sync \090
// SM90-SAME: wgmma.fence.sync.aligned;
// SM90-SAME: wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16 {{.%r[0-9]+(, %r[0-9]+)+.}}, %rd{{[0-9]+}}, %rd{{[0-9]+}}, p, 1, 1, 0, 0;
// SM90-SAME: wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16
// SM90-SAME: wgmma.commit_group.sync.aligned;
// SM90-SAME: wgmma.wait_group.sync.aligned \090;
// SM90-SAME: wgmma.fence.sync.aligned;
// SM90-SAME: wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16
// SM90-SAME: wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16
// SM90-SAME: wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16
// SM90-SAME: wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16
// SM90-SAME: wgmma.commit_group.sync.aligned;
// SM80-NOT: wgmma
// sm_90a (schedule load = "tma"): q, k (64 x 32 bf16) and v (64 x 16)
// reach shared memory through the Tensor Memory Accelerator. The kernel
// takes three CUtensorMaps by value (128-byte, 64-byte aligned params,
// after the three i32 flags) and reads them through generic addresses of
// parameter space; its dynamic shared memory is 128-byte aligned. Thread
// 0 initializes one mbarrier per load and fences the initialization; per
// chunk it fences the async proxy, announces the box's bytes and starts
// the 4-d tiled copy, which completes on the mbarrier every thread waits
// on with the chunk's parity; the wgmma matmuls follow.
// TMA: .visible .entry la(
// TMA-SAME: .param .u32 la_param_44,
// TMA-SAME: .param .align 64 .b8 la_param_47[128],
// TMA-SAME: .param .align 64 .b8 la_param_48[128],
// TMA-SAME: .param .align 64 .b8 la_param_49[128]
// TMA-SAME: .shared .align 128 .b8 __dynamic_shmem__0;
// TMA-SAME: cvta.param.u64
// TMA-SAME: mbarrier.init.shared.b64 \09[__dynamic_shmem__0+[[BAR:[0-9]+]]], %r{{[0-9]+}};
// TMA-SAME: mbarrier.init.shared.b64
// TMA-SAME: mbarrier.init.shared.b64
// TMA-SAME: fence.mbarrier_init.release.cluster;
// TMA-SAME: fence.proxy.async.shared::cta;
// TMA-SAME: mbarrier.arrive.expect_tx.shared.b64 %rd{{[0-9]+}}, [__dynamic_shmem__0+[[BAR]]], %r{{[0-9]+}};
// TMA-SAME: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes [%rd{{[0-9]+}}], [%rd{{[0-9]+}}, {%r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}, %r{{[0-9]+}}}], [__dynamic_shmem__0+[[BAR]]];
// TMA-SAME: mbarrier.try_wait.parity.shared.b64 P1, [%r{{[0-9]+}}], %r{{[0-9]+}}, 10000000;
// TMA-SAME: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// TMA-SAME: mbarrier.try_wait.parity.shared.b64
// TMA-SAME: cp.async.bulk.tensor.4d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// TMA-SAME: mbarrier.try_wait.parity.shared.b64
// TMA-SAME: wgmma.mma_async.sync.aligned.m64n16k16.f32.bf16.bf16
// The cubin is an ELF image.
// BIN: gpu.binary @la_module [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">, properties = {{.*}}, bin = "\7FELF
// PASSES: linac-select{cpu= target=cuda:sm_80}
// PASSES: linac-gpu-map{target=cuda:sm_80}
// PASSES: linac-lower-chunk-gpu
// PASSES: nvvm-attach-target{{.*}}chip=sm_80{{.*}}features=+ptx80
// PASSES: convert-gpu-to-nvvm{
// PASSES-NEXT: linac-gpu-abi,
// PASSES: gpu-module-to-binary{{.*}}format=bin{{.*}}toolkit=
module {
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
