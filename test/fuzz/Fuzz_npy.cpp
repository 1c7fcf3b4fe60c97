//===- Fuzz_npy.cpp - libFuzzer target for the .npy reader ----------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// Any bytes must be rejected with a message or parsed into an array whose
// byte size matches its shape and dtype; an accepted array must survive a
// write/read round trip unchanged.
//
//===----------------------------------------------------------------------===//

#include "linac/runtime/Npy.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  linac::NpyArray array;
  std::string error;
  if (!linac::parseNpy(data, size, array, error)) {
    if (error.empty())
      abort();
    return 0;
  }
  if (array.bytes.size() !=
      static_cast<size_t>(array.numElements()) * linac::dtypeSize(array.dtype))
    abort();
  std::vector<uint8_t> bytes;
  linac::NpyArray back;
  if (!linac::serializeNpy(array, bytes, error) ||
      !linac::parseNpy(bytes.data(), bytes.size(), back, error))
    abort();
  if (back.dtype != array.dtype || back.shape != array.shape ||
      back.bytes != array.bytes)
    abort();
  return 0;
}
