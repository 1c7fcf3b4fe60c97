//===- LowerChunkGPU.cpp - chunked-scan ops to block-cooperative code -----===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// Inside a kernel of linac-gpu-map, one thread block runs one task and every
// chunked-scan op becomes code that all of the block's threads execute
// together on tiles in shared memory:
//
// - elementwise work is a thread-strided loop over the elements of a tile
//   (element e = row * cols + col, so consecutive threads read consecutive
//   columns: coalesced in global memory, conflict-free in shared memory);
// - the matmul-shaped ops become a reduction per output element, either on
//   CUDA cores (f32 FMAs, one thread per element) or on tensor cores
//   (mma.sync m16n8k16, one warp per 16 x 8 fragment, f32 accumulators).
//   Both take the operands element by element through the same functions,
//   which apply the decay factors as they read, so the two paths compute
//   the same sums and differ only in operand rounding;
// - the forward substitutions of the delta rule and dplr solve the value
//   columns in parallel, 16 rows at a time, in f32; the products around
//   them stay in f32 too (f32Products);
// - a gpu.barrier fences every op on both sides, so an op never reads a
//   tile that another thread is still writing.
//
// Decay factors follow the product form of linac.chunk_gates (see
// LinacChunkOps.td): a factor between rows j < i of one chunk is a product
// of per-row decays inside one sub-chunk and of whole-sub-chunk decays
// between, never a quotient, so g = -inf gives exact zeros.
//
// Every index is in range by construction: loops run over the static tile
// extents or the op's `len`, and global rows are `start + r` with r < len.
//
//===----------------------------------------------------------------------===//

#include "linac/Dialect/Linac/IR/LinacOps.h"
#include "linac/Passes/GpuSchedule.h"
#include "linac/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlowOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

namespace linac {
#define GEN_PASS_DEF_LINACLOWERCHUNKGPU
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

/// The suspend-time hint of mbarrier.try_wait.parity, in nanoseconds (the
/// value CUTLASS uses); the wait loops until the phase completes anyway.
constexpr int64_t kTmaWaitHintNs = 10000000;

/// The tensor-core operand type of a kernel (linac.mma).
enum class Mma { None, BF16, F16 };

/// A function of a matrix element: (row, column) -> f32.
using ElementFn = function_ref<Value(Value, Value)>;

/// Emits the block-cooperative code of one op in front of it.
class Emitter {
public:
  Emitter(Operation *op, int64_t threads, Mma mma, bool emulateMma,
          int64_t scratchBase, int64_t &scratchHigh)
      : b(op->getLoc(), op), threads(threads), mma(mma),
        emulateMma(emulateMma), scratchBase(scratchBase),
        scratchHigh(scratchHigh) {}

  /// Lets the matmuls with whole 64-row tiles use wgmma, staging their
  /// operands at byte `offset` of shared memory (gpuWgmmaStagingBytes(
  /// `cols`) bytes: B slices of at most `cols` columns).
  void enableWgmma(int64_t offset, int64_t cols) {
    wgmmaStaging = offset;
    wgmmaCols = cols;
  }

  //===--- Small helpers --------------------------------------------------===//

