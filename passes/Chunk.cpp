//===- Chunk.cpp - recurrences to chunked-scan ops ------------------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// Rewrites every function whose body is one scheduled linac.recurrence into
// a *task function*: the work of one (sequence, value head, value tile), on
// buffers, as a loop over chunks of chunked-scan ops (or over time steps of
// linac.recurrent_step for decode). A second function gives the number of
// tasks. Which task runs on which thread is the business of the ABI pass and
// the runtime; tasks never write the same memory.
//
// The pass also bufferizes: function arguments become strided memrefs with a
// unit inner stride (what the runtime validates), the results become output
// arguments. Scratch tiles are stack allocations of static shape.
//
//===----------------------------------------------------------------------===//

#include "linac/Dialect/Linac/IR/LinacOps.h"
#include "linac/Passes/GpuSchedule.h"
#include "linac/Passes/Passes.h"
#include "linac/Target/Artifact.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"

#include "llvm/Support/MathExtras.h"

#include <cmath>

namespace linac {
#define GEN_PASS_DEF_LINACCHUNK
#include "linac/Passes/Passes.h.inc"
} // namespace linac

using namespace mlir;
using namespace linac;

namespace {

/// The most stack the tiles of one CPU task may take: three quarters of a
/// pool thread's default 8 MiB, the rest for the frames around them. The
/// largest plain structures (K = V = 1024, dplr) take about 4.2 MiB; taylor2
/// GLA reaches it at K = 80 (K' = 6481).
constexpr uint64_t kCpuStackBudget = uint64_t(6) << 20;

/// The strided buffer type a tensor argument becomes: same shape, any
/// offset and outer strides, unit inner stride. A head-major per-token
/// tensor ([B, H, T] stored, seen as [B, T, H]) has no unit stride left in
/// that order, so its strides are all dynamic (it is read by scalars).
MemRefType bufferTypeOf(RankedTensorType type, bool headMajor) {
  SmallVector<int64_t> strides(type.getRank(), ShapedType::kDynamic);
  if (!(headMajor && type.getRank() == 3))
    strides.back() = 1;
  return MemRefType::get(
      type.getShape(), type.getElementType(),
      StridedLayoutAttr::get(type.getContext(), ShapedType::kDynamic, strides));
}

/// The arguments of a task function, by role.
struct TaskArgs {
  Value q, k, v, g, beta, a, b, u, h0, cuSeqlens, stateIndices, o, ht;
  Value hasH0, hasHt; // i1, present when h0 / ht are optional
  /// With a state pool (set by buildTaskFunction): whether the task's
  /// sequence names a slot of the pool (an i1), and the end of the rows of
  /// o to zero instead of computing them (`begin` for a named slot, the
  /// sequence's end for a padding row).
  Value inPool, padEnd;
  Value task;         // index
};

class ChunkLowering {
public:
  ChunkLowering(func::FuncOp func, RecurrenceOp op, ScheduleAttr schedule)
      : func(func), op(op), schedule(schedule) {}

  LogicalResult run();

private:
  LogicalResult checkSupported();
  void buildTaskFunction(func::FuncOp task, const TaskArgs &args);
  void buildTaskCount(func::FuncOp count, const TaskArgs &args);
  Value sequenceCount(OpBuilder &b, Location loc, const TaskArgs &args);
  void emitChunked(OpBuilder &b, Location loc, const TaskArgs &args, Value slot,
                   Value batch, Value begin, Value end, Value head,
                   Value valueHead, Value col);
  /// Zeros rows [begin, args.padEnd) of o for the task's value columns,
  /// through `tile` (rows x valueTile, overwritten): the output of a
  /// sequence whose state index names no slot of the pool.
  void emitPaddingOutput(OpBuilder &b, Location loc, const TaskArgs &args,
                         Value batch, Value begin, Value valueHead, Value col,
                         Value tile);
  void emitRecurrent(OpBuilder &b, Location loc, const TaskArgs &args,
                     Value batch, Value begin, Value end, Value head,
                     Value valueHead, Value col, Value stateIn,
                     Value stateOut);
  /// Fills `tile` (rows x 1) with the log decay of `valueHead` for the
  /// first `len` rows and 0 after: the constant-decay form of a gate chunk.
  void emitConstantGates(OpBuilder &b, Location loc, Value tile, Value len,
                         Value valueHead);
  /// Log gates of rows [start, start + len) into `tile`: the g input, or
  /// the constant decay of the head. Rows past `len` get 0 (a decay of 1).
  void emitGateLoad(OpBuilder &b, Location loc, const TaskArgs &args,
                    Value batch, Value start, Value valueHead, Value zero,
                    Value len, Value tile);
  Value stateWindow(OpBuilder &b, Location loc, Value state, Value seq,
                    Value valueHead, Value col);
  /// Refuses a CPU task whose tiles would not fit the stack budget.
  LogicalResult checkStack(func::FuncOp task);
  /// Columns of the normalizer's value side (a column of ones and zeros).
  int64_t normalizerColumns() const;
  /// Stores value(row) into column 0 of every row of `tile`.
  void emitColumnFill(OpBuilder &b, Location loc, Value tile,
                      function_ref<Value(Value)> value);
  /// Zeros `tile`, then sets its column 0 to ones: the values whose state
  /// is the normalizer's z.
  void emitOnesColumn(OpBuilder &b, Location loc, Value tile);
  /// RWKV-6's bonus row u[valueHead] as a 1 x K' tile.
  Value loadBonus(OpBuilder &b, Location loc, const TaskArgs &args,
                  Value valueHead);

