//===- Compile.cpp - linac_compile: specs to loaded modules ---------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// The JIT entry of linac_jit.h. A call goes:
//
//   front end   TOML (lib/Spec) or linac IR (the MLIR parser), every problem
//               captured as "file:line:col: error: ..." text;
//   target      resolved to a CpuTarget (cpu, and cuda emulated on this
//               CPU) or a GpuTarget (cuda), refused early when this CPU
//               lacks the features it needs or, for cubins, when this build
//               has no CUDA toolkit;
//   cache       the key hashes the text and everything that decides the
//               code; a valid entry is loaded and returned;
//   compile     under the entry's lock: the CPU pipeline (buildCpuPipeline,
//               the one linacc uses), the CUDA pipeline to cubins and the
//               data-only artifact that carries them (runCudaStages,
//               emitCudaObject), or the CUDA kernels emulated on the CPU
//               (cudaEmulationPipeline); in-process object emission, ld.lld,
//               then seal and publish (ArtifactCache.h);
//   load        linac_module_load, the runtime's loader.
//
// Nothing is printed: MLIR's diagnostics go to a handler that formats them
// for the error message and the caller's callback.
//
//===----------------------------------------------------------------------===//

#include "linac/runtime/linac_jit.h"

#include "ArtifactCache.h"

#include "linac/Dialect/Linac/IR/LinacOps.h"
#include "linac/Passes/Passes.h"
#include "linac/Spec/Spec.h"
#include "linac/Spec/SpecToMLIR.h"
#include "linac/Target/Artifact.h"
#include "linac/Target/EmitCPU.h"
#include "linac/Target/EmitCUDA.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FileUtilities.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>

#include <unistd.h>

using namespace linac;
using namespace linac::jit;

namespace {

/// Longest kernel name prefix: NAME_decode must stay within the manifest's
/// 128-character names.
constexpr size_t kMaxPrefixLength = 100;

/// A failure on its way to the caller's linac_error.
struct Failure {
  int32_t code;
  std::string message;
};

void store(linac_error *err, int32_t code, llvm::StringRef message) {
  if (!err)
    return;
  err->code = code;
  size_t length = std::min(message.size(), sizeof(err->message) - 1);
  std::memcpy(err->message, message.data(), length);
  err->message[length] = '\0';
}

/// Everything the compiler said, in order, as text.
class DiagnosticLog {
public:
  explicit DiagnosticLog(const linac_compile_options &options)
      : options(options) {}

  void add(std::string text, bool isError) {
    if (options.diagnostic)
      options.diagnostic(options.diagnostic_user, text.c_str());
    (isError ? errors : others).push_back(std::move(text));
  }

  /// The errors (else every diagnostic) joined by newlines, or `fallback`
  /// when there were none.
  std::string summary(llvm::StringRef fallback) const {
    const std::vector<std::string> &shown = errors.empty() ? others : errors;
    if (shown.empty())
      return fallback.str();
    return llvm::join(shown, "\n");
  }

private:
  const linac_compile_options &options;
  std::vector<std::string> errors, others;
};

/// "file:line:col" of the first file location inside `loc`, else `fallback`.
std::string formatLocation(mlir::Location loc, llvm::StringRef fallback) {
  std::string text = fallback.str();
  loc->walk([&](mlir::Location inner) {
    if (auto file = llvm::dyn_cast<mlir::FileLineColLoc>(inner)) {
      text = (file.getFilename().getValue() + ":" +
              llvm::Twine(file.getLine()) + ":" + llvm::Twine(file.getColumn()))
                 .str();
      return mlir::WalkResult::interrupt();
    }
    return mlir::WalkResult::advance();
  });
  return text;
}

const char *severityName(mlir::DiagnosticSeverity severity) {
  switch (severity) {
  case mlir::DiagnosticSeverity::Error:
    return "error";
  case mlir::DiagnosticSeverity::Warning:
    return "warning";
  case mlir::DiagnosticSeverity::Note:
    return "note";
  case mlir::DiagnosticSeverity::Remark:
    return "remark";
  }
  return "error";
}

/// One diagnostic and its notes, one line each, in the format of the spec
/// front end and of compilers: "file:line:col: error: message".
std::string formatDiagnostic(mlir::Diagnostic &diagnostic,
                             llvm::StringRef sourceName) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << formatLocation(diagnostic.getLocation(), sourceName) << ": "
     << severityName(diagnostic.getSeverity()) << ": " << diagnostic.str();
  for (mlir::Diagnostic &note : diagnostic.getNotes())
    os << "\n"
       << formatLocation(note.getLocation(), sourceName)
       << ": note: " << note.str();
  return text;
}

