//===- cuda-check.cpp - run a CUDA kernel (or its emulation), check it ----===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// linac-cuda-check SPEC ARTIFACT MODE KEY=VALUE...
//
// Runs the kernel of MODE (prefill or decode) from ARTIFACT on seeded random
// inputs and compares o and ht with the float64 oracle at the SEMANTICS.md
// tolerance. ARTIFACT is either
//   - a CPU artifact of `linacc --target=cuda:* --cuda-emulate` (the CUDA
//     kernels' own block-cooperative code, threads serialized), run on the
//     CPU: how the GPU lowering is held to the oracle without a GPU; or
//   - a CUDA artifact of `linacc --target=cuda:*`, run on device 0: the
//     tensors are copied to device memory, the kernel is launched through
//     liblinac_runtime on the default stream, and the outputs copied back.
// Keys: B, T (sizes), N (varlen: that many sequences of uneven lengths,
// B = 1), H, HV (when the spec leaves them open), h0 (0 or 1, prefill),
// seed, strided (1: q, k, v, g and o as views with padded rows, so every
// outer stride differs from the contiguous one), gates (1: log gates of 0,
// -80 and -inf at chosen tokens, hard resets included, as the CPU grid),
// beta (the delta rule's write strength for every token: 0 writes nothing,
// 1 replaces, 2 reflects, I - 2kkᵀ). Prints one line per output and exits
// 0 when all pass, 1 when one fails, 2 on errors (including "no GPU" for a
// CUDA artifact).
//
//===----------------------------------------------------------------------===//

#include "linac/Spec/Spec.h"
#include "linac/runtime/Npy.h"
#include "linac/runtime/Oracle.h"
#include "linac/runtime/RandomProblem.h"
#include "linac/runtime/Tensor.h"
#include "linac/runtime/linac.h"

#include <cmath>
#include <cstdio>
#include <dlfcn.h>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <type_traits>
#include <vector>

using namespace linac;

namespace {

int fail(const std::string &message) {
  std::fprintf(stderr, "linac-cuda-check: %s\n", message.c_str());
  return 2;
}

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

/// Bytes a view addresses, from its first element to its last.
size_t extentBytes(const linac_tensor &t) {
  size_t span = 0;
  for (int32_t d = 0; d < t.rank; ++d) {
    if (t.shape[d] == 0)
      return 0;
    span += static_cast<size_t>((t.shape[d] - 1) * t.strides[d]);
  }
  return (span + 1) * (t.dtype == LINAC_F32 || t.dtype == LINAC_I32 ? 4
                       : t.dtype == LINAC_I64                     ? 8
                                                                  : 2);
}

/// Copies a rank-4 view's rows between `from` and `to` (same shape, any
/// strides).
void copyRows(const linac_tensor &from, const linac_tensor &to) {
  const size_t element = from.dtype == LINAC_F32 ? 4 : 2;
  for (int64_t a = 0; a < from.shape[0]; ++a)
    for (int64_t b = 0; b < from.shape[1]; ++b)
      for (int64_t c = 0; c < from.shape[2]; ++c)
        std::memcpy(static_cast<char *>(to.data) +
                        (a * to.strides[0] + b * to.strides[1] +
                         c * to.strides[2]) * element,
                    static_cast<const char *>(from.data) +
                        (a * from.strides[0] + b * from.strides[1] +
                         c * from.strides[2]) * element,
                    static_cast<size_t>(from.shape[3]) * element);
}

/// Log gates of 0, -80 and -inf at chosen tokens (the CPU grid's rule):
/// hard resets at 5, 70 and 71, -80 at 9 and 100, no decay at 20..39 and
/// from 140, and every 7th token a mix of reset and untouched keys.
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

std::vector<double> toDoubles(const NpyArray &array) {
  std::vector<double> out(array.numElements());
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = loadAsDouble(array.bytes.data(), array.dtype,
                          static_cast<int64_t>(i));
  return out;
}

/// Device memory for the tensors of a CUDA artifact, through the driver
/// API (opened here like the runtime opens it: no link-time dependency).
class Device {
public:
  ~Device() {
    for (unsigned long long pointer : allocations)
      memFree(pointer);
  }

