//===- Fuzz_pipeline.cpp - libFuzzer target for the whole compiler --------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// The spec and .mlir fuzzers stop at the front end; this one feeds the middle
// and back end (linac-chunk, linac-vectorize-cpu, linac-cpu-abi, the lowering
// to the LLVM dialect, linac-gpu-map, linac-lower-chunk-gpu and the lowering
// to NVVM) with odd but well-formed inputs. Random bytes almost never make a
// spec that parses, so the input is structured: each byte picks one field of
// a spec from a small table of values chosen for what they exercise (head
// dimensions that are not multiples of a vector width, GVA, dynamic heads,
// every variant, feature map and target), the harness writes the TOML text
// and compiles it the way linacc does:
//
//   parseSpec -> buildModule -> [IR overrides] -> the stages of
//   cpuPipelineStages through `llvm`, or of cudaPipelineStages through
//   `nvvm` (gpu-module-to-binary runs ptxas, an external tool: never here),
//   or the --cuda-emulate pipeline (CUDA kernels with emulated tensor
//   cores, linac-emulate-gpu, the CPU back end), with the kernel
//   interfaces, manifests and headers read between the halves as linacc
//   does. No LLVM IR translation or code generation: it would cost far more
//   than the passes it follows and is not linac's code.
//
// The bytes after the spec fields set what a hand-written .mlir input may carry
// and no spec can (linac.chunk_size, linac.value_tile and linac.mode on the
// op, a whole linac.schedule, static batch and time extents), since linacc
// accepts such IR as input too.
//
// The contract checked for every input:
//   - it compiles, or some pass or the front end fails with at least one
//     error diagnostic, each with a message and a known location;
//   - only linac's own passes (and the front end) may reject an input: a
//     failure in an upstream lowering means a linac pass produced IR it
//     should have refused;
//   - the IR verifies after every pass that succeeded (the pass manager's
//     own verifier is off, so that such a failure is told apart from a
//     pass rejecting its input);
//   - after linac-chunk there is one kernel interface per mode, and every
//     manifest the artifact would carry parses with the runtime's parser;
//   - the IR after the first half (what linacc --emit-after writes) prints
//     to text that parses and verifies again;
//   - the end result is entirely in the LLVM (and, inside gpu.module, NVVM)
//     dialect.
// A violation prints the spec, the overrides and the diagnostics, then
// aborts so that libFuzzer keeps the input.
//
// Byte layout (a missing byte reads as 0, which picks each table's first,
// ordinary entry):
//    0 variant            1 head_dim_k        2 head_dim_v
//    3 num_heads/HV       4 dtype             5 output_dtype
//    6 feature_map        7 normalize/eps     8 chunk_size
//    9 varlen            10 layout           11 [modes]
//   12 initial/final/pool 13 target          14 scale
//   15 decay (lightning) 16 linac.chunk_size 17 linac.value_tile
//   18 linac.mode        19 schedule on?     20-25 schedule fields
//   26 static B and T     27 schedule's mma       28 schedule's load
// New entries go at the end of a table, and the committed corpus holds table
// indices (each byte below its table's size), so that a committed input
// keeps its meaning when a table grows.
//
//===----------------------------------------------------------------------===//

#include "linac/Dialect/Linac/IR/LinacOps.h"
#include "linac/Passes/GpuSchedule.h"
#include "linac/Passes/Passes.h"
#include "linac/Spec/Spec.h"
#include "linac/Spec/SpecToMLIR.h"
#include "linac/Target/Artifact.h"
#include "linac/Target/EmitCPU.h"
#include "linac/Target/EmitCUDA.h"
#include "linac/runtime/Manifest.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassInstrumentation.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

using namespace mlir;

namespace {

/// Reads one table index per byte; past the end every index is 0.
class Fields {
public:
  Fields(const uint8_t *data, size_t size) : data(data), size(size) {}

