// RUN: linac-opt %s -split-input-file -verify-diagnostics -linac-select -linac-chunk -linac-gpu-map -linac-lower-chunk-gpu=mma-emulation -linac-emulate-gpu | FileCheck %s

// linac-emulate-gpu gives a kernel back the task-function form of
// linac-chunk, so the CPU back end can run it: block id -> task argument,
// i32 flags -> i1, dynamic shared memory -> a 16-byte aligned stack buffer
// of linac.shared_bytes, and the per-thread code of each barrier interval
// -> a loop over the block's 128 threads (uniform code runs once).
// CHECK-LABEL: func.func private @la_task(
// CHECK-SAME: %[[H0:[a-z0-9]+]]: memref<?x1x16x16xf32, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[O:[a-z0-9]+]]: memref<?x?x1x16xbf16, strided<[?, ?, ?, 1], offset: ?>>,
// CHECK-SAME: %[[HAS_H0:[a-z0-9]+]]: i1, %[[TASK:[a-z0-9]+]]: index)
// CHECK-SAME: linac.kernel = "la", linac.mode = "prefill"
// CHECK-SAME: linac.tensors = ["q", "k", "v", "h0", "o"]
// CHECK: %[[BUF:.+]] = memref.alloca() {alignment = 16 : i64} : memref<7808xi8>
// CHECK: %[[SMEM:.+]] = memref.cast %[[BUF]] : memref<7808xi8> to memref<?xi8>
// The sm_90a schedule loads q, k and v through TMA: their flags and tensor
// maps are gone from the signature, each flag replaced by the runtime's
// rule for the view (16-byte aligned data, outer strides in 16-byte units,
// extents below 2^31).
// CHECK: memref.extract_strided_metadata %{{.+}} : memref<?x?x1x16xbf16,
// CHECK: memref.extract_aligned_pointer_as_index
// CHECK: arith.remui %{{.+}}, %c16
// CHECK: arith.cmpi ult, %{{.+}}, %c1099511627776
// CHECK: %[[FLAG:.+]] = arith.extui %[[HAS_H0]] : i1 to i32
// CHECK: %[[S:.+]] = memref.view %[[SMEM]][%{{.+}}][] : memref<?xi8> to memref<16x16xf32>
// CHECK: arith.divui %[[TASK]],
// The state copy from h0: threads 0..127, each over its strided elements.
// CHECK: scf.if
// CHECK: scf.for %[[T:.+]] = %{{.+}} to %c128{{[_0-9]*}} step %{{.+}} {
// CHECK-NEXT: scf.for %{{.+}} = %[[T]] to
// Thread 0 copies each chunk's box (two stages: the first before the
// chunk loop, each next one after the conversion) and counts the
// mbarrier's phase; the wait checks it.
// CHECK: cf.assert %{{.+}}, "linac: a TMA load waits for an mbarrier phase its copy does not complete"
// No GPU op or barrier is left.
// CHECK-NOT: gpu.
// CHECK: return
// CHECK-LABEL: func.func private @la_tasks(
// CHECK: %[[B:.+]] = memref.dim %{{.+}}, %c0
// CHECK: %[[HV:.+]] = memref.dim %{{.+}}, %c2
// CHECK: %[[N:.+]] = arith.muli %[[B]], %[[HV]]
// CHECK: %[[TILES:.+]] = arith.muli %[[N]], %c1
// CHECK: return %[[TILES]] : index
// CHECK-NOT: gpu.module
module attributes {linac.target = "cuda:sm_90a"} {
  func.func @la(%q: tensor<?x?x1x16xbf16> {linac.arg = "q"},
                %k: tensor<?x?x1x16xbf16> {linac.arg = "k"},
                %v: tensor<?x?x1x16xbf16> {linac.arg = "v"},
                %h0: tensor<?x1x16x16xf32> {linac.arg = "h0"})
      -> (tensor<?x?x1x16xbf16> {linac.arg = "o"}) {
    %o = linac.recurrence decay(none)
        q(%q : tensor<?x?x1x16xbf16>) k(%k : tensor<?x?x1x16xbf16>)
        v(%v : tensor<?x?x1x16xbf16>) h0(%h0 : tensor<?x1x16x16xf32>)
        {linac.chunk_size = 16 : i64} -> tensor<?x?x1x16xbf16>
    return %o : tensor<?x?x1x16xbf16>
  }
}

// -----

