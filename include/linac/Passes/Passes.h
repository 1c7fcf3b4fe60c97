//===- Passes.h - linac passes ----------------------------------*- C++ -*-===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_PASSES_PASSES_H
#define LINAC_PASSES_PASSES_H

#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include <string>
#include <utility>
#include <vector>

namespace linac {

#define GEN_PASS_DECL
#include "linac/Passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "linac/Passes/Passes.h.inc"

/// Options of the named pipelines.
struct CpuPipelineOptions {
  std::string cpu;    ///< empty: the module's linac.cpu, else native
  std::string target; ///< empty: the module's linac.target, else cpu
  bool outlineOps = false; ///< one never-inlined function per op (profiling)
};

/// The CPU pipeline as named stages (a stage name and its textual pass
/// pipeline), in order; the last, `llvm`, is the upstream lowering to the
/// LLVM dialect.
std::vector<std::pair<std::string, std::string>>
cpuPipelineStages(const CpuPipelineOptions &options);

/// The passes from linac.recurrence on tensors to the LLVM dialect for CPUs:
/// materialize-defaults, canonicalize, select, chunk, vectorize-cpu,
/// cpu-abi, then the upstream conversions to LLVM.
void buildCpuPipeline(mlir::OpPassManager &pm,
                      const CpuPipelineOptions &options);

/// Options of the CUDA pipeline.
struct CudaPipelineOptions {
  std::string target = "cuda:sm_90a"; ///< or cuda:sm_80
  /// gpu-module-to-binary's format: `isa` (PTX), `bin` (cubin) or
  /// `fatbin`.
  std::string format = "bin";
  /// The CUDA toolkit (ptxas, libdevice); empty: the one found when linac
  /// was configured (cudaToolkitPath()).
  std::string toolkit;
};

/// The CUDA toolkit linac was configured with ("" when there was none).
llvm::StringRef cudaToolkitPath();

/// The CUDA pipeline as named stages, like cpuPipelineStages: the front
/// (through linac-chunk), linac-gpu-map, linac-lower-chunk-gpu, `nvvm` (the
/// upstream lowering of the kernels to the NVVM dialect) and `binary`
/// (gpu-module-to-binary: PTX through ptxas to cubin).
std::vector<std::pair<std::string, std::string>>
cudaPipelineStages(const CudaPipelineOptions &options);

/// The passes from linac.recurrence on tensors to gpu.binary ops holding one
/// PTX or cubin object per kernel.
void buildCudaPipeline(mlir::OpPassManager &pm,
                       const CudaPipelineOptions &options);
/// The CUDA kernels' own code built for a CPU (`linacc --cuda-emulate`,
/// linac_compile's LINAC_COMPILE_CUDA_EMULATE), as one textual pipeline:
/// the CUDA pipeline for `target` through linac-lower-chunk-gpu with its
/// tensor cores emulated, linac-emulate-gpu (a block's threads serialized
/// between barriers), then the CPU pipeline's linac-cpu-abi and llvm stages
/// for `cpu` (native, x86-64-v3, x86-64-v4).
std::string cudaEmulationPipeline(const std::string &target,
                                  const std::string &cpu);

/// Registers `linac-cpu-pipeline` and `linac-cuda-pipeline` for linac-opt.
void registerLinacPipelines();

/// Whose fault a failed pipeline run is.
enum class PipelineFault {
  None,     ///< the run succeeded
  Input,    ///< a linac pass refused the input and said why at its location
  Internal, ///< a compiler bug: invalid IR after a pass, or an upstream
            ///< (non-linac) pass that failed on IR the linac passes produced
};

/// Runs `pm` on `op` and classifies a failure. The pass manager's verifier
/// runs after every pass; when it rejects the IR a pass produced, the pass
/// "fails" exactly as one that refused its input would, so the two are told
/// apart afterwards: the failing pass's operation is verified again (with
/// its diagnostics swallowed). `culprit`, when given, receives the failing
/// pass's argument (e.g. "linac-chunk") and, for an internal fault, what
/// went wrong.
PipelineFault runPipeline(mlir::PassManager &pm, mlir::Operation *op,
                          std::string *culprit = nullptr);

} // namespace linac

#endif // LINAC_PASSES_PASSES_H