  template <typename T, size_t N> const T &pick(const T (&table)[N]) {
    uint8_t byte = offset < size ? data[offset] : 0;
    ++offset;
    return table[byte % N];
  }

private:
  const uint8_t *data;
  size_t size;
  size_t offset = 0;
};

// The tables. An empty string leaves the key out.
const char *const kVariants[] = {
    "gla",        "linear_attn", "retention",        "lightning",
    "simple_gla", "rwkv6",       "delta_rule",       "gated_delta_rule",
    "kda",        "dplr"};
// Multiples of 16 and 8, odd sizes, one past a tile (130, 272), the
// range's ends and one past them.
const int64_t kHeadDims[] = {128, 64, 16,  1,    3,  8,  24,
                             96,  130, 256, 272, 32, 0,  1025};
struct Heads {
  int64_t h, hv; // 0: key absent
};
const Heads kHeads[] = {{2, 0},  {0, 0},  {1, 0}, {4, 0},  {1, 2}, {2, 4},
                        {16, 32}, {2, 3}, {4, 2}, {0, 2},  {3, 6}, {1, 1}};
const char *const kDtypes[] = {"", "f32", "f16", "bf16", "fp8"};
const char *const kOutputDtypes[] = {"", "f32", "f16", "bf16"};
const char *const kFeatureMaps[] = {"",     "identity", "elu_plus_one", "relu",
                                    "silu", "l2norm",   "taylor2"};
struct Normalize {
  const char *value;
  const char *eps; // "": absent
};
const Normalize kNormalize[] = {{"", ""},       {"none", ""},
                                {"sum", ""},    {"sum", "1e-3"},
                                {"sum", "0.0"}, {"none", "1e-6"}};
// Powers of two in range, then odd, out-of-range and non-power-of-two ones.
const int64_t kChunkSizes[] = {0, 16, 32, 64, 128, 256, 1, 3, 24, 48, 100, 512};
const char *const kBools[] = {"", "false", "true"};
const char *const kLayouts[] = {"", "bthd", "bhtd"};
struct Modes {
  const char *prefill, *decode;
};
const Modes kModes[] = {{"", ""},          {"true", "false"}, {"false", "true"},
                        {"true", "true"},  {"false", "false"}};
struct States {
  const char *initial, *final;
  const char *pool = ""; ///< state_indices
};
const States kStates[] = {{"", ""},           {"false", ""},
                          {"", "false"},      {"false", "false"},
                          {"", "", "true"},   {"", "false", "true"},
                          {"", "", "false"}};
struct Target {
  const char *target, *cpu;
  /// linacc --cuda-emulate: the CUDA kernels rebuilt for `cpu`.
  bool emulate = false;
};
// `native` is left out: what it means depends on the machine, and a
// reproducer must reproduce anywhere.
const Target kTargets[] = {{"cpu", "x86-64-v4"},
                           {"cpu", "x86-64-v3"},
                           {"cuda:sm_80", "x86-64-v4"},
                           {"cuda:sm_90a", "x86-64-v4"},
                           {"cuda:sm_70", "x86-64-v4"},
                           {"cpu", "x86-64-v2"},
                           {"cuda:sm_80", "x86-64-v3", true},
                           {"cuda:sm_90a", "x86-64-v4", true}};
const char *const kScales[] = {"", "1.0", "0.125", "-0.5", "1e-30", "3e38",
                               "0.0"};
enum class Decay { Auto, Absent, WrongCount, One, Tiny, Zero, Always };
const Decay kDecays[] = {Decay::Auto, Decay::Absent, Decay::WrongCount,
                         Decay::One,  Decay::Tiny,   Decay::Zero,
                         Decay::Always};

// IR overrides. INT64_MIN marks "leave the attribute alone"; other values
// that depend on V are resolved against it (kV*).
constexpr int64_t kNone = INT64_MIN;
constexpr int64_t kV = INT64_MIN + 1, kVPlus1 = INT64_MIN + 2,
                  kTwoV = INT64_MIN + 3, kHalfV = INT64_MIN + 4,
                  kVPlus8 = INT64_MIN + 5;
const int64_t kChunkOverrides[] = {kNone, 0,  -16, 1,    8,    16,
                                   24,    48, 80,  512,  4096, int64_t(1) << 40};
const int64_t kTileOverrides[] = {kNone, 0,  -8, 1,  3,  8,     16,      24,
                                  32,    48, 64, kV, kVPlus1, kTwoV, kHalfV};
const char *const kModeOverrides[] = {"", "swap", "bogus"};
const bool kScheduleOn[] = {false, false, false, true};
const linac::Algorithm kAlgorithms[] = {linac::Algorithm::Chunked,
                                        linac::Algorithm::ChunkedWY,
                                        linac::Algorithm::Recurrent};
const int64_t kScheduleChunks[] = {64, 16, 32, 0, 24, 8, -16, 128, 256, 512};
const int64_t kWidths[] = {16, 8, 0, 1, 3, 4, 32, -8};
const int64_t kScheduleTiles[] = {0, kV, 8, 16, 32, 64, 3, -8, kVPlus8};
const int64_t kWarps[] = {0, 4, 1, 2, 8, 32, 33, -1};
const int64_t kStages[] = {0, 1, 2, 3, -1};
/// Static batch and time extents (0: left dynamic), which a spec never
/// gives but IR may: constant trip counts and slice sizes let the folders
/// see partial and empty chunks at compile time.
struct Extents {
  int64_t batch, time;
};
// The schedule's tensor-core instruction: absent, wgmma (sm_90a, 16-bit,
// prefill only), and names no pass knows.
const char *const kMmas[] = {"", "wgmma", "mma_sync", "bogus"};
// How the schedule loads chunk tiles: absent (threads), tma (sm_90a only;
// its staging buffer is part of the shared-memory plan), and a name no
// pass knows.
const char *const kLoads[] = {"", "tma", "cp.async"};
const Extents kExtents[] = {{0, 0},  {0, 1},  {0, 5}, {0, 64}, {0, 65},
                            {1, 0},  {2, 3},  {0, 200}, {1, 1}, {3, 16}};

int64_t resolve(int64_t value, int64_t v) {
  switch (value) {
  case kV:
    return v;
  case kVPlus1:
    return v + 1;
  case kTwoV:
    return 2 * v;
  case kHalfV:
    return v / 2;
  case kVPlus8:
    return v + 8;
  default:
    return value;
  }
}

/// What one input decodes to.
struct Input {
  std::string toml;
  bool emulate = false;
  int64_t chunkOverride = kNone, tileOverride = kNone;
  std::string modeOverride;
  bool schedule = false;
  linac::Algorithm algorithm = linac::Algorithm::Chunked;
  int64_t chunk = 0, width = 0, tile = 0, warps = 0, stages = 0;
  Extents extents = {0, 0};
  std::string mma, load;

