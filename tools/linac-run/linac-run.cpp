//===- linac-run.cpp - compile, run, check and benchmark a spec -----------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// linac-run SPEC [--target=cpu|cuda|cuda:sm_90a|cuda:sm_80] [--cuda-emulate]
//           [--cpu=NAME] [--mode=prefill|decode] [--shape=B=1,T=4096]
//           [--inputs=DIR] [--outputs=DIR] [--check] [--bench] [--reps=N]
//           [--threads=N] [--json] [--artifact=FILE] ...
//
// Compiles the spec with linac_compile (liblinac_jit: the same pipeline as
// linacc, and the same on-disk cache as every other caller, keyed by the
// spec, the target and the compiler build), or loads the artifact linacc
// wrote for it (--artifact), runs one kernel on seeded random inputs (or
// .npy inputs), and optionally compares with the float64 oracle and
// measures it. liblinac_jit is opened only to compile: with --artifact the
// tool needs no LLVM or MLIR on the machine (a GPU machine with only a
// driver, as bench/run_gpu.sh uses).
//
// One flow serves every target; only the layer that holds the tensors and
// launches the kernel differs (class Backend below):
//   - cpu: the kernel runs on the host arrays, on the runtime's pool;
//   - cuda: the tensors are copied to device memory, the kernel is queued
//     on a stream (linac_kernel_launch_cuda), timed with CUDA events, and
//     the outputs are copied back (linac.h's linac_cuda_* helpers);
//   - cuda with --cuda-emulate: the CUDA kernels' own code built for this
//     CPU, with the tensors copied into separate buffers standing in for
//     device memory (poisoned like them) and a host clock for events, so
//     that everything but the memory and launch layer is the code a GPU
//     run uses, and is tested on machines without one.
//
// Exit status: 0 ok, 1 input error (spec, options, target, cache directory,
// no GPU) or a failed check, 2 internal error (a compiler bug, an artifact
// that does not load, a CUDA error while running).
//
//===----------------------------------------------------------------------===//

#include "linac/Spec/Spec.h"
#include "linac/runtime/Npy.h"
#include "linac/runtime/Oracle.h"
#include "linac/runtime/RandomProblem.h"
#include "linac/runtime/Tensor.h"
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

#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>

using namespace linac;
namespace cl = llvm::cl;

