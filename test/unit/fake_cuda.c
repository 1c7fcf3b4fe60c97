/*===- fake_cuda.c - A stand-in CUDA driver for the runtime's tests -------===*
 *
 * Part of the linac project.
 *
 * Built as a shared library that CudaTest names in LINAC_LIBCUDA, so that
 * the runtime's CUDA loader (opening the driver, contexts, architecture and
 * shared-memory checks, pointer checks, the launch's grid and parameters,
 * every error path) is tested on machines without a GPU. It implements the
 * driver entry points the runtime looks up, on plain host memory: "device
 * allocations" are ranges the test registers or cuMemAlloc mallocs, copies
 * are memcpy, events count records, and a launch is recorded, not run. The
 * fake_cuda_* functions set its behaviour and read what happened; a program
 * in another process (linac-run in the lit tests) sets it through the
 * environment variable LINAC_FAKE_CUDA, "key=value,..." with the keys of
 * fake_cuda_set, applied at cuInit.
 *
 *===----------------------------------------------------------------------===*/

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The driver's own types (cuda.h), so that the function types match what
 * the runtime calls through (checked by UBSan in `make sanitize`). */
typedef int CUresult;
typedef int CUdevice;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;

enum {
  kSuccess = 0,
  kInvalidValue = 1,
  kOutOfMemory = 2,
  kNotInitialized = 3,
  kStubLibrary = 34,
  kNoDevice = 100,
  kNoBinaryForGpu = 209,
  kInvalidHandle = 400,
  kIllegalAddress = 700,
  kOutOfResources = 701,
};

#define MAX_PARAMS 512
#define MAX_RANGES 64

static struct {
  CUresult initResult, loadResult, launchResult;
  CUresult allocResult, copyResult, syncResult, eventResult;
  /* Microseconds between two consecutive event records. */
  int eventMicroseconds;
  int hasDefaults; /* fake_cuda_reset ran */
  int allocations, frees, copies, streams, events, eventRecords;
  int major, minor, optinShared;
  int hasCurrentContext;
  int initialized;
  int moduleLoads, moduleUnloads, retains, releases, pushes, pops;
  int sharedAttribute;
  char functionName[256];
  struct {
    uintptr_t base;
    size_t size;
  } ranges[MAX_RANGES];
  int numRanges;
  /* The last launch. */
  int launches;
  unsigned grid[3], block[3], shared;
  CUstream stream;
  int expectParams;
  uint64_t params[MAX_PARAMS];
} fake;

void fake_cuda_reset(void) {
  memset(&fake, 0, sizeof(fake));
  fake.major = 9;
  fake.minor = 0;
  fake.optinShared = 227 * 1024;
  fake.eventMicroseconds = 250;
  fake.hasDefaults = 1;
}

void fake_cuda_set(const char *what, int value) {
  if (!strcmp(what, "init"))
    fake.initResult = value;
  else if (!strcmp(what, "load"))
    fake.loadResult = value;
  else if (!strcmp(what, "launch"))
    fake.launchResult = value;
  else if (!strcmp(what, "major"))
    fake.major = value;
  else if (!strcmp(what, "minor"))
    fake.minor = value;
  else if (!strcmp(what, "optin"))
    fake.optinShared = value;
  else if (!strcmp(what, "current"))
    fake.hasCurrentContext = value;
  else if (!strcmp(what, "params"))
    fake.expectParams = value;
  else if (!strcmp(what, "alloc"))
    fake.allocResult = value;
  else if (!strcmp(what, "copy"))
    fake.copyResult = value;
  else if (!strcmp(what, "sync"))
    fake.syncResult = value;
  else if (!strcmp(what, "event"))
    fake.eventResult = value;
  else if (!strcmp(what, "eventMicroseconds"))
    fake.eventMicroseconds = value;
}

