//===- linacc.cpp - the linac compiler driver -----------------------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// linacc SPEC [options]
//
// Reads a spec (.toml) or linac IR (.mlir), runs the compiler pipeline and
// writes the requested stage. Exit status: 0 success, 1 an error in the input
// (reported with file:line:col), 2 an internal compiler error.
//
// The CPU pipeline runs to LLVM IR, assembly, objects, shared libraries,
// headers and manifests; the CUDA pipeline (--target=cuda:sm_90a|sm_80) to
// PTX, cubins, and objects or shared libraries that carry the cubins with
// their manifests.
//
//===----------------------------------------------------------------------===//

#include "linac/Dialect/Linac/IR/LinacDialect.h"
#include "linac/Dialect/Linac/IR/LinacOps.h"
#include "linac/Passes/GpuSchedule.h"
#include "linac/Passes/Passes.h"
#include "linac/Spec/Spec.h"
#include "linac/Target/Artifact.h"
#include "linac/Target/EmitCPU.h"
#include "linac/Target/EmitCUDA.h"
#include "linac/Spec/SpecToMLIR.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/InitAllPasses.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
namespace cl = llvm::cl;

namespace {

enum ExitCode { Success = 0, InputError = 1, InternalError = 2 };

enum class Emit { Mlir, Llvm, Asm, Obj, Shared, Ptx, Cubin, Header, Manifest };

cl::OptionCategory category("linacc options");

cl::opt<std::string> inputPath(cl::Positional, cl::Required,
                               cl::desc("<spec.toml | input.mlir>"),
                               cl::cat(category));
cl::opt<std::string> outputPath("o", cl::desc("Output file (default: stdout)"),
                                cl::value_desc("path"), cl::init("-"),
                                cl::cat(category));
cl::opt<std::string>
    target("target",
           cl::desc("cpu | cuda:sm_90a | cuda:sm_80 (default: the spec's "
                    "[target] default, else cpu)"),
           cl::init(""), cl::cat(category));
cl::opt<std::string> kernelName(
    "name",
    cl::desc("Prefix of the generated functions (default: the spec file's "
             "stem, e.g. gla.toml -> gla_prefill, gla_decode)"),
    cl::init(""), cl::cat(category));
cl::opt<Emit> emit(
    "emit", cl::desc("What to write"), cl::init(Emit::Mlir),
    cl::values(
        clEnumValN(Emit::Mlir, "mlir",
                   "IR after --emit-after's stage (default linac-select)"),
        clEnumValN(Emit::Llvm, "llvm", "optimized LLVM IR (CPU)"),
        clEnumValN(Emit::Asm, "asm", "assembly (CPU)"),
        clEnumValN(Emit::Obj, "obj",
                   "ELF object (CPU; the default when -o ends in .o)"),
        clEnumValN(Emit::Shared, "shared",
                   "shared library for liblinac_runtime (CPU; the default "
                   "when -o ends in .so)"),
        clEnumValN(Emit::Ptx, "ptx",
                   "PTX of every kernel (CUDA; the default when -o ends in "
                   ".ptx)"),
        clEnumValN(Emit::Cubin, "cubin",
                   "the cubin of one kernel (CUDA; the default when -o ends "
                   "in .cubin)"),
        clEnumValN(Emit::Header, "header",
                   "C header declaring the kernels with checked wrappers"),
        clEnumValN(Emit::Manifest, "manifest",
                   "the manifest of every kernel (what the runtime checks)")),
    cl::cat(category));
cl::opt<bool> explain(
    "explain",
    cl::desc("Print, per generated function, the structure, the chosen "
             "algorithm, chunk size and vector width, and estimated FLOPs "
             "and bytes per token and head, instead of the output"),
    cl::init(false), cl::cat(category));
cl::opt<std::string> emitAfter(
    "emit-after",
    cl::desc("Stop after this stage and write its IR: frontend, "
             "linac-materialize-defaults, canonicalize, linac-select, "
             "linac-chunk, then linac-vectorize-cpu, linac-cpu-abi, llvm "
             "(cpu) or linac-gpu-map, linac-lower-chunk-gpu, nvvm, binary "
             "(cuda)"),
    cl::init(""), cl::cat(category));
cl::opt<std::string> cpu("cpu",
                         cl::desc("native | x86-64-v3 | x86-64-v4 (default: "
                                  "the spec's, else native)"),
                         cl::init(""), cl::cat(category));
cl::opt<std::string> onlyKernel(
    "kernel",
    cl::desc("With --emit=ptx|cubin: only this kernel (e.g. gla_prefill)"),
    cl::init(""), cl::cat(category));
cl::opt<bool> cudaEmulate(
    "cuda-emulate",
    cl::desc("With a cuda target: build the CUDA kernels' code for this CPU "
             "instead (threads serialized between barriers, tensor-core "
             "operands rounded as on the GPU), as a CPU artifact for testing "
             "the GPU lowering without a GPU"),
    cl::init(false), cl::cat(category));
cl::opt<std::string> headerPath(
    "header", cl::desc("Also write the C header of the kernels to this file"),
    cl::value_desc("path"), cl::init(""), cl::cat(category));
cl::opt<std::string> testBreakIrAfter(
    "test-break-ir-after",
    cl::desc("Testing only: make the IR invalid after this stage, to check "
             "that a compiler bug is reported as one (exit 2)"),
    cl::init(""), cl::Hidden, cl::cat(category));

/// Stands in for a buggy pass in tests: it succeeds but leaves a block
/// without its terminator, which the pass manager's verifier rejects.
struct BreakIrPass
    : public PassWrapper<BreakIrPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(BreakIrPass)
  StringRef getArgument() const final { return "linac-test-break-ir"; }
  void runOnOperation() override {
    Operation *terminator = nullptr;
    getOperation()->walk([&](Operation *op) {
      if (op->hasTrait<OpTrait::IsTerminator>() &&
          op->getParentOp() != getOperation().getOperation()) {
        terminator = op;
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (terminator)
      terminator->erase();
  }
};

/// Adds the stages [begin, end) to `pm` (and the test pass after the stage
/// --test-break-ir-after names).
bool addStages(PassManager &pm,
               llvm::ArrayRef<std::pair<std::string, std::string>> stages,
               size_t begin, size_t end) {
  for (size_t i = begin; i < end; ++i) {
    if (failed(parsePassPipeline(stages[i].second, pm))) {
      llvm::errs() << "linacc: internal error: bad pipeline '"
                   << stages[i].second << "'\n";
      return false;
    }
    if (stages[i].first == testBreakIrAfter)
      pm.addPass(std::make_unique<BreakIrPass>());
  }
  return true;
}

/// Runs `pm`; on failure, the exit status for whose fault it is. A linac
/// pass that refuses the input has reported why at the input's location.
std::optional<int> runStages(PassManager &pm, ModuleOp module) {
  std::string culprit;
  switch (linac::runPipeline(pm, module, &culprit)) {
  case linac::PipelineFault::None:
    return std::nullopt;
  case linac::PipelineFault::Input:
    return InputError;
  case linac::PipelineFault::Internal:
    llvm::errs() << "linacc: internal error: " << culprit
                 << " (a compiler bug: please report it with the input)\n";
    return InternalError;
  }
  return InternalError;
}

const char *emitName(Emit kind) {
  switch (kind) {
  case Emit::Mlir:
    return "mlir";
  case Emit::Llvm:
    return "llvm";
  case Emit::Asm:
    return "asm";
  case Emit::Obj:
    return "obj";
  case Emit::Shared:
    return "shared";
  case Emit::Ptx:
    return "ptx";
  case Emit::Cubin:
    return "cubin";
  case Emit::Header:
    return "header";
  case Emit::Manifest:
    return "manifest";
  }
  return "?";
}

/// Specs are recognised by extension; anything else (including "-" for
/// stdin) is parsed as linac IR.
bool isSpecPath(llvm::StringRef path) { return path.ends_with(".toml"); }

/// Loads the input as a module; input errors are reported and give null.
OwningOpRef<ModuleOp> loadInput(MLIRContext &context, llvm::SourceMgr &sourceMgr,
                                std::string &specTarget) {
  if (isSpecPath(inputPath)) {
    std::vector<linac::spec::Diagnostic> diagnostics;
    std::optional<linac::spec::AttentionSpec> spec =
        linac::spec::parseSpecFile(inputPath, diagnostics);
    for (const linac::spec::Diagnostic &diagnostic : diagnostics)
      llvm::errs() << diagnostic.str() << "\n";
    if (!spec)
      return nullptr;
    specTarget = spec->target;
    std::string name = kernelName.empty()
                           ? linac::spec::symbolPrefix(inputPath)
                           : kernelName.getValue();
    return linac::spec::buildModule(*spec, name, context);
  }

  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> buffer =
      openInputFile(inputPath, &error);
  if (!buffer) {
    llvm::errs() << inputPath << ": error: " << error << "\n";
    return nullptr;
  }
  sourceMgr.AddNewSourceBuffer(std::move(buffer), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return nullptr;
  bool hasRecurrence = false;
  module->walk([&](linac::RecurrenceOp) { hasRecurrence = true; });
  if (!hasRecurrence) {
    emitError(module->getLoc()) << "input has no linac.recurrence to compile";
    return nullptr;
  }
  return module;
}

/// Bytes of one element of a tensor value's element type.
int64_t elementBytes(Value value) {
  return cast<RankedTensorType>(value.getType()).getElementTypeBitWidth() / 8;
}

/// `--explain`: what linac-select chose for `op` and what it will cost, per
/// token and value head (FLOPs from linac::spec::flopsPerToken, shared with
/// linac-run --bench).
/// Bytes count the inputs and the output once; decode also reads and writes
/// the f32 state for every step.
void explainRecurrence(linac::RecurrenceOp op) {
  auto func = op->getParentOfType<func::FuncOp>();
  auto schedule = op->getAttrOfType<linac::ScheduleAttr>("linac.schedule");
  const int64_t stateRows = op.getStateKeyDim();
  const int64_t keyDim = op.getQ().getType().getDimSize(3);
  const int64_t valueDim = op.getV().getType().getDimSize(3);
  const int64_t chunk = schedule ? schedule.getChunkSize() : 0;
  const linac::Algorithm algorithm =
      schedule ? schedule.getAlgorithm() : linac::Algorithm::Recurrent;

  using linac::spec::CostAlgorithm;
  using linac::spec::CostRankOne;
  const int64_t flops = linac::spec::flopsPerToken(
      algorithm == linac::Algorithm::Chunked     ? CostAlgorithm::Chunked
      : algorithm == linac::Algorithm::ChunkedWY ? CostAlgorithm::ChunkedWY
                                                 : CostAlgorithm::Recurrent,
      op.getRankOne() == linac::RankOneKind::Delta  ? CostRankOne::Delta
      : op.getRankOne() == linac::RankOneKind::Dplr ? CostRankOne::Dplr
                                                    : CostRankOne::None,
      chunk, stateRows, valueDim);

  // Per token and value head: q and k are shared by HV/H value heads, but
  // counting them once per value head keeps the estimate an upper bound.
  int64_t bytes = (2 * keyDim + valueDim) * elementBytes(op.getQ()) +
                  valueDim * elementBytes(op.getO());
  for (Value perToken : {op.getG(), op.getBeta(), op.getA(), op.getB()})
    if (perToken) {
      auto type = cast<RankedTensorType>(perToken.getType());
      bytes += (type.getRank() == 4 ? type.getDimSize(3) : 1) *
               elementBytes(perToken);
    }
  const bool decode = algorithm == linac::Algorithm::Recurrent;
  if (decode)
    bytes += 2 * stateRows * valueDim * 4;

  llvm::outs() << (func ? func.getSymName() : StringRef("<anonymous>"))
               << ":\n";
  llvm::outs() << "  structure:    decay(" << linac::stringifyDecayKind(op.getDecay())
               << ") rank_one(" << linac::stringifyRankOneKind(op.getRankOne())
               << ") output(" << linac::stringifyOutputForm(op.getOutputForm())
               << ") feature_map("
               << linac::stringifyFeatureMap(op.getFeatureMap())
               << ") normalizer("
               << linac::stringifyNormalizer(op.getNormalizer()) << ")\n";
  llvm::outs() << "  state:        " << stateRows << " x " << valueDim
               << " f32 per value head\n";
  llvm::outs() << "  algorithm:    " << linac::stringifyAlgorithm(algorithm)
               << "\n";
  llvm::outs() << "  chunk size:   " << chunk << "\n";
  llvm::outs() << "  vector width: "
               << (schedule ? schedule.getVectorWidth() : 0) << " f32 lanes\n";
  if (schedule && schedule.getWarps() == 0) {
    // A task owns one value tile of one value head of one sequence.
    const int64_t tile =
        schedule.getValueTile() > 0 ? schedule.getValueTile() : valueDim;
    llvm::outs() << "  value tile:   " << tile << " of " << valueDim
                 << " columns (" << valueDim / tile
                 << " task(s) per sequence and value head)\n";
  }
  if (schedule && schedule.getWarps() > 0)
    llvm::outs() << "  gpu:          value tile " << schedule.getValueTile()
                 << ", " << schedule.getWarps() << " warps per block, "
                 << schedule.getStages() << " pipeline stage(s), "
                 << linac::gpuPlannedSharedBytes(op, schedule)
                 << " bytes of shared memory"
                 << (schedule.getMma().empty()
                         ? std::string()
                         : ", mma " + schedule.getMma().str())
                 << (schedule.getLoad().empty()
                         ? std::string()
                         : ", " + schedule.getLoad().str() + " loads")
                 << "\n";
  llvm::outs() << "  scale:        " << op.getEffectiveScale() << "\n";
  llvm::outs() << "  per token and value head: ~" << flops << " FLOP, ~"
               << bytes << " bytes"
               << (decode ? " (including the state read and write)" : "")
               << ", " << llvm::format("%.1f", double(flops) / double(bytes))
               << " FLOP/byte\n";
}

/// Writes `path` through `write`; an error opening it is an input error.
int writeOutput(llvm::StringRef path,
                llvm::function_ref<bool(llvm::raw_pwrite_stream &)> write) {
  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> file = openOutputFile(path, &error);
  if (!file) {
    llvm::errs() << "linacc: error: " << error << "\n";
    return InputError;
  }
  if (!write(file->os()))
    return InternalError;
  file->keep();
  return Success;
}

/// Writes the object `writeObject` produces to `outputPath`, or, for a
/// shared library, to a temporary file that is then linked there. Shared by
/// the CPU and CUDA targets: both artifacts are an object plus a link.
int writeObjectOrShared(bool objectOnly, llvm::StringRef outputPath,
                        llvm::function_ref<int(llvm::StringRef)> writeObject) {
  if (objectOnly)
    return writeObject(outputPath);
  llvm::SmallString<128> object;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("linacc", "o", object)) {
    llvm::errs() << "linacc: error: cannot create a temporary file: "
                 << ec.message() << "\n";
    return InternalError;
  }
  llvm::FileRemover remover(object);
  if (int status = writeObject(object))
    return status;
  std::string error;
  if (!linac::linkSharedLibrary(object, outputPath, error)) {
    llvm::errs() << "linacc: internal error: " << error << "\n";
    return InternalError;
  }
  return Success;
}


/// The include guard of a generated header.
std::string headerGuard() {
  std::string guard = "LINAC_GENERATED_";
  for (char c : llvm::sys::path::stem(
           headerPath.empty() ? llvm::StringRef(outputPath)
                              : llvm::StringRef(headerPath)))
    guard.push_back(isalnum(static_cast<unsigned char>(c)) ? toupper(c) : '_');
  return guard + "_H";
}

/// --target=cuda:* --cuda-emulate: the CUDA pipeline through
/// linac-lower-chunk-gpu (tensor cores emulated), linac-emulate-gpu, then
/// the CPU back end from linac-cpu-abi, to a CPU object or shared library
/// (linac::cudaEmulationPipeline, which linac_compile runs too).
int emulateCuda(MLIRContext &context, ModuleOp module,
                const std::string &targetName) {
  if (emit != Emit::Obj && emit != Emit::Shared && emit != Emit::Mlir) {
    llvm::errs() << "linacc: error: --cuda-emulate writes --emit=obj, shared "
                    "or mlir\n";
    return InputError;
  }
  linac::CpuTarget host;
  std::string error;
  std::string hostCpu = cpu.empty() ? std::string("native") : cpu.getValue();
  if (!linac::resolveCpuTarget(hostCpu, host, error)) {
    llvm::errs() << "linacc: error: " << error << "\n";
    return InputError;
  }
  std::string pipeline = linac::cudaEmulationPipeline(targetName, hostCpu);
  PassManager pm(&context);
  if (failed(parsePassPipeline(pipeline, pm))) {
    llvm::errs() << "linacc: internal error: bad pipeline '" << pipeline
                 << "'\n";
    return InternalError;
  }
  if (std::optional<int> status = runStages(pm, module))
    return *status;
  if (emit == Emit::Mlir)
    return writeOutput(outputPath, [&](llvm::raw_pwrite_stream &os) {
      module->print(os);
      os << "\n";
      return true;
    });
  if (outputPath == "-") {
    llvm::errs() << "linacc: error: --emit=" << emitName(emit)
                 << " needs -o FILE\n";
    return InputError;
  }
  auto writeObject = [&](llvm::StringRef path) {
    return writeOutput(path, [&](llvm::raw_pwrite_stream &os) {
      if (!linac::emitCpuCode(module, host, linac::CpuEmitKind::Object, os,
                              error)) {
        llvm::errs() << "linacc: internal error: " << error << "\n";
        return false;
      }
      return true;
    });
  };
  return writeObjectOrShared(emit == Emit::Obj, outputPath, writeObject);
}

/// --target=cuda:*: the CUDA pipeline, to IR, PTX, cubin, an object or
/// shared library carrying the cubins and manifests, a header or the
/// manifests.
int compileCuda(MLIRContext &context, ModuleOp module,
                const std::string &targetName) {
  linac::GpuTarget gpu;
  std::string error;
  if (!linac::resolveGpuTarget(targetName, gpu, error)) {
    llvm::errs() << "linacc: error: " << error << "\n";
    return InputError;
  }
  if (!cpu.empty() && !cudaEmulate) {
    llvm::errs() << "linacc: error: --cpu applies to --target=cpu only\n";
    return InputError;
  }
  if (emit == Emit::Llvm || emit == Emit::Asm) {
    llvm::errs() << "linacc: error: --emit=" << emitName(emit)
                 << " is a CPU output; for " << targetName
                 << " use --emit=ptx or --emit=cubin\n";
    return InputError;
  }
  if (!onlyKernel.empty() && emit != Emit::Ptx && emit != Emit::Cubin) {
    llvm::errs() << "linacc: error: --kernel selects a kernel for "
                    "--emit=ptx|cubin only\n";
    return InputError;
  }
  const bool binary = emit == Emit::Ptx || emit == Emit::Cubin ||
                      emit == Emit::Obj || emit == Emit::Shared;
  const bool interfaceOnly = emit == Emit::Header || emit == Emit::Manifest;

  linac::CudaPipelineOptions options;
  options.target = gpu.name;
  options.format = emit == Emit::Ptx ? "isa" : "bin";
  auto stages = linac::cudaPipelineStages(options);
  if (cudaEmulate)
    return emulateCuda(context, module, gpu.name);
  std::string lastStage = !emitAfter.empty() ? emitAfter.getValue()
                          : binary           ? "binary"
                          : interfaceOnly    ? "linac-lower-chunk-gpu"
                                             : "linac-select";
  if (!headerPath.empty() && !binary && !interfaceOnly)
    lastStage = "binary"; // --header comes with an object.
  size_t stageCount = 0;
  if (lastStage != "frontend") {
    while (stageCount < stages.size() && stages[stageCount].first != lastStage)
      ++stageCount;
    if (stageCount == stages.size()) {
      llvm::errs() << "linacc: error: unknown stage '" << lastStage
                   << "' for --emit-after with " << targetName
                   << " (stages: frontend";
      for (auto &stage : stages)
        llvm::errs() << ", " << stage.first;
      llvm::errs() << ")\n";
      return InputError;
    }
    ++stageCount;
  }
  if (stageCount == stages.size() && linac::cudaToolkitPath().empty()) {
    llvm::errs() << "linacc: error: this linacc was built without a CUDA "
                    "toolkit (ptxas and libdevice), so it cannot assemble "
                    "kernels for "
                 << targetName
                 << "; reconfigure with -DCUDAToolkit_ROOT=DIR, or stop "
                    "earlier with --emit-after\n";
    return InputError;
  }

  // The interfaces are read after linac-lower-chunk-gpu, when each kernel's
  // shared memory is final and before the NVVM lowering drops the metadata.
  constexpr size_t kInterfaceStages = 6;
  std::vector<linac::CudaKernel> kernels;
  for (auto [begin, end] :
       {std::pair<size_t, size_t>{0, std::min(stageCount, kInterfaceStages)},
        std::pair<size_t, size_t>{kInterfaceStages, stageCount}}) {
    if (begin >= end)
      continue;
    PassManager pm(&context);
    if (!addStages(pm, stages, begin, end))
      return InternalError;
    // A linac pass that fails has said why on the input; a failure in the
    // upstream lowering or in ptxas is the compiler's fault.
    if (std::optional<int> status = runStages(pm, module))
      return *status;
    if (failed(verify(module))) {
      llvm::errs() << "linacc: internal error: the pipeline produced invalid "
                      "IR\n";
      return InternalError;
    }
    if (end == kInterfaceStages) {
      auto found = linac::getCudaKernels(module);
      if (failed(found))
        return InternalError;
      kernels = std::move(*found);
    }
  }

  if (explain) {
    module->walk([](linac::RecurrenceOp op) { explainRecurrence(op); });
    return Success;
  }

  std::string guard = headerGuard();
  auto writeHeader = [&](llvm::raw_pwrite_stream &os) {
    if (kernels.empty()) {
      llvm::errs() << "linacc: error: no kernels to declare (the header "
                      "needs the pipeline up to linac-lower-chunk-gpu)\n";
      return false;
    }
    os << linac::buildCudaHeader(kernels, gpu, guard);
    return true;
  };
  if (!headerPath.empty())
    if (int status = writeOutput(headerPath, writeHeader))
      return status;

  if (emit == Emit::Mlir)
    return writeOutput(outputPath, [&](llvm::raw_pwrite_stream &os) {
      module->print(os);
      os << "\n";
      return true;
    });
  if (emit == Emit::Header)
    return writeOutput(outputPath, writeHeader);
  if (emit == Emit::Manifest)
    return writeOutput(outputPath, [&](llvm::raw_pwrite_stream &os) {
      for (const linac::CudaKernel &kernel : kernels)
        os << linac::buildCudaManifest(kernel, gpu) << "\n";
      return true;
    });

  auto objects = linac::getGpuObjects(module);
  if (failed(objects))
    return InternalError;
  if (!onlyKernel.empty()) {
    llvm::erase_if(*objects,
                   [&](auto &entry) { return entry.first != onlyKernel; });
    if (objects->empty()) {
      llvm::errs() << "linacc: error: no kernel '" << onlyKernel << "'\n";
      return InputError;
    }
  }
  if (emit == Emit::Ptx)
    return writeOutput(outputPath, [&](llvm::raw_pwrite_stream &os) {
      // One kernel is a PTX module ptxas accepts as is; several are
      // separated by comment lines (use --kernel for one file per kernel).
      for (auto &[name, ptx] : *objects) {
        if (objects->size() > 1)
          os << "// ===== linac kernel " << name << " =====\n";
        os << ptx;
      }
      return true;
    });
  if (emit == Emit::Cubin) {
    if (objects->size() != 1) {
      llvm::errs() << "linacc: error: --emit=cubin writes one kernel, and "
                      "this input has "
                   << objects->size() << " (";
      llvm::interleaveComma(*objects, llvm::errs(),
                            [](auto &entry) { llvm::errs() << entry.first; });
      llvm::errs() << "); choose one with --kernel=NAME\n";
      return InputError;
    }
    if (outputPath == "-") {
      llvm::errs() << "linacc: error: --emit=cubin needs -o FILE\n";
      return InputError;
    }
    return writeOutput(outputPath, [&](llvm::raw_pwrite_stream &os) {
      os << objects->front().second;
      return true;
    });
  }

  // Obj / Shared: a host object of data symbols.
  if (outputPath == "-") {
    llvm::errs() << "linacc: error: --emit=" << emitName(emit)
                 << " needs -o FILE\n";
    return InputError;
  }
  auto writeObject = [&](llvm::StringRef path) {
    return writeOutput(path, [&](llvm::raw_pwrite_stream &os) {
      if (!linac::emitCudaObject(context, kernels, *objects, gpu, os, error)) {
        llvm::errs() << "linacc: internal error: " << error << "\n";
        return false;
      }
      return true;
    });
  };
  return writeObjectOrShared(emit == Emit::Obj, outputPath, writeObject);
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "linacc: the linac compiler driver\n\n"
      "Compiles an attention spec (.toml, see docs/spec.md) or linac IR "
      "(.mlir).\nExit status: 0 ok, 1 input error, 2 internal error.\n");

  // -o gla.o / -o gla.so choose the output kind when --emit is not given.
  if (!emit.getNumOccurrences()) {
    if (llvm::StringRef(outputPath).ends_with(".o"))
      emit = Emit::Obj;
    else if (llvm::StringRef(outputPath).ends_with(".so"))
      emit = Emit::Shared;
    else if (llvm::StringRef(outputPath).ends_with(".ptx"))
      emit = Emit::Ptx;
    else if (llvm::StringRef(outputPath).ends_with(".cubin"))
      emit = Emit::Cubin;
  }
  const bool nativeCode = emit == Emit::Llvm || emit == Emit::Asm ||
                          emit == Emit::Obj || emit == Emit::Shared;
  const bool interfaceOnly = emit == Emit::Header || emit == Emit::Manifest;
  if (!emitAfter.empty() && emit != Emit::Mlir) {
    llvm::errs() << "linacc: error: --emit-after writes IR; it cannot be "
                    "combined with --emit="
                 << emitName(emit) << "\n";
    return InputError;
  }

  DialectRegistry registry;
  linac::registerCpuCompilerDialects(registry);
  linac::registerCudaCompilerDialects(registry);
  registerAllPasses();
  linac::registerLinacPasses();
  MLIRContext context(registry);
  // A user reading "K = 24 must be a multiple of ..." at a spec line needs
  // no generic dump of the op (linac-opt keeps it for compiler work).
  context.printOpOnDiagnostic(false);

  // MLIR diagnostics print as file:line:col with the source line, like the
  // spec front end's.
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler diagnosticHandler(sourceMgr, &context);

  std::string specTarget = "cpu";
  OwningOpRef<ModuleOp> module = loadInput(context, sourceMgr, specTarget);
  if (!module)
    return InputError;

  std::string chosenTarget = target.empty() ? specTarget : target.getValue();
  if (chosenTarget != "cpu" && chosenTarget != "cuda:sm_90a" &&
      chosenTarget != "cuda:sm_80") {
    llvm::errs() << "linacc: error: unknown target '" << chosenTarget
                 << "' (expected cpu, cuda:sm_90a or cuda:sm_80)\n";
    return InputError;
  }
  if (llvm::StringRef(chosenTarget).starts_with("cuda:"))
    return compileCuda(context, *module, chosenTarget);
  std::string chosenCpu = cpu;
  if (chosenCpu.empty())
    if (auto attr = (*module)->getAttrOfType<StringAttr>("linac.cpu"))
      chosenCpu = attr.str();
  if (chosenCpu.empty())
    chosenCpu = "native";
  linac::CpuTarget cpuTarget;
  std::string error;
  if (!linac::resolveCpuTarget(chosenCpu, cpuTarget, error)) {
    llvm::errs() << "linacc: error: " << error << "\n";
    return InputError;
  }

  // How far to run: --emit-after's stage, else what the output needs.
  linac::CpuPipelineOptions options;
  options.cpu = cpu;
  options.target = target;
  auto stages = linac::cpuPipelineStages(options);
  std::string lastStage = !emitAfter.empty() ? emitAfter.getValue()
                          : nativeCode       ? "llvm"
                          : interfaceOnly    ? "linac-chunk"
                                             : "linac-select";
  if (!headerPath.empty() && lastStage != "llvm" && !interfaceOnly)
    lastStage = "llvm"; // --header comes with an object.
  size_t stageCount = 0;
  if (lastStage != "frontend") {
    while (stageCount < stages.size() && stages[stageCount].first != lastStage)
      ++stageCount;
    if (stageCount == stages.size()) {
      llvm::errs() << "linacc: error: unknown stage '" << lastStage
                   << "' for --emit-after (stages: frontend";
      for (auto &stage : stages)
        llvm::errs() << ", " << stage.first;
      llvm::errs() << ")\n";
      return InputError;
    }
    ++stageCount;
  }
  if (emit == Emit::Ptx || emit == Emit::Cubin) {
    llvm::errs() << "linacc: error: --emit=" << emitName(emit)
                 << " needs a cuda target (--target=cuda:sm_90a or "
                    "cuda:sm_80)\n";
    return InputError;
  }
  if (!onlyKernel.empty() || cudaEmulate) {
    llvm::errs() << "linacc: error: "
                 << (cudaEmulate ? "--cuda-emulate needs a cuda target"
                                 : "--kernel selects a kernel for "
                                   "--emit=ptx|cubin only")
                 << "\n";
    return InputError;
  }

  // Two halves: the kernel interfaces (header, manifest) are read from the
  // task functions after linac-chunk, before the lowering to LLVM erases
  // their attributes.
  constexpr size_t kInterfaceStages = 4; // ... linac-chunk
  std::vector<linac::KernelInterface> kernels;
  for (auto [begin, end] :
       {std::pair<size_t, size_t>{0, std::min(stageCount, kInterfaceStages)},
        std::pair<size_t, size_t>{kInterfaceStages, stageCount}}) {
    if (begin >= end)
      continue;
    PassManager pm(&context);
    if (!addStages(pm, stages, begin, end))
      return InternalError;
    // A linac pass that fails has reported why on the input (an unsupported
    // structure, a bad mode): that is an input error.
    if (std::optional<int> status = runStages(pm, *module))
      return *status;
    if (failed(verify(*module))) {
      llvm::errs() << "linacc: internal error: the pipeline produced invalid "
                      "IR\n";
      return InternalError;
    }
    if (end == kInterfaceStages)
      kernels = linac::getKernelInterfaces(*module);
  }

  if (explain) {
    module->walk([](linac::RecurrenceOp op) { explainRecurrence(op); });
    return Success;
  }

  auto writeFile = [&](llvm::StringRef path,
                       llvm::function_ref<bool(llvm::raw_pwrite_stream &)>
                           write) -> int {
    std::unique_ptr<llvm::ToolOutputFile> file = openOutputFile(path, &error);
    if (!file) {
      llvm::errs() << "linacc: error: " << error << "\n";
      return InputError;
    }
    if (!write(file->os()))
      return InternalError;
    file->keep();
    return Success;
  };
  std::string guard = "LINAC_GENERATED_";
  for (char c : llvm::sys::path::stem(
           headerPath.empty() ? llvm::StringRef(outputPath)
                              : llvm::StringRef(headerPath)))
    guard.push_back(isalnum(static_cast<unsigned char>(c)) ? toupper(c) : '_');
  guard += "_H";
  auto writeHeader = [&](llvm::raw_pwrite_stream &os) {
    if (kernels.empty()) {
      llvm::errs() << "linacc: error: no kernels to declare (the header "
                      "needs the pipeline up to linac-chunk)\n";
      return false;
    }
    os << linac::buildHeader(kernels, cpuTarget, guard);
    return true;
  };

  if (!headerPath.empty())
    if (int status = writeFile(headerPath, writeHeader))
      return status;

  switch (emit) {
  case Emit::Mlir:
    return writeFile(outputPath, [&](llvm::raw_pwrite_stream &os) {
      module->print(os);
      os << "\n";
      return true;
    });
  case Emit::Header:
    return writeFile(outputPath, writeHeader);
  case Emit::Manifest:
    return writeFile(outputPath, [&](llvm::raw_pwrite_stream &os) {
      for (const linac::KernelInterface &kernel : kernels)
        os << linac::buildManifest(kernel, cpuTarget) << "\n";
      return true;
    });
  case Emit::Llvm:
  case Emit::Asm:
  case Emit::Obj: {
    auto kind = emit == Emit::Llvm  ? linac::CpuEmitKind::LLVMIR
                : emit == Emit::Asm ? linac::CpuEmitKind::Assembly
                                    : linac::CpuEmitKind::Object;
    if (kind == linac::CpuEmitKind::Object && outputPath == "-") {
      llvm::errs() << "linacc: error: --emit=obj needs -o FILE\n";
      return InputError;
    }
    return writeFile(outputPath, [&](llvm::raw_pwrite_stream &os) {
      if (!linac::emitCpuCode(*module, cpuTarget, kind, os, error)) {
        llvm::errs() << "linacc: internal error: " << error << "\n";
        return false;
      }
      return true;
    });
  }
  case Emit::Shared: {
    if (outputPath == "-") {
      llvm::errs() << "linacc: error: --emit=shared needs -o FILE\n";
      return InputError;
    }
    llvm::SmallString<128> object;
    if (std::error_code ec =
            llvm::sys::fs::createTemporaryFile("linacc", "o", object)) {
      llvm::errs() << "linacc: error: cannot create a temporary file: "
                   << ec.message() << "\n";
      return InternalError;
    }
    llvm::FileRemover remover(object);
    if (int status = writeFile(object, [&](llvm::raw_pwrite_stream &os) {
          if (!linac::emitCpuCode(*module, cpuTarget,
                                  linac::CpuEmitKind::Object, os, error)) {
            llvm::errs() << "linacc: internal error: " << error << "\n";
            return false;
          }
          return true;
        }))
      return status;
    if (!linac::linkSharedLibrary(object, outputPath, error)) {
      llvm::errs() << "linacc: internal error: " << error << "\n";
      return InternalError;
    }
    return Success;
  }
  case Emit::Ptx:
  case Emit::Cubin:
    break;
  }
  return InternalError;
}