  Value idx(int64_t v) { return arith::ConstantIndexOp::create(b, v); }
  Value f32(float v) {
    return arith::ConstantOp::create(b, b.getF32FloatAttr(v));
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, x, y); }
  Value add(Value x, int64_t y) { return y == 0 ? x : add(x, idx(y)); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, x, y); }
  Value mul(Value x, int64_t y) {
    return y == 1 ? x : arith::MulIOp::create(b, x, idx(y));
  }
  Value div(Value x, int64_t y) {
    return y == 1 ? x : arith::DivUIOp::create(b, x, idx(y));
  }
  Value rem(Value x, int64_t y) { return arith::RemUIOp::create(b, x, idx(y)); }
  Value ult(Value x, Value y) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::ult, x, y);
  }
  Value eq(Value x, Value y) {
    return arith::CmpIOp::create(b, arith::CmpIPredicate::eq, x, y);
  }
  Value mulf(Value x, Value y) { return arith::MulFOp::create(b, x, y); }
  Value fma(Value x, Value y, Value acc) {
    return math::FmaOp::create(b, x, y, acc);
  }
  Value load(Value memref, ValueRange indices) {
    return memref::LoadOp::create(b, memref, indices);
  }
  void store(Value value, Value memref, ValueRange indices) {
    memref::StoreOp::create(b, value, memref, indices);
  }
  Value threadId() { return gpu::ThreadIdOp::create(b, gpu::Dimension::x); }
  void barrier() { gpu::BarrierOp::create(b); }

  /// scf.for with loop-carried values; `body` returns the values to yield.
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
      scf::YieldOp::create(
          b, body(loop.getInductionVar(), loop.getRegionIterArgs()));
    }
    return SmallVector<Value>(loop.getResults());
  }
  void forLoop(Value lb, Value ub, Value step, function_ref<void(Value)> body) {
    forLoop(lb, ub, step, {}, [&](Value iv, ValueRange) {
      body(iv);
      return SmallVector<Value>();
    });
  }
  /// The product of `factor(r)` for r in [lb, ub), 1 when empty.
  Value product(Value lb, Value ub, function_ref<Value(Value)> factor) {
    return forLoop(lb, ub, idx(1), {f32(1.0f)},
                   [&](Value r, ValueRange acc) -> SmallVector<Value> {
                     return {mulf(acc[0], factor(r))};
                   })[0];
  }
  /// i in [0, n), spread over the block's threads.
  void forThreads(Value n, function_ref<void(Value)> body) {
    forLoop(threadId(), n, idx(threads), body);
  }
  void forThreads(int64_t n, function_ref<void(Value)> body) {
    forThreads(idx(n), body);
  }
  /// cond ? thenFn() : elseFn(), for one f32; only the taken side runs, so
  /// a side may read memory that is valid only under its condition.
  Value select(Value cond, function_ref<Value()> thenFn,
               function_ref<Value()> elseFn) {
    auto ifOp = scf::IfOp::create(b, b.getF32Type(), cond, /*withElse=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(ifOp.thenBlock());
    scf::YieldOp::create(b, thenFn());
    b.setInsertionPointToStart(ifOp.elseBlock());
    scf::YieldOp::create(b, elseFn());
    return ifOp.getResult(0);
  }
  void ifThenElse(Value cond, function_ref<void()> thenFn,
                  function_ref<void()> elseFn) {
    auto ifOp = scf::IfOp::create(b, cond, /*withElse=*/true);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    thenFn();
    b.setInsertionPoint(ifOp.elseBlock()->getTerminator());
    elseFn();
  }

  /// A rows x cols f32 tile of op-internal scratch in shared memory. Ops
  /// run one after another between barriers, so each op's scratch starts at
  /// the same base; the largest extent is recorded for the launch.
  Value scratch(int64_t rows, int64_t cols) {
    auto space =
        gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
    auto bytes = MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                                 MemRefLayoutAttrInterface(), space);
    auto tile = MemRefType::get({rows, cols}, b.getF32Type(),
                                MemRefLayoutAttrInterface(), space);
    Value base = gpu::DynamicSharedMemoryOp::create(b, bytes);
    Value view = memref::ViewOp::create(
        b, tile, base, idx(scratchBase + scratchCursor), ValueRange{});
    scratchCursor += sharedTileBytes(rows, cols);
    scratchHigh = std::max(scratchHigh, scratchCursor);
    return view;
  }

  /// A gate tile's value for `row` and key `key` (gate tiles of scalar and
  /// constant decays have one column, shared by every key).
  Value gate(Value tile, Value row, Value key) {
    return load(tile, {row, colsOf(tile) == 1 ? idx(0) : key});
  }

  //===--- Matmuls --------------------------------------------------------===//

  /// One reduction of a matmul: sum_{kk < kEnd} a(i, kk) * bt(kk, j), where
  /// `kEnd(rowStart, rows)` bounds the reduction that rows [rowStart,
  /// rowStart + rows) need (a triangular operand ends early).
  struct Term {
    function_ref<Value(Value, int64_t)> kEnd;
    ElementFn a, bt;
  };

  /// out(i, j) = init(i, j) + the sums of `terms`, in order, for i < m,
  /// j < n, one thread per output element, f32 FMAs. `init` may be null
  /// (zero).
  void simtMatmul(int64_t m, int64_t n, ArrayRef<Term> terms, ElementFn init,
                  function_ref<void(Value, Value, Value)> out) {
    forThreads(m * n, [&](Value e) {
      Value i = div(e, n), j = rem(e, n);
      Value acc = init ? init(i, j) : f32(0.0f);
      for (const Term &term : terms)
        acc = forLoop(idx(0), term.kEnd(i, 1), idx(1), {acc},
                      [&](Value kk, ValueRange acc) -> SmallVector<Value> {
                        return {fma(term.a(i, kk), term.bt(kk, j), acc[0])};
                      })[0];
      out(i, j, acc);
    });
  }

  /// Whether the tensor-core path can take an m x n output with a reduction
  /// of k: whole m16n8k16 fragments only.
  bool mmaFits(int64_t m, int64_t n, int64_t k) const {
    return mma != Mma::None && m % 16 == 0 && n % 8 == 0 && k % 16 == 0;
  }

  /// Lane coordinates of the current warp, computed once per op.
  struct Lanes {
    Value warp, group, quad; // warp index, lane / 4, lane % 4
  };
  Lanes lanes() {
    Value tid = threadId();
    Value lane = rem(tid, 32);
    return {div(tid, 32), div(lane, 4), rem(lane, 4)};
  }

  /// Runs `body(m0, n0)` for every 16 x 8 fragment of an m x n output, the
  /// fragments dealt round-robin to the warps (a warp-uniform loop, so all
  /// 32 lanes reach every mma.sync together).
  void forEachFragment(const Lanes &l, int64_t m, int64_t n,
                       function_ref<void(Value, Value)> body) {
    const int64_t across = n / 8;
    forLoop(l.warp, idx((m / 16) * across), idx(threads / 32), [&](Value f) {
      body(mul(div(f, across), 16), mul(rem(f, across), 8));
    });
  }

  /// Row and column of accumulator element `e` (0..3) of this lane in the
  /// fragment at (m0, n0): c0, c1 on row group, c2, c3 eight rows below, on
  /// the columns 2 * quad and 2 * quad + 1 (PTX ISA, mma.m16n8k16 C/D).
  Value accRow(const Lanes &l, Value m0, int e) {
    return add(add(m0, l.group), 8 * (e / 2));
  }
  Value accCol(const Lanes &l, Value n0, int e) {
    return add(add(n0, mul(l.quad, 2)), e % 2);
  }

  /// Two f32 values as one register of two 16-bit operands (the first in
  /// the low half).
  Value packBF16(Value lo, Value hi) {
    Type bf16 = b.getBF16Type();
    Value pair = vector::FromElementsOp::create(
        b, VectorType::get({2}, bf16),
        ValueRange{arith::TruncFOp::create(b, bf16, lo),
                   arith::TruncFOp::create(b, bf16, hi)});
    Value word =
        vector::BitCastOp::create(b, VectorType::get({1}, b.getI32Type()), pair);
    return vector::ExtractOp::create(b, word, ArrayRef<int64_t>{0});
  }

  /// One mma.sync m16n8k16: `aVals` are this lane's 8 A elements in
  /// register order, `bVals` its 4 B elements, `acc` its 4 accumulators.
  SmallVector<Value> mmaSync(ArrayRef<Value> aVals, ArrayRef<Value> bVals,
                             ValueRange acc) {
    if (mma == Mma::BF16) {
      // nvgpu.mma.sync has no bf16 form in MLIR 22; the NVVM op takes the
      // operands as packed i32 registers.
      SmallVector<Value> aRegs, bRegs;
      for (int r = 0; r < 4; ++r)
        aRegs.push_back(packBF16(aVals[2 * r], aVals[2 * r + 1]));
      for (int r = 0; r < 2; ++r)
        bRegs.push_back(packBF16(bVals[2 * r], bVals[2 * r + 1]));
      Type f32Type = b.getF32Type();
      auto resultType = LLVM::LLVMStructType::getLiteral(
          b.getContext(), {f32Type, f32Type, f32Type, f32Type});
      Value d = NVVM::MmaOp::create(
          b, resultType, aRegs, bRegs, acc, {16, 8, 16}, std::nullopt,
          std::nullopt,
          std::array<NVVM::MMATypes, 2>{NVVM::MMATypes::bf16,
                                        NVVM::MMATypes::bf16},
          std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row,
                                         NVVM::MMALayout::col});
      SmallVector<Value> out;
      for (int64_t e = 0; e < 4; ++e)
        out.push_back(LLVM::ExtractValueOp::create(b, d, ArrayRef<int64_t>{e}));
      return out;
    }
    // f16: nvgpu.mma.sync on vector<4x2xf16> x vector<2x2xf16>.
    Type f16 = b.getF16Type();
    auto narrow = [&](ArrayRef<Value> values) {
      SmallVector<Value> out;
      for (Value v : values)
        out.push_back(arith::TruncFOp::create(b, f16, v));
      return out;
    };
    Value aMat = vector::FromElementsOp::create(
        b, VectorType::get({4, 2}, f16), narrow(aVals));
    Value bMat = vector::FromElementsOp::create(
        b, VectorType::get({2, 2}, f16), narrow(bVals));
    Value cMat = vector::FromElementsOp::create(
        b, VectorType::get({2, 2}, b.getF32Type()), acc);
    Value d = nvgpu::MmaSyncOp::create(b, aMat, bMat, cMat,
                                       ArrayRef<int64_t>{16, 8, 16});
    SmallVector<Value> out;
    for (int64_t e = 0; e < 4; ++e)
      out.push_back(
          vector::ExtractOp::create(b, d, ArrayRef<int64_t>{e / 2, e % 2}));
    return out;
  }

  /// The accumulators of the fragment at (m0, n0) after adding
  /// sum_{kk < kEnd} a(i, kk) * bt(kk, j) to `init`, 16 reduction steps per
  /// mma.sync. A element 2r+h of a lane sits at row group + 8 (r % 2),
  /// column 2 quad + h + 8 (r / 2); B element 2r+h at row 2 quad + h + 8 r,
  /// column group (PTX ISA, mma.m16n8k16 A and B fragments).
  SmallVector<Value> mmaReduce(const Lanes &l, Value m0, Value n0, Value kEnd,
                               ElementFn a, ElementFn bt, ValueRange init) {
    if (emulateMma)
      return emulatedMmaReduce(l, m0, n0, kEnd, a, bt, init);
    return forLoop(
        idx(0), kEnd, idx(16), init,
        [&](Value k0, ValueRange acc) -> SmallVector<Value> {
          SmallVector<Value> aVals, bVals;
          for (int r = 0; r < 4; ++r)
            for (int h = 0; h < 2; ++h)
              aVals.push_back(
                  a(add(add(m0, l.group), 8 * (r % 2)),
                    add(add(k0, mul(l.quad, 2)), h + 8 * (r / 2))));
          for (int r = 0; r < 2; ++r)
            for (int h = 0; h < 2; ++h)
              bVals.push_back(bt(add(add(k0, mul(l.quad, 2)), h + 8 * r),
                                 add(n0, l.group)));
          return mmaSync(aVals, bVals, acc);
        });
  }

  /// An operand as the tensor cores see it: rounded to the MMA type.
  Value roundToMma(Value x) {
    Type narrow = mma == Mma::BF16 ? b.getBF16Type() : b.getF16Type();
    Value rounded = arith::TruncFOp::create(b, narrow, x);
    return arith::ExtFOp::create(b, b.getF32Type(), rounded);
  }

  /// What mmaReduce computes, lane by lane: each of this lane's four
  /// accumulators gets its 16 products per step from scalar FMAs of
  /// rounded operands (for running the kernel without a warp).
  SmallVector<Value> emulatedMmaReduce(const Lanes &l, Value m0, Value n0,
                                       Value kEnd, ElementFn a, ElementFn bt,
                                       ValueRange init) {
    return forLoop(
        idx(0), kEnd, idx(16), init,
        [&](Value k0, ValueRange acc) -> SmallVector<Value> {
          SmallVector<Value> out;
          for (int e = 0; e < 4; ++e) {
            Value row = accRow(l, m0, e), col = accCol(l, n0, e);
            out.push_back(forLoop(
                idx(0), idx(16), idx(1), {acc[e]},
                [&](Value t, ValueRange sum) -> SmallVector<Value> {
                  Value kk = add(k0, t);
                  return {fma(roundToMma(a(row, kk)),
                              roundToMma(bt(kk, col)), sum[0])};
                })[0]);
          }
          return out;
        });
  }

  /// The matmul of simtMatmul on tensor cores (the caller checked mmaFits):
  /// the terms' reductions accumulate into the same fragment.
  void mmaMatmul(int64_t m, int64_t n, ArrayRef<Term> terms, ElementFn init,
                 function_ref<void(Value, Value, Value)> out) {
    Lanes l = lanes();
    forEachFragment(l, m, n, [&](Value m0, Value n0) {
      SmallVector<Value> acc;
      for (int e = 0; e < 4; ++e)
        acc.push_back(init ? init(accRow(l, m0, e), accCol(l, n0, e))
                           : f32(0.0f));
      for (const Term &term : terms)
        acc = mmaReduce(l, m0, n0, term.kEnd(m0, 16), term.a, term.bt, acc);
      for (int e = 0; e < 4; ++e)
        out(accRow(l, m0, e), accCol(l, n0, e), acc[e]);
    });
  }

  //===--- Warpgroup MMA (sm_90a) ------------------------------------------===//

  /// Whether wgmma can take an m x n output with a reduction of k: whole
  /// m64nNk16 tiles (N <= 256, a multiple of 8) whose B slices fit the
  /// staging buffer, and a reduction that is a whole number of slices. The
  /// block's 128 threads are exactly one warpgroup.
  bool wgmmaFits(int64_t m, int64_t n, int64_t k) const {
    return wgmmaStaging >= 0 && mma != Mma::None && threads == 128 &&
           m % 64 == 0 && n % 8 == 0 && n <= std::min<int64_t>(256, wgmmaCols) &&
           k % 16 == 0 && k % std::min(k, kWgmmaSliceK) == 0;
  }

  /// Row and column of accumulator register `r` (0 .. n/2) of this thread
  /// in the 64 x n wgmma tile at row m0: warp w owns rows 16w .. 16w + 15,
  /// and each 8-column block repeats mma.sync's m16n8 C layout (PTX ISA,
  /// "wgmma .m64nNk16 register fragment layout for accumulator D").
  Value wgmmaRow(const Lanes &l, Value m0, Value r) {
    return add(add(add(m0, mul(l.warp, 16)), l.group),
               mul(rem(div(r, 2), 2), 8));
  }
  Value wgmmaCol(const Lanes &l, Value r) {
    return add(add(mul(div(r, 4), 8), mul(l.quad, 2)), rem(r, 2));
  }

  /// Element offset of (row, col) in a staged K-major operand slice of
  /// depth `depth` without swizzling: 8 x 8 core matrices of 128 contiguous
  /// bytes (a row of a core matrix is 16 bytes), the two core matrices of a
  /// k16 step 128 bytes apart (the descriptor's leading byte offset) and
  /// consecutive 8-row groups depth * 16 bytes apart (its stride byte
  /// offset).
  Value stagedOffset(Value row, Value col, int64_t depth) {
    return add(add(mul(div(row, 8), depth * 8), mul(div(col, 8), 64)),
               add(mul(rem(row, 8), 8), rem(col, 8)));
  }

  /// A wgmma shared-memory matrix descriptor (PTX ISA "matrix descriptor"):
  /// start address, leading and stride byte offsets, all in 16-byte units,
  /// base offset 0 and layout type 0 (no swizzle).
  Value wgmmaDescriptor(Value address, int64_t depth) {
    auto c64 = [&](int64_t v) {
      return arith::ConstantOp::create(b, b.getI64IntegerAttr(v));
    };
    Value start = arith::ShRUIOp::create(
        b, arith::AndIOp::create(b, address, c64(0x3FFFF)), c64(4));
    const int64_t lbo = 128 >> 4, sbo = (depth * 16) >> 4;
    return arith::OrIOp::create(b, start, c64((lbo << 16) | (sbo << 32)));
  }

  /// The shared-memory address of byte `offset` of the dynamic shared
  /// memory, as an i64 (the 32-bit shared window address).
  Value sharedAddress(int64_t offset) {
    auto space =
        gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
    auto bytes = MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                                 MemRefLayoutAttrInterface(), space);
    Value base = gpu::DynamicSharedMemoryOp::create(b, bytes);
    Value address =
        memref::ExtractAlignedPointerAsIndexOp::create(b, base).getResult();
    return arith::IndexCastOp::create(b, b.getI64Type(), add(address, offset));
  }

  /// A 1-D 16-bit view of `elements` elements at byte `offset` of the
  /// dynamic shared memory.
  Value stagingView(int64_t offset, int64_t elements) {
    auto space =
        gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
    auto bytes = MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                                 MemRefLayoutAttrInterface(), space);
    auto view = MemRefType::get({elements}, narrowType(),
                                MemRefLayoutAttrInterface(), space);
    Value base = gpu::DynamicSharedMemoryOp::create(b, bytes);
    return memref::ViewOp::create(b, view, base, idx(offset), ValueRange{});
  }

  /// A 1-D view of `elements` elements of `element` at byte `offset` of
  /// the dynamic shared memory.
  Value sharedView(int64_t offset, int64_t elements, Type element) {
    auto space =
        gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
    auto bytes = MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                                 MemRefLayoutAttrInterface(), space);
    auto view = MemRefType::get({elements}, element,
                                MemRefLayoutAttrInterface(), space);
    Value base = gpu::DynamicSharedMemoryOp::create(b, bytes);
    return memref::ViewOp::create(b, view, base, idx(offset), ValueRange{});
  }

  /// Byte `offset` of the dynamic shared memory as an LLVM pointer into the
  /// shared (3) address space.
  Value sharedPointer(int64_t offset) {
    return LLVM::IntToPtrOp::create(
        b, LLVM::LLVMPointerType::get(b.getContext(), 3),
        sharedAddress(offset));
  }

  Type narrowType() {
    return mma == Mma::BF16 ? Type(b.getBF16Type()) : Type(b.getF16Type());
  }

  /// The matmul of simtMatmul on Hopper's warpgroup MMA (the caller checked
  /// wgmmaFits). Per 64-row tile and term, the reduction goes in slices of
  /// at most kWgmmaSliceK: all threads write the slice's operands, rounded
  /// to 16 bits, into the staging buffer in the K-major layout above (B
  /// transposed, so neither operand needs wgmma's transpose flags), make
  /// the generic-proxy writes visible to the async proxy that wgmma reads
  /// through, synchronize, and issue one m64nNk16 per 16-deep step with f32
  /// accumulators in registers (fence, commit, wait 0 before the staging
  /// buffer is reused).
  void wgmmaMatmul(int64_t m, int64_t n, int64_t k, ArrayRef<Term> terms,
                   ElementFn init, function_ref<void(Value, Value, Value)> out) {
    if (emulateMma)
      return emulatedWgmmaMatmul(m, n, terms, init, out);
    const int64_t depth = std::min(k, kWgmmaSliceK);
    const int64_t aBytes = 64 * kWgmmaSliceK * 2;
    Value stA = stagingView(wgmmaStaging, 64 * depth);
    Value stB = stagingView(wgmmaStaging + aBytes, n * depth);
    Value addrA = sharedAddress(wgmmaStaging);
    Value addrB = sharedAddress(wgmmaStaging + aBytes);
    Lanes l = lanes();
    Type f32Type = b.getF32Type();
    SmallVector<Type> fields(n / 2, f32Type);
    auto accType = LLVM::LLVMStructType::getLiteral(b.getContext(), fields);
    auto narrow = [&](Value x) {
      return arith::TruncFOp::create(b, narrowType(), x);
    };
    auto i64 = [&](Value index) {
      return arith::IndexCastOp::create(b, b.getI64Type(), index);
    };
    NVVM::WGMMATypes type = mma == Mma::BF16 ? NVVM::WGMMATypes::bf16
                                             : NVVM::WGMMATypes::f16;
    forLoop(idx(0), idx(m), idx(64), [&](Value m0) {
      SmallVector<Value> acc;
      for (int64_t r = 0; r < n / 2; ++r)
        acc.push_back(init ? init(wgmmaRow(l, m0, idx(r)), wgmmaCol(l, idx(r)))
                           : f32(0.0f));
      for (const Term &term : terms) {
        Value kEnd = term.kEnd(m0, 64);
        acc = forLoop(
            idx(0), kEnd, idx(depth), acc,
            [&](Value ks, ValueRange acc) -> SmallVector<Value> {
              // The previous slice's wgmmas have completed (wait 0) in
              // every warp once all threads are here.
              barrier();
              forThreads(64 * depth, [&](Value e) {
                Value r = div(e, depth), c = rem(e, depth);
                store(narrow(term.a(add(m0, r), add(ks, c))), stA,
                      {stagedOffset(r, c, depth)});
              });
              forThreads(n * depth, [&](Value e) {
                Value c = div(e, n), j = rem(e, n);
                store(narrow(term.bt(add(ks, c), j)), stB,
                      {stagedOffset(j, c, depth)});
              });
              NVVM::FenceProxyOp::create(
                  b, NVVM::ProxyKind::async_shared,
                  NVVM::SharedSpaceAttr::get(b.getContext(),
                                             NVVM::SharedSpace::shared_cta));
              barrier();
              NVVM::WgmmaFenceAlignedOp::create(b);
              Value steps = arith::MinUIOp::create(b, idx(depth), sub(kEnd, ks));
              SmallVector<Value> result = forLoop(
                  idx(0), steps, idx(16), acc,
                  [&](Value kk, ValueRange acc) -> SmallVector<Value> {
                    // A k16 step is two core matrices along K: 256 bytes.
                    Value step = i64(mul(kk, 16));
                    Value descA = wgmmaDescriptor(
                        arith::AddIOp::create(b, addrA, step), depth);
                    Value descB = wgmmaDescriptor(
                        arith::AddIOp::create(b, addrB, step), depth);
                    Value d = LLVM::UndefOp::create(b, accType);
                    for (int64_t r = 0; r < n / 2; ++r)
                      d = LLVM::InsertValueOp::create(b, d, acc[r],
                                                      ArrayRef<int64_t>{r});
                    d = NVVM::WgmmaMmaAsyncOp::create(
                        b, accType, d, descA, descB,
                        NVVM::MMAShapeAttr::get(b.getContext(), 64, n, 16),
                        NVVM::WGMMATypesAttr::get(b.getContext(), type),
                        NVVM::WGMMATypesAttr::get(b.getContext(), type),
                        NVVM::WGMMATypesAttr::get(b.getContext(),
                                                  NVVM::WGMMATypes::f32),
                        NVVM::WGMMAScaleOutAttr::get(
                            b.getContext(), NVVM::WGMMAScaleOut::one),
                        NVVM::WGMMAScaleInAttr::get(b.getContext(),
                                                    NVVM::WGMMAScaleIn::one),
                        NVVM::WGMMAScaleInAttr::get(b.getContext(),
                                                    NVVM::WGMMAScaleIn::one),
                        NVVM::MMALayoutAttr::get(b.getContext(),
                                                 NVVM::MMALayout::row),
                        NVVM::MMALayoutAttr::get(b.getContext(),
                                                 NVVM::MMALayout::col),
                        NVVM::MMAIntOverflowAttr());
                    SmallVector<Value> next;
                    for (int64_t r = 0; r < n / 2; ++r)
                      next.push_back(LLVM::ExtractValueOp::create(
                          b, d, ArrayRef<int64_t>{r}));
                    return next;
                  });
              NVVM::WgmmaGroupSyncAlignedOp::create(b);
              NVVM::WgmmaWaitGroupSyncOp::create(b, 0);
              return result;
            });
      }
      for (int64_t r = 0; r < n / 2; ++r)
        out(wgmmaRow(l, m0, idx(r)), wgmmaCol(l, idx(r)), acc[r]);
      // The next tile's first slice overwrites the staging buffer only
      // after its own leading barrier.
    });
  }

  /// What wgmmaMatmul computes, register by register, for running the
  /// kernel without a warpgroup: each accumulator (at the row and column
  /// the accumulator layout gives it) gets its products in 16-deep steps
  /// from scalar FMAs of 16-bit-rounded operands, in reduction order. The
  /// staging buffer and the descriptors are not modelled.
  void emulatedWgmmaMatmul(int64_t m, int64_t n, ArrayRef<Term> terms,
                           ElementFn init,
                           function_ref<void(Value, Value, Value)> out) {
    Lanes l = lanes();
    forLoop(idx(0), idx(m), idx(64), [&](Value m0) {
      forLoop(idx(0), idx(n / 2), idx(1), [&](Value r) {
        Value row = wgmmaRow(l, m0, r), col = wgmmaCol(l, r);
        Value acc = init ? init(row, col) : f32(0.0f);
        for (const Term &term : terms)
          acc = forLoop(idx(0), term.kEnd(m0, 64), idx(1), {acc},
                        [&](Value kk, ValueRange sum) -> SmallVector<Value> {
                          return {fma(roundToMma(term.a(row, kk)),
                                      roundToMma(term.bt(kk, col)), sum[0])};
                        })[0];
        out(row, col, acc);
      });
    });
  }

  /// Tensor cores when the shape allows, CUDA cores otherwise; `k` bounds
  /// every term's reduction.
  void matmul(int64_t m, int64_t n, int64_t k, ArrayRef<Term> terms,
              ElementFn init, function_ref<void(Value, Value, Value)> out) {
    if (wgmmaFits(m, n, k))
      wgmmaMatmul(m, n, k, terms, init, out);
    else if (mmaFits(m, n, k))
      mmaMatmul(m, n, terms, init, out);
    else
      simtMatmul(m, n, terms, init, out);
  }
  void matmul(int64_t m, int64_t n, int64_t k,
              function_ref<Value(Value, int64_t)> kEnd, ElementFn a,
              ElementFn bt, ElementFn init,
              function_ref<void(Value, Value, Value)> out) {
    Term term{kEnd, a, bt};
    matmul(m, n, k, ArrayRef<Term>(term), init, out);
  }

  ImplicitLocOpBuilder b;
  int64_t threads;
  Mma mma;
  bool emulateMma;
  int64_t scratchBase;
  int64_t scratchCursor = 0;
  int64_t &scratchHigh;
  int64_t wgmmaStaging = -1; // byte offset of the staging buffer, or none
  int64_t wgmmaCols = 0;
};