  std::string describe() const {
    std::string text = toml;
    llvm::raw_string_ostream os(text);
    if (emulate)
      os << "# linacc --cuda-emulate\n";
    os << "# IR overrides:";
    if (chunkOverride != kNone)
      os << " linac.chunk_size=" << chunkOverride;
    if (tileOverride != kNone)
      os << " linac.value_tile=" << tileOverride;
    if (!modeOverride.empty())
      os << " linac.mode=" << modeOverride;
    if (schedule)
      os << " linac.schedule=<" << linac::stringifyAlgorithm(algorithm) << ", "
         << chunk << ", " << width << ", " << tile << ", " << warps << ", "
         << stages << (mma.empty() ? "" : ", " + mma)
         << (load.empty() ? "" : ", load " + load) << ">";
    if (extents.batch)
      os << " B=" << extents.batch;
    if (extents.time)
      os << " T=" << extents.time;
    os << "\n";
    return text;
  }
};

Input decode(const uint8_t *data, size_t size) {
  Fields f(data, size);
  Input in;
  std::string variant = f.pick(kVariants);
  int64_t k = f.pick(kHeadDims), v = f.pick(kHeadDims);
  Heads heads = f.pick(kHeads);
  std::string dtype = f.pick(kDtypes), outputDtype = f.pick(kOutputDtypes);
  std::string featureMap = f.pick(kFeatureMaps);
  Normalize normalize = f.pick(kNormalize);
  int64_t chunkSize = f.pick(kChunkSizes);
  std::string varlen = f.pick(kBools), layout = f.pick(kLayouts);
  Modes modes = f.pick(kModes);
  States states = f.pick(kStates);
  Target target = f.pick(kTargets);
  std::string scale = f.pick(kScales);
  Decay decay = f.pick(kDecays);

  std::string toml;
  llvm::raw_string_ostream os(toml);
  auto quoted = [&](const char *key, const std::string &value) {
    if (!value.empty())
      os << key << " = \"" << value << "\"\n";
  };
  auto plain = [&](const char *key, const std::string &value) {
    if (!value.empty())
      os << key << " = " << value << "\n";
  };
  os << "[attention]\n";
  quoted("variant", variant);
  os << "head_dim_k = " << k << "\nhead_dim_v = " << v << "\n";
  if (heads.h)
    os << "num_heads = " << heads.h << "\n";
  if (heads.hv)
    os << "num_value_heads = " << heads.hv << "\n";
  quoted("dtype", dtype);
  quoted("output_dtype", outputDtype);
  quoted("feature_map", featureMap);
  quoted("normalize", normalize.value);
  plain("eps", normalize.eps);
  if (chunkSize)
    os << "chunk_size = " << chunkSize << "\n";
  plain("varlen", varlen);
  quoted("layout", layout);
  plain("initial_state", states.initial);
  plain("final_state", states.final);
  plain("state_indices", states.pool);
  plain("scale", scale);
  // Lightning needs one decay per value head; the other variants reject the
  // key, which `Always` checks.
  int64_t hv = heads.hv ? heads.hv : heads.h;
  if ((variant == "lightning" && decay != Decay::Absent) ||
      decay == Decay::Always) {
    int64_t count = hv > 0 ? hv : 2;
    if (decay == Decay::WrongCount)
      ++count;
    os << "decay = [";
    for (int64_t i = 0; i < count; ++i) {
      os << (i ? ", " : "");
      if (i == 0 && decay == Decay::One)
        os << "1.0";
      else if (i == 0 && decay == Decay::Tiny)
        os << "1e-30";
      else if (i == 0 && decay == Decay::Zero)
        os << "0.0";
      else
        os << (0.9 + 0.01 * double(i % 10));
    }
    os << "]\n";
  }
  if (*modes.prefill || *modes.decode) {
    os << "\n[modes]\n";
    plain("prefill", modes.prefill);
    plain("decode", modes.decode);
  }
  os << "\n[target]\ndefault = \"" << target.target << "\"\ncpu = \""
     << target.cpu << "\"\n";
  os.flush();
  in.toml = toml;
  in.emulate = target.emulate;

  in.chunkOverride = f.pick(kChunkOverrides);
  in.tileOverride = resolve(f.pick(kTileOverrides), v);
  in.modeOverride = f.pick(kModeOverrides);
  // The schedule's fields are read whether it is on or not, so that the
  // bytes after them always mean the same field.
  in.schedule = f.pick(kScheduleOn);
  in.algorithm = f.pick(kAlgorithms);
  in.chunk = f.pick(kScheduleChunks);
  in.width = f.pick(kWidths);
  in.tile = resolve(f.pick(kScheduleTiles), v);
  in.warps = f.pick(kWarps);
  in.stages = f.pick(kStages);
  in.extents = f.pick(kExtents);
  // After the extents (which came first), so that their byte keeps its
  // position.
  in.mma = f.pick(kMmas);
  in.load = f.pick(kLoads);
  return in;
}

/// The registry linacc builds (every upstream dialect, extension and LLVM IR
/// translation, and linac's), made once; each input gets a fresh context.
DialectRegistry &registry() {
  static DialectRegistry *registry = [] {
    auto *r = new DialectRegistry;
    linac::registerCpuCompilerDialects(*r);
    linac::registerCudaCompilerDialects(*r);
    registerAllPasses();
    linac::registerLinacPasses();
    return r;
  }();
  return *registry;
}

/// The state of one compilation: its context, every diagnostic it emitted
/// (kept to explain a failure), and the input, to print with them.
struct Harness {
  const Input &input;
  MLIRContext context{registry(), MLIRContext::Threading::DISABLED};
  std::vector<std::string> log;
  int errors = 0;
  ScopedDiagnosticHandler handler{&context, [this](Diagnostic &diagnostic) {
                                    record(diagnostic);
                                    return success();
                                  }};

