//===- VectorizeCPU.cpp - chunked-scan ops to vector register tiles -------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// Lowers every chunked-scan op to scf loops over vector ops of the target's
// width (16 f32 lanes for AVX-512, 8 for AVX2), on memrefs:
//
// - the three matmul-shaped ops (chunk_inter, chunk_attend, the off-diagonal
//   blocks of chunk_scores, chunk_state_update) share one register-tiled
//   outer-product kernel: an MR x NR block of accumulators stays in vector
//   registers across the reduction, each step broadcasting MR scalars of the
//   left operand and loading NR vectors of the right one;
// - chunk_scores' diagonal blocks take the running product of the decays pair
//   by pair (exactly what the recurrence does), with one dot product each;
// - chunk_gates, loads, stores and tile copies are row loops of vectors.
//
// Scratch tiles an op needs are stack allocations hoisted to the entry of
// the function, so loops never grow the stack. `math.exp` is expanded into
// its polynomial approximation here, so the vector code needs no libm
// (l2norm's scalar `math.rsqrt` stays and becomes a square root and a
// division in LLVM).
//
//===----------------------------------------------------------------------===//

#include "linac/Dialect/Linac/IR/LinacOps.h"
#include "linac/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

namespace linac {
#define GEN_PASS_DEF_LINACVECTORIZECPU
#include "linac/Passes/Passes.h.inc"
} // namespace linac

using namespace mlir;
using namespace linac;

namespace {

int64_t rowsOf(Value tile) {
  return cast<MemRefType>(tile.getType()).getDimSize(0);
}
int64_t colsOf(Value tile) {
  return cast<MemRefType>(tile.getType()).getDimSize(1);
}

/// Emits the loops of one op. `width` is the vector width in f32 lanes.
class Emitter {
public:
  Emitter(Operation *op, int64_t width)
      : b(op->getLoc(), op), width(width),
        entry(&op->getParentOfType<func::FuncOp>().getBody().front()) {}

  //===--- Small helpers --------------------------------------------------===//

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, x, y); }
  Value add(Value x, int64_t y) { return y == 0 ? x : add(x, idx(y)); }
  Value mul(Value x, int64_t y) { return arith::MulIOp::create(b, x, idx(y)); }
  VectorType vec(int64_t lanes) {
    return VectorType::get({lanes}, b.getF32Type());
  }
  Value splat(float value, int64_t lanes) {
    return arith::ConstantOp::create(
        b, DenseElementsAttr::get(vec(lanes), b.getF32FloatAttr(value)));
  }
  Value broadcast(Value scalar, int64_t lanes) {
    return vector::BroadcastOp::create(b, vec(lanes), scalar);
  }
  Value load(Value tile, Value row, Value col, int64_t lanes) {
    return vector::LoadOp::create(b, vec(lanes), tile, ValueRange{row, col});
  }
  void store(Value value, Value tile, Value row, Value col) {
    vector::StoreOp::create(b, value, tile, ValueRange{row, col});
  }
  Value scalar(Value tile, Value row, Value col) {
    return memref::LoadOp::create(b, tile, ValueRange{row, col});
  }
  Value mulf(Value x, Value y) { return arith::MulFOp::create(b, x, y); }
  Value fma(Value x, Value y, Value acc) {
    return vector::FMAOp::create(b, x, y, acc);
  }
  /// The sum of a vector's lanes, in any order (a shuffle tree rather than a
  /// chain of dependent adds).
  Value sum(Value x) {
    auto reduce = vector::ReductionOp::create(b, vector::CombiningKind::ADD, x);
    reduce.setFastmathAttr(arith::FastMathFlagsAttr::get(
        b.getContext(), arith::FastMathFlags::reassoc));
    return reduce;
  }
  /// Lanes used on rows of `cols` columns: the full width when it divides
  /// them, else one (gate tiles of scalar decays have a single column).
  int64_t lanesFor(int64_t cols) { return cols % width == 0 ? width : 1; }

  /// A gate value for row `row` and key columns [col, col + lanes): a vector
  /// for per-key gates, the row's scalar broadcast otherwise.
  Value gate(Value tile, Value row, Value col, int64_t lanes) {
    if (colsOf(tile) == 1)
      return broadcast(scalar(tile, row, idx(0)), lanes);
    return load(tile, row, col, lanes);
  }

  /// A scratch tile allocated once at function entry.
  Value scratch(int64_t rows, int64_t cols) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(entry);
    return memref::AllocaOp::create(
        b, MemRefType::get({rows, cols}, b.getF32Type()));
  }

  /// scf.for with an optional set of loop-carried values; `body` returns the
  /// values to yield (none when `init` is empty).
  SmallVector<Value>
  forLoop(Value lb, Value ub, Value step, ValueRange init,
          function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto loop = scf::ForOp::create(b, lb, ub, step, init);
    OpBuilder::InsertionGuard guard(b);
    Block *block = loop.getBody();
    if (init.empty()) {
      b.setInsertionPoint(block->getTerminator());
      body(loop.getInductionVar(), {});
    } else {
      b.setInsertionPointToEnd(block);
      SmallVector<Value> yields =
          body(loop.getInductionVar(), loop.getRegionIterArgs());
      scf::YieldOp::create(b, yields);
    }
    return SmallVector<Value>(loop.getResults());
  }
  void forLoop(int64_t lb, int64_t ub, int64_t step,
               function_ref<void(Value)> body) {
    forLoop(idx(lb), idx(ub), idx(step), {}, [&](Value iv, ValueRange) {
      body(iv);
      return SmallVector<Value>();
    });
  }

  /// For every row and vector of columns of a rows x cols tile.
  void forEachVector(Value rowsUb, int64_t cols, int64_t lanes,
                     function_ref<void(Value, Value)> body) {
    forLoop(idx(0), rowsUb, idx(1), {}, [&](Value row, ValueRange) {
      forLoop(0, cols, lanes, [&](Value col) { body(row, col); });
      return SmallVector<Value>();
    });
  }

  //===--- The register-tiled matmul ----------------------------------------===//

  /// c[cRow + m, cCol + n] (+)= sum_kk a(m, kk) * bt[bRow + kk, bCol + n]
  /// (`m` counts from 0 within the block: `a` adds its own row offset)
  /// for m < rows, n < cols, kk < reduce(m0) (the reduction bound of the
  /// row block starting at m0; a triangular operand ends early).
  void matmul(Value c, Value cRow, Value cCol, int64_t rows, int64_t cols,
              function_ref<Value(Value m0)> reduce,
              function_ref<Value(Value m, Value kk)> a, Value bt, Value bRow,
              Value bCol, bool accumulate) {
    const int64_t lanes = lanesFor(cols);
    const int64_t vectors = cols / lanes;
    int64_t nr = 1;
    for (int64_t candidate : {4, 3, 2, 1})
      if (vectors % candidate == 0) {
        nr = candidate;
        break;
      }
    int64_t mr = 1;
    for (int64_t candidate : {8, 6, 4, 2, 1})
      if (rows % candidate == 0 && candidate * nr <= 24) {
        mr = candidate;
        break;
      }
    forLoop(0, rows, mr, [&](Value m0) {
      Value kEnd = reduce(m0);
      forLoop(0, cols, nr * lanes, [&](Value n0) {
        SmallVector<Value> init;
        for (int64_t r = 0; r < mr; ++r)
          for (int64_t v = 0; v < nr; ++v)
            init.push_back(accumulate ? load(c, add(cRow, add(m0, r)),
                                             add(cCol, add(n0, v * lanes)),
                                             lanes)
                                      : splat(0.0f, lanes));
        SmallVector<Value> acc = forLoop(
            idx(0), kEnd, idx(1), init, [&](Value kk, ValueRange iters) {
              SmallVector<Value> bv;
              for (int64_t v = 0; v < nr; ++v)
                bv.push_back(load(bt, add(bRow, kk),
                                  add(bCol, add(n0, v * lanes)), lanes));
              SmallVector<Value> next;
              for (int64_t r = 0; r < mr; ++r) {
                Value av = broadcast(a(add(m0, r), kk), lanes);
                for (int64_t v = 0; v < nr; ++v)
                  next.push_back(fma(av, bv[v], iters[r * nr + v]));
              }
              return next;
            });
        for (int64_t r = 0; r < mr; ++r)
          for (int64_t v = 0; v < nr; ++v)
            store(acc[r * nr + v], c, add(cRow, add(m0, r)),
                  add(cCol, add(n0, v * lanes)));
      });
    });
  }

  ImplicitLocOpBuilder b;
  int64_t width;
  Block *entry;
};