//===----------------------------------------------------------------------===//
// Decay factors (product form, see LinacChunkOps.td)
//===----------------------------------------------------------------------===//

/// Gate tiles of one chunk (decay, prefix, suffix of linac.chunk_gates).
struct Gates {
  Value decay, prefix, suffix;
  int64_t sub = 16;
};

/// prod(decay[j+1 .. i]) for key `key`, i and j in one sub-chunk: the
/// running product, as the recurrence forms it.
Value decayRun(Emitter &e, const Gates &g, Value j, Value i, Value key) {
  return e.product(e.add(j, 1), e.add(i, 1),
                   [&](Value r) { return e.gate(g.decay, r, key); });
}

/// prod of whole sub-chunks J+1 .. I-1 (their prefix at the last row).
Value subChunksBetween(Emitter &e, const Gates &g, Value blockJ, Value blockI,
                       Value key) {
  return e.product(e.add(blockJ, 1), blockI, [&](Value block) {
    return e.gate(g.prefix, e.add(e.mul(block, g.sub), g.sub - 1), key);
  });
}

/// prod(decay[j+1 .. i]) for j <= i in different sub-chunks: what is left
/// of j's sub-chunk, the whole ones between, and i's sub-chunk up to i.
Value decayAcross(Emitter &e, const Gates &g, Value j, Value i, Value key) {
  Value between =
      subChunksBetween(e, g, e.div(j, g.sub), e.div(i, g.sub), key);
  return e.mulf(e.mulf(e.gate(g.suffix, j, key), between),
                e.gate(g.prefix, i, key));
}

/// prod(decay[j+1 .. i]) for any j <= i.
Value decayBetween(Emitter &e, const Gates &g, Value j, Value i, Value key) {
  Value same = e.eq(e.div(j, g.sub), e.div(i, g.sub));
  return e.select(
      same, [&] { return decayRun(e, g, j, i, key); },
      [&] { return decayAcross(e, g, j, i, key); });
}

/// carry[L][c] = prod of the whole sub-chunks before L (forward) or after L
/// (backward), for L < rows / sub; the backward table has one more row,
/// the decay of the whole chunk. One thread per gate column.
Value subChunkCarries(Emitter &e, Value prefix, int64_t sub, bool backward) {
  const int64_t subs = rowsOf(prefix) / sub, cols = colsOf(prefix);
  Value carry = e.scratch(subs + 1, cols);
  e.forThreads(cols, [&](Value c) {
    Value total = e.forLoop(
        e.idx(0), e.idx(subs), e.idx(1), {e.f32(1.0f)},
        [&](Value s, ValueRange acc) -> SmallVector<Value> {
          Value block = backward ? e.sub(e.idx(subs - 1), s) : s;
          e.store(acc[0], carry, {block, c});
          return {e.mulf(acc[0],
                         e.load(prefix, {e.add(e.mul(block, sub), sub - 1), c}))};
        })[0];
    e.store(total, carry, {e.idx(subs), c});
  });
  e.barrier();
  return carry;
}

//===----------------------------------------------------------------------===//
// Per-op lowerings
//===----------------------------------------------------------------------===//

void lower(TileZeroOp op, Emitter &e) {
  Value dst = op.getDst();
  const int64_t cols = colsOf(dst);
  e.forThreads(rowsOf(dst) * cols, [&](Value i) {
    e.store(e.f32(0.0f), dst, {e.div(i, cols), e.rem(i, cols)});
  });
}

void lower(TileCopyOp op, Emitter &e) {
  Value dst = op.getDst();
  const int64_t cols = colsOf(dst);
  e.forThreads(rowsOf(dst) * cols, [&](Value i) {
    Value r = e.div(i, cols), c = e.rem(i, cols);
    e.store(e.load(op.getSrc(), {r, c}), dst, {r, c});
  });
}

Value applyFeatureMap(Emitter &e, FeatureMap map, Value x) {
  auto &b = e.b;
  switch (map) {
  case FeatureMap::Identity:
  case FeatureMap::L2Norm: // Per row; handled by the caller.
  case FeatureMap::Taylor2: // Rejected by linac-chunk.
    return x;
  case FeatureMap::Relu:
    return arith::MaximumFOp::create(b, x, e.f32(0.0f));
  case FeatureMap::EluPlusOne: {
    Value positive =
        arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, x, e.f32(0.0f));
    return arith::SelectOp::create(b, positive,
                                   arith::AddFOp::create(b, x, e.f32(1.0f)),
                                   math::ExpOp::create(b, x));
  }
  case FeatureMap::Silu: {
    Value negExp = math::ExpOp::create(b, arith::NegFOp::create(b, x));
    return arith::DivFOp::create(
        b, x, arith::AddFOp::create(b, negExp, e.f32(1.0f)));
  }
  }
  return x;
}

/// Element (r, c) of a chunk as f32; valid only for r < len.
using ChunkReader = function_ref<Value(Value, Value)>;

/// The conversion of chunk_load: every element of the destination tile from
/// `read` (feature map, l2norm row scale, scale), the padding value past
/// `len`.
void convertChunk(ChunkLoadOp op, Emitter &e, ChunkReader read) {
  auto &b = e.b;
  Value dst = op.getDst();
  const int64_t rows = rowsOf(dst), cols = colsOf(dst);
  Value scales;
  if (op.getFeatureMap() == FeatureMap::L2Norm) {
    // x / sqrt(sum(x^2) + 1e-6) per row, as the oracle; one thread sums a
    // row.
    scales = e.scratch(rows, 1);
    e.forThreads(op.getLen(), [&](Value r) {
      Value sum = e.forLoop(e.idx(0), e.idx(cols), e.idx(1), {e.f32(0.0f)},
                            [&](Value c, ValueRange acc) -> SmallVector<Value> {
                              Value x = read(r, c);
                              return {e.fma(x, x, acc[0])};
                            })[0];
      Value total = arith::AddFOp::create(b, sum, e.f32(1e-6f));
      e.store(math::RsqrtOp::create(b, total), scales, {r, e.idx(0)});
    });
    e.barrier();
  }

  const float pad = op.getPad() ? op.getPad()->convertToFloat() : 0.0f;
  e.forThreads(rows * cols, [&](Value i) {
    Value r = e.div(i, cols), c = e.rem(i, cols);
    Value x = e.select(
        e.ult(r, op.getLen()),
        [&] {
          Value x = applyFeatureMap(e, op.getFeatureMap(), read(r, c));
          if (scales)
            x = e.mulf(x, e.load(scales, {r, e.idx(0)}));
          if (auto scale = op.getScale())
            x = e.mulf(x, e.f32(scale->convertToFloat()));
          return x;
        },
        [&] { return e.f32(pad); });
    e.store(x, dst, {r, c});
  });
}

/// The threads read the chunk from global memory.
void lower(ChunkLoadOp op, Emitter &e) {
  auto &b = e.b;
  auto srcType = cast<MemRefType>(op.getSrc().getType());
  const bool rank3 = srcType.getRank() == 3;
  convertChunk(op, e, [&](Value r, Value c) -> Value {
    Value t = e.add(op.getStart(), r);
    Value x = rank3 ? e.load(op.getSrc(), {op.getBatch(), t, op.getHead()})
                    : e.load(op.getSrc(), {op.getBatch(), t, op.getHead(),
                                           e.add(op.getCol(), c)});
    if (!srcType.getElementType().isF32())
      x = arith::ExtFOp::create(b, b.getF32Type(), x);
    return x;
  });
}

//===----------------------------------------------------------------------===//
// TMA loads (sm_90a, schedule load = "tma")
//===----------------------------------------------------------------------===//

/// A tensor whose chunk tiles the Tensor Memory Accelerator loads: one
/// tensor map and one i32 flag per kernel, both parameters the runtime
/// fills per launch. The flag is nonzero when the runtime could describe
/// the launch's view by a tensor map (TMA's rules: see docs/cuda.md);
/// otherwise the threads load the tiles as without TMA.
struct TmaMap {
  unsigned tensor = 0;          ///< index of the tensor's memref argument
  SmallVector<int64_t, 4> box;  ///< innermost first: cols, 1, rows, 1
  Value flag, map;              ///< the kernel arguments
};

/// A chunk_load that TMA serves, with the mbarrier its copies complete on
/// and the buffer they land in.
struct TmaSite {
  unsigned map = 0;    ///< index into TmaPlan::maps
  int64_t barrier = 0; ///< byte offset of the mbarrier
  int64_t buffer = 0;  ///< byte offset of its staging buffer
  int64_t bytes = 0;   ///< of one staged tile
  /// Two stages: the copy of the next iteration's tile is issued once this
  /// one's is converted (and the first before the loop).
  bool prefetch = false;
  /// cp.async: the first site of its loop, which waits for every copy.
  bool waits = false;
};

/// The TMA loads of one kernel and their shared memory: kTmaBarriers
/// mbarriers at `barriers`, then from `staging` (128-byte aligned) either
/// one buffer that the sites share with each other and with wgmma's
/// operand slices (`tileBytes` is the largest staged tile), or, with two
/// stages, `bufferBytes` of per-site buffers and then wgmma's.
struct TmaPlan {
  SmallVector<TmaMap> maps;
  DenseMap<Operation *, TmaSite> sites;
  SmallVector<Operation *> order; ///< the sites in op order
  int64_t barriers = 0, staging = 0, tileBytes = 0, bufferBytes = 0;
  bool twoStages = false;
  /// load = "cp.async": the threads fill the buffers with asynchronous
  /// copies (no maps, mbarriers or kernel arguments; a site's flag is
  /// computed in the kernel from its view). Only prefetching sites.
  bool cpAsync = false;
};

/// The box coordinates of a chunk_load's copy, in the tensor map's order
/// (innermost first).
SmallVector<Value, 4> tmaCoordinates(ChunkLoadOp op) {
  return {op.getCol(), op.getHead(), op.getStart(), op.getBatch()};
}