  explicit Harness(const Input &input) : input(input) {
    context.printOpOnDiagnostic(false);
    context.printStackTraceOnDiagnostic(false);
  }

  void record(Diagnostic &diagnostic) {
    std::string line;
    llvm::raw_string_ostream os(line);
    os << diagnostic.getLocation() << ": "
       << (diagnostic.getSeverity() == DiagnosticSeverity::Error ? "error"
                                                                 : "note")
       << ": " << diagnostic.str();
    log.push_back(line);
    if (diagnostic.getSeverity() != DiagnosticSeverity::Error)
      return;
    ++errors;
    // A user has to be able to act on it: something said, somewhere.
    if (diagnostic.str().empty())
      fail("an error diagnostic without a message");
    if (isa<UnknownLoc>(diagnostic.getLocation()))
      fail("an error diagnostic without a location");
  }

  [[noreturn]] void fail(const llvm::Twine &why) {
    llvm::errs() << "linac-fuzz-pipeline: " << why << "\n--- input\n"
                 << input.describe() << "--- diagnostics\n";
    for (const std::string &line : log)
      llvm::errs() << line << "\n";
    llvm::errs().flush();
    abort();
  }
};

/// Checks each pass as it runs: a failure must come with an error and from
/// a linac pass, a success must leave IR that verifies.
class Checker : public PassInstrumentation {
public:
  explicit Checker(Harness &harness) : harness(harness) {}

