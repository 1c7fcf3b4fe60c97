//===- Cuda.cpp - The CUDA driver, opened at run time ---------------------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
//
// CUDA kernels are cubins that linacc embeds in an artifact next to their
// manifests. This file loads them with the CUDA driver API and launches them
// on a caller's stream. The driver is a shared library opened on first use,
// with the few entry points we need looked up by name, so that the runtime
// has no link-time CUDA dependency and runs its CPU part on machines
// without a GPU. The types and constants of the driver API it uses are
// declared here, with the values of cuda.h (they are part of the driver's
// stable ABI).
//
// Every CUDA error becomes a message that names the call, the error's name
// and its description; nothing here aborts.
//
//===----------------------------------------------------------------------===//

#include "Cuda.h"

#include "Error.h"

#include <cinttypes>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <type_traits>

#include <dlfcn.h>

using linac::detail::fail;
using linac::detail::Message;
using linac::detail::succeed;
using namespace linac::manifest;

//===----------------------------------------------------------------------===//
// The driver API subset (cuda.h)
//===----------------------------------------------------------------------===//

// The opaque handle types are declared at global scope, as cuda.h does, so
// that the function types below are the driver's own (UBSan's function
// sanitizer compares them when the driver is instrumented, as the test
// driver is).
struct CUctx_st;
struct CUmod_st;
struct CUfunc_st;
struct CUstream_st;
/// CUtensorMap: 128 opaque bytes, 64-byte aligned (cuda.h).
struct CUtensorMap_st {
  alignas(64) uint64_t opaque[16];
};
// The tensor map's enum parameter types, by their cuda.h names (the values
// are below).
enum CUtensorMapDataType_enum : int {};
enum CUtensorMapInterleave_enum : int {};
enum CUtensorMapSwizzle_enum : int {};
enum CUtensorMapL2promotion_enum : int {};
enum CUtensorMapFloatOOBfill_enum : int {};