/// Whether `value` can be computed for another iteration of `loop`: it is
/// defined outside the loop or is its induction variable, or it comes from
/// pure, region-free ops of the loop's body over such values.
bool recomputable(Value value, scf::ForOp loop) {
  if (value == loop.getInductionVar() ||
      !loop.getRegion().isAncestor(value.getParentRegion()))
    return true;
  Operation *def = value.getDefiningOp();
  if (!def || def->getNumRegions() != 0 || !isPure(def))
    return false;
  return llvm::all_of(def->getOperands(),
                      [&](Value operand) { return recomputable(operand, loop); });
}

/// `value` (recomputable) in the iteration of `loop` whose induction
/// variable is `iv`: the ops of the body it depends on are cloned at `b`'s
/// insertion point.
Value valueAt(Value value, scf::ForOp loop, Value iv, OpBuilder &b,
              IRMapping &mapping) {
  if (value == loop.getInductionVar())
    return iv;
  if (!loop.getRegion().isAncestor(value.getParentRegion()))
    return value;
  if (Value known = mapping.lookupOrNull(value))
    return known;
  Operation *def = value.getDefiningOp();
  for (Value operand : def->getOperands())
    mapping.map(operand, valueAt(operand, loop, iv, b, mapping));
  Operation *copy = b.clone(*def, mapping);
  return copy->getResult(cast<OpResult>(value).getResultNumber());
}

/// tmaCoordinates of `op` in the iteration of `loop` whose induction
/// variable is `iv` (every coordinate recomputable), cloned at `b`.
SmallVector<Value, 4> coordinatesAt(ChunkLoadOp op, scf::ForOp loop, Value iv,
                                    OpBuilder &b) {
  IRMapping mapping;
  SmallVector<Value, 4> at;
  for (Value v : tmaCoordinates(op))
    at.push_back(valueAt(v, loop, iv, b, mapping));
  return at;
}

/// Whether `op` runs exactly once per iteration of a loop in the kernel's
/// body (the chunk loop), or once per kernel: then its mbarrier completes
/// one phase per iteration and the parity to wait for is the iteration's.
bool oncePerChunk(Operation *op, gpu::GPUFuncOp kernel) {
  Operation *parent = op->getParentOp();
  if (parent == kernel.getOperation())
    return true;
  auto loop = dyn_cast<scf::ForOp>(parent);
  return loop && loop->getParentOp() == kernel.getOperation();
}

/// Picks the chunk_loads of `kernel` that TMA can serve: a rank-4 f32, f16
/// or bf16 kernel argument read into a tile that is one box
/// (gpuTmaBoxFits), once per chunk. The sites of one tensor share its map
/// when their boxes agree; a site with another box keeps thread loads, as
/// do sites beyond kTmaBarriers.
TmaPlan planTma(gpu::GPUFuncOp kernel, ArrayRef<Operation *> ops) {
  TmaPlan plan;
  Block &entry = kernel.getBody().front();
  for (Operation *op : ops) {
    auto load = dyn_cast<ChunkLoadOp>(op);
    if (!load || plan.sites.size() == static_cast<size_t>(kTmaBarriers))
      continue;
    auto arg = dyn_cast<BlockArgument>(load.getSrc());
    auto type = cast<MemRefType>(load.getSrc().getType());
    Type element = type.getElementType();
    if (!arg || arg.getOwner() != &entry || type.getRank() != 4 ||
        !(element.isF32() || element.isF16() || element.isBF16()) ||
        !oncePerChunk(op, kernel))
      continue;
    const int64_t rows = rowsOf(load.getDst()), cols = colsOf(load.getDst());
    const int64_t bytes = element.getIntOrFloatBitWidth() / 8;
    if (!gpuTmaBoxFits(rows, cols, bytes))
      continue;
    SmallVector<int64_t, 4> box = {cols, 1, rows, 1};
    auto found = llvm::find_if(plan.maps, [&](const TmaMap &map) {
      return map.tensor == arg.getArgNumber();
    });
    if (found != plan.maps.end() && found->box != box)
      continue;
    if (found == plan.maps.end()) {
      plan.maps.push_back(TmaMap{arg.getArgNumber(), box, Value(), Value()});
      found = std::prev(plan.maps.end());
    }
    TmaSite site;
    site.map = static_cast<unsigned>(found - plan.maps.begin());
    site.barrier = 8 * static_cast<int64_t>(plan.sites.size());
    site.bytes = rows * cols * bytes;
    plan.sites[op] = site;
    plan.order.push_back(op);
    plan.tileBytes = std::max(plan.tileBytes, site.bytes);
  }
  return plan;
}

/// The parity of the phase a site's mbarrier completes in this iteration of
/// the chunk loop: the iteration's index mod 2 (0 outside a loop).
Value phaseParity(Operation *op, Emitter &e) {
  auto &b = e.b;
  Value parity = e.idx(0);
  if (auto loop = dyn_cast<scf::ForOp>(op->getParentOp())) {
    Value iteration = arith::DivUIOp::create(
        b, e.sub(loop.getInductionVar(), loop.getLowerBound()),
        loop.getStep());
    parity = e.rem(iteration, 2);
  }
  return arith::IndexCastOp::create(b, b.getI32Type(), parity);
}

Value i32(Emitter &e, Value index) {
  return arith::IndexCastOp::create(e.b, e.b.getI32Type(), index);
}

/// Thread 0's part of a TMA load: make the threads' earlier reads of the
/// site's buffer visible to the async proxy (they were ordered by a
/// barrier), announce the box's bytes on the mbarrier (arrive.expect_tx),
/// and start the copy of the box at `at` (tmaCoordinates' order) into the
/// buffer, which completes them on the same mbarrier. Rows past the end of
/// the tensor arrive as zeros (the map's out-of-bounds fill).
void issueTmaCopy(Emitter &e, const TmaPlan &plan, const TmaSite &site,
                  ArrayRef<Value> at) {
  auto &b = e.b;
  const TmaMap &map = plan.maps[site.map];
  Value barrier = e.sharedPointer(site.barrier);
  Value dst = LLVM::AddrSpaceCastOp::create(
      b, LLVM::LLVMPointerType::get(b.getContext(), 7),
      e.sharedPointer(site.buffer));
  NVVM::FenceProxyOp::create(
      b, NVVM::ProxyKind::async_shared,
      NVVM::SharedSpaceAttr::get(b.getContext(),
                                 NVVM::SharedSpace::shared_cta));
  Value txBytes =
      arith::ConstantOp::create(b, b.getI32IntegerAttr(site.bytes));
  NVVM::MBarrierArriveExpectTxOp::create(b, Type(), barrier, txBytes,
                                         NVVM::MemScopeKind::CTA,
                                         /*relaxed=*/false, Value());
  SmallVector<Value> coordinates;
  for (Value v : at)
    coordinates.push_back(i32(e, v));
  NVVM::CpAsyncBulkTensorGlobalToSharedClusterOp::create(
      b, dst, map.map, coordinates, barrier, ValueRange(), Value(), Value(),
      NVVM::TMALoadMode::TILE, /*isCTAOnly=*/false, NVVM::CTAGroupKindAttr(),
      Value());
}

/// Element `index` of `src` where `inside`, else a zero of its type (what
/// a TMA map's out-of-bounds fill and cp.async's zero fill give), read
/// only where inside.
Value loadOrZero(Emitter &e, Value src, ValueRange index, Value inside) {
  auto &b = e.b;
  Type element = cast<MemRefType>(src.getType()).getElementType();
  auto read = scf::IfOp::create(b, element, inside, /*withElse=*/true);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(read.thenBlock());
  scf::YieldOp::create(b, e.load(src, index));
  b.setInsertionPointToStart(read.elseBlock());
  scf::YieldOp::create(
      b, arith::ConstantOp::create(b, b.getFloatAttr(element, 0.0)).getResult());
  return read.getResult(0);
}

/// What issueTmaCopy does, for running the kernel on a CPU
/// (mma-emulation): thread 0 copies the box at `at` element by element
/// into `staging`, with zeros for coordinates outside the tensor as the
/// tensor map fills them, then counts the phase its copy completes in the
/// mbarrier's place (`model`, an i32 of completed phases).
void emulateTmaCopy(ChunkLoadOp op, Emitter &e, Value staging, int64_t rows,
                    int64_t cols, Value model, ArrayRef<Value> at) {
  auto &b = e.b;
  Value src = op.getSrc();
  SmallVector<Value, 4> dims;
  for (int64_t d = 0; d < 4; ++d)
    dims.push_back(memref::DimOp::create(b, src, d));
  // `at` is innermost first: (col, head, start, batch).
  e.forLoop(e.idx(0), e.idx(rows * cols), e.idx(1), [&](Value i) {
    Value r = e.div(i, cols), c = e.rem(i, cols);
    SmallVector<Value, 4> index = {at[3], e.add(at[2], r), at[1],
                                   e.add(at[0], c)};
    Value inside = e.ult(index[0], dims[0]);
    for (int64_t d = 1; d < 4; ++d)
      inside = arith::AndIOp::create(b, inside, e.ult(index[d], dims[d]));
    e.store(loadOrZero(e, src, index, inside), staging, {i});
  });
  Value zero = e.idx(0);
  Value phases = arith::AddIOp::create(
      b, e.load(model, {zero}),
      arith::ConstantOp::create(b, b.getI32IntegerAttr(1)));
  e.store(phases, model, {zero});
}

/// What the mbarrier wait checks, under mma-emulation (thread 0): the
/// phase of `parity` has completed, that is the count of completed phases
/// in `model` has the other parity. A copy issued for the wrong iteration,
/// or not at all, fails here.
void emulateTmaWait(Emitter &e, Value model, Value parity) {
  auto &b = e.b;
  Value completed = arith::AndIOp::create(
      b, e.load(model, {e.idx(0)}),
      arith::ConstantOp::create(b, b.getI32IntegerAttr(1)));
  cf::AssertOp::create(
      b,
      arith::CmpIOp::create(b, arith::CmpIPredicate::ne, completed, parity),
      "linac: a TMA load waits for an mbarrier phase its copy does not "
      "complete");
}

/// Thread 0 starts the copy of `site`'s box at `at` (or emulates it).
void startTmaCopy(ChunkLoadOp op, Emitter &e, const TmaPlan &plan,
                  const TmaSite &site, ArrayRef<Value> at) {
  const TmaMap &map = plan.maps[site.map];
  Type element = cast<MemRefType>(op.getSrc().getType()).getElementType();
  const int64_t cols = map.box[0], rows = map.box[2];
  if (e.emulateMma)
    emulateTmaCopy(op, e, e.sharedView(site.buffer, rows * cols, element),
                   rows, cols, e.sharedView(site.barrier, 1, e.b.getI32Type()),
                   at);
  else
    issueTmaCopy(e, plan, site, at);
}

/// Every thread waits for the phase of `parity` on `site`'s mbarrier.
void waitTmaCopy(Emitter &e, const TmaSite &site, Value parity) {
  auto &b = e.b;
  if (!e.emulateMma) {
    NVVM::MBarrierTryWaitParityOp::create(
        b, e.sharedPointer(site.barrier), parity,
        arith::ConstantOp::create(b, b.getI32IntegerAttr(kTmaWaitHintNs)));
    return;
  }
  auto first = scf::IfOp::create(b, e.eq(e.threadId(), e.idx(0)),
                                 /*withElse=*/false);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(first.thenBlock()->getTerminator());
  emulateTmaWait(e, e.sharedView(site.barrier, 1, b.getI32Type()), parity);
}

/// An scf.if on `cond` whose then-block `fn` fills (no else).
void ifThen(Emitter &e, Value cond, function_ref<void()> fn) {
  auto ifOp = scf::IfOp::create(e.b, cond, /*withElse=*/false);
  OpBuilder::InsertionGuard guard(e.b);
  e.b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
  fn();
}

Value flagSet(Emitter &e, const TmaMap &map) {
  return arith::CmpIOp::create(
      e.b, arith::CmpIPredicate::ne, map.flag,
      arith::ConstantOp::create(e.b, e.b.getI32IntegerAttr(0)));
}

/// The conversion of chunk_load from a staged tile of `cols` columns (row
/// r at r * cols, the source's element type) in shared memory.
void convertStaged(ChunkLoadOp op, Emitter &e, Value staging, int64_t cols) {
  auto &b = e.b;
  convertChunk(op, e, [&](Value r, Value c) -> Value {
    Value x = e.load(staging, {e.add(e.mul(r, cols), c)});
    if (!x.getType().isF32())
      x = arith::ExtFOp::create(b, b.getF32Type(), x);
    return x;
  });
}

