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

int64_t linac::gpuScratchBytes(const GpuTaskShape &shape) {
  const int64_t c = shape.chunk, vt = shape.valueTile, g = shape.gateCols;
  if (c == 0) {
    // A decode step splits each column's keys over `parts` threads and
    // sums their partials in shared memory: one partials tile, or, for the
    // delta rule, two (S'ᵀk and S'ᵀq) and the residual row; for dplr a
    // second for the read aᵀS and the read itself.
    int64_t parts =
        std::max<int64_t>(shape.threads / std::max<int64_t>(vt, 1), 1);
    int64_t partials = sharedTileBytes(parts, vt);
    if (shape.delta || shape.dplr)
      return 2 * partials + sharedTileBytes(1, vt);
    return partials;
  }
  int64_t bytes = 0;
  // l2norm's row scales (chunk_load) and RWKV-6's bonus weights
  // (chunk_bonus), one per row.
  if (shape.l2norm || shape.shifted)
    bytes = sharedTileBytes(c, 1);
  // The per-sub-chunk decay carries of chunk_inter and chunk_state_update
  // (one row more for the whole chunk's decay).
  if (g > 0)
    bytes = std::max(bytes, sharedTileBytes(c / kGpuSubChunk + 1, g));
  return bytes;
}

int64_t linac::gpuSharedBytes(const GpuTaskShape &shape) {
  const int64_t c = shape.chunk, k = shape.keys, vt = shape.valueTile,
                g = shape.gateCols;
  auto tile = [](int64_t rows, int64_t cols) {
    return sharedTileBytes(rows, cols);
  };
  int64_t bytes = 0;
  if (c == 0) {
    // Rows of q, k, v, o; the gate row and its three products; beta; a
    // and b; u.
    bytes = 2 * tile(1, k) + 2 * tile(1, vt);
    if (g > 0)
      bytes += 4 * tile(1, g);
    if (shape.delta)
      bytes += tile(1, 1);
    if (shape.dplr)
      bytes += 2 * tile(1, k);
    if (shape.shifted)
      bytes += tile(1, k);
    if (shape.normalize) // z, the ones row and the denominator row
      bytes += tile(k, kGpuNormalizerCols) + 2 * tile(1, kGpuNormalizerCols);
    return bytes + gpuScratchBytes(shape);
  }
  // The allocations of linac-chunk's emitChunked, in its order.
  bytes = tile(k, vt) + 2 * tile(c, k) + 2 * tile(c, vt) + tile(c, c);
  if (shape.delta) // beta, K Kᵀ, (K ⊙ Γ_0) S_0, U
    bytes += tile(c, 1) + tile(c, c) + 2 * tile(c, vt);
  if (g > 0) // g, decay, prefix, suffix
    bytes += 4 * tile(c, g);
  if (shape.dplr)
    // a, b, W, rhs, three C x C scores, k, v, b and g delayed, their
    // carries, and the delayed gates' decay, prefix and suffix.
    bytes += 2 * tile(c, k) + 2 * tile(c, vt) + 3 * tile(c, c) +
             2 * tile(c, k) + tile(c, vt) + tile(c, g) + tile(1, k) +
             tile(1, vt) + tile(1, g) + 3 * tile(c, g);
  if (shape.shifted) {
    // k and v shifted and their carries, g's when gated, and u.
    bytes += tile(c, k) + tile(c, vt) + tile(1, k) + tile(1, vt);
    if (g > 0)
      bytes += tile(c, g) + tile(1, g);
    bytes += tile(1, k);
  }
  if (shape.normalize) {
    // The second value side (see linac-chunk's emitChunked): its state z,
    // the ones, the output, and the delayed or shifted ones with a carry.
    const int64_t w = kGpuNormalizerCols;
    bytes += tile(k, w) + 2 * tile(c, w);
    if (shape.dplr)
      bytes += 3 * tile(c, w) + tile(1, w);
    if (shape.shifted)
      bytes += tile(c, w) + tile(1, w);
  }
  // The wgmma operand slices and the TMA barriers and staged tiles
  // (LowerChunkGPU.cpp), between the tiles and the ops' scratch.
  bytes += gpuStagingBytes(bytes, shape.wgmma ? gpuWgmmaStagingBytes(vt) : 0,
                           shape.tmaTileBytes, shape.tmaPrefetchBytes,
                           /*mbarriers=*/!shape.cpAsync);
  return bytes + gpuScratchBytes(shape);
}
