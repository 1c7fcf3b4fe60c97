/*===- linac.h - linac runtime C API and kernel ABI ----------------*- C -*-===*
 *
 * Part of linac, an MLIR-based compiler for linear-attention kernels.
 *
 * This header is the contract between three parties:
 *   - the code linacc generates (it reads tensors through `linac_tensor` and
 *     runs its tasks through a `linac_parallel_for_fn`);
 *   - liblinac_runtime (thread pool, manifest-driven tensor validation,
 *     loading of compiled artifacts);
 *   - user programs, in C or C++, that link a generated object or load a
 *     shared artifact at run time.
 *
 * Every generated kernel NAME exports two symbols:
 *
 *   const char NAME_manifest[];   NUL-terminated manifest text (see below)
 *   void NAME_kernel(const linac_tensor *const *tensors,
 *                    linac_parallel_for_fn parallel_for, void *pool);
 *
 * `NAME_kernel` assumes its tensors are valid: it does no checking of its own.
 * Call it through `linac_kernel_launch` (run-time loading) or through the
 * checked wrapper that `linacc --header` writes, both of which call
 * `linac_validate` first. The order of `tensors` is the order of the
 * `tensor` lines of the manifest; optional tensors may be NULL.
 *
 * Manifest format (version 1): one record per line, fields separated by
 * single spaces, no trailing spaces:
 *
 *   linac-manifest 1
 *   compiler <version>            e.g. 0.1.0; must equal LINAC_VERSION
 *   kernel <name>                 e.g. gla_prefill
 *   target cpu <cpu> <features>   e.g. cpu x86-64-v4 avx512f,avx2,fma
 *                                 (features: comma list, or "-" for none)
 *   mode prefill|decode
 *   variant <variant>             informational
 *   schedule <algorithm> <chunk>  optional, informational: what linac-select
 *                                 chose (chunked, chunked_wy or recurrent)
 *                                 and its chunk length (0 for recurrent),
 *                                 e.g. "schedule chunked 64"; cost models
 *                                 (linac-run --bench) read it
 *   tensor <name> <in|out> <required|optional> <dtype> <dim>...
 *   alias <out-name> <in-name>    the output may be the very same tensor as
 *                                 the input (same data, shape, strides)
 *   layout bhtd <name>...         optional: these rank-3/4 tensors are stored
 *                                 head-major ([B, H, T, ...]; their tensor
 *                                 records list that order) while the kernel
 *                                 indexes [B, T, H, ...]; CPU kernels swap
 *                                 dims 1 and 2 themselves, the CUDA launch
 *                                 passes them swapped (and encodes TMA maps,
 *                                 whose boxes are in the kernel's order, of
 *                                 the swapped view)
 *   launch <threads> <shared> <tiles> <flags>
 *                                 CUDA kernels only (required there): see
 *                                 "CUDA kernels" below
 *   tma <in-name> <box>...        CUDA kernels only: the kernel loads this
 *                                 f32/f16/bf16 input through the Tensor
 *                                 Memory Accelerator, in boxes of the given
 *                                 extents (innermost dimension first, each
 *                                 in [1, 256], a box row a multiple of 16
 *                                 bytes); see "CUDA kernels" below
 *
 * Dtypes: f32 f16 bf16 i32 i64. A dim is a decimal integer (a static size) or
 * one of the symbols B T H HV S N1 P: B batch, T time, H query/key heads,
 * HV value heads, S sequences (= B, or N when cu_seqlens is given), N1 the
 * cu_seqlens length N+1, P the slots of a state pool. A symbol is bound by its first tensor and every later
 * use must match. Rules beyond the shapes: HV is a multiple of H; T >= 1 and
 * B >= 1; with cu_seqlens, B == 1 and its N+1 offsets are non-decreasing and
 * run from 0 to T; the innermost stride of every tensor is 1 and no stride is
 * negative; data pointers are aligned to their element size; an output
 * overlaps no other tensor, except an allowed alias.
 *
 * How liblinac_runtime applies these rules: `linac-manifest 1` is the first
 * line, the compiler, kernel, target, mode and variant records each appear
 * exactly once, and an alias names tensors declared before it. The tensor
 * named `cu_seqlens` is the offsets array (declared `in`, i32 or i64, dims
 * `N1`); the tensor named `state_indices` (declared `in`, i32 or i64, dims
 * `S`) gives each sequence its slot of the pool h0/ht [P, ...]: validation
 * rejects an index >= P and two sequences on one slot (negative indices are
 * padding rows and may repeat). These two are the only tensor memory
 * validation reads (CUDA launches read neither: the kernels clamp the
 * offsets and treat an index outside [0, P) as padding). Overlap is judged on
 * byte extents, [data, data + (sum((shape[i]-1)*strides[i]) + 1) * element
 * size). A tensor with no elements addresses no memory: its data may be NULL
 * and the stride, alignment and overlap rules skip it. A last dimension of
 * size 1 is never stepped along, so its stride need not be 1, and alias
 * identity ignores the strides of size-1 dimensions. A manifest declares at
 * most 32 tensors and 32 CPU features.
 *
 *===----------------------------------------------------------------------===*/