  func::FuncOp func;
  RecurrenceOp op;
  ScheduleAttr schedule;
  /// K' (the state's rows in memory: 1 + K + K^2 with taylor2) and keyDim,
  /// the rows of the state tile and columns of the key tiles: K' rounded up
  /// to whole vectors (taylor2's K' rarely is a multiple of 16; the padding
  /// features are zero, so the padded state rows stay zero and are never
  /// stored). inputKeys is K, the q and k rows as stored.
  int64_t featureKeys = 0, keyDim = 0, inputKeys = 0;
  int64_t valueDim = 0, valueTile = 0;
  bool padded() const { return keyDim != featureKeys; }
  /// The first `rows` x `cols` window of `tile` when the key side is
  /// padded (the part that exists in memory), else `tile` itself.
  Value unpadded(OpBuilder &b, Location loc, Value tile, int64_t rows,
                 int64_t cols);
  /// Loads q or k rows [start, start + len) into `dst` (C x keyDim) with
  /// the feature map and `scale`: chunk_load, or for taylor2 chunk_load of
  /// the raw rows into `raw` and linac.tile_taylor2.
  void emitKeyLoad(OpBuilder &b, Location loc, Value src, Value batch,
                   Value start, Value head, Value zero, Value len,
                   FloatAttr scale, Value raw, Value dst);
  /// Loads the K'-wide rows of a per-key input (g, a, b) into a keyDim-wide
  /// tile, whose padding columns the caller zeroed once.
  void emitPerKeyLoad(OpBuilder &b, Location loc, Value src, Value batch,
                      Value start, Value valueHead, Value zero, Value len,
                      FloatAttr pad, Value dst);
};

LogicalResult ChunkLowering::checkSupported() {
  auto unsupported = [&](const Twine &what) {
    return op.emitOpError() << "is not supported by linac-chunk yet: " << what;
  };
  if (op.getOutputForm() != OutputForm::CurrentState &&
      (op.getRankOne() != RankOneKind::None || !op.getU()))
    return unsupported("output(previous_state_plus_bonus) with a rank-one "
                       "transition or without u");
  const bool rankOne = op.getRankOne() != RankOneKind::None;
  if (schedule.getAlgorithm() == Algorithm::ChunkedWY && !rankOne)
    return unsupported("algorithm chunked_wy without a rank-one transition");
  if (schedule.getAlgorithm() == Algorithm::Chunked && rankOne)
    return op.emitOpError() << "has a rank-one transition, which algorithm "
                               "chunked cannot express; use chunked_wy";
  if (op.getRankOne() == RankOneKind::Dplr &&
      op.getDecay() != DecayKind::Diagonal)
    return unsupported("a dplr transition without a diagonal decay");
  // bhtd needs nothing here: tasks index [B, T, H, ...] views with any
  // strides, and linac-cpu-abi swaps the stored dims into that order.
  if (schedule.getAlgorithm() != Algorithm::Recurrent &&
      (schedule.getChunkSize() <= 0 || schedule.getChunkSize() % 16 != 0))
    return op.emitOpError() << "chunk_size " << schedule.getChunkSize()
                            << " must be a multiple of 16 (the sub-chunk)";
  // Head sizes are reported at k or v, whose locations are the spec's
  // head_dim_k and head_dim_v keys (or the .mlir function's arguments).
  int64_t width = std::max<int64_t>(schedule.getVectorWidth(), 1);
  auto padHint = [&](llvm::StringRef key) {
    std::string hint = "(every row of a tile is whole vectors; ";
    if (width == 16)
      hint += "x86-64-v3 has 8-lane vectors, or pad " + key.str() +
              " to a multiple of 16";
    else
      hint += "pad " + key.str() + " to a multiple of " + std::to_string(width);
    return hint + ")";
  };
  if (keyDim % width != 0)
    return emitError(op.getK().getLoc())
           << "head dim K = " << keyDim
           << " must be a multiple of the vector width " << width << " "
           << padHint("head_dim_k");
  if (valueTile % width != 0 || valueDim % valueTile)
    return emitError(op.getV().getLoc())
           << "head dim V = " << valueDim << ": the value tile " << valueTile
           << " must be a multiple of the vector width " << width
           << " and divide V " << padHint("head_dim_v");
  for (Value operand : op->getOperands())
    if (auto type = dyn_cast<RankedTensorType>(operand.getType());
        type && type.getRank() == 4 && type.isDynamicDim(3))
      return op.emitOpError() << "needs static head dimensions";
  return success();
}

Value ChunkLowering::sequenceCount(OpBuilder &b, Location loc,
                                   const TaskArgs &args) {
  if (args.cuSeqlens) {
    Value n = memref::DimOp::create(b, loc, args.cuSeqlens, 0);
    return arith::SubIOp::create(b, loc, n,
                                 arith::ConstantIndexOp::create(b, loc, 1));
  }
  return memref::DimOp::create(b, loc, args.q, 0);
}

void ChunkLowering::buildTaskCount(func::FuncOp count, const TaskArgs &args) {
  OpBuilder b = OpBuilder::atBlockBegin(&count.getBody().front());
  Location loc = op.getLoc();
  Value seqs = sequenceCount(b, loc, args);
  Value heads = memref::DimOp::create(b, loc, args.v, 2);
  Value tiles = arith::ConstantIndexOp::create(b, loc, valueDim / valueTile);
  Value n = arith::MulIOp::create(
      b, loc, arith::MulIOp::create(b, loc, seqs, heads), tiles);
  func::ReturnOp::create(b, loc, n);
}

Value ChunkLowering::stateWindow(OpBuilder &b, Location loc, Value state,
                                 Value seq, Value valueHead, Value col) {
  auto type = cast<MemRefType>(state.getType());
  SmallVector<OpFoldResult> offsets = {seq, valueHead, b.getIndexAttr(0), col};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1), b.getIndexAttr(1),
                                     b.getIndexAttr(featureKeys),
                                     b.getIndexAttr(valueTile)};
  SmallVector<OpFoldResult> strides(4, b.getIndexAttr(1));
  // The window keeps the state's last two dimensions, so its inner stride is
  // the state's unit stride. Written out because with K' = 1 and a one-column
  // tile all four sizes are 1, and inferRankReducedResultType then keeps the
  // two outer dimensions and their dynamic strides, which the tile ops
  // reject (found by linac-fuzz-pipeline: K = V = 1 for a cuda target).
  auto resultType = MemRefType::get(
      {featureKeys, valueTile}, type.getElementType(),
      StridedLayoutAttr::get(b.getContext(), ShapedType::kDynamic,
                             {ShapedType::kDynamic, 1}));
  return memref::SubViewOp::create(b, loc, resultType, state, offsets, sizes,
                                   strides);
}

Value ChunkLowering::loadBonus(OpBuilder &b, Location loc,
                               const TaskArgs &args, Value valueHead) {
  Value tile = memref::AllocaOp::create(
      b, loc, MemRefType::get({1, keyDim}, b.getF32Type()));
  if (padded())
    TileZeroOp::create(b, loc, tile);
  auto type = cast<MemRefType>(args.u.getType());
  SmallVector<OpFoldResult> offsets = {valueHead, b.getIndexAttr(0)};
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(1),
                                     b.getIndexAttr(featureKeys)};
  SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
  auto rowType = memref::SubViewOp::inferResultType(type, offsets, sizes,
                                                    strides);
  Value row = memref::SubViewOp::create(b, loc, cast<MemRefType>(rowType),
                                        args.u, offsets, sizes, strides);
  TileCopyOp::create(b, loc, row, unpadded(b, loc, tile, 1, featureKeys));
  return tile;
}

