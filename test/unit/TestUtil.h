//===- TestUtil.h - Helpers for the oracle unit tests -----------*- C++ -*-===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// Owned float64 test tensors, a random problem builder with full control
/// over every input (unlike RandomProblem, tests mutate inputs in place), and
/// small comparison helpers.
///
//===----------------------------------------------------------------------===//

#ifndef LINAC_TEST_UNIT_TESTUTIL_H
#define LINAC_TEST_UNIT_TESTUTIL_H

#include "linac/runtime/Oracle.h"
#include "linac/runtime/Random.h"

#include "gtest/gtest.h"

#include <cmath>
#include <optional>
#include <vector>

namespace linac::test {

/// A row-major float64 tensor; `present` distinguishes an absent input.
struct Owned {
  std::vector<double> data;
  std::vector<int64_t> shape;
  bool present = false;

  static Owned zeros(std::vector<int64_t> shape) {
    Owned t;
    t.shape = std::move(shape);
    int64_t count = 1;
    for (int64_t e : t.shape)
      count *= e;
    t.data.assign(count, 0.0);
    t.present = true;
    return t;
  }
  TensorView view() const {
    if (!present)
      return TensorView();
    return makeContiguousView(data.data(), DType::F64, shape.data(),
                              int(shape.size()));
  }
  /// Flat index of a full index tuple.
  int64_t index(std::initializer_list<int64_t> idx) const {
    int64_t flat = 0, d = 0;
    for (int64_t i : idx)
      flat = flat * shape[d++] + i;
    return flat;
  }
  double &at(std::initializer_list<int64_t> idx) { return data[index(idx)]; }
  double at(std::initializer_list<int64_t> idx) const {
    return data[index(idx)];
  }
};

struct CaseOptions {
  oracle::Variant variant = oracle::Variant::LinearAttn;
  oracle::FeatureMap featureMap = oracle::FeatureMap::Identity;
  bool normalize = false;
  int64_t B = 2, T = 7, H = 2, HV = 2, K = 3, V = 4;
  uint64_t seed = 1;
  bool initialState = true;
  std::vector<int64_t> seqLens; ///< non-empty: varlen (B must be 1)
};

/// Inputs for one problem, all float64.
struct Case {
  oracle::Variant variant = oracle::Variant::LinearAttn;
  oracle::FeatureMap featureMap = oracle::FeatureMap::Identity;
  bool normalize = false;
  double eps = 1e-6;
  std::optional<double> scale;
  int64_t B = 0, T = 0, H = 0, HV = 0, K = 0, featureK = 0, V = 0, N = 0;
  Owned q, k, v, g, beta, a, b, u, h0;
  std::vector<int64_t> cuSeqlens;
  std::vector<double> decayConstants;

  oracle::Problem problem() const {
    oracle::Problem p;
    p.variant = variant;
    p.featureMap = featureMap;
    p.normalize = normalize;
    p.eps = eps;
    p.scale = scale;
    p.decayConstants = decayConstants;
    p.q = q.view();
    p.k = k.view();
    p.v = v.view();
    p.g = g.view();
    p.beta = beta.view();
    p.a = a.view();
    p.b = b.view();
    p.u = u.view();
    p.h0 = h0.view();
    if (!cuSeqlens.empty())
      p.cuSeqlens = makeContiguousView(cuSeqlens.data(), DType::I64,
                                       {int64_t(cuSeqlens.size())});
    return p;
  }
};

inline double logSigmoid(double x) {
  return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x));
}