//===----------------------------------------------------------------------===//
// Per-op lowerings
//===----------------------------------------------------------------------===//

void lower(TileZeroOp op, Emitter &e) {
  int64_t lanes = e.lanesFor(colsOf(op.getDst()));
  Value zero = e.splat(0.0f, lanes);
  e.forEachVector(e.idx(rowsOf(op.getDst())), colsOf(op.getDst()), lanes,
                  [&](Value r, Value c) { e.store(zero, op.getDst(), r, c); });
}

void lower(TileCopyOp op, Emitter &e) {
  int64_t lanes = e.lanesFor(colsOf(op.getDst()));
  e.forEachVector(e.idx(rowsOf(op.getDst())), colsOf(op.getDst()), lanes,
                  [&](Value r, Value c) {
                    e.store(e.load(op.getSrc(), r, c, lanes), op.getDst(), r,
                            c);
                  });
}

/// exp(x) for a vector of f32.
Value expOf(Emitter &e, Value x) { return math::ExpOp::create(e.b, x); }

Value applyFeatureMap(Emitter &e, FeatureMap map, Value x, int64_t lanes) {
  auto &b = e.b;
  switch (map) {
  case FeatureMap::Identity:
  case FeatureMap::L2Norm: // Per row; handled by the caller.
  case FeatureMap::Taylor2: // Rejected by linac-chunk.
    return x;
  case FeatureMap::Relu:
    return arith::MaximumFOp::create(b, x, e.splat(0.0f, lanes));
  case FeatureMap::EluPlusOne: {
    Value positive = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, x,
                                           e.splat(0.0f, lanes));
    Value plusOne = arith::AddFOp::create(b, x, e.splat(1.0f, lanes));
    return arith::SelectOp::create(b, positive, plusOne, expOf(e, x));
  }
  case FeatureMap::Silu: {
    Value negExp = expOf(e, arith::NegFOp::create(b, x));
    Value denom = arith::AddFOp::create(b, negExp, e.splat(1.0f, lanes));
    return arith::DivFOp::create(b, x, denom);
  }
  }
  return x;
}