/// chunk_load through TMA when the launch's flag says the runtime encoded
/// the tensor's map: every thread waits for the mbarrier phase of this
/// chunk's copy, then converts the staged tile (16-bit or f32 elements,
/// row r at r * cols). With one stage thread 0 issues that copy right
/// before the wait; with two it was issued an iteration earlier (or before
/// the loop, tmaPrologue), and once every thread has converted the tile
/// thread 0 issues the next iteration's copy into the same buffer, which
/// then overlaps the rest of this iteration. Without the flag the threads
/// read global memory as without TMA.
void lowerTma(ChunkLoadOp op, Emitter &e, const TmaPlan &plan,
              const TmaSite &site) {
  auto &b = e.b;
  const TmaMap &map = plan.maps[site.map];
  Type element = cast<MemRefType>(op.getSrc().getType()).getElementType();
  const int64_t cols = map.box[0], rows = map.box[2];
  Value useTma = flagSet(e, map);
  // Both branches allocate the same scratch (l2norm's row scales).
  const int64_t cursor = e.scratchCursor;
  e.ifThenElse(
      useTma,
      [&] {
        Value staging = e.sharedView(site.buffer, rows * cols, element);
        Value parity = phaseParity(op, e);
        if (!site.prefetch)
          ifThen(e, e.eq(e.threadId(), e.idx(0)), [&] {
            startTmaCopy(op, e, plan, site, tmaCoordinates(op));
          });
        waitTmaCopy(e, site, parity);
        convertStaged(op, e, staging, cols);
        if (!site.prefetch)
          return;
        // Every thread has read the buffer: refill it for the next
        // iteration, if there is one.
        e.barrier();
        auto loop = cast<scf::ForOp>(op->getParentOp());
        Value next = e.add(loop.getInductionVar(), loop.getStep());
        Value issue = arith::AndIOp::create(
            b, e.eq(e.threadId(), e.idx(0)), e.ult(next, loop.getUpperBound()));
        ifThen(e, issue, [&] {
          startTmaCopy(op, e, plan, site, coordinatesAt(op, loop, next, b));
        });
      },
      [&] {
        e.scratchCursor = cursor;
        lower(op, e);
      });
}

/// Before the chunk loop of a two-stage site, between barriers: thread 0
/// issues the copy of the first iteration's tile (when the loop runs and
/// the flag is set), which the first iteration waits for.
void tmaPrologue(ChunkLoadOp op, const TmaPlan &plan, const TmaSite &site,
                 int64_t threads, bool emulate, int64_t scratchBase,
                 int64_t &scratchHigh) {
  auto loop = cast<scf::ForOp>(op->getParentOp());
  Emitter e(loop, threads, Mma::None, emulate, scratchBase, scratchHigh);
  auto &b = e.b;
  e.barrier();
  Value first = loop.getLowerBound();
  Value issue = arith::AndIOp::create(
      b, flagSet(e, plan.maps[site.map]),
      arith::AndIOp::create(b, e.eq(e.threadId(), e.idx(0)),
                            e.ult(first, loop.getUpperBound())));
  ifThen(e, issue, [&] {
    startTmaCopy(op, e, plan, site, coordinatesAt(op, loop, first, b));
  });
  e.barrier();
}

//===----------------------------------------------------------------------===//
// Asynchronous copies (sm_80 and later, schedule load = "cp.async")
//===----------------------------------------------------------------------===//

/// Whether the threads may copy chunks of `src` in 16-byte pieces: its
/// data address and the strides of its three outer dimensions are whole
/// 16-byte units (cp.async's alignment rule for both ends; the tile rows
/// and their column offsets are whole units by planTma's box rule). A
/// uniform i1, computed once before the chunk loop.
Value asyncUsable(Emitter &e, Value src) {
  auto &b = e.b;
  auto type = cast<MemRefType>(src.getType());
  const int64_t bytes = type.getElementType().getIntOrFloatBitWidth() / 8;
  auto metadata = memref::ExtractStridedMetadataOp::create(b, src);
  Value address = memref::ExtractAlignedPointerAsIndexOp::create(b, src);
  address = e.add(address, e.mul(metadata.getOffset(), bytes));
  Value usable = e.eq(e.rem(address, 16), e.idx(0));
  for (int64_t d = 0; d + 1 < type.getRank(); ++d)
    usable = arith::AndIOp::create(
        b, usable,
        e.eq(e.rem(e.mul(metadata.getStrides()[d], bytes), 16), e.idx(0)));
  return usable;
}

/// Every thread starts its share of the copy of `op`'s box at `at`
/// (tmaCoordinates' order) into `site`'s buffer, 16 bytes at a time; rows
/// past the tensor's end are zero-filled from a clamped, valid address.
/// Under mma-emulation the copy is done at once, element by element.
void startAsyncCopy(ChunkLoadOp op, Emitter &e, const TmaPlan &plan,
                    const TmaSite &site, ArrayRef<Value> at) {
  auto &b = e.b;
  const TmaMap &map = plan.maps[site.map];
  Value src = op.getSrc();
  Type element = cast<MemRefType>(src.getType()).getElementType();
  const int64_t bytes = element.getIntOrFloatBitWidth() / 8;
  const int64_t cols = map.box[0], rows = map.box[2];
  const int64_t perPiece = 16 / bytes, piecesPerRow = cols / perPiece;
  Value buffer = e.sharedView(site.buffer, rows * cols, element);
  Value time = memref::DimOp::create(b, src, 1);
  e.forThreads(rows * piecesPerRow, [&](Value i) {
    Value r = e.div(i, piecesPerRow);
    Value c = e.mul(e.rem(i, piecesPerRow), perPiece);
    Value row = e.add(at[2], r);
    Value inside = e.ult(row, time);
    Value valid = arith::SelectOp::create(b, inside, row, at[2]);
    Value dst = e.add(e.mul(r, cols), c);
    SmallVector<Value, 4> index = {at[3], valid, at[1], e.add(at[0], c)};
    if (e.emulateMma) {
      for (int64_t k = 0; k < perPiece; ++k) {
        SmallVector<Value, 4> from = index;
        from[3] = e.add(index[3], k);
        e.store(loadOrZero(e, src, from, inside), buffer, {e.add(dst, k)});
      }
      return;
    }
    Value count = arith::SelectOp::create(b, inside, e.idx(perPiece), e.idx(0));
    nvgpu::DeviceAsyncCopyOp::create(
        b, nvgpu::DeviceAsyncTokenType::get(b.getContext()), buffer,
        ValueRange{dst}, src, index, b.getIndexAttr(perPiece), count,
        /*bypassL1=*/b.getUnitAttr());
  });
  if (!e.emulateMma)
    NVVM::CpAsyncCommitGroupOp::create(b);
}

/// chunk_load through cp.async (two stages). The prologue started every
/// site's first copy, each iteration the next one, all in program order;
/// so at the loop's first site, before anything of this iteration was
/// issued, `cp.async.wait_group 0` and a barrier make every site's tile of
/// this chunk complete and visible, and the other sites need no wait.
/// With the site's flag the threads convert the staged tile, and after a
/// barrier (every thread has read the buffer) start the next chunk's copy
/// into it and commit it; without, they read global memory.
void lowerAsync(ChunkLoadOp op, Emitter &e, const TmaPlan &plan,
                const TmaSite &site) {
  auto &b = e.b;
  const TmaMap &map = plan.maps[site.map];
  Type element = cast<MemRefType>(op.getSrc().getType()).getElementType();
  const int64_t cols = map.box[0], rows = map.box[2];
  if (site.waits) {
    if (!e.emulateMma)
      NVVM::CpAsyncWaitGroupOp::create(b, 0);
    e.barrier();
  }
  const int64_t cursor = e.scratchCursor;
  e.ifThenElse(
      map.flag,
      [&] {
        Value staging = e.sharedView(site.buffer, rows * cols, element);
        convertStaged(op, e, staging, cols);
        e.barrier();
        auto loop = cast<scf::ForOp>(op->getParentOp());
        Value next = e.add(loop.getInductionVar(), loop.getStep());
        ifThen(e, e.ult(next, loop.getUpperBound()), [&] {
          startAsyncCopy(op, e, plan, site, coordinatesAt(op, loop, next, b));
        });
      },
      [&] {
        e.scratchCursor = cursor;
        lower(op, e);
      });
}

/// Before the chunk loop of a cp.async site: its flag (asyncUsable of the
/// view, kept in the plan for the loop) and, with it, every thread's share
/// of the first chunk's copy.
void asyncPrologue(ChunkLoadOp op, TmaPlan &plan, const TmaSite &site,
                   int64_t threads, bool emulate, int64_t scratchBase,
                   int64_t &scratchHigh) {
  auto loop = cast<scf::ForOp>(op->getParentOp());
  Emitter e(loop, threads, Mma::None, emulate, scratchBase, scratchHigh);
  auto &b = e.b;
  TmaMap &map = plan.maps[site.map];
  map.flag = asyncUsable(e, op.getSrc());
  Value first = loop.getLowerBound();
  ifThen(e,
         arith::AndIOp::create(b, map.flag,
                               e.ult(first, loop.getUpperBound())),
         [&] {
           startAsyncCopy(op, e, plan, site, coordinatesAt(op, loop, first, b));
         });
}

/// At the start of a kernel with TMA loads, between two barriers: thread 0
/// initializes every site's mbarrier for one arrival (its own
/// arrive.expect_tx) and makes the initialization visible to the async
/// proxy that completes the copies; the barrier after it publishes them to
/// the other threads. The mbarriers live as long as the kernel and their
/// memory is never reused, so they are not invalidated. Under
/// mma-emulation each becomes an i32 counter of completed phases, set to 0.
void initTmaBarriers(gpu::GPUFuncOp kernel, const TmaPlan &plan,
                     int64_t threads, bool emulate, int64_t &scratchHigh) {
  Block &entry = kernel.getBody().front();
  Emitter e(&entry.front(), threads, Mma::None, emulate, 0, scratchHigh);
  auto &b = e.b;
  // A barrier first, so that thread 0's stores are alone in their barrier
  // interval (linac-emulate-gpu runs uniform side effects once).
  e.barrier();
  auto first = scf::IfOp::create(b, e.eq(e.threadId(), e.idx(0)),
                                 /*withElse=*/false);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(first.thenBlock()->getTerminator());
    Value one = arith::ConstantOp::create(b, b.getI32IntegerAttr(1));
    Value zero = arith::ConstantOp::create(b, b.getI32IntegerAttr(0));
    for (size_t s = 0; s < plan.sites.size(); ++s) {
      const int64_t offset = plan.barriers + 8 * static_cast<int64_t>(s);
      if (emulate)
        e.store(zero, e.sharedView(offset, 1, b.getI32Type()), {e.idx(0)});
      else
        NVVM::MBarrierInitOp::create(b, e.sharedPointer(offset), one, Value());
    }
    if (!emulate)
      NVVM::FenceMbarrierInitOp::create(b);
  }
  e.barrier();
}

void lower(ChunkStoreOp op, Emitter &e) {
  auto &b = e.b;
  Value src = op.getSrc();
  const int64_t cols = colsOf(src);
  Type element = cast<MemRefType>(op.getDst().getType()).getElementType();
  e.forThreads(arith::MulIOp::create(b, op.getLen(), e.idx(cols)),
               [&](Value i) {
                 Value r = e.div(i, cols), c = e.rem(i, cols);
                 Value x = e.load(src, {r, c});
                 if (!element.isF32())
                   x = arith::TruncFOp::create(b, element, x);
                 e.store(x, op.getDst(),
                         {op.getBatch(), e.add(op.getStart(), r), op.getHead(),
                          e.add(op.getCol(), c)});
               });
}

void lower(ChunkGatesOp op, Emitter &e) {
  const int64_t rows = rowsOf(op.getG()), cols = colsOf(op.getG());
  const int64_t sub = op.getSubChunk();
  // One thread per (gate column, sub-chunk): the forward scan writes the
  // decays and inclusive prefix products, the backward one the exclusive
  // suffix products, exactly as on the CPU.
  e.forThreads((rows / sub) * cols, [&](Value i) {
    Value c = e.rem(i, cols);
    Value s0 = e.mul(e.div(i, cols), sub);
    e.forLoop(e.idx(0), e.idx(sub), e.idx(1), {e.f32(1.0f)},
              [&](Value r, ValueRange acc) -> SmallVector<Value> {
                Value row = e.add(s0, r);
                Value d = math::ExpOp::create(e.b, e.load(op.getG(), {row, c}));
                e.store(d, op.getDecay(), {row, c});
                Value p = e.mulf(acc[0], d);
                e.store(p, op.getPrefix(), {row, c});
                return {p};
              });
    e.forLoop(e.idx(0), e.idx(sub), e.idx(1), {e.f32(1.0f)},
              [&](Value r, ValueRange acc) -> SmallVector<Value> {
                Value row = e.sub(e.add(s0, sub - 1), r);
                e.store(acc[0], op.getSuffix(), {row, c});
                return {e.mulf(acc[0], e.load(op.getDecay(), {row, c}))};
              });
  });
}

void lower(ChunkInterOp op, Emitter &e) {
  Value q = op.getQ(), state = op.getState(), o = op.getO();
  const int64_t rows = rowsOf(q), keys = colsOf(q), values = colsOf(o);
  const int64_t sub = op.getSubChunk();
  Value prefix = op.getGates().empty() ? Value() : op.getGates()[0];
  Value carry;
  if (prefix)
    carry = subChunkCarries(e, prefix, sub, /*backward=*/false);
  // o[i] = (q[i] * prod(decay[0 .. i])) S, the product being the sub-chunks
  // before i's (carry) times i's own prefix.
  auto a = [&](Value i, Value key) -> Value {
    Value x = e.load(q, {i, key});
    if (!prefix)
      return x;
    return e.mulf(x, e.mulf(e.gate(carry, e.div(i, sub), key),
                            e.gate(prefix, i, key)));
  };
  auto bt = [&](Value key, Value n) { return e.load(state, {key, n}); };
  e.matmul(
      rows, values, keys, [&](Value, int64_t) { return e.idx(keys); }, a, bt,
      nullptr, [&](Value i, Value n, Value x) { e.store(x, o, {i, n}); });
}