#ifndef LINAC_RUNTIME_LINAC_H
#define LINAC_RUNTIME_LINAC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LINAC_VERSION "0.1.0"
#define LINAC_MANIFEST_VERSION 1
#define LINAC_MAX_RANK 4

typedef enum linac_dtype {
  LINAC_F32 = 0,
  LINAC_F16 = 1,
  LINAC_BF16 = 2,
  LINAC_I32 = 3,
  LINAC_I64 = 4,
} linac_dtype;

/* A strided view of host memory. Unused trailing shape/stride entries are
 * ignored. Strides are in elements, not bytes. The layout of this struct is
 * part of the kernel ABI: generated code reads `data`, `shape` and `strides`
 * at fixed offsets (0, 16, 48). */
typedef struct linac_tensor {
  void *data;
  int32_t dtype; /* a linac_dtype */
  int32_t rank;
  int64_t shape[LINAC_MAX_RANK];
  int64_t strides[LINAC_MAX_RANK];
} linac_tensor;

typedef enum linac_status {
  LINAC_OK = 0,
  LINAC_ERROR_INVALID_ARGUMENT = 1, /* a tensor does not match the manifest */
  LINAC_ERROR_LOAD = 2,             /* artifact missing, truncated, corrupt */
  LINAC_ERROR_VERSION = 3,          /* manifest from another compiler version */
  LINAC_ERROR_TARGET = 4,           /* kernel built for another target/CPU,
                                       or (linac_compile) a target this build
                                       cannot compile for */
  LINAC_ERROR_OUT_OF_MEMORY = 5,
  LINAC_ERROR_NOT_FOUND = 6, /* no kernel of that name in the artifact */
  LINAC_ERROR_CUDA = 7,
  LINAC_ERROR_INTERNAL = 8,
  /* Returned only by linac_compile (linac_jit.h, liblinac_jit): */
  LINAC_ERROR_SPEC = 9, /* invalid spec or IR; file:line:col in the message */
  LINAC_ERROR_IO = 10,  /* the compile cache cannot be created or written */
} linac_status;

/* Every fallible call fills one of these (when non-NULL) on failure. */
typedef struct linac_error {
  int32_t code; /* a linac_status */
  char message[512];
} linac_error;

/* One unit of parallel work: runs tasks [begin, end). */
typedef void (*linac_task_fn)(void *closure, int64_t begin, int64_t end);

/* Runs fn over [0, n) split into disjoint ranges, possibly concurrently, and
 * returns when all of them have run. `pool` is whatever the caller passed to
 * the kernel. Users may supply their own (e.g. an OpenMP or TBB loop). */
typedef void (*linac_parallel_for_fn)(void *pool, int64_t n, linac_task_fn fn,
                                      void *closure);

/* The signature of every generated NAME_kernel. */
typedef void (*linac_kernel_fn)(const linac_tensor *const *tensors,
                                linac_parallel_for_fn parallel_for, void *pool);

/*---- Thread pool -------------------------------------------------------*/

typedef struct linac_pool linac_pool;

/* threads <= 0: one per hardware thread. The calling thread also works, so a
 * pool of N threads starts N-1 workers. */
linac_pool *linac_pool_create(int32_t threads, linac_error *err);
void linac_pool_destroy(linac_pool *pool);
int32_t linac_pool_threads(const linac_pool *pool);
/* A linac_parallel_for_fn; `pool` is a linac_pool* (NULL runs serially).
 * Calls fn(closure, i, i + 1) for each i in [0, n), spread over the pool's
 * threads with the calling thread taking part, and returns when all have
 * run. With no pool, a 1-thread pool or n == 1 it calls fn(closure, 0, n)
 * once. A call made from inside a task (nested parallelism) also runs its
 * whole range inline as fn(closure, 0, n) on that thread. Calls from several
 * threads on one pool are serialized. Destroying a pool while a call on it
 * is in flight is undefined. */
