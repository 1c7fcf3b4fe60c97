//===- OracleIdentityTest.cpp - Algebraic identities between variants -----===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// Identities that must hold to rounding (relative RMS <= 1e-12) on random
/// inputs: variants that reduce to one another, varlen vs. separate runs,
/// split runs through ht -> h0, GVA vs. duplicated heads, strided vs.
/// contiguous views, 16-bit vs. f32 inputs, the sum normaliser vs. a column
/// of ones, hard resets, and the delta rule's beta extremes.
///
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include "linac/runtime/Tensor.h"

#include <cmath>
#include <limits>

using namespace linac;
using namespace linac::oracle;
using namespace linac::test;

namespace {

constexpr double kTol = 1e-12;

void expectSame(const Result &actual, const Result &expected,
                double tol = kTol) {
  ASSERT_EQ(actual.o.size(), expected.o.size());
  ASSERT_EQ(actual.ht.size(), expected.ht.size());
  ASSERT_FALSE(expected.o.empty());
  EXPECT_LE(relRms(actual.o, expected.o), tol);
  EXPECT_LE(relRms(actual.ht, expected.ht), tol);
}

void fillAll(Owned &t, double value) {
  std::fill(t.data.begin(), t.data.end(), value);
}

/// Views of the [B, T, ...] inputs of `c` restricted to tokens [t0, t0+len).
Problem sliceTokens(const Case &c, int64_t t0, int64_t len) {
  Problem p = c.problem();
  for (TensorView *view : {&p.q, &p.k, &p.v, &p.g, &p.beta, &p.a, &p.b}) {
    if (!view->present())
      continue;
    view->data =
        static_cast<const double *>(view->data) + t0 * view->strides[1];
    view->shape[1] = len;
  }
  return p;
}

CaseOptions options(Variant variant, FeatureMap map = FeatureMap::Identity) {
  CaseOptions o;
  o.variant = variant;
  o.featureMap = map;
  return o;
}

//===----------------------------------------------------------------------===//
// Variants that reduce to one another
//===----------------------------------------------------------------------===//

TEST(OracleIdentity, GlaWithZeroGateIsLinearAttn) {
  for (FeatureMap map : kAllFeatureMaps) {
    SCOPED_TRACE(featureMapName(map));
    Case gla = makeCase(options(Variant::Gla, map));
    fillAll(gla.g, 0.0);
    Case linear = gla;
    linear.variant = Variant::LinearAttn;
    linear.g = Owned();
    expectSame(runOracle(gla.problem()), runOracle(linear.problem()));
    gla.normalize = linear.normalize = true;
    expectSame(runOracle(gla.problem()), runOracle(linear.problem()));
  }
}

TEST(OracleIdentity, GatedDeltaRuleWithZeroGateIsDeltaRule) {
  Case gated = makeCase(options(Variant::GatedDeltaRule));
  fillAll(gated.g, 0.0);
  Case delta = gated;
  delta.variant = Variant::DeltaRule;
  delta.g = Owned();
  expectSame(runOracle(gated.problem()), runOracle(delta.problem()));
}

TEST(OracleIdentity, KdaWithKeyConstantGateIsGatedDeltaRule) {
  Case gated = makeCase(options(Variant::GatedDeltaRule));
  Case kda = gated;
  kda.variant = Variant::Kda;
  kda.g = Owned::zeros({gated.B, gated.T, gated.HV, gated.K});
  for (int64_t b = 0; b < gated.B; ++b)
    for (int64_t t = 0; t < gated.T; ++t)
      for (int64_t h = 0; h < gated.HV; ++h)
        for (int64_t i = 0; i < gated.K; ++i)
          kda.g.at({b, t, h, i}) = gated.g.at({b, t, h});
  expectSame(runOracle(kda.problem()), runOracle(gated.problem()));

  // The same through a zero stride: a [B, T, HV] buffer broadcast along K.
  Problem broadcast = gated.problem();
  broadcast.variant = Variant::Kda;
  broadcast.g.rank = 4;
  broadcast.g.shape[3] = gated.K;
  broadcast.g.strides[3] = 0;
  expectSame(runOracle(broadcast), runOracle(gated.problem()));
}

TEST(OracleIdentity, DplrWithZeroLowRankIsGla) {
  for (FeatureMap map : {FeatureMap::Identity, FeatureMap::Taylor2}) {
    Case dplr = makeCase(options(Variant::Dplr, map));
    fillAll(dplr.a, 0.0);
    fillAll(dplr.b, 0.0);
    Case gla = dplr;
    gla.variant = Variant::Gla;
    gla.a = gla.b = Owned();
    expectSame(runOracle(dplr.problem()), runOracle(gla.problem()));
    dplr.normalize = gla.normalize = true;
    expectSame(runOracle(dplr.problem()), runOracle(gla.problem()));
  }
}

TEST(OracleIdentity, SimpleGlaWithLogGammaIsRetention) {
  CaseOptions o = options(Variant::SimpleGla);
  o.H = 2;
  o.HV = 6;
  Case simple = makeCase(o);
  for (int64_t b = 0; b < simple.B; ++b)
    for (int64_t t = 0; t < simple.T; ++t)
      for (int64_t h = 0; h < simple.HV; ++h)
        simple.g.at({b, t, h}) = std::log(1.0 - std::ldexp(1.0, -5 - int(h)));
  Case retention = simple;
  retention.variant = Variant::Retention;
  retention.g = Owned();
  expectSame(runOracle(simple.problem()), runOracle(retention.problem()));
}

TEST(OracleIdentity, LightningWithGammaIsRetention) {
  CaseOptions o = options(Variant::Lightning);
  o.HV = 4;
  Case lightning = makeCase(o);
  for (int64_t h = 0; h < lightning.HV; ++h)
    lightning.decayConstants[h] = 1.0 - std::ldexp(1.0, -5 - int(h));
  Case retention = lightning;
  retention.variant = Variant::Retention;
  retention.decayConstants.clear();
  // The same arithmetic on the same constants: bit-identical.
  Result a = runOracle(lightning.problem()), b = runOracle(retention.problem());
  EXPECT_EQ(a.o, b.o);
  EXPECT_EQ(a.ht, b.ht);
}

TEST(OracleIdentity, Rwkv6StateIsGlaState) {
  // rwkv6 differs from gla only in what the output reads, so with the same
  // gates (w as g) the final states agree for any bonus u.
  Case rwkv = makeCase(options(Variant::Rwkv6));
  Case gla = rwkv;
  gla.variant = Variant::Gla;
  gla.u = Owned();
  EXPECT_EQ(runOracle(rwkv.problem()).ht, runOracle(gla.problem()).ht);
}

TEST(OracleIdentity, Rwkv6WithoutDecayAndUnitBonusIsLinearAttn) {
  // w = 0 and u = 1: o_t = s (S_{t-1} + k_t v_t^T)^T q_t = s S_t^T q_t.
  for (FeatureMap map : {FeatureMap::Identity, FeatureMap::Taylor2}) {
    Case rwkv = makeCase(options(Variant::Rwkv6, map));
    fillAll(rwkv.g, 0.0);
    fillAll(rwkv.u, 1.0);
    Case linear = rwkv;
    linear.variant = Variant::LinearAttn;
    linear.g = linear.u = Owned();
    expectSame(runOracle(rwkv.problem()), runOracle(linear.problem()));
    rwkv.normalize = linear.normalize = true;
    expectSame(runOracle(rwkv.problem()), runOracle(linear.problem()));
  }
}

TEST(OracleIdentity, BatchElementsAreIndependent) {
  // Each batch element of a B = 3 run equals a B = 1 run of its own inputs.
  for (Variant variant : kAllVariants) {
    SCOPED_TRACE(variantName(variant));
    CaseOptions o = options(variant);
    o.B = 3;
    Case c = makeCase(o);
    Result batched = runOracle(c.problem());
    const int64_t oSize = c.T * c.HV * c.V, stateSize = c.HV * c.featureK * c.V;
    for (int64_t b = 0; b < c.B; ++b) {
      Problem one = c.problem();
      for (TensorView *view : {&one.q, &one.k, &one.v, &one.g, &one.beta,
                               &one.a, &one.b, &one.h0}) {
        if (!view->present())
          continue;
        view->data =
            static_cast<const double *>(view->data) + b * view->strides[0];
        view->shape[0] = 1;
      }
      Result alone = runOracle(one);
      EXPECT_EQ(alone.o,
                std::vector<double>(batched.o.begin() + b * oSize,
                                    batched.o.begin() + (b + 1) * oSize));
      EXPECT_EQ(alone.ht,
                std::vector<double>(batched.ht.begin() + b * stateSize,
                                    batched.ht.begin() + (b + 1) * stateSize));
    }
  }
}

//===----------------------------------------------------------------------===//
// Sequence structure: varlen and split runs
//===----------------------------------------------------------------------===//

TEST(OracleIdentity, VarlenEqualsSeparateRuns) {
  const std::vector<int64_t> lengths = {3, 0, 5, 1, 4};
  for (Variant variant : kAllVariants)
    for (FeatureMap map : {FeatureMap::Identity, FeatureMap::Taylor2}) {
      SCOPED_TRACE(std::string(variantName(variant)) + " " +
                   featureMapName(map));
      CaseOptions o = options(variant, map);
      o.B = 1;
      o.T = 13;
      o.seqLens = lengths;
      Case c = makeCase(o);
      Result packed = runOracle(c.problem());
      ASSERT_EQ(packed.N, 5);
      const int64_t stateSize = c.HV * c.featureK * c.V;
      for (int64_t n = 0; n < packed.N; ++n) {
        SCOPED_TRACE("sequence " + std::to_string(n));
        const int64_t t0 = c.cuSeqlens[n], len = lengths[n];
        std::vector<double> h0(c.h0.data.begin() + n * stateSize,
                               c.h0.data.begin() + (n + 1) * stateSize);
        std::vector<double> ht(packed.ht.begin() + n * stateSize,
                               packed.ht.begin() + (n + 1) * stateSize);
        if (len == 0) {
          EXPECT_EQ(ht, h0) << "an empty sequence returns its h0";
          continue;
        }
        Problem single = sliceTokens(c, t0, len);
        single.cuSeqlens = TensorView();
        single.h0 = makeContiguousView(h0.data(), DType::F64,
                                       {1, c.HV, c.featureK, c.V});
        Result alone = runOracle(single);
        std::vector<double> o(packed.o.begin() + t0 * c.HV * c.V,
                              packed.o.begin() + (t0 + len) * c.HV * c.V);
        EXPECT_EQ(o, alone.o);
        EXPECT_EQ(ht, alone.ht);
      }
    }
}

TEST(OracleIdentity, SplitRunThroughStateEqualsOneRun) {
  for (Variant variant : kAllVariants)
    for (FeatureMap map :
         {FeatureMap::Identity, FeatureMap::EluPlusOne, FeatureMap::Taylor2}) {
      SCOPED_TRACE(std::string(variantName(variant)) + " " +
                   featureMapName(map));
      CaseOptions o = options(variant, map);
      o.T = 6;
      Case c = makeCase(o);
      Result whole = runOracle(c.problem());
      for (int64_t split = 1; split < c.T; ++split) {
        Result first = runOracle(sliceTokens(c, 0, split));
        Problem rest = sliceTokens(c, split, c.T - split);
        rest.h0 = makeContiguousView(first.ht.data(), DType::F64,
                                     {c.B, c.HV, c.featureK, c.V});
        Result second = runOracle(rest);
        // Interleave the two outputs back into [B, T, HV, V].
        std::vector<double> o;
        const int64_t row = c.HV * c.V;
        for (int64_t b = 0; b < c.B; ++b) {
          o.insert(o.end(), first.o.begin() + b * split * row,
                   first.o.begin() + (b + 1) * split * row);
          o.insert(o.end(), second.o.begin() + b * (c.T - split) * row,
                   second.o.begin() + (b + 1) * (c.T - split) * row);
        }
        EXPECT_EQ(o, whole.o) << "split at " << split;
        EXPECT_EQ(second.ht, whole.ht) << "split at " << split;
      }
    }
}

//===----------------------------------------------------------------------===//
// Layouts and dtypes
//===----------------------------------------------------------------------===//

TEST(OracleIdentity, GroupedValueHeadsEqualDuplicatedKeyHeads) {
  for (Variant variant : kAllVariants) {
    SCOPED_TRACE(variantName(variant));
    CaseOptions o = options(variant);
    o.H = 2;
    o.HV = 6; // G = 3
    Case grouped = makeCase(o);
    Case duplicated = grouped;
    duplicated.H = grouped.HV;
    duplicated.q = Owned::zeros({o.B, o.T, o.HV, o.K});
    duplicated.k = Owned::zeros({o.B, o.T, o.HV, o.K});
    for (int64_t b = 0; b < o.B; ++b)
      for (int64_t t = 0; t < o.T; ++t)
        for (int64_t hv = 0; hv < o.HV; ++hv)
          for (int64_t i = 0; i < o.K; ++i) {
            duplicated.q.at({b, t, hv, i}) = grouped.q.at({b, t, hv / 3, i});
            duplicated.k.at({b, t, hv, i}) = grouped.k.at({b, t, hv / 3, i});
          }
    Result a = runOracle(grouped.problem()),
           b = runOracle(duplicated.problem());
    EXPECT_EQ(a.o, b.o);
    EXPECT_EQ(a.ht, b.ht);
  }
}

/// A copy of `t` in another memory layout: dimensions stored in `order`
/// (outermost first), each padded by `pad[d]` elements, and dimensions with
/// `reverse[d]` stored back to front (negative strides). Padding is NaN so
/// that reading it poisons the result.
struct Relaid {
  std::vector<double> storage;
  TensorView view;
};

Relaid relayout(const Owned &t, const std::vector<int> &order,
                const std::vector<int64_t> &pad,
                const std::vector<bool> &reverse) {
  const int rank = int(t.shape.size());
  Relaid r;
  int64_t absStride[kMaxRank], stride = 1;
  for (int idx = rank - 1; idx >= 0; --idx) {
    int d = order[idx];
    absStride[d] = stride;
    stride *= t.shape[d] + pad[d];
  }
  r.storage.assign(stride, std::numeric_limits<double>::quiet_NaN());
  int64_t base = 0;
  r.view.dtype = DType::F64;
  r.view.rank = rank;
  for (int d = 0; d < rank; ++d) {
    r.view.shape[d] = t.shape[d];
    r.view.strides[d] = reverse[d] ? -absStride[d] : absStride[d];
    if (reverse[d])
      base += (t.shape[d] - 1) * absStride[d];
  }
  for (size_t flat = 0; flat < t.data.size(); ++flat) {
    int64_t rest = flat, pos = base;
    for (int d = rank - 1; d >= 0; --d) {
      pos += (rest % t.shape[d]) * r.view.strides[d];
      rest /= t.shape[d];
    }
    r.storage[pos] = t.data[flat];
  }
  r.view.data = r.storage.data() + base;
  return r;
}

TEST(OracleIdentity, StridedViewsEqualContiguous) {
  struct Layout {
    const char *name;
    std::vector<int> order4;
    std::vector<int64_t> pad4;
    std::vector<bool> reverse4;
  } layouts[] = {
      // [B, H, T, D] storage (heads outside time) viewed as [B, T, H, D].
      {"bhtd", {0, 2, 1, 3}, {0, 0, 0, 0}, {false, false, false, false}},
      // Padded rows and heads.
      {"padded", {0, 1, 2, 3}, {1, 2, 3, 5}, {false, false, false, false}},
      // Time and feature reversed in memory, heads padded, time innermost.
      {"reversed", {0, 2, 3, 1}, {0, 0, 1, 0}, {false, true, false, true}},
  };
  for (Variant variant : kAllVariants)
    for (const Layout &layout : layouts) {
      SCOPED_TRACE(std::string(variantName(variant)) + " " + layout.name);
      Case c = makeCase(options(variant));
      Result reference = runOracle(c.problem());
      Problem p = c.problem();
      std::vector<Relaid> keep;
      auto apply = [&](const Owned &t, TensorView &view) {
        if (!t.present)
          return;
        const size_t rank = t.shape.size();
        std::vector<int> order;
        for (int d : layout.order4)
          if (size_t(d) < rank)
            order.push_back(d);
        keep.push_back(relayout(t, order, layout.pad4, layout.reverse4));
        view = keep.back().view;
      };
      keep.reserve(16);
      apply(c.q, p.q);
      apply(c.k, p.k);
      apply(c.v, p.v);
      apply(c.g, p.g);
      apply(c.beta, p.beta);
      apply(c.a, p.a);
      apply(c.b, p.b);
      apply(c.u, p.u);
      apply(c.h0, p.h0);
      Result strided = runOracle(p);
      EXPECT_EQ(strided.o, reference.o);
      EXPECT_EQ(strided.ht, reference.ht);
    }
}

TEST(OracleIdentity, StridedCuSeqlens) {
  CaseOptions o = options(Variant::Gla);
  o.B = 1;
  o.T = 9;
  o.seqLens = {4, 5};
  Case c = makeCase(o);
  Result reference = runOracle(c.problem());
  // Offsets 0, 4, 9 as i32 with a stride of 3 elements.
  std::vector<int32_t> padded = {0, -1, -1, 4, -1, -1, 9};
  Problem p = c.problem();
  p.cuSeqlens = makeContiguousView(padded.data(), DType::I32, {3});
  p.cuSeqlens.strides[0] = 3;
  Result strided = runOracle(p);
  EXPECT_EQ(strided.o, reference.o);
  EXPECT_EQ(strided.ht, reference.ht);
}

/// Rounds every value of `t` to `dtype` (f16 or bf16), keeping the bits in
/// `bits` and replacing the doubles by the rounded values.
TensorView narrow(Owned &t, DType dtype, std::vector<uint16_t> &bits) {
  bits.resize(t.data.size());
  for (size_t i = 0; i < t.data.size(); ++i) {
    if (dtype == DType::F16) {
      bits[i] = doubleToHalfBits(t.data[i]);
      t.data[i] = halfBitsToDouble(bits[i]);
    } else {
      bits[i] = doubleToBfloat16Bits(t.data[i]);
      t.data[i] = bfloat16BitsToDouble(bits[i]);
    }
  }
  return makeContiguousView(bits.data(), dtype, t.shape.data(),
                            int(t.shape.size()));
}

TensorView asFloat32(const Owned &t, std::vector<float> &storage) {
  storage.assign(t.data.begin(), t.data.end());
  for (size_t i = 0; i < t.data.size(); ++i)
    EXPECT_EQ(double(storage[i]), t.data[i]) << "not exactly an f32";
  return makeContiguousView(storage.data(), DType::F32, t.shape.data(),
                            int(t.shape.size()));
}

TEST(OracleIdentity, HalfInputsEqualFloat32OfRoundedValues) {
  for (DType dtype : {DType::F16, DType::BF16})
    for (Variant variant : kAllVariants) {
      SCOPED_TRACE(std::string(dtypeName(dtype)) + " " + variantName(variant));
      Case c = makeCase(options(variant));
      if (c.g.present)
        c.g.data[3] = -INFINITY; // a hard reset survives the narrowing
      Problem half = c.problem();
      std::vector<uint16_t> bits[9];
      Owned *tensors[] = {&c.q, &c.k, &c.v, &c.g, &c.beta, &c.a, &c.b, &c.u};
      TensorView *views[] = {&half.q,    &half.k, &half.v, &half.g,
                             &half.beta, &half.a, &half.b, &half.u};
      for (int i = 0; i < 8; ++i)
        if (tensors[i]->present)
          *views[i] = narrow(*tensors[i], dtype, bits[i]);
      // The reference reads the rounded values as f32 (h0 too, as f32).
      for (double &x : c.h0.data)
        x = static_cast<float>(x);
      Problem single = c.problem();
      std::vector<float> floats[9];
      TensorView *singleViews[] = {&single.q, &single.k,    &single.v,
                                   &single.g, &single.beta, &single.a,
                                   &single.b, &single.u};
      for (int i = 0; i < 8; ++i)
        if (tensors[i]->present)
          *singleViews[i] = asFloat32(*tensors[i], floats[i]);
      single.h0 = asFloat32(c.h0, floats[8]);
      half.h0 = single.h0;
      Result a = runOracle(half), b = runOracle(single);
      EXPECT_EQ(a.o, b.o);
      EXPECT_EQ(a.ht, b.ht);
      for (double x : a.o)
        ASSERT_TRUE(std::isfinite(x));
    }
}

//===----------------------------------------------------------------------===//
// The sum normaliser as a column of ones
//===----------------------------------------------------------------------===//

TEST(OracleIdentity, NormalizeSumEqualsExtraColumnOfOnes) {
  for (Variant variant : kAllVariants) {
    if (!variantTraits(variant).supportsNormalize)
      continue;
    for (FeatureMap map :
         {FeatureMap::Identity, FeatureMap::EluPlusOne, FeatureMap::Taylor2}) {
      SCOPED_TRACE(std::string(variantName(variant)) + " " +
                   featureMapName(map));
      CaseOptions o = options(variant, map);
      Case c = makeCase(o);
      c.normalize = true;
      Problem p = c.problem();
      p.eps = 0.25;
      Result normalized = runOracle(p);

      // V + 1 value columns, the last all ones, and zeros in h0's extra column.
      Case wide = c;
      wide.normalize = false;
      wide.V = c.V + 1;
      wide.v = Owned::zeros({c.B, c.T, c.HV, c.V + 1});
      wide.h0 = Owned::zeros({c.B, c.HV, c.featureK, c.V + 1});
      for (int64_t b = 0; b < c.B; ++b)
        for (int64_t h = 0; h < c.HV; ++h) {
          for (int64_t t = 0; t < c.T; ++t) {
            for (int64_t j = 0; j < c.V; ++j)
              wide.v.at({b, t, h, j}) = c.v.at({b, t, h, j});
            wide.v.at({b, t, h, c.V}) = 1.0;
          }
          for (int64_t i = 0; i < c.featureK; ++i)
            for (int64_t j = 0; j < c.V; ++j)
              wide.h0.at({b, h, i, j}) = c.h0.at({b, h, i, j});
        }
      Result ext = runOracle(wide.problem());
      std::vector<double> expectedO, expectedHt;
      for (size_t row = 0; row < ext.o.size(); row += c.V + 1)
        for (int64_t j = 0; j < c.V; ++j)
          expectedO.push_back(ext.o[row + j] / (ext.o[row + c.V] + 0.25));
      for (size_t row = 0; row < ext.ht.size(); row += c.V + 1)
        for (int64_t j = 0; j < c.V; ++j)
          expectedHt.push_back(ext.ht[row + j]);
      EXPECT_LE(relRms(normalized.o, expectedO), kTol);
      EXPECT_EQ(normalized.ht, expectedHt);
    }
  }
}

//===----------------------------------------------------------------------===//
// Extreme gates and write strengths
//===----------------------------------------------------------------------===//

TEST(OracleIdentity, HardResetForgetsEverythingBefore) {
  for (Variant variant : kAllVariants) {
    VariantTraits traits = variantTraits(variant);
    if (traits.gate == GateKind::None)
      continue;
    SCOPED_TRACE(variantName(variant));
    CaseOptions o = options(variant);
    o.T = 9;
    Case c = makeCase(o);
    // A huge initial state: 0 * 1e300 must still be an exact 0, not NaN.
    fillAll(c.h0, 1e300);
    const int64_t reset = 4;
    for (int64_t b = 0; b < c.B; ++b)
      for (int64_t h = 0; h < c.HV; ++h) {
        if (traits.gate == GateKind::Scalar)
          c.g.at({b, reset, h}) = -INFINITY;
        else
          for (int64_t i = 0; i < c.featureK; ++i)
            c.g.at({b, reset, h, i}) = -INFINITY;
        if (traits.lowRank) // the rank-1 term reads the undecayed state
          for (int64_t i = 0; i < c.featureK; ++i)
            c.a.at({b, reset, h, i}) = 0.0;
      }
    Result full = runOracle(c.problem());
    Problem suffix = sliceTokens(c, reset, c.T - reset);
    suffix.h0 = TensorView();
    Result fresh = runOracle(suffix);
    // rwkv6's output at the reset token still reads S_{t-1}.
    const int64_t first = variant == Variant::Rwkv6 ? 1 : 0;
    const int64_t row = c.HV * c.V;
    for (int64_t b = 0; b < c.B; ++b)
      for (int64_t t = first; t < c.T - reset; ++t)
        for (int64_t j = 0; j < row; ++j)
          EXPECT_EQ(full.o[(b * c.T + reset + t) * row + j],
                    fresh.o[(b * (c.T - reset) + t) * row + j]);
    EXPECT_EQ(full.ht, fresh.ht);
    for (double x : full.o)
      ASSERT_TRUE(std::isfinite(x));
  }
}

TEST(OracleIdentity, ZeroGateMeansNoDecay) {
  // g = 0 everywhere: simple_gla equals retention-free linear_attn exactly.
  Case simple = makeCase(options(Variant::SimpleGla));
  fillAll(simple.g, 0.0);
  Case linear = simple;
  linear.variant = Variant::LinearAttn;
  linear.g = Owned();
  Result a = runOracle(simple.problem()), b = runOracle(linear.problem());
  EXPECT_EQ(a.o, b.o);
  EXPECT_EQ(a.ht, b.ht);
}

TEST(OracleIdentity, DeltaRuleBetaZeroLeavesStateUnchanged) {
  Case c = makeCase(options(Variant::DeltaRule));
  fillAll(c.beta, 0.0);
  Result r = runOracle(c.problem());
  EXPECT_EQ(r.ht, c.h0.data);
  // Every output reads h0: o_t = scale h0^T q_t.
  const double scale = 1.0 / std::sqrt(double(c.K));
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t t = 0; t < c.T; ++t)
      for (int64_t h = 0; h < c.HV; ++h)
        for (int64_t j = 0; j < c.V; ++j) {
          double expected = 0;
          for (int64_t i = 0; i < c.K; ++i)
            expected +=
                c.h0.at({b, h, i, j}) * c.q.at({b, t, h / (c.HV / c.H), i});
          EXPECT_NEAR(r.o[((b * c.T + t) * c.HV + h) * c.V + j],
                      scale * expected, 1e-14);
        }
}

