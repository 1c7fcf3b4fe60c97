//===- Select.cpp - choose the schedule of each recurrence ----------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#include "linac/Dialect/Linac/IR/LinacOps.h"
#include "linac/Passes/GpuSchedule.h"
#include "linac/Passes/Passes.h"
#include "linac/Spec/Spec.h"
#include "linac/Target/Artifact.h"

#include "mlir/IR/BuiltinOps.h"

#include "llvm/ADT/StringExtras.h"

namespace linac {
#define GEN_PASS_DEF_LINACSELECT
#include "linac/Passes/Passes.h.inc"
} // namespace linac

using namespace mlir;
using namespace linac;

namespace {


/// Value columns per task. Columns of the state are independent for every
/// variant (each transition, the delta and dplr updates included, acts on
/// the state's rows: v_t - S'ᵀk_t and a_tᵀS are per column), so a task may
/// own a slice of V: decode splits freely (it only streams the state),
/// prefill splits past 128 columns, because each value tile recomputes the
/// chunk's C x C scores. Prefill also splits when the value heads are known
/// and too few to keep the cores busy (B = 1 with one or two heads is a
/// common long-context call), paying those scores again for a parallel
/// task. A spec's `linac.value_tile` wins. The tile is a multiple of the
/// vector width that divides V, so no task needs a masked tail.
int64_t chooseValueTile(RecurrenceOp op, bool decode, int64_t vectorWidth) {
  auto vType = cast<RankedTensorType>(op.getV().getType());
  int64_t v = vType.getDimSize(3);
  if (auto requested = op->getAttrOfType<IntegerAttr>("linac.value_tile"))
    return requested.getInt();
  int64_t limit = decode ? 64 : 128;
  int64_t step = std::max<int64_t>(vectorWidth, 1);
  if (v % step != 0)
    return v;
  // A single value head: two tasks per sequence, in tiles of at least
  // kMinSplitTile columns. Each task repeats the scores, gates and q/k loads
  // (about 40% of a GLA task), so a second tile pays off on two cores
  // (~1.45x) but a fourth would not (profiled with linac-run
  // --outline-ops, B=1 H=1 K=V=128).
  constexpr int64_t kMinTasks = 2, kMinSplitTile = 64;
  if (!decode && !vType.isDynamicDim(2)) {
    int64_t heads = vType.getDimSize(2);
    int64_t tile = std::min(v, limit);
    // `heads < kMinTasks` first: heads * (v / tile) overflowed for absurd
    // head counts (found while writing the .mlir fuzzer).
    while (heads < kMinTasks && heads * (v / tile) < kMinTasks &&
           tile / 2 >= kMinSplitTile && (tile / 2) % step == 0 &&
           v % (tile / 2) == 0)
      tile /= 2;
    limit = std::min(limit, tile);
  }
  if (v <= limit)
    return v;
  for (int64_t tile = limit - limit % step; tile >= step; tile -= step)
    if (v % tile == 0)
      return tile;
  return v;
}

/// Value-tile candidates on a GPU: `v` itself when it is small, else the
/// divisors of `v` that are multiples of 8 (one n8 MMA fragment) up to 64,
/// widest first. Tasks are thread blocks, so narrower tiles also buy
/// parallelism for small batches.
SmallVector<int64_t> gpuValueTiles(int64_t v) {
  SmallVector<int64_t> tiles;
  if (v <= 64)
    tiles.push_back(v);
  for (int64_t tile = std::min<int64_t>(64, v - 1); tile >= 8; --tile)
    if (tile % 8 == 0 && v % tile == 0)
      tiles.push_back(tile);
  if (tiles.empty())
    tiles.push_back(v);
  return tiles;
}

/// The CUDA schedule of one recurrence: the widest value tile, then the
/// longest chunk, whose tiles fit the target's shared memory (a spec's
/// `linac.chunk_size` / `linac.value_tile` fixes that choice). Fails with a
/// diagnostic when nothing fits.
FailureOr<ScheduleAttr> selectGpu(RecurrenceOp op, Algorithm algorithm,
                                  const GpuTarget &target) {
  const bool decode = algorithm == Algorithm::Recurrent;
  const int64_t v = cast<RankedTensorType>(op.getV().getType()).getDimSize(3);
  // Every variant's state columns are independent (see chooseValueTile),
  // the rank-one ones included, so they take value tiles like the rest;
  // their extra tiles are what limits them (GpuTaskShape).
  SmallVector<int64_t> tiles = gpuValueTiles(v);
  if (auto requested = op->getAttrOfType<IntegerAttr>("linac.value_tile"))
    tiles = {requested.getInt()};
  SmallVector<int64_t> chunks = {64, 32, 16};
  if (decode)
    chunks = {0};
  else if (auto requested = op->getAttrOfType<IntegerAttr>("linac.chunk_size"))
    chunks = {requested.getInt()};
  // Hopper's warpgroup MMA takes 16-bit operands from shared memory; f32
  // stays on CUDA cores (TF32 would miss the f32 tolerance) and decode has
  // no matmul. The choice is part of the schedule because the staging
  // buffer it needs is part of the shared-memory plan.
  // Only schedules with a matmul that wgmma can take get it (64-row
  // tiles: chunk_inter and chunk_attend need C % 64 == 0, the state update
  // K' % 64 == 0, and the rank-one variants keep their state update in f32,
  // see f32Products in LowerChunkGPU.cpp); the others would pay for the
  // staging buffer without using it.
  Type element = cast<ShapedType>(op.getQ().getType()).getElementType();
  const bool rankOne = op.getRankOne() != RankOneKind::None;
  auto mmaFor = [&](int64_t chunk) -> StringRef {
    if (!target.hopper || decode || !(element.isBF16() || element.isF16()))
      return "";
    if (chunk % 64 == 0 || (!rankOne && op.getStateKeyDim() % 64 == 0))
      return "wgmma";
    return "";
  };
  // Hopper's Tensor Memory Accelerator loads the chunk tiles whose rows are
  // whole 16-byte units (any input type), when its staging buffer fits
  // next to the tiles; otherwise the same chunk and value tile are taken
  // with thread loads rather than a smaller chunk.
  for (int64_t tile : tiles)
    for (int64_t chunk : chunks) {
      StringRef mma = mmaFor(chunk);
      // TMA with the next chunk's copies in flight (two stages: a buffer
      // per tile), then TMA with one shared buffer, then thread loads.
      // Without TMA (sm_80) the threads' asynchronous copies (cp.async)
      // play the same two-stage part.
      SmallVector<std::pair<StringRef, int64_t>, 3> loads;
      if (!decode && gpuTmaTileBytes(op, chunk, tile) > 0) {
        if (target.hopper) {
          loads.push_back({"tma", 2});
          loads.push_back({"tma", 1});
        } else {
          loads.push_back({"cp.async", 2});
        }
      }
      loads.push_back({"", 1});
      for (auto [load, stages] : loads) {
        auto schedule = ScheduleAttr::get(op.getContext(), algorithm, chunk,
                                          /*vector_width=*/0, tile, kGpuWarps,
                                          stages, mma, load);
        if (gpuPlannedSharedBytes(op, schedule) <= target.sharedLimit)
          return schedule;
      }
    }
  return op.emitOpError() << "has no schedule for " << target.name
                          << " whose tiles fit in its " << target.sharedLimit
                          << " bytes of shared memory (K' = "
                          << op.getStateKeyDim() << ", V = " << v
                          << "); choose a smaller chunk_size or value_tile";
}

} // namespace