int fake_cuda_get(const char *what) {
  if (!strcmp(what, "launches"))
    return fake.launches;
  if (!strcmp(what, "grid"))
    return (int)fake.grid[0];
  if (!strcmp(what, "block"))
    return (int)fake.block[0];
  if (!strcmp(what, "shared"))
    return (int)fake.shared;
  if (!strcmp(what, "sharedAttribute"))
    return fake.sharedAttribute;
  if (!strcmp(what, "moduleLoads"))
    return fake.moduleLoads;
  if (!strcmp(what, "moduleUnloads"))
    return fake.moduleUnloads;
  if (!strcmp(what, "retains"))
    return fake.retains;
  if (!strcmp(what, "releases"))
    return fake.releases;
  if (!strcmp(what, "balanced"))
    return fake.pushes == fake.pops;
  if (!strcmp(what, "allocations"))
    return fake.allocations;
  if (!strcmp(what, "frees"))
    return fake.frees;
  if (!strcmp(what, "copies"))
    return fake.copies;
  if (!strcmp(what, "streams"))
    return fake.streams;
  if (!strcmp(what, "events"))
    return fake.events;
  if (!strcmp(what, "eventRecords"))
    return fake.eventRecords;
  return -1;
}

/* LINAC_FAKE_CUDA="key=value,...": fake_cuda_set for each pair. */
static void configureFromEnvironment(void) {
  const char *text = getenv("LINAC_FAKE_CUDA");
  char key[64];
  while (text && *text) {
    size_t length = strcspn(text, "=,");
    if (text[length] != '=' || length >= sizeof(key))
      break;
    memcpy(key, text, length);
    key[length] = '\0';
    fake_cuda_set(key, atoi(text + length + 1));
    text = strchr(text + length, ',');
    if (text)
      ++text;
  }
}

const char *fake_cuda_function_name(void) { return fake.functionName; }
void *fake_cuda_stream(void) { return (void *)fake.stream; }
uint64_t fake_cuda_param(int i) { return fake.params[i]; }

void fake_cuda_register(const void *base, size_t size) {
  if (fake.numRanges < MAX_RANGES) {
    fake.ranges[fake.numRanges].base = (uintptr_t)base;
    fake.ranges[fake.numRanges].size = size;
    ++fake.numRanges;
  }
}

static int findRange(uintptr_t address) {
  for (int i = 0; i < fake.numRanges; ++i)
    if (address >= fake.ranges[i].base &&
        address < fake.ranges[i].base + fake.ranges[i].size)
      return i;
  return -1;
}

/*---- The driver API --------------------------------------------------*/

CUresult cuGetErrorName(CUresult error, const char **name) {
  switch (error) {
  case kSuccess: *name = "CUDA_SUCCESS"; return kSuccess;
  case kInvalidValue: *name = "CUDA_ERROR_INVALID_VALUE"; return kSuccess;
  case kOutOfMemory: *name = "CUDA_ERROR_OUT_OF_MEMORY"; return kSuccess;
  case kInvalidHandle: *name = "CUDA_ERROR_INVALID_HANDLE"; return kSuccess;
  case kIllegalAddress: *name = "CUDA_ERROR_ILLEGAL_ADDRESS"; return kSuccess;
  case kStubLibrary: *name = "CUDA_ERROR_STUB_LIBRARY"; return kSuccess;
  case kNoDevice: *name = "CUDA_ERROR_NO_DEVICE"; return kSuccess;
  case kNoBinaryForGpu: *name = "CUDA_ERROR_NO_BINARY_FOR_GPU"; return kSuccess;
  case kOutOfResources:
    *name = "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES";
    return kSuccess;
  default: *name = 0; return kInvalidValue;
  }
}

CUresult cuGetErrorString(CUresult error, const char **text) {
  switch (error) {
  case kInvalidValue: *text = "invalid argument"; return kSuccess;
  case kOutOfMemory: *text = "out of memory"; return kSuccess;
  case kInvalidHandle: *text = "invalid resource handle"; return kSuccess;
  case kIllegalAddress:
    *text = "an illegal memory access was encountered";
    return kSuccess;
  case kStubLibrary: *text = "CUDA driver is a stub library"; return kSuccess;
  case kNoDevice: *text = "no CUDA-capable device is detected"; return kSuccess;
  case kNoBinaryForGpu:
    *text = "no kernel image is available for execution on the device";
    return kSuccess;
  case kOutOfResources: *text = "too many resources requested for launch"; return kSuccess;
  default: *text = 0; return kInvalidValue;
  }
}

CUresult cuInit(unsigned flags) {
  (void)flags;
  if (!fake.hasDefaults) /* another process: no test reset it */
    fake_cuda_reset();
  configureFromEnvironment();
  if (fake.initResult == kSuccess)
    fake.initialized = 1;
  return fake.initResult;
}

