// RUN: linac-opt %s -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(gpu.module(linac-gpu-abi))' | FileCheck %s

// A kernel with two TMA tensors after convert-gpu-to-nvvm: its last two
// arguments become CUtensorMaps passed by value (128-byte, 64-byte aligned
// grid constants), and the dynamic shared memory 128-byte aligned for the
// copies' destinations. The flags and the other arguments are untouched.
// CHECK-LABEL: gpu.module @tma
// CHECK: llvm.mlir.global internal @__dynamic_shmem__0() {addr_space = 3 : i32, alignment = 128 : i64} : !llvm.array<0 x i8>
// CHECK: llvm.func @k(%{{[a-z0-9]+}}: !llvm.ptr, %{{[a-z0-9]+}}: i32, %{{[a-z0-9]+}}: i32,
// CHECK-SAME: %{{[a-z0-9]+}}: !llvm.ptr {llvm.align = 64 : i32, llvm.byval = !llvm.array<128 x i8>, nvvm.grid_constant},
// CHECK-SAME: %{{[a-z0-9]+}}: !llvm.ptr {llvm.align = 64 : i32, llvm.byval = !llvm.array<128 x i8>, nvvm.grid_constant})
gpu.module @tma {
  llvm.mlir.global internal @__dynamic_shmem__0() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<0 x i8>
  llvm.func @k(%q: !llvm.ptr, %use_q: i32, %use_k: i32, %map_q: !llvm.ptr, %map_k: !llvm.ptr)
      attributes {nvvm.kernel, linac.tma = [{box = array<i64: 64, 1, 64, 1>, tensor = "q"}, {box = array<i64: 64, 1, 64, 1>, tensor = "k"}]} {
    llvm.return
  }
}

// -----

// Without TMA loads nothing changes.
// CHECK-LABEL: gpu.module @plain
// CHECK: alignment = 16 : i64
// CHECK: llvm.func @k(%{{[a-z0-9]+}}: !llvm.ptr, %{{[a-z0-9]+}}: i32) attributes
gpu.module @plain {
  llvm.mlir.global internal @__dynamic_shmem__0() {addr_space = 3 : i32, alignment = 16 : i64} : !llvm.array<0 x i8>
  llvm.func @k(%q: !llvm.ptr, %flag: i32) attributes {nvvm.kernel} {
    llvm.return
  }
}

// -----

gpu.module @not_a_kernel {
  // expected-error @+1 {{has linac.tma but is not a kernel (run linac-gpu-abi after convert-gpu-to-nvvm)}}
  llvm.func @f(%map: !llvm.ptr) attributes {linac.tma = [{box = array<i64: 64, 1, 64, 1>, tensor = "q"}]} {
    llvm.return
  }
}

// -----

gpu.module @too_few {
  // expected-error @+1 {{lists 2 tensor maps in linac.tma but has only 1 arguments}}
  llvm.func @k(%map: !llvm.ptr) attributes {nvvm.kernel, linac.tma = [{box = array<i64: 64, 1, 64, 1>, tensor = "q"}, {box = array<i64: 64, 1, 64, 1>, tensor = "k"}]} {
    llvm.return
  }
}

// -----

gpu.module @not_a_pointer {
  // expected-error @+1 {{argument 1 is a tensor map of linac.tma and must be !llvm.ptr, not 'i32'}}
  llvm.func @k(%map: !llvm.ptr, %flag: i32) attributes {nvvm.kernel, linac.tma = [{box = array<i64: 64, 1, 64, 1>, tensor = "q"}]} {
    llvm.return
  }
}