namespace {

enum ExitCode { Success = 0, Failure = 1, InternalError = 2 };

cl::OptionCategory category("linac-run options");
cl::opt<std::string> specPath(cl::Positional, cl::Required,
                              cl::desc("<spec.toml>"), cl::cat(category));
cl::opt<std::string> target(
    "target",
    cl::desc("cpu, cuda:sm_90a, cuda:sm_80, or cuda (the architecture of "
             "device 0). A cuda target needs a GPU, unless --cuda-emulate"),
    cl::init("cpu"), cl::cat(category));
cl::opt<bool> cudaEmulate(
    "cuda-emulate",
    cl::desc("With --target=cuda:CHIP: run the CUDA kernels' own code built "
             "for this CPU (tensor-core operands rounded as on the GPU, a "
             "block's threads serialized between barriers), through the same "
             "set-up, copies, launch, check and output code as a GPU run; no "
             "GPU needed"),
    cl::init(false), cl::cat(category));
cl::opt<std::string> cpu("cpu",
                         cl::desc("native | x86-64-v3 | x86-64-v4 (default: "
                                  "the spec's; --target=cpu only)"),
                         cl::init(""), cl::cat(category));
cl::opt<std::string> mode("mode", cl::desc("prefill | decode"),
                          cl::init("prefill"), cl::cat(category));
cl::opt<std::string>
    shape("shape",
          cl::desc("Problem size, e.g. B=1,T=4096 (also H, HV when the spec "
                   "leaves them open, N for varlen: N sequences of uneven "
                   "lengths summing to T, P for a state pool's slots, "
                   "default 2 S + 1). Default B=1,T=1024 (prefill), "
                   "B=1,T=4 (decode)"),
          cl::init(""), cl::cat(category));
cl::opt<std::string> inputsDir(
    "inputs", cl::desc("Read q.npy k.npy v.npy (and g, beta, a, b, u, h0, "
                       "cu_seqlens, state_indices as the spec needs) from "
                       "this directory"),
    cl::init(""), cl::cat(category));
cl::opt<std::string> outputsDir("outputs",
                                cl::desc("Write o.npy and ht.npy (float32)"),
                                cl::init(""), cl::cat(category));
cl::opt<bool> check("check",
                    cl::desc("Compare o and ht with the float64 oracle at the "
                             "SEMANTICS.md tolerance"),
                    cl::init(false), cl::cat(category));
cl::opt<bool> bench("bench",
                    cl::desc("Time the kernel: a warm-up call, then timed "
                             "calls (CUDA events on a GPU); median, min, "
                             "FLOP/s, bytes/s, fraction of peak, first call "
                             "vs tenth"),
                    cl::init(false), cl::cat(category));
// --threads is parsed by hand: libLLVM already registers a "threads"
// option of its own, and two cl::opts of one name abort at start-up.
int threads = 0;
cl::opt<bool> json("json", cl::desc("Print one JSON object"), cl::init(false),
                   cl::cat(category));
cl::opt<int> reps("reps",
                  cl::desc("Timed repetitions (default: about 1 s of them, "
                           "at least 10; on a GPU at most 2000)"),
                  cl::init(0), cl::cat(category));
cl::opt<uint64_t> seed("seed", cl::desc("Seed of the random inputs"),
                       cl::init(1), cl::cat(category));
cl::opt<bool> strided(
    "strided",
    cl::desc("Pass q, k, v, g and o as non-contiguous views (every outer "
             "stride padded by --stride-pad elements, as slices of a wider "
             "fused tensor would be)"),
    cl::init(false), cl::cat(category));
cl::opt<int> stridePad(
    "stride-pad",
    cl::desc("Elements --strided adds to each outer stride (default 16; an "
             "odd pad leaves 16-bit rows only 2-byte aligned)"),
    cl::init(16), cl::cat(category));
cl::opt<bool> noH0("no-h0", cl::desc("Prefill without an initial state"),
                   cl::init(false), cl::cat(category));
cl::opt<int64_t> padRows(
    "pad",
    cl::desc("With a state pool (state_indices = true): give the last N "
             "sequences the padding index -1 (their state is neither read "
             "nor written and their output is zero)"),
    cl::init(0), cl::cat(category));
cl::opt<std::string> gates(
    "gates",
    cl::desc("random (default) | extreme: log gates of 0, -80 and -inf "
             "(hard resets) at chosen tokens, for testing"),
    cl::init("random"), cl::cat(category));
cl::opt<double> betaValue(
    "beta",
    cl::desc("The delta rule's write strength for every token (0: no write, "
             "1: replace, 2: reflect); default: random in (0, 1)"),
    cl::init(-1), cl::cat(category));
cl::opt<double> peakGflops(
    "peak-gflops",
    cl::desc("Compute peak for --bench's fraction, GFLOP/s (default: on a "
             "CPU 165 per thread with AVX-512, 99 with AVX2, TOOLCHAIN.md's "
             "measurement on this project's 2-core Ice Lake kind; on a GPU "
             "the device's tensor-core peak for 16-bit inputs, its FP32 peak "
             "for f32 inputs, from a datasheet table or the device's clocks)"),
    cl::init(0), cl::cat(category));
cl::opt<double> peakGbps(
    "peak-gbps",
    cl::desc("Memory bandwidth for --bench's fraction, GB/s (default on a GPU: "
             "the datasheet's or memory clock x bus width; none on a CPU)"),
    cl::init(0), cl::cat(category));
cl::opt<bool> outlineOps(
    "outline-ops",
    cl::desc("Compile each chunked-scan op into its own never-inlined "
             "function, so that `perf report` splits the kernel's time by op "
             "(slower; for profiling; cpu only)"),
    cl::init(false));

cl::opt<std::string> artifact(
    "artifact",
    cl::desc("Run the kernels of this shared artifact (linacc --emit=shared "
             "for the same spec file, --target as here) instead of compiling "
             "the spec; no LLVM or MLIR needed then"),
    cl::init(""), cl::cat(category));

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

using CompileFn = linac_module *(*)(const char *, size_t,
                                    const linac_compile_options *,
                                    linac_compile_info *, linac_error *);

/// linac_compile, from liblinac_jit opened beside this tool (RUNPATH), or
/// null with the reason: the library carries the compiler, and needs
/// Debian's libMLIR.so and libLLVM.so 22.
CompileFn loadCompiler(std::string &error) {
  void *handle = dlopen(LINAC_JIT_LIBRARY, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *reason = dlerror();
    error = reason ? reason : "unknown dlopen error";
    return nullptr;
  }
  // Kept open: the modules it returns are its loader's.
  void *symbol = dlsym(handle, "linac_compile");
  if (!symbol)
    error = std::string(LINAC_JIT_LIBRARY) + " has no linac_compile";
  return reinterpret_cast<CompileFn>(symbol);
}

/// linac_compile's diagnostics (a pass that rejects the spec, with
/// file:line:col; a note when a damaged cache entry is rebuilt) go to
/// stderr in full.
void printDiagnostic(void *, const char *text) { llvm::errs() << text << "\n"; }

/// The exit status for a runtime or linac_compile failure: problems with
/// what the user gave (spec, options, target, cache directory, a tensor the
/// runtime rejects) are input errors.
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

int64_t elementSize(int32_t dtype) {
  return dtype == LINAC_F32 || dtype == LINAC_I32 ? 4
         : dtype == LINAC_I64                     ? 8
                                                  : 2;
}

/// Bytes a view addresses, from its first element to its last (0 for no
/// elements): what a device copy of it must hold.
uint64_t extentBytes(const linac_tensor &t) {
  uint64_t span = 0;
  for (int32_t d = 0; d < t.rank; ++d) {
    if (t.shape[d] == 0)
      return 0;
    span += static_cast<uint64_t>(t.shape[d] - 1) *
            static_cast<uint64_t>(t.strides[d]);
  }
  return (span + 1) * static_cast<uint64_t>(elementSize(t.dtype));
}

/// Elements of a view (its logical size, padding excluded).
int64_t numElements(const linac_tensor &t) {
  int64_t n = 1;
  for (int32_t d = 0; d < t.rank; ++d)
    n *= t.shape[d];
  return n;
}

/// Elements of `array` as doubles.
std::vector<double> toDoubles(const NpyArray &array) {
  std::vector<double> out(array.numElements());
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = loadAsDouble(array.bytes.data(), array.dtype,
                          static_cast<int64_t>(i));
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
    if (key != "B" && key != "T" && key != "H" && key != "HV" && key != "N" &&
        key != "P") {
      fail("--shape: unknown dimension '" + key + "' (B, T, H, HV, N, P)");
      return false;
    }
    dims[key.str()] = number;
  }
  return true;
}

/// --gates=extreme: log gates of 0, -80 and -inf at chosen tokens (the CPU
/// grid's rule): hard resets at 5, 70 and 71, -80 at 9 and 100, no decay at
/// 20..39 and from 140, and every 7th token a mix of reset and untouched
/// keys.
void makeGatesExtreme(NpyArray &g) {
  const int64_t B = g.shape[0], T = g.shape[1];
  const int64_t perToken = g.numElements() / (B * T);
  float *values = g.dataAs<float>();
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t)
      for (int64_t i = 0; i < perToken; ++i) {
        float &x = values[(b * T + t) * perToken + i];
        if (t == 5 || t == 70 || t == 71)
          x = -INFINITY;
        else if (t == 9 || t == 100)
          x = -80.0f;
        else if ((t >= 20 && t < 40) || t >= 140)
          x = 0.0f;
        else if (t % 7 == 0)
          x = i % 3 == 0 ? -INFINITY : 0.0f;
      }
}

//===----------------------------------------------------------------------===//
// Backends: where the tensors live and how the kernel runs
//===----------------------------------------------------------------------===//

/// The layer between linac-run's one flow and a target. Every method
/// returns false with a message in `error` on failure.
class Backend {
public:
  virtual ~Backend() = default;

  /// Gives the kernel its view of `view`'s bytes: for a device, a copy in
  /// device memory (the input's bytes, or for an output 0xff bytes, NaN in
  /// every float type, so that an element the kernel never writes cannot
  /// pass the check); on the CPU the host array itself (outputs poisoned
  /// the same way). Views sharing their host bytes share their copy (decode
  /// updates h0 in place as ht). `view.data` is replaced.
  bool place(linac_tensor &view, bool input, std::string &error) {
    const uint64_t bytes = extentBytes(view);
    if (bytes == 0)
      return true;
    auto found = placed.find(view.data);
    if (found != placed.end() && found->second.second == bytes) {
      view.data = found->second.first;
      return true;
    }
    void *copy = nullptr;
    if (!allocate(bytes, copy, error))
      return false;
    // Recorded first: the backend frees what `placed` holds.
    placed[view.data] = {copy, bytes};
    if (input ? !toDevice(copy, view.data, bytes, error)
              : !poison(copy, bytes, error))
      return false;
    view.data = copy;
    return true;
  }

