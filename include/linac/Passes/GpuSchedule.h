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

/// Byte counts saturate here, far beyond any GPU's shared memory: a plan
/// that sums a few dozen tiles of a huge hand-written shape (K = 2^32) then
/// stays a large number instead of overflowing int64.
constexpr int64_t kSharedSaturated = int64_t(1) << 50;
/// Tile sides beyond this give kSharedSaturated (2^24 x 2^24 x 4 = 2^50).
constexpr int64_t kSharedMaxSide = int64_t(1) << 24;

/// Bytes of an f32 tile, rounded up to the shared-memory alignment, or
/// kSharedSaturated for a tile no GPU could hold.
constexpr int64_t sharedTileBytes(int64_t rows, int64_t cols) {
  if (rows < 0 || cols < 0 || rows > kSharedMaxSide || cols > kSharedMaxSide)
    return kSharedSaturated;
  int64_t bytes =
      (rows * cols * 4 + kSharedAlign - 1) / kSharedAlign * kSharedAlign;
  return bytes < kSharedSaturated ? bytes : kSharedSaturated;
}

/// What the shared memory of one task depends on: the sizes of its tiles
/// and the structure of the recurrence, which decides which tiles
/// linac-chunk allocates (passes/Chunk.cpp) and which ops'
/// scratch linac-lower-chunk-gpu adds.
struct GpuTaskShape {
  int64_t chunk = 0;     ///< rows of a chunk; 0 for decode
  int64_t keys = 0;      ///< K' (state rows)
  int64_t valueTile = 0; ///< state columns of one task
  int64_t gateCols = 0;  ///< G: K' (diagonal), 1 (scalar, constant), 0 (none)
  bool delta = false;    ///< rank_one(delta): beta, K Kᵀ, (K ⊙ Γ) S, U
  bool dplr = false;     ///< rank_one(dplr): a, b, W and the delayed tiles
  bool shifted = false;  ///< output(previous_state_plus_bonus): RWKV-6
  bool l2norm = false;   ///< feature_map(l2norm): per-row scales
  int64_t threads = 32 * kGpuWarps;
  bool wgmma = false; ///< schedule mma = "wgmma": the operand staging buffer
  /// normalize = "sum": a second value side of kGpuNormalizerCols columns
  /// (a column of ones, its state z and output).
  bool normalize = false;
  /// Schedule load = "tma": bytes of the largest chunk tile the Tensor
  /// Memory Accelerator stages (gpuTmaTileBytes); 0 without TMA.
  int64_t tmaTileBytes = 0;
  /// Schedule load = "tma" with stages = 2: the staging buffers of every
  /// TMA tile, one each (gpuTmaPrefetchBytes), which replace the shared
  /// one; 0 otherwise.
  int64_t tmaPrefetchBytes = 0;
  /// Schedule load = "cp.async" (stages = 2): tmaPrefetchBytes of per-tile
  /// buffers, filled by the threads' asynchronous copies, and no mbarriers.
  bool cpAsync = false;
};

/// Columns of the normalizer's value side on a GPU (linac-chunk's choice
/// when the schedule has no vector width).
constexpr int64_t kGpuNormalizerCols = 16;

/// Reduction depth of one wgmma operand stage: the staged slice of A is
/// 64 x kWgmmaSliceK and of B is n x kWgmmaSliceK (bf16/f16).
constexpr int64_t kWgmmaSliceK = 64;

/// Bytes of the wgmma operand staging buffer of a prefill kernel whose
/// matmuls have at most `valueTile` output columns: one 64-row A slice and
/// one B slice, 16-bit, rounded to the shared-memory alignment.
constexpr int64_t gpuWgmmaStagingBytes(int64_t valueTile) {
  if (valueTile < 0 || valueTile > kSharedMaxSide)
    return kSharedSaturated;
  return ((64 + valueTile) * kWgmmaSliceK * 2 + kSharedAlign - 1) /
         kSharedAlign * kSharedAlign;
}