/// Random inputs in model-like ranges: gates log(sigmoid(N(2, 1))), beta
/// in (0, 1), unit keys for delta variants, RWKV-7-shaped a and b.
inline Case makeCase(const CaseOptions &o) {
  using namespace oracle;
  Case c;
  c.variant = o.variant;
  c.featureMap = o.featureMap;
  c.normalize = o.normalize;
  c.B = o.B;
  c.T = o.T;
  c.H = o.H;
  c.HV = o.HV;
  c.K = o.K;
  c.V = o.V;
  c.featureK = featureDim(o.featureMap, o.K);
  c.N = o.seqLens.empty() ? o.B : int64_t(o.seqLens.size());
  const int64_t KP = c.featureK;
  VariantTraits traits = variantTraits(o.variant);
  Rng rng(o.seed);
  auto fill = [&](Owned &t, auto draw) {
    for (double &x : t.data)
      x = draw();
  };
  auto normal = [&] { return rng.normal(); };

  c.q = Owned::zeros({o.B, o.T, o.H, o.K});
  c.k = Owned::zeros({o.B, o.T, o.H, o.K});
  c.v = Owned::zeros({o.B, o.T, o.HV, o.V});
  fill(c.q, normal);
  fill(c.k, normal);
  fill(c.v, normal);
  if (traits.deltaWrite) {
    // Unit keys, as delta-rule models use, keep the recurrence contractive.
    for (Owned *t : {&c.q, &c.k})
      for (size_t row = 0; row < t->data.size(); row += o.K) {
        double norm = 0;
        for (int64_t i = 0; i < o.K; ++i)
          norm += t->data[row + i] * t->data[row + i];
        for (int64_t i = 0; i < o.K; ++i)
          t->data[row + i] /= std::sqrt(norm);
      }
  }
  auto gate = [&] { return logSigmoid(rng.normal(2.0, 1.0)); };
  if (traits.gate == GateKind::Scalar) {
    c.g = Owned::zeros({o.B, o.T, o.HV});
    fill(c.g, gate);
  } else if (traits.gate == GateKind::Vector) {
    c.g = Owned::zeros({o.B, o.T, o.HV, KP});
    fill(c.g, gate);
  }
  if (traits.beta) {
    c.beta = Owned::zeros({o.B, o.T, o.HV});
    fill(c.beta, [&] { return rng.uniform(); });
  }
  if (traits.lowRank) {
    c.a = Owned::zeros({o.B, o.T, o.HV, KP});
    c.b = Owned::zeros({o.B, o.T, o.HV, KP});
    for (size_t row = 0; row < c.a.data.size(); row += KP) {
      double norm = 0;
      for (int64_t i = 0; i < KP; ++i) {
        c.a.data[row + i] = rng.normal();
        norm += c.a.data[row + i] * c.a.data[row + i];
      }
      for (int64_t i = 0; i < KP; ++i) {
        double unit = c.a.data[row + i] / std::sqrt(norm);
        c.a.data[row + i] = -unit;
        c.b.data[row + i] = unit * rng.uniform();
      }
    }
  }
  if (traits.bonus) {
    c.u = Owned::zeros({o.HV, KP});
    fill(c.u, normal);
  }
  if (traits.decayConstants)
    for (int64_t h = 0; h < o.HV; ++h)
      c.decayConstants.push_back(rng.uniform(0.5, 1.0));
  if (o.initialState) {
    c.h0 = Owned::zeros({c.N, o.HV, KP, o.V});
    fill(c.h0, [&] { return 0.5 * rng.normal(); });
  }
  if (!o.seqLens.empty()) {
    c.cuSeqlens.push_back(0);
    for (int64_t length : o.seqLens)
      c.cuSeqlens.push_back(c.cuSeqlens.back() + length);
  }
  return c;
}

/// Runs the oracle and fails the current test (returning an empty Result)
/// if it reports an error.
inline oracle::Result runOracle(const oracle::Problem &problem) {
  oracle::Result result;
  std::string error;
  bool ok = oracle::run(problem, result, error);
  EXPECT_TRUE(ok) << error;
  return result;
}

inline double relRms(const std::vector<double> &x,
                     const std::vector<double> &ref) {
  return oracle::relativeRmsError(x, ref);
}

inline std::vector<oracle::Variant> allVariants() {
  return std::vector<oracle::Variant>(std::begin(oracle::kAllVariants),
                                      std::end(oracle::kAllVariants));
}

} // namespace linac::test

#endif // LINAC_TEST_UNIT_TESTUTIL_H