  void runBeforePass(Pass *pass, Operation *) override {
    errorsBefore.push_back(harness.errors);
  }

  void runAfterPass(Pass *pass, Operation *op) override {
    errorsBefore.pop_back();
    // Adaptors that run nested pipelines have no argument; their passes
    // were checked one by one.
    if (pass->getArgument().empty())
      return;
    if (failed(verify(op)))
      harness.fail("invalid IR after " + pass->getArgument() +
                   ", which succeeded");
  }

  void runAfterPassFailed(Pass *pass, Operation *) override {
    int before = errorsBefore.pop_back_val();
    if (harness.errors == before)
      harness.fail((pass->getArgument().empty() ? pass->getName()
                                                : pass->getArgument()) +
                   " failed without an error diagnostic");
    llvm::StringRef argument = pass->getArgument();
    if (!argument.empty() && !argument.starts_with("linac-"))
      harness.fail("the upstream pass " + argument +
                   " rejected what linac's passes produced");
  }

private:
  Harness &harness;
  llvm::SmallVector<int> errorsBefore;
};

/// Runs `stages[begin, end)` as linacc does (one pass manager), with the
/// checks. Returns false when a pass rejected the input.
bool runStages(Harness &harness, ModuleOp module,
               llvm::ArrayRef<std::pair<std::string, std::string>> stages,
               size_t begin, size_t end) {
  PassManager pm(&harness.context);
  // Checker verifies after each pass, and can tell a pass's own rejection
  // from a verifier failure, which the pass manager's verifier cannot.
  pm.enableVerifier(false);
  pm.addInstrumentation(std::make_unique<Checker>(harness));
  for (size_t i = begin; i < end; ++i)
    if (failed(parsePassPipeline(stages[i].second, pm)))
      harness.fail("the built-in stage '" + stages[i].first +
                   "' does not parse");
  return succeeded(pm.run(module));
}

/// Every manifest the artifact would embed must load in the runtime.
void checkManifest(Harness &harness, const std::string &text) {
  linac::manifest::Manifest parsed;
  linac_error error{};
  if (linac::manifest::parse(text, parsed, &error) != LINAC_OK)
    harness.fail("the runtime rejects a generated manifest: " +
                 std::string(error.message) + "\n" + text);
}

/// Every op of the result is in `dialects`, except the containers.
void checkLowered(Harness &harness, ModuleOp module,
                  llvm::ArrayRef<llvm::StringRef> dialects) {
  module.walk([&](Operation *op) {
    if (op == module.getOperation() || isa<gpu::GPUModuleOp>(op))
      return;
    llvm::StringRef dialect = op->getName().getDialectNamespace();
    if (!llvm::is_contained(dialects, dialect))
      harness.fail("'" + op->getName().getStringRef() +
                   "' is left after the lowering");
  });
}

/// What `linacc --emit-after=STAGE` writes must read back in (linac-opt
/// takes it): the module after `stage` printed, parsed in a fresh context
/// and verified.
void checkRoundTrip(Harness &harness, ModuleOp module, llvm::StringRef stage) {
  std::string text;
  llvm::raw_string_ostream os(text);
  module.print(os);
  os.flush();
  MLIRContext context(registry(), MLIRContext::Threading::DISABLED);
  std::vector<std::string> errors;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &diagnostic) {
    std::string line;
    llvm::raw_string_ostream(line) << diagnostic.getLocation() << ": "
                                   << diagnostic.str();
    errors.push_back(line);
    return success();
  });
  ParserConfig config(&context);
  OwningOpRef<ModuleOp> reparsed =
      parseSourceString<ModuleOp>(text, config, "printed.mlir");
  if (!reparsed || failed(verify(*reparsed))) {
    harness.log.insert(harness.log.end(), errors.begin(), errors.end());
    harness.fail("the IR printed after " + stage +
                 " does not parse and verify");
  }
}