  bool open(std::string &error) {
    const char *name = std::getenv("LINAC_LIBCUDA");
    void *driver = dlopen(name && *name ? name : "libcuda.so.1",
                          RTLD_NOW | RTLD_LOCAL);
    if (!driver) {
      error = "no CUDA driver: " + std::string(dlerror());
      return false;
    }
    auto find = [&](auto &slot, const char *symbol) {
      slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(
          dlsym(driver, symbol));
      return slot != nullptr;
    };
    int (*init)(unsigned);
    int (*deviceGet)(int *, int);
    int (*retain)(void **, int);
    int (*setCurrent)(void *);
    if (!find(init, "cuInit") || !find(deviceGet, "cuDeviceGet") ||
        !find(retain, "cuDevicePrimaryCtxRetain") ||
        !find(setCurrent, "cuCtxSetCurrent") ||
        !find(memAlloc, "cuMemAlloc_v2") || !find(memFree, "cuMemFree_v2") ||
        !find(copyIn, "cuMemcpyHtoD_v2") || !find(copyOut, "cuMemcpyDtoH_v2") ||
        !find(synchronize, "cuCtxSynchronize")) {
      error = "the CUDA driver lacks an entry point this tool needs";
      return false;
    }
    int device;
    void *context;
    if (int r = init(0); r != 0)
      return fail("cuInit", r, error);
    if (int r = deviceGet(&device, 0); r != 0)
      return fail("cuDeviceGet", r, error);
    if (int r = retain(&context, device); r != 0)
      return fail("cuDevicePrimaryCtxRetain", r, error);
    if (int r = setCurrent(context); r != 0)
      return fail("cuCtxSetCurrent", r, error);
    return true;
  }

  /// A device copy of `bytes` bytes at `data`.
  bool upload(const void *data, size_t bytes, unsigned long long &pointer,
              std::string &error) {
    if (int r = memAlloc(&pointer, std::max<size_t>(bytes, 1)); r != 0)
      return fail("cuMemAlloc", r, error);
    allocations.push_back(pointer);
    if (bytes)
      if (int r = copyIn(pointer, data, bytes); r)
        return fail("cuMemcpyHtoD", r, error);
    return true;
  }

  bool download(unsigned long long pointer, void *data, size_t bytes,
                std::string &error) {
    if (int r = synchronize(); r != 0)
      return fail("cuCtxSynchronize (the kernel failed)", r, error);
    if (int r = copyOut(data, pointer, bytes); r)
      return fail("cuMemcpyDtoH", r, error);
    return true;
  }

private:
  static bool fail(const char *call, int result, std::string &error) {
    error = std::string(call) + " failed with CUDA error " +
            std::to_string(result);
    return false;
  }

  int (*memAlloc)(unsigned long long *, size_t) = nullptr;
  int (*memFree)(unsigned long long) = nullptr;
  int (*copyIn)(unsigned long long, const void *, size_t) = nullptr;
  int (*copyOut)(void *, unsigned long long, size_t) = nullptr;
  int (*synchronize)() = nullptr;
  std::vector<unsigned long long> allocations;
};

} // namespace

