//===- LinacChunkOps.cpp - verifiers of the chunked-scan ops --------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// The chunked-scan ops work on static f32 tiles. Their verifiers check that
// the tiles agree (C rows per chunk, K keys, Vt value columns, G gate columns
// with G in {1, K}) so that the vectorizer can read the tile shapes without
// checking them again.
//
//===----------------------------------------------------------------------===//

#include "linac/Dialect/Linac/IR/LinacOps.h"

#include <cmath>

using namespace mlir;
using namespace linac;

namespace {

/// Shape of a verified tile: rows x cols, both static.
struct TileShape {
  int64_t rows, cols;
};

/// Checks that `value` is a static 2-D tile with unit inner stride and
/// returns its shape; `rows`/`cols` of -1 accept any size.
FailureOr<TileShape> checkTile(Operation *op, Value value, StringRef name,
                               int64_t rows = -1, int64_t cols = -1) {
  auto type = cast<MemRefType>(value.getType());
  if (!type.hasStaticShape())
    return op->emitOpError() << "'" << name << "' must have a static shape, got "
                             << type;
  int64_t offset;
  SmallVector<int64_t> strides;
  if (failed(type.getStridesAndOffset(strides, offset)) || strides.back() != 1)
    return op->emitOpError() << "'" << name
                             << "' must have a unit stride in its last "
                                "dimension, got "
                             << type;
  TileShape shape{type.getDimSize(0), type.getDimSize(1)};
  if ((rows >= 0 && shape.rows != rows) || (cols >= 0 && shape.cols != cols)) {
    auto diag = op->emitOpError() << "'" << name << "' must be ";
    diag << (rows >= 0 ? std::to_string(rows) : std::string("?")) << "x"
         << (cols >= 0 ? std::to_string(cols) : std::string("?"))
         << ", got " << shape.rows << "x" << shape.cols;
    return diag;
  }
  return shape;
}

/// Gates are C x G with G = 1 (scalar decay) or G = K (diagonal decay).
LogicalResult checkGates(Operation *op, ValueRange gates, size_t expected,
                         StringRef what, int64_t rows, int64_t keys) {
  if (!gates.empty() && gates.size() != expected)
    return op->emitOpError() << "expects no gates or " << expected
                             << " gate tiles (" << what << "), got "
                             << gates.size();
  int64_t cols = -1;
  for (Value gate : gates) {
    auto shape = checkTile(op, gate, "gates", rows);
    if (failed(shape))
      return failure();
    if (shape->cols != 1 && shape->cols != keys)
      return op->emitOpError() << "gate tiles must have 1 or " << keys
                               << " columns, got " << shape->cols;
    if (cols >= 0 && shape->cols != cols)
      return op->emitOpError() << "gate tiles must all have the same shape";
    cols = shape->cols;
  }
  return success();
}

LogicalResult checkSubChunk(Operation *op, int64_t rows, int64_t subChunk) {
  if (rows % subChunk != 0)
    return op->emitOpError() << "sub_chunk " << subChunk
                             << " must divide the chunk length " << rows;
  return success();
}

/// A [B, T, H, D] argument tensor of f32, f16 or bf16 read or written by
/// chunk_load/chunk_store, and the tile it exchanges rows with.
LogicalResult checkRowTransfer(Operation *op, Value buffer, Value tile) {
  auto type = cast<MemRefType>(buffer.getType());
  if (type.getRank() != 4 && type.getRank() != 3)
    return op->emitOpError()
           << "expects a [B, T, H, D] or [B, T, H] tensor, got " << type;
  Type element = type.getElementType();
  if (!element.isF32() && !element.isF16() && !element.isBF16())
    return op->emitOpError() << "expects f32, f16 or bf16 elements, got "
                             << element;
  auto shape = checkTile(op, tile, "tile");
  if (failed(shape))
    return failure();
  if (type.getRank() == 3 && shape->cols != 1)
    return op->emitOpError() << "a [B, T, H] tensor moves 1 column per row, "
                                "but the tile has "
                             << shape->cols;
  if (type.getRank() == 4 && !type.isDynamicDim(3) &&
      type.getDimSize(3) < shape->cols)
    return op->emitOpError() << "tile has " << shape->cols
                             << " columns but the tensor rows have only "
                             << type.getDimSize(3);
  return success();
}

} // namespace