void compileCpu(Harness &harness, ModuleOp module,
                const linac::spec::AttentionSpec &spec, int kernels) {
  linac::CpuTarget cpu;
  std::string error;
  if (!linac::resolveCpuTarget(spec.cpu, cpu, error))
    return; // linacc: "error: ..." before any pass; the spec parser let
            // through only names it knows, so this is not reached.
  // linacc with neither --cpu nor --target: the module's attributes decide.
  auto stages = linac::cpuPipelineStages(linac::CpuPipelineOptions());
  constexpr size_t kInterfaceStages = 4; // ... linac-chunk
  if (stages.size() <= kInterfaceStages ||
      stages[kInterfaceStages - 1].first != "linac-chunk")
    harness.fail("the CPU stages changed; update the harness");
  if (!runStages(harness, module, stages, 0, kInterfaceStages))
    return;
  std::vector<linac::KernelInterface> interfaces =
      linac::getKernelInterfaces(module);
  if (int(interfaces.size()) != kernels)
    harness.fail("linac-chunk left " + llvm::Twine(interfaces.size()) +
                 " kernel interface(s) for " + llvm::Twine(kernels) +
                 " mode(s)");
  for (const linac::KernelInterface &kernel : interfaces)
    checkManifest(harness, linac::buildManifest(kernel, cpu));
  (void)linac::buildHeader(interfaces, cpu, "LINAC_GENERATED_FUZZ_H");
  checkRoundTrip(harness, module, "linac-chunk");
  if (!runStages(harness, module, stages, kInterfaceStages, stages.size()))
    return;
  checkLowered(harness, module, {"llvm"});
}

void compileCuda(Harness &harness, ModuleOp module, const std::string &target,
                 int kernels) {
  linac::GpuTarget gpu;
  std::string error;
  if (!linac::resolveGpuTarget(target, gpu, error))
    return; // linacc refuses the target before any pass.
  linac::CudaPipelineOptions options;
  options.target = gpu.name;
  options.format = "isa";
  auto stages = linac::cudaPipelineStages(options);
  // Up to, not including, `binary` (gpu-module-to-binary calls ptxas).
  constexpr size_t kInterfaceStages = 6; // ... linac-lower-chunk-gpu
  if (stages.size() != kInterfaceStages + 2 ||
      stages[kInterfaceStages - 1].first != "linac-lower-chunk-gpu" ||
      stages.back().first != "binary")
    harness.fail("the CUDA stages changed; update the harness");
  if (!runStages(harness, module, stages, 0, kInterfaceStages))
    return;
  int errors = harness.errors;
  FailureOr<std::vector<linac::CudaKernel>> found =
      linac::getCudaKernels(module);
  if (failed(found))
    harness.fail(harness.errors == errors
                     ? "getCudaKernels failed without a diagnostic"
                     : "getCudaKernels rejects linac-lower-chunk-gpu's kernels");
  if (int(found->size()) != kernels)
    harness.fail("linac-gpu-map left " + llvm::Twine(found->size()) +
                 " kernel(s) for " + llvm::Twine(kernels) + " mode(s)");
  for (const linac::CudaKernel &kernel : *found)
    checkManifest(harness, linac::buildCudaManifest(kernel, gpu));
  (void)linac::buildCudaHeader(*found, gpu, "LINAC_GENERATED_FUZZ_H");
  checkRoundTrip(harness, module, "linac-lower-chunk-gpu");
  if (!runStages(harness, module, stages, kInterfaceStages,
                 stages.size() - 1))
    return;
  checkLowered(harness, module, {"llvm", "nvvm"});
}

