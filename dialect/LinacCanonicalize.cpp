//===- LinacCanonicalize.cpp - canonicalization of linac ops --------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// Canonical forms of linac.recurrence. Each pattern turns a recurrence whose
// operands are known constants into the simpler structure it is equal to, so
// that the selection pass sees the cheapest exact algorithm:
//
//   * a log-space gate that is all zeros decays by exp(0) = 1: no decay;
//   * constant decays that are all 1 are no decay;
//   * a dplr rank-one term with a or b all zeros vanishes;
//   * a final state nobody reads is not computed.
//
// The first three are exactly the identities the float64 oracle's tests
// prove (gla with g = 0 equals linear_attn, dplr with a = b = 0 equals gla).
//
//===----------------------------------------------------------------------===//

#include "linac/Dialect/Linac/IR/LinacOps.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"

using namespace mlir;
using namespace linac;

namespace {

/// True when `value` is a constant whose every element is +0.0 or -0.0.
bool isConstantZero(Value value) {
  if (!value)
    return false;
  DenseElementsAttr dense;
  if (!matchPattern(value, m_Constant(&dense)))
    return false;
  if (!isa<FloatType>(dense.getElementType()))
    return false;
  return llvm::all_of(dense.getValues<APFloat>(),
                      [](const APFloat &x) { return x.isZero(); });
}

/// decay(scalar|diagonal) with g == 0 -> decay(none).
struct ZeroGateIsNoDecay : OpRewritePattern<RecurrenceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RecurrenceOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasDataDependentDecay() || !isConstantZero(op.getG()))
      return rewriter.notifyMatchFailure(op, "gate is not a zero constant");
    rewriter.modifyOpInPlace(op, [&] {
      op.getGMutable().clear();
      op.setDecay(DecayKind::None);
    });
    return success();
  }
};

/// decay(constant) with every constant equal to 1 -> decay(none).
struct UnitConstantsAreNoDecay : OpRewritePattern<RecurrenceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RecurrenceOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<ArrayRef<double>> constants = op.getDecayConstants();
    if (op.getDecay() != DecayKind::Constant || !constants ||
        !llvm::all_of(*constants, [](double c) { return c == 1.0; }))
      return rewriter.notifyMatchFailure(op, "not a unit constant decay");
    rewriter.modifyOpInPlace(op, [&] {
      op.removeDecayConstantsAttr();
      op.setDecay(DecayKind::None);
    });
    return success();
  }
};

/// rank_one(dplr) with a == 0 or b == 0 -> rank_one(none).
struct ZeroDplrIsNoRankOne : OpRewritePattern<RecurrenceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RecurrenceOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getRankOne() != RankOneKind::Dplr ||
        (!isConstantZero(op.getA()) && !isConstantZero(op.getB())))
      return rewriter.notifyMatchFailure(op, "no zero dplr factor");
    rewriter.modifyOpInPlace(op, [&] {
      op.getAMutable().clear();
      op.getBMutable().clear();
      op.setRankOne(RankOneKind::None);
    });
    return success();
  }
};

/// A final state without uses is not computed: writing K x V floats per head
/// is pure memory traffic, a large share of the cost of decode kernels.
struct DropUnusedFinalState : OpRewritePattern<RecurrenceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(RecurrenceOp op,
                                PatternRewriter &rewriter) const override {
    Value ht = op.getHt();
    if (!ht || !ht.use_empty())
      return rewriter.notifyMatchFailure(op, "final state is used or absent");
    // A pool's slots are the caller's storage: its update is the point.
    if (op.getStateIndices())
      return rewriter.notifyMatchFailure(op, "the final state is a pool");
    auto newOp = RecurrenceOp::create(
        rewriter, op.getLoc(), op.getO().getType(), /*ht=*/Type(),
        op.getDecay(), op.getRankOne(), op.getOutputForm(),
        op.getFeatureMap(), op.getNormalizer(),
        op.getDecayConstantsAttr(), op.getScaleAttr(), op.getEpsAttr(),
        op.getQ(), op.getK(), op.getV(), op.getG(), op.getBeta(), op.getA(),
        op.getB(), op.getU(), op.getH0(), op.getCuSeqlens(),
        /*state_indices=*/Value());
    // Keep discardable attributes (for example a selected schedule).
    newOp->setDiscardableAttrs(op->getDiscardableAttrDictionary());
    rewriter.replaceAllUsesWith(op.getO(), newOp.getO());
    rewriter.eraseOp(op);
    return success();
  }
};

} // namespace

void RecurrenceOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                               MLIRContext *context) {
  results.add<ZeroGateIsNoDecay, UnitConstantsAreNoDecay, ZeroDplrIsNoRankOne,
              DropUnusedFinalState>(context);
}