CUresult cuDeviceGetCount(int *count) {
  *count = fake.initialized ? 1 : 0;
  return fake.initialized ? kSuccess : kNotInitialized;
}

CUresult cuDeviceGet(CUdevice *device, int ordinal) {
  *device = ordinal;
  return ordinal == 0 ? kSuccess : kInvalidValue;
}

CUresult cuDeviceGetAttribute(int *value, int attribute, CUdevice device) {
  (void)device;
  switch (attribute) {
  case 75: *value = fake.major; return kSuccess;
  case 76: *value = fake.minor; return kSuccess;
  case 97: *value = fake.optinShared; return kSuccess;
  case 13: *value = 1980000; return kSuccess;    /* kHz */
  case 16: *value = 132; return kSuccess;        /* SMs */
  case 36: *value = 2619000; return kSuccess;    /* kHz */
  case 37: *value = 5120; return kSuccess;       /* bits */
  case 38: *value = 50 << 20; return kSuccess;   /* L2 bytes */
  default: return kInvalidValue;
  }
}

CUresult cuDeviceGetName(char *name, int length, CUdevice device) {
  (void)device;
  if (length <= 0)
    return kInvalidValue;
  strncpy(name, "Fake CUDA device", (size_t)length - 1);
  name[length - 1] = '\0';
  return kSuccess;
}

CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice device) {
  (void)device;
  *bytes = (size_t)80 << 30;
  return kSuccess;
}

/* Contexts are opaque pointers; these two stand for the user's and the
 * primary one. */
static int userContext, primaryContext;

CUresult cuCtxGetCurrent(CUcontext *context) {
  *context = fake.hasCurrentContext ? (CUcontext)&userContext : 0;
  return kSuccess;
}
CUresult cuCtxGetDevice(CUdevice *device) {
  *device = 0;
  return kSuccess;
}
CUresult cuCtxPushCurrent_v2(CUcontext context) {
  (void)context;
  ++fake.pushes;
  return kSuccess;
}
CUresult cuCtxPopCurrent_v2(CUcontext *context) {
  *context = 0;
  ++fake.pops;
  return kSuccess;
}
CUresult cuDevicePrimaryCtxRetain(CUcontext *context, CUdevice device) {
  (void)device;
  *context = (CUcontext)&primaryContext;
  ++fake.retains;
  return kSuccess;
}
CUresult cuDevicePrimaryCtxRelease_v2(CUdevice device) {
  (void)device;
  ++fake.releases;
  return kSuccess;
}

static int module, function;

CUresult cuModuleLoadData(CUmodule *out, const void *image) {
  (void)image;
  if (fake.loadResult != kSuccess)
    return fake.loadResult;
  ++fake.moduleLoads;
  *out = (CUmodule)&module;
  return kSuccess;
}
CUresult cuModuleUnload(CUmodule m) {
  (void)m;
  ++fake.moduleUnloads;
  return kSuccess;
}
CUresult cuModuleGetFunction(CUfunction *out, CUmodule m, const char *name) {
  (void)m;
  strncpy(fake.functionName, name, sizeof(fake.functionName) - 1);
  *out = (CUfunction)&function;
  return kSuccess;
}
CUresult cuFuncSetAttribute(CUfunction f, int attribute, int value) {
  (void)f;
  if (attribute == 8)
    fake.sharedAttribute = value;
  return kSuccess;
}

CUresult cuMemGetAddressRange_v2(CUdeviceptr *base, size_t *size,
                                 CUdeviceptr address) {
  int i = findRange((uintptr_t)address);
  if (i < 0)
    return kInvalidValue;
  *base = fake.ranges[i].base;
  *size = fake.ranges[i].size;
  return kSuccess;
}

/*---- Memory, streams and events (linac.h's helpers) --------------------*/

CUresult cuCtxSynchronize(void) { return fake.syncResult; }

CUresult cuMemAlloc_v2(CUdeviceptr *pointer, size_t bytes) {
  void *memory;
  if (fake.allocResult != kSuccess)
    return fake.allocResult;
  if (bytes == 0 || fake.numRanges == MAX_RANGES)
    return kInvalidValue;
  memory = malloc(bytes);
  if (!memory)
    return kOutOfMemory;
  fake_cuda_register(memory, bytes);
  ++fake.allocations;
  *pointer = (CUdeviceptr)(uintptr_t)memory;
  return kSuccess;
}