LogicalResult TileZeroOp::verify() {
  return checkTile(*this, getDst(), "dst");
}

LogicalResult TileCopyOp::verify() {
  auto src = checkTile(*this, getSrc(), "src");
  if (failed(src))
    return failure();
  return checkTile(*this, getDst(), "dst", src->rows, src->cols);
}

LogicalResult ChunkLoadOp::verify() {
  return checkRowTransfer(*this, getSrc(), getDst());
}

LogicalResult ChunkStoreOp::verify() {
  return checkRowTransfer(*this, getDst(), getSrc());
}

LogicalResult ChunkGatesOp::verify() {
  auto g = checkTile(*this, getG(), "g");
  if (failed(g))
    return failure();
  for (auto [value, name] : {std::pair{getDecay(), "decay"},
                             std::pair{getPrefix(), "prefix"},
                             std::pair{getSuffix(), "suffix"}})
    if (failed(checkTile(*this, value, name, g->rows, g->cols)))
      return failure();
  return checkSubChunk(*this, g->rows, getSubChunk());
}

LogicalResult ChunkScoresOp::verify() {
  auto q = checkTile(*this, getQ(), "q");
  if (failed(q) || failed(checkTile(*this, getK(), "k", q->rows, q->cols)) ||
      failed(checkTile(*this, getScores(), "scores", q->rows, q->rows)) ||
      failed(checkGates(*this, getGates(), 3, "decay, prefix, suffix", q->rows,
                        q->cols)))
    return failure();
  return checkSubChunk(*this, q->rows, getSubChunk());
}

LogicalResult ChunkAttendOp::verify() {
  auto scores = checkTile(*this, getScores(), "scores");
  if (failed(scores))
    return failure();
  if (scores->rows != scores->cols)
    return emitOpError() << "'scores' must be square, got " << scores->rows
                         << "x" << scores->cols;
  auto v = checkTile(*this, getV(), "v", scores->rows);
  if (failed(v))
    return failure();
  return checkTile(*this, getO(), "o", scores->rows, v->cols);
}

LogicalResult ChunkInterOp::verify() {
  auto q = checkTile(*this, getQ(), "q");
  if (failed(q))
    return failure();
  auto state = checkTile(*this, getState(), "state", q->cols);
  if (failed(state) ||
      failed(checkTile(*this, getO(), "o", q->rows, state->cols)) ||
      failed(checkGates(*this, getGates(), 1, "prefix", q->rows, q->cols)))
    return failure();
  return checkSubChunk(*this, q->rows, getSubChunk());
}

LogicalResult ChunkStateUpdateOp::verify() {
  auto k = checkTile(*this, getK(), "k");
  if (failed(k))
    return failure();
  auto v = checkTile(*this, getV(), "v", k->rows);
  if (failed(v) ||
      failed(checkTile(*this, getState(), "state", k->cols, v->cols)) ||
      failed(checkGates(*this, getGates(), 2, "prefix, suffix", k->rows,
                        k->cols)))
    return failure();
  if (bool(getB()) != bool(getW()))
    return emitOpError() << "takes 'b' and 'w' together";
  if (getB() && (failed(checkTile(*this, getB(), "b", k->rows, k->cols)) ||
                 failed(checkTile(*this, getW(), "w", k->rows, v->cols))))
    return failure();
  return checkSubChunk(*this, k->rows, getSubChunk());
}

LogicalResult ChunkDplrSolveOp::verify() {
  auto ab = checkTile(*this, getAb(), "ab");
  if (failed(ab))
    return failure();
  if (ab->rows != ab->cols)
    return emitOpError() << "'ab' must be square, got " << ab->rows << "x"
                         << ab->cols;
  auto rhs = checkTile(*this, getRhs(), "rhs", ab->rows);
  if (failed(rhs) ||
      failed(checkTile(*this, getW(), "w", ab->rows, rhs->cols)))
    return failure();
  return success();
}