void lower(ChunkAttendOp op, Emitter &e) {
  Value scores = op.getScores(), v = op.getV(), o = op.getO();
  const int64_t rows = rowsOf(scores), values = colsOf(o);
  // Scores are zero above the diagonal: rows [r0, r0 + n) need columns
  // below r0 + n only.
  auto kEnd = [&](Value rowStart, int64_t n) -> Value {
    return arith::MinUIOp::create(e.b, e.add(rowStart, n), e.idx(rows));
  };
  e.matmul(
      rows, values, rows, kEnd,
      [&](Value i, Value j) { return e.load(scores, {i, j}); },
      [&](Value j, Value n) { return e.load(v, {j, n}); },
      [&](Value i, Value n) { return e.load(o, {i, n}); },
      [&](Value i, Value n, Value x) { e.store(x, o, {i, n}); });
}

void lower(ChunkStateUpdateOp op, Emitter &e) {
  Value k = op.getK(), v = op.getV(), state = op.getState();
  Value pairKeys = op.getB(), pairValues = op.getW();
  const int64_t rows = rowsOf(k), keys = colsOf(k), values = colsOf(state);
  const int64_t sub = op.getSubChunk();
  Value prefix, suffix, carry;
  if (!op.getGates().empty()) {
    prefix = op.getGates()[0];
    suffix = op.getGates()[1];
    carry = subChunkCarries(e, prefix, sub, /*backward=*/true);
  }
  // S[key] = prod(decay[0 .. C-1]) S[key]
  //          + sum_j (k[j, key] * prod(decay[j+1 .. C-1])) v[j],
  // the product after j being what is left of j's sub-chunk (suffix) times
  // the whole sub-chunks after it (the backward carry). With pair(b, w), a
  // second sum of the same form over b and w joins the same accumulators:
  // the state is decayed once.
  auto decayedToEnd = [&](Value tile, Value key, Value j) -> Value {
    Value x = e.load(tile, {j, key});
    if (!prefix)
      return x;
    return e.mulf(x, e.mulf(e.gate(suffix, j, key),
                            e.gate(carry, e.div(j, sub), key)));
  };
  auto init = [&](Value key, Value n) -> Value {
    Value s = e.load(state, {key, n});
    if (!prefix)
      return s;
    return e.mulf(s, e.gate(carry, e.idx(rows / sub), key));
  };
  auto allRows = [&](Value, int64_t) { return e.idx(rows); };
  auto a = [&](Value key, Value j) { return decayedToEnd(k, key, j); };
  auto bt = [&](Value j, Value n) { return e.load(v, {j, n}); };
  auto pairA = [&](Value key, Value j) {
    return decayedToEnd(pairKeys, key, j);
  };
  auto pairBt = [&](Value j, Value n) { return e.load(pairValues, {j, n}); };
  SmallVector<Emitter::Term, 2> terms = {{allRows, a, bt}};
  if (pairKeys)
    terms.push_back({allRows, pairA, pairBt});
  e.matmul(keys, values, rows, terms, init,
           [&](Value key, Value n, Value x) { e.store(x, state, {key, n}); });
}

/// Scores on CUDA cores: one thread per (i, j) of the C x C tile.
void lowerScoresSimt(ChunkScoresOp op, Emitter &e, const Gates *g) {
  Value q = op.getQ(), k = op.getK(), scores = op.getScores();
  const int64_t rows = rowsOf(q), keys = colsOf(q);
  const bool perKey = g && colsOf(g->decay) != 1;
  auto dot = [&](Value i, Value j, function_ref<Value(Value)> factor) {
    return e.forLoop(e.idx(0), e.idx(keys), e.idx(1), {e.f32(0.0f)},
                     [&](Value key, ValueRange acc) -> SmallVector<Value> {
                       Value x = e.mulf(e.load(q, {i, key}),
                                        e.load(k, {j, key}));
                       if (factor)
                         x = e.mulf(x, factor(key));
                       return {arith::AddFOp::create(e.b, x, acc[0])};
                     })[0];
  };
  e.forThreads(rows * rows, [&](Value el) {
    Value i = e.div(el, rows), j = e.rem(el, rows);
    Value x = e.select(
        e.ult(i, j), [&] { return e.f32(0.0f); },
        [&]() -> Value {
          if (!g)
            return dot(i, j, nullptr);
          if (!perKey)
            return e.mulf(dot(i, j, nullptr),
                          decayBetween(e, *g, j, i, e.idx(0)));
          // Per-key decays: the factor depends on the key; which form it
          // takes depends only on the pair.
          Value same = e.eq(e.div(i, g->sub), e.div(j, g->sub));
          return e.select(
              same,
              [&] {
                return dot(i, j,
                           [&](Value key) { return decayRun(e, *g, j, i, key); });
              },
              [&] {
                return dot(i, j, [&](Value key) {
                  return decayAcross(e, *g, j, i, key);
                });
              });
        });
    e.store(x, scores, {i, j});
  });
}

/// Scores on tensor cores, one 16 x 8 fragment per warp step. A fragment
/// spans one sub-chunk of rows (16) and half of one of columns, so it lies
/// wholly above the diagonal (zero), wholly below it, or on a diagonal
/// sub-chunk block. Blocks below are products of q and k with the decays
/// folded into the operands; diagonal blocks of per-key decays need a
/// different product per pair and are computed per element.
void lowerScoresMma(ChunkScoresOp op, Emitter &e, const Gates *g) {
  Value q = op.getQ(), k = op.getK(), scores = op.getScores();
  const int64_t rows = rowsOf(q), keys = colsOf(q);
  const bool perKey = g && colsOf(g->decay) != 1;
  Emitter::Lanes l = e.lanes();
  e.forEachFragment(l, rows, rows, [&](Value m0, Value n0) {
    auto each = [&](function_ref<Value(Value, Value, int)> value) {
      for (int el = 0; el < 4; ++el) {
        Value i = e.accRow(l, m0, el), j = e.accCol(l, n0, el);
        e.store(value(i, j, el), scores, {i, j});
      }
    };
    // Mask and scalar decay of element (i, j) of a fragment that is not
    // above the diagonal.
    auto finish = [&](Value i, Value j, Value x) -> Value {
      return e.select(
          e.ult(i, j), [&] { return e.f32(0.0f); },
          [&]() -> Value {
            if (!g || perKey)
              return x;
            return e.mulf(x, decayBetween(e, *g, j, i, e.idx(0)));
          });
    };
    auto product = [&](bool below) {
      Value blockI = e.div(m0, 16), blockJ = e.div(n0, 16);
      auto a = [&](Value i, Value key) -> Value {
        Value x = e.load(q, {i, key});
        if (!perKey || !below)
          return x;
        return e.mulf(x, e.mulf(e.gate(g->prefix, i, key),
                                subChunksBetween(e, *g, blockJ, blockI, key)));
      };
      auto bt = [&](Value key, Value j) -> Value {
        Value x = e.load(k, {j, key});
        if (!perKey || !below)
          return x;
        return e.mulf(x, e.gate(g->suffix, j, key));
      };
      SmallVector<Value> acc = e.mmaReduce(
          l, m0, n0, e.idx(keys), a, bt,
          SmallVector<Value>(4, e.f32(0.0f)));
      each([&](Value i, Value j, int el) { return finish(i, j, acc[el]); });
    };
    Value above = arith::CmpIOp::create(e.b, arith::CmpIPredicate::uge, n0,
                                        e.add(m0, 16));
    Value below = e.ult(n0, m0);
    e.ifThenElse(
        above, [&] { each([&](Value, Value, int) { return e.f32(0.0f); }); },
        [&] {
          if (!perKey)
            return product(/*below=*/false);
          e.ifThenElse(
              below, [&] { product(/*below=*/true); },
              [&] {
                each([&](Value i, Value j, int) {
                  return finish(i, j, [&] {
                    return e.forLoop(
                        e.idx(0), e.idx(keys), e.idx(1), {e.f32(0.0f)},
                        [&](Value key, ValueRange acc) -> SmallVector<Value> {
                          // Clamped so that the pairs the mask drops
                          // (j > i) still read in-range rows.
                          Value jj = arith::MinUIOp::create(e.b, j, i);
                          Value x = e.mulf(e.load(q, {i, key}),
                                           e.load(k, {jj, key}));
                          x = e.mulf(x, decayRun(e, *g, jj, i, key));
                          return {arith::AddFOp::create(e.b, x, acc[0])};
                        })[0];
                  }());
                });
              });
        });
  });
}

void lower(ChunkScoresOp op, Emitter &e) {
  Gates gates;
  const Gates *g = nullptr;
  if (!op.getGates().empty()) {
    gates = {op.getGates()[0], op.getGates()[1], op.getGates()[2],
             static_cast<int64_t>(op.getSubChunk())};
    g = &gates;
  }
  const int64_t rows = rowsOf(op.getQ()), keys = colsOf(op.getQ());
  if (op.getSubChunk() == 16 && e.mmaFits(rows, rows, keys))
    lowerScoresMma(op, e, g);
  else
    lowerScoresSimt(op, e, g);
}

/// Forward substitution through a unit lower-triangular system of `rows`
/// rows, every column of `out` on its own:
///
///   out[t][c] = finish(t, base(t, c) + sum_{j<t} coef(t, j) out[j][c])
///
/// Row t needs the rows before it, but only in its own column, so the
/// columns are solved in parallel. Rows go in blocks of 16: first all
/// threads add the solved blocks' part of each row's sum (an ordinary
/// parallel reduction over the whole block x cols), then one thread per
/// column walks the 16 rows of the block in order for the rest. That
/// leaves 16 rows of dependent work per block instead of `rows`, with two
/// barriers per block. The sum runs over j in increasing order from
/// base(t, c), like the CPU's, so both compute the same roundings; only
/// f32 FMAs on CUDA cores (the numerics policy keeps the delta residual
/// and the dplr reads in f32).
void forwardSubstitute(Emitter &e, Value out, int64_t rows, int64_t cols,
                       ElementFn base, function_ref<Value(Value, Value)> coef,
                       function_ref<Value(Value, Value)> finish) {
  const int64_t block = rows % 16 == 0 ? 16 : rows;
  e.forLoop(e.idx(0), e.idx(rows), e.idx(block), [&](Value r0) {
    e.forThreads(block * cols, [&](Value el) {
      Value t = e.add(r0, e.div(el, cols)), c = e.rem(el, cols);
      Value acc =
          e.forLoop(e.idx(0), r0, e.idx(1), {base(t, c)},
                    [&](Value j, ValueRange acc) -> SmallVector<Value> {
                      return {e.fma(coef(t, j), e.load(out, {j, c}), acc[0])};
                    })[0];
      e.store(acc, out, {t, c});
    });
    e.barrier();
    e.forThreads(cols, [&](Value c) {
      e.forLoop(r0, e.add(r0, block), e.idx(1), [&](Value t) {
        Value acc =
            e.forLoop(r0, t, e.idx(1), {e.load(out, {t, c})},
                      [&](Value j, ValueRange acc) -> SmallVector<Value> {
                        return {e.fma(coef(t, j), e.load(out, {j, c}), acc[0])};
                      })[0];
        e.store(finish(t, acc), out, {t, c});
      });
    });
    e.barrier();
  });
}

/// u[t] = beta[t] (v[t] - ks[t] - sum_{j<t} kk[t, j] u[j]).
void lower(ChunkDeltaSolveOp op, Emitter &e) {
  Value kk = op.getKk(), beta = op.getBeta(), v = op.getV(), ks = op.getKs();
  Value c0 = e.idx(0);
  forwardSubstitute(
      e, op.getU(), rowsOf(kk), colsOf(v),
      [&](Value t, Value c) {
        return arith::SubFOp::create(e.b, e.load(v, {t, c}),
                                     e.load(ks, {t, c}));
      },
      [&](Value t, Value j) {
        return arith::NegFOp::create(e.b, e.load(kk, {t, j}));
      },
      [&](Value t, Value x) { return e.mulf(x, e.load(beta, {t, c0})); });
}

/// w[t] = rhs[t] + sum_{j<t} ab[t, j + 1] w[j].
void lower(ChunkDplrSolveOp op, Emitter &e) {
  Value ab = op.getAb(), rhs = op.getRhs();
  forwardSubstitute(
      e, op.getW(), rowsOf(ab), colsOf(rhs),
      [&](Value t, Value c) { return e.load(rhs, {t, c}); },
      [&](Value t, Value j) { return e.load(ab, {t, e.add(j, 1)}); },
      [&](Value, Value x) { return x; });
}

/// dst[0] = carry; dst[r] = src[r - 1]; then carry = src[len - 1] when
/// len > 0. The barrier between keeps every read of the old carry before
/// its overwrite.
void lower(TileShiftRowsOp op, Emitter &e) {
  Value src = op.getSrc(), carry = op.getCarry(), dst = op.getDst();
  const int64_t rows = rowsOf(dst), cols = colsOf(dst);
  Value c0 = e.idx(0);
  e.forThreads(rows * cols, [&](Value el) {
    Value r = e.div(el, cols), c = e.rem(el, cols);
    Value x = e.select(
        e.eq(r, c0), [&] { return e.load(carry, {c0, c}); },
        [&] { return e.load(src, {e.sub(r, e.idx(1)), c}); });
    e.store(x, dst, {r, c});
  });
  e.barrier();
  Value any =
      arith::CmpIOp::create(e.b, arith::CmpIPredicate::sgt, op.getLen(), c0);
  auto ifOp = scf::IfOp::create(e.b, any, /*withElse=*/false);
  OpBuilder::InsertionGuard guard(e.b);
  e.b.setInsertionPointToStart(ifOp.thenBlock());
  Value last = e.sub(op.getLen(), e.idx(1));
  e.forThreads(
      cols, [&](Value c) { e.store(e.load(src, {last, c}), carry, {c0, c}); });
}