  /// Copies the bytes of a placed view back into its host view.
  virtual bool fetch(const linac_tensor &device, const linac_tensor &host,
                     std::string &error) = 0;
  /// Queues (on a device) or runs (on the CPU) one call of the kernel.
  virtual int32_t launch(const linac_kernel *kernel,
                         const std::vector<const linac_tensor *> &tensors,
                         linac_error *err) = 0;
  /// Waits for every call queued so far.
  virtual bool synchronize(std::string &error) = 0;
  /// Records a timing mark after the calls queued so far; returns its
  /// index.
  virtual bool mark(size_t &index, std::string &error) = 0;
  /// Milliseconds between two marks (waits for the later one).
  virtual bool elapsed(size_t from, size_t to, double &ms,
                       std::string &error) = 0;
  /// The runtime's pool (CPU kernels, emulated ones included), or null.
  virtual linac_pool *pool() { return nullptr; }

protected:
  virtual bool allocate(uint64_t bytes, void *&copy, std::string &error) = 0;
  virtual bool toDevice(void *copy, const void *host, uint64_t bytes,
                        std::string &error) = 0;
  virtual bool poison(void *copy, uint64_t bytes, std::string &error) = 0;

  /// Host bytes -> their placed copy and its size.
  std::map<const void *, std::pair<void *, uint64_t>> placed;
};

/// Kernels that run on the calling thread and the runtime's pool; marks
/// read a host clock (the calls are synchronous).
class HostClockBackend : public Backend {
public:
  ~HostClockBackend() override { linac_pool_destroy(threadPool); }

  bool open(std::string &error) {
    linac_error err;
    threadPool = linac_pool_create(threads, &err);
    if (!threadPool)
      error = err.message;
    return threadPool != nullptr;
  }
  int32_t launch(const linac_kernel *kernel,
                 const std::vector<const linac_tensor *> &tensors,
                 linac_error *err) override {
    return linac_kernel_launch(kernel, tensors.data(),
                               static_cast<int32_t>(tensors.size()),
                               threadPool, err);
  }
  bool synchronize(std::string &) override { return true; }
  bool mark(size_t &index, std::string &) override {
    index = marks.size();
    marks.push_back(std::chrono::steady_clock::now());
    return true;
  }
  bool elapsed(size_t from, size_t to, double &ms, std::string &) override {
    ms = std::chrono::duration<double, std::milli>(marks[to] - marks[from])
             .count();
    return true;
  }
  linac_pool *pool() override { return threadPool; }

private:
  linac_pool *threadPool = nullptr;
  std::vector<std::chrono::steady_clock::time_point> marks;
};

/// --target=cpu: the kernel reads and writes the host arrays.
class CpuBackend : public HostClockBackend {
public:
  bool fetch(const linac_tensor &, const linac_tensor &,
             std::string &) override {
    return true;
  }

protected:
  bool allocate(uint64_t, void *&, std::string &) override { return true; }
  bool toDevice(void *, const void *, uint64_t, std::string &) override {
    return true;
  }
  bool poison(void *, uint64_t, std::string &) override { return true; }

public:
  /// On the CPU "placing" a view is poisoning its outputs in place.
  bool placeHost(linac_tensor &view, bool input) {
    if (!input && !placed.count(view.data))
      std::memset(view.data, 0xff, extentBytes(view));
    placed[view.data] = {view.data, extentBytes(view)};
    return true;
  }
};

/// --target=cuda:* --cuda-emulate: the emulated CUDA kernels (CPU code) on
/// buffers of their own standing in for device memory, aligned like
/// cuMemAlloc's (256 bytes) and copied in and out like device memory.
class EmulatedBackend : public HostClockBackend {
public:
  ~EmulatedBackend() override {
    for (void *buffer : buffers)
      std::free(buffer);
  }
  bool fetch(const linac_tensor &device, const linac_tensor &host,
             std::string &) override {
    if (uint64_t bytes = extentBytes(host))
      std::memcpy(host.data, device.data, bytes);
    return true;
  }

protected:
  bool allocate(uint64_t bytes, void *&copy, std::string &error) override {
    copy = std::aligned_alloc(256, (bytes + 255) / 256 * 256);
    if (!copy) {
      error = "out of memory allocating " + std::to_string(bytes) +
              " bytes of emulated device memory";
      return false;
    }
    buffers.push_back(copy);
    return true;
  }
  bool toDevice(void *copy, const void *host, uint64_t bytes,
                std::string &) override {
    std::memcpy(copy, host, bytes);
    return true;
  }
  bool poison(void *copy, uint64_t bytes, std::string &) override {
    std::memset(copy, 0xff, bytes);
    return true;
  }

private:
  std::vector<void *> buffers;
};

/// --target=cuda:*: device memory, a stream and CUDA events through the
/// runtime's linac_cuda_* helpers (the driver it opened; nothing here
/// links CUDA). Every CUDA error is the runtime's message.
class CudaBackend : public Backend {
public:
  ~CudaBackend() override {
    for (void *event : events)
      linac_cuda_event_destroy(event, nullptr);
    for (auto &entry : placed)
      linac_cuda_free(entry.second.first, nullptr);
    linac_cuda_stream_destroy(stream, nullptr);
  }

