//===- GpuSchedule.cpp - CUDA targets and their resource budget -----------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#include "linac/Passes/GpuSchedule.h"

#include <algorithm>

using namespace linac;

bool linac::resolveGpuTarget(llvm::StringRef name, GpuTarget &target,
                             std::string &error) {
  target.name = name.str();
  if (name == "cuda:sm_90a") {
    target.chip = "sm_90a";
    target.sharedLimit = 227 * 1024;
    target.sharedPerSM = 228 * 1024;
    target.hopper = true;
    return true;
  }
  if (name == "cuda:sm_80") {
    target.chip = "sm_80";
    target.sharedLimit = 163 * 1024;
    target.sharedPerSM = 164 * 1024;
    target.hopper = false;
    return true;
  }
  error = "unknown CUDA target '" + name.str() +
          "' (expected cuda:sm_90a or cuda:sm_80)";
  return false;
}

int64_t linac::gpuScratchBytes(int64_t chunk, int64_t keys, int64_t valueTile,
                               int64_t gateCols, int64_t threads) {
  (void)keys;
  // l2norm's per-row scales; the per-sub-chunk decay carries of chunk_inter
  // and chunk_state_update (one row more for the whole chunk's decay); the
  // partial outputs of a decode step, whose keys are split over threads.
  int64_t rowScales = sharedTileBytes(chunk, 1);
  int64_t subChunks = std::max<int64_t>(chunk / kGpuSubChunk, 1);
  int64_t carries =
      gateCols > 0 ? sharedTileBytes(subChunks + 1, gateCols) : 0;
  int64_t parts = std::max<int64_t>(threads / std::max<int64_t>(valueTile, 1),
                                    1);
  int64_t partials = sharedTileBytes(parts, valueTile);
  return std::max({rowScales, carries, partials});
}

int64_t linac::gpuChunkedSharedBytes(int64_t chunk, int64_t keys,
                                     int64_t valueTile, int64_t gateCols,
                                     int64_t threads) {
  int64_t bytes = sharedTileBytes(keys, valueTile) +      // state
                  2 * sharedTileBytes(chunk, keys) +      // q, k
                  2 * sharedTileBytes(chunk, valueTile) + // v, o
                  sharedTileBytes(chunk, chunk);          // scores
  if (gateCols > 0)
    bytes += 4 * sharedTileBytes(chunk, gateCols); // g, decay, prefix, suffix
  return bytes + gpuScratchBytes(chunk, keys, valueTile, gateCols, threads);
}

int64_t linac::gpuDecodeSharedBytes(int64_t keys, int64_t valueTile,
                                    int64_t gateCols, int64_t threads) {
  int64_t bytes =
      2 * sharedTileBytes(1, keys) + 2 * sharedTileBytes(1, valueTile);
  if (gateCols > 0)
    bytes += 4 * sharedTileBytes(1, gateCols);
  return bytes + gpuScratchBytes(1, keys, valueTile, gateCols, threads);
}
