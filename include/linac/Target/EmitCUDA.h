//===- EmitCUDA.h - CUDA kernels, manifests and artifacts -------*- C++ -*-===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// The end of the CUDA pipeline: what linacc writes for a CUDA target. A
// kernel's interface and launch configuration are read from its gpu.func
// (after linac-lower-chunk-gpu, when its shared memory is final); its PTX or
// cubin from the gpu.binary that gpu-module-to-binary leaves. An artifact is
// an ELF object or shared library of data only, three symbols per kernel:
//
//   const char NAME_manifest[];          the manifest (linac.h)
//   const unsigned char NAME_cubin[];    the cubin, 16-byte aligned
//   const uint64_t NAME_cubin_size;
//
// which liblinac_runtime loads (linac_module_load, or
// linac_cuda_kernel_create for an object linked into a program).
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_TARGET_EMITCUDA_H
#define LINAC_TARGET_EMITCUDA_H

#include "linac/Passes/GpuSchedule.h"
#include "linac/Target/Artifact.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"

#include <string>
#include <vector>

namespace linac {

/// One CUDA kernel: its interface and how to launch it.
struct CudaKernel {
  KernelInterface interface;
  int64_t threads = 0;     ///< threads per block
  int64_t sharedBytes = 0; ///< dynamic shared memory per block
  int64_t valueTiles = 1;  ///< blocks per (sequence, value head)
  /// The tensors whose presence the kernel takes as i32 flags, in order.
  std::vector<std::string> flags;
  /// A tensor the kernel loads through TMA (schedule load = "tma"): after
  /// the presence flags the kernel takes one i32 per such tensor (nonzero:
  /// its tensor map was encoded) and then one 128-byte CUtensorMap per
  /// tensor, whose box this is (elements, innermost dimension first).
  struct TmaTensor {
    std::string tensor;
    std::vector<int64_t> box;
  };
  std::vector<TmaTensor> tma;
};

/// The kernels of a module after linac-lower-chunk-gpu, in module order.
/// Fails (with a diagnostic) when a kernel lacks the metadata of
/// linac-gpu-map.
mlir::FailureOr<std::vector<CudaKernel>>
getCudaKernels(mlir::ModuleOp module);

/// Runs the first `count` of `stages` (cudaPipelineStages) on `module`. When
/// they include linac-lower-chunk-gpu, `kernels` receives the kernels'
/// interfaces, read right after it (when each kernel's shared memory is
/// final, before the NVVM lowering drops the metadata). On failure (with
/// diagnostics) `inputError` says whose it is: true when a linac pass
/// refused the input and said why, false for a compiler bug (the upstream
/// lowering, ptxas, invalid IR).
mlir::LogicalResult
runCudaStages(mlir::ModuleOp module,
              llvm::ArrayRef<std::pair<std::string, std::string>> stages,
              size_t count, std::vector<CudaKernel> &kernels,
              bool &inputError);

/// The manifest text of one CUDA kernel (no trailing NUL): the CPU format
/// with `target cuda <chip> -`, a `launch` record and a `tma` record per
/// tensor the kernel loads through TMA.
std::string buildCudaManifest(const CudaKernel &kernel,
                              const GpuTarget &target);

/// The C header of a CUDA artifact: the three symbols of each kernel, a
/// loader and a checked launcher per kernel.
std::string buildCudaHeader(llvm::ArrayRef<CudaKernel> kernels,
                            const GpuTarget &target, llvm::StringRef guard);

/// The payload of each gpu.binary (PTX text or cubin bytes) by kernel name
/// (the gpu.module `NAME_module` holds kernel NAME). Fails when a binary has
/// no single object.
mlir::FailureOr<std::vector<std::pair<std::string, std::string>>>
getGpuObjects(mlir::ModuleOp module);

/// Writes the data-only artifact (see above) as an ELF object for the host.
bool emitCudaObject(mlir::MLIRContext &context,
                    llvm::ArrayRef<CudaKernel> kernels,
                    llvm::ArrayRef<std::pair<std::string, std::string>> cubins,
                    const GpuTarget &target, llvm::raw_pwrite_stream &os,
                    std::string &error);

/// What a compiler driver's context needs for the CUDA pipeline on top of
/// registerCpuCompilerDialects: the GPU and NVVM translations to LLVM IR
/// that gpu-module-to-binary uses.
void registerCudaCompilerDialects(mlir::DialectRegistry &registry);

} // namespace linac

#endif // LINAC_TARGET_EMITCUDA_H
