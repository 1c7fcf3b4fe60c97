//===- CudaDevice.cpp - Device memory, streams and events -----------------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
//
// linac.h's "CUDA devices, memory, streams and events": thin wrappers over
// the driver calls a program needs to stage tensors for a CUDA kernel and
// time it, for programs without a CUDA runtime of their own (linac-run).
// The entry points come from the driver Cuda.cpp opened (driverSymbol),
// looked up once; each call enters the thread's current context, or device
// 0's primary context, retained on first use and kept (see linac.h). Every
// CUDA error becomes a message naming the call and the error.
//
//===----------------------------------------------------------------------===//

#include "CudaDevice.h"

#include "Cuda.h"
#include "Error.h"

#include "linac/runtime/linac.h"

#include <cstring>
#include <mutex>
#include <type_traits>

using linac::detail::fail;
using linac::detail::succeed;

// The driver's opaque handle types, at global scope as in cuda.h (Cuda.cpp
// declares the same), so that the function types below are the driver's.
struct CUctx_st;
struct CUstream_st;
struct CUevent_st;

namespace {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = CUctx_st *;
using CUstream = CUstream_st *;
using CUevent = CUevent_st *;

constexpr CUresult kSuccess = 0;

/// cuDeviceGetAttribute's attributes (cuda.h, CUdevice_attribute).
enum Attribute : int {
  kClockRate = 13,
  kMultiprocessorCount = 16,
  kMemoryClockRate = 36,
  kGlobalMemoryBusWidth = 37,
  kL2CacheSize = 38,
  kComputeCapabilityMajor = 75,
  kComputeCapabilityMinor = 76,
  kMaxSharedPerBlockOptin = 97,
};

/// The entry points of this file, by the names cuda.h maps the API to.
struct Api {
  CUresult (*deviceGet)(CUdevice *, int) = nullptr;
  CUresult (*deviceGetName)(char *, int, CUdevice) = nullptr;
  CUresult (*deviceGetAttribute)(int *, int, CUdevice) = nullptr;
  CUresult (*deviceTotalMem)(size_t *, CUdevice) = nullptr;
  CUresult (*ctxGetCurrent)(CUcontext *) = nullptr;
  CUresult (*ctxPushCurrent)(CUcontext) = nullptr;
  CUresult (*ctxPopCurrent)(CUcontext *) = nullptr;
  CUresult (*ctxSynchronize)() = nullptr;
  CUresult (*primaryCtxRetain)(CUcontext *, CUdevice) = nullptr;
  CUresult (*memAlloc)(CUdeviceptr *, size_t) = nullptr;
  CUresult (*memFree)(CUdeviceptr) = nullptr;
  CUresult (*memcpyHtoD)(CUdeviceptr, const void *, size_t) = nullptr;
  CUresult (*memcpyDtoH)(void *, CUdeviceptr, size_t) = nullptr;
  CUresult (*memsetD8)(CUdeviceptr, unsigned char, size_t) = nullptr;
  CUresult (*streamCreate)(CUstream *, unsigned) = nullptr;
  CUresult (*streamDestroy)(CUstream) = nullptr;
  CUresult (*streamSynchronize)(CUstream) = nullptr;
  CUresult (*eventCreate)(CUevent *, unsigned) = nullptr;
  CUresult (*eventDestroy)(CUevent) = nullptr;
  CUresult (*eventRecord)(CUevent, CUstream) = nullptr;
  CUresult (*eventSynchronize)(CUevent) = nullptr;
  CUresult (*eventElapsedTime)(float *, CUevent, CUevent) = nullptr;
};

std::mutex apiMutex;
bool apiReady = false;
Api api;
/// Device 0's primary context, once a call without a current context has
/// retained it.
CUcontext helperContext = nullptr;

/// Looks every entry point up once; later calls reuse them.
int32_t getApi(linac_error *err) {
  std::lock_guard<std::mutex> lock(apiMutex);
  if (apiReady)
    return LINAC_OK;
  Api found;
  int32_t status = LINAC_OK;
  auto find = [&](auto &slot, const char *symbol) {
    if (status != LINAC_OK)
      return;
    void *address = nullptr;
    status = linac::cuda::driverSymbol(symbol, &address, err);
    slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(address);
  };
  find(found.deviceGet, "cuDeviceGet");
  find(found.deviceGetName, "cuDeviceGetName");
  find(found.deviceGetAttribute, "cuDeviceGetAttribute");
  find(found.deviceTotalMem, "cuDeviceTotalMem_v2");
  find(found.ctxGetCurrent, "cuCtxGetCurrent");
  find(found.ctxPushCurrent, "cuCtxPushCurrent_v2");
  find(found.ctxPopCurrent, "cuCtxPopCurrent_v2");
  find(found.ctxSynchronize, "cuCtxSynchronize");
  find(found.primaryCtxRetain, "cuDevicePrimaryCtxRetain");
  find(found.memAlloc, "cuMemAlloc_v2");
  find(found.memFree, "cuMemFree_v2");
  find(found.memcpyHtoD, "cuMemcpyHtoD_v2");
  find(found.memcpyDtoH, "cuMemcpyDtoH_v2");
  find(found.memsetD8, "cuMemsetD8_v2");
  find(found.streamCreate, "cuStreamCreate");
  find(found.streamDestroy, "cuStreamDestroy_v2");
  find(found.streamSynchronize, "cuStreamSynchronize");
  find(found.eventCreate, "cuEventCreate");
  find(found.eventDestroy, "cuEventDestroy_v2");
  find(found.eventRecord, "cuEventRecord");
  find(found.eventSynchronize, "cuEventSynchronize");
  if (status != LINAC_OK)
    return status;
  // CUDA 12.8 renamed cuEventElapsedTime to _v2 (same signature); older
  // drivers have only the first.
  void *elapsed = nullptr;
  if (linac::cuda::driverSymbol("cuEventElapsedTime_v2", &elapsed, nullptr) !=
      LINAC_OK)
    status = linac::cuda::driverSymbol("cuEventElapsedTime", &elapsed, err);
  if (status != LINAC_OK)
    return status;
  found.eventElapsedTime =
      reinterpret_cast<decltype(found.eventElapsedTime)>(elapsed);
  api = found;
  apiReady = true;
  return LINAC_OK;
}

/// The context a helper call works in, current for the call's duration:
/// the thread's own, else device 0's primary context (pushed, and popped
/// again at the end of the scope).
class Scope {
public:
  int32_t enter(linac_error *err) {
    if (int32_t status = getApi(err))
      return status;
    CUcontext current = nullptr;
    if (CUresult result = api.ctxGetCurrent(&current); result != kSuccess)
      return linac::cuda::cudaError(err, result, "cuCtxGetCurrent");
    if (current)
      return LINAC_OK;
    CUcontext context;
    {
      std::lock_guard<std::mutex> lock(apiMutex);
      if (!helperContext) {
        CUdevice device = 0;
        if (CUresult result = api.deviceGet(&device, 0); result != kSuccess)
          return linac::cuda::cudaError(err, result, "cuDeviceGet(0)");
        if (CUresult result = api.primaryCtxRetain(&helperContext, device);
            result != kSuccess) {
          helperContext = nullptr;
          return linac::cuda::cudaError(err, result,
                                        "cuDevicePrimaryCtxRetain(0)");
        }
      }
      context = helperContext;
    }
    if (CUresult result = api.ctxPushCurrent(context); result != kSuccess)
      return linac::cuda::cudaError(err, result, "cuCtxPushCurrent");
    pushed = true;
    return LINAC_OK;
  }
  ~Scope() {
    if (pushed) {
      CUcontext popped;
      api.ctxPopCurrent(&popped);
    }
  }

private:
  bool pushed = false;
};

CUdeviceptr devicePointer(const void *pointer) {
  return static_cast<CUdeviceptr>(reinterpret_cast<uintptr_t>(pointer));
}

/// Runs `call` (returning a CUresult) inside a Scope; a failure becomes
/// "WHAT failed: NAME (description)".
template <typename Call>
int32_t inContext(const char *what, linac_error *err, Call call) {
  Scope scope;
  if (int32_t status = scope.enter(err))
    return status;
  if (CUresult result = call(); result != kSuccess)
    return linac::cuda::cudaError(err, result, what);
  return succeed(err);
}

} // namespace