/// sum_key x[xRow, key] y[yRow, key] z[0, key], in key order.
Value tripleDot(Emitter &e, Value x, Value xRow, Value y, Value yRow, Value z) {
  Value c0 = e.idx(0);
  return e.forLoop(e.idx(0), e.idx(colsOf(x)), e.idx(1), {e.f32(0.0f)},
                   [&](Value key, ValueRange acc) -> SmallVector<Value> {
                     Value xy =
                         e.mulf(e.load(x, {xRow, key}), e.load(y, {yRow, key}));
                     return {e.fma(xy, e.load(z, {c0, key}), acc[0])};
                   })[0];
}

/// o[r] += ((q[r] ⊙ u) · k[r]) v[r]: one thread per row for the weights
/// (in scratch), then one per element.
void lower(ChunkBonusOp op, Emitter &e) {
  Value q = op.getQ(), k = op.getK(), u = op.getU(), v = op.getV(),
        o = op.getO();
  const int64_t rows = rowsOf(q), cols = colsOf(v);
  Value c0 = e.idx(0);
  Value weights = e.scratch(rows, 1);
  e.forThreads(rows, [&](Value r) {
    e.store(tripleDot(e, q, r, k, r, u), weights, {r, c0});
  });
  e.barrier();
  e.forThreads(rows * cols, [&](Value el) {
    Value r = e.div(el, cols), c = e.rem(el, cols);
    e.store(
        e.fma(e.load(weights, {r, c0}), e.load(v, {r, c}), e.load(o, {r, c})),
        o, {r, c});
  });
}

/// phi[r] = scale [1, x[r], vec(x[r] x[r]ᵀ) / √2, 0 ...] for r < len,
/// zeros elsewhere: one thread per element, which works out from its
/// column which feature it holds.
void lower(TileTaylor2Op op, Emitter &e) {
  Value x = op.getX(), phi = op.getPhi(), len = op.getLen();
  const int64_t rows = rowsOf(phi), cols = colsOf(phi), keys = colsOf(x);
  const float scale = op.getScale() ? op.getScale()->convertToFloat() : 1.0f;
  const float pairScale = scale * llvm::numbers::inv_sqrt2f;
  Value c0 = e.idx(0);
  e.forThreads(rows * cols, [&](Value el) {
    Value r = e.div(el, cols), c = e.rem(el, cols);
    auto pair = [&]() -> Value {
      Value p = e.sub(c, e.idx(1 + keys));
      Value xi = e.load(x, {r, e.div(p, keys)});
      Value xj = e.load(x, {r, e.rem(p, keys)});
      return e.mulf(e.mulf(xi, e.f32(pairScale)), xj);
    };
    auto feature = [&]() -> Value {
      return e.select(
          e.eq(c, c0), [&] { return e.f32(scale); },
          [&] {
            return e.select(
                e.ult(c, e.idx(1 + keys)),
                [&] {
                  return e.mulf(e.load(x, {r, e.sub(c, e.idx(1))}),
                                e.f32(scale));
                },
                [&] {
                  return e.select(e.ult(c, e.idx(1 + keys + keys * keys)),
                                  pair, [&] { return e.f32(0.0f); });
                });
          });
    };
    e.store(e.select(e.ult(r, len), feature, [&] { return e.f32(0.0f); }),
            phi, {r, c});
  });
}

/// o[r] <- o[r] / (den[r, 0] + eps): one thread per element.
void lower(ChunkNormalizeOp op, Emitter &e) {
  Value o = op.getO(), den = op.getDen();
  const int64_t rows = rowsOf(o), cols = colsOf(o);
  Value eps = arith::ConstantOp::create(e.b, op.getEpsAttr());
  Value c0 = e.idx(0);
  e.forThreads(rows * cols, [&](Value el) {
    Value r = e.div(el, cols), c = e.rem(el, cols);
    Value d = arith::AddFOp::create(e.b, e.load(den, {r, c0}), eps);
    e.store(arith::DivFOp::create(e.b, e.load(o, {r, c}), d), o, {r, c});
  });
}

/// One decode step. The state streams from and to global memory (read once
/// per pass, written once); each value column's keys are split into
/// `parts` ranges, one thread per (range, column), and the partial sums
/// over keys meet in shared memory. The beta and lowrank forms need a
/// reduction over the whole state before any row of the new state, so
/// they read it twice, as on the CPU.
void lower(RecurrentStepOp op, Emitter &e) {
  const int64_t keys = colsOf(op.getQ()), values = colsOf(op.getV());
  const int64_t parts = std::max<int64_t>(e.threads / values, 1);
  const int64_t perPart = (keys + parts - 1) / parts;
  Value c0 = e.idx(0);
  Value q = op.getQ(), k = op.getK(), v = op.getV(), o = op.getO();
  Value stateIn = op.getStateIn(), stateOut = op.getStateOut();
  Value decay = op.getGates().empty() ? Value() : op.getGates()[0];

  // Diag(decay) S_in at (key, n).
  auto decayed = [&](Value key, Value n) -> Value {
    Value s = e.load(stateIn, {key, n});
    return decay ? e.mulf(s, e.gate(decay, c0, key)) : s;
  };
  // Runs `body` over the keys of every (range, column) with `sums`
  // loop-carried f32 sums from zero, and stores them to the rows `part` of
  // the `partials` tiles.
  auto overKeys =
      [&](ArrayRef<Value> partials,
          function_ref<SmallVector<Value>(Value, Value, ValueRange)> body) {
        e.forThreads(parts * values, [&](Value i) {
          Value n = e.rem(i, values), part = e.div(i, values);
          Value begin = e.mul(part, perPart);
          Value end =
              arith::MinUIOp::create(e.b, e.add(begin, perPart), e.idx(keys));
          SmallVector<Value> init(partials.size(), e.f32(0.0f));
          SmallVector<Value> sums = e.forLoop(
              begin, end, e.idx(1), init,
              [&](Value key, ValueRange acc) { return body(key, n, acc); });
          for (auto [tile, sum] : llvm::zip(partials, sums))
            e.store(sum, tile, {part, n});
        });
      };
  // The whole sum of column n of a partials tile.
  auto total = [&](Value partials, Value n) -> Value {
    return e.forLoop(
        e.idx(0), e.idx(parts), e.idx(1), {e.f32(0.0f)},
        [&](Value p, ValueRange acc) -> SmallVector<Value> {
          return {arith::AddFOp::create(e.b, acc[0], e.load(partials, {p, n}))};
        })[0];
  };

  if (Value beta = op.getBeta()) {
    // Pass 1: S'ᵀ k and S'ᵀ q.
    Value keyPart = e.scratch(parts, values),
          queryPart = e.scratch(parts, values);
    Value residual = e.scratch(1, values);
    overKeys({keyPart, queryPart},
             [&](Value key, Value n, ValueRange acc) -> SmallVector<Value> {
               Value s = decayed(key, n);
               return {e.fma(e.load(k, {c0, key}), s, acc[0]),
                       e.fma(e.load(q, {c0, key}), s, acc[1])};
             });
    e.barrier();
    // r = beta (v - S'ᵀ k), formed in f32; o = S'ᵀ q + (k · q) r.
    e.forThreads(values, [&](Value n) {
      Value kq = e.forLoop(
          e.idx(0), e.idx(keys), e.idx(1), {e.f32(0.0f)},
          [&](Value key, ValueRange acc) -> SmallVector<Value> {
            return {e.fma(e.load(k, {c0, key}), e.load(q, {c0, key}), acc[0])};
          })[0];
      Value r = e.mulf(
          e.load(beta, {c0, c0}),
          arith::SubFOp::create(e.b, e.load(v, {c0, n}), total(keyPart, n)));
      e.store(r, residual, {c0, n});
      e.store(e.fma(kq, r, total(queryPart, n)), o, {c0, n});
    });
    e.barrier();
    // Pass 2: S_out = S' + k rᵀ, one thread per element.
    e.forThreads(keys * values, [&](Value i) {
      Value key = e.div(i, values), n = e.rem(i, values);
      e.store(e.fma(e.load(k, {c0, key}), e.load(residual, {c0, n}),
                    decayed(key, n)),
              stateOut, {key, n});
    });
    return;
  }

  Value outPart = e.scratch(parts, values);
  if (Value a = op.getA()) {
    // dplr. Pass 1: w = S_inᵀ a.
    Value readPart = e.scratch(parts, values), read = e.scratch(1, values);
    overKeys({readPart},
             [&](Value key, Value n, ValueRange acc) -> SmallVector<Value> {
               return {e.fma(e.load(a, {c0, key}), e.load(stateIn, {key, n}),
                             acc[0])};
             });
    e.barrier();
    e.forThreads(values,
                 [&](Value n) { e.store(total(readPart, n), read, {c0, n}); });
    e.barrier();
    // Pass 2: S_out = D S_in + b wᵀ + k vᵀ and o = S_outᵀ q.
    Value b = op.getB();
    overKeys({outPart},
             [&](Value key, Value n, ValueRange acc) -> SmallVector<Value> {
               Value s = e.fma(e.load(b, {c0, key}), e.load(read, {c0, n}),
                               decayed(key, n));
               s = e.fma(e.load(k, {c0, key}), e.load(v, {c0, n}), s);
               e.store(s, stateOut, {key, n});
               return {e.fma(e.load(q, {c0, key}), s, acc[0])};
             });
    e.barrier();
    e.forThreads(values,
                 [&](Value n) { e.store(total(outPart, n), o, {c0, n}); });
    return;
  }

  // S_out = D S_in + k vᵀ in one pass; o = S_outᵀ q, or with RWKV-6's
  // bonus o = S_inᵀ q + ((q ⊙ u) · k) v.
  // S_in is read before S_out is written: they may be the same window.
  Value bonus = op.getBonus();
  overKeys({outPart},
           [&](Value key, Value n, ValueRange acc) -> SmallVector<Value> {
             Value old = e.load(stateIn, {key, n});
             Value s = decay ? e.mulf(old, e.gate(decay, c0, key)) : old;
             s = e.fma(e.load(k, {c0, key}), e.load(v, {c0, n}), s);
             e.store(s, stateOut, {key, n});
             return {e.fma(e.load(q, {c0, key}), bonus ? old : s, acc[0])};
           });
  e.barrier();
  e.forThreads(values, [&](Value n) {
    Value sum = total(outPart, n);
    if (bonus)
      sum = e.fma(tripleDot(e, q, c0, k, c0, bonus), e.load(v, {c0, n}), sum);
    e.store(sum, o, {c0, n});
  });
}

/// The tiles `op` reads (read = true) or writes.
SmallVector<Value> tilesOf(Operation *op, bool read) {
  SmallVector<Value> tiles;
  auto effects = dyn_cast<MemoryEffectOpInterface>(op);
  if (!effects)
    return tiles;
  SmallVector<MemoryEffects::EffectInstance> instances;
  effects.getEffects(instances);
  for (const MemoryEffects::EffectInstance &effect : instances)
    if (Value value = effect.getValue();
        value && (read ? isa<MemoryEffects::Read>(effect.getEffect())
                       : isa<MemoryEffects::Write>(effect.getEffect())))
      tiles.push_back(value);
  return tiles;
}

/// The matmul-shaped ops that stay in f32 on CUDA cores even when the
/// kernel has tensor cores: those that read what a forward substitution
/// (chunk_delta_solve, chunk_dplr_solve) solves for, and those whose results
/// it reads, directly or through earlier ops of the same chunk. So the
/// delta residual v - S'ᵀk (SEMANTICS.md: formed in f32), dplr's reads aᵀS,
/// and the solved U and W never pass through a 16-bit operand. Rounding U
/// to bf16 on its way into the state update, as the other products round
/// their operands, adds an error of about 2^-9 |U| to every write; a
/// reflection (the delta rule with beta = 2, no decay) keeps all of them,
/// and under emulation the bf16 delta rule reached 9e-3 (o and ht) at
/// T = 1000, against 5e-3 allowed. With these products in f32 it measures
/// 2.3e-3 (o) and 1.3e-6 (ht). The query side (Q S, Q Kᵀ) keeps the tensor
/// cores.
DenseSet<Operation *> f32Products(gpu::GPUFuncOp kernel) {
  DenseSet<Operation *> result;
  SmallVector<std::pair<Value, Operation *>> work; // (tile, its reader)
  auto isProduct = [](Operation *op) {
    return isa<ChunkScoresOp, ChunkInterOp, ChunkAttendOp, ChunkStateUpdateOp>(
        op);
  };
  kernel.walk([&](Operation *op) {
    SmallVector<Value> inputs;
    Value solved;
    if (auto solve = dyn_cast<ChunkDeltaSolveOp>(op)) {
      inputs = {solve.getKk(), solve.getKs()};
      solved = solve.getU();
    } else if (auto solve = dyn_cast<ChunkDplrSolveOp>(op)) {
      inputs = {solve.getAb(), solve.getRhs()};
      solved = solve.getW();
    } else {
      return;
    }
    for (Value tile : inputs)
      work.push_back({tile, op});
    for (Operation *next = op->getNextNode(); next; next = next->getNextNode())
      if (isProduct(next) &&
          llvm::is_contained(tilesOf(next, /*read=*/true), solved))
        result.insert(next);
  });
  while (!work.empty()) {
    auto [tile, reader] = work.pop_back_val();
    for (Operation *op = reader->getPrevNode(); op; op = op->getPrevNode()) {
      if (!isProduct(op) ||
          !llvm::is_contained(tilesOf(op, /*read=*/false), tile) ||
          !result.insert(op).second)
        continue;
      for (Value input : tilesOf(op, /*read=*/true))
        work.push_back({input, op});
    }
  }
  return result;
}