void ChunkLowering::emitConstantGates(OpBuilder &b, Location loc, Value tile,
                                      Value len, Value valueHead) {
  // log(gamma_h) per value head, computed in double and rounded once; the
  // head index is dynamic, so a chain of selects picks it.
  Value value = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  for (auto [h, gamma] : llvm::enumerate(*op.getDecayConstants())) {
    Value isHead = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq, valueHead,
        arith::ConstantIndexOp::create(b, loc, h));
    Value logDecay = arith::ConstantOp::create(
        b, loc, b.getF32FloatAttr(static_cast<float>(std::log(gamma))));
    value = arith::SelectOp::create(b, loc, isHead, logDecay, value);
  }
  Value zero = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(0.0f));
  emitColumnFill(b, loc, tile, [&](Value row) -> Value {
    Value inside =
        arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, row, len);
    return arith::SelectOp::create(b, loc, inside, value, zero);
  });
}

void ChunkLowering::emitColumnFill(OpBuilder &b, Location loc, Value tile,
                                   function_ref<Value(Value)> value) {
  int64_t rows = cast<MemRefType>(tile.getType()).getDimSize(0);
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  auto loop = scf::ForOp::create(b, loc, c0,
                                 arith::ConstantIndexOp::create(b, loc, rows),
                                 arith::ConstantIndexOp::create(b, loc, 1));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value row = loop.getInductionVar();
  memref::StoreOp::create(b, loc, value(row), tile, ValueRange{row, c0});
}

void ChunkLowering::emitGateLoad(OpBuilder &b, Location loc,
                                 const TaskArgs &args, Value batch,
                                 Value start, Value valueHead, Value zero,
                                 Value len, Value tile) {
  if (op.getDecay() == DecayKind::Constant)
    return emitConstantGates(b, loc, tile, len, valueHead);
  if (op.getDecay() == DecayKind::Diagonal)
    return emitPerKeyLoad(b, loc, args.g, batch, start, valueHead, zero, len,
                          b.getF32FloatAttr(0.0f), tile);
  ChunkLoadOp::create(b, loc, args.g, batch, start, valueHead, zero, len,
                      FeatureMap::Identity, FloatAttr(),
                      b.getF32FloatAttr(0.0f), tile);
}