// Hand-written kernels the serialization cannot keep exact are refused: a
// barrier under per-thread control flow...
module attributes {gpu.container_module} {
  gpu.module @m {
    gpu.func @divergent_barrier() kernel
        attributes {known_block_size = array<i32: 32, 1, 1>, linac.kernel = "k",
                    linac.tensors = [], linac.shared_bytes = 0 : i64,
                    linac.schedule = #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 0, warps = 1, stages = 1>} {
      %t = gpu.thread_id x
      %c0 = arith.constant 0 : index
      %first = arith.cmpi eq, %t, %c0 : index
      // expected-error @+1 {{holds a barrier under per-thread control flow}}
      scf.if %first {
        gpu.barrier
      }
      gpu.return
    }
  }
}

// -----

// ...a per-thread value that lives across a barrier...
module attributes {gpu.container_module} {
  gpu.module @m {
    gpu.func @live_across(%out: memref<32xindex>) kernel
        attributes {known_block_size = array<i32: 32, 1, 1>, linac.kernel = "k",
                    linac.tensors = [], linac.shared_bytes = 0 : i64,
                    linac.schedule = #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 0, warps = 1, stages = 1>} {
      %t = gpu.thread_id x
      gpu.barrier
      // expected-error @+1 {{uses a per-thread value after a barrier; cannot serialize the threads}}
      memref.store %t, %out[%t] : memref<32xindex>
      gpu.return
    }
  }
}

// -----

// ...a uniform side effect in an interval with per-thread code (it would run
// once, before all threads, instead of in program order)...
module attributes {gpu.container_module} {
  gpu.module @m {
    gpu.func @uniform_store(%out: memref<32xindex>) kernel
        attributes {known_block_size = array<i32: 32, 1, 1>, linac.kernel = "k",
                    linac.tensors = [], linac.shared_bytes = 0 : i64,
                    linac.schedule = #linac.schedule<algorithm = recurrent, chunk_size = 0, vector_width = 0, warps = 1, stages = 1>} {
      %c0 = arith.constant 0 : index
      %t = gpu.thread_id x
      memref.store %t, %out[%t] : memref<32xindex>
      // expected-error @+1 {{has side effects in a barrier interval with per-thread code; cannot serialize the threads}}
      memref.store %c0, %out[%c0] : memref<32xindex>
      gpu.return
    }
  }
}

// -----

// ...and kernels without linac-gpu-map's metadata.
module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{is not a kernel of linac-gpu-map}}
    gpu.func @plain() kernel {
      gpu.return
    }
  }
}

// -----

// The TMA arguments of linac-lower-chunk-gpu (a flag, then a tensor map, per
// linac.tma record) must be there, name a tensor, and the map must be unused
// (the emulated copy reads the memref): a kernel lowered for the GPU reads
// it...
module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{reads the tensor map of 'q'; lower it with linac-lower-chunk-gpu{mma-emulation}}}
    gpu.func @hardware_tma(%q: memref<1x16x1x8xbf16>, %use: i32, %map: !llvm.ptr) kernel
        attributes {known_block_size = array<i32: 32, 1, 1>, linac.kernel = "k",
                    linac.tensors = ["q"], linac.shared_bytes = 0 : i64,
                    linac.tma = [{tensor = "q", box = array<i64: 8, 1, 16, 1>}],
                    linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 16, vector_width = 0, warps = 1, stages = 1, load = "tma">} {
      %p = llvm.ptrtoint %map : !llvm.ptr to i64
      gpu.return
    }
  }
}

// -----

// ...a record names no tensor...
module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{has a linac.tma record {box = array<i64: 8, 1, 16, 1>, tensor = "k"} that names no tensor of linac.tensors}}
    gpu.func @unknown_tensor(%q: memref<1x16x1x8xbf16>, %use: i32, %map: !llvm.ptr) kernel
        attributes {known_block_size = array<i32: 32, 1, 1>, linac.kernel = "k",
                    linac.tensors = ["q"], linac.shared_bytes = 0 : i64,
                    linac.tma = [{tensor = "k", box = array<i64: 8, 1, 16, 1>}],
                    linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 16, vector_width = 0, warps = 1, stages = 1, load = "tma">} {
      gpu.return
    }
  }
}

// -----

// ...or the arguments are missing.
module attributes {gpu.container_module} {
  gpu.module @m {
    // expected-error @+1 {{has 1 linac.tma records but only 1 arguments}}
    gpu.func @no_arguments(%q: memref<1x16x1x8xbf16>) kernel
        attributes {known_block_size = array<i32: 32, 1, 1>, linac.kernel = "k",
                    linac.tensors = ["q"], linac.shared_bytes = 0 : i64,
                    linac.tma = [{tensor = "q", box = array<i64: 8, 1, 16, 1>}],
                    linac.schedule = #linac.schedule<algorithm = chunked, chunk_size = 16, vector_width = 0, warps = 1, stages = 1, load = "tma">} {
      gpu.return
    }
  }
}