LogicalResult RecurrentStepOp::verify() {
  auto q = checkTile(*this, getQ(), "q", 1);
  if (failed(q) || failed(checkTile(*this, getK(), "k", 1, q->cols)))
    return failure();
  auto v = checkTile(*this, getV(), "v", 1);
  if (failed(v) || failed(checkTile(*this, getO(), "o", 1, v->cols)) ||
      failed(checkTile(*this, getStateIn(), "state_in", q->cols, v->cols)) ||
      failed(checkTile(*this, getStateOut(), "state_out", q->cols, v->cols)) ||
      failed(checkGates(*this, getGates(), 1, "decay", 1, q->cols)))
    return failure();
  if (Value beta = getBeta())
    if (failed(checkTile(*this, beta, "beta", 1, 1)))
      return failure();
  if (bool(getA()) != bool(getB()))
    return emitOpError() << "takes 'a' and 'b' together";
  if (getA()) {
    if (getBeta() || getBonus())
      return emitOpError() << "takes a dplr transition ('a', 'b') without "
                              "'beta' or 'bonus'";
    if (failed(checkTile(*this, getA(), "a", 1, q->cols)) ||
        failed(checkTile(*this, getB(), "b", 1, q->cols)))
      return failure();
  }
  if (Value bonus = getBonus()) {
    if (getBeta())
      return emitOpError() << "takes either 'beta' (a delta write) or "
                              "'bonus' (rwkv6's output), not both";
    return checkTile(*this, bonus, "bonus", 1, q->cols);
  }
  return success();
}

LogicalResult TileShiftRowsOp::verify() {
  auto src = checkTile(*this, getSrc(), "src");
  if (failed(src) ||
      failed(checkTile(*this, getDst(), "dst", src->rows, src->cols)) ||
      failed(checkTile(*this, getCarry(), "carry", 1, src->cols)))
    return failure();
  if (getSrc() == getDst())
    return emitOpError() << "'src' and 'dst' must be distinct tiles";
  return success();
}

LogicalResult TileTaylor2Op::verify() {
  auto x = checkTile(*this, getX(), "x");
  if (failed(x))
    return failure();
  auto phi = checkTile(*this, getPhi(), "phi", x->rows);
  if (failed(phi))
    return failure();
  // 1 + K + K^2 in 64 bits: K is at most the tile's static size, and a
  // K beyond 2^31 cannot have a phi tile wide enough anyway.
  const int64_t k = x->cols;
  if (k > (int64_t(1) << 31) || phi->cols < 1 + k + k * k)
    return emitOpError() << "'phi' needs at least 1 + K + K^2 = "
                         << (k > (int64_t(1) << 31)
                                 ? std::string("more than 2^62")
                                 : std::to_string(1 + k + k * k))
                         << " columns for K = " << k << ", got " << phi->cols;
  return success();
}

LogicalResult ChunkBonusOp::verify() {
  auto q = checkTile(*this, getQ(), "q");
  if (failed(q) || failed(checkTile(*this, getK(), "k", q->rows, q->cols)) ||
      failed(checkTile(*this, getU(), "u", 1, q->cols)))
    return failure();
  auto v = checkTile(*this, getV(), "v", q->rows);
  if (failed(v))
    return failure();
  return checkTile(*this, getO(), "o", q->rows, v->cols);
}

LogicalResult ChunkNormalizeOp::verify() {
  auto o = checkTile(*this, getO(), "o");
  if (failed(o) || failed(checkTile(*this, getDen(), "den", o->rows)))
    return failure();
  float eps = getEps().convertToFloat();
  if (!(eps > 0.0f) || !std::isfinite(eps))
    return emitOpError() << "'eps' must be finite and positive; got " << eps;
  return success();
}

LogicalResult ChunkDeltaSolveOp::verify() {
  auto kk = checkTile(*this, getKk(), "kk");
  if (failed(kk))
    return failure();
  if (kk->rows != kk->cols)
    return emitOpError() << "'kk' must be square, got " << kk->rows << "x"
                         << kk->cols;
  auto v = checkTile(*this, getV(), "v", kk->rows);
  if (failed(v) || failed(checkTile(*this, getBeta(), "beta", kk->rows, 1)) ||
      failed(checkTile(*this, getKs(), "ks", kk->rows, v->cols)) ||
      failed(checkTile(*this, getU(), "u", kk->rows, v->cols)))
    return failure();
  return success();
}
