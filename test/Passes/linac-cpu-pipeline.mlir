// RUN: linac-opt %s --linac-cpu-pipeline=cpu=x86-64-v4 | FileCheck %s
// RUN: linac-opt %s --linac-cpu-pipeline=cpu=x86-64-v4 | FileCheck %s --check-prefix=ONLYLLVM
// RUN: linac-opt %s --linac-cpu-pipeline=cpu=x86-64-v3 | FileCheck %s --check-prefix=AVX2

// The whole CPU pipeline (passes/Pipelines.cpp): linac.recurrence on
// tensors, with no schedule, down to the LLVM dialect only. A GLA prefill
// (bf16 activations, optional h0/ht) and its decode form.

// Nothing but the LLVM dialect is left (checked over the whole output): no
// func, memref, loop, vector, arith, math, cf or linac op and no unresolved
// cast.
// ONLYLLVM-NOT: {{(^ *|= )(func|memref|scf|vector|arith|math|cf|linac|ub)\.[a-z_]+}}
// ONLYLLVM-NOT: unrealized_conversion_cast

// The task works on 16-lane vectors for x86-64-v4 (8 for x86-64-v3: the
// schedule linac-select picked); every stack tile is allocated in the
// entry block, before the first branch. The task keeps its linac.* metadata
// as discardable attributes.
// CHECK-LABEL: llvm.func internal @gla_task(
// CHECK-SAME: linac.kernel = "gla"
// CHECK: llvm.alloca
// CHECK: llvm.cond_br
// CHECK-NOT: llvm.alloca
// CHECK: llvm.intr.fmuladd({{.*}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
// CHECK-NOT: llvm.alloca
// AVX2-LABEL: llvm.func internal @gla_task(
// AVX2-NOT: vector<16xf32>
// AVX2: llvm.intr.fmuladd({{.*}}) : (vector<8xf32>, vector<8xf32>, vector<8xf32>) -> vector<8xf32>
// AVX2-NOT: vector<16xf32>
// AVX2-LABEL: llvm.func internal @gla_tasks(
// AVX2: @gla_manifest("{{.*}}\0Atarget cpu x86-64-v3 avx2,fma,f16c\0A
//
// CHECK-LABEL: llvm.func internal @gla_tasks(
// CHECK-LABEL: llvm.func internal @gla_decode_task(
// CHECK-SAME: linac.mode = "decode"
// The ABI globals follow the task functions; the manifest names the CPU
// the code was built for.
// CHECK: llvm.mlir.global internal constant @__linac_null_tensor()
// CHECK: llvm.mlir.global external constant @gla_manifest("linac-manifest 1\0A{{.*}}\0Akernel gla\0Atarget cpu x86-64-v4 avx512f,avx512bw,avx512dq,avx512vl,avx2,fma\0Amode prefill\0Avariant gla\0A
// CHECK-LABEL: llvm.func @gla_body(%arg0: !llvm.ptr, %arg1: i64, %arg2: i64) {
// CHECK: llvm.call @gla_task(
//
// The C entry point; parallel_for is called through its pointer with the
// address of NAME_body.
// CHECK-LABEL: llvm.func @gla_kernel(%arg0: !llvm.ptr, %arg1: !llvm.ptr, %arg2: !llvm.ptr) {
// CHECK-DAG: %[[BODY:.+]] = llvm.mlir.addressof @gla_body : !llvm.ptr
// CHECK-DAG: %[[N:.+]] = llvm.call @gla_tasks(
// CHECK: llvm.call @gla_body(%arg0, %{{.+}}, %[[N]]) : (!llvm.ptr, i64, i64) -> ()
// CHECK: llvm.call %arg1(%arg2, %[[N]], %[[BODY]], %arg0) : !llvm.ptr, (!llvm.ptr, i64, !llvm.ptr, !llvm.ptr) -> ()
//
// The decode kernel comes through too, with its own manifest.
// CHECK: @gla_decode_manifest("{{.*}}\0Amode decode\0A{{.*}}\0Aalias ht h0\0A\00")
// CHECK-LABEL: llvm.func @gla_decode_kernel(%arg0: !llvm.ptr, %arg1: !llvm.ptr, %arg2: !llvm.ptr) {
// CHECK: llvm.return
func.func @gla(%q: tensor<?x?x2x16xbf16> {linac.arg = "q"},
               %k: tensor<?x?x2x16xbf16> {linac.arg = "k"},
               %v: tensor<?x?x2x16xbf16> {linac.arg = "v"},
               %g: tensor<?x?x2x16xf32> {linac.arg = "g"},
               %h0: tensor<?x2x16x16xf32> {linac.arg = "h0"})
    -> (tensor<?x?x2x16xbf16> {linac.arg = "o"},
        tensor<?x2x16x16xf32> {linac.arg = "ht"})
    attributes {linac.variant = "gla"} {
  %o, %ht = linac.recurrence decay(diagonal)
      q(%q : tensor<?x?x2x16xbf16>) k(%k : tensor<?x?x2x16xbf16>)
      v(%v : tensor<?x?x2x16xbf16>) g(%g : tensor<?x?x2x16xf32>)
      h0(%h0 : tensor<?x2x16x16xf32>)
      -> tensor<?x?x2x16xbf16>, tensor<?x2x16x16xf32>
  return %o, %ht : tensor<?x?x2x16xbf16>, tensor<?x2x16x16xf32>
}

func.func @gla_decode(%q: tensor<?x?x2x16xf32> {linac.arg = "q"},
                      %k: tensor<?x?x2x16xf32> {linac.arg = "k"},
                      %v: tensor<?x?x2x16xf32> {linac.arg = "v"},
                      %g: tensor<?x?x2x16xf32> {linac.arg = "g"},
                      %h0: tensor<?x2x16x16xf32> {linac.arg = "h0"})
    -> (tensor<?x?x2x16xf32> {linac.arg = "o"},
        tensor<?x2x16x16xf32> {linac.arg = "ht"})
    attributes {linac.variant = "gla"} {
  %o, %ht = linac.recurrence decay(diagonal)
      q(%q : tensor<?x?x2x16xf32>) k(%k : tensor<?x?x2x16xf32>)
      v(%v : tensor<?x?x2x16xf32>) g(%g : tensor<?x?x2x16xf32>)
      h0(%h0 : tensor<?x2x16x16xf32>) {linac.mode = "decode"}
      -> tensor<?x?x2x16xf32>, tensor<?x2x16x16xf32>
  return %o, %ht : tensor<?x?x2x16xf32>, tensor<?x2x16x16xf32>
}
