//===- GpuSchedule.h - CUDA targets and their resource budget ---*- C++ -*-===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// What linac-select, linac-gpu-map and linac-lower-chunk-gpu must agree on
// for a CUDA target: the chip, its shared-memory budget, the block size, and
// how much shared memory a task's tiles take. Select plans with these
// numbers; the GPU passes count the real allocation and refuse a kernel that
// exceeds the budget, so a wrong plan is a compile error, never a launch
// failure.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_PASSES_GPUSCHEDULE_H
#define LINAC_PASSES_GPUSCHEDULE_H

#include "llvm/ADT/StringRef.h"

#include <cstdint>
#include <string>

namespace linac {

/// A CUDA target as the compiler names it (`cuda:sm_90a`, `cuda:sm_80`).
struct GpuTarget {
  std::string name; ///< as given, e.g. cuda:sm_90a
  std::string chip; ///< sm_90a, sm_80
  /// Dynamic shared memory one block may opt into (cudaFuncSetAttribute's
  /// maximum): 227 KiB on Hopper, 163 KiB on A100.
  int64_t sharedLimit = 0;
  /// Shared memory of one SM (228 KiB on H100, 164 KiB on A100): how many
  /// blocks of a kernel can be resident at once.
  int64_t sharedPerSM = 0;
  /// Whether warpgroup MMA and TMA exist (sm_90a only).
  bool hopper = false;
};

/// Resolves `cuda:<chip>`; returns false (and sets `error`) for anything else.
bool resolveGpuTarget(llvm::StringRef name, GpuTarget &target,
                      std::string &error);

/// Warps per block of every linac CUDA kernel (one task per block).
constexpr int64_t kGpuWarps = 4;
/// Rows of a sub-chunk (the gate product form and one m16 MMA fragment).
constexpr int64_t kGpuSubChunk = 16;
/// Every shared-memory tile starts at a multiple of this many bytes.
constexpr int64_t kSharedAlign = 16;

/// Bytes of an f32 tile, rounded up to the shared-memory alignment.
constexpr int64_t sharedTileBytes(int64_t rows, int64_t cols) {
  return (rows * cols * 4 + kSharedAlign - 1) / kSharedAlign * kSharedAlign;
}

/// Bytes of op-internal scratch that linac-lower-chunk-gpu needs at most,
/// for `chunk` rows (1 for decode), `keys` K, `valueTile` columns, `gateCols`
/// G (0 when ungated) and `threads` per block. Ops run one after the other,
/// so they share one region.
int64_t gpuScratchBytes(int64_t chunk, int64_t keys, int64_t valueTile,
                        int64_t gateCols, int64_t threads);

/// Shared memory of one task of a chunked (prefill) kernel: the tiles that
/// linac-chunk allocates (state, q, k, v, o, scores, four gate tiles) plus
/// the scratch of gpuScratchBytes.
int64_t gpuChunkedSharedBytes(int64_t chunk, int64_t keys, int64_t valueTile,
                              int64_t gateCols, int64_t threads);

/// Shared memory of one task of a decode kernel (rows of q, k, v, o, gates).
int64_t gpuDecodeSharedBytes(int64_t keys, int64_t valueTile,
                             int64_t gateCols, int64_t threads);

} // namespace linac

#endif // LINAC_PASSES_GPUSCHEDULE_H