void lower(ChunkLoadOp op, Emitter &e) {
  auto &b = e.b;
  Value dst = op.getDst();
  const int64_t rows = rowsOf(dst), cols = colsOf(dst);
  const int64_t lanes = e.lanesFor(cols);
  auto srcType = cast<MemRefType>(op.getSrc().getType());
  Type element = srcType.getElementType();
  const bool rank3 = srcType.getRank() == 3;

  // Reads `lanes` columns of row `r`, converted to f32.
  auto read = [&](Value r, Value c) -> Value {
    Value t = e.add(op.getStart(), Value(r));
    if (rank3) {
      Value s = memref::LoadOp::create(
          b, op.getSrc(), ValueRange{op.getBatch(), t, op.getHead()});
      if (!element.isF32())
        s = arith::ExtFOp::create(b, b.getF32Type(), s);
      return e.broadcast(s, lanes);
    }
    Value x = vector::LoadOp::create(
        b, VectorType::get({lanes}, element), op.getSrc(),
        ValueRange{op.getBatch(), t, op.getHead(), e.add(op.getCol(), c)});
    if (!element.isF32())
      x = arith::ExtFOp::create(b, e.vec(lanes), x);
    return x;
  };

  e.forLoop(e.idx(0), op.getLen(), e.idx(1), {}, [&](Value r, ValueRange) {
    Value rowScale;
    if (op.getFeatureMap() == FeatureMap::L2Norm) {
      // x / sqrt(sum(x^2) + 1e-6), as the oracle.
      SmallVector<Value> sum = e.forLoop(
          e.idx(0), e.idx(cols), e.idx(lanes), {e.splat(0.0f, lanes)},
          [&](Value c, ValueRange acc) -> SmallVector<Value> {
            Value x = read(r, c);
            return {e.fma(x, x, acc[0])};
          });
      Value total = arith::AddFOp::create(
          b, e.sum(sum[0]),
          arith::ConstantOp::create(b, b.getF32FloatAttr(1e-6f)));
      rowScale = math::RsqrtOp::create(b, total);
    }
    e.forLoop(0, cols, lanes, [&](Value c) {
      Value x = applyFeatureMap(e, op.getFeatureMap(), read(r, c), lanes);
      if (rowScale)
        x = e.mulf(x, e.broadcast(rowScale, lanes));
      if (auto scale = op.getScale())
        x = e.mulf(x, e.splat(scale->convertToFloat(), lanes));
      e.store(x, dst, r, c);
    });
    return SmallVector<Value>();
  });
  // Rows past the end of the sequence: zeros (or the pad value).
  float pad = op.getPad() ? op.getPad()->convertToFloat() : 0.0f;
  Value padVec = e.splat(pad, lanes);
  e.forLoop(op.getLen(), e.idx(rows), e.idx(1), {}, [&](Value r, ValueRange) {
    e.forLoop(0, cols, lanes, [&](Value c) { e.store(padVec, dst, r, c); });
    return SmallVector<Value>();
  });
}

void lower(ChunkStoreOp op, Emitter &e) {
  auto &b = e.b;
  Value src = op.getSrc();
  const int64_t cols = colsOf(src);
  const int64_t lanes = e.lanesFor(cols);
  auto dstType = cast<MemRefType>(op.getDst().getType());
  Type element = dstType.getElementType();
  e.forEachVector(op.getLen(), cols, lanes, [&](Value r, Value c) {
    Value x = e.load(src, r, c, lanes);
    if (!element.isF32())
      x = arith::TruncFOp::create(b, VectorType::get({lanes}, element), x);
    vector::StoreOp::create(b, x, op.getDst(),
                            ValueRange{op.getBatch(),
                                       e.add(op.getStart(), Value(r)),
                                       op.getHead(), e.add(op.getCol(), c)});
  });
}

void lower(ChunkGatesOp op, Emitter &e) {
  const int64_t rows = rowsOf(op.getG()), cols = colsOf(op.getG());
  const int64_t lanes = e.lanesFor(cols);
  const int64_t sub = op.getSubChunk();
  e.forLoop(0, cols, lanes, [&](Value c) {
    e.forLoop(0, rows, sub, [&](Value s0) {
      // Forward: decay and the inclusive prefix product.
      e.forLoop(e.idx(0), e.idx(sub), e.idx(1), {e.splat(1.0f, lanes)},
                [&](Value r, ValueRange acc) -> SmallVector<Value> {
                  Value row = e.add(s0, Value(r));
                  Value d = expOf(e, e.load(op.getG(), row, c, lanes));
                  e.store(d, op.getDecay(), row, c);
                  Value p = e.mulf(acc[0], d);
                  e.store(p, op.getPrefix(), row, c);
                  return {p};
                });
      // Backward: the exclusive suffix product.
      e.forLoop(e.idx(0), e.idx(sub), e.idx(1), {e.splat(1.0f, lanes)},
                [&](Value r, ValueRange acc) -> SmallVector<Value> {
                  Value row = arith::SubIOp::create(
                      e.b, e.add(s0, sub - 1), Value(r));
                  e.store(acc[0], op.getSuffix(), row, c);
                  return {e.mulf(acc[0], e.load(op.getDecay(), row, c, lanes))};
                });
    });
  });
}

/// dst[r] = src[r] * gate(r) * carry for the rows of each sub-chunk, carry
/// being the product of the sub-chunk totals (prefix of their last row)
/// seen so far, walking sub-chunks forward (from the chunk start) or
/// backward (from its end). Returns the final carry tile (1 x G).
Value scaleBySubChunks(Emitter &e, Value src, Value gateTile, Value prefix,
                       Value dst, int64_t sub, bool backward) {
  const int64_t rows = rowsOf(src), cols = colsOf(src);
  const int64_t lanes = e.lanesFor(cols);
  const int64_t gateCols = colsOf(prefix);
  Value carry = e.scratch(1, gateCols);
  const int64_t gateLanes = e.lanesFor(gateCols);
  Value c0 = e.idx(0);
  e.forLoop(0, gateCols, gateLanes, [&](Value c) {
    e.store(e.splat(1.0f, gateLanes), carry, c0, c);
  });
  const int64_t subs = rows / sub;
  e.forLoop(0, subs, 1, [&](Value s) {
    Value block = backward ? arith::SubIOp::create(e.b, e.idx(subs - 1), s)
                           : Value(s);
    Value s0 = e.mul(block, sub);
    e.forEachVector(e.idx(sub), cols, lanes, [&](Value r, Value c) {
      Value row = e.add(s0, r);
      Value factor = e.mulf(e.gate(gateTile, row, c, lanes),
                            e.gate(carry, c0, c, lanes));
      e.store(e.mulf(e.load(src, row, c, lanes), factor), dst, row, c);
    });
    Value last = e.add(s0, sub - 1);
    e.forLoop(0, gateCols, gateLanes, [&](Value c) {
      e.store(e.mulf(e.load(carry, c0, c, gateLanes),
                     e.load(prefix, last, c, gateLanes)),
              carry, c0, c);
    });
  });
  return carry;
}