Value ChunkLowering::unpadded(OpBuilder &b, Location loc, Value tile,
                              int64_t rows, int64_t cols) {
  if (!padded())
    return tile;
  auto type = cast<MemRefType>(tile.getType());
  SmallVector<OpFoldResult> offsets(2, b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes = {b.getIndexAttr(rows),
                                     b.getIndexAttr(cols)};
  SmallVector<OpFoldResult> strides(2, b.getIndexAttr(1));
  auto windowType = cast<MemRefType>(
      memref::SubViewOp::inferResultType(type, offsets, sizes, strides));
  return memref::SubViewOp::create(b, loc, windowType, tile, offsets, sizes,
                                   strides);
}

void ChunkLowering::emitKeyLoad(OpBuilder &b, Location loc, Value src,
                                Value batch, Value start, Value head,
                                Value c0, Value len, FloatAttr scale,
                                Value raw, Value dst) {
  if (op.getFeatureMap() != FeatureMap::Taylor2) {
    ChunkLoadOp::create(b, loc, src, batch, start, head, c0, len,
                        op.getFeatureMap(), scale, FloatAttr(), dst);
    return;
  }
  ChunkLoadOp::create(b, loc, src, batch, start, head, c0, len,
                      FeatureMap::Identity, FloatAttr(), FloatAttr(), raw);
  TileTaylor2Op::create(b, loc, raw, len, dst, scale);
}

void ChunkLowering::emitPerKeyLoad(OpBuilder &b, Location loc, Value src,
                                   Value batch, Value start, Value valueHead,
                                   Value c0, Value len, FloatAttr pad,
                                   Value dst) {
  int64_t rows = cast<MemRefType>(dst.getType()).getDimSize(0);
  ChunkLoadOp::create(b, loc, src, batch, start, valueHead, c0, len,
                      FeatureMap::Identity, FloatAttr(), pad,
                      unpadded(b, loc, dst, rows, featureKeys));
}

/// `x && y` for optional i1 conditions (at least one is present).
static Value allOf(OpBuilder &b, Location loc, Value x, Value y) {
  if (!x || !y)
    return x ? x : y;
  return arith::AndIOp::create(b, loc, x, y);
}

void ChunkLowering::emitPaddingOutput(OpBuilder &b, Location loc,
                                      const TaskArgs &args, Value batch,
                                      Value begin, Value valueHead, Value col,
                                      Value tile) {
  if (!args.padEnd)
    return;
  const int64_t rows = cast<MemRefType>(tile.getType()).getDimSize(0);
  TileZeroOp::create(b, loc, tile);
  Value step = arith::ConstantIndexOp::create(b, loc, rows);
  auto loop = scf::ForOp::create(b, loc, begin, args.padEnd, step);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value start = loop.getInductionVar();
  Value len = arith::MinSIOp::create(
      b, loc, step, arith::SubIOp::create(b, loc, args.padEnd, start));
  ChunkStoreOp::create(b, loc, tile, args.o, batch, start, valueHead, col, len);
}

void ChunkLowering::emitChunked(OpBuilder &b, Location loc,
                                const TaskArgs &args, Value slot, Value batch,
                                Value begin, Value end, Value head,
                                Value valueHead, Value col) {
  const int64_t chunk = schedule.getChunkSize();
  const int64_t subChunk = 16;
  Type f32 = b.getF32Type();
  auto tile = [&](int64_t rows, int64_t cols) -> Value {
    return memref::AllocaOp::create(b, loc, MemRefType::get({rows, cols}, f32));
  };
  const bool gated = op.getDecay() != DecayKind::None;
  const int64_t gateCols = op.getDecay() == DecayKind::Diagonal ? keyDim : 1;

  const bool delta = op.getRankOne() == RankOneKind::Delta;
  // The dplr transition: the reads w_t = a_tᵀ S_{t-1} are solved per chunk
  // (chunk_dplr_solve). Their coefficients skip row t's decay, which the
  // inclusive chunk ops express with k, v, b and g delayed by one row
  // (zeros, not the previous chunk's rows, in row 0: those are already in
  // the state) and a second set of gates from the delayed g.
  const bool dplr = op.getRankOne() == RankOneKind::Dplr;
  // RWKV-6 reads the state before each token's update: the current state
  // of the same recurrence over k, v and g delayed by one token
  // (linac.tile_shift_rows, with the previous chunk's last row carried in
  // and zeros before the first token), plus the bonus of the token itself.
  // The delayed sequence is one token longer, so the chunk loop runs to
  // end + 1: its last row is the real last token, which completes ht.
  const bool shifted = op.getOutputForm() == OutputForm::PreviousStatePlusBonus;
  const bool normalize = op.getNormalizer() == Normalizer::Sum;

  // A value side: the state and every tile with the value tile's columns.
  // The outputs are one; normalize = "sum" adds a second side whose values
  // are a column of ones, whose state is z and whose output column 0 is
  // the normalizer's denominator (linac.chunk_normalize).
  struct ValueSide {
    Value state, v, o;
    Value keyState, u;                  // delta
    Value w, rhs, vDelayed, valueCarry; // dplr
    Value vShift, vCarry;               // shifted
  };
  // The key side (tiles with K' or C columns) is shared by the sides. The
  // first side's tiles are allocated among them, in the order the GPU's
  // shared-memory layout and the tests know.
  ValueSide values;
  values.state = tile(keyDim, valueTile);
  Value qTile = tile(chunk, keyDim), kTile = tile(chunk, keyDim);
  // taylor2 expands the raw q and k rows (K columns) into the features.
  Value qRaw, kRaw;
  if (op.getFeatureMap() == FeatureMap::Taylor2) {
    qRaw = tile(chunk, inputKeys);
    kRaw = tile(chunk, inputKeys);
  }
  values.v = tile(chunk, valueTile);
  values.o = tile(chunk, valueTile);
  Value scores = tile(chunk, chunk);
  // The delta rule's WY/UT form: beta, the gated key scores K Kᵀ, the
  // state read through the keys (K ⊙ Γ_0) S_0, and the new values U that
  // take V's place in the output and the state update.
  Value betaTile, keyScores;
  if (delta) {
    betaTile = tile(chunk, 1);
    keyScores = tile(chunk, chunk);
    values.keyState = tile(chunk, valueTile);
    values.u = tile(chunk, valueTile);
  }
  Value gTile, decay, prefix, suffix;
  if (gated) {
    gTile = tile(chunk, gateCols);
    decay = tile(chunk, gateCols);
    prefix = tile(chunk, gateCols);
    suffix = tile(chunk, gateCols);
  }
  Value aTile, bTile, abScores, akScores, qbScores, kDelayed, bDelayed,
      gDelayed, keyCarry, gateCarry, decay2, prefix2, suffix2;
  if (dplr) {
    aTile = tile(chunk, keyDim);
    bTile = tile(chunk, keyDim);
    values.w = tile(chunk, valueTile);
    values.rhs = tile(chunk, valueTile);
    abScores = tile(chunk, chunk);
    akScores = tile(chunk, chunk);
    qbScores = tile(chunk, chunk);
    kDelayed = tile(chunk, keyDim);
    values.vDelayed = tile(chunk, valueTile);
    bDelayed = tile(chunk, keyDim);
    gDelayed = tile(chunk, gateCols);
    keyCarry = tile(1, keyDim);
    values.valueCarry = tile(1, valueTile);
    gateCarry = tile(1, gateCols);
    decay2 = tile(chunk, gateCols);
    prefix2 = tile(chunk, gateCols);
    suffix2 = tile(chunk, gateCols);
  }
  Value kShift, gShift, kCarry, gCarry, bonus;
  if (shifted) {
    kShift = tile(chunk, keyDim);
    values.vShift = tile(chunk, valueTile);
    kCarry = tile(1, keyDim);
    values.vCarry = tile(1, valueTile);
    TileZeroOp::create(b, loc, kCarry);
    TileZeroOp::create(b, loc, values.vCarry);
    if (gated) {
      gShift = tile(chunk, gateCols);
      gCarry = tile(1, gateCols);
      TileZeroOp::create(b, loc, gCarry);
    }
    bonus = loadBonus(b, loc, args, valueHead);
  }
  std::optional<ValueSide> ones;
  if (normalize) {
    // z_0 = 0 whatever h0 holds (SEMANTICS.md: the state tensors do not
    // carry z). The ones fill every row: rows past a sequence's end meet
    // zero keys and queries, as v's zero rows do.
    const int64_t cols = normalizerColumns();
    ValueSide &side = ones.emplace();
    side.state = tile(keyDim, cols);
    side.v = tile(chunk, cols);
    side.o = tile(chunk, cols);
    if (dplr) {
      side.w = tile(chunk, cols);
      side.rhs = tile(chunk, cols);
      side.vDelayed = tile(chunk, cols);
      side.valueCarry = tile(1, cols);
    }
    if (shifted) {
      side.vShift = tile(chunk, cols);
      side.vCarry = tile(1, cols);
      TileZeroOp::create(b, loc, side.vCarry);
    }
    TileZeroOp::create(b, loc, side.state);
    emitOnesColumn(b, loc, side.v);
  }

  // The per-key tiles' padding columns are zero for good: the loads write
  // the first K' columns only.
  if (padded())
    for (Value perKey : {op.getDecay() == DecayKind::Diagonal ? gTile : Value(),
                         aTile, bTile})
      if (perKey)
        TileZeroOp::create(b, loc, perKey);

  // S_0 = h0 (or zeros); padded state rows are zero. Prefill's h0 is
  // optional (a flag) or a pool's, whose padding rows read no slot (their
  // loop below is empty): either way there is a condition.
  if (args.h0) {
    if (padded())
      TileZeroOp::create(b, loc, values.state);
    auto ifOp = scf::IfOp::create(b, loc, allOf(b, loc, args.hasH0, args.inPool),
                                  /*withElse=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    TileCopyOp::create(
        b, loc, stateWindow(b, loc, args.h0, slot, valueHead, col),
        unpadded(b, loc, values.state, featureKeys, valueTile));
    b.setInsertionPointToStart(ifOp.elseBlock());
    TileZeroOp::create(b, loc, values.state);
  } else {
    TileZeroOp::create(b, loc, values.state);
  }

  Value step = arith::ConstantIndexOp::create(b, loc, chunk);
  Value last = shifted ? arith::AddIOp::create(
                             b, loc, end,
                             arith::ConstantIndexOp::create(b, loc, 1))
                       : end;
  auto loop = scf::ForOp::create(b, loc, begin, last, step);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(loop.getBody());
    Value start = loop.getInductionVar();
    Value len = arith::MinSIOp::create(
        b, loc, step, arith::SubIOp::create(b, loc, end, start));
    Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
    FloatAttr scale = b.getF32FloatAttr(op.getEffectiveScale());
    emitKeyLoad(b, loc, args.q, batch, start, head, c0, len, scale, qRaw,
                qTile);
    emitKeyLoad(b, loc, args.k, batch, start, head, c0, len, FloatAttr(),
                kRaw, kTile);
    ChunkLoadOp::create(b, loc, args.v, batch, start, valueHead, col, len,
                        FeatureMap::Identity, FloatAttr(), FloatAttr(),
                        values.v);
    SmallVector<Value> scoreGates, interGates, updateGates, delayedGates;
    Value keys = kTile;
    if (gated) {
      emitGateLoad(b, loc, args, batch, start, valueHead, c0, len, gTile);
      Value gates = gTile;
      if (shifted) {
        TileShiftRowsOp::create(b, loc, gTile, gCarry, len, gShift);
        gates = gShift;
      }
      ChunkGatesOp::create(b, loc, gates, decay, prefix, suffix, subChunk);
      scoreGates = {decay, prefix, suffix};
      interGates = {prefix};
      updateGates = {prefix, suffix};
    }
    // Delay by one row with zeros in row 0.
    auto delay = [&](Value src, Value carry, Value dst) {
      TileZeroOp::create(b, loc, carry);
      TileShiftRowsOp::create(b, loc, src, carry, len, dst);
    };
    if (dplr) {
      for (auto [input, dst] :
           {std::pair{args.a, aTile}, std::pair{args.b, bTile}})
        emitPerKeyLoad(b, loc, input, batch, start, valueHead, c0, len,
                       FloatAttr(), dst);
      delay(gTile, gateCarry, gDelayed);
      ChunkGatesOp::create(b, loc, gDelayed, decay2, prefix2, suffix2,
                           subChunk);
      delay(kTile, keyCarry, kDelayed);
      delay(bTile, keyCarry, bDelayed);
      delayedGates = {decay2, prefix2, suffix2};
      ChunkScoresOp::create(b, loc, aTile, kDelayed, delayedGates, akScores,
                            subChunk);
      ChunkScoresOp::create(b, loc, aTile, bDelayed, delayedGates, abScores,
                            subChunk);
      ChunkScoresOp::create(b, loc, qTile, bTile, scoreGates, qbScores,
                            subChunk);
    }
    if (shifted) {
      TileShiftRowsOp::create(b, loc, kTile, kCarry, len, kShift);
      keys = kShift;
    }
    if (delta) {
      // Past the end of the sequence beta is 0, so those rows write nothing.
      ChunkLoadOp::create(b, loc, args.beta, batch, start, valueHead, c0, len,
                          FeatureMap::Identity, FloatAttr(),
                          b.getF32FloatAttr(0.0f), betaTile);
      ChunkScoresOp::create(b, loc, kTile, kTile, scoreGates, keyScores,
                            subChunk);
    }
    ChunkScoresOp::create(b, loc, qTile, keys, scoreGates, scores, subChunk);

    // Everything that reads or writes a side's state, in order: the reads
    // of the state at the chunk start come before its update.
    auto emitSide = [&](ValueSide &side) {
      Value written = side.v;
      if (dplr) {
        // rhs_t = (a_t ⊙ prod(decay[0 .. t-1])) S_0
        //       + sum_{j<t} ((a_t ⊙ prod(decay[j+1 .. t-1])) · k_j) v_j.
        delay(side.v, side.valueCarry, side.vDelayed);
        ChunkInterOp::create(b, loc, aTile, side.state, ValueRange{prefix2},
                             side.rhs, subChunk);
        ChunkAttendOp::create(b, loc, akScores, side.vDelayed, side.rhs);
        ChunkDplrSolveOp::create(b, loc, abScores, side.rhs, side.w);
      }
      if (shifted) {
        TileShiftRowsOp::create(b, loc, side.v, side.vCarry, len,
                                side.vShift);
        written = side.vShift;
      }
      if (delta) {
        ChunkInterOp::create(b, loc, kTile, side.state, interGates,
                             side.keyState, subChunk);
        ChunkDeltaSolveOp::create(b, loc, keyScores, betaTile, side.v,
                                  side.keyState, side.u);
        written = side.u;
      }
      ChunkInterOp::create(b, loc, qTile, side.state, interGates, side.o,
                           subChunk);
      ChunkAttendOp::create(b, loc, scores, written, side.o);
      if (dplr)
        ChunkAttendOp::create(b, loc, qbScores, side.w, side.o);
      if (shifted)
        ChunkBonusOp::create(b, loc, qTile, kTile, bonus, side.v, side.o);
      ChunkStateUpdateOp::create(b, loc, keys, written,
                                 dplr ? bTile : Value(),
                                 dplr ? side.w : Value(), updateGates,
                                 side.state, subChunk);
    };
    emitSide(values);
    if (ones) {
      emitSide(*ones);
      ChunkNormalizeOp::create(b, loc, ones->o, values.o,
                               b.getF32FloatAttr(op.getEffectiveEps()));
    }
    ChunkStoreOp::create(b, loc, values.o, args.o, batch, start, valueHead,
                         col, len);
  }

  if (args.ht) {
    auto ifOp = scf::IfOp::create(b, loc, allOf(b, loc, args.hasHt, args.inPool),
                                  /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    TileCopyOp::create(b, loc,
                       unpadded(b, loc, values.state, featureKeys, valueTile),
                       stateWindow(b, loc, args.ht, slot, valueHead, col));
  }
  emitPaddingOutput(b, loc, args, batch, begin, valueHead, col, values.o);
}

int64_t ChunkLowering::normalizerColumns() const {
  // One column would do; a whole vector keeps every tile op on its vector
  // path (CPU), and 16 is one mma n8 pair and a wgmma N (GPU).
  return schedule.getVectorWidth() > 0 ? schedule.getVectorWidth()
                                       : kGpuNormalizerCols;
}

void ChunkLowering::emitOnesColumn(OpBuilder &b, Location loc, Value tile) {
  TileZeroOp::create(b, loc, tile);
  Value one = arith::ConstantOp::create(b, loc, b.getF32FloatAttr(1.0f));
  emitColumnFill(b, loc, tile, [&](Value) { return one; });
}

void ChunkLowering::emitRecurrent(OpBuilder &b, Location loc,
                                  const TaskArgs &args, Value batch,
                                  Value begin, Value end, Value head,
                                  Value valueHead, Value col, Value stateIn,
                                  Value stateOut) {
  Type f32 = b.getF32Type();
  auto tile = [&](int64_t rows, int64_t cols) -> Value {
    return memref::AllocaOp::create(b, loc, MemRefType::get({rows, cols}, f32));
  };
  const bool gated = op.getDecay() != DecayKind::None;
  const int64_t gateCols = op.getDecay() == DecayKind::Diagonal ? keyDim : 1;
  Value qRow = tile(1, keyDim), kRow = tile(1, keyDim);
  Value qRaw, kRaw;
  if (op.getFeatureMap() == FeatureMap::Taylor2) {
    qRaw = tile(1, inputKeys);
    kRaw = tile(1, inputKeys);
  }
  Value vRow = tile(1, valueTile), oRow = tile(1, valueTile);
  Value betaRow, bonus;
  if (op.getRankOne() == RankOneKind::Delta)
    betaRow = tile(1, 1);
  if (op.getOutputForm() == OutputForm::PreviousStatePlusBonus)
    bonus = loadBonus(b, loc, args, valueHead);
  Value aRow, bRow;
  if (op.getRankOne() == RankOneKind::Dplr) {
    aRow = tile(1, keyDim);
    bRow = tile(1, keyDim);
  }
  Value gRow, decay, prefix, suffix;
  if (gated) {
    gRow = tile(1, gateCols);
    decay = tile(1, gateCols);
    prefix = tile(1, gateCols);
    suffix = tile(1, gateCols);
  }
  // normalize = "sum": z, the state of a value column of ones, from zero
  // at the first step (see emitChunked).
  Value zState, onesRow, zRow;
  if (op.getNormalizer() == Normalizer::Sum) {
    zState = tile(keyDim, normalizerColumns());
    onesRow = tile(1, normalizerColumns());
    zRow = tile(1, normalizerColumns());
    TileZeroOp::create(b, loc, zState);
    emitOnesColumn(b, loc, onesRow);
  }
  // A padded key side steps a local state whose padding rows stay zero:
  // h0's K' rows in first, ht's out after the last step.
  Value local;
  if (padded()) {
    for (Value perKey : {op.getDecay() == DecayKind::Diagonal ? gRow : Value(),
                         aRow, bRow})
      if (perKey)
        TileZeroOp::create(b, loc, perKey);
    local = tile(keyDim, valueTile);
    TileZeroOp::create(b, loc, local);
    // A padding row of a pool touches no slot.
    OpBuilder::InsertionGuard guard(b);
    if (args.inPool)
      b.setInsertionPointToStart(
          scf::IfOp::create(b, loc, args.inPool, /*withElse=*/false)
              .thenBlock());
    TileCopyOp::create(b, loc, stateIn,
                       unpadded(b, loc, local, featureKeys, valueTile));
  }
  Value one = arith::ConstantIndexOp::create(b, loc, 1);
  auto loop = scf::ForOp::create(b, loc, begin, end, one);
  {
    OpBuilder::InsertionGuard after(b);
    b.setInsertionPointAfter(loop);
    if (local) {
      OpBuilder::InsertionGuard guard(b);
      if (args.inPool)
        b.setInsertionPointToStart(
            scf::IfOp::create(b, loc, args.inPool, /*withElse=*/false)
                .thenBlock());
      TileCopyOp::create(b, loc,
                         unpadded(b, loc, local, featureKeys, valueTile),
                         stateOut);
    }
    emitPaddingOutput(b, loc, args, batch, begin, valueHead, col, oRow);
  }
  if (local)
    stateIn = stateOut = local;
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(loop.getBody());
  Value t = loop.getInductionVar();
  Value c0 = arith::ConstantIndexOp::create(b, loc, 0);
  emitKeyLoad(b, loc, args.q, batch, t, head, c0, one,
              b.getF32FloatAttr(op.getEffectiveScale()), qRaw, qRow);
  emitKeyLoad(b, loc, args.k, batch, t, head, c0, one, FloatAttr(), kRaw,
              kRow);
  ChunkLoadOp::create(b, loc, args.v, batch, t, valueHead, col, one,
                      FeatureMap::Identity, FloatAttr(), FloatAttr(), vRow);
  SmallVector<Value> gates;
  if (gated) {
    emitGateLoad(b, loc, args, batch, t, valueHead, c0, one, gRow);
    ChunkGatesOp::create(b, loc, gRow, decay, prefix, suffix, 1);
    gates = {decay};
  }
  if (betaRow)
    ChunkLoadOp::create(b, loc, args.beta, batch, t, valueHead, c0, one,
                        FeatureMap::Identity, FloatAttr(), FloatAttr(),
                        betaRow);
  if (aRow)
    for (auto [input, dst] : {std::pair{args.a, aRow}, std::pair{args.b, bRow}})
      emitPerKeyLoad(b, loc, input, batch, t, valueHead, c0, one, FloatAttr(),
                     dst);
  // The first step reads h0; the later ones read the state they wrote.
  Value first = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, t,
                                      begin);
  Value source = arith::SelectOp::create(b, loc, first, stateIn, stateOut);
  RecurrentStepOp::create(b, loc, qRow, kRow, vRow, gates, betaRow, bonus,
                          aRow, bRow, source, stateOut, oRow);
  if (zState) {
    RecurrentStepOp::create(b, loc, qRow, kRow, onesRow, gates, betaRow, bonus,
                            aRow, bRow, zState, zState, zRow);
    ChunkNormalizeOp::create(b, loc, zRow, oRow,
                             b.getF32FloatAttr(op.getEffectiveEps()));
  }
  ChunkStoreOp::create(b, loc, oRow, args.o, batch, t, valueHead, col, one);
}