/// linacc --target=cuda:* --cuda-emulate: the CUDA stages before `nvvm`
/// with tensor cores emulated, linac-emulate-gpu, then the CPU back end from
/// linac-cpu-abi for the spec's cpu.
void compileEmulated(Harness &harness, ModuleOp module,
                     const linac::spec::AttentionSpec &spec) {
  linac::GpuTarget gpu;
  std::string error;
  if (!linac::resolveGpuTarget(spec.target, gpu, error))
    return;
  linac::CudaPipelineOptions options;
  options.target = gpu.name;
  std::vector<std::pair<std::string, std::string>> stages;
  for (auto &[name, passes] : linac::cudaPipelineStages(options)) {
    if (name == "nvvm")
      break;
    stages.push_back({name, name == "linac-lower-chunk-gpu"
                                ? "linac-lower-chunk-gpu{mma-emulation}"
                                : passes});
  }
  stages.push_back({"linac-emulate-gpu", "linac-emulate-gpu"});
  linac::CpuPipelineOptions cpuOptions;
  cpuOptions.cpu = spec.cpu;
  for (auto &[name, passes] : linac::cpuPipelineStages(cpuOptions))
    if (name == "linac-cpu-abi" || name == "llvm")
      stages.push_back({name, passes});
  if (!runStages(harness, module, stages, 0, stages.size()))
    return;
  checkLowered(harness, module, {"llvm"});
}

/// Makes the batch and time extents of `func`'s tensors static, as
/// hand-written IR may: dimension 0 (B) of the per-token tensors, of the
/// states and of state_indices (except varlen's, whose dimension 0 counts
/// sequences, and a pool's states, whose dimension 0 counts slots) and
/// dimension 1 (T) of the per-token tensors.
void setExtents(func::FuncOp func, linac::RecurrenceOp op,
                const Extents &extents) {
  const bool varlen = op.getCuSeqlens() != nullptr;
  const bool pool = op.getStateIndices() != nullptr;
  auto retype = [&](Type type, llvm::StringRef name) -> Type {
    auto tensor = dyn_cast<RankedTensorType>(type);
    if (!tensor)
      return type;
    SmallVector<int64_t> shape(tensor.getShape());
    const bool state = name == "h0" || name == "ht";
    const bool perSequence = (state && !pool) || name == "state_indices";
    const bool perToken = !state && name != "u" && name != "cu_seqlens" &&
                          name != "state_indices";
    if ((perToken || (perSequence && !varlen)) && extents.batch &&
        ShapedType::isDynamic(shape[0]))
      shape[0] = extents.batch;
    if (perToken && extents.time && ShapedType::isDynamic(shape[1]))
      shape[1] = extents.time;
    return tensor.clone(shape);
  };
  auto name = [](DictionaryAttr attrs) {
    auto attr = attrs ? attrs.getAs<StringAttr>("linac.arg") : StringAttr();
    return attr ? attr.getValue() : llvm::StringRef();
  };
  Block &body = func.getBody().front();
  SmallVector<Type> inputs, results;
  for (BlockArgument arg : body.getArguments()) {
    arg.setType(retype(arg.getType(), name(func.getArgAttrDict(
                                           arg.getArgNumber()))));
    inputs.push_back(arg.getType());
  }
  for (OpResult result : op->getResults()) {
    result.setType(retype(result.getType(),
                          name(func.getResultAttrDict(
                              result.getResultNumber()))));
    results.push_back(result.getType());
  }
  func.setFunctionType(FunctionType::get(func.getContext(), inputs, results));
}