void lower(ChunkInterOp op, Emitter &e) {
  Value q = op.getQ();
  const int64_t rows = rowsOf(q), keys = colsOf(q);
  if (!op.getGates().empty()) {
    Value prefix = op.getGates()[0];
    Value scaled = e.scratch(rows, keys);
    scaleBySubChunks(e, q, prefix, prefix, scaled, op.getSubChunk(),
                     /*backward=*/false);
    q = scaled;
  }
  Value c0 = e.idx(0);
  e.matmul(
      op.getO(), c0, c0, rows, colsOf(op.getO()),
      [&](Value) { return e.idx(keys); },
      [&](Value m, Value kk) { return e.scalar(q, m, kk); }, op.getState(),
      c0, c0, /*accumulate=*/false);
}

void lower(ChunkScoresOp op, Emitter &e) {
  auto &b = e.b;
  Value q = op.getQ(), k = op.getK(), scores = op.getScores();
  const int64_t rows = rowsOf(q), keys = colsOf(q);
  const int64_t sub = op.getSubChunk(), subs = rows / sub;
  const int64_t lanes = e.lanesFor(keys);
  const bool gated = !op.getGates().empty();
  Value decay, prefix, suffix;
  if (gated) {
    decay = op.getGates()[0];
    prefix = op.getGates()[1];
    suffix = op.getGates()[2];
  }
  Value c0 = e.idx(0);
  {
    int64_t scoreLanes = e.lanesFor(rows);
    Value zero = e.splat(0.0f, scoreLanes);
    e.forEachVector(e.idx(rows), rows, scoreLanes,
                    [&](Value r, Value c) { e.store(zero, scores, r, c); });
  }

  // Off-diagonal blocks (I > J): (q_I ⊙ decay from the end of J to i)
  // (k_J ⊙ decay from j to the end of J)ᵀ, with the transposed right
  // operand in scratch so that its rows are vectors.
  Value qf = q;
  Value kt = e.scratch(keys, rows);
  if (gated) {
    qf = e.scratch(rows, keys);
    e.forEachVector(e.idx(rows), keys, lanes, [&](Value r, Value c) {
      e.store(e.mulf(e.load(q, r, c, lanes), e.gate(prefix, r, c, lanes)), qf,
              r, c);
    });
  }
  e.forLoop(e.idx(0), e.idx(rows), e.idx(1), {}, [&](Value j, ValueRange) {
    e.forLoop(0, keys, 1, [&](Value c) {
      Value x = e.scalar(k, j, c);
      if (gated) {
        Value g = colsOf(suffix) == 1 ? e.scalar(suffix, j, c0)
                                      : e.scalar(suffix, j, c);
        x = arith::MulFOp::create(b, x, g);
      }
      memref::StoreOp::create(b, x, kt, ValueRange{c, j});
    });
    return SmallVector<Value>();
  });
  e.forLoop(1, subs, 1, [&](Value blockI) {
    Value i0 = e.mul(blockI, sub);
    e.forLoop(e.idx(0), blockI, e.idx(1), {}, [&](Value step, ValueRange) {
      // J = I - 1 - step, walking away from the diagonal.
      Value blockJ =
          arith::SubIOp::create(b, arith::SubIOp::create(b, blockI, step),
                                e.idx(1));
      Value j0 = e.mul(blockJ, sub);
      if (gated) {
        // Entering J from J + 1: q_I also decays through all of J + 1.
        auto notFirst = arith::CmpIOp::create(b, arith::CmpIPredicate::ne,
                                              step, e.idx(0));
        auto ifOp = scf::IfOp::create(b, notFirst, /*withElse=*/false);
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(ifOp.thenBlock());
        Value lastOfNext = e.add(j0, 2 * sub - 1);
        e.forEachVector(e.idx(sub), keys, lanes, [&](Value r, Value c) {
          Value row = e.add(i0, r);
          e.store(e.mulf(e.load(qf, row, c, lanes),
                         e.gate(prefix, lastOfNext, c, lanes)),
                  qf, row, c);
        });
      }
      e.matmul(
          scores, i0, j0, sub, sub, [&](Value) { return e.idx(keys); },
          [&](Value m, Value kk) { return e.scalar(qf, e.add(i0, m), kk); },
          kt, c0, j0,
          /*accumulate=*/false);
      return SmallVector<Value>();
    });
  });

  // Diagonal blocks: for each j, carry k_j ⊙ prod(decay[j+1 .. i]) down the
  // rows i of the block, one dot product with q_i per pair.
  Value kd = e.scratch(1, keys);
  auto dot = [&](Value i) {
    SmallVector<Value> acc = e.forLoop(
        e.idx(0), e.idx(keys), e.idx(lanes), {e.splat(0.0f, lanes)},
        [&](Value c, ValueRange it) -> SmallVector<Value> {
          return {e.fma(e.load(q, i, c, lanes), e.load(kd, c0, c, lanes),
                        it[0])};
        });
    return e.sum(acc[0]);
  };
  e.forLoop(0, rows, 1, [&](Value j) {
    Value end = e.add(e.mul(arith::DivUIOp::create(b, j, e.idx(sub)), sub),
                      sub);
    e.forLoop(0, keys, lanes, [&](Value c) {
      e.store(e.load(k, j, c, lanes), kd, c0, c);
    });
    memref::StoreOp::create(b, dot(j), scores, ValueRange{j, j});
    e.forLoop(e.add(j, 1), end, e.idx(1), {}, [&](Value i, ValueRange) {
      if (gated)
        e.forLoop(0, keys, lanes, [&](Value c) {
          e.store(e.mulf(e.load(kd, c0, c, lanes), e.gate(decay, i, c, lanes)),
                  kd, c0, c);
        });
      memref::StoreOp::create(b, dot(i), scores, ValueRange{i, j});
      return SmallVector<Value>();
    });
  });
}