void ChunkLowering::buildTaskFunction(func::FuncOp task, const TaskArgs &args) {
  OpBuilder b = OpBuilder::atBlockBegin(&task.getBody().front());
  Location loc = op.getLoc();
  // task = (seq * HV + valueHead) * tiles + tile
  Value tiles = arith::ConstantIndexOp::create(b, loc, valueDim / valueTile);
  Value valueHeads = memref::DimOp::create(b, loc, args.v, 2);
  Value heads = memref::DimOp::create(b, loc, args.q, 2);
  Value perSeq = arith::MulIOp::create(b, loc, valueHeads, tiles);
  Value seq = arith::DivUIOp::create(b, loc, args.task, perSeq);
  Value rest = arith::RemUIOp::create(b, loc, args.task, perSeq);
  Value valueHead = arith::DivUIOp::create(b, loc, rest, tiles);
  Value col = arith::MulIOp::create(
      b, loc, arith::RemUIOp::create(b, loc, rest, tiles),
      arith::ConstantIndexOp::create(b, loc, valueTile));
  // GQA/GVA: query/key head h serves value heads h*G .. h*G+G-1.
  Value group = arith::DivUIOp::create(b, loc, valueHeads, heads);
  Value head = arith::DivUIOp::create(b, loc, valueHead, group);

  Value batch = seq, slot = seq, begin, end;
  if (args.cuSeqlens) {
    batch = arith::ConstantIndexOp::create(b, loc, 0);
    auto offset = [&](Value index) -> Value {
      Value raw = memref::LoadOp::create(b, loc, args.cuSeqlens, index);
      return arith::IndexCastOp::create(b, loc, b.getIndexType(), raw);
    };
    begin = offset(seq);
    end = offset(
        arith::AddIOp::create(b, loc, seq,
                              arith::ConstantIndexOp::create(b, loc, 1)));
  } else {
    begin = arith::ConstantIndexOp::create(b, loc, 0);
    end = memref::DimOp::create(b, loc, args.q, 1);
  }

  // A pool: the sequence's slot, if state_indices names one in [0, P).
  // Anything else (-1 is the usual padding row) turns the sequence into an
  // empty one whose o rows are zeroed; the slot is clamped to 0 so that no
  // address outside the pool is ever formed. On CUDA this is also the only
  // check of the indices, which validation cannot read in device memory.
  TaskArgs bound = args;
  if (args.stateIndices) {
    Value raw = memref::LoadOp::create(b, loc, args.stateIndices, seq);
    Value index = arith::IndexCastOp::create(b, loc, b.getIndexType(), raw);
    Value pool = memref::DimOp::create(b, loc, args.h0, 0);
    Value inPool = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult,
                                         index, pool);
    slot = arith::SelectOp::create(b, loc, inPool, index,
                                   arith::ConstantIndexOp::create(b, loc, 0));
    bound.inPool = inPool;
    bound.padEnd = arith::SelectOp::create(b, loc, inPool, begin, end);
    end = arith::SelectOp::create(b, loc, inPool, end, begin);
  }

  if (schedule.getAlgorithm() == Algorithm::Recurrent) {
    Value in = stateWindow(b, loc, args.h0, slot, valueHead, col);
    Value out = stateWindow(b, loc, args.ht, slot, valueHead, col);
    emitRecurrent(b, loc, bound, batch, begin, end, head, valueHead, col, in,
                  out);
  } else {
    emitChunked(b, loc, bound, slot, batch, begin, end, head, valueHead, col);
  }
  func::ReturnOp::create(b, loc);
}

