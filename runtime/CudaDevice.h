//===- CudaDevice.h - Device memory, streams and events ---------*- C++ -*-===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// Private to liblinac_runtime: the implementation side of linac.h's "CUDA
/// device memory, streams and events" helpers (CudaDevice.cpp), which go
/// through the driver Cuda.cpp opens.
///
//===----------------------------------------------------------------------===//

#ifndef LINAC_RUNTIME_CUDADEVICE_H
#define LINAC_RUNTIME_CUDADEVICE_H

namespace linac::cuda {

/// Forgets the helpers' entry points and the primary context they retained
/// (without releasing it), so that they follow a driver reopened after
/// resetDriverForTesting. For tests.
void resetDeviceHelpersForTesting();

} // namespace linac::cuda

#endif // LINAC_RUNTIME_CUDADEVICE_H