void lower(ChunkAttendOp op, Emitter &e) {
  Value scores = op.getScores();
  const int64_t rows = rowsOf(scores);
  Value c0 = e.idx(0);
  // Row block [m0, m0 + mr) needs columns j <= m0 + mr - 1 only; the rest
  // of the scores are zero. The block size is at most 8 rows.
  e.matmul(
      op.getO(), c0, c0, rows, colsOf(op.getO()),
      [&](Value m0) {
        return arith::MinUIOp::create(e.b, e.add(m0, 8), e.idx(rows));
      },
      [&](Value m, Value kk) { return e.scalar(scores, m, kk); }, op.getV(),
      c0, c0, /*accumulate=*/true);
}

void lower(ChunkStateUpdateOp op, Emitter &e) {
  Value k = op.getK(), state = op.getState();
  const int64_t rows = rowsOf(k), keys = colsOf(k);
  const int64_t values = colsOf(state);
  Value c0 = e.idx(0);
  if (!op.getGates().empty()) {
    Value prefix = op.getGates()[0], suffix = op.getGates()[1];
    Value scaled = e.scratch(rows, keys);
    Value total = scaleBySubChunks(e, k, suffix, prefix, scaled,
                                   op.getSubChunk(), /*backward=*/true);
    k = scaled;
    // S ← Diag(decay of the whole chunk) S.
    const int64_t lanes = e.lanesFor(values);
    e.forEachVector(e.idx(keys), values, lanes, [&](Value r, Value c) {
      Value g = colsOf(total) == 1 ? e.scalar(total, c0, c0)
                                   : e.scalar(total, c0, r);
      e.store(e.mulf(e.load(state, r, c, lanes), e.broadcast(g, lanes)), state,
              r, c);
    });
  }
  e.matmul(
      state, c0, c0, keys, values, [&](Value) { return e.idx(rows); },
      [&](Value m, Value kk) { return e.scalar(k, kk, m); }, op.getV(), c0, c0,
      /*accumulate=*/true);
  if (Value pairKeys = op.getB()) {
    // The second rank-one sum, decayed to the chunk end like k.
    if (!op.getGates().empty()) {
      Value scaled = e.scratch(rows, keys);
      scaleBySubChunks(e, pairKeys, op.getGates()[1], op.getGates()[0],
                       scaled, op.getSubChunk(), /*backward=*/true);
      pairKeys = scaled;
    }
    e.matmul(
        state, c0, c0, keys, values, [&](Value) { return e.idx(rows); },
        [&](Value m, Value kk) { return e.scalar(pairKeys, kk, m); },
        op.getW(), c0, c0, /*accumulate=*/true);
  }
}

/// A forward substitution over the rows of `out` (rows x cols):
///   out[t] = finish(t, init(t) + sum_{j<t} weight(t, j) out[j]),
/// row after row, each row reading the rows solved before it. A row of up to
/// eight vectors stays in registers across the j loop; wider tiles are done
/// eight vectors at a time. `init(t, col)` gives the starting vector,
/// `weight(t, j)` the scalar coefficient, `finish(t)` the scale applied on
/// the way out (null: none).
void forwardSubstitution(
    Emitter &e, Value out, int64_t rows, int64_t cols,
    function_ref<Value(Value t, Value col, int64_t lanes)> init,
    function_ref<Value(Value t, Value j)> weight,
    function_ref<Value(Value t, int64_t lanes)> finish) {
  const int64_t lanes = e.lanesFor(cols);
  const int64_t vectors = cols / lanes;
  int64_t block = 1;
  for (int64_t candidate : {8, 6, 4, 3, 2, 1})
    if (vectors % candidate == 0) {
      block = candidate;
      break;
    }
  e.forLoop(e.idx(0), e.idx(rows), e.idx(1), {}, [&](Value t, ValueRange) {
    e.forLoop(0, cols, block * lanes, [&](Value n0) {
      SmallVector<Value> start;
      for (int64_t v = 0; v < block; ++v)
        start.push_back(init(t, e.add(n0, v * lanes), lanes));
      SmallVector<Value> acc = e.forLoop(
          e.idx(0), t, e.idx(1), start,
          [&](Value j, ValueRange it) -> SmallVector<Value> {
            Value w = e.broadcast(weight(t, j), lanes);
            SmallVector<Value> next;
            for (int64_t v = 0; v < block; ++v)
              next.push_back(
                  e.fma(w, e.load(out, j, e.add(n0, v * lanes), lanes), it[v]));
            return next;
          });
      Value scale = finish ? finish(t, lanes) : Value();
      for (int64_t v = 0; v < block; ++v)
        e.store(scale ? e.mulf(acc[v], scale) : acc[v], out, t,
                e.add(n0, v * lanes));
    });
    return SmallVector<Value>();
  });
}

/// u[t] = beta[t] (v[t] - ks[t] - sum_{j<t} kk[t, j] u[j]).
void lower(ChunkDeltaSolveOp op, Emitter &e) {
  auto &b = e.b;
  Value c0 = e.idx(0);
  forwardSubstitution(
      e, op.getU(), rowsOf(op.getKk()), colsOf(op.getV()),
      [&](Value t, Value col, int64_t lanes) -> Value {
        return arith::SubFOp::create(b, e.load(op.getV(), t, col, lanes),
                                     e.load(op.getKs(), t, col, lanes));
      },
      [&](Value t, Value j) -> Value {
        return arith::NegFOp::create(b, e.scalar(op.getKk(), t, j));
      },
      [&](Value t, int64_t lanes) {
        return e.broadcast(e.scalar(op.getBeta(), t, c0), lanes);
      });
}