/// The Tensor Memory Accelerator (sm_90a, schedule load = "tma"). A chunk
/// tile of rows x cols elements of `elementBytes` is copied as one box of a
/// tiled tensor map when both extents are at most kTmaMaxBox and a row is a
/// whole number of 16-byte units (cuTensorMapEncodeTiled's rules for
/// boxDim without interleave).
constexpr int64_t kTmaMaxBox = 256;
constexpr bool gpuTmaBoxFits(int64_t rows, int64_t cols,
                             int64_t elementBytes) {
  return rows >= 1 && rows <= kTmaMaxBox && cols >= 1 && cols <= kTmaMaxBox &&
         elementBytes > 0 && (cols * elementBytes) % 16 == 0;
}
/// With TMA the staging region after the tiles starts at a multiple of
/// kTmaAlign bytes (a bulk tensor copy's shared-memory destination must be
/// 128-byte aligned): first kTmaBarriers mbarriers of 8 bytes, one per load
/// site. With one stage, one buffer follows that the staged tiles of every
/// site and wgmma's operand slices share (one op runs at a time, and no op
/// both loads a chunk and multiplies). With two stages (the next chunk's
/// copies fly while this chunk computes) every site has a buffer of its
/// own, each a multiple of kTmaAlign, and wgmma's buffer follows them.
constexpr int64_t kTmaAlign = 128;
constexpr int64_t kTmaBarriers = 16;
constexpr int64_t kTmaBarrierBytes = 8 * kTmaBarriers;
static_assert(kTmaBarrierBytes % kTmaAlign == 0,
              "the staging buffer follows the barriers, 128-byte aligned");
/// The bytes of one stage-2 TMA buffer for a tile of `tileBytes`.
constexpr int64_t gpuTmaBufferBytes(int64_t tileBytes) {
  return (tileBytes + kTmaAlign - 1) / kTmaAlign * kTmaAlign;
}
/// Bytes of the staging region when the tiles before it end at byte
/// `offset`: the wgmma operand buffer (`wgmmaBytes`, 0 without wgmma)
/// alone without TMA (`tmaTileBytes` = `tmaPrefetchBytes` = 0); with one
/// TMA stage the padding to kTmaAlign, the barriers, and a buffer for the
/// larger of the two; with two (`tmaPrefetchBytes` > 0, the sum of the
/// sites' gpuTmaBufferBytes) the padding, the barriers, the sites' buffers
/// and the wgmma buffer.
/// With `mbarriers` false (cp.async, which tracks its copies per thread
/// in commit groups) the per-site buffers start right at the padding.
constexpr int64_t gpuStagingBytes(int64_t offset, int64_t wgmmaBytes,
                                  int64_t tmaTileBytes,
                                  int64_t tmaPrefetchBytes = 0,
                                  bool mbarriers = true) {
  if (tmaTileBytes <= 0 && tmaPrefetchBytes <= 0)
    return wgmmaBytes;
  const int64_t start = (offset + kTmaAlign - 1) / kTmaAlign * kTmaAlign;
  if (tmaPrefetchBytes > 0)
    return start - offset + (mbarriers ? kTmaBarrierBytes : 0) +
           tmaPrefetchBytes + wgmmaBytes;
  const int64_t tile =
      (tmaTileBytes + kSharedAlign - 1) / kSharedAlign * kSharedAlign;
  return start - offset + kTmaBarrierBytes +
         (wgmmaBytes > tile ? wgmmaBytes : tile);
}

/// Bytes of op-internal scratch that linac-lower-chunk-gpu needs at most.
/// Ops run one after the other, so they share one region.
int64_t gpuScratchBytes(const GpuTaskShape &shape);

/// Shared memory of one task: the tiles that linac-chunk allocates for the
/// shape's structure plus the scratch of gpuScratchBytes. This is the
/// allocation linac-gpu-map and linac-lower-chunk-gpu make, byte for byte
/// (lit Spec/cuda-schedule.test compares the two for every variant).
int64_t gpuSharedBytes(const GpuTaskShape &shape);

class RecurrenceOp;
class ScheduleAttr;

/// gpuSharedBytes of a recurrence under a CUDA schedule (passes/Select.cpp;
/// callers include the linac dialect).
int64_t gpuPlannedSharedBytes(RecurrenceOp op, ScheduleAttr schedule);

/// The largest chunk tile of `op` that TMA can load with chunks of `chunk`
/// rows and `valueTile` value columns, in bytes; 0 when none can
/// (passes/Select.cpp). This is the staging buffer linac-lower-chunk-gpu
/// reserves for a schedule with load = "tma".
int64_t gpuTmaTileBytes(RecurrenceOp op, int64_t chunk, int64_t valueTile);

/// The sum of gpuTmaBufferBytes over the chunk tiles of `op` that TMA can
/// load (one chunk_load each): the buffers a schedule with load = "tma" and
/// stages = 2 reserves; 0 when none can.
int64_t gpuTmaPrefetchBytes(RecurrenceOp op, int64_t chunk,
                            int64_t valueTile);

} // namespace linac

#endif // LINAC_PASSES_GPUSCHEDULE_H