namespace linac::cuda {

void resetDeviceHelpersForTesting() {
  std::lock_guard<std::mutex> lock(apiMutex);
  apiReady = false;
  api = Api();
  helperContext = nullptr;
}

} // namespace linac::cuda

extern "C" int32_t linac_cuda_get_device_info(int32_t ordinal,
                                              linac_cuda_device_info *info,
                                              linac_error *err) {
  if (!info)
    return fail(err, LINAC_ERROR_INVALID_ARGUMENT, "info is NULL");
  std::memset(info, 0, sizeof(*info));
  if (int32_t status = getApi(err))
    return status;
  CUdevice device = 0;
  if (CUresult result = api.deviceGet(&device, ordinal); result != kSuccess) {
    linac::detail::Message what;
    what.append("cuDeviceGet(%d)", ordinal);
    return linac::cuda::cudaError(err, result, what.str());
  }
  info->ordinal = ordinal;
  if (CUresult result = api.deviceGetName(info->name,
                                          static_cast<int>(sizeof(info->name)),
                                          device);
      result != kSuccess)
    return linac::cuda::cudaError(err, result, "cuDeviceGetName");
  info->name[sizeof(info->name) - 1] = '\0';
  struct {
    Attribute attribute;
    const char *name;
    int32_t *value;
  } attributes[] = {
      {kComputeCapabilityMajor, "compute capability major", &info->major},
      {kComputeCapabilityMinor, "compute capability minor", &info->minor},
      {kMultiprocessorCount, "multiprocessor count", &info->multiprocessors},
      {kClockRate, "clock rate", &info->clock_khz},
      {kMemoryClockRate, "memory clock rate", &info->memory_clock_khz},
      {kGlobalMemoryBusWidth, "memory bus width", &info->memory_bus_bits},
  };
  for (auto &entry : attributes) {
    int value = 0;
    if (CUresult result =
            api.deviceGetAttribute(&value, entry.attribute, device);
        result != kSuccess) {
      linac::detail::Message what;
      what.append("cuDeviceGetAttribute(%s)", entry.name);
      return linac::cuda::cudaError(err, result, what.str());
    }
    *entry.value = value;
  }
  int l2 = 0, optin = 0;
  if (CUresult result = api.deviceGetAttribute(&l2, kL2CacheSize, device);
      result != kSuccess)
    return linac::cuda::cudaError(err, result,
                                  "cuDeviceGetAttribute(L2 cache size)");
  if (CUresult result =
          api.deviceGetAttribute(&optin, kMaxSharedPerBlockOptin, device);
      result != kSuccess)
    return linac::cuda::cudaError(
        err, result, "cuDeviceGetAttribute(max shared memory per block)");
  info->l2_bytes = l2;
  info->shared_per_block_optin = optin;
  size_t memory = 0;
  if (CUresult result = api.deviceTotalMem(&memory, device); result != kSuccess)
    return linac::cuda::cudaError(err, result, "cuDeviceTotalMem");
  info->memory_bytes = static_cast<int64_t>(memory);
  return succeed(err);
}

