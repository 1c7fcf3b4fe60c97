// REQUIRES: cuda-toolkit
// RUN: linac-opt %s --linac-cuda-pipeline="target=cuda:sm_80 format=isa" | FileCheck %s --check-prefix=SM80
// RUN: linac-opt %s --linac-cuda-pipeline="target=cuda:sm_90a format=isa" | FileCheck %s --check-prefix=SM90
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
// SM90-SAME: .target sm_90a
// SM90-SAME: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// The cubin is an ELF image.
// BIN: gpu.binary @la_module [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">, properties = {{.*}}, bin = "\7FELF
// PASSES: linac-select{cpu= target=cuda:sm_80}
// PASSES: linac-gpu-map{target=cuda:sm_80}
// PASSES: linac-lower-chunk-gpu
// PASSES: nvvm-attach-target{{.*}}chip=sm_80{{.*}}features=+ptx80
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