LogicalResult ChunkLowering::run() {
  featureKeys = op.getStateKeyDim();
  inputKeys = cast<RankedTensorType>(op.getQ().getType()).getDimSize(3);
  keyDim = featureKeys;
  if (op.getFeatureMap() == FeatureMap::Taylor2 &&
      schedule.getVectorWidth() > 0)
    keyDim = llvm::alignTo(featureKeys, schedule.getVectorWidth());
  valueDim = cast<RankedTensorType>(op.getV().getType()).getDimSize(3);
  valueTile = schedule.getValueTile() > 0 ? schedule.getValueTile() : valueDim;
  if (failed(checkSupported()))
    return failure();
  const bool decode = schedule.getAlgorithm() == Algorithm::Recurrent;
  if (decode && (!op.getH0() || !op.getHt()))
    return op.emitOpError() << "decode needs both h0 and ht (the state it "
                               "updates)";
  if (decode && op.getCuSeqlens())
    return op.emitOpError() << "decode does not take cu_seqlens";

  // Arguments of the task function: the tensor arguments and results in
  // signature order, then a presence flag per optional state tensor, then
  // the task index.
  MLIRContext *ctx = func.getContext();
  SmallVector<Type> types;
  SmallVector<Attribute> names;
  SmallVector<std::pair<StringRef, unsigned>> roles;
  auto addBuffer = [&](Type type, DictionaryAttr attrs) {
    auto name = attrs ? attrs.getAs<StringAttr>("linac.arg") : StringAttr();
    roles.push_back({name ? name.getValue() : StringRef(), types.size()});
    names.push_back(name ? name : StringAttr::get(ctx, ""));
    types.push_back(bufferTypeOf(
        cast<RankedTensorType>(type),
        name && isHeadMajor(func->getParentOfType<ModuleOp>(),
                            name.getValue())));
  };
  for (unsigned i = 0, e = func.getNumArguments(); i < e; ++i)
    addBuffer(func.getArgumentTypes()[i], func.getArgAttrDict(i));
  for (unsigned i = 0, e = func.getNumResults(); i < e; ++i)
    addBuffer(func.getResultTypes()[i], func.getResultAttrDict(i));
  const unsigned numBuffers = types.size();
  for (auto [name, index] : roles)
    if (name.empty())
      return func.emitOpError()
             << "argument or result " << index
             << " has no linac.arg name (q, k, v, g, beta, a, b, u, h0, "
                "cu_seqlens, state_indices, o, ht)";

  auto find = [&](StringRef name) -> int {
    for (auto [role, index] : roles)
      if (role == name)
        return index;
    return -1;
  };
  // The names decide which buffer plays which role, so they must match the
  // operands the recurrence actually reads (a swapped name would silently
  // compute something else), and the required ones must exist.
  for (auto [role, operand] :
       {std::pair<StringRef, Value>{"q", op.getQ()}, {"k", op.getK()},
        {"v", op.getV()}, {"g", op.getG()}, {"beta", op.getBeta()},
        {"a", op.getA()}, {"b", op.getB()}, {"u", op.getU()},
        {"h0", op.getH0()},
        {"cu_seqlens", op.getCuSeqlens()},
        {"state_indices", op.getStateIndices()}}) {
    int index = find(role);
    auto arg = dyn_cast_or_null<BlockArgument>(operand);
    if (operand && (index < 0 || !arg || arg.getArgNumber() != unsigned(index)))
      return op.emitOpError()
             << "operand '" << role << "' must be the function argument "
             << "named linac.arg = \"" << role << "\"";
    if (!operand && index >= 0)
      return func.emitOpError() << "has an argument named '" << role
                                << "' that the recurrence does not use";
  }
  if (find("o") < 0)
    return func.emitOpError() << "result 0 must be named linac.arg = \"o\"";
  // A pool's h0 and ht are always there: the call reads and updates it.
  const bool optionalState = !decode && !op.getStateIndices();
  if (optionalState && find("h0") >= 0)
    types.push_back(IntegerType::get(ctx, 1));
  if (optionalState && find("ht") >= 0)
    types.push_back(IntegerType::get(ctx, 1));
  types.push_back(IndexType::get(ctx));

  OpBuilder b(func);
  Location loc = func.getLoc();
  auto task = func::FuncOp::create(b, loc, (func.getSymName() + "_task").str(),
                                   FunctionType::get(ctx, types, {}));
  auto count = func::FuncOp::create(
      b, loc, (func.getSymName() + "_tasks").str(),
      FunctionType::get(ctx, ArrayRef<Type>(types).take_front(numBuffers),
                        {IndexType::get(ctx)}));
  for (func::FuncOp f : {task, count}) {
    f.setPrivate();
    f.addEntryBlock();
  }

  // Metadata for the ABI pass and the manifest.
  task->setAttr("linac.kernel", StringAttr::get(ctx, func.getSymName()));
  task->setAttr("linac.tensors", ArrayAttr::get(ctx, names));
  task->setAttr("linac.mode",
                StringAttr::get(ctx, decode ? "decode" : "prefill"));
  if (auto variant = func->getAttrOfType<StringAttr>("linac.variant"))
    task->setAttr("linac.variant", variant);
  task->setAttr("linac.schedule", schedule);

  auto bind = [&](func::FuncOp f) {
    TaskArgs args;
    Block &entry = f.getBody().front();
    auto get = [&](StringRef name) -> Value {
      int index = find(name);
      return index >= 0 ? entry.getArgument(index) : Value();
    };
    args.q = get("q");
    args.k = get("k");
    args.v = get("v");
    args.g = get("g");
    args.beta = get("beta");
    args.u = get("u");
    args.a = get("a");
    args.b = get("b");
    args.h0 = get("h0");
    args.cuSeqlens = get("cu_seqlens");
    args.stateIndices = get("state_indices");
    args.o = get("o");
    args.ht = get("ht");
    if (f == task) {
      unsigned next = numBuffers;
      if (optionalState && args.h0)
        args.hasH0 = entry.getArgument(next++);
      if (optionalState && args.ht)
        args.hasHt = entry.getArgument(next++);
      args.task = entry.getArgument(next);
    }
    return args;
  };
  buildTaskFunction(task, bind(task));
  buildTaskCount(count, bind(count));
  if (failed(checkStack(task)))
    return failure();
  func.erase();
  return success();
}