extern "C" int32_t linac_cuda_malloc(uint64_t bytes, void **device,
                                     linac_error *err) {
  if (!device)
    return fail(err, LINAC_ERROR_INVALID_ARGUMENT, "device is NULL");
  *device = nullptr;
  if (bytes == 0)
    return succeed(err);
  CUdeviceptr pointer = 0;
  linac::detail::Message what;
  what.append("cuMemAlloc(%llu bytes)", static_cast<unsigned long long>(bytes));
  if (int32_t status = inContext(what.str(), err, [&] {
        return api.memAlloc(&pointer, static_cast<size_t>(bytes));
      }))
    return status;
  *device = reinterpret_cast<void *>(static_cast<uintptr_t>(pointer));
  return LINAC_OK;
}

extern "C" int32_t linac_cuda_free(void *device, linac_error *err) {
  if (!device)
    return succeed(err);
  return inContext("cuMemFree", err,
                   [&] { return api.memFree(devicePointer(device)); });
}

extern "C" int32_t linac_cuda_memcpy_htod(void *device, const void *host,
                                          uint64_t bytes, linac_error *err) {
  if (bytes == 0)
    return succeed(err);
  if (!device || !host)
    return fail(err, LINAC_ERROR_INVALID_ARGUMENT, "%s pointer is NULL",
                device ? "the host" : "the device");
  return inContext("cuMemcpyHtoD", err, [&] {
    return api.memcpyHtoD(devicePointer(device), host,
                          static_cast<size_t>(bytes));
  });
}