CUresult cuMemFree_v2(CUdeviceptr pointer) {
  int i = findRange((uintptr_t)pointer);
  if (i < 0 || fake.ranges[i].base != (uintptr_t)pointer)
    return kInvalidValue;
  free((void *)(uintptr_t)pointer);
  fake.ranges[i] = fake.ranges[--fake.numRanges];
  ++fake.frees;
  return kSuccess;
}

/* A copy must stay inside one allocation, as on a device. */
static CUresult checkedCopy(void *to, const void *from, size_t bytes,
                            uintptr_t device) {
  int i = findRange(device);
  if (fake.copyResult != kSuccess)
    return fake.copyResult;
  if (i < 0 || device + bytes > fake.ranges[i].base + fake.ranges[i].size)
    return kInvalidValue;
  memcpy(to, from, bytes);
  ++fake.copies;
  return kSuccess;
}

CUresult cuMemcpyHtoD_v2(CUdeviceptr to, const void *from, size_t bytes) {
  return checkedCopy((void *)(uintptr_t)to, from, bytes, (uintptr_t)to);
}

CUresult cuMemcpyDtoH_v2(void *to, CUdeviceptr from, size_t bytes) {
  return checkedCopy(to, (const void *)(uintptr_t)from, bytes,
                     (uintptr_t)from);
}

CUresult cuMemsetD8_v2(CUdeviceptr to, unsigned char value, size_t bytes) {
  int i = findRange((uintptr_t)to);
  if (i < 0 || to + bytes > fake.ranges[i].base + fake.ranges[i].size)
    return kInvalidValue;
  memset((void *)(uintptr_t)to, value, bytes);
  return kSuccess;
}

static int streamObject;

CUresult cuStreamCreate(CUstream *stream, unsigned flags) {
  (void)flags;
  ++fake.streams;
  *stream = (CUstream)&streamObject;
  return kSuccess;
}
CUresult cuStreamDestroy_v2(CUstream stream) {
  if (stream != (CUstream)&streamObject)
    return kInvalidHandle;
  --fake.streams;
  return kSuccess;
}
CUresult cuStreamSynchronize(CUstream stream) {
  (void)stream;
  return fake.syncResult;
}

/* An event is a malloc'ed tick: 0 until recorded, then the record count. */
CUresult cuEventCreate(CUevent *event, unsigned flags) {
  long *tick;
  (void)flags;
  if (fake.eventResult != kSuccess)
    return fake.eventResult;
  tick = calloc(1, sizeof(long));
  if (!tick)
    return kOutOfMemory;
  ++fake.events;
  *event = (CUevent)tick;
  return kSuccess;
}
CUresult cuEventDestroy_v2(CUevent event) {
  free(event);
  --fake.events;
  return kSuccess;
}
CUresult cuEventRecord(CUevent event, CUstream stream) {
  (void)stream;
  *(long *)event = ++fake.eventRecords;
  return kSuccess;
}
CUresult cuEventSynchronize(CUevent event) {
  return *(long *)event ? fake.syncResult : kInvalidHandle;
}
CUresult cuEventElapsedTime_v2(float *ms, CUevent start, CUevent end) {
  long from = *(long *)start, to = *(long *)end;
  if (!from || !to)
    return kInvalidHandle;
  *ms = (float)(to - from) * (float)fake.eventMicroseconds / 1000.0f;
  return kSuccess;
}

CUresult cuLaunchKernel(CUfunction f, unsigned gx, unsigned gy, unsigned gz,
                        unsigned bx, unsigned by, unsigned bz, unsigned shared,
                        CUstream stream, void **params, void **extra) {
  (void)f;
  (void)extra;
  if (fake.launchResult != kSuccess)
    return fake.launchResult;
  ++fake.launches;
  fake.grid[0] = gx;
  fake.grid[1] = gy;
  fake.grid[2] = gz;
  fake.block[0] = bx;
  fake.block[1] = by;
  fake.block[2] = bz;
  fake.shared = shared;
  fake.stream = stream;
  /* Every parameter the runtime passes sits in an 8-byte slot. */
  for (int i = 0; i < fake.expectParams && i < MAX_PARAMS; ++i)
    memcpy(&fake.params[i], params[i], sizeof(uint64_t));
  return kSuccess;
}
