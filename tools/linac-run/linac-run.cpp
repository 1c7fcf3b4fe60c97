//===- linac-run.cpp - compile, run, check and benchmark a spec -----------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// linac-run SPEC [--target=cpu] [--cpu=NAME] [--mode=prefill|decode]
//           [--shape=B=1,T=4096] [--inputs=DIR] [--outputs=DIR] [--check]
//           [--bench] [--threads=N] [--json]
//
// Compiles the spec with linac_compile (liblinac_jit: the same pipeline as
// linacc, and the same on-disk cache as every other caller, keyed by the
// spec, the CPU and the compiler build), runs one kernel on seeded random
// inputs (or .npy inputs), and optionally compares with the float64 oracle
// and measures it. Exit status: 0 ok, 1 input error (spec, options, target,
// cache directory) or a failed check, 2 internal error (a compiler bug, an
// artifact that does not load).
//
//===----------------------------------------------------------------------===//

#include "linac/Spec/Spec.h"
#include "linac/runtime/Npy.h"
#include "linac/runtime/Oracle.h"
#include "linac/runtime/RandomProblem.h"
#include "linac/runtime/linac.h"
#include "linac/runtime/linac_jit.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <map>

using namespace linac;
namespace cl = llvm::cl;

namespace {

enum ExitCode { Success = 0, Failure = 1, InternalError = 2 };

cl::OptionCategory category("linac-run options");
cl::opt<std::string> specPath(cl::Positional, cl::Required,
                              cl::desc("<spec.toml>"), cl::cat(category));
cl::opt<std::string> target("target", cl::desc("cpu (cuda: not yet)"),
                            cl::init("cpu"), cl::cat(category));
cl::opt<std::string> cpu("cpu",
                         cl::desc("native | x86-64-v3 | x86-64-v4 (default: "
                                  "the spec's)"),
                         cl::init(""), cl::cat(category));
cl::opt<std::string> mode("mode", cl::desc("prefill | decode"),
                          cl::init("prefill"), cl::cat(category));
cl::opt<std::string>
    shape("shape",
          cl::desc("Problem size, e.g. B=1,T=4096 (also H, HV when the spec "
                   "leaves them open, N for varlen: N sequences of uneven "
                   "lengths summing to T). Default B=1,T=1024 (prefill), "
                   "B=1,T=4 (decode)"),
          cl::init(""), cl::cat(category));
cl::opt<std::string> inputsDir(
    "inputs", cl::desc("Read q.npy k.npy v.npy (and g, h0, cu_seqlens as the "
                       "variant needs) from this directory"),
    cl::init(""), cl::cat(category));
cl::opt<std::string> outputsDir("outputs",
                                cl::desc("Write o.npy and ht.npy (float32)"),
                                cl::init(""), cl::cat(category));
cl::opt<bool> check("check", cl::desc("Compare with the float64 oracle"),
                    cl::init(false), cl::cat(category));
cl::opt<bool> bench("bench", cl::desc("Time the kernel"), cl::init(false),
                    cl::cat(category));
// --threads is parsed by hand: libLLVM already registers a "threads"
// option of its own, and two cl::opts of one name abort at start-up.
int threads = 0;
cl::opt<bool> json("json", cl::desc("Print one JSON object"), cl::init(false),
                   cl::cat(category));
cl::opt<int> reps("reps",
                  cl::desc("Timed repetitions (default: at least 10 and 1 s)"),
                  cl::init(0), cl::cat(category));
cl::opt<uint64_t> seed("seed", cl::desc("Seed of the random inputs"),
                       cl::init(1), cl::cat(category));
cl::opt<bool> strided(
    "strided",
    cl::desc("Pass q, k, v, g and o as non-contiguous views (rows padded by "
             "16 elements, as slices of a wider fused tensor would be)"),
    cl::init(false), cl::cat(category));
cl::opt<bool> noH0("no-h0", cl::desc("Prefill without an initial state"),
                   cl::init(false), cl::cat(category));
cl::opt<double> peakGflops(
    "peak-gflops",
    cl::desc("FP32 peak of the machine in GFLOP/s for --bench (default: "
             "165 per thread with AVX-512, 99 with AVX2: TOOLCHAIN.md's "
             "measurement on this project's 2-core Ice Lake kind)"),
    cl::init(0), cl::cat(category));
cl::opt<bool> outlineOps(
    "outline-ops",
    cl::desc("Compile each chunked-scan op into its own never-inlined "
             "function, so that `perf report` splits the kernel's time by op "
             "(slower; for profiling)"),
    cl::init(false));

cl::opt<std::string> cacheDir(
    "cache-dir",
    cl::desc("Compiled artifacts cache (default: $LINAC_CACHE_DIR, else "
             "$XDG_CACHE_HOME/linac, else ~/.cache/linac)"),
    cl::init(""), cl::cat(category));

int fail(const llvm::Twine &message, int code = Failure) {
  llvm::errs() << "linac-run: error: " << message << "\n";
  return code;
}

//===----------------------------------------------------------------------===//
// Compilation: linac_compile and its cache
//===----------------------------------------------------------------------===//

/// linac_compile's diagnostics (a pass that rejects the spec, with
/// file:line:col; a note when a damaged cache entry is rebuilt) go to
/// stderr in full.
void printDiagnostic(void *, const char *text) { llvm::errs() << text << "\n"; }

/// The exit status for a linac_compile failure: problems with what the user
/// gave (spec, options, target, cache directory) are input errors.
int exitStatusFor(int32_t code) {
  switch (code) {
  case LINAC_ERROR_SPEC:
  case LINAC_ERROR_INVALID_ARGUMENT:
  case LINAC_ERROR_TARGET:
  case LINAC_ERROR_IO:
    return Failure;
  default:
    return InternalError;
  }
}

//===----------------------------------------------------------------------===//
// Tensors
//===----------------------------------------------------------------------===//

linac_tensor viewOf(NpyArray &array) {
  linac_tensor t{};
  t.data = array.bytes.data();
  switch (array.dtype) {
  case DType::F32:
    t.dtype = LINAC_F32;
    break;
  case DType::F16:
    t.dtype = LINAC_F16;
    break;
  case DType::BF16:
    t.dtype = LINAC_BF16;
    break;
  case DType::I32:
    t.dtype = LINAC_I32;
    break;
  default:
    t.dtype = LINAC_I64;
    break;
  }
  t.rank = static_cast<int32_t>(array.shape.size());
  int64_t stride = 1;
  for (int d = t.rank - 1; d >= 0; --d) {
    t.shape[d] = array.shape[d];
    t.strides[d] = stride;
    stride *= array.shape[d];
  }
  return t;
}

/// Elements of `array` as doubles.
std::vector<double> toDoubles(const NpyArray &array) {
  std::vector<double> out(array.numElements());
  for (size_t i = 0; i < out.size(); ++i) {
    switch (array.dtype) {
    case DType::F32:
      out[i] = array.dataAs<float>()[i];
      break;
    case DType::F64:
      out[i] = array.dataAs<double>()[i];
      break;
    case DType::BF16: {
      uint32_t bits = uint32_t(array.dataAs<uint16_t>()[i]) << 16;
      float f;
      std::memcpy(&f, &bits, 4);
      out[i] = f;
      break;
    }
    case DType::F16:
      out[i] = static_cast<double>(
          static_cast<float>(reinterpret_cast<const _Float16 *>(
              array.bytes.data())[i]));
      break;
    default:
      break;
    }
  }
  return out;
}

NpyArray toFloat32(const NpyArray &array) {
  NpyArray out = makeNpyArray(DType::F32, array.shape);
  std::vector<double> values = toDoubles(array);
  for (size_t i = 0; i < values.size(); ++i)
    out.dataAs<float>()[i] = static_cast<float>(values[i]);
  return out;
}

bool parseShape(llvm::StringRef text, std::map<std::string, int64_t> &dims) {
  for (llvm::StringRef item : llvm::split(text, ',')) {
    item = item.trim();
    if (item.empty())
      continue;
    auto [key, value] = item.split('=');
    int64_t number;
    if (value.getAsInteger(10, number) || number < 0) {
      fail("--shape: '" + item + "' is not NAME=INTEGER");
      return false;
    }
    if (key != "B" && key != "T" && key != "H" && key != "HV" && key != "N") {
      fail("--shape: unknown dimension '" + key + "' (B, T, H, HV, N)");
      return false;
    }
    dims[key.str()] = number;
  }
  return true;
}

} // namespace

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  std::vector<char *> args;
  for (int i = 0; i < argc; ++i) {
    llvm::StringRef arg = argv[i];
    llvm::StringRef value;
    if (arg == "--threads" || arg == "-threads") {
      if (i + 1 == argc)
        return fail("--threads needs a value");
      value = argv[++i];
    } else if (arg.consume_front("--threads=") ||
               arg.consume_front("-threads=")) {
      value = arg;
    } else {
      args.push_back(argv[i]);
      continue;
    }
    if (value.getAsInteger(10, threads) || threads < 0)
      return fail("--threads: '" + value + "' is not a thread count");
  }
  argc = static_cast<int>(args.size());
  argv = args.data();
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "linac-run: compile a spec, run a kernel, check it against the float64 "
      "oracle and time it\n\n  --threads=N   threads of the runtime's pool "
      "(default: all cores)\n");

  if (target != "cpu") {
    // CUDA kernels compile (linacc --target=cuda:*) but linac-run does not
    // drive them; say what is missing here, a GPU or that driver.
    linac_error cudaErr;
    int32_t devices = 0;
    if (llvm::StringRef(target).starts_with("cuda:") &&
        linac_cuda_device_count(&devices, &cudaErr) != LINAC_OK)
      return fail("--target=" + target + " needs a GPU: " + cudaErr.message);
    return fail("--target=" + target +
                ": linac-run runs cpu kernels only; compile CUDA kernels with "
                "linacc --target=cuda:*, check them with linacc --cuda-emulate "
                "(no GPU) or test/Integration/CUDA/gpu.test");
  }
  if (mode != "prefill" && mode != "decode")
    return fail("--mode must be prefill or decode, not '" + mode + "'");
  const bool decode = mode == "decode";

  // The spec.
  std::vector<spec::Diagnostic> diagnostics;
  std::optional<spec::AttentionSpec> spec =
      spec::parseSpecFile(specPath, diagnostics);
  for (const spec::Diagnostic &diagnostic : diagnostics)
    llvm::errs() << diagnostic.str() << "\n";
  if (!spec)
    return Failure;
  if (decode ? !spec->decode : !spec->prefill)
    return fail("the spec turns " + mode + " off ([modes] " + mode +
                " = false)");
  std::string name = spec::symbolPrefix(specPath);
  std::string kernelName = name + (decode ? "_decode" : "_prefill");

  std::string error;

  // Compile, or reuse the cached artifact.
  auto specText = llvm::MemoryBuffer::getFile(specPath);
  if (!specText)
    return fail("cannot read '" + specPath + "'");
  // --cpu overrides the spec's cpu (cuda targets were refused above).
  std::string compileTarget = cpu.empty() ? "cpu" : "cpu:" + cpu.getValue();
  linac_compile_options compileOptions{};
  compileOptions.source_name = specPath.c_str();
  compileOptions.format = LINAC_SOURCE_TOML;
  compileOptions.name = name.c_str();
  compileOptions.target = compileTarget.c_str();
  compileOptions.cache_dir = cacheDir.empty() ? nullptr : cacheDir.c_str();
  compileOptions.diagnostic = printDiagnostic;
  if (outlineOps)
    compileOptions.flags |= LINAC_COMPILE_OUTLINE_OPS;
  linac_compile_info compileInfo;
  linac_error err{};
  linac_module *module =
      linac_compile((*specText)->getBufferStart(), (*specText)->getBufferSize(),
                    &compileOptions, &compileInfo, &err);
  if (!module) {
    // Spec errors were printed in full by printDiagnostic.
    if (err.code != LINAC_ERROR_SPEC)
      fail(err.message);
    return exitStatusFor(err.code);
  }
  const bool compiled = compileInfo.compiled;
  const double compileMs = compileInfo.milliseconds;
  linac_kernel *kernel = linac_module_kernel(module, kernelName.c_str(), &err);
  if (!kernel) {
    linac_module_unload(module);
    return fail(err.message);
  }
  // The CPU the kernel was built for and its vector width, from its
  // manifest ("target cpu NAME FEATURES").
  std::string cpuName = "?";
  int64_t vectorWidth = 8;
  for (llvm::StringRef line :
       llvm::split(llvm::StringRef(linac_kernel_manifest(kernel)), '\n')) {
    if (!line.consume_front("target cpu "))
      continue;
    auto [arch, features] = line.split(' ');
    cpuName = arch.str();
    if (llvm::is_contained(llvm::split(features, ','), "avx512f"))
      vectorWidth = 16;
  }

  // The problem: seeded random inputs shaped by the spec and --shape.
  std::map<std::string, int64_t> dims = {{"B", 1},
                                         {"T", decode ? 4 : 1024}};
  if (!parseShape(shape, dims))
    return Failure;
  oracle::RandomProblemOptions options;
  options.variant = spec->variant;
  options.featureMap = spec->featureMap;
  options.normalize = spec->normalize;
  if (spec->eps)
    options.eps = *spec->eps;
  options.K = spec->headDimK;
  options.V = spec->headDimV;
  options.H = spec->numHeads ? *spec->numHeads : (dims.count("H") ? dims["H"] : 16);
  options.HV = spec->valueHeads() ? *spec->valueHeads()
                                  : (dims.count("HV") ? dims["HV"] : options.H);
  options.B = dims["B"];
  options.T = dims["T"];
  options.scale = spec->scale;
  options.dtype = spec->dtype;
  options.seed = seed;
  options.initialState = decode || (spec->initialState && !noH0);
  if (spec->varlen && !decode) {
    int64_t n = dims.count("N") ? dims["N"] : 3;
    if (options.B != 1 || n < 1 || n > options.T)
      return fail("varlen needs B=1 and 1 <= N <= T");
    // Uneven lengths: sequence i gets weight i + 1, the rest goes last.
    int64_t total = n * (n + 1) / 2, used = 0;
    for (int64_t i = 0; i < n; ++i) {
      int64_t len = i + 1 == n ? options.T - used
                               : std::max<int64_t>(1, options.T * (i + 1) / total);
      options.seqLens.push_back(len);
      used += len;
    }
  }
  oracle::RandomProblem problem;
  if (!oracle::makeRandomProblem(options, problem, error))
    return fail(error);
  if (spec->variant == oracle::Variant::Lightning)
    problem.problem.decayConstants = spec->decay;
  std::map<std::string, NpyArray *> inputs = {
      {"q", &problem.q},   {"k", &problem.k},   {"v", &problem.v},
      {"g", &problem.g},   {"beta", &problem.beta}, {"a", &problem.a},
      {"b", &problem.b},   {"u", &problem.u},       {"h0", &problem.h0},
      {"cu_seqlens", &problem.cuSeqlens},
  };
  if (!inputsDir.empty()) {
    for (auto &[inputName, array] : inputs) {
      llvm::SmallString<256> path(inputsDir);
      llvm::sys::path::append(path, inputName + ".npy");
      if (!llvm::sys::fs::exists(path))
        continue;
      if (!readNpyFile(std::string(path), *array, error))
        return fail(error);
      if (inputName == "cu_seqlens" && array->dtype == DType::I64) {
        NpyArray narrow =
            makeNpyArray(DType::I32, array->shape);
        for (int64_t i = 0; i < array->numElements(); ++i)
          narrow.dataAs<int32_t>()[i] =
              static_cast<int32_t>(array->dataAs<int64_t>()[i]);
        *array = std::move(narrow);
      }
      // Gates, write strengths and the state are f32 in every kernel.
      if (inputName != "q" && inputName != "k" && inputName != "v" &&
          inputName != "cu_seqlens")
        if (array->dtype != DType::F32)
          *array = toFloat32(*array);
    }
    oracle::Problem &p = problem.problem;
    std::map<std::string, TensorView *> problemViews = {
        {"q", &p.q},       {"k", &p.k},   {"v", &p.v},
        {"g", &p.g},       {"beta", &p.beta}, {"a", &p.a},
        {"b", &p.b},       {"u", &p.u},   {"h0", &p.h0},
        {"cu_seqlens", &p.cuSeqlens}};
    for (auto &entry : inputs)
      if (!entry.second->bytes.empty() &&
          !getTensorView(*entry.second, *problemViews[entry.first], error))
        return fail(entry.first + ".npy: " + error);
  }

  // Outputs and the tensor list in manifest order.
  const int64_t B = problem.q.shape[0], T = problem.q.shape[1];
  const int64_t HV = problem.v.shape[2], V = problem.v.shape[3];
  const int64_t S = problem.cuSeqlens.bytes.empty()
                        ? B
                        : problem.cuSeqlens.numElements() - 1;
  const int64_t K = problem.q.shape[3];
  // The state has K' rows: 1 + K + K^2 with taylor2.
  const int64_t stateK = oracle::featureDim(spec->featureMap, K);
  // o has the spec's output dtype, which may differ from the inputs'.
  NpyArray o = makeNpyArray(spec->outputDtype, {B, T, HV, V});
  NpyArray ht = makeNpyArray(DType::F32, {S, HV, stateK, V});
  if (decode && problem.h0.bytes.empty())
    return fail("decode needs an initial state");
  // Decode updates the state in place: ht is h0's storage. Keep h0's values
  // for the oracle.
  NpyArray h0Copy = problem.h0;
  std::map<std::string, linac_tensor> views;
  for (auto &[inputName, array] : inputs)
    if (!array->bytes.empty())
      views[inputName] = viewOf(*array);
  views["o"] = viewOf(o);
  views["ht"] = decode ? viewOf(problem.h0) : viewOf(ht);

  // --strided: copy the rank-4 activations into padded storage, so that
  // every outer stride differs from the contiguous one.
  std::map<std::string, std::vector<uint8_t>> padded;
  auto elementSize = [](int32_t dtype) {
    return dtype == LINAC_F32 || dtype == LINAC_I32 ? 4
           : dtype == LINAC_I64                     ? 8
                                                    : 2;
  };
  auto restride = [&](const std::string &tensorName, bool copyIn) {
    linac_tensor &t = views[tensorName];
    if (t.rank != 4)
      return;
    const int64_t eb = elementSize(t.dtype), pad = 16;
    int64_t st[4];
    st[3] = 1;
    st[2] = t.shape[3] + pad;
    st[1] = t.shape[2] * st[2] + pad;
    st[0] = t.shape[1] * st[1] + pad;
    std::vector<uint8_t> &buffer = padded[tensorName];
    buffer.assign(static_cast<size_t>(t.shape[0] * st[0] * eb), 0xff);
    for (int64_t a = 0; a < t.shape[0]; ++a)
      for (int64_t b = 0; b < t.shape[1]; ++b)
        for (int64_t c = 0; c < t.shape[2]; ++c)
          if (copyIn)
            std::memcpy(buffer.data() + (a * st[0] + b * st[1] + c * st[2]) * eb,
                        static_cast<uint8_t *>(t.data) +
                            (a * t.strides[0] + b * t.strides[1] +
                             c * t.strides[2]) * eb,
                        t.shape[3] * eb);
    t.data = buffer.data();
    std::memcpy(t.strides, st, sizeof(st));
  };
  // Copies a padded output back into contiguous storage.
  auto unstride = [&](const std::string &tensorName, linac_tensor dense) {
    const linac_tensor &t = views[tensorName];
    const int64_t eb = elementSize(t.dtype);
    for (int64_t a = 0; a < t.shape[0]; ++a)
      for (int64_t b = 0; b < t.shape[1]; ++b)
        for (int64_t c = 0; c < t.shape[2]; ++c)
          std::memcpy(static_cast<uint8_t *>(dense.data) +
                          (a * dense.strides[0] + b * dense.strides[1] +
                           c * dense.strides[2]) * eb,
                      static_cast<const uint8_t *>(t.data) +
                          (a * t.strides[0] + b * t.strides[1] +
                           c * t.strides[2]) * eb,
                      t.shape[3] * eb);
  };
  // layout = "bhtd": the activations move into head-major storage,
  // [B, H, T, ...] contiguous, as a bhtd caller would pass them; o comes
  // back from it after the run. `bthdView` is that storage seen in the
  // [B, T, H, ...] order of the arrays (dims 1 and 2 swapped).
  const bool headMajor = spec->layout == spec::Layout::BHTD;
  std::map<std::string, std::vector<uint8_t>> headMajorData;
  auto bthdView = [](linac_tensor t) {
    std::swap(t.shape[1], t.shape[2]);
    std::swap(t.strides[1], t.strides[2]);
    return t;
  };
  // Element by element between two views of one [B, T, H, ...] shape.
  auto copyElements = [&](const linac_tensor &from, const linac_tensor &to) {
    const int64_t eb = elementSize(from.dtype);
    int64_t shape[4] = {1, 1, 1, 1};
    for (int32_t d = 0; d < from.rank; ++d)
      shape[d] = from.shape[d];
    auto offset = [&](const linac_tensor &t, const int64_t *i) {
      int64_t o = 0;
      for (int32_t d = 0; d < t.rank; ++d)
        o += i[d] * t.strides[d];
      return o * eb;
    };
    int64_t i[4];
    for (i[0] = 0; i[0] < shape[0]; ++i[0])
      for (i[1] = 0; i[1] < shape[1]; ++i[1])
        for (i[2] = 0; i[2] < shape[2]; ++i[2])
          for (i[3] = 0; i[3] < shape[3]; ++i[3])
            std::memcpy(static_cast<uint8_t *>(to.data) + offset(to, i),
                        static_cast<const uint8_t *>(from.data) +
                            offset(from, i),
                        eb);
  };
  auto toHeadMajor = [&](const std::string &tensorName, bool copyIn) {
    linac_tensor &t = views[tensorName];
    if (t.rank < 3)
      return;
    linac_tensor stored = t;
    std::swap(stored.shape[1], stored.shape[2]);
    int64_t stride = 1;
    for (int32_t d = stored.rank - 1; d >= 0; --d) {
      stored.strides[d] = stride;
      stride *= stored.shape[d];
    }
    std::vector<uint8_t> &buffer = headMajorData[tensorName];
    buffer.assign(static_cast<size_t>(stride * elementSize(t.dtype)), 0);
    stored.data = buffer.data();
    if (copyIn)
      copyElements(t, bthdView(stored));
    t = stored;
  };
  if (headMajor) {
    for (const char *input : {"q", "k", "v", "g", "beta", "a", "b"})
      if (views.count(input))
        toHeadMajor(input, /*copyIn=*/true);
    toHeadMajor("o", /*copyIn=*/false);
  }
  const linac_tensor oStored = views["o"];
  if (strided) {
    for (const char *input : {"q", "k", "v", "g"})
      if (views.count(input))
        restride(input, /*copyIn=*/true);
    restride("o", /*copyIn=*/false);
  }

  std::vector<const linac_tensor *> tensors;
  bool hasHt = false;
  for (llvm::StringRef line :
       llvm::split(llvm::StringRef(linac_kernel_manifest(kernel)), '\n')) {
    if (!line.starts_with("tensor "))
      continue;
    std::string tensorName = line.split(' ').second.split(' ').first.str();
    hasHt |= tensorName == "ht";
    auto found = views.find(tensorName);
    tensors.push_back(found == views.end() ? nullptr : &found->second);
  }

  linac_pool *pool = linac_pool_create(threads, &err);
  if (!pool)
    return fail(err.message, InternalError);
  int32_t status =
      linac_kernel_launch(kernel, tensors.data(),
                          static_cast<int32_t>(tensors.size()), pool, &err);
  if (status != LINAC_OK) {
    linac_pool_destroy(pool);
    linac_module_unload(module);
    return fail(err.message);
  }
  if (strided)
    unstride("o", headMajor ? oStored : viewOf(o));
  if (headMajor)
    copyElements(bthdView(oStored), viewOf(o));
  const NpyArray &finalState = decode ? problem.h0 : ht;

  int exitCode = Success;
  std::string checkJson;
  if (check) {
    // The oracle sees the inputs as the kernel did (h0 before the update).
    oracle::Problem p = problem.problem;
    NpyArray h0Oracle = h0Copy;
    if (!h0Oracle.bytes.empty())
      getTensorView(h0Oracle, p.h0, error);
    oracle::Result reference;
    if (!oracle::run(p, reference, error))
      return fail("oracle: " + error, InternalError);
    const bool lowPrecision = problem.q.dtype != DType::F32;
    const double tolerance = lowPrecision ? 5e-3 : decode ? 1e-6 : 1e-5;
    std::vector<std::pair<std::string, const NpyArray *>> outputs = {
        {"o", &o}};
    if (hasHt) // final_state = false specs have no ht
      outputs.push_back({"ht", &finalState});
    checkJson = "{";
    for (auto &[outName, array] : outputs) {
      std::vector<double> got = toDoubles(*array);
      const std::vector<double> &want =
          outName == "o" ? reference.o : reference.ht;
      double rel = oracle::relativeRmsError(got, want);
      double maxAbs = oracle::maxAbsError(got.data(), want.data(),
                                          std::min(got.size(), want.size()));
      bool pass = rel <= tolerance && std::isfinite(rel);
      if (!pass)
        exitCode = Failure;
      if (!json)
        llvm::outs() << llvm::format("%-3s rel_rms %.3e  max_abs %.3e  "
                                     "(tolerance %.0e)  %s\n",
                                     outName.c_str(), rel, maxAbs, tolerance,
                                     pass ? "PASS" : "FAIL");
      checkJson += llvm::formatv("{0}\"{1}\": {{\"rel_rms\": {2:e}, "
                                 "\"max_abs\": {3:e}, \"pass\": {4}}",
                                 checkJson.size() > 1 ? ", " : "", outName,
                                 rel, maxAbs, pass ? "true" : "false")
                       .str();
    }
    checkJson += "}";
  }

  if (!outputsDir.empty()) {
    llvm::sys::fs::create_directories(outputsDir);
    for (auto [outName, array] :
         {std::pair<const char *, const NpyArray *>{"o", &o},
          {"ht", &finalState}}) {
      llvm::SmallString<256> path(outputsDir);
      llvm::sys::path::append(path, std::string(outName) + ".npy");
      if (!writeNpyFile(std::string(path), toFloat32(*array), error))
        return fail(error);
    }
  }

  std::string benchJson;
  if (bench) {
    // Decode updates its state in place: every repetition runs on the state
    // the previous one left, which is what a serving loop does.
    std::vector<double> times;
    auto start = std::chrono::steady_clock::now();
    linac_kernel_launch(kernel, tensors.data(), tensors.size(), pool, &err);
    for (int i = 0;; ++i) {
      auto t0 = std::chrono::steady_clock::now();
      linac_kernel_launch(kernel, tensors.data(), tensors.size(), pool, &err);
      auto t1 = std::chrono::steady_clock::now();
      times.push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
      double elapsed =
          std::chrono::duration<double>(t1 - start).count();
      if (reps > 0 ? i + 1 >= reps : (i + 1 >= 10 && elapsed >= 1.0))
        break;
    }
    std::sort(times.begin(), times.end());
    double median = times[times.size() / 2];
    // FLOP as linacc --explain counts them, for the algorithm linac-select
    // picks for this spec.
    using spec::CostAlgorithm;
    using spec::CostRankOne;
    const int64_t stateRows = stateK;
    const oracle::VariantTraits traits = oracle::variantTraits(spec->variant);
    const CostRankOne rankOne = traits.deltaWrite ? CostRankOne::Delta
                                : traits.lowRank  ? CostRankOne::Dplr
                                                  : CostRankOne::None;
    const CostAlgorithm algorithm =
        decode ? CostAlgorithm::Recurrent
        : rankOne != CostRankOne::None ? CostAlgorithm::ChunkedWY
                                       : CostAlgorithm::Chunked;
    const int64_t chunk =
        spec->chunkSize ? *spec->chunkSize : spec::defaultChunkSize(stateRows);
    double perToken = double(
        spec::flopsPerToken(algorithm, rankOne, chunk, stateRows, V));
    double tokens = double(B) * double(T);
    double flops = perToken * tokens * double(HV);
    double gflops = flops / (median * 1e-3) / 1e9;
    int usedThreads = linac_pool_threads(pool);
    double peak = peakGflops > 0
                      ? peakGflops.getValue()
                      : usedThreads * (vectorWidth == 16 ? 165.0 : 99.0);
    double stateBytes = decode ? 2.0 * S * HV * stateK * V * 4 : 0;
    double gbps = stateBytes / (median * 1e-3) / 1e9;
    if (!json) {
      llvm::outs() << llvm::format(
          "%s B=%lld T=%lld H=%lld HV=%lld K=%lld V=%lld threads=%d: median "
          "%.3f ms over %zu runs, %.3g tokens/s, %.1f GFLOP/s (%.1f%% of "
          "%.0f GFLOP/s peak)",
          kernelName.c_str(), (long long)B, (long long)T,
          (long long)problem.q.shape[2], (long long)HV, (long long)K,
          (long long)V, usedThreads, median, times.size(),
          tokens / (median * 1e-3), gflops, 100.0 * gflops / peak, peak);
      if (decode)
        llvm::outs() << llvm::format(", state %.1f GB/s", gbps);
      llvm::outs() << "\n";
    }
    benchJson = llvm::formatv(
                    "\"median_ms\": {0:f4}, \"min_ms\": {1:f4}, \"runs\": {2}, "
                    "\"tokens_per_s\": {3:e}, \"gflops\": {4:f2}, "
                    "\"peak_gflops\": {5:f1}, \"peak_fraction\": {6:f4}, "
                    "\"state_gb_per_s\": {7:f2}",
                    median, times.front(), times.size(),
                    tokens / (median * 1e-3), gflops, peak, gflops / peak, gbps)
                    .str();
  }

  if (json) {
    llvm::outs() << llvm::formatv(
        "{{\"kernel\": \"{0}\", \"variant\": \"{1}\", \"mode\": \"{2}\", "
        "\"cpu\": \"{3}\", \"B\": {4}, \"T\": {5}, \"H\": {6}, \"HV\": {7}, "
        "\"K\": {8}, \"V\": {9}, \"dtype\": \"{10}\", \"threads\": {11}, "
        "\"compile_ms\": {12:f1}, \"compiled\": {13}, \"rebuilt\": {14}",
        kernelName, oracle::variantName(spec->variant), mode.getValue(),
        cpuName, B, T, problem.q.shape[2], HV, K, V, npyDescr(problem.q.dtype),
        linac_pool_threads(pool), compileMs, compiled ? "true" : "false",
        compileInfo.rebuilt ? "true" : "false");
    if (!benchJson.empty())
      llvm::outs() << ", " << benchJson;
    if (!checkJson.empty())
      llvm::outs() << ", \"check\": " << checkJson;
    llvm::outs() << "}\n";
  }
  linac_pool_destroy(pool);
  linac_module_unload(module);
  return exitCode;
}
