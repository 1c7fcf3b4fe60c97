//===- Artifact.h - manifests, headers and CPU targets ----------*- C++ -*-===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// What an artifact says about its kernels: the manifest text the runtime
// validates tensors against (format in include/linac/runtime/linac.h) and the
// C header that `linacc --header` writes. Both are derived from the task
// functions that linac-chunk produces, so they cannot disagree with the code.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_TARGET_ARTIFACT_H
#define LINAC_TARGET_ARTIFACT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"

#include <string>
#include <vector>

namespace linac {

/// A CPU as the compiler names it (--cpu) resolved for LLVM and the manifest.
struct CpuTarget {
  std::string name;          ///< as given: native, x86-64-v3, x86-64-v4
  std::string llvmCpu;       ///< LLVM's CPU name (the host's for native)
  std::string llvmFeatures;  ///< LLVM feature string (+avx512f,...)
  std::string manifestList;  ///< comma list checked at load time, or "-"
  int64_t vectorWidth = 16;  ///< f32 lanes
};

/// Resolves --cpu; returns false (and sets `error`) for an unknown name.
bool resolveCpuTarget(llvm::StringRef name, CpuTarget &target,
                      std::string &error);

/// Whether tensor `name` of a kernel in `module` is stored head-major
/// (`linac.layout = "bhtd"`: [B, H, T, ...] for q, k, v, g, beta, a, b and
/// o). The IR keeps the [B, T, H, ...] order; the manifest lists the stored
/// order and the ABI swaps dims 1 and 2 when it builds the memrefs.
bool isHeadMajor(mlir::ModuleOp module, llvm::StringRef name);

/// One tensor of a kernel's interface, in ABI order.
struct KernelTensor {
  std::string name;
  bool output = false;
  bool optional = false;
  std::string dtype;             ///< f32, f16, bf16, i32, i64
  std::vector<std::string> dims; ///< numbers or symbols (B T H HV S N1)
};

/// The interface of one kernel: its task function's recorded metadata.
struct KernelInterface {
  std::string name, mode, variant;
  std::vector<KernelTensor> tensors;
  bool stateAlias = false; ///< ht may be the same tensor as h0 (decode)
  /// h0 and ht are a pool of P slots picked by state_indices.
  bool statePool = false;
  /// What linac-select chose (the task's linac.schedule): chunked,
  /// chunked_wy or recurrent, and the chunk length (0 when recurrent).
  /// Empty when the task carries no schedule.
  std::string algorithm;
  int64_t chunkSize = 0;
  /// The tensors stored head-major (layout = "bhtd": dims 1 and 2 of
  /// [B, T, H, ...] swapped), in signature order; empty for bthd.
  std::vector<std::string> headMajor;
};

/// Reads the interface of a task function written by linac-chunk.
mlir::FailureOr<KernelInterface>
getKernelInterface(mlir::FunctionOpInterface task);

/// All kernels of a module after linac-chunk, in module order.
std::vector<KernelInterface> getKernelInterfaces(mlir::ModuleOp module);

/// The `schedule` record, the `tensor` records, the `layout` record and the
/// `alias` record of a manifest, the part every target's manifest shares.
void writeManifestTensors(llvm::raw_ostream &os,
                          const KernelInterface &kernel);

/// The manifest text of one kernel (no trailing NUL).
std::string buildManifest(const KernelInterface &kernel,
                          const CpuTarget &target);

/// The C header declaring every kernel of an artifact with a checked
/// wrapper per kernel.
std::string buildHeader(llvm::ArrayRef<KernelInterface> kernels,
                        const CpuTarget &target, llvm::StringRef guard);

} // namespace linac

#endif // LINAC_TARGET_ARTIFACT_H
