// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-chunk -linac-cpu-abi=cpu=x86-64-v4 | FileCheck %s
// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-chunk -linac-cpu-abi | FileCheck %s --check-prefix=MODCPU
// RUN: not linac-opt %s -split-input-file -linac-chunk -linac-cpu-abi=cpu=pentium4 2>&1 | FileCheck %s --check-prefix=BADCPU
// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-chunk -linac-cpu-abi=cpu=x86-64-v4 | FileCheck %s --check-prefix=LINK

// linac-cpu-abi gives each task function of linac-chunk its C entry points
// (include/linac/runtime/linac.h): NAME_manifest, NAME_body(closure, begin,
// end) and NAME_kernel(tensors, parallel_for, pool). The CPU is named
// explicitly (x86-64-v4) so that the manifest does not depend on the host;
// the second RUN reads it from the module's linac.cpu attribute instead.

// Simple GLA prefill, bf16 activations, [B, T, HV] scalar gates, grouped
// value heads (H = 2, HV = 4) and optional h0/ht.
//
// Only NAME_body calls the task functions: they get internal linkage.
// LINK-DAG: func.func private @sgla_task({{.*}} attributes {{{.*}}llvm.linkage = #llvm.linkage<internal>
// LINK-DAG: func.func private @sgla_tasks({{.*}} attributes {llvm.linkage = #llvm.linkage<internal>}
//
// The zeroed linac_tensor that stands in for NULL optional tensors.
// CHECK: llvm.mlir.global internal constant @__linac_null_tensor() {addr_space = 0 : i32} : !llvm.array<80 x i8> {
// CHECK-NEXT: %[[Z:.+]] = llvm.mlir.zero : !llvm.array<80 x i8>
// CHECK-NEXT: llvm.return %[[Z]] : !llvm.array<80 x i8>
//
// The manifest: tensors in ABI order (arguments then results) with dtype,
// direction, optionality and symbolic or static dims, NUL-terminated.
// CHECK: llvm.mlir.global external constant @sgla_manifest("linac-manifest 1\0Acompiler {{[0-9]+\.[0-9]+\.[0-9]+}}\0Akernel sgla\0Atarget cpu x86-64-v4 avx512f,avx512bw,avx512dq,avx512vl,avx2,fma\0Amode prefill\0Avariant simple_gla\0Aschedule chunked 32\0Atensor q in required bf16 B T 2 16\0Atensor k in required bf16 B T 2 16\0Atensor v in required bf16 B T 4 16\0Atensor g in required f32 B T 4\0Atensor h0 in optional f32 S 4 16 16\0Atensor o out required bf16 B T 4 16\0Atensor ht out optional f32 S 4 16 16\0A\00") {addr_space = 0 : i32}
// MODCPU: @sgla_manifest("linac-manifest 1\0Acompiler {{[^\\]+}}\0Akernel sgla\0Atarget cpu x86-64-v3 avx2,fma,f16c\0A
//
// NAME_body(closure, begin, end): the closure is the linac_tensor* array.
// Each tensor pointer is loaded, replaced by the null tensor when NULL (its
// presence flag is the comparison), and a memref descriptor is assembled
// from linac_tensor's fields: data at 0 (allocated = aligned, offset 0),
// shape[d] at byte 16 + 8d, strides[d] at byte 48 + 8d.
// CHECK-LABEL: func.func @sgla_body(
// CHECK-SAME: %[[CL:[a-z0-9]+]]: !llvm.ptr, %[[BEGIN:[a-z0-9]+]]: i64, %[[END:[a-z0-9]+]]: i64) {
// CHECK-NEXT: %[[SLOT0:.+]] = llvm.getelementptr %[[CL]][0] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK-NEXT: %[[T0:.+]] = llvm.load %[[SLOT0]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT: %[[NULL0:.+]] = llvm.mlir.zero : !llvm.ptr
// CHECK-NEXT: %[[HAS0:.+]] = llvm.icmp "ne" %[[T0]], %[[NULL0]] : !llvm.ptr
// CHECK-NEXT: %[[FB0:.+]] = llvm.mlir.addressof @__linac_null_tensor : !llvm.ptr
// CHECK-NEXT: %[[TP0:.+]] = llvm.select %[[HAS0]], %[[T0]], %[[FB0]] : i1, !llvm.ptr
// CHECK-NEXT: %[[DATA:.+]] = llvm.load %[[TP0]] : !llvm.ptr -> !llvm.ptr
// CHECK-NEXT: %[[D0:.+]] = llvm.mlir.poison : !llvm.struct<(ptr, ptr, i64, array<4 x i64>, array<4 x i64>)>
// CHECK-NEXT: %[[D1:.+]] = llvm.insertvalue %[[DATA]], %[[D0]][0]
// CHECK-NEXT: %[[D2:.+]] = llvm.insertvalue %[[DATA]], %[[D1]][1]
// CHECK-NEXT: %[[OFF:.+]] = llvm.mlir.constant(0 : i64) : i64
// CHECK-NEXT: %[[D3:.+]] = llvm.insertvalue %[[OFF]], %[[D2]][2]
// CHECK-NEXT: %[[PSH0:.+]] = llvm.getelementptr %[[TP0]][16] : (!llvm.ptr) -> !llvm.ptr, i8
// CHECK-NEXT: %[[SH0:.+]] = llvm.load %[[PSH0]] : !llvm.ptr -> i64
// CHECK-NEXT: %[[PST0:.+]] = llvm.getelementptr %[[TP0]][48] : (!llvm.ptr) -> !llvm.ptr, i8
// CHECK-NEXT: %[[ST0:.+]] = llvm.load %[[PST0]] : !llvm.ptr -> i64
// CHECK-NEXT: %[[D4:.+]] = llvm.insertvalue %[[SH0]], %[[D3]][3, 0]
// CHECK-NEXT: %[[D5:.+]] = llvm.insertvalue %[[ST0]], %[[D4]][4, 0]
// CHECK-NEXT: llvm.getelementptr %[[TP0]][24]
// CHECK-NEXT: llvm.load
// CHECK-NEXT: llvm.getelementptr %[[TP0]][56]
// CHECK: llvm.getelementptr %[[TP0]][40]
// CHECK-NEXT: llvm.load
// CHECK-NEXT: llvm.getelementptr %[[TP0]][72]
// CHECK: %[[Q:.+]] = builtin.unrealized_conversion_cast %{{.+}} : !llvm.struct<(ptr, ptr, i64, array<4 x i64>, array<4 x i64>)> to memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>>
// The rank-3 gates get a rank-3 descriptor.
// CHECK: llvm.getelementptr %[[CL]][3] : (!llvm.ptr) -> !llvm.ptr, !llvm.ptr
// CHECK: %[[G:.+]] = builtin.unrealized_conversion_cast %{{.+}} : !llvm.struct<(ptr, ptr, i64, array<3 x i64>, array<3 x i64>)> to memref<?x?x4xf32, strided<[?, ?, 1], offset: ?>>
// h0 (slot 4) and ht (slot 6): their NULL tests are the presence flags.
// CHECK: %[[SLOT4:.+]] = llvm.getelementptr %[[CL]][4]
// CHECK-NEXT: %[[T4:.+]] = llvm.load %[[SLOT4]]
// CHECK-NEXT: %[[NULL4:.+]] = llvm.mlir.zero
// CHECK-NEXT: %[[HAS_H0:.+]] = llvm.icmp "ne" %[[T4]], %[[NULL4]]
// CHECK: %[[SLOT6:.+]] = llvm.getelementptr %[[CL]][6]
// CHECK-NEXT: %[[T6:.+]] = llvm.load %[[SLOT6]]
// CHECK-NEXT: %[[NULL6:.+]] = llvm.mlir.zero
// CHECK-NEXT: %[[HAS_HT:.+]] = llvm.icmp "ne" %[[T6]], %[[NULL6]]
// CHECK: %[[HT:.+]] = builtin.unrealized_conversion_cast %{{.+}} to memref<?x4x16x16xf32, strided<[?, ?, ?, 1], offset: ?>>
// Tasks [begin, end), each one call of the task function.
// CHECK-NEXT: %[[LO:.+]] = arith.index_cast %[[BEGIN]] : i64 to index
// CHECK-NEXT: %[[HI:.+]] = arith.index_cast %[[END]] : i64 to index
// CHECK-NEXT: %[[ONE:.+]] = arith.constant 1 : index
// CHECK-NEXT: scf.for %[[I:[a-z0-9]+]] = %[[LO]] to %[[HI]] step %[[ONE]] {
// CHECK-NEXT: func.call @sgla_task(%[[Q]], %{{[0-9]+}}, %{{[0-9]+}}, %[[G]], %{{[0-9]+}}, %{{[0-9]+}}, %[[HT]], %[[HAS_H0]], %[[HAS_HT]], %[[I]]) :
// CHECK-NEXT: }
// CHECK-NEXT: return
//
// NAME_kernel counts the tasks, then runs NAME_body inline when
// parallel_for is NULL, else calls parallel_for(pool, n, NAME_body, tensors)
// through the pointer.
// CHECK-LABEL: func.func @sgla_kernel(
// CHECK-SAME: %[[TS:[a-z0-9]+]]: !llvm.ptr, %[[PF:[a-z0-9]+]]: !llvm.ptr, %[[POOL:[a-z0-9]+]]: !llvm.ptr) {
// CHECK: %[[KQ:.+]] = builtin.unrealized_conversion_cast %{{.+}} to memref<?x?x2x16xbf16, strided<[?, ?, ?, 1], offset: ?>>
// CHECK: %[[N:.+]] = call @sgla_tasks(%[[KQ]], %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}) : ({{.*}}) -> index
// CHECK-NEXT: %[[N64:.+]] = arith.index_cast %[[N]] : index to i64
// CHECK-NEXT: %[[NULL:.+]] = llvm.mlir.zero : !llvm.ptr
// CHECK-NEXT: %[[INLINE:.+]] = llvm.icmp "eq" %[[PF]], %[[NULL]] : !llvm.ptr
// CHECK-NEXT: scf.if %[[INLINE]] {
// CHECK-NEXT: %[[ZERO:.+]] = llvm.mlir.constant(0 : i64) : i64
// CHECK-NEXT: func.call @sgla_body(%[[TS]], %[[ZERO]], %[[N64]]) : (!llvm.ptr, i64, i64) -> ()
// CHECK-NEXT: } else {
// CHECK-NEXT: %[[F:.+]] = func.constant @sgla_body : (!llvm.ptr, i64, i64) -> ()
// CHECK-NEXT: %[[FP:.+]] = builtin.unrealized_conversion_cast %[[F]] : (!llvm.ptr, i64, i64) -> () to !llvm.ptr
// CHECK-NEXT: llvm.call %[[PF]](%[[POOL]], %[[N64]], %[[FP]], %[[TS]]) : !llvm.ptr, (!llvm.ptr, i64, !llvm.ptr, !llvm.ptr) -> ()
// CHECK-NEXT: }
// CHECK-NEXT: return
module attributes {linac.cpu = "x86-64-v3"} {
  func.func @sgla(%q: tensor<?x?x2x16xbf16> {linac.arg = "q"},
                  %k: tensor<?x?x2x16xbf16> {linac.arg = "k"},
                  %v: tensor<?x?x4x16xbf16> {linac.arg = "v"},
                  %g: tensor<?x?x4xf32> {linac.arg = "g"},
                  %h0: tensor<?x4x16x16xf32> {linac.arg = "h0"})
      -> (tensor<?x?x4x16xbf16> {linac.arg = "o"},
          tensor<?x4x16x16xf32> {linac.arg = "ht"})
      attributes {linac.variant = "simple_gla"} {
    %o, %ht = linac.recurrence decay(scalar) scale(0.25)
        q(%q : tensor<?x?x2x16xbf16>) k(%k : tensor<?x?x2x16xbf16>)
        v(%v : tensor<?x?x4x16xbf16>) g(%g : tensor<?x?x4xf32>)
        h0(%h0 : tensor<?x4x16x16xf32>)
        {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 16>}
        -> tensor<?x?x4x16xbf16>, tensor<?x4x16x16xf32>
    return %o, %ht : tensor<?x?x4x16xbf16>, tensor<?x4x16x16xf32>
  }
}