  bool open(std::string &error) {
    return check(linac_cuda_stream_create(&stream, &err), error);
  }
  bool fetch(const linac_tensor &device, const linac_tensor &host,
             std::string &error) override {
    return check(linac_cuda_memcpy_dtoh(host.data, device.data,
                                        extentBytes(host), &err),
                 error);
  }
  int32_t launch(const linac_kernel *kernel,
                 const std::vector<const linac_tensor *> &tensors,
                 linac_error *launchErr) override {
    return linac_kernel_launch_cuda(kernel, tensors.data(),
                                    static_cast<int32_t>(tensors.size()),
                                    stream, launchErr);
  }
  bool synchronize(std::string &error) override {
    return check(linac_cuda_stream_synchronize(stream, &err), error);
  }
  bool mark(size_t &index, std::string &error) override {
    void *event = nullptr;
    if (!check(linac_cuda_event_create(&event, &err), error))
      return false;
    events.push_back(event);
    index = events.size() - 1;
    return check(linac_cuda_event_record(event, stream, &err), error);
  }
  bool elapsed(size_t from, size_t to, double &ms,
               std::string &error) override {
    float value = 0;
    if (!check(linac_cuda_event_elapsed(&value, events[from], events[to],
                                        &err),
               error))
      return false;
    ms = value;
    return true;
  }

protected:
  bool allocate(uint64_t bytes, void *&copy, std::string &error) override {
    // Freed by the destructor through `placed`, which place() fills next.
    return check(linac_cuda_malloc(bytes, &copy, &err), error);
  }
  bool toDevice(void *copy, const void *host, uint64_t bytes,
                std::string &error) override {
    return check(linac_cuda_memcpy_htod(copy, host, bytes, &err), error);
  }
  bool poison(void *copy, uint64_t bytes, std::string &error) override {
    return check(linac_cuda_memset(copy, 0xff, bytes, &err), error);
  }

private:
  bool check(int32_t status, std::string &error) {
    if (status != LINAC_OK)
      error = err.message;
    return status == LINAC_OK;
  }

  linac_error err{};
  void *stream = nullptr;
  std::vector<void *> events;
};

//===----------------------------------------------------------------------===//
// Peaks of the machines the bench compares against
//===----------------------------------------------------------------------===//

/// What --bench measures a GPU kernel against.
struct DevicePeak {
  double tensorTflops = 0; ///< dense bf16/f16 tensor cores, f32 accumulation
  double fp32Tflops = 0;   ///< FP32 FMAs on the CUDA cores
  double gbps = 0;         ///< device memory bandwidth
  std::string source;
};

/// The peak of `info`'s device. Known boards come from NVIDIA's datasheets
/// (the dense figures: half the "with sparsity" ones; boost clocks); any
/// other device is derived from what the driver reports: SMs x SM clock x
/// the per-SM rate of its architecture (Hopper 4096 dense 16-bit tensor
/// FLOP and 256 FP32 FLOP per clock, A100 2048 and 128, other Ampere/Ada
/// 1024 and 256), and memory clock x 2 (double data rate) x bus width.
DevicePeak devicePeak(const linac_cuda_device_info &info) {
  llvm::StringRef name(info.name);
  struct Known {
    const char *name, *exclude;
    double tensor, fp32, gbps;
  };
  // Most specific names first.
  static const Known kKnown[] = {
      {"H100 NVL", nullptr, 835.5, 60.0, 3900},
      {"H100 PCIe", nullptr, 756.5, 51.2, 2000},
      {"H100", nullptr, 989.4, 66.9, 3350},  // SXM5, 80 GB HBM3
      {"H200 NVL", nullptr, 835.5, 60.0, 4800},
      {"H200", nullptr, 989.4, 66.9, 4800},  // SXM5, 141 GB HBM3e
      {"A100-SXM4-80GB", nullptr, 312.0, 19.5, 2039},
      {"A100 80GB PCIe", nullptr, 312.0, 19.5, 1935},
      {"A100", nullptr, 312.0, 19.5, 1555},  // 40 GB
  };
  for (const Known &known : kKnown)
    if (name.contains(known.name))
      return {known.tensor, known.fp32, known.gbps,
              std::string("NVIDIA datasheet for ") + known.name +
                  " (dense, boost clock)"};
  DevicePeak peak;
  const double sms = info.multiprocessors, hz = info.clock_khz * 1e3;
  double tensorPerClock = 1024, fp32PerClock = 256;
  if (info.major == 9) {
    tensorPerClock = 4096;
  } else if (info.major == 8 && info.minor == 0) {
    tensorPerClock = 2048;
    fp32PerClock = 128;
  }
  peak.tensorTflops = sms * hz * tensorPerClock / 1e12;
  peak.fp32Tflops = sms * hz * fp32PerClock / 1e12;
  peak.gbps = info.memory_clock_khz * 1e3 * 2 * info.memory_bus_bits / 8 / 1e9;
  peak.source = "derived from the driver's SM count, clocks and memory bus "
                "width";
  return peak;
}

//===----------------------------------------------------------------------===//
// The target
//===----------------------------------------------------------------------===//

/// What --target and --cuda-emulate ask for.
struct Target {
  bool cuda = false;
  bool emulate = false;
  std::string chip;            ///< sm_90a, sm_80 (cuda)
  std::string compile;         ///< linac_compile's target string
  linac_cuda_device_info info; ///< device 0 (cuda, not emulated)
};

/// Resolves --target; returns an exit status, or -1 to go on.
int resolveTarget(Target &t) {
  llvm::StringRef name = target;
  if (name == "cpu") {
    if (cudaEmulate)
      return fail("--cuda-emulate runs CUDA kernels on the CPU: it needs "
                  "--target=cuda:sm_90a or cuda:sm_80");
    t.compile = cpu.empty() ? "cpu" : "cpu:" + cpu.getValue();
    return -1;
  }
  if (name != "cuda" && name != "cuda:sm_90a" && name != "cuda:sm_80")
    return fail("unknown target '" + name +
                "' (expected cpu, cuda, cuda:sm_90a or cuda:sm_80)");
  t.cuda = true;
  t.emulate = cudaEmulate;
  if (!cpu.empty())
    return fail("--cpu applies to --target=cpu (emulated CUDA kernels are "
                "built for this CPU)");
  if (outlineOps)
    return fail("--outline-ops applies to --target=cpu");
  if (t.emulate) {
    if (name == "cuda")
      return fail("--cuda-emulate needs the chip whose kernels to emulate: "
                  "--target=cuda:sm_90a or cuda:sm_80");
    t.chip = name.drop_front(5).str();
    t.compile = name.str();
    return -1;
  }
  linac_error err;
  if (linac_cuda_get_device_info(0, &t.info, &err) != LINAC_OK)
    return fail("--target=" + name + " needs a GPU: " + err.message +
                "; --cuda-emulate runs the kernels' code on this CPU "
                "instead");
  if (name == "cuda") {
    if (t.info.major == 9 && t.info.minor == 0)
      t.chip = "sm_90a";
    else if (t.info.major == 8)
      t.chip = "sm_80";
    else
      return fail(llvm::formatv("--target=cuda: device 0 ({0}) has compute "
                                "capability {1}.{2}; linac builds for sm_90a "
                                "(9.0) and sm_80 (8.x)",
                                t.info.name, t.info.major, t.info.minor)
                      .str());
  } else {
    t.chip = name.drop_front(5).str();
  }
  t.compile = "cuda:" + t.chip;
  return -1;
}