void linac_pool_parallel_for(void *pool, int64_t n, linac_task_fn fn,
                             void *closure);

/*---- Validation --------------------------------------------------------*/

/* Checks `count` tensors against a manifest. Returns LINAC_OK or an error
 * whose message names the tensor, the dimension and the expected value. */
int32_t linac_validate(const char *manifest, const linac_tensor *const *tensors,
                       int32_t count, linac_error *err);

/*---- Loading compiled artifacts ---------------------------------------*/

typedef struct linac_module linac_module;
typedef struct linac_kernel linac_kernel;

/* Opens a shared artifact written by `linacc --emit=shared`. */
linac_module *linac_module_load(const char *path, linac_error *err);
void linac_module_unload(linac_module *module);
/* Looks up NAME_kernel and NAME_manifest, checks the manifest's version and
 * that this machine can run its target. Owned by the module. */
linac_kernel *linac_module_kernel(linac_module *module, const char *name,
                                  linac_error *err);
const char *linac_kernel_manifest(const linac_kernel *kernel);
/* For a kernel linked directly into the program (a generated object rather
 * than a shared artifact): the same manifest, version and CPU checks as
 * linac_module_kernel. The manifest text is copied. Free the result with
 * linac_kernel_destroy. */
linac_kernel *linac_kernel_create(const char *manifest, linac_kernel_fn fn,
                                  linac_error *err);
/* The manifest, version and CPU checks of linac_kernel_create alone: can
 * this runtime, on this CPU, run the kernel? LINAC_ERROR_VERSION or
 * LINAC_ERROR_TARGET (naming the missing CPU feature) if not. The
 * wrappers of a linacc header call it before every launch, so that an object
 * built for AVX-512 fails with a message on an AVX2 machine instead of
 * dying of SIGILL. */
int32_t linac_check_host(const char *manifest, linac_error *err);
/* Frees a kernel from linac_kernel_create. NULL, and kernels owned by a
 * module (freed by linac_module_unload), are ignored. */
void linac_kernel_destroy(linac_kernel *kernel);
/* Validates, then runs the kernel on `pool` (NULL: the calling thread). A
 * CUDA kernel is refused: launch it with linac_kernel_launch_cuda. */
int32_t linac_kernel_launch(const linac_kernel *kernel,
                            const linac_tensor *const *tensors, int32_t count,
                            linac_pool *pool, linac_error *err);

/*---- CUDA kernels ------------------------------------------------------*/

/* Number of CUDA devices; LINAC_ERROR_CUDA, with the reason, when there is
 * no usable driver (no libcuda.so.1, a stub library, no device). */
int32_t linac_cuda_device_count(int32_t *count, linac_error *err);
/* A CUDA kernel from a manifest and its cubin (`size` bytes), e.g. the
 * NAME_manifest, NAME_cubin and NAME_cubin_size of an object linked into
 * the program. Loads it into the calling thread's current CUDA context, or
 * else the primary context of device 0, after checking the compiler
 * version, that the device has the manifest's architecture (sm_90a: compute
 * capability 9.0; sm_80: 8.x) and enough shared memory. linac_module_kernel
 * does the same for the kernels of a CUDA artifact. Free it with
 * linac_kernel_destroy. */
linac_kernel *linac_cuda_kernel_create(const char *manifest, const void *cubin,
                                       uint64_t size, linac_error *err);
/* Validates the device tensors, then queues the kernel on `stream` (a
 * CUstream of the kernel's context; NULL is the default stream) and returns
 * without waiting for it. Every CUDA error comes back as LINAC_ERROR_CUDA
 * with the call, the error's name and description in the message.
 *
 * For each `tma` record of the manifest the launch encodes a tiled tensor
 * map of the tensor's view (cuTensorMapEncodeTiled) when the view meets the
 * Tensor Memory Accelerator's rules: data 16-byte aligned, every stride
 * except the innermost (of a dimension longer than 1) a multiple of 16
 * bytes below 2^40, every extent below 2^31. A view that does not is not
 * refused: the kernel then loads that tensor with its threads, as without
 * TMA. */
int32_t linac_kernel_launch_cuda(const linac_kernel *kernel,
                                 const linac_tensor *const *tensors,
                                 int32_t count, void *stream,
                                 linac_error *err);