int main(int argc, char **argv) {
  if (argc < 4)
    return fail("usage: linac-cuda-check SPEC ARTIFACT prefill|decode "
                "[B=..] [T=..] [N=..] [H=..] [HV=..] [h0=0|1] [seed=..]");
  const std::string specPath = argv[1], artifact = argv[2], mode = argv[3];
  if (mode != "prefill" && mode != "decode")
    return fail("mode must be prefill or decode");
  const bool decode = mode == "decode";
  std::map<std::string, int64_t> keys = {
      {"B", 1},    {"T", decode ? 3 : 100}, {"N", 0},     {"h0", 1},
      {"seed", 1}, {"strided", 0},          {"gates", 0}, {"beta", -1}};
  for (int i = 4; i < argc; ++i) {
    const char *eq = std::strchr(argv[i], '=');
    if (!eq)
      return fail(std::string("expected KEY=VALUE, got '") + argv[i] + "'");
    keys[std::string(argv[i], static_cast<size_t>(eq - argv[i]))] =
        std::strtoll(eq + 1, nullptr, 10);
  }

  std::vector<spec::Diagnostic> diagnostics;
  std::optional<spec::AttentionSpec> parsed =
      spec::parseSpecFile(specPath, diagnostics);
  if (!parsed)
    return fail("cannot parse " + specPath);
  const spec::AttentionSpec &s = *parsed;

  oracle::RandomProblemOptions options;
  options.variant = s.variant;
  options.featureMap = s.featureMap;
  options.normalize = s.normalize;
  if (s.eps)
    options.eps = *s.eps;
  options.K = s.headDimK;
  options.V = s.headDimV;
  options.H = s.numHeads ? *s.numHeads : (keys.count("H") ? keys["H"] : 2);
  options.HV = s.valueHeads() ? *s.valueHeads()
                              : (keys.count("HV") ? keys["HV"] : options.H);
  options.B = keys["B"];
  options.T = keys["T"];
  options.scale = s.scale;
  options.dtype = s.dtype;
  options.seed = static_cast<uint64_t>(keys["seed"]);
  options.initialState = decode || keys["h0"] != 0;
  if (int64_t n = keys["N"]; n > 0 && !decode) {
    // Uneven lengths, some of them not a multiple of any chunk size.
    int64_t used = 0;
    for (int64_t i = 0; i < n; ++i) {
      int64_t len = i + 1 == n ? options.T - used
                               : std::max<int64_t>(1, options.T * (i + 1) /
                                                          (n * (n + 1) / 2));
      options.seqLens.push_back(len);
      used += len;
    }
  }
  oracle::RandomProblem problem;
  std::string error;
  if (!oracle::makeRandomProblem(options, problem, error))
    return fail(error);
  if (s.variant == oracle::Variant::Lightning)
    problem.problem.decayConstants = s.decay;
  if (keys["gates"]) {
    if (problem.g.bytes.empty() || problem.g.dtype != DType::F32)
      return fail("gates=1 needs a variant with f32 log gates g");
    makeGatesExtreme(problem.g);
  }
  if (keys["beta"] >= 0) {
    if (problem.beta.bytes.empty() || problem.beta.dtype != DType::F32)
      return fail("beta=N needs a delta-rule variant (f32 beta)");
    float *values = problem.beta.dataAs<float>();
    for (int64_t i = 0; i < problem.beta.numElements(); ++i)
      values[i] = static_cast<float>(keys["beta"]);
  }

  const int64_t B = problem.q.shape[0], T = problem.q.shape[1];
  const int64_t HV = problem.v.shape[2], V = problem.v.shape[3];
  const int64_t K = problem.q.shape[3];
  const int64_t S = problem.cuSeqlens.bytes.empty()
                        ? B
                        : problem.cuSeqlens.numElements() - 1;
  NpyArray o = makeNpyArray(s.outputDtype, {B, T, HV, V});
  // The state has K' rows: 1 + K + K^2 with taylor2.
  NpyArray ht = makeNpyArray(DType::F32,
                             {S, HV, oracle::featureDim(s.featureMap, K), V});
  NpyArray h0Copy = problem.h0;
  std::map<std::string, linac_tensor> views;
  for (auto [name, array] : problem.inputs())
    views[name] = viewOf(const_cast<NpyArray &>(*array));
  views["o"] = viewOf(o);
  // Decode updates the state in place (ht is h0's storage).
  views["ht"] = decode ? viewOf(problem.h0) : viewOf(ht);

  // strided=1: rank-4 activations in padded rows, every outer stride odd.
  std::map<std::string, std::vector<uint8_t>> padded;
  if (keys["strided"])
    for (const char *name : {"q", "k", "v", "g", "o"}) {
      auto found = views.find(name);
      if (found == views.end() || found->second.rank != 4)
        continue;
      linac_tensor dense = found->second, &t = found->second;
      const int64_t pad = 3;
      t.strides[3] = 1;
      t.strides[2] = t.shape[3] + pad;
      t.strides[1] = t.shape[2] * t.strides[2] + pad;
      t.strides[0] = t.shape[1] * t.strides[1] + pad;
      padded[name].assign(extentBytes(t) + 64, 0xff);
      t.data = padded[name].data();
      copyRows(dense, t);
    }

  linac_error err;
  linac_module *module = linac_module_load(artifact.c_str(), &err);
  if (!module)
    return fail(err.message);
  std::string kernelName = spec::symbolPrefix(specPath) + "_" + mode;
  linac_kernel *kernel = linac_module_kernel(module, kernelName.c_str(), &err);
  if (!kernel)
    return fail(err.message);
  std::string manifest = linac_kernel_manifest(kernel);
  const bool onDevice = manifest.find("\ntarget cuda ") != std::string::npos;

  // Device copies of what every view addresses; the host views are kept
  // to copy the outputs back into (decode's ht is h0's storage on the
  // device too).
  Device device;
  std::map<std::string, linac_tensor> hostViews = views;
  std::map<std::string, unsigned long long> devicePointers;
  if (onDevice) {
    if (!device.open(error))
      return fail(error);
    for (auto &[name, view] : views) {
      if (decode && name == "ht")
        continue;
      if (!device.upload(view.data, extentBytes(view), devicePointers[name],
                         error))
        return fail(error);
      view.data = reinterpret_cast<void *>(devicePointers[name]);
    }
    if (decode)
      views["ht"].data = views["h0"].data;
  }

  std::vector<const linac_tensor *> tensors;
  bool hasHt = false;
  size_t at = 0;
  while ((at = manifest.find("\ntensor ", at)) != std::string::npos) {
    at += 8;
    std::string name = manifest.substr(at, manifest.find(' ', at) - at);
    hasHt |= name == "ht";
    auto found = views.find(name);
    tensors.push_back(found == views.end() ? nullptr : &found->second);
  }
  int32_t launched =
      onDevice ? linac_kernel_launch_cuda(kernel, tensors.data(),
                                          static_cast<int32_t>(tensors.size()),
                                          nullptr, &err)
               : linac_kernel_launch(kernel, tensors.data(),
                                     static_cast<int32_t>(tensors.size()),
                                     nullptr, &err);
  if (launched != LINAC_OK)
    return fail(err.message);
  if (onDevice)
    for (const char *name : {"o", "ht"}) {
      if (!hasHt && std::string(name) == "ht")
        continue;
      const char *storage = decode && std::string(name) == "ht" ? "h0" : name;
      const linac_tensor &host = hostViews[storage];
      if (!device.download(devicePointers[storage], host.data,
                           extentBytes(host), error))
        return fail(error);
    }
  if (keys["strided"])
    copyRows(hostViews["o"], viewOf(o));

  oracle::Problem p = problem.problem;
  if (!h0Copy.bytes.empty() && !getTensorView(h0Copy, p.h0, error))
    return fail(error);
  oracle::Result reference;
  if (!oracle::run(p, reference, error))
    return fail("oracle: " + error);
  const bool lowPrecision = s.dtype != DType::F32;
  const double tolerance = lowPrecision ? 5e-3 : decode ? 1e-6 : 1e-5;
  int status = 0;
  std::vector<std::pair<std::string, const NpyArray *>> outputs = {{"o", &o}};
  if (hasHt)
    outputs.push_back({"ht", decode ? &problem.h0 : &ht});
  for (auto &[name, array] : outputs) {
    std::vector<double> got = toDoubles(*array);
    const std::vector<double> &want = name == "o" ? reference.o : reference.ht;
    double rel = oracle::relativeRmsError(got, want);
    double maxAbs = oracle::maxAbsError(got.data(), want.data(),
                                        std::min(got.size(), want.size()));
    bool pass = std::isfinite(rel) && rel <= tolerance;
    std::printf("%s %s rel_rms %.3e max_abs %.3e (tolerance %.0e) %s\n",
                kernelName.c_str(), name.c_str(), rel, maxAbs, tolerance,
                pass ? "PASS" : "FAIL");
    if (!pass)
      status = 1;
  }
  linac_module_unload(module);
  return status;
}