int64_t linac::gpuPlannedSharedBytes(RecurrenceOp op, ScheduleAttr schedule) {
  const int64_t keys = op.getStateKeyDim();
  GpuTaskShape shape;
  shape.chunk = schedule.getAlgorithm() == Algorithm::Recurrent
                    ? 0
                    : schedule.getChunkSize();
  shape.keys = keys;
  shape.valueTile =
      schedule.getValueTile() > 0
          ? schedule.getValueTile()
          : cast<RankedTensorType>(op.getV().getType()).getDimSize(3);
  shape.gateCols = op.getDecay() == DecayKind::None       ? 0
                   : op.getDecay() == DecayKind::Diagonal ? keys
                                                          : 1;
  shape.delta = op.getRankOne() == RankOneKind::Delta;
  shape.dplr = op.getRankOne() == RankOneKind::Dplr;
  shape.shifted = op.getOutputForm() == OutputForm::PreviousStatePlusBonus;
  shape.l2norm = op.getFeatureMap() == FeatureMap::L2Norm;
  shape.threads =
      32 * (schedule.getWarps() > 0 ? schedule.getWarps() : kGpuWarps);
  shape.wgmma = schedule.getMma() == "wgmma";
  shape.normalize = op.getNormalizer() == Normalizer::Sum;
  if (schedule.getLoad() == "cp.async" && shape.chunk > 0) {
    shape.cpAsync = true;
    shape.tmaPrefetchBytes =
        gpuTmaPrefetchBytes(op, shape.chunk, shape.valueTile);
  } else if (schedule.getLoad() == "tma" && shape.chunk > 0) {
    if (schedule.getStages() >= 2)
      shape.tmaPrefetchBytes =
          gpuTmaPrefetchBytes(op, shape.chunk, shape.valueTile);
    else
      shape.tmaTileBytes = gpuTmaTileBytes(op, shape.chunk, shape.valueTile);
  }
  return gpuSharedBytes(shape);
}

