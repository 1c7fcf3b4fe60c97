//===- Passes.h - linac passes ----------------------------------*- C++ -*-===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_PASSES_PASSES_H
#define LINAC_PASSES_PASSES_H

#include "mlir/Pass/Pass.h"

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

/// Registers `linac-cpu-pipeline` for linac-opt.
void registerLinacPipelines();

} // namespace linac

#endif // LINAC_PASSES_PASSES_H