/*---- CUDA devices, memory, streams and events --------------------------*/

/* A few driver calls for programs that have no CUDA runtime of their own
 * (linac-run uses them to stage tensors and time kernels), through the
 * driver the runtime already opened: nothing links against CUDA.
 *
 * Context: each call works in the calling thread's current CUDA context, or,
 * when it has none, in the primary context of device 0, the context
 * linac_cuda_kernel_create and linac_module_kernel load kernels into in the
 * same situation (so memory from linac_cuda_malloc is memory such a kernel
 * accepts). That primary context is retained by the first call that needs
 * it and kept for the rest of the process, so that allocations outlive the
 * kernels.
 *
 * Streams and events are CUstream and CUevent handles passed as void *; a
 * NULL stream is the legacy default stream. Errors: LINAC_ERROR_CUDA with
 * the call, the CUDA error's name and its description in the message (for
 * example "cuStreamSynchronize failed: CUDA_ERROR_ILLEGAL_ADDRESS (an
 * illegal memory access was encountered)": a kernel queued earlier
 * faulted), or the reason there is no usable driver. */

/* What the driver reports about a device (cuDeviceGetName,
 * cuDeviceGetAttribute, cuDeviceTotalMem). */
typedef struct linac_cuda_device_info {
  char name[256];            /* e.g. "NVIDIA H100 80GB HBM3" */
  int32_t ordinal;
  int32_t major, minor;      /* compute capability */
  int32_t multiprocessors;
  int32_t clock_khz;         /* SM clock (CU_DEVICE_ATTRIBUTE_CLOCK_RATE) */
  int32_t memory_clock_khz;  /* peak memory clock */
  int32_t memory_bus_bits;   /* global memory bus width */
  int64_t l2_bytes;
  int64_t memory_bytes;      /* global memory */
  int64_t shared_per_block_optin; /* the most a kernel may opt into */
} linac_cuda_device_info;

/* Fills `info` for device `ordinal` (no context is needed or created). */
int32_t linac_cuda_get_device_info(int32_t ordinal,
                                   linac_cuda_device_info *info,
                                   linac_error *err);
/* Allocates `bytes` of device memory (cuMemAlloc); 0 bytes gives NULL. */
int32_t linac_cuda_malloc(uint64_t bytes, void **device, linac_error *err);
/* Frees memory from linac_cuda_malloc; NULL is ignored. */
int32_t linac_cuda_free(void *device, linac_error *err);
/* Copies between host and device memory (cuMemcpyHtoD / cuMemcpyDtoH).
 * Synchronous: they return once the bytes have arrived, after the work
 * queued before them on the legacy default stream and on every stream that
 * synchronizes with it (linac_cuda_stream_create's do). */
int32_t linac_cuda_memcpy_htod(void *device, const void *host, uint64_t bytes,
                               linac_error *err);
int32_t linac_cuda_memcpy_dtoh(void *host, const void *device, uint64_t bytes,
                               linac_error *err);
/* Sets `bytes` bytes of device memory to `value` (cuMemsetD8). */
int32_t linac_cuda_memset(void *device, uint8_t value, uint64_t bytes,
                          linac_error *err);
/* Waits for all work of the context (cuCtxSynchronize). */
int32_t linac_cuda_synchronize(linac_error *err);
/* A stream that synchronizes with the legacy default stream
 * (cuStreamCreate, flags 0). */
int32_t linac_cuda_stream_create(void **stream, linac_error *err);
int32_t linac_cuda_stream_destroy(void *stream, linac_error *err);
/* Waits for the work queued on `stream`; a kernel that failed reports here. */
int32_t linac_cuda_stream_synchronize(void *stream, linac_error *err);
/* Timing events (cuEventCreate, default flags: they record time). */
int32_t linac_cuda_event_create(void **event, linac_error *err);
int32_t linac_cuda_event_destroy(void *event, linac_error *err);
/* Queues `event` on `stream` (cuEventRecord). */
int32_t linac_cuda_event_record(void *event, void *stream, linac_error *err);
/* Waits for `end`, then stores the milliseconds between the two recorded
 * events in `ms` (cuEventElapsedTime; resolution about 0.5 microseconds). */
int32_t linac_cuda_event_elapsed(float *ms, void *start, void *end,
                                 linac_error *err);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LINAC_RUNTIME_LINAC_H */
