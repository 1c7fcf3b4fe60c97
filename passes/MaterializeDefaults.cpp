//===- MaterializeDefaults.cpp - make implicit scalars explicit -----------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#include "linac/Dialect/Linac/IR/LinacOps.h"
#include "linac/Passes/Passes.h"

namespace linac {
#define GEN_PASS_DEF_LINACMATERIALIZEDEFAULTS
#include "linac/Passes/Passes.h.inc"
} // namespace linac

using namespace mlir;
using namespace linac;

namespace {

struct MaterializeDefaultsPass
    : linac::impl::LinacMaterializeDefaultsBase<MaterializeDefaultsPass> {
  void runOnOperation() override {
    getOperation()->walk([](RecurrenceOp op) {
      Builder builder(op.getContext());
      // The defaults are computed by the op itself so that the rule lives in
      // exactly one place.
      if (!op.getScaleAttr())
        op.setScaleAttr(builder.getF32FloatAttr(
            static_cast<float>(op.getEffectiveScale())));
      if (op.getNormalizer() == Normalizer::Sum && !op.getEpsAttr())
        op.setEpsAttr(
            builder.getF32FloatAttr(static_cast<float>(op.getEffectiveEps())));
    });
  }
};

} // namespace