/// w[t] = rhs[t] + sum_{j<t} ab[t, j + 1] w[j] (the coefficient column is
/// one to the right: ab scores a against b delayed by one row).
void lower(ChunkDplrSolveOp op, Emitter &e) {
  forwardSubstitution(
      e, op.getW(), rowsOf(op.getAb()), colsOf(op.getRhs()),
      [&](Value t, Value col, int64_t lanes) {
        return e.load(op.getRhs(), t, col, lanes);
      },
      [&](Value t, Value j) { return e.scalar(op.getAb(), t, e.add(j, 1)); },
      nullptr);
}

/// dst[0] = carry; dst[r] = src[r - 1]; then carry = src[len - 1] when
/// len > 0.
void lower(TileShiftRowsOp op, Emitter &e) {
  auto &b = e.b;
  const int64_t rows = rowsOf(op.getSrc()), cols = colsOf(op.getSrc());
  const int64_t lanes = e.lanesFor(cols);
  Value c0 = e.idx(0);
  e.forLoop(0, cols, lanes, [&](Value c) {
    e.store(e.load(op.getCarry(), c0, c, lanes), op.getDst(), c0, c);
  });
  e.forEachVector(e.idx(rows - 1), cols, lanes, [&](Value r, Value c) {
    e.store(e.load(op.getSrc(), r, c, lanes), op.getDst(), e.add(r, 1), c);
  });
  Value any = arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, op.getLen(),
                                    c0);
  auto ifOp = scf::IfOp::create(b, any, /*withElse=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(ifOp.thenBlock());
  Value lastRow = arith::SubIOp::create(b, op.getLen(), e.idx(1));
  e.forLoop(0, cols, lanes, [&](Value c) {
    e.store(e.load(op.getSrc(), lastRow, c, lanes), op.getCarry(), c0, c);
  });
}

/// The lanes of sum_c x[c] y[c] z[c] over a 1 x K row, as a scalar.
Value tripleDot(Emitter &e, Value x, Value xRow, Value y, Value yRow, Value z,
                int64_t keys) {
  const int64_t lanes = e.lanesFor(keys);
  Value c0 = e.idx(0);
  SmallVector<Value> acc = e.forLoop(
      e.idx(0), e.idx(keys), e.idx(lanes), {e.splat(0.0f, lanes)},
      [&](Value c, ValueRange it) -> SmallVector<Value> {
        Value xy = e.mulf(e.load(x, xRow, c, lanes), e.load(y, yRow, c, lanes));
        return {e.fma(xy, e.load(z, c0, c, lanes), it[0])};
      });
  if (lanes == 1)
    return vector::ExtractOp::create(e.b, acc[0], ArrayRef<int64_t>{0});
  return e.sum(acc[0]);
}

/// o[r] += ((q[r] ⊙ u) · k[r]) v[r].
void lower(ChunkBonusOp op, Emitter &e) {
  const int64_t rows = rowsOf(op.getQ()), keys = colsOf(op.getQ());
  const int64_t cols = colsOf(op.getV());
  const int64_t lanes = e.lanesFor(cols);
  e.forLoop(0, rows, 1, [&](Value r) {
    Value weight = e.broadcast(
        tripleDot(e, op.getQ(), r, op.getK(), r, op.getU(), keys), lanes);
    e.forLoop(0, cols, lanes, [&](Value c) {
      e.store(e.fma(weight, e.load(op.getV(), r, c, lanes),
                    e.load(op.getO(), r, c, lanes)),
              op.getO(), r, c);
    });
  });
}

/// phi[r] = scale [1, x[r], vec(x[r] x[r]ᵀ) / √2, 0 ...] for r < len,
/// zeros elsewhere: the tile is cleared first (padding columns, rows past
/// the end), then each row's pair block i is row x[r] scaled by x[r, i],
/// stored at its (unaligned) column offset 1 + K + i K.
void lower(TileTaylor2Op op, Emitter &e) {
  auto &b = e.b;
  Value x = op.getX(), phi = op.getPhi();
  const int64_t rows = rowsOf(phi), cols = colsOf(phi), keys = colsOf(x);
  const float scale = op.getScale() ? op.getScale()->convertToFloat() : 1.0f;
  const int64_t wide = e.lanesFor(cols), lanes = e.lanesFor(keys);
  e.forEachVector(e.idx(rows), cols, wide, [&](Value r, Value c) {
    e.store(e.splat(0.0f, wide), phi, r, c);
  });
  Value scaleVec = e.splat(scale, lanes);
  Value pairScale = arith::ConstantOp::create(
      b, b.getF32FloatAttr(scale * llvm::numbers::inv_sqrt2f));
  Value c0 = e.idx(0);
  e.forLoop(c0, op.getLen(), e.idx(1), {}, [&](Value r, ValueRange) {
    memref::StoreOp::create(
        b, arith::ConstantOp::create(b, b.getF32FloatAttr(scale)), phi,
        ValueRange{r, c0});
    e.forLoop(0, keys, lanes, [&](Value c) {
      e.store(e.mulf(e.load(x, r, c, lanes), scaleVec), phi, r, e.add(c, 1));
    });
    e.forLoop(0, keys, 1, [&](Value i) {
      Value xi = e.broadcast(
          arith::MulFOp::create(b, e.scalar(x, r, i), pairScale), lanes);
      Value base = e.add(e.mul(i, keys), 1 + keys);
      e.forLoop(0, keys, lanes, [&](Value j) {
        e.store(e.mulf(xi, e.load(x, r, j, lanes)), phi, r, e.add(base, j));
      });
    });
    return SmallVector<Value>();
  });
}

/// o[r] <- o[r] / (den[r, 0] + eps), as the oracle divides (not by a
/// reciprocal: the quotient is rounded once).
void lower(ChunkNormalizeOp op, Emitter &e) {
  Value o = op.getO();
  const int64_t rows = rowsOf(o), cols = colsOf(o);
  const int64_t lanes = e.lanesFor(cols);
  Value eps = arith::ConstantOp::create(e.b, op.getEpsAttr());
  Value c0 = e.idx(0);
  e.forLoop(0, rows, 1, [&](Value r) {
    Value den = e.broadcast(
        arith::AddFOp::create(e.b, e.scalar(op.getDen(), r, c0), eps), lanes);
    e.forLoop(0, cols, lanes, [&](Value c) {
      e.store(arith::DivFOp::create(e.b, e.load(o, r, c, lanes), den), o, r,
              c);
    });
  });
}

void lower(RecurrentStepOp op, Emitter &e) {
  const int64_t keys = colsOf(op.getQ()), values = colsOf(op.getV());
  const int64_t lanes = e.lanesFor(values), vectors = values / lanes;
  Value c0 = e.idx(0);
  SmallVector<Value> vv, init;
  for (int64_t v = 0; v < vectors; ++v) {
    vv.push_back(e.load(op.getV(), c0, e.idx(v * lanes), lanes));
    init.push_back(e.splat(0.0f, lanes));
  }
  Value decay = op.getGates().empty() ? Value() : op.getGates()[0];
  // Row kk of S' = Diag(decay) S_in, one vector at a time: the decay of
  // row kk broadcast (null without gates), then each vector scaled by it.
  auto rowDecay = [&](Value kk) -> Value {
    if (!decay)
      return Value();
    return e.broadcast(
        e.scalar(decay, c0, colsOf(decay) == 1 ? c0 : Value(kk)), lanes);
  };
  auto decayed = [&](Value kk, int64_t v, Value ds) {
    Value s = e.load(op.getStateIn(), kk, e.idx(v * lanes), lanes);
    return ds ? e.mulf(s, ds) : s;
  };
  auto decayedRow = [&](Value kk) {
    Value ds = rowDecay(kk);
    SmallVector<Value> row;
    for (int64_t v = 0; v < vectors; ++v)
      row.push_back(decayed(kk, v, ds));
    return row;
  };

  if (Value betaTile = op.getBeta()) {
    // Pass 1: S'ᵀ k and S'ᵀ q, reading the state once.
    SmallVector<Value> init2 = init;
    init2.append(init.begin(), init.end());
    SmallVector<Value> sums = e.forLoop(
        e.idx(0), e.idx(keys), e.idx(1), init2,
        [&](Value kk, ValueRange it) -> SmallVector<Value> {
          Value ks = e.broadcast(e.scalar(op.getK(), c0, kk), lanes);
          Value qs = e.broadcast(e.scalar(op.getQ(), c0, kk), lanes);
          SmallVector<Value> row = decayedRow(kk), next;
          for (int64_t v = 0; v < vectors; ++v)
            next.push_back(e.fma(ks, row[v], it[v]));
          for (int64_t v = 0; v < vectors; ++v)
            next.push_back(e.fma(qs, row[v], it[vectors + v]));
          return next;
        });
    // r = beta (v - S'ᵀ k), formed in f32; o = S'ᵀ q + (k · q) r.
    const int64_t keyLanes = e.lanesFor(keys);
    SmallVector<Value> dot = e.forLoop(
        e.idx(0), e.idx(keys), e.idx(keyLanes), {e.splat(0.0f, keyLanes)},
        [&](Value c, ValueRange it) -> SmallVector<Value> {
          return {e.fma(e.load(op.getK(), c0, c, keyLanes),
                        e.load(op.getQ(), c0, c, keyLanes), it[0])};
        });
    Value kq = e.broadcast(keyLanes == 1 ? Value(vector::ExtractOp::create(
                                               e.b, dot[0], ArrayRef<int64_t>{0}))
                                         : e.sum(dot[0]),
                           lanes);
    Value beta = e.broadcast(e.scalar(betaTile, c0, c0), lanes);
    SmallVector<Value> r;
    for (int64_t v = 0; v < vectors; ++v) {
      r.push_back(
          e.mulf(beta, arith::SubFOp::create(e.b, vv[v], sums[v])));
      e.store(e.fma(kq, r[v], sums[vectors + v]), op.getO(), c0,
              e.idx(v * lanes));
    }
    // Pass 2: S_out = S' + k rᵀ.
    e.forLoop(0, keys, 1, [&](Value kk) {
      Value ks = e.broadcast(e.scalar(op.getK(), c0, kk), lanes);
      SmallVector<Value> row = decayedRow(kk);
      for (int64_t v = 0; v < vectors; ++v)
        e.store(e.fma(ks, r[v], row[v]), op.getStateOut(), kk,
                e.idx(v * lanes));
    });
    return;
  }

  if (Value aRow = op.getA()) {
    // dplr: w = S_inᵀ a (a first pass), then S_out = D S_in + b wᵀ + k vᵀ
    // and o = S_outᵀ q (a second).
    SmallVector<Value> w = e.forLoop(
        e.idx(0), e.idx(keys), e.idx(1), init,
        [&](Value kk, ValueRange it) -> SmallVector<Value> {
          Value as = e.broadcast(e.scalar(aRow, c0, kk), lanes);
          SmallVector<Value> next;
          for (int64_t v = 0; v < vectors; ++v)
            next.push_back(e.fma(
                as, e.load(op.getStateIn(), kk, e.idx(v * lanes), lanes),
                it[v]));
          return next;
        });
    SmallVector<Value> acc = e.forLoop(
        e.idx(0), e.idx(keys), e.idx(1), init,
        [&](Value kk, ValueRange it) -> SmallVector<Value> {
          Value qs = e.broadcast(e.scalar(op.getQ(), c0, kk), lanes);
          Value ks = e.broadcast(e.scalar(op.getK(), c0, kk), lanes);
          Value bs = e.broadcast(e.scalar(op.getB(), c0, kk), lanes);
          Value ds = rowDecay(kk);
          SmallVector<Value> next;
          for (int64_t v = 0; v < vectors; ++v) {
            Value col = e.idx(v * lanes);
            Value s = e.fma(bs, w[v], decayed(kk, v, ds));
            s = e.fma(ks, vv[v], s);
            e.store(s, op.getStateOut(), kk, col);
            next.push_back(e.fma(qs, s, it[v]));
          }
          return next;
        });
    for (int64_t v = 0; v < vectors; ++v)
      e.store(acc[v], op.getO(), c0, e.idx(v * lanes));
    return;
  }

  // One pass: S_out = D S_in + k vᵀ, row by row, and o accumulates q times
  // S_out, or (RWKV-6's bonus form) q times S_in plus ((q ⊙ u) · k) v.
  Value bonus = op.getBonus();
  SmallVector<Value> acc = e.forLoop(
      e.idx(0), e.idx(keys), e.idx(1), init,
      [&](Value kk, ValueRange it) -> SmallVector<Value> {
        Value qs = e.broadcast(e.scalar(op.getQ(), c0, kk), lanes);
        Value ks = e.broadcast(e.scalar(op.getK(), c0, kk), lanes);
        Value ds = rowDecay(kk);
        SmallVector<Value> next;
        for (int64_t v = 0; v < vectors; ++v) {
          Value col = e.idx(v * lanes);
          Value in = e.load(op.getStateIn(), kk, col, lanes);
          Value s = e.fma(ks, vv[v], ds ? e.mulf(in, ds) : in);
          e.store(s, op.getStateOut(), kk, col);
          next.push_back(e.fma(qs, bonus ? in : s, it[v]));
        }
        return next;
      });
  Value weight;
  if (bonus)
    weight = e.broadcast(
        tripleDot(e, op.getQ(), c0, op.getK(), c0, bonus, keys), lanes);
  for (int64_t v = 0; v < vectors; ++v)
    e.store(weight ? e.fma(weight, vv[v], acc[v]) : acc[v], op.getO(), c0,
            e.idx(v * lanes));
}

struct VectorizeCPUPass
    : linac::impl::LinacVectorizeCPUBase<VectorizeCPUPass> {
  using LinacVectorizeCPUBase::LinacVectorizeCPUBase;

  /// Moves `op` into a new private function `__linac_<op>_<n>` that LLVM
  /// may not inline, calls it in place of `op`, and returns the op's clone
  /// inside the function. The clone keeps the caller's schedule so that it
  /// is lowered with the same vector width.
  Operation *outline(Operation *op) {
    auto caller = op->getParentOfType<func::FuncOp>();
    std::string name = "__linac_" +
                       op->getName().stripDialect().str() + "_" +
                       std::to_string(outlined++);
    OpBuilder b(caller);
    auto type = b.getFunctionType(op->getOperandTypes(), {});
    auto func = func::FuncOp::create(b, op->getLoc(), name, type);
    func.setPrivate();
    func->setAttr("llvm.linkage",
                  LLVM::LinkageAttr::get(b.getContext(),
                                         LLVM::Linkage::Internal));
    // Survives convert-func-to-llvm as the LLVM function attribute.
    func->setAttr("passthrough",
                  b.getArrayAttr({b.getStringAttr("noinline")}));
    if (Attribute schedule = caller->getAttr("linac.schedule"))
      func->setAttr("linac.schedule", schedule);
    Block *entry = func.addEntryBlock();
    b.setInsertionPointToStart(entry);
    IRMapping mapping;
    mapping.map(op->getOperands(), entry->getArguments());
    Operation *clone = b.clone(*op, mapping);
    func::ReturnOp::create(b, op->getLoc());
    b.setInsertionPoint(op);
    func::CallOp::create(b, op->getLoc(), func, op->getOperands());
    op->erase();
    return clone;
  }
  unsigned outlined = 0;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<Operation *> ops;
    module.walk([&](Operation *op) {
      if (isa<TileZeroOp, TileCopyOp, ChunkLoadOp, ChunkStoreOp, ChunkGatesOp,
              ChunkScoresOp, ChunkAttendOp, ChunkInterOp, ChunkStateUpdateOp,
              ChunkDeltaSolveOp, ChunkDplrSolveOp, TileShiftRowsOp,
              ChunkBonusOp, ChunkNormalizeOp, TileTaylor2Op, RecurrentStepOp>(op))
        ops.push_back(op);
    });
    if (outlineOps)
      for (Operation *&op : ops)
        op = outline(op);
    for (Operation *op : ops) {
      int64_t lanes = vectorWidth;
      if (auto func = op->getParentOfType<func::FuncOp>())
        if (auto schedule =
                func->getAttrOfType<ScheduleAttr>("linac.schedule");
            schedule && schedule.getVectorWidth() > 0 && lanes <= 0)
          lanes = schedule.getVectorWidth();
      if (lanes <= 0)
        lanes = 16;
      Emitter e(op, lanes);
      TypeSwitch<Operation *>(op)
          .Case<TileZeroOp, TileCopyOp, ChunkLoadOp, ChunkStoreOp,
                ChunkGatesOp, ChunkScoresOp, ChunkAttendOp, ChunkInterOp,
                ChunkStateUpdateOp, ChunkDeltaSolveOp, ChunkDplrSolveOp,
                TileShiftRowsOp, ChunkBonusOp, ChunkNormalizeOp, TileTaylor2Op, RecurrentStepOp>(
              [&](auto concrete) { lower(concrete, e); });
      op->erase();
    }

    // exp (and the other ops MLIR can approximate): polynomials in plain
    // vector arithmetic.
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns);
    if (failed(applyPatternsGreedily(module, std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
