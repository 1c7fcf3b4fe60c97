//===- Pipelines.cpp - named linac pass pipelines -------------------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#include "linac/Passes/Passes.h"

#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

using namespace mlir;

std::vector<std::pair<std::string, std::string>>
linac::cpuPipelineStages(const CpuPipelineOptions &options) {
  std::string selectOptions, cpuOption;
  if (!options.cpu.empty())
    cpuOption = "cpu=" + options.cpu;
  if (!options.target.empty())
    selectOptions = "target=" + options.target;
  if (!cpuOption.empty())
    selectOptions += (selectOptions.empty() ? "" : " ") + cpuOption;
  auto withOptions = [](const std::string &pass, const std::string &opts) {
    return opts.empty() ? pass : pass + "{" + opts + "}";
  };
  // Written as text so that `linac-opt --dump-pass-pipeline`, linacc's
  // --emit-after stages and this list read the same.
  return {
      {"linac-materialize-defaults", "linac-materialize-defaults"},
      {"canonicalize", "canonicalize"},
      {"linac-select", withOptions("linac-select", selectOptions)},
      {"linac-chunk", "linac-chunk"},
      {"linac-vectorize-cpu",
       options.outlineOps ? "linac-vectorize-cpu{outline-ops=true}"
                          : "linac-vectorize-cpu"},
      {"linac-cpu-abi", withOptions("linac-cpu-abi", cpuOption)},
      {"llvm",
       "canonicalize,cse,expand-strided-metadata,lower-affine,"
       "convert-scf-to-cf,convert-vector-to-llvm,convert-math-to-llvm,"
       "finalize-memref-to-llvm,convert-arith-to-llvm,convert-index-to-llvm,"
       "convert-cf-to-llvm,convert-func-to-llvm,convert-ub-to-llvm,"
       "reconcile-unrealized-casts,canonicalize"},
  };
}

void linac::buildCpuPipeline(OpPassManager &pm,
                             const CpuPipelineOptions &options) {
  std::string pipeline;
  for (auto &[name, passes] : cpuPipelineStages(options))
    pipeline += (pipeline.empty() ? "" : ",") + passes;
  // Every pass in the text is registered by registerLinacPasses and
  // registerAllPasses; a failure here is a build error, not an input error.
  if (failed(parsePassPipeline(pipeline, pm)))
    llvm::report_fatal_error("linac: malformed built-in CPU pipeline");
}

namespace {
struct CpuPipelineCLOptions
    : public PassPipelineOptions<CpuPipelineCLOptions> {
  Option<std::string> cpu{*this, "cpu",
                          llvm::cl::desc("native, x86-64-v3 or x86-64-v4")};
};
} // namespace

void linac::registerLinacPipelines() {
  PassPipelineRegistration<CpuPipelineCLOptions>(
      "linac-cpu-pipeline",
      "Lower linac.recurrence on tensors to the LLVM dialect for CPUs",
      [](OpPassManager &pm, const CpuPipelineCLOptions &options) {
        CpuPipelineOptions cpuOptions;
        cpuOptions.cpu = options.cpu;
        buildCpuPipeline(pm, cpuOptions);
      });
}