TEST(OracleIdentity, DeltaRuleBetaOneRecallsTheLastValue) {
  // With unit keys and beta = 1 the new state maps k_t exactly to v_t.
  Case c = makeCase(options(Variant::DeltaRule));
  fillAll(c.beta, 1.0);
  c.q = c.k;
  c.scale = 1.0;
  Result r = runOracle(c.problem());
  const int64_t G = c.HV / c.H;
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t t = 0; t < c.T; ++t)
      for (int64_t h = 0; h < c.HV; ++h)
        for (int64_t j = 0; j < c.V; ++j)
          EXPECT_NEAR(r.o[((b * c.T + t) * c.HV + h) * c.V + j],
                      c.v.at({b, t, h, j}), 1e-13)
              << "G=" << G;
}

TEST(OracleIdentity, DeltaRuleBetaTwoReflectsTheReadout) {
  // beta = 2 with unit keys: S_t^T k_t = 2 v_t - S_{t-1}^T k_t.
  Case c = makeCase(options(Variant::DeltaRule));
  fillAll(c.beta, 2.0);
  c.q = c.k;
  c.scale = 1.0;
  Result r = runOracle(c.problem());
  const int64_t G = c.HV / c.H;
  for (int64_t t = 0; t < c.T; ++t) {
    // S_{t-1} from a run over the first t tokens (h0 for t = 0).
    std::vector<double> previous = c.h0.data;
    if (t > 0)
      previous = runOracle(sliceTokens(c, 0, t)).ht;
    for (int64_t b = 0; b < c.B; ++b)
      for (int64_t h = 0; h < c.HV; ++h)
        for (int64_t j = 0; j < c.V; ++j) {
          double readout = 0;
          for (int64_t i = 0; i < c.K; ++i)
            readout += previous[((b * c.HV + h) * c.K + i) * c.V + j] *
                       c.k.at({b, t, h / G, i});
          EXPECT_NEAR(r.o[((b * c.T + t) * c.HV + h) * c.V + j],
                      2 * c.v.at({b, t, h, j}) - readout, 1e-12);
        }
  }
}

TEST(OracleIdentity, GatedDeltaRuleBetaZeroIsPureDecay) {
  Case c = makeCase(options(Variant::GatedDeltaRule));
  fillAll(c.beta, 0.0);
  Result r = runOracle(c.problem());
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t h = 0; h < c.HV; ++h) {
      double total = 0;
      for (int64_t t = 0; t < c.T; ++t)
        total += c.g.at({b, t, h});
      for (int64_t i = 0; i < c.K; ++i)
        for (int64_t j = 0; j < c.V; ++j)
          EXPECT_NEAR(r.ht[((b * c.HV + h) * c.K + i) * c.V + j],
                      std::exp(total) * c.h0.at({b, h, i, j}), 1e-14);
    }
}

} // namespace