LogicalResult ChunkLowering::checkStack(func::FuncOp task) {
  // GPU tasks keep their tiles in shared memory, which linac-gpu-map
  // budgets; a CPU task's tiles are stack allocations on whatever thread
  // runs it (a pool worker's default 8 MiB, or the caller's).
  if (schedule.getVectorWidth() <= 0)
    return success();
  uint64_t bytes = 0;
  task.walk([&](memref::AllocaOp alloca) {
    uint64_t tile = 4, total;
    for (int64_t dim : alloca.getType().getShape())
      if (__builtin_mul_overflow(tile, static_cast<uint64_t>(dim), &tile))
        tile = UINT64_MAX;
    bytes = __builtin_add_overflow(bytes, tile, &total) ? UINT64_MAX : total;
  });
  if (bytes <= kCpuStackBudget)
    return success();
  return op.emitOpError()
         << "needs " << (bytes == UINT64_MAX ? std::string("more than 2^64")
                                             : std::to_string(bytes >> 10))
         << " KiB of tiles per task (K' = " << featureKeys << ", value tile "
         << valueTile << ", chunk " << schedule.getChunkSize()
         << "), more than the " << (kCpuStackBudget >> 20)
         << " MiB of stack a CPU task may use; choose a smaller chunk_size "
            "or head dims";
}