enum class Format { Toml, Mlir };

/// LINAC_SOURCE_AUTO's rule (linac_jit.h).
Format detectFormat(llvm::StringRef text, llvm::StringRef sourceName) {
  if (sourceName.ends_with(".mlir"))
    return Format::Mlir;
  if (sourceName.ends_with(".toml"))
    return Format::Toml;
  llvm::StringRef rest = text;
  while (true) {
    rest = rest.ltrim();
    if (!rest.starts_with("//"))
      break;
    rest = rest.drop_until([](char c) { return c == '\n'; });
  }
  if (rest.empty())
    return Format::Toml;
  for (llvm::StringRef start : {"module", "func.func", "\"", "{-#"})
    if (rest.starts_with(start))
      return Format::Mlir;
  return Format::Toml;
}

bool isIdentifier(llvm::StringRef name) {
  if (name.empty() || llvm::isDigit(name.front()))
    return false;
  return llvm::all_of(name,
                      [](char c) { return llvm::isAlnum(c) || c == '_'; });
}

/// Process-wide set-up that is not thread-safe on its own: the textual
/// pipeline needs the passes registered, and the LLVM target registry is
/// filled on first use.
void initializeOnce() {
  static std::once_flag once;
  std::call_once(once, [] {
    mlir::registerAllPasses();
    linac::registerLinacPasses();
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

/// The flags linac_compile knows.
constexpr uint32_t kKnownFlags =
    LINAC_COMPILE_OUTLINE_OPS | LINAC_COMPILE_CUDA_EMULATE;

/// A context with every dialect the CPU and CUDA pipelines meet (and the GPU
/// to LLVM IR translations gpu-module-to-binary uses). Single-threaded: a
/// library call should not start a thread pool behind its caller's back
/// (who may be running one already, or be about to fork), and a module of
/// two functions gains little from one.
std::unique_ptr<mlir::MLIRContext> makeContext() {
  mlir::DialectRegistry registry;
  registerCpuCompilerDialects(registry);
  registerCudaCompilerDialects(registry);
  auto context = std::make_unique<mlir::MLIRContext>(
      registry, mlir::MLIRContext::Threading::DISABLED);
  // The message names the place in the input; a dump of the op would not
  // fit in a linac_error anyway.
  context->printOpOnDiagnostic(false);
  context->printStackTraceOnDiagnostic(false);
  return context;
}

/// The features `target` needs that this CPU lacks, or "" when it can run
/// its code (or cannot tell).
std::string missingFeatures(const CpuTarget &target) {
  if (target.manifestList == "-")
    return "";
  llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
  if (host.empty())
    return "";
  llvm::SmallVector<llvm::StringRef> needed, missing;
  llvm::StringRef(target.manifestList).split(needed, ',');
  for (llvm::StringRef feature : needed)
    if (!host.lookup(feature))
      missing.push_back(feature);
  return llvm::join(missing, ", ");
}

/// One call of linac_compile.
class Compilation {
public:
  /// `source` is copied: MLIR's lexer reads one byte past the end of its
  /// buffer (it stops at a NUL there), and the caller's text need not have
  /// one (the .mlir fuzzer found this).
  Compilation(llvm::StringRef source, const linac_compile_options &options)
      : ownedText(source.str()), text(ownedText), options(options),
        log(options) {}

  std::optional<Failure> run(linac_module *&module, linac_compile_info &info);

private:
  std::optional<Failure> readSource();
  std::optional<Failure> chooseTarget();
  std::optional<Failure> compileTo(llvm::StringRef library);
  std::optional<Failure> lower(mlir::ModuleOp module);
  std::optional<Failure> writeObject(mlir::ModuleOp module,
                                     llvm::StringRef object);
  mlir::OwningOpRef<mlir::ModuleOp> buildModule();

  Failure inputFailure(llvm::StringRef fallback) const {
    return {LINAC_ERROR_SPEC, log.summary(fallback)};
  }
  /// Routes MLIR diagnostics into the log for the life of the context.
  void captureDiagnostics() {
    handler = std::make_unique<mlir::ScopedDiagnosticHandler>(
        context.get(), [this](mlir::Diagnostic &diagnostic) {
          log.add(formatDiagnostic(diagnostic, sourceName),
                  diagnostic.getSeverity() == mlir::DiagnosticSeverity::Error);
          return mlir::success();
        });
  }

  std::string ownedText;
  llvm::StringRef text; ///< ownedText, NUL-terminated
  const linac_compile_options &options;
  DiagnosticLog log;
  std::string sourceName;
  Format format = Format::Toml;
  /// The prefix of kernel names (TOML) and of the cache entry.
  std::string prefix;
  std::optional<spec::AttentionSpec> spec;
  std::unique_ptr<mlir::MLIRContext> context;
  std::unique_ptr<mlir::ScopedDiagnosticHandler> handler;
  mlir::OwningOpRef<mlir::ModuleOp> irModule; ///< the parsed IR input
  /// What the source asks for when the options do not say.
  std::string sourceTarget = "cpu", sourceCpu = "native";
  /// The code's CPU: the target's, or the host's for emulated CUDA kernels.
  CpuTarget cpuTarget;
  /// The interfaces of the CUDA kernels (cubins), read during lower().
  std::vector<CudaKernel> cudaKernels;
  /// Set for cuda targets (emulated or not).
  std::optional<GpuTarget> gpuTarget;
  bool emulate = false;
};

std::optional<Failure> Compilation::readSource() {
  sourceName = options.source_name && *options.source_name ? options.source_name
                                                           : "<spec>";
  if (options.flags & ~kKnownFlags)
    return Failure{LINAC_ERROR_INVALID_ARGUMENT,
                   "unknown bits in options->flags: 0x" +
                       llvm::utohexstr(options.flags & ~kKnownFlags)};
  switch (options.format) {
  case LINAC_SOURCE_AUTO:
    format = detectFormat(text, sourceName);
    break;
  case LINAC_SOURCE_TOML:
    format = Format::Toml;
    break;
  case LINAC_SOURCE_MLIR:
    format = Format::Mlir;
    break;
  default:
    return Failure{LINAC_ERROR_INVALID_ARGUMENT,
                   "unknown source format " + std::to_string(options.format) +
                       " (expected a linac_source_format)"};
  }

  if (format == Format::Toml) {
    if (options.name) {
      prefix = options.name;
    } else {
      std::string stem = spec::symbolPrefix(sourceName);
      prefix = options.source_name && isIdentifier(stem) ? stem : "spec";
    }
    if (!isIdentifier(prefix) || prefix.size() > kMaxPrefixLength)
      return Failure{LINAC_ERROR_INVALID_ARGUMENT,
                     "kernel name prefix '" + prefix +
                         "' is not a C identifier of at most " +
                         std::to_string(kMaxPrefixLength) + " characters"};
    std::vector<spec::Diagnostic> diagnostics;
    spec = spec::parseSpec(text, sourceName, diagnostics);
    for (const spec::Diagnostic &diagnostic : diagnostics)
      log.add(diagnostic.str(), /*isError=*/true);
    if (!spec)
      return inputFailure(sourceName + ": error: invalid spec");
    sourceTarget = spec->target;
    sourceCpu = spec->cpu;
    return std::nullopt;
  }

  // linac IR: parsed now, because its module attributes may choose the
  // target, and a text that does not parse needs no cache lookup.
  if (options.name)
    return Failure{LINAC_ERROR_INVALID_ARGUMENT,
                   "options->name is for TOML specs; the functions of linac "
                   "IR name its kernels"};
  prefix = "ir";
  context = makeContext();
  captureDiagnostics();
  mlir::ParserConfig config(context.get());
  irModule = mlir::parseSourceString<mlir::ModuleOp>(text, config, sourceName);
  if (!irModule)
    return inputFailure(sourceName + ": error: cannot parse the IR");
  bool hasRecurrence = false;
  irModule->walk([&](RecurrenceOp) { hasRecurrence = true; });
  if (!hasRecurrence) {
    mlir::emitError(irModule->getLoc())
        << "input has no linac.recurrence to compile";
    return inputFailure("");
  }
  if (auto attr = (*irModule)->getAttrOfType<mlir::StringAttr>("linac.target"))
    sourceTarget = attr.str();
  if (auto attr = (*irModule)->getAttrOfType<mlir::StringAttr>("linac.cpu"))
    sourceCpu = attr.str();
  return std::nullopt;
}

std::optional<Failure> Compilation::chooseTarget() {
  llvm::StringRef target = options.target && *options.target
                               ? llvm::StringRef(options.target)
                               : llvm::StringRef(sourceTarget);
  emulate = options.flags & LINAC_COMPILE_CUDA_EMULATE;
  std::string cpu;
  if (target == "cpu") {
    cpu = sourceCpu;
  } else if (target.consume_front("cpu:")) {
    cpu = target.str();
  } else if (target == "cuda" || target.starts_with("cuda:")) {
    GpuTarget gpu;
    std::string error;
    if (!resolveGpuTarget(target, gpu, error))
      return Failure{LINAC_ERROR_INVALID_ARGUMENT,
                     "target '" + target.str() +
                         "': expected cuda:sm_90a or cuda:sm_80 (" + error +
                         ")"};
    gpuTarget = gpu;
    // Emulated kernels are CPU code for this machine.
    cpu = "native";
    if (!emulate && cudaToolkitPath().empty())
      return Failure{LINAC_ERROR_TARGET,
                     "target '" + target.str() +
                         "': this build of linac has no CUDA toolkit (ptxas, "
                         "libdevice), so it cannot assemble cubins; "
                         "reconfigure with -DCUDAToolkit_ROOT=DIR (or compile "
                         "with LINAC_COMPILE_CUDA_EMULATE to run the kernels' "
                         "code on the CPU)"};
  } else {
    return Failure{LINAC_ERROR_INVALID_ARGUMENT,
                   "unknown target '" + target.str() +
                       "' (expected cpu, cpu:native, cpu:x86-64-v3, "
                       "cpu:x86-64-v4, cuda:sm_90a or cuda:sm_80)"};
  }
  if (emulate && !gpuTarget)
    return Failure{LINAC_ERROR_INVALID_ARGUMENT,
                   "LINAC_COMPILE_CUDA_EMULATE needs a cuda target, not '" +
                       target.str() + "'"};
  if ((options.flags & LINAC_COMPILE_OUTLINE_OPS) && gpuTarget)
    return Failure{LINAC_ERROR_INVALID_ARGUMENT,
                   "LINAC_COMPILE_OUTLINE_OPS is for cpu targets"};
  std::string error;
  if (!resolveCpuTarget(cpu, cpuTarget, error))
    return Failure{LINAC_ERROR_INVALID_ARGUMENT, error};
  std::string missing = missingFeatures(cpuTarget);
  if (!missing.empty())
    return Failure{LINAC_ERROR_TARGET, "cpu '" + cpu + "' needs " + missing +
                                           ", which this CPU lacks"};
  return std::nullopt;
}

mlir::OwningOpRef<mlir::ModuleOp> Compilation::buildModule() {
  if (irModule)
    return std::move(irModule);
  context = makeContext();
  captureDiagnostics();
  return spec::buildModule(*spec, prefix, *context);
}

/// Lowers the module to what writeObject emits: the LLVM dialect for the
/// CPU (the kernels, or the CUDA kernels emulated), or gpu.binary ops and
/// the kernels' interfaces for cubins.
std::optional<Failure> Compilation::lower(mlir::ModuleOp module) {
  if (gpuTarget && !emulate) {
    CudaPipelineOptions cuda;
    cuda.target = gpuTarget->name;
    cuda.format = "bin";
    auto stages = cudaPipelineStages(cuda);
    bool inputError = false;
    if (failed(runCudaStages(module, stages, stages.size(), cudaKernels,
                             inputError)))
      return inputError ? inputFailure(sourceName +
                                       ": error: the compiler pipeline failed")
                        : Failure{LINAC_ERROR_INTERNAL,
                                  log.summary("the CUDA pipeline failed")};
    return std::nullopt;
  }
  mlir::PassManager pm(context.get());
  if (emulate) {
    std::string pipeline =
        cudaEmulationPipeline(gpuTarget->name, cpuTarget.name);
    if (failed(mlir::parsePassPipeline(pipeline, pm)))
      return Failure{LINAC_ERROR_INTERNAL,
                     "malformed built-in pipeline '" + pipeline + "'"};
  } else {
    CpuPipelineOptions pipeline;
    pipeline.cpu = cpuTarget.name;
    pipeline.target = "cpu";
    pipeline.outlineOps = options.flags & LINAC_COMPILE_OUTLINE_OPS;
    buildCpuPipeline(pm, pipeline);
  }
  // A linac pass that fails has said why, on the input: a structure the
  // backend does not support yet, a bad mode attribute. Invalid IR after a
  // pass, or an upstream lowering that fails, is the compiler's bug.
  std::string culprit;
  switch (runPipeline(pm, module, &culprit)) {
  case PipelineFault::None:
    break;
  case PipelineFault::Input:
    return inputFailure(sourceName + ": error: the compiler pipeline failed");
  case PipelineFault::Internal:
    return Failure{LINAC_ERROR_INTERNAL,
                   log.summary("internal error in " + culprit)};
  }
  if (failed(mlir::verify(module)))
    return Failure{LINAC_ERROR_INTERNAL,
                   log.summary("the pipeline produced invalid IR")};
  return std::nullopt;
}

std::optional<Failure> Compilation::writeObject(mlir::ModuleOp module,
                                                llvm::StringRef object) {
  std::error_code ec;
  llvm::raw_fd_ostream os(object, ec, llvm::sys::fs::CD_CreateNew);
  if (ec)
    return Failure{LINAC_ERROR_IO,
                   "cannot write '" + object.str() + "': " + ec.message()};
  std::string error;
  if (gpuTarget && !emulate) {
    auto cubins = getGpuObjects(module);
    if (failed(cubins) ||
        !emitCudaObject(*context, cudaKernels, *cubins, *gpuTarget, os, error))
      return Failure{LINAC_ERROR_INTERNAL,
                     log.summary(error.empty() ? "no cubins to package"
                                               : error)};
  } else if (!emitCpuCode(module, cpuTarget, CpuEmitKind::Object, os, error)) {
    return Failure{LINAC_ERROR_INTERNAL, error};
  }
  os.close();
  if (os.has_error())
    return Failure{LINAC_ERROR_IO, "cannot write '" + object.str() +
                                       "': " + os.error().message()};
  return std::nullopt;
}

std::optional<Failure> Compilation::compileTo(llvm::StringRef library) {
  mlir::OwningOpRef<mlir::ModuleOp> module = buildModule();
  if (!module)
    return inputFailure(sourceName + ": error: cannot build IR from the spec");
  if (std::optional<Failure> failure = lower(*module))
    return failure;
  std::string object = temporaryPath(library, ".o"), error;
  llvm::FileRemover removeObject(object);
  if (std::optional<Failure> failure = writeObject(*module, object))
    return failure;
  if (!linkSharedLibrary(object, library, error))
    return Failure{LINAC_ERROR_INTERNAL, error};
  return std::nullopt;
}

std::optional<Failure> Compilation::run(linac_module *&module,
                                        linac_compile_info &info) {
  if (std::optional<Failure> failure = readSource())
    return failure;
  if (std::optional<Failure> failure = chooseTarget())
    return failure;

  bool reusable = false;
  const std::string &identity = compilerIdentity(reusable);
  llvm::StringRef formatTag = format == Format::Toml ? "toml" : "mlir";
  std::string flags = llvm::utohexstr(options.flags);
  // What decides the code: the CPU's name and features for CPU code
  // (emulated CUDA kernels too), the chip and the toolkit's ptxas for
  // cubins.
  llvm::StringRef kind = !gpuTarget ? "cpu" : emulate ? "cuda-emulate" : "cuda";
  std::string chip = gpuTarget ? gpuTarget->chip : "";
  bool cubins = gpuTarget && !emulate;
  CacheKey key =
      hashKey({formatTag, prefix, kind, chip,
               cubins ? "" : cpuTarget.name, cubins ? "" : cpuTarget.llvmCpu,
               cubins ? "" : cpuTarget.llvmFeatures,
               cubins ? "" : cpuTarget.manifestList,
               cubins ? cudaToolkitPath() : "", flags, identity, text});
  std::string dir = resolveCacheDir(options.cache_dir ? options.cache_dir : "");
  if (std::error_code ec = llvm::sys::fs::create_directories(dir))
    return Failure{LINAC_ERROR_IO, "cannot create the cache directory '" + dir +
                                       "': " + ec.message()};
  std::string entry = entryPath(dir, prefix, key);
  size_t shown = std::min(entry.size(), sizeof(info.path) - 1);
  std::memcpy(info.path, entry.data(), shown);
  info.path[shown] = '\0';

  // A valid entry loads; an entry that is there but invalid, or that the
  // loader refuses, is removed and rebuilt. Never the other way round.
  std::string why;
  auto tryLoad = [&]() -> EntryState {
    EntryState state = inspectEntry(entry, key, why);
    if (state != EntryState::Valid)
      return state;
    linac_error loadError{};
    module = linac_module_load(entry.c_str(), &loadError);
    if (module)
      return EntryState::Valid;
    why = loadError.message;
    return EntryState::Invalid;
  };

  if (reusable && tryLoad() == EntryState::Valid)
    return std::nullopt;

  // One process per key compiles; the others wait here and find its entry.
  EntryLock lock;
  std::string error;
  if (!lock.acquire(entry, error))
    return Failure{LINAC_ERROR_IO, error};
  EntryState state = reusable ? tryLoad() : EntryState::Invalid;
  if (state == EntryState::Valid)
    return std::nullopt;
  if (state == EntryState::Invalid) {
    // Under the lock no writer is replacing it; readers that opened it keep
    // their copy.
    if (::unlink(entry.c_str()) == 0 && reusable) {
      info.rebuilt = 1;
      // Not an error of the input, but worth a line in a log: a damaged
      // cache usually means a crash or a full disk.
      log.add(entry + ": note: rebuilding the cache entry: " + why,
              /*isError=*/false);
    }
  }

  info.compiled = 1;
  std::string library = temporaryPath(entry, ".so");
  llvm::FileRemover removeLibrary(library);
  if (std::optional<Failure> failure = compileTo(library))
    return failure;
  if (!sealEntry(library, key, error) ||
      !publishEntry(library, entry, key, error))
    return Failure{LINAC_ERROR_IO, error};
  linac_error loadError{};
  module = linac_module_load(entry.c_str(), &loadError);
  if (!module)
    return Failure{loadError.code ? loadError.code : LINAC_ERROR_LOAD,
                   std::string("the artifact just built does not load: ") +
                       loadError.message};
  return std::nullopt;
}

} // namespace

extern "C" linac_module *linac_compile(const char *source, size_t length,
                                       const linac_compile_options *options,
                                       linac_compile_info *info,
                                       linac_error *err) {
  auto start = std::chrono::steady_clock::now();
  linac_compile_info scratch;
  linac_compile_info &out = info ? *info : scratch;
  std::memset(&out, 0, sizeof(out));
  if (!source) {
    store(err, LINAC_ERROR_INVALID_ARGUMENT, "the source text is NULL");
    return nullptr;
  }
  llvm::StringRef text(source, length);
  if (size_t nul = text.find('\0'); nul != llvm::StringRef::npos) {
    store(err, LINAC_ERROR_INVALID_ARGUMENT,
          "the source text has a NUL byte at offset " + std::to_string(nul));
    return nullptr;
  }
  initializeOnce();

  linac_compile_options defaults{};
  linac_module *module = nullptr;
  std::optional<Failure> failure;
  {
    Compilation compilation(text, options ? *options : defaults);
    failure = compilation.run(module, out);
  }
  out.milliseconds = std::chrono::duration<double, std::milli>(
                         std::chrono::steady_clock::now() - start)
                         .count();
  if (failure) {
    linac_module_unload(module);
    store(err, failure->code, failure->message);
    return nullptr;
  }
  if (err) {
    err->code = LINAC_OK;
    err->message[0] = '\0';
  }
  return module;
}