/// Sets the attributes a hand-written .mlir input may carry.
void applyOverrides(const Input &input, ModuleOp module) {
  module.walk([&](linac::RecurrenceOp op) {
    if (input.extents.batch || input.extents.time)
      if (auto func = dyn_cast<func::FuncOp>(op->getParentOp()))
        setExtents(func, op, input.extents);
    Builder b(op.getContext());
    if (input.chunkOverride != kNone)
      op->setAttr("linac.chunk_size", b.getI64IntegerAttr(input.chunkOverride));
    if (input.tileOverride != kNone)
      op->setAttr("linac.value_tile", b.getI64IntegerAttr(input.tileOverride));
    if (input.modeOverride == "bogus") {
      op->setAttr("linac.mode", b.getStringAttr("bogus"));
    } else if (input.modeOverride == "swap") {
      auto mode = op->getAttrOfType<StringAttr>("linac.mode");
      op->setAttr("linac.mode", b.getStringAttr(mode && mode.getValue() ==
                                                            "decode"
                                                    ? "prefill"
                                                    : "decode"));
    }
    if (input.schedule)
      op->setAttr("linac.schedule",
                  linac::ScheduleAttr::get(op.getContext(), input.algorithm,
                                           input.chunk, input.width,
                                           input.tile, input.warps,
                                           input.stages, input.mma,
                                           input.load));
  });
}

} // namespace

/// As in Fuzz_mlir.cpp: linac's instrumented code and the uninstrumented
/// libMLIR.so share LLVM's bump allocator slabs, and ASan would report
/// MLIR's writes into space the instrumented copy poisoned.
extern "C" const char *__asan_default_options() {
  return "allow_user_poisoning=0";
}

namespace {

/// LINAC_FUZZ_PRINT=1 prints each input's spec, overrides and diagnostics
/// (to turn a corpus file into a lit test); LINAC_FUZZ_PRINT=ir also the
/// module the pipeline starts from (a .mlir input with the same effect).
void print(const Harness &harness) {
  llvm::errs() << harness.input.describe();
  for (const std::string &line : harness.log)
    llvm::errs() << line << "\n";
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const bool printInputs = getenv("LINAC_FUZZ_PRINT");
  Input input = decode(data, size);
  Harness harness(input);
  llvm::scope_exit printOnExit([&] {
    if (printInputs)
      print(harness);
  });

  std::vector<linac::spec::Diagnostic> diagnostics;
  std::optional<linac::spec::AttentionSpec> spec =
      linac::spec::parseSpec(input.toml, "fuzz.toml", diagnostics);
  for (const linac::spec::Diagnostic &diagnostic : diagnostics)
    harness.log.push_back(diagnostic.str());
  if (!spec) {
    if (diagnostics.empty())
      harness.fail("the spec parser rejected a spec without a diagnostic");
    return 0;
  }

  OwningOpRef<ModuleOp> module =
      linac::spec::buildModule(*spec, "fuzz", harness.context);
  if (!module) {
    if (harness.errors == 0)
      harness.fail("buildModule failed without an error diagnostic");
    return 0;
  }
  applyOverrides(input, *module);
  if (printInputs && llvm::StringRef(getenv("LINAC_FUZZ_PRINT")) == "ir")
    module->print(llvm::errs());
  if (failed(verify(*module)))
    harness.fail("the spec's module with overrides does not verify");

  const int kernels = int(spec->prefill) + int(spec->decode);
  if (input.emulate && llvm::StringRef(spec->target).starts_with("cuda:"))
    compileEmulated(harness, *module, *spec);
  else if (llvm::StringRef(spec->target).starts_with("cuda:"))
    compileCuda(harness, *module, spec->target, kernels);
  else
    compileCpu(harness, *module, *spec, kernels);
  return 0;
}