extern "C" int32_t linac_cuda_memcpy_dtoh(void *host, const void *device,
                                          uint64_t bytes, linac_error *err) {
  if (bytes == 0)
    return succeed(err);
  if (!device || !host)
    return fail(err, LINAC_ERROR_INVALID_ARGUMENT, "%s pointer is NULL",
                device ? "the host" : "the device");
  return inContext("cuMemcpyDtoH", err, [&] {
    return api.memcpyDtoH(host, devicePointer(device),
                          static_cast<size_t>(bytes));
  });
}

extern "C" int32_t linac_cuda_memset(void *device, uint8_t value,
                                     uint64_t bytes, linac_error *err) {
  if (bytes == 0)
    return succeed(err);
  if (!device)
    return fail(err, LINAC_ERROR_INVALID_ARGUMENT, "the device pointer is NULL");
  return inContext("cuMemsetD8", err, [&] {
    return api.memsetD8(devicePointer(device), value,
                        static_cast<size_t>(bytes));
  });
}

extern "C" int32_t linac_cuda_synchronize(linac_error *err) {
  return inContext("cuCtxSynchronize", err,
                   [&] { return api.ctxSynchronize(); });
}

extern "C" int32_t linac_cuda_stream_create(void **stream, linac_error *err) {
  if (!stream)
    return fail(err, LINAC_ERROR_INVALID_ARGUMENT, "stream is NULL");
  *stream = nullptr;
  CUstream created = nullptr;
  if (int32_t status = inContext("cuStreamCreate", err, [&] {
        return api.streamCreate(&created, 0);
      }))
    return status;
  *stream = created;
  return LINAC_OK;
}

extern "C" int32_t linac_cuda_stream_destroy(void *stream, linac_error *err) {
  if (!stream)
    return succeed(err);
  return inContext("cuStreamDestroy", err, [&] {
    return api.streamDestroy(static_cast<CUstream>(stream));
  });
}

extern "C" int32_t linac_cuda_stream_synchronize(void *stream,
                                                 linac_error *err) {
  return inContext("cuStreamSynchronize", err, [&] {
    return api.streamSynchronize(static_cast<CUstream>(stream));
  });
}

extern "C" int32_t linac_cuda_event_create(void **event, linac_error *err) {
  if (!event)
    return fail(err, LINAC_ERROR_INVALID_ARGUMENT, "event is NULL");
  *event = nullptr;
  CUevent created = nullptr;
  if (int32_t status = inContext("cuEventCreate", err, [&] {
        return api.eventCreate(&created, 0);
      }))
    return status;
  *event = created;
  return LINAC_OK;
}

extern "C" int32_t linac_cuda_event_destroy(void *event, linac_error *err) {
  if (!event)
    return succeed(err);
  return inContext("cuEventDestroy", err, [&] {
    return api.eventDestroy(static_cast<CUevent>(event));
  });
}

extern "C" int32_t linac_cuda_event_record(void *event, void *stream,
                                           linac_error *err) {
  if (!event)
    return fail(err, LINAC_ERROR_INVALID_ARGUMENT, "the event is NULL");
  return inContext("cuEventRecord", err, [&] {
    return api.eventRecord(static_cast<CUevent>(event),
                           static_cast<CUstream>(stream));
  });
}

extern "C" int32_t linac_cuda_event_elapsed(float *ms, void *start, void *end,
                                            linac_error *err) {
  if (!ms || !start || !end)
    return fail(err, LINAC_ERROR_INVALID_ARGUMENT, "%s is NULL",
                !ms ? "ms" : !start ? "the start event" : "the end event");
  *ms = 0;
  if (int32_t status = inContext("cuEventSynchronize", err, [&] {
        return api.eventSynchronize(static_cast<CUevent>(end));
      }))
    return status;
  return inContext("cuEventElapsedTime", err, [&] {
    return api.eventElapsedTime(ms, static_cast<CUevent>(start),
                                static_cast<CUevent>(end));
  });
}