struct ChunkPass : linac::impl::LinacChunkBase<ChunkPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<std::pair<func::FuncOp, RecurrenceOp>> work;
    WalkResult result = module.walk([&](RecurrenceOp op) {
      auto schedule = op->getAttrOfType<ScheduleAttr>("linac.schedule");
      if (!schedule) {
        op.emitOpError() << "has no linac.schedule; run linac-select first";
        return WalkResult::interrupt();
      }
      auto func = dyn_cast_or_null<func::FuncOp>(op->getParentOp());
      // The function must be exactly `return linac.recurrence(args)`.
      Block *body = func ? &func.getBody().front() : nullptr;
      auto ret = body ? dyn_cast<func::ReturnOp>(body->getTerminator())
                      : func::ReturnOp();
      if (!func || &body->front() != op.getOperation() || !ret ||
          ret.getOperands() != op->getResults() ||
          !llvm::all_of(op->getOperands(), [&](Value v) {
            return isa<BlockArgument>(v) &&
                   cast<BlockArgument>(v).getOwner() == body;
          })) {
        op.emitOpError() << "must be the whole body of its function (return "
                            "linac.recurrence over the arguments) to be "
                            "chunked";
        return WalkResult::interrupt();
      }
      work.push_back({func, op});
      return WalkResult::advance();
    });
    if (result.wasInterrupted())
      return signalPassFailure();
    for (auto [func, op] : work) {
      auto schedule = op->getAttrOfType<ScheduleAttr>("linac.schedule");
      if (failed(ChunkLowering(func, op, schedule).run()))
        return signalPassFailure();
    }
  }
};

} // namespace
