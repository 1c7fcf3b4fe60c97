//===- Cuda.h - The CUDA driver, opened at run time -------------*- C++ -*-===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// Private to liblinac_runtime: loading CUDA kernels (a cubin and its
/// manifest) and launching them through the CUDA driver API, which is
/// opened with dlopen("libcuda.so.1") on first use. Nothing here links
/// against CUDA, so the runtime builds and runs its CPU part anywhere; the
/// environment variable LINAC_LIBCUDA names another driver library (a
/// specific install, or the fake driver of the unit tests).
///
//===----------------------------------------------------------------------===//

#ifndef LINAC_RUNTIME_CUDA_H
#define LINAC_RUNTIME_CUDA_H

#include "linac/runtime/Manifest.h"
#include "linac/runtime/linac.h"

namespace linac::cuda {

/// A kernel function loaded into a CUDA context.
struct Function;

/// Loads `cubin` (`size` bytes) for the kernel `manifest` describes into the
/// current context of the calling thread, or else the primary context of
/// device 0, after checking that the device is the architecture the
/// manifest names and has the shared memory the launch needs.
int32_t load(const manifest::Manifest &manifest, const void *cubin,
             uint64_t size, Function **out, linac_error *err);

/// Unloads the module and releases the context, if load retained it.
void unload(Function *function);

/// Validates `tensors` against the manifest (device pointers included: each
/// tensor must lie inside one device allocation), then launches the kernel
/// on `stream` (a CUstream; NULL is the legacy default stream). Returns
/// after the launch is queued, not after the kernel has run.
int32_t launch(const Function *function, const manifest::Manifest &manifest,
               const linac_tensor *const *tensors, int32_t count, void *stream,
               linac_error *err);

/// Number of CUDA devices, or an error when there is no usable driver.
int32_t deviceCount(int32_t *count, linac_error *err);

/// Forgets the driver library so that the next call opens it again (after
/// LINAC_LIBCUDA changed). For tests; no kernel may be loaded.
void resetDriverForTesting();

/// The address of the driver entry point `symbol` (for the runtime's other
/// CUDA files, CudaDevice.cpp), opening the driver first; an error when
/// there is no usable driver or it lacks the symbol.
int32_t driverSymbol(const char *symbol, void **address, linac_error *err);

/// Fails with LINAC_ERROR_CUDA and "CONTEXT failed: NAME (description)" for
/// the driver's result `result` (the format of every CUDA error here).
int32_t cudaError(linac_error *err, int result, const char *context);

} // namespace linac::cuda

#endif // LINAC_RUNTIME_CUDA_H