namespace {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = CUctx_st *;
using CUmodule = CUmod_st *;
using CUfunction = CUfunc_st *;
using CUstream = CUstream_st *;

constexpr CUresult kSuccess = 0;
constexpr int kComputeCapabilityMajor = 75;
constexpr int kComputeCapabilityMinor = 76;
constexpr int kMaxSharedPerBlockOptin = 97;
constexpr int kFuncMaxDynamicShared = 8;
// cuTensorMapEncodeTiled's enums.
constexpr int kTensorMapFloat16 = 6;
constexpr int kTensorMapFloat32 = 7;
constexpr int kTensorMapBfloat16 = 9;
constexpr int kTensorMapInterleaveNone = 0;
constexpr int kTensorMapSwizzleNone = 0;
constexpr int kTensorMapL2Promotion128B = 2;
constexpr int kTensorMapOobFillZeros = 0; // CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE
/// Dynamic shared memory a kernel may use without opting in.
constexpr int64_t kDefaultSharedLimit = 48 * 1024;

struct Driver {
  void *handle = nullptr;
  CUresult (*init)(unsigned) = nullptr;
  CUresult (*deviceGetCount)(int *) = nullptr;
  CUresult (*deviceGet)(CUdevice *, int) = nullptr;
  CUresult (*deviceGetAttribute)(int *, int, CUdevice) = nullptr;
  CUresult (*ctxGetCurrent)(CUcontext *) = nullptr;
  CUresult (*ctxGetDevice)(CUdevice *) = nullptr;
  CUresult (*ctxPushCurrent)(CUcontext) = nullptr;
  CUresult (*ctxPopCurrent)(CUcontext *) = nullptr;
  CUresult (*primaryCtxRetain)(CUcontext *, CUdevice) = nullptr;
  CUresult (*primaryCtxRelease)(CUdevice) = nullptr;
  CUresult (*moduleLoadData)(CUmodule *, const void *) = nullptr;
  CUresult (*moduleUnload)(CUmodule) = nullptr;
  CUresult (*moduleGetFunction)(CUfunction *, CUmodule, const char *) =
      nullptr;
  CUresult (*funcSetAttribute)(CUfunction, int, int) = nullptr;
  CUresult (*launchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                           unsigned, unsigned, unsigned, CUstream, void **,
                           void **) = nullptr;
  CUresult (*memGetAddressRange)(CUdeviceptr *, size_t *,
                                 CUdeviceptr) = nullptr;
  CUresult (*getErrorName)(CUresult, const char **) = nullptr;
  CUresult (*getErrorString)(CUresult, const char **) = nullptr;
  /// CUDA 12 and later only; null in older drivers, which can run the
  /// kernels without TMA loads.
  CUresult (*tensorMapEncodeTiled)(
      CUtensorMap_st *, CUtensorMapDataType_enum, uint32_t, void *,
      const uint64_t *, const uint64_t *, const uint32_t *, const uint32_t *,
      CUtensorMapInterleave_enum, CUtensorMapSwizzle_enum,
      CUtensorMapL2promotion_enum, CUtensorMapFloatOOBfill_enum) = nullptr;
};

/// The driver, opened once; `failure` holds why it could not be.
std::mutex driverMutex;
bool driverTried = false;
Driver driver;
Message failure;

/// "CUDA_ERROR_NO_DEVICE (no CUDA-capable device is detected)".
void describe(Message &msg, CUresult result) {
  const char *name = nullptr, *text = nullptr;
  if (driver.getErrorName)
    driver.getErrorName(result, &name);
  if (driver.getErrorString)
    driver.getErrorString(result, &text);
  if (name)
    msg.append("%s", name);
  else
    msg.append("CUDA error %d", result);
  if (text)
    msg.append(" (%s)", text);
}

/// Fails with "CALL failed: NAME (description)" and a context prefix.
int32_t cudaFail(linac_error *err, CUresult result, const char *format, ...)
    __attribute__((format(printf, 3, 4)));
int32_t cudaFail(linac_error *err, CUresult result, const char *format, ...) {
  Message msg;
  va_list args;
  va_start(args, format);
  msg.appendV(format, args);
  va_end(args);
  msg.append(" failed: ");
  describe(msg, result);
  return fail(err, LINAC_ERROR_CUDA, msg);
}

/// Opens the driver library and cuInit()s it; called once, under the lock.
void openDriver() {
  const char *name = std::getenv("LINAC_LIBCUDA");
  if (!name || !*name)
    name = "libcuda.so.1";
  void *handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *reason = dlerror();
    failure.append("cannot load the CUDA driver '%s': %s (CUDA kernels need "
                   "an NVIDIA driver; LINAC_LIBCUDA names another library)",
                   name, reason ? reason : "unknown dlopen error");
    return;
  }
  Driver d;
  d.handle = handle;
  bool complete = true;
  // Versioned names are the ones cuda.h maps the plain API names to.
  auto find = [&](auto &slot, const char *symbol) {
    void *address = dlsym(handle, symbol);
    if (!address && complete) {
      failure.append("the CUDA driver '%s' has no %s (a driver older than "
                     "CUDA 11?)",
                     name, symbol);
      complete = false;
    }
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(address);
  };
  find(d.getErrorName, "cuGetErrorName");
  find(d.getErrorString, "cuGetErrorString");
  find(d.init, "cuInit");
  find(d.deviceGetCount, "cuDeviceGetCount");
  find(d.deviceGet, "cuDeviceGet");
  find(d.deviceGetAttribute, "cuDeviceGetAttribute");
  find(d.ctxGetCurrent, "cuCtxGetCurrent");
  find(d.ctxGetDevice, "cuCtxGetDevice");
  find(d.ctxPushCurrent, "cuCtxPushCurrent_v2");
  find(d.ctxPopCurrent, "cuCtxPopCurrent_v2");
  find(d.primaryCtxRetain, "cuDevicePrimaryCtxRetain");
  find(d.primaryCtxRelease, "cuDevicePrimaryCtxRelease_v2");
  find(d.moduleLoadData, "cuModuleLoadData");
  find(d.moduleUnload, "cuModuleUnload");
  find(d.moduleGetFunction, "cuModuleGetFunction");
  find(d.funcSetAttribute, "cuFuncSetAttribute");
  find(d.launchKernel, "cuLaunchKernel");
  find(d.memGetAddressRange, "cuMemGetAddressRange_v2");
  d.tensorMapEncodeTiled =
      reinterpret_cast<decltype(d.tensorMapEncodeTiled)>(
          dlsym(handle, "cuTensorMapEncodeTiled"));
  if (!complete) {
    dlclose(handle);
    return;
  }
  driver = d;
  if (CUresult result = driver.init(0); result != kSuccess) {
    failure.append("cuInit failed: ");
    describe(failure, result);
    failure.append(" (CUDA kernels need a working NVIDIA driver and GPU)");
    driver = Driver();
    dlclose(handle);
  }
}