// -----

// Decode: h0 and ht are required (ht may alias h0, which the manifest
// says), so the task takes no presence flags; no variant gives "custom".
// CHECK: @dec_manifest("linac-manifest 1\0Acompiler {{[^\\]+}}\0Akernel dec\0Atarget cpu x86-64-v4 {{[^\\]+}}\0Amode decode\0Avariant custom\0Aschedule recurrent 0\0Atensor q in required f32 B T 2 16\0Atensor k in required f32 B T 2 16\0Atensor v in required f32 B T 2 16\0Atensor h0 in required f32 S 2 16 16\0Atensor o out required f32 B T 2 16\0Atensor ht out required f32 S 2 16 16\0Aalias ht h0\0A\00")
// CHECK-LABEL: func.func @dec_body(
// CHECK: scf.for %[[I:[a-z0-9]+]] =
// CHECK-NEXT: func.call @dec_task(%{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}, %[[I]]) : ({{.*}}, index) -> ()
// CHECK-LABEL: func.func @dec_kernel(
// CHECK: call @dec_tasks(
// CHECK: llvm.call
func.func @dec(%q: tensor<?x?x2x16xf32> {linac.arg = "q"},
               %k: tensor<?x?x2x16xf32> {linac.arg = "k"},
               %v: tensor<?x?x2x16xf32> {linac.arg = "v"},
               %h0: tensor<?x2x16x16xf32> {linac.arg = "h0"})
    -> (tensor<?x?x2x16xf32> {linac.arg = "o"},
        tensor<?x2x16x16xf32> {linac.arg = "ht"}) {
  %o, %ht = linac.recurrence decay(none) scale(0.25)
      q(%q : tensor<?x?x2x16xf32>) k(%k : tensor<?x?x2x16xf32>)
      v(%v : tensor<?x?x2x16xf32>) h0(%h0 : tensor<?x2x16x16xf32>)
      {linac.schedule = #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 16>}
      -> tensor<?x?x2x16xf32>, tensor<?x2x16x16xf32>
  return %o, %ht : tensor<?x?x2x16xf32>, tensor<?x2x16x16xf32>
}

// -----

// Varlen, f16: cu_seqlens is a rank-1 i32 tensor of N + 1 offsets; a static
// batch of 1 appears as a number.
// CHECK: @packed_manifest("{{.*}}\0Amode prefill\0Avariant custom\0Aschedule chunked 16\0Atensor q in required f16 1 T 2 16\0Atensor k in required f16 1 T 2 16\0Atensor v in required f16 1 T 2 16\0Atensor cu_seqlens in required i32 N1\0Atensor o out required f16 1 T 2 16\0A\00")
// CHECK-LABEL: func.func @packed_body(
// CHECK: %[[CU:.+]] = builtin.unrealized_conversion_cast %{{.+}} : !llvm.struct<(ptr, ptr, i64, array<1 x i64>, array<1 x i64>)> to memref<?xi32, strided<[1], offset: ?>>
// CHECK: func.call @packed_task(%{{[0-9]+}}, %{{[0-9]+}}, %{{[0-9]+}}, %[[CU]], %{{[0-9]+}}, %{{[a-z0-9]+}}) :
func.func @packed(%q: tensor<1x?x2x16xf16> {linac.arg = "q"},
                  %k: tensor<1x?x2x16xf16> {linac.arg = "k"},
                  %v: tensor<1x?x2x16xf16> {linac.arg = "v"},
                  %cu: tensor<?xi32> {linac.arg = "cu_seqlens"})
    -> (tensor<1x?x2x16xf16> {linac.arg = "o"}) {
  %o = linac.recurrence decay(none) scale(0.25)
      q(%q : tensor<1x?x2x16xf16>) k(%k : tensor<1x?x2x16xf16>)
      v(%v : tensor<1x?x2x16xf16>) cu_seqlens(%cu : tensor<?xi32>)
      {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 16, vector_width = 16>}
      -> tensor<1x?x2x16xf16>
  return %o : tensor<1x?x2x16xf16>
}

// -----

// layout = "bhtd": the task still indexes [B, T, H, D] views; the manifest
// lists the stored [B, H, T, D] order and NAME_body builds each activation's
// memref from the tensor's dims 0, 2, 1, 3 (shape words at byte 16 + 8d,
// strides at 48 + 8d), so the strides carry the layout. States keep their
// order.
// CHECK: llvm.mlir.global external constant @hm_manifest("{{.*}}tensor q in required f32 B 1 T 16\0Atensor k in required f32 B 1 T 16\0Atensor v in required f32 B 1 T 16\0Atensor o out required f32 B 1 T 16\0A
// CHECK-LABEL: func.func @hm_body(
// CHECK: %[[T0:.+]] = llvm.select %{{.+}}, %{{.+}}, %{{.+}} : i1, !llvm.ptr
// CHECK: %[[PS0:.+]] = llvm.getelementptr %[[T0]][16]
// CHECK: %[[PT0:.+]] = llvm.getelementptr %[[T0]][48]
// CHECK: %[[PS1:.+]] = llvm.getelementptr %[[T0]][32]
// CHECK: %[[PT1:.+]] = llvm.getelementptr %[[T0]][64]
// CHECK: %[[PS2:.+]] = llvm.getelementptr %[[T0]][24]
// CHECK: %[[PT2:.+]] = llvm.getelementptr %[[T0]][56]
module attributes {linac.layout = "bhtd"} {
  func.func @hm(%q: tensor<?x?x1x16xf32> {linac.arg = "q"},
                %k: tensor<?x?x1x16xf32> {linac.arg = "k"},
                %v: tensor<?x?x1x16xf32> {linac.arg = "v"})
      -> (tensor<?x?x1x16xf32> {linac.arg = "o"}) {
    %o = linac.recurrence decay(none) q(%q : tensor<?x?x1x16xf32>)
        k(%k : tensor<?x?x1x16xf32>) v(%v : tensor<?x?x1x16xf32>)
        {linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 32, vector_width = 16>}
        -> tensor<?x?x1x16xf32>
    return %o : tensor<?x?x1x16xf32>
  }
}

// -----

// No task function: nothing is added, not even the null tensor.
// CHECK-LABEL: func.func @plain(
// CHECK-NOT: llvm.mlir.global
// CHECK-NOT: _kernel
func.func @plain(%x: f32) -> f32 {
  return %x : f32
}

// -----

// A function marked as a kernel without its task count is not something
// linac-chunk made.
// expected-error @+1 {{'func.func' op is not a task function of linac-chunk}}
func.func private @orphan_task(%t: index)
    attributes {linac.kernel = "orphan", linac.mode = "prefill", linac.tensors = []} {
  return
}

// Unknown CPUs are refused before anything is built.
// BADCPU: error: linac-cpu-abi: unknown cpu 'pentium4' (expected native, x86-64-v3 or x86-64-v4)