/// Drops a barrier that directly follows another (only constants between):
/// the ops fence both sides, so consecutive ops leave pairs behind.
void dropRedundantBarriers(gpu::GPUFuncOp kernel) {
  SmallVector<gpu::BarrierOp> redundant;
  kernel.walk([&](gpu::BarrierOp barrier) {
    for (Operation *prev = barrier->getPrevNode(); prev;
         prev = prev->getPrevNode()) {
      if (isa<gpu::BarrierOp>(prev)) {
        redundant.push_back(barrier);
        break;
      }
      if (!isa<arith::ConstantOp>(prev))
        break;
    }
  });
  for (gpu::BarrierOp barrier : redundant)
    barrier.erase();
}

struct LowerChunkGpuPass
    : linac::impl::LinacLowerChunkGpuBase<LowerChunkGpuPass> {
  using LinacLowerChunkGpuBase::LinacLowerChunkGpuBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    WalkResult result = module.walk([&](gpu::GPUFuncOp kernel) {
      return succeeded(lowerKernel(kernel)) ? WalkResult::advance()
                                            : WalkResult::interrupt();
    });
    if (result.wasInterrupted())
      signalPassFailure();
  }

  LogicalResult lowerKernel(gpu::GPUFuncOp kernel) {
    SmallVector<Operation *> ops;
    kernel.walk([&](Operation *op) {
      if (isa<TileZeroOp, TileCopyOp, ChunkLoadOp, ChunkStoreOp, ChunkGatesOp,
              ChunkScoresOp, ChunkAttendOp, ChunkInterOp, ChunkStateUpdateOp,
              ChunkDeltaSolveOp, ChunkDplrSolveOp, TileShiftRowsOp,
              ChunkBonusOp, ChunkNormalizeOp, TileTaylor2Op, RecurrentStepOp>(op))
        ops.push_back(op);
    });
    // A linac op without a block-cooperative form here would reach the
    // NVVM lowering and fail there, in words that do not name the op.
    WalkResult unknown = kernel.walk([&](Operation *op) {
      if (isa<LinacDialect>(op->getDialect()) && !llvm::is_contained(ops, op)) {
        op->emitOpError() << "has no block-cooperative lowering "
                             "(linac-lower-chunk-gpu lowers the chunked-scan "
                             "ops of linac-chunk only)";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (unknown.wasInterrupted())
      return failure();
    if (ops.empty())
      return success();
    auto blockSize = kernel.getKnownBlockSizeAttr();
    if (!blockSize || blockSize.size() != 3 || blockSize[0] % 32 != 0 ||
        blockSize[1] != 1 || blockSize[2] != 1)
      return kernel.emitOpError()
             << "needs known_block_size = [32 * warps, 1, 1] to lower "
                "chunked-scan ops";
    const int64_t threads = blockSize[0];
    Mma mma = Mma::None;
    if (auto attr = kernel->getAttrOfType<StringAttr>("linac.mma")) {
      if (attr.getValue() == "bf16")
        mma = Mma::BF16;
      else if (attr.getValue() == "f16")
        mma = Mma::F16;
      else if (attr.getValue() != "none")
        return kernel.emitOpError() << "has linac.mma = '" << attr.getValue()
                                    << "' (expected bf16, f16 or none)";
    }
    int64_t base = 0;
    if (auto attr = kernel->getAttrOfType<IntegerAttr>("linac.shared_bytes"))
      base = attr.getInt();

    // A wgmma schedule reserves the operand staging buffer right after the
    // tiles, sized by the state's columns (every output of a wgmma matmul
    // has at most that many), as gpuSharedBytes plans it.
    int64_t staging = 0, stagingCols = 0;
    auto schedule = kernel->getAttrOfType<ScheduleAttr>("linac.schedule");
    if (schedule && schedule.getMma() == "wgmma") {
      if (mma == Mma::None)
        return kernel.emitOpError()
               << "has a wgmma schedule but no 16-bit operands";
      for (Operation *op : ops)
        if (auto update = dyn_cast<ChunkStateUpdateOp>(op)) {
          stagingCols = colsOf(update.getState());
          staging = gpuWgmmaStagingBytes(stagingCols);
          break;
        }
    }
    // A tma schedule: the chunk_loads TMA can serve get a tensor map and a
    // flag each (kernel arguments after the others: the flags, then the
    // maps) and share a region after the wgmma staging buffer: the
    // mbarriers, then one staging tile.
    TmaPlan tma;
    if (schedule && schedule.getLoad() == "cp.async") {
      if (schedule.getStages() != 2)
        return kernel.emitOpError() << "has a cp.async schedule with stages = "
                                    << schedule.getStages()
                                    << " (expected 2)";
      tma = planTma(kernel, ops);
      tma.cpAsync = true;
    } else if (schedule && !schedule.getLoad().empty()) {
      if (schedule.getLoad() != "tma")
        return kernel.emitOpError()
               << "has a schedule with load = \"" << schedule.getLoad()
               << "\" (expected \"tma\", \"cp.async\" or none)";
      auto target = kernel->getAttrOfType<StringAttr>("linac.target");
      GpuTarget gpu;
      std::string error;
      if (!target || !resolveGpuTarget(target.getValue(), gpu, error) ||
          !gpu.hopper)
        return kernel.emitOpError()
               << "has a tma schedule but no sm_90a linac.target (the "
                  "Tensor Memory Accelerator is sm_90a's)";
      tma = planTma(kernel, ops);
    }
    // The staging region: the wgmma buffer alone at `base`, or with TMA the
    // barriers at the next multiple of kTmaAlign and then one buffer that
    // wgmma and TMA share (gpuStagingBytes).
    int64_t stagingAt = base;
    if (tma.cpAsync) {
      // Per-site buffers from the next multiple of kTmaAlign (cp.async
      // needs 16-byte destinations); sites that cannot run ahead keep
      // thread loads.
      tma.staging = (base + kTmaAlign - 1) / kTmaAlign * kTmaAlign;
      SmallVector<Operation *> kept;
      for (Operation *op : tma.order) {
        TmaSite &site = tma.sites[op];
        auto loop = dyn_cast<scf::ForOp>(op->getParentOp());
        if (!loop || !llvm::all_of(tmaCoordinates(cast<ChunkLoadOp>(op)),
                                   [&](Value v) {
                                     return recomputable(v, loop);
                                   })) {
          tma.sites.erase(op);
          continue;
        }
        site.prefetch = true;
        site.waits = llvm::none_of(kept, [&](Operation *earlier) {
          return earlier->getParentOp() == loop.getOperation();
        });
        site.buffer = tma.staging + tma.bufferBytes;
        tma.bufferBytes += gpuTmaBufferBytes(site.bytes);
        kept.push_back(op);
      }
      tma.order = kept;
      if (!tma.order.empty()) {
        stagingAt = tma.staging + tma.bufferBytes;
        staging = gpuStagingBytes(base, staging, 0, tma.bufferBytes,
                                  /*mbarriers=*/false);
      }
    } else if (!tma.sites.empty()) {
      tma.barriers = (base + kTmaAlign - 1) / kTmaAlign * kTmaAlign;
      tma.staging = tma.barriers + kTmaBarrierBytes;
      stagingAt = tma.staging;
      for (auto &entry : tma.sites) {
        entry.second.barrier += tma.barriers;
        entry.second.buffer = tma.staging;
      }
      // Two stages: a buffer per site, in op order, and wgmma's after them.
      // A site runs ahead (prefetch) when it is in the chunk loop and its
      // box coordinates can be computed for the next iteration.
      tma.twoStages = schedule.getStages() >= 2;
      if (tma.twoStages) {
        for (Operation *op : tma.order) {
          TmaSite &site = tma.sites[op];
          site.buffer = tma.staging + tma.bufferBytes;
          tma.bufferBytes += gpuTmaBufferBytes(site.bytes);
          auto loop = dyn_cast<scf::ForOp>(op->getParentOp());
          site.prefetch =
              loop && llvm::all_of(tmaCoordinates(cast<ChunkLoadOp>(op)),
                                   [&](Value v) {
                                     return recomputable(v, loop);
                                   });
        }
        stagingAt = tma.staging + tma.bufferBytes;
        staging = gpuStagingBytes(base, staging, 0, tma.bufferBytes);
      } else {
        staging = gpuStagingBytes(base, staging, tma.tileBytes);
      }
      MLIRContext *ctx = kernel.getContext();
      Location loc = kernel.getLoc();
      auto names = kernel->getAttrOfType<ArrayAttr>("linac.tensors");
      SmallVector<StringAttr> tensorNames;
      for (const TmaMap &map : tma.maps) {
        StringAttr name = names && map.tensor < names.size()
                              ? dyn_cast<StringAttr>(names[map.tensor])
                              : StringAttr();
        if (!name)
          return kernel.emitOpError()
                 << "has no linac.tensors name for argument " << map.tensor;
        tensorNames.push_back(name);
      }
      SmallVector<unsigned> positions;
      SmallVector<Type> types;
      const unsigned first = kernel.getNumArguments();
      for (size_t m = 0; m < tma.maps.size(); ++m)
        types.push_back(IntegerType::get(ctx, 32));
      for (size_t m = 0; m < tma.maps.size(); ++m)
        types.push_back(LLVM::LLVMPointerType::get(ctx));
      positions.assign(types.size(), first);
      if (failed(kernel.insertArguments(
              positions, types,
              SmallVector<DictionaryAttr>(types.size(), DictionaryAttr()),
              SmallVector<Location>(types.size(), loc))))
        return kernel.emitOpError() << "cannot take tensor-map arguments";
      SmallVector<Attribute> records;
      for (size_t m = 0; m < tma.maps.size(); ++m) {
        TmaMap &map = tma.maps[m];
        map.flag = kernel.getArgument(first + m);
        map.map = kernel.getArgument(first + tma.maps.size() + m);
        records.push_back(DictionaryAttr::get(
            ctx, {NamedAttribute(StringAttr::get(ctx, "tensor"),
                                 tensorNames[m]),
                  NamedAttribute(StringAttr::get(ctx, "box"),
                                 DenseI64ArrayAttr::get(ctx, map.box))}));
      }
      kernel->setAttr("linac.tma", ArrayAttr::get(ctx, records));
    }

    int64_t scratchHigh = 0;
    if (!tma.sites.empty() && !tma.cpAsync)
      initTmaBarriers(kernel, tma, threads, mmaEmulation, scratchHigh);
    for (Operation *op : tma.order) {
      TmaSite &site = tma.sites[op];
      if (tma.cpAsync)
        asyncPrologue(cast<ChunkLoadOp>(op), tma, site, threads, mmaEmulation,
                      base + staging, scratchHigh);
      else if (site.prefetch)
        tmaPrologue(cast<ChunkLoadOp>(op), tma, site, threads, mmaEmulation,
                    base + staging, scratchHigh);
    }
    DenseSet<Operation *> f32Only = f32Products(kernel);
    for (Operation *op : ops) {
      Emitter e(op, threads, f32Only.contains(op) ? Mma::None : mma,
                mmaEmulation, base + staging, scratchHigh);
      if (stagingCols > 0)
        e.enableWgmma(stagingAt, stagingCols);
      e.barrier();
      auto site = tma.sites.find(op);
      if (site != tma.sites.end() && tma.cpAsync)
        lowerAsync(cast<ChunkLoadOp>(op), e, tma, site->second);
      else if (site != tma.sites.end())
        lowerTma(cast<ChunkLoadOp>(op), e, tma, site->second);
      else
        TypeSwitch<Operation *>(op)
            .Case<TileZeroOp, TileCopyOp, ChunkLoadOp, ChunkStoreOp,
                  ChunkGatesOp, ChunkScoresOp, ChunkAttendOp, ChunkInterOp,
                  ChunkStateUpdateOp, ChunkDeltaSolveOp, ChunkDplrSolveOp,
                  TileShiftRowsOp, ChunkBonusOp, ChunkNormalizeOp,
                  TileTaylor2Op, RecurrentStepOp>(
                [&](auto concrete) { lower(concrete, e); });
      e.barrier();
      op->erase();
    }
    dropRedundantBarriers(kernel);

    const int64_t total = base + staging + scratchHigh;
    kernel->setAttr("linac.shared_bytes",
                    IntegerAttr::get(IntegerType::get(kernel.getContext(), 64),
                                     total));
    if (auto target = kernel->getAttrOfType<StringAttr>("linac.target")) {
      GpuTarget gpu;
      std::string error;
      if (!resolveGpuTarget(target.getValue(), gpu, error))
        return kernel.emitOpError() << error;
      if (total > gpu.sharedLimit)
        return kernel.emitOpError()
               << "needs " << total << " bytes of shared memory (" << base
               << " for tiles, "
               << (staging > 0
                       ? std::to_string(staging) +
                             (tma.sites.empty() ? " for wgmma operands, "
                              : tma.cpAsync     ? " for cp.async staging, "
                                            : " for TMA barriers and staging, ")
                       : std::string())
               << scratchHigh
               << " for scratch), more than the " << gpu.sharedLimit
               << " bytes of " << gpu.chip
               << "; choose a smaller chunk_size or value_tile";
      // When shared memory allows only one resident block per SM, say so
      // to ptxas (.minnctapersm 1): it may then use up to 255 registers per
      // thread instead of spilling to fit blocks that can never coexist.
      if (2 * total > gpu.sharedPerSM)
        kernel->setAttr("nvvm.minctasm",
                        IntegerAttr::get(
                            IntegerType::get(kernel.getContext(), 32), 1));
    }
    return success();
  }
};

} // namespace