/// The driver, or an error saying why there is none.
int32_t getDriver(linac_error *err) {
  std::lock_guard<std::mutex> lock(driverMutex);
  if (!driverTried) {
    driverTried = true;
    openDriver();
  }
  if (!driver.handle)
    return fail(err, LINAC_ERROR_CUDA, failure);
  return LINAC_OK;
}

/// Makes a context current for a scope, restoring the previous one after.
class ContextScope {
public:
  explicit ContextScope(CUcontext context) {
    pushed = driver.ctxPushCurrent(context);
  }
  ~ContextScope() {
    if (pushed == kSuccess) {
      CUcontext popped;
      driver.ctxPopCurrent(&popped);
    }
  }
  CUresult result() const { return pushed; }

private:
  CUresult pushed;
};

} // namespace

namespace linac::cuda {

struct Function {
  CUcontext context = nullptr;
  CUdevice device = 0;
  bool retained = false; ///< load retained the device's primary context
  CUmodule module = nullptr;
  CUfunction function = nullptr;
};

int32_t deviceCount(int32_t *count, linac_error *err) {
  if (!count)
    return fail(err, LINAC_ERROR_INVALID_ARGUMENT, "count is NULL");
  *count = 0;
  if (int32_t status = getDriver(err))
    return status;
  int n = 0;
  if (CUresult result = driver.deviceGetCount(&n); result != kSuccess)
    return cudaFail(err, result, "cuDeviceGetCount");
  *count = n;
  return succeed(err);
}

int32_t load(const Manifest &m, const void *cubin, uint64_t size,
             Function **out, linac_error *err) {
  *out = nullptr;
  // The architectures linacc targets, and what each cubin runs on: sm_90a
  // code only on compute capability 9.0, sm_80 code on any 8.x.
  int wantMajor;
  bool exactMinor;
  if (m.targetArch == "sm_90a") {
    wantMajor = 9;
    exactMinor = true;
  } else if (m.targetArch == "sm_80") {
    wantMajor = 8;
    exactMinor = false;
  } else {
    return fail(err, LINAC_ERROR_TARGET,
                "%.*s: unknown CUDA architecture '%.*s' (this runtime knows "
                "sm_90a and sm_80)",
                LINAC_SV(m.kernel), LINAC_SV(m.targetArch));
  }
  if (!cubin || size == 0)
    return fail(err, LINAC_ERROR_INVALID_ARGUMENT, "%.*s: the cubin is empty",
                LINAC_SV(m.kernel));
  if (int32_t status = getDriver(err))
    return status;

  Function f;
  if (CUresult result = driver.ctxGetCurrent(&f.context); result != kSuccess)
    return cudaFail(err, result, "%.*s: cuCtxGetCurrent", LINAC_SV(m.kernel));
  if (!f.context) {
    // No context on this thread: use device 0's primary context, the one
    // the CUDA runtime (and so most frameworks) would use.
    if (CUresult result = driver.deviceGet(&f.device, 0); result != kSuccess)
      return cudaFail(err, result, "%.*s: cuDeviceGet(0)", LINAC_SV(m.kernel));
    if (CUresult result = driver.primaryCtxRetain(&f.context, f.device);
        result != kSuccess)
      return cudaFail(err, result, "%.*s: cuDevicePrimaryCtxRetain",
                      LINAC_SV(m.kernel));
    f.retained = true;
  }
  auto release = [&]() {
    if (f.retained)
      driver.primaryCtxRelease(f.device);
  };

  int32_t status = LINAC_OK;
  {
    ContextScope scope(f.context);
    if (scope.result() != kSuccess) {
      status = cudaFail(err, scope.result(), "%.*s: cuCtxPushCurrent",
                        LINAC_SV(m.kernel));
    } else if (CUresult got = driver.ctxGetDevice(&f.device);
               got != kSuccess) {
      status = cudaFail(err, got, "%.*s: cuCtxGetDevice", LINAC_SV(m.kernel));
    } else {
      int major = 0, minor = 0, optin = 0;
      CUresult result = driver.deviceGetAttribute(
          &major, kComputeCapabilityMajor, f.device);
      if (result == kSuccess)
        result = driver.deviceGetAttribute(&minor, kComputeCapabilityMinor,
                                           f.device);
      if (result == kSuccess)
        result = driver.deviceGetAttribute(&optin, kMaxSharedPerBlockOptin,
                                           f.device);
      if (result != kSuccess) {
        status = cudaFail(err, result, "%.*s: cuDeviceGetAttribute",
                          LINAC_SV(m.kernel));
      } else if (major != wantMajor || (exactMinor && minor != 0)) {
        status = fail(err, LINAC_ERROR_TARGET,
                      "%.*s: kernel compiled for %.*s, which needs a GPU of "
                      "compute capability %d.%s, but device %d is %d.%d; "
                      "recompile for its architecture",
                      LINAC_SV(m.kernel), LINAC_SV(m.targetArch), wantMajor,
                      exactMinor ? "0" : "x", f.device, major, minor);
      } else if (m.launchShared > optin) {
        status = fail(err, LINAC_ERROR_TARGET,
                      "%.*s: needs %" PRId64 " bytes of shared memory per "
                      "block, device %d allows %d",
                      LINAC_SV(m.kernel), m.launchShared, f.device, optin);
      } else if (result = driver.moduleLoadData(&f.module, cubin);
                 result != kSuccess) {
        status = cudaFail(err, result, "%.*s: cuModuleLoadData",
                          LINAC_SV(m.kernel));
      } else {
        char name[kMaxNameLength + 1];
        std::memcpy(name, m.kernel.data(), m.kernel.size());
        name[m.kernel.size()] = '\0';
        result = driver.moduleGetFunction(&f.function, f.module, name);
        if (result != kSuccess)
          status = cudaFail(err, result, "%.*s: cuModuleGetFunction",
                            LINAC_SV(m.kernel));
        else if (m.launchShared > kDefaultSharedLimit &&
                 (result = driver.funcSetAttribute(
                      f.function, kFuncMaxDynamicShared,
                      static_cast<int>(m.launchShared))) != kSuccess)
          status = cudaFail(err, result,
                            "%.*s: cuFuncSetAttribute(max dynamic shared "
                            "memory = %" PRId64 ")",
                            LINAC_SV(m.kernel), m.launchShared);
        if (status != LINAC_OK)
          driver.moduleUnload(f.module);
      }
    }
  }
  if (status != LINAC_OK) {
    release();
    return status;
  }
  Function *copy = new (std::nothrow) Function(f);
  if (!copy) {
    {
      ContextScope scope(f.context);
      driver.moduleUnload(f.module);
    }
    release();
    return fail(err, LINAC_ERROR_OUT_OF_MEMORY, "out of memory loading %.*s",
                LINAC_SV(m.kernel));
  }
  *out = copy;
  return succeed(err);
}

void unload(Function *function) {
  if (!function)
    return;
  {
    ContextScope scope(function->context);
    if (scope.result() == kSuccess)
      driver.moduleUnload(function->module);
  }
  if (function->retained)
    driver.primaryCtxRelease(function->device);
  delete function;
}

namespace {

/// Bytes a validated tensor addresses ([data, data + bytes)); 0 for none.
uint64_t extentBytes(const linac_tensor &t) {
  uint64_t span = 0;
  for (int32_t d = 0; d < t.rank; ++d) {
    if (t.shape[d] == 0)
      return 0;
    span += static_cast<uint64_t>(t.shape[d] - 1) *
            static_cast<uint64_t>(t.strides[d]);
  }
  return (span + 1) * dtypeSize(t.dtype);
}

/// Whether a tensor map can describe `t` (TMA's rules, cuTensorMapEncodeTiled):
/// a 16-byte aligned address, every stride but the innermost a multiple of
/// 16 bytes below 2^40 (a dimension of extent 1 is never stepped along, so
/// its stride does not count), and every extent in [1, 2^31 - 1], which the
/// kernel's int32 box coordinates can reach. linac-emulate-gpu applies the
/// same rules to a view (tmaUsable in passes/EmulateGPU.cpp).
bool tmaUsable(const linac_tensor &t) {
  const uint64_t size = dtypeSize(t.dtype);
  if (reinterpret_cast<uintptr_t>(t.data) % 16 != 0)
    return false;
  for (int32_t d = 0; d < t.rank; ++d) {
    if (t.shape[d] < 1 || t.shape[d] > INT32_MAX)
      return false;
    if (d == t.rank - 1 || t.shape[d] == 1)
      continue;
    uint64_t bytes = 0;
    if (__builtin_mul_overflow(static_cast<uint64_t>(t.strides[d]), size,
                               &bytes) ||
        bytes % 16 != 0 || bytes >= (uint64_t(1) << 40))
      return false;
  }
  return true;
}

/// The tensor map of `t` (tmaUsable) for boxes of `box` (innermost first):
/// dimensions innermost first, byte strides of the outer ones, no
/// interleave, no swizzle (the kernel reads the staged tile row-major), L2
/// promotion of 128 bytes, and zeros for out-of-bounds elements (the rows
/// of the last chunk past T).
int32_t encodeTensorMap(const Manifest &m, const TmaDecl &decl,
                        const linac_tensor &t, CUtensorMap_st *map,
                        linac_error *err) {
  const TensorDecl &tensor = m.tensors[decl.tensor];
  if (!driver.tensorMapEncodeTiled)
    return fail(err, LINAC_ERROR_CUDA,
                "%.*s: tensor '%.*s' is loaded through TMA, but the CUDA "
                "driver has no cuTensorMapEncodeTiled (TMA needs a CUDA 12 "
                "driver or later)",
                LINAC_SV(m.kernel), LINAC_SV(tensor.name));
  const uint64_t size = dtypeSize(t.dtype);
  const uint32_t rank = static_cast<uint32_t>(t.rank);
  uint64_t dims[LINAC_MAX_RANK] = {}, strides[LINAC_MAX_RANK] = {};
  uint32_t elementStrides[LINAC_MAX_RANK] = {};
  uint64_t inner = size; // bytes spanned by the dimensions inside this one
  for (uint32_t k = 0; k < rank; ++k) {
    const int32_t d = t.rank - 1 - static_cast<int32_t>(k);
    dims[k] = static_cast<uint64_t>(t.shape[d]);
    elementStrides[k] = 1;
    if (k == 0) {
      inner = size * dims[0];
      continue;
    }
    // An extent of 1 is never stepped along: any valid stride will do, and
    // the packed one is (rounded up to 16 bytes).
    uint64_t bytes = static_cast<uint64_t>(t.strides[d]) * size;
    if (t.shape[d] == 1)
      bytes = (inner + 15) / 16 * 16;
    strides[k - 1] = bytes;
    if (__builtin_mul_overflow(bytes, dims[k], &inner))
      inner = UINT64_MAX;
  }
  const int dtype = t.dtype == LINAC_F32   ? kTensorMapFloat32
                    : t.dtype == LINAC_F16 ? kTensorMapFloat16
                                           : kTensorMapBfloat16;
  CUresult result = driver.tensorMapEncodeTiled(
      map, static_cast<CUtensorMapDataType_enum>(dtype), rank, t.data, dims,
      strides, decl.box, elementStrides,
      static_cast<CUtensorMapInterleave_enum>(kTensorMapInterleaveNone),
      static_cast<CUtensorMapSwizzle_enum>(kTensorMapSwizzleNone),
      static_cast<CUtensorMapL2promotion_enum>(kTensorMapL2Promotion128B),
      static_cast<CUtensorMapFloatOOBfill_enum>(kTensorMapOobFillZeros));
  if (result == kSuccess)
    return LINAC_OK;
  Message msg;
  msg.append("%.*s: tensor '%.*s': cuTensorMapEncodeTiled(%s, dims [",
             LINAC_SV(m.kernel), LINAC_SV(tensor.name), dtypeName(t.dtype));
  for (uint32_t k = 0; k < rank; ++k)
    msg.append("%s%" PRIu64, k ? ", " : "", dims[k]);
  msg.append("], byte strides [");
  for (uint32_t k = 0; k + 1 < rank; ++k)
    msg.append("%s%" PRIu64, k ? ", " : "", strides[k]);
  msg.append("], box [");
  for (uint32_t k = 0; k < rank; ++k)
    msg.append("%s%u", k ? ", " : "", decl.box[k]);
  msg.append("]) failed: ");
  describe(msg, result);
  return fail(err, LINAC_ERROR_CUDA, msg);
}

/// `t` as the kernel indexes it: a head-major tensor (the manifest's
/// `layout bhtd`) with dims 1 and 2 swapped back into [B, T, H, ...] order,
/// its strides carrying the layout (linac-cpu-abi does the same for CPU
/// kernels inside the compiled code).
linac_tensor kernelView(const TensorDecl &decl, const linac_tensor &t) {
  linac_tensor view = t;
  if (decl.headMajor && t.rank >= 3) {
    std::swap(view.shape[1], view.shape[2]);
    std::swap(view.strides[1], view.strides[2]);
  }
  return view;
}

} // namespace

int32_t launch(const Function *function, const Manifest &m,
               const linac_tensor *const *tensors, int32_t count, void *stream,
               linac_error *err) {
  Bindings bindings;
  ValidateOptions options;
  options.readContents = false;
  if (int32_t status = validate(m, tensors, count, err, options, &bindings))
    return status;

  // One block per (sequence, value head, value tile). B and HV are bound
  // as symbols, or, where the manifest fixes them (a spec's num_heads), read
  // off the output o: [B, T, HV, V], or [B, HV, T, V] head-major.
  auto outputDim = [&](bool heads) -> int64_t {
    for (int32_t i = 0; i < count; ++i) {
      const TensorDecl &decl = m.tensors[i];
      if (decl.name != "o" || !tensors[i] || decl.rank != 4)
        continue;
      if (!heads)
        return tensors[i]->shape[0];
      return tensors[i]->shape[decl.dims[1].symbol == Symbol::T ? 2 : 1];
    }
    return 0;
  };
  bool varlen = m.cuSeqlens >= 0 && tensors[m.cuSeqlens];
  int64_t sequences = varlen ? bindings.get(Symbol::N1) - 1
                      : bindings.has(Symbol::B) ? bindings.get(Symbol::B)
                                                : outputDim(false);
  int64_t heads = bindings.has(Symbol::HV) ? bindings.get(Symbol::HV)
                                           : outputDim(true);
  int64_t blocks = 0;
  if (__builtin_mul_overflow(sequences, heads, &blocks) ||
      __builtin_mul_overflow(blocks, m.launchTiles, &blocks) ||
      blocks > INT32_MAX)
    return fail(err, LINAC_ERROR_INVALID_ARGUMENT,
                "%.*s: %" PRId64 " sequences x %" PRId64 " value heads x %" PRId64
                " value tiles is more than the 2^31 - 1 blocks of a grid",
                LINAC_SV(m.kernel), sequences, heads, m.launchTiles);

  ContextScope scope(function->context);
  if (scope.result() != kSuccess)
    return cudaFail(err, scope.result(), "%.*s: cuCtxPushCurrent",
                    LINAC_SV(m.kernel));

  // Every tensor must lie inside one allocation of this context: a host
  // pointer, a pointer of another device or a view running past the end
  // of its buffer is refused here rather than faulting in the kernel.
  for (int32_t i = 0; i < count; ++i) {
    const linac_tensor *t = tensors[i];
    uint64_t bytes = t ? extentBytes(*t) : 0;
    if (bytes == 0)
      continue;
    CUdeviceptr address = reinterpret_cast<uintptr_t>(t->data);
    CUdeviceptr base = 0;
    size_t size = 0;
    CUresult result = driver.memGetAddressRange(&base, &size, address);
    if (result != kSuccess) {
      Message msg;
      msg.append("%.*s: tensor '%.*s' at %p is not in device memory of the "
                 "kernel's context (cuMemGetAddressRange: ",
                 LINAC_SV(m.kernel), LINAC_SV(m.tensors[i].name), t->data);
      describe(msg, result);
      msg.append(")");
      return fail(err, LINAC_ERROR_INVALID_ARGUMENT, msg);
    }
    if (address - base + bytes > size)
      return fail(err, LINAC_ERROR_INVALID_ARGUMENT,
                  "%.*s: tensor '%.*s' addresses %" PRIu64 " bytes from %p, "
                  "past the end of its device allocation (%zu bytes at "
                  "0x%llx)",
                  LINAC_SV(m.kernel), LINAC_SV(m.tensors[i].name), bytes,
                  t->data, size, base);
  }
  if (blocks == 0)
    return succeed(err);

  // The kernel's parameters: each tensor as the memref descriptor the
  // NVVM lowering expands it to (allocated and aligned pointer, offset 0,
  // sizes, strides), then the int32 presence flags, then per `tma` record
  // an int32 (1: its tensor map is valid) and after those the tensor maps,
  // 128 bytes each. Every other value sits in an 8-byte slot; the driver
  // reads each parameter's own size from it.
  constexpr int kMaxParams =
      kMaxTensors * (3 + 2 * LINAC_MAX_RANK) + 3 * kMaxTensors;
  uint64_t values[kMaxParams];
  void *params[kMaxParams];
  int n = 0;
  auto push = [&](uint64_t value) {
    values[n] = value;
    params[n] = &values[n];
    ++n;
  };
  for (int32_t i = 0; i < count; ++i) {
    const TensorDecl &decl = m.tensors[i];
    linac_tensor t{};
    if (tensors[i])
      t = kernelView(decl, *tensors[i]);
    uint64_t data = reinterpret_cast<uintptr_t>(t.data);
    push(data);
    push(data);
    push(0);
    for (int32_t d = 0; d < decl.rank; ++d)
      push(static_cast<uint64_t>(t.shape[d]));
    for (int32_t d = 0; d < decl.rank; ++d)
      push(static_cast<uint64_t>(t.strides[d]));
  }
  auto pushInt32 = [&](int32_t value) {
    values[n] = 0;
    std::memcpy(&values[n], &value, sizeof(value));
    params[n] = &values[n];
    ++n;
  };
  for (int32_t f = 0; f < m.numFlags; ++f)
    pushInt32(tensors[m.flags[f]] ? 1 : 0);
  // A view TMA cannot describe is loaded by the kernel's threads instead
  // (flag 0, its map left zero), so no view the other rules accept is
  // refused here.
  CUtensorMap_st maps[kMaxTensors];
  for (int32_t i = 0; i < m.numTma; ++i) {
    const int32_t index = m.tma[i].tensor;
    std::memset(&maps[i], 0, sizeof(maps[i]));
    // The map describes the kernel's view, whose coordinates the kernel
    // passes: for a head-major tensor the dims are permuted, which a map's
    // strides express like any other.
    linac_tensor t{};
    if (tensors[index])
      t = kernelView(m.tensors[index], *tensors[index]);
    const bool usable = tensors[index] && tmaUsable(t);
    if (usable)
      if (int32_t status = encodeTensorMap(m, m.tma[i], t, &maps[i], err))
        return status;
    pushInt32(usable ? 1 : 0);
  }
  for (int32_t i = 0; i < m.numTma; ++i)
    params[n++] = &maps[i];

  CUresult result = driver.launchKernel(
      function->function, static_cast<unsigned>(blocks), 1, 1,
      static_cast<unsigned>(m.launchThreads), 1, 1,
      static_cast<unsigned>(m.launchShared), static_cast<CUstream>(stream),
      params, nullptr);
  if (result != kSuccess)
    return cudaFail(err, result,
                    "%.*s: cuLaunchKernel(%" PRId64 " blocks of %" PRId64
                    " threads, %" PRId64 " bytes of shared memory)",
                    LINAC_SV(m.kernel), blocks, m.launchThreads,
                    m.launchShared);
  return succeed(err);
}

void resetDriverForTesting() {
  std::lock_guard<std::mutex> lock(driverMutex);
  if (driver.handle)
    dlclose(driver.handle);
  driver = Driver();
  failure.clear();
  driverTried = false;
}

int32_t driverSymbol(const char *symbol, void **address, linac_error *err) {
  *address = nullptr;
  if (int32_t status = getDriver(err))
    return status;
  *address = dlsym(driver.handle, symbol);
  if (!*address)
    return fail(err, LINAC_ERROR_CUDA,
                "the CUDA driver has no %s (a driver older than CUDA 11?)",
                symbol);
  return succeed(err);
}

int32_t cudaError(linac_error *err, int result, const char *context) {
  return cudaFail(err, result, "%s", context);
}

} // namespace linac::cuda
