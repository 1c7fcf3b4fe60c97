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
typedef struct CUtensorMap_st {
  _Alignas(64) uint64_t opaque[16];
} CUtensorMap;
typedef enum CUtensorMapDataType_enum { kDataTypeUnused } CUtensorMapDataType;
typedef enum CUtensorMapInterleave_enum { kInterleaveUnused } CUtensorMapInterleave;
typedef enum CUtensorMapSwizzle_enum { kSwizzleUnused } CUtensorMapSwizzle;
typedef enum CUtensorMapL2promotion_enum { kL2Unused } CUtensorMapL2promotion;
typedef enum CUtensorMapFloatOOBfill_enum { kOobUnused } CUtensorMapFloatOOBfill;

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
#define MAX_MAPS 8
/* The first word of every tensor map the fake encodes; the second is the
 * number of the encode call (1, 2, ...). */
#define MAP_MAGIC 0x70616d726f736e65ull

/* One cuTensorMapEncodeTiled call, as the runtime made it. */
struct Encode {
  int dtype, interleave, swizzle, l2, oob;
  unsigned rank;
  uintptr_t address, map;
  uint64_t dims[5], strides[4];
  unsigned box[5], elementStrides[5];
};

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
  /* Parameters from this index on are 128-byte tensor maps: their words. */
  int firstMap;
  uint64_t mapWords[MAX_MAPS][16];
  uintptr_t mapAddresses[MAX_MAPS];
  /* cuTensorMapEncodeTiled. */
  CUresult encodeResult;
  int encodes;
  struct Encode encoded[MAX_MAPS];
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
  else if (!strcmp(what, "maps"))
    fake.firstMap = value;
  else if (!strcmp(what, "encode"))
    fake.encodeResult = value;
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
  if (!strcmp(what, "encodes"))
    return fake.encodes;
  return -1;
}

/* Field `what` (index `i` of an array field) of encode call `call`
 * (0-based). */
uint64_t fake_cuda_encoded(int call, const char *what, int i) {
  if (call < 0 || call >= MAX_MAPS)
    return ~0ull;
  const struct Encode *e = &fake.encoded[call];
  if (!strcmp(what, "dtype")) return (uint64_t)e->dtype;
  if (!strcmp(what, "rank")) return e->rank;
  if (!strcmp(what, "address")) return e->address;
  if (!strcmp(what, "map")) return e->map;
  if (!strcmp(what, "dims")) return e->dims[i];
  if (!strcmp(what, "strides")) return e->strides[i];
  if (!strcmp(what, "box")) return e->box[i];
  if (!strcmp(what, "elementStrides")) return e->elementStrides[i];
  if (!strcmp(what, "interleave")) return (uint64_t)e->interleave;
  if (!strcmp(what, "swizzle")) return (uint64_t)e->swizzle;
  if (!strcmp(what, "l2")) return (uint64_t)e->l2;
  if (!strcmp(what, "oob")) return (uint64_t)e->oob;
  return ~0ull;
}

/* Word `w` of the tensor map passed as parameter `i` (firstMap and on), and
 * the address the runtime passed it at. */
uint64_t fake_cuda_map_word(int i, int w) {
  int m = i - fake.firstMap;
  return m >= 0 && m < MAX_MAPS && w >= 0 && w < 16 ? fake.mapWords[m][w]
                                                     : ~0ull;
}
uint64_t fake_cuda_map_address(int i) {
  int m = i - fake.firstMap;
  return m >= 0 && m < MAX_MAPS ? fake.mapAddresses[m] : ~0ull;
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
  /* Every parameter the runtime passes sits in an 8-byte slot, except the
   * tensor maps (from firstMap on, when set), which are 128 bytes. */
  for (int i = 0; i < fake.expectParams && i < MAX_PARAMS; ++i) {
    if (fake.firstMap > 0 && i >= fake.firstMap &&
        i - fake.firstMap < MAX_MAPS) {
      memcpy(fake.mapWords[i - fake.firstMap], params[i], 128);
      fake.mapAddresses[i - fake.firstMap] = (uintptr_t)params[i];
      continue;
    }
    memcpy(&fake.params[i], params[i], sizeof(uint64_t));
  }
  return kSuccess;
}

CUresult cuTensorMapEncodeTiled(
    CUtensorMap *tensorMap, CUtensorMapDataType tensorDataType,
    uint32_t tensorRank, void *globalAddress, const uint64_t *globalDim,
    const uint64_t *globalStrides, const uint32_t *boxDim,
    const uint32_t *elementStrides, CUtensorMapInterleave interleave,
    CUtensorMapSwizzle swizzle, CUtensorMapL2promotion l2Promotion,
    CUtensorMapFloatOOBfill oobFill) {
  if (fake.encodes < MAX_MAPS) {
    struct Encode *e = &fake.encoded[fake.encodes];
    memset(e, 0, sizeof(*e));
    e->dtype = (int)tensorDataType;
    e->rank = tensorRank;
    e->address = (uintptr_t)globalAddress;
    e->map = (uintptr_t)tensorMap;
    for (uint32_t d = 0; d < tensorRank && d < 5; ++d) {
      e->dims[d] = globalDim[d];
      e->box[d] = boxDim[d];
      e->elementStrides[d] = elementStrides[d];
      if (d + 1 < tensorRank && d < 4)
        e->strides[d] = globalStrides[d];
    }
    e->interleave = (int)interleave;
    e->swizzle = (int)swizzle;
    e->l2 = (int)l2Promotion;
    e->oob = (int)oobFill;
  }
  ++fake.encodes;
  if (fake.encodeResult != kSuccess)
    return fake.encodeResult;
  /* The driver requires a 64-byte aligned map. */
  if ((uintptr_t)tensorMap % 64 != 0)
    return kInvalidValue;
  memset(tensorMap, 0, sizeof(*tensorMap));
  tensorMap->opaque[0] = MAP_MAGIC;
  tensorMap->opaque[1] = (uint64_t)fake.encodes;
  tensorMap->opaque[2] = (uint64_t)(uintptr_t)globalAddress;
  return kSuccess;
}