/// Calls `fn` with the bytes of each chunk tile of `op` that TMA can load
/// with chunks of `chunk` rows and `valueTile` value columns: the rank-4
/// per-token inputs linac-chunk loads a chunk of (Chunk.cpp, one
/// chunk_load each): q and k (K columns), v (a value tile), the per-key
/// gates, dplr's a and b. Scalar gates and beta ([B, T, HV], one column)
/// stay thread loads.
static void forEachTmaTile(RecurrenceOp op, int64_t chunk, int64_t valueTile,
                           function_ref<void(int64_t)> fn) {
  auto consider = [&](Value tensor, bool valueSide) {
    auto type = tensor ? dyn_cast<RankedTensorType>(tensor.getType())
                       : RankedTensorType();
    if (!type || type.getRank() != 4 || type.isDynamicDim(3))
      return;
    Type element = type.getElementType();
    if (!element.isF32() && !element.isF16() && !element.isBF16())
      return;
    const int64_t bytes = element.getIntOrFloatBitWidth() / 8;
    const int64_t cols = valueSide ? valueTile : type.getDimSize(3);
    if (gpuTmaBoxFits(chunk, cols, bytes))
      fn(chunk * cols * bytes);
  };
  consider(op.getQ(), false);
  consider(op.getK(), false);
  consider(op.getV(), true);
  if (op.getDecay() == DecayKind::Diagonal)
    consider(op.getG(), false);
  if (op.getRankOne() == RankOneKind::Dplr) {
    consider(op.getA(), false);
    consider(op.getB(), false);
  }
}

int64_t linac::gpuTmaTileBytes(RecurrenceOp op, int64_t chunk,
                               int64_t valueTile) {
  int64_t largest = 0;
  forEachTmaTile(op, chunk, valueTile,
                 [&](int64_t bytes) { largest = std::max(largest, bytes); });
  return largest;
}

int64_t linac::gpuTmaPrefetchBytes(RecurrenceOp op, int64_t chunk,
                                   int64_t valueTile) {
  int64_t total = 0;
  forEachTmaTile(op, chunk, valueTile,
                 [&](int64_t bytes) { total += gpuTmaBufferBytes(bytes); });
  return total;
}

