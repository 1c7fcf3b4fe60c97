//===- Pipelines.cpp - named linac pass pipelines -------------------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#include "linac/Passes/Passes.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include <mutex>

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

llvm::StringRef linac::cudaToolkitPath() { return LINAC_CUDA_TOOLKIT_PATH; }

std::vector<std::pair<std::string, std::string>>
linac::cudaPipelineStages(const CudaPipelineOptions &options) {
  std::string target =
      options.target.empty() ? std::string("cuda:sm_90a") : options.target;
  auto withOptions = [](const std::string &pass, const std::string &opts) {
    return opts.empty() ? pass : pass + "{" + opts + "}";
  };
  std::string chip = target.substr(target.find(':') + 1);
  std::string toolkit =
      options.toolkit.empty() ? cudaToolkitPath().str() : options.toolkit;
  // PTX 8.0 is the oldest ISA that knows sm_90a, and CUDA 12 and 13 both
  // assemble it; LLVM's default (+ptx60) cannot describe either chip.
  return {
      {"linac-materialize-defaults", "linac-materialize-defaults"},
      {"canonicalize", "canonicalize"},
      {"linac-select", withOptions("linac-select", "target=" + target)},
      {"linac-chunk", "linac-chunk"},
      {"linac-gpu-map", withOptions("linac-gpu-map", "target=" + target)},
      {"linac-lower-chunk-gpu", "linac-lower-chunk-gpu"},
      {"nvvm",
       "canonicalize,cse,expand-strided-metadata,lower-affine,"
       "convert-scf-to-cf,nvvm-attach-target{chip=" +
           chip +
           " features=+ptx80 O=3},"
           "gpu.module(convert-nvgpu-to-nvvm,convert-gpu-to-nvvm,"
           // Tensor maps as grid-constant parameters (TMA loads).
           "linac-gpu-abi,"
           // nvvm.wgmma.mma_async is inline PTX, which this pass writes.
           "convert-nvvm-to-llvm,canonicalize,cse,reconcile-unrealized-casts)"},
      {"binary", "gpu-module-to-binary{format=" + options.format +
                     " toolkit=" + toolkit + "}"},
  };
}

void linac::buildCudaPipeline(OpPassManager &pm,
                              const CudaPipelineOptions &options) {
  std::string pipeline;
  for (auto &[name, passes] : cudaPipelineStages(options))
    pipeline += (pipeline.empty() ? "" : ",") + passes;
  if (failed(parsePassPipeline(pipeline, pm)))
    llvm::report_fatal_error("linac: malformed built-in CUDA pipeline");
}

std::string linac::cudaEmulationPipeline(const std::string &target,
                                         const std::string &cpu) {
  CudaPipelineOptions cudaOptions;
  cudaOptions.target = target;
  std::string pipeline;
  for (auto &[name, passes] : cudaPipelineStages(cudaOptions)) {
    if (name == "nvvm")
      break;
    pipeline += (pipeline.empty() ? "" : ",") +
                (name == "linac-lower-chunk-gpu"
                     ? std::string("linac-lower-chunk-gpu{mma-emulation}")
                     : passes);
  }
  pipeline += ",linac-emulate-gpu";
  CpuPipelineOptions cpuOptions;
  cpuOptions.cpu = cpu;
  for (auto &[name, passes] : cpuPipelineStages(cpuOptions))
    if (name == "linac-cpu-abi" || name == "llvm")
      pipeline += "," + passes;
  return pipeline;
}

namespace {
struct CudaPipelineCLOptions
    : public PassPipelineOptions<CudaPipelineCLOptions> {
  Option<std::string> target{*this, "target",
                             llvm::cl::desc("cuda:sm_90a or cuda:sm_80"),
                             llvm::cl::init("cuda:sm_90a")};
  Option<std::string> format{
      *this, "format",
      llvm::cl::desc("isa (PTX), bin (cubin) or fatbin"),
      llvm::cl::init("bin")};
  Option<std::string> toolkit{
      *this, "toolkit",
      llvm::cl::desc("CUDA toolkit directory (default: the configured one)"),
      llvm::cl::init("")};
};

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
  PassPipelineRegistration<CudaPipelineCLOptions>(
      "linac-cuda-pipeline",
      "Lower linac.recurrence on tensors to gpu.binary ops (PTX or cubin) "
      "for NVIDIA GPUs",
      [](OpPassManager &pm, const CudaPipelineCLOptions &options) {
        CudaPipelineOptions cudaOptions;
        cudaOptions.target = options.target;
        cudaOptions.format = options.format;
        cudaOptions.toolkit = options.toolkit;
        buildCudaPipeline(pm, cudaOptions);
      });
}

namespace {
/// Remembers the first pass that failed and the operation it ran on. Passes
/// on sibling functions may run on several threads, hence the lock.
struct FailureWitness : public PassInstrumentation {
  void runAfterPassFailed(Pass *pass, Operation *op) override {
    std::lock_guard<std::mutex> lock(mutex);
    if (!failedPass) {
      failedPass = pass;
      failedOp = op;
    }
  }
  std::mutex mutex;
  Pass *failedPass = nullptr;
  Operation *failedOp = nullptr;
};
} // namespace

linac::PipelineFault linac::runPipeline(PassManager &pm, Operation *op,
                                        std::string *culprit) {
  auto owned = std::make_unique<FailureWitness>();
  FailureWitness *witness = owned.get();
  pm.addInstrumentation(std::move(owned));
  if (succeeded(pm.run(op)))
    return PipelineFault::None;
  auto say = [&](std::string text) {
    if (culprit)
      *culprit = std::move(text);
  };
  if (!witness->failedPass) {
    // The pass manager failed before any pass ran (e.g. the operation is
    // not the kind the pipeline anchors on).
    say("the pass manager");
    return PipelineFault::Internal;
  }
  std::string pass = witness->failedPass->getArgument().str();
  if (pass.empty())
    pass = witness->failedPass->getName().str();
  // A pass that refused its input leaves IR that verifies: the linac passes
  // check before they rewrite. Only the verifier's own failure, or a pass
  // that broke the IR and then failed, leaves it invalid.
  bool valid;
  {
    ScopedDiagnosticHandler silence(op->getContext(),
                                    [](Diagnostic &) { return success(); });
    valid = succeeded(verify(witness->failedOp));
  }
  if (!valid) {
    say(pass + ": the IR does not verify after it");
    return PipelineFault::Internal;
  }
  say(pass);
  return llvm::StringRef(pass).starts_with("linac-") ? PipelineFault::Input
                                                     : PipelineFault::Internal;
}