/// One `tensor` record of a manifest.
struct ManifestTensor {
  std::string name;
  bool output = false;
};

/// What linac-run reads from a kernel's manifest.
struct KernelInfo {
  bool cuda = false;         ///< `target cuda ...`
  std::string cpuName = "-"; ///< `target cpu NAME ...`
  int64_t vectorWidth = 8;   ///< f32 lanes of that CPU's kernels
  std::string algorithm;     ///< `schedule ALGORITHM CHUNK`, if any
  int64_t chunk = 0;
  std::vector<ManifestTensor> tensors;
};

KernelInfo readManifest(const linac_kernel *kernel) {
  KernelInfo info;
  for (llvm::StringRef line :
       llvm::split(llvm::StringRef(linac_kernel_manifest(kernel)), '\n')) {
    llvm::SmallVector<llvm::StringRef> fields;
    line.split(fields, ' ');
    if (fields.size() >= 2 && fields[0] == "target" && fields[1] == "cuda") {
      info.cuda = true;
    } else if (fields.size() >= 3 && fields[0] == "target" &&
               fields[1] == "cpu") {
      info.cpuName = fields[2].str();
      if (fields.size() >= 4 &&
          llvm::is_contained(llvm::split(fields[3], ','), "avx512f"))
        info.vectorWidth = 16;
    } else if (fields.size() == 3 && fields[0] == "schedule") {
      info.algorithm = fields[1].str();
      fields[2].getAsInteger(10, info.chunk);
    } else if (fields.size() >= 3 && fields[0] == "tensor") {
      info.tensors.push_back({fields[1].str(), fields[2] == "out"});
    }
  }
  return info;
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
      "oracle and time it\n\n"
      "  --threads=N   threads of the runtime's pool (default: all cores; "
      "CPU and emulated CUDA kernels)\n\n"
      "Targets: cpu (default); cuda:sm_90a or cuda:sm_80 (or cuda, the chip "
      "of device 0) copies the tensors to the GPU, launches on a stream and "
      "times with CUDA events; with --cuda-emulate the same flow runs the "
      "CUDA kernels' code on this CPU.\n"
      "Exit status: 0 ok, 1 input error or failed check, 2 internal or CUDA "
      "error.\n");

  if (mode != "prefill" && mode != "decode")
    return fail("--mode must be prefill or decode, not '" + mode + "'");
  const bool decode = mode == "decode";
  if (gates != "random" && gates != "extreme")
    return fail("--gates must be random or extreme, not '" + gates + "'");
  if (stridePad < 0)
    return fail("--stride-pad must be >= 0");
  Target tgt;
  if (int status = resolveTarget(tgt); status >= 0)
    return status;

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

  // Compile, or reuse the cached artifact; or load the one given.
  linac_compile_info compileInfo{};
  linac_error err{};
  linac_module *module = nullptr;
  if (!artifact.empty()) {
    auto loadStart = std::chrono::steady_clock::now();
    module = linac_module_load(artifact.c_str(), &err);
    compileInfo.milliseconds =
        std::chrono::duration<double, std::milli>(
            std::chrono::steady_clock::now() - loadStart)
            .count();
    if (!module)
      return fail(err.message, exitStatusFor(err.code));
  } else {
    auto specText = llvm::MemoryBuffer::getFile(specPath);
    if (!specText)
      return fail("cannot read '" + specPath + "'");
    CompileFn compile = loadCompiler(error);
    if (!compile)
      return fail("cannot load the compiler library " LINAC_JIT_LIBRARY ": " +
                  error +
                  "; compile the spec where linac's compiler runs (linacc "
                  "SPEC --target=... -o FILE.so) and pass --artifact=FILE.so");
    linac_compile_options compileOptions{};
    compileOptions.source_name = specPath.c_str();
    compileOptions.format = LINAC_SOURCE_TOML;
    compileOptions.name = name.c_str();
    compileOptions.target = tgt.compile.c_str();
    compileOptions.cache_dir = cacheDir.empty() ? nullptr : cacheDir.c_str();
    compileOptions.diagnostic = printDiagnostic;
    if (outlineOps)
      compileOptions.flags |= LINAC_COMPILE_OUTLINE_OPS;
    if (tgt.emulate)
      compileOptions.flags |= LINAC_COMPILE_CUDA_EMULATE;
    module = compile((*specText)->getBufferStart(),
                     (*specText)->getBufferSize(), &compileOptions,
                     &compileInfo, &err);
    if (!module) {
      // Spec errors were printed in full by printDiagnostic.
      if (err.code != LINAC_ERROR_SPEC)
        fail(err.message);
      return exitStatusFor(err.code);
    }
  }
  const bool compiled = compileInfo.compiled;
  const double compileMs = compileInfo.milliseconds;
  // For a CUDA kernel the lookup loads its cubin into the GPU's context.
  auto loadStart = std::chrono::steady_clock::now();
  linac_kernel *kernel = linac_module_kernel(module, kernelName.c_str(), &err);
  const double loadMs = std::chrono::duration<double, std::milli>(
                            std::chrono::steady_clock::now() - loadStart)
                            .count();
  if (!kernel) {
    linac_module_unload(module);
    return fail(err.message, exitStatusFor(err.code));
  }
  const KernelInfo kernelInfo = readManifest(kernel);
  // An artifact's kernels must be what --target runs: cubins on a GPU, CPU
  // code (the emulated CUDA kernels included) on the CPU.
  if (kernelInfo.cuda != (tgt.cuda && !tgt.emulate)) {
    linac_module_unload(module);
    return fail(kernelInfo.cuda
                    ? "'" + artifact + "' holds CUDA kernels: run them with "
                          "--target=cuda (or cuda:sm_90a, cuda:sm_80)"
                    : "'" + artifact + "' holds CPU kernels: run them with "
                          "--target=cpu, or --target=cuda:CHIP "
                          "--cuda-emulate for emulated CUDA kernels");
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
  if (spec->stateIndices) {
    // Sequences: B, or N with varlen (3 by default, as below).
    const int64_t sequences =
        spec->varlen && !decode ? (dims.count("N") ? dims["N"] : 3) : options.B;
    options.poolSize = dims.count("P") ? dims["P"] : 2 * sequences + 1;
    options.paddingRows = padRows;
    if (options.poolSize < 1 || padRows < 0 || padRows > sequences)
      return fail("a state pool needs P >= 1 and 0 <= --pad <= " +
                  std::to_string(sequences) + " (the sequences)");
  } else if (padRows != 0 || dims.count("P")) {
    return fail("--pad and P= need a spec with state_indices = true");
  }
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
  // The oracle's views point into these arrays: changing the values in
  // place changes the problem.
  if (gates == "extreme") {
    if (problem.g.bytes.empty() || problem.g.dtype != DType::F32)
      return fail("--gates=extreme needs a variant with log gates g");
    makeGatesExtreme(problem.g);
  }
  if (betaValue >= 0) {
    if (problem.beta.bytes.empty() || problem.beta.dtype != DType::F32)
      return fail("--beta needs a delta-rule variant (delta_rule, "
                  "gated_delta_rule, kda)");
    float *values = problem.beta.dataAs<float>();
    for (int64_t i = 0; i < problem.beta.numElements(); ++i)
      values[i] = static_cast<float>(betaValue);
  }
  std::map<std::string, NpyArray *> inputs = {
      {"q", &problem.q},   {"k", &problem.k},   {"v", &problem.v},
      {"g", &problem.g},   {"beta", &problem.beta}, {"a", &problem.a},
      {"b", &problem.b},   {"u", &problem.u},       {"h0", &problem.h0},
      {"cu_seqlens", &problem.cuSeqlens},
      {"state_indices", &problem.stateIndices},
  };
  if (!inputsDir.empty()) {
    for (auto &[inputName, array] : inputs) {
      llvm::SmallString<256> path(inputsDir);
      llvm::sys::path::append(path, inputName + ".npy");
      if (!llvm::sys::fs::exists(path))
        continue;
      if (!readNpyFile(std::string(path), *array, error))
        return fail(error);
      const bool integer =
          inputName == "cu_seqlens" || inputName == "state_indices";
      if (integer && array->dtype == DType::I64) {
        NpyArray narrow =
            makeNpyArray(DType::I32, array->shape);
        for (int64_t i = 0; i < array->numElements(); ++i)
          narrow.dataAs<int32_t>()[i] =
              static_cast<int32_t>(array->dataAs<int64_t>()[i]);
        *array = std::move(narrow);
      }
      // Gates, write strengths and the state are f32 in every kernel.
      if (inputName != "q" && inputName != "k" && inputName != "v" &&
          !integer)
        if (array->dtype != DType::F32)
          *array = toFloat32(*array);
    }
    oracle::Problem &p = problem.problem;
    std::map<std::string, TensorView *> problemViews = {
        {"q", &p.q},       {"k", &p.k},   {"v", &p.v},
        {"g", &p.g},       {"beta", &p.beta}, {"a", &p.a},
        {"b", &p.b},       {"u", &p.u},   {"h0", &p.h0},
        {"cu_seqlens", &p.cuSeqlens}, {"state_indices", &p.stateIndices}};
    for (auto &entry : inputs)
      if (!entry.second->bytes.empty() &&
          !getTensorView(*entry.second, *problemViews[entry.first], error))
        return fail(entry.first + ".npy: " + error);
  }

  // Outputs and the host views of every tensor.
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
  // Decode and a state pool update the state in place: ht is h0's storage.
  // Keep h0's values for the oracle.
  const bool inPlace = decode || spec->stateIndices;
  NpyArray h0Copy = problem.h0;
  std::map<std::string, linac_tensor> views;
  for (auto &[inputName, array] : inputs)
    if (!array->bytes.empty())
      views[inputName] = viewOf(*array);
  views["o"] = viewOf(o);
  views["ht"] = inPlace ? viewOf(problem.h0) : viewOf(ht);

  // --strided: copy the rank-4 activations into padded storage, so that
  // every outer stride differs from the contiguous one.
  std::map<std::string, std::vector<uint8_t>> padded;
  auto restride = [&](const std::string &tensorName, bool copyIn) {
    linac_tensor &t = views[tensorName];
    if (t.rank != 4)
      return;
    const int64_t eb = elementSize(t.dtype), pad = stridePad;
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

  // The backend, and the kernel's own views of the tensors it uses: device
  // copies for a GPU or its emulation, the host arrays on the CPU.
  std::unique_ptr<Backend> backend;
  CpuBackend *cpuBackend = nullptr;
  if (!tgt.cuda) {
    auto made = std::make_unique<CpuBackend>();
    cpuBackend = made.get();
    if (!made->open(error))
      return fail(error, InternalError);
    backend = std::move(made);
  } else if (tgt.emulate) {
    auto made = std::make_unique<EmulatedBackend>();
    if (!made->open(error))
      return fail(error, InternalError);
    backend = std::move(made);
  } else {
    auto made = std::make_unique<CudaBackend>();
    if (!made->open(error))
      return fail(error, InternalError);
    backend = std::move(made);
  }
  std::map<std::string, linac_tensor> kernelViews;
  bool hasHt = false;
  for (bool outputs : {false, true})
    for (const ManifestTensor &tensor : kernelInfo.tensors) {
      if (tensor.output != outputs)
        continue;
      hasHt |= tensor.name == "ht";
      auto found = views.find(tensor.name);
      if (found == views.end())
        continue;
      linac_tensor view = found->second;
      bool placedOk = cpuBackend ? cpuBackend->placeHost(view, !outputs)
                                 : backend->place(view, !outputs, error);
      if (!placedOk)
        return fail("cannot stage '" + tensor.name + "' for the kernel: " +
                        error,
                    InternalError);
      kernelViews[tensor.name] = view;
    }
  // Tensors in the order of the manifest's `tensor` records.
  std::vector<const linac_tensor *> tensors;
  for (const ManifestTensor &tensor : kernelInfo.tensors) {
    auto found = kernelViews.find(tensor.name);
    tensors.push_back(found == kernelViews.end() ? nullptr : &found->second);
  }

  // The first call: its outputs are the ones checked and written. Timed on
  // its own (marks around it, and the host's wall clock around the launch
  // and the wait), to compare with later calls: a first-call stall (lazy
  // loading, compilation) would show here.
  size_t firstStart = 0, firstEnd = 0;
  auto wallStart = std::chrono::steady_clock::now();
  if (!backend->mark(firstStart, error))
    return fail(error, InternalError);
  if (backend->launch(kernel, tensors, &err) != LINAC_OK)
    return fail(err.message, exitStatusFor(err.code));
  if (!backend->mark(firstEnd, error) || !backend->synchronize(error))
    return fail("the kernel failed: " + error, InternalError);
  const double firstWallMs =
      std::chrono::duration<double, std::milli>(
          std::chrono::steady_clock::now() - wallStart)
          .count();
  double firstMs = 0;
  if (!backend->elapsed(firstStart, firstEnd, firstMs, error))
    return fail(error, InternalError);
  for (const char *output : {"o", "ht"}) {
    auto found = kernelViews.find(output);
    if (found != kernelViews.end() &&
        !backend->fetch(found->second, views[output], error))
      return fail(std::string("cannot copy '") + output + "' back: " + error,
                  InternalError);
  }
  if (strided)
    unstride("o", headMajor ? oStored : viewOf(o));
  if (headMajor)
    copyElements(bthdView(oStored), viewOf(o));
  const NpyArray &finalState = inPlace ? problem.h0 : ht;

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
      // JSON has no NaN: an error that is not a number is null.
      auto number = [](double x) {
        return std::isfinite(x) ? llvm::formatv("{0:e}", x).str()
                                : std::string("null");
      };
      checkJson += llvm::formatv("{0}\"{1}\": {{\"rel_rms\": {2}, "
                                 "\"max_abs\": {3}, \"pass\": {4}}",
                                 checkJson.size() > 1 ? ", " : "", outName,
                                 number(rel), number(maxAbs),
                                 pass ? "true" : "false")
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

  const char *targetName = !tgt.cuda ? "cpu" : tgt.emulate ? "cuda-emulate"
                                                           : "cuda";
  std::string deviceName =
      tgt.cuda && !tgt.emulate ? std::string(tgt.info.name) : kernelInfo.cpuName;
  std::string benchJson;
  if (bench) {
    // Decode updates its state in place: every repetition runs on the state
    // the previous one left, which is what a serving loop does.
    // A warm-up call, its time deciding how many to time.
    size_t warmStart = 0, warmEnd = 0;
    double warmMs = 0;
    if (!backend->mark(warmStart, error))
      return fail(error, InternalError);
    if (backend->launch(kernel, tensors, &err) != LINAC_OK)
      return fail(err.message, InternalError);
    if (!backend->mark(warmEnd, error) || !backend->synchronize(error) ||
        !backend->elapsed(warmStart, warmEnd, warmMs, error))
      return fail("the kernel failed: " + error, InternalError);
    // About a second of calls, at least 10; on a GPU at most 2000 (one
    // event each).
    const int cap = tgt.cuda && !tgt.emulate ? 2000 : 1000000;
    int count = reps > 0 ? reps.getValue()
                         : static_cast<int>(std::clamp(
                               std::ceil(1000.0 / std::max(warmMs, 1e-3)),
                               10.0, double(cap)));
    // Marks between back-to-back calls: call i runs between marks i and
    // i + 1.
    std::vector<size_t> marks(count + 1);
    if (!backend->mark(marks[0], error))
      return fail(error, InternalError);
    for (int i = 0; i < count; ++i) {
      if (backend->launch(kernel, tensors, &err) != LINAC_OK)
        return fail(err.message, InternalError);
      if (!backend->mark(marks[i + 1], error))
        return fail(error, InternalError);
    }
    if (!backend->synchronize(error))
      return fail("the kernel failed: " + error, InternalError);
    std::vector<double> times(count);
    for (int i = 0; i < count; ++i)
      if (!backend->elapsed(marks[i], marks[i + 1], times[i], error))
        return fail(error, InternalError);
    // The first call was the checked one, the second the warm-up: the
    // tenth is the eighth timed one.
    const double tenthMs = count >= 8 ? times[7] : -1;
    std::sort(times.begin(), times.end());
    double median = times[times.size() / 2];
    // FLOP as linacc --explain counts them, for the algorithm and chunk
    // length the kernel's manifest records (older manifests: what
    // linac-select picks for a CPU).
    using spec::CostAlgorithm;
    using spec::CostRankOne;
    const int64_t stateRows = stateK;
    const oracle::VariantTraits traits = oracle::variantTraits(spec->variant);
    const CostRankOne rankOne = traits.deltaWrite ? CostRankOne::Delta
                                : traits.lowRank  ? CostRankOne::Dplr
                                                  : CostRankOne::None;
    CostAlgorithm algorithm =
        decode ? CostAlgorithm::Recurrent
        : rankOne != CostRankOne::None ? CostAlgorithm::ChunkedWY
                                       : CostAlgorithm::Chunked;
    int64_t chunk =
        spec->chunkSize ? *spec->chunkSize : spec::defaultChunkSize(stateRows);
    if (!kernelInfo.algorithm.empty()) {
      algorithm = kernelInfo.algorithm == "recurrent" ? CostAlgorithm::Recurrent
                  : kernelInfo.algorithm == "chunked_wy"
                      ? CostAlgorithm::ChunkedWY
                      : CostAlgorithm::Chunked;
      chunk = kernelInfo.chunk;
    }
    double perToken = double(
        spec::flopsPerToken(algorithm, rankOne, chunk, stateRows, V));
    double tokens = double(B) * double(T);
    double flops = perToken * tokens * double(HV);
    double gflops = flops / (median * 1e-3) / 1e9;
    // Bytes: every tensor the kernel takes read or written once (decode's
    // state both), padding excluded: the fewest a kernel can move.
    // A pool's slots count only where a sequence names them.
    const double namedSlots =
        double(S - (spec->stateIndices ? int64_t(padRows) : 0));
    const double slotBytes = double(HV) * double(stateK) * double(V) * 4;
    double bytes = 0;
    for (const ManifestTensor &tensor : kernelInfo.tensors)
      if (auto found = views.find(tensor.name); found != views.end())
        bytes += spec->stateIndices &&
                         (tensor.name == "h0" || tensor.name == "ht")
                     ? namedSlots * slotBytes
                     : double(numElements(found->second)) *
                           double(elementSize(found->second.dtype));
    double gbps = bytes / (median * 1e-3) / 1e9;
    double stateBytes = decode ? 2.0 * namedSlots * slotBytes : 0;
    double stateGbps = stateBytes / (median * 1e-3) / 1e9;
    int usedThreads = backend->pool() ? linac_pool_threads(backend->pool()) : 0;
    double peak = 0, peakBandwidth = peakGbps;
    std::string peakSource;
    if (tgt.cuda && !tgt.emulate) {
      DevicePeak device = devicePeak(tgt.info);
      const bool tensorCores = problem.q.dtype != DType::F32;
      peak = 1e3 * (tensorCores ? device.tensorTflops : device.fp32Tflops);
      if (peakBandwidth <= 0)
        peakBandwidth = device.gbps;
      peakSource = device.source + (tensorCores
                                        ? ": dense 16-bit tensor-core peak"
                                        : ": FP32 CUDA-core peak");
    } else {
      peak = usedThreads * (kernelInfo.vectorWidth == 16 ? 165.0 : 99.0);
      peakSource = "TOOLCHAIN.md's FMA peak per thread (AVX-512 165, AVX2 99 "
                   "GFLOP/s)";
    }
    if (peakGflops > 0) {
      peak = peakGflops;
      peakSource = "--peak-gflops";
    }
    const double fraction = gflops / peak;
    const double bandwidthFraction =
        peakBandwidth > 0 ? gbps / peakBandwidth : 0;
    if (!json) {
      llvm::outs() << llvm::format(
          "%s B=%lld T=%lld H=%lld HV=%lld K=%lld V=%lld %s on %s",
          kernelName.c_str(), (long long)B, (long long)T,
          (long long)problem.q.shape[2], (long long)HV, (long long)K,
          (long long)V, dtypeName(problem.q.dtype), deviceName.c_str());
      if (usedThreads)
        llvm::outs() << llvm::format(" (%d threads%s)", usedThreads,
                                     tgt.emulate ? ", emulated CUDA" : "");
      llvm::outs() << llvm::format(
          ": median %.3f ms (min %.3f) over %zu runs, %.3g tokens/s, %.1f "
          "GFLOP/s (%.1f%% of %.0f GFLOP/s peak), %.1f GB/s",
          median, times.front(), times.size(), tokens / (median * 1e-3),
          gflops, 100.0 * fraction, peak, gbps);
      if (peakBandwidth > 0)
        llvm::outs() << llvm::format(" (%.1f%% of %.0f GB/s)",
                                     100.0 * bandwidthFraction, peakBandwidth);
      if (decode)
        llvm::outs() << llvm::format(", state %.1f GB/s", stateGbps);
      llvm::outs() << llvm::format("; first call %.3f ms (%.3f ms wall)",
                                   firstMs, firstWallMs);
      if (tenthMs >= 0)
        llvm::outs() << llvm::format(", tenth %.3f ms", tenthMs);
      if (tgt.cuda && !tgt.emulate)
        llvm::outs() << llvm::format(", cubin load %.2f ms", loadMs);
      llvm::outs() << "\n";
    }
    benchJson =
        llvm::formatv(
            "\"median_ms\": {0:f4}, \"min_ms\": {1:f4}, \"runs\": {2}, "
            "\"tokens_per_s\": {3:e}, \"gflops\": {4:f2}, "
            "\"peak_gflops\": {5:f1}, \"peak_fraction\": {6:f4}, "
            "\"state_gb_per_s\": {7:f2}, \"tflops\": {8:f4}, "
            "\"gb_per_s\": {9:f2}, \"peak_gb_per_s\": {10:f1}, "
            "\"bandwidth_fraction\": {11:f4}, \"flops\": {12:e}, "
            "\"bytes\": {13:e}, \"flop_algorithm\": \"{14}\", "
            "\"flop_chunk\": {15}, \"first_call_ms\": {16:f4}, "
            "\"first_call_wall_ms\": {17:f4}, \"tenth_call_ms\": {18:f4}, "
            "\"peak_source\": \"{19}\"",
            median, times.front(), times.size(), tokens / (median * 1e-3),
            gflops, peak, fraction, stateGbps, gflops / 1e3, gbps,
            peakBandwidth, bandwidthFraction, flops, bytes,
            algorithm == CostAlgorithm::Recurrent   ? "recurrent"
            : algorithm == CostAlgorithm::ChunkedWY ? "chunked_wy"
                                                    : "chunked",
            chunk, firstMs, firstWallMs, tenthMs, peakSource)
            .str();
  }

  if (json) {
    llvm::outs() << llvm::formatv(
        "{{\"kernel\": \"{0}\", \"variant\": \"{1}\", \"mode\": \"{2}\", "
        "\"cpu\": \"{3}\", \"B\": {4}, \"T\": {5}, \"H\": {6}, \"HV\": {7}, "
        "\"K\": {8}, \"V\": {9}, \"dtype\": \"{10}\", \"threads\": {11}, "
        "\"compile_ms\": {12:f1}, \"compiled\": {13}, \"rebuilt\": {14}, "
        "\"target\": \"{15}\", \"chip\": \"{16}\", \"device\": \"{17}\", "
        "\"load_ms\": {18:f3}",
        kernelName, oracle::variantName(spec->variant), mode.getValue(),
        kernelInfo.cpuName, B, T, problem.q.shape[2], HV, K, V,
        npyDescr(problem.q.dtype),
        backend->pool() ? linac_pool_threads(backend->pool()) : 0, compileMs,
        compiled ? "true" : "false", compileInfo.rebuilt ? "true" : "false",
        targetName, tgt.chip, deviceName, loadMs);
    if (!artifact.empty())
      llvm::outs() << ", \"artifact\": \"" << artifact << "\"";
    if (tgt.cuda && !tgt.emulate)
      llvm::outs() << llvm::formatv(
          ", \"compute_capability\": \"{0}.{1}\", \"sms\": {2}, "
          "\"sm_clock_mhz\": {3}, \"memory_clock_mhz\": {4}, "
          "\"memory_bus_bits\": {5}",
          tgt.info.major, tgt.info.minor, tgt.info.multiprocessors,
          tgt.info.clock_khz / 1000, tgt.info.memory_clock_khz / 1000,
          tgt.info.memory_bus_bits);
    if (!benchJson.empty())
      llvm::outs() << ", " << benchJson;
    if (!checkJson.empty())
      llvm::outs() << ", \"check\": " << checkJson;
    llvm::outs() << "}\n";
  }
  // The device copies go before the module: a CUDA kernel's context must
  // outlive them.
  backend.reset();
  linac_module_unload(module);
  return exitCode;
}