namespace {

/// The chunk lengths a spec or IR may ask for: whole sub-chunks of 16 rows,
/// up to the spec's 256 (the C x C scores tile of a CPU task then takes
/// 256 KiB of its stack).
constexpr int64_t kSubChunk = 16;
constexpr int64_t kMaxChunk = 256;

/// Checks the schedule hints a spec (or hand-written IR) puts on `op`
/// before anything is computed from them: they come from the input, and
/// the tile sizes derived from a huge or negative one overflowed int64 in
/// the GPU shared-memory plan (found by the pipeline fuzzer).
LogicalResult checkRequests(RecurrenceOp op) {
  // A value that does not fit in int64 (an i128 attribute) counts as out of
  // range; getSExtValue would assert on it.
  auto value = [](IntegerAttr attr) {
    const APInt &bits = attr.getValue();
    return bits.getSignificantBits() <= 64 ? bits.getSExtValue() : INT64_MIN;
  };
  if (Attribute attr = op->getAttr("linac.chunk_size")) {
    auto chunk = dyn_cast<IntegerAttr>(attr);
    if (!chunk || chunk.getType().isInteger(1))
      return op.emitOpError() << "linac.chunk_size must be an integer; got "
                              << attr;
    int64_t size = value(chunk);
    if (size < kSubChunk || size > kMaxChunk || size % kSubChunk != 0)
      return op.emitOpError()
             << "linac.chunk_size " << llvm::toString(chunk.getValue(), 10, true)
             << " must be a multiple of " << kSubChunk << " in [" << kSubChunk
             << ", " << kMaxChunk << "]";
  }
  if (Attribute attr = op->getAttr("linac.value_tile")) {
    auto tile = dyn_cast<IntegerAttr>(attr);
    if (!tile || tile.getType().isInteger(1))
      return op.emitOpError() << "linac.value_tile must be an integer; got "
                              << attr;
    int64_t v = cast<RankedTensorType>(op.getV().getType()).getDimSize(3);
    int64_t columns = value(tile);
    if (columns < 1 || columns > v || v % columns != 0)
      return op.emitOpError() << "linac.value_tile "
                              << llvm::toString(tile.getValue(), 10, true)
                              << " must divide V = " << v;
  }
  return success();
}

struct SelectPass : linac::impl::LinacSelectBase<SelectPass> {
  using LinacSelectBase::LinacSelectBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::string chosenTarget = target, chosenCpu = cpu;
    if (chosenTarget.empty())
      if (auto attr = module->getAttrOfType<StringAttr>("linac.target"))
        chosenTarget = attr.str();
    if (chosenCpu.empty())
      if (auto attr = module->getAttrOfType<StringAttr>("linac.cpu"))
        chosenCpu = attr.str();
    if (chosenTarget.empty())
      chosenTarget = "cpu";
    if (chosenCpu.empty())
      chosenCpu = "native";

    int64_t vectorWidth;
    GpuTarget gpu;
    const bool cuda = StringRef(chosenTarget).starts_with("cuda:");
    if (cuda) {
      std::string error;
      if (!resolveGpuTarget(chosenTarget, gpu, error)) {
        module.emitError() << "linac-select: unknown target '" << chosenTarget
                           << "' (expected cpu, cuda:sm_90a or cuda:sm_80)";
        return signalPassFailure();
      }
      vectorWidth = 0;
    } else if (chosenTarget == "cpu") {
      // The same resolution as code generation, so that `native` on an AVX2
      // host tiles for 8 lanes and 16 registers.
      CpuTarget cpuTarget;
      std::string error;
      if (!resolveCpuTarget(chosenCpu, cpuTarget, error)) {
        module.emitError() << "linac-select: " << error;
        return signalPassFailure();
      }
      vectorWidth = cpuTarget.vectorWidth;
    } else {
      module.emitError() << "linac-select: unknown target '" << chosenTarget
                         << "' (expected cpu, cuda:sm_90a or cuda:sm_80)";
      return signalPassFailure();
    }

    WalkResult result = module.walk([&](RecurrenceOp op) {
      if (op->hasAttr("linac.schedule"))
        return WalkResult::advance();
      bool decode = false;
      if (auto mode = op->getAttrOfType<StringAttr>("linac.mode")) {
        if (mode.getValue() != "prefill" && mode.getValue() != "decode") {
          op.emitOpError() << "unknown linac.mode '" << mode.getValue()
                           << "' (expected prefill or decode)";
          return WalkResult::interrupt();
        }
        decode = mode.getValue() == "decode";
      }
      if (failed(checkRequests(op)))
        return WalkResult::interrupt();

      Algorithm algorithm = Algorithm::Chunked;
      if (decode)
        algorithm = Algorithm::Recurrent;
      else if (op.getRankOne() != RankOneKind::None)
        algorithm = Algorithm::ChunkedWY;

      if (cuda) {
        FailureOr<ScheduleAttr> schedule = selectGpu(op, algorithm, gpu);
        if (failed(schedule))
          return WalkResult::interrupt();
        op->setAttr("linac.schedule", *schedule);
        return WalkResult::advance();
      }

      int64_t chunk = 0;
      if (!decode) {
        // Shared with linac-run's cost estimate (lib/Spec).
        chunk = spec::defaultChunkSize(op.getStateKeyDim());
        if (auto requested = op->getAttrOfType<IntegerAttr>("linac.chunk_size"))
          chunk = requested.getInt();
      }
      op->setAttr("linac.schedule",
                  ScheduleAttr::get(op.getContext(), algorithm, chunk,
                                    vectorWidth,
                                    chooseValueTile(op, decode, vectorWidth)));
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }
};

} // namespace
