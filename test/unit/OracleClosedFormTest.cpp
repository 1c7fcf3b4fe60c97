//===- OracleClosedFormTest.cpp - Oracle vs. hand-derived formulas --------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// For T = 1 and T = 2, with K = 2 and V = 3, each variant's recurrence is
/// unrolled by hand into a closed form and evaluated here directly, without
/// a state matrix loop, then compared with the oracle. A wrong sign, a wrong
/// gate index (g_t vs. g_{t-1}), a decayed-vs-undecayed read or a missing
/// scale all show up here.
///
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include <cmath>

using namespace linac;
using namespace linac::oracle;
using namespace linac::test;

namespace {

using Vec = std::vector<double>;

// Fixed inputs: two tokens, K = 2, V = 3.
const Vec q1 = {0.5, -1.0}, q2 = {1.5, 0.25};
const Vec k1 = {1.0, 2.0}, k2 = {-0.5, 0.75};
const Vec v1 = {1.0, -2.0, 0.5}, v2 = {0.25, 3.0, -1.0};
/// h0 as K rows of V.
const std::vector<Vec> H0 = {{0.1, -0.2, 0.3}, {0.4, 0.5, -0.6}};
const double s = 1.0 / std::sqrt(2.0); // default scale K^-0.5

double dot(const Vec &x, const Vec &y) {
  double sum = 0;
  for (size_t i = 0; i < x.size(); ++i)
    sum += x[i] * y[i];
  return sum;
}
Vec mul(const Vec &x, const Vec &y) { // elementwise
  Vec r(x.size());
  for (size_t i = 0; i < x.size(); ++i)
    r[i] = x[i] * y[i];
  return r;
}
Vec axpy(double alpha, const Vec &x, const Vec &y) { // alpha x + y
  Vec r(y);
  for (size_t i = 0; i < r.size(); ++i)
    r[i] += alpha * x[i];
  return r;
}
Vec scaled(double alpha, const Vec &x) { return axpy(alpha, x, Vec(x.size())); }
/// H0^T x: the initial state read with a key-space vector x.
Vec h0T(const Vec &x) {
  Vec r(3, 0.0);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      r[j] += H0[i][j] * x[i];
  return r;
}
Vec expv(const Vec &g) {
  Vec r(g.size());
  for (size_t i = 0; i < g.size(); ++i)
    r[i] = std::exp(g[i]);
  return r;
}

/// A B = 1, H = 1 problem with T tokens and HV value heads; every value head
/// gets the same inputs unless a test overrides them.
struct Tiny {
  Case c;
  Tiny(Variant variant, int64_t T, bool withH0 = true, int64_t HV = 1) {
    CaseOptions o;
    o.variant = variant;
    o.B = 1;
    o.T = T;
    o.H = 1;
    o.HV = HV;
    o.K = 2;
    o.V = 3;
    o.initialState = withH0;
    c = makeCase(o);
    const Vec qs[] = {q1, q2}, ks[] = {k1, k2}, vs[] = {v1, v2};
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t i = 0; i < 2; ++i) {
        c.q.at({0, t, 0, i}) = qs[t][i];
        c.k.at({0, t, 0, i}) = ks[t][i];
      }
      for (int64_t h = 0; h < HV; ++h)
        for (int64_t j = 0; j < 3; ++j)
          c.v.at({0, t, h, j}) = vs[t][j];
    }
    if (withH0)
      for (int64_t h = 0; h < HV; ++h)
        for (int64_t i = 0; i < 2; ++i)
          for (int64_t j = 0; j < 3; ++j)
            c.h0.at({0, h, i, j}) = H0[i][j];
  }
  void setGate(int64_t t, const Vec &g) {
    for (int64_t h = 0; h < c.HV; ++h)
      for (size_t i = 0; i < g.size(); ++i)
        c.g.at({0, t, h, int64_t(i)}) = g[i];
  }
  void setGate(int64_t t, double g) {
    for (int64_t h = 0; h < c.HV; ++h)
      c.g.at({0, t, h}) = g;
  }
  void setBeta(int64_t t, double beta) { c.beta.at({0, t, 0}) = beta; }
  void setHead(int64_t t, int64_t h, const Vec &v, double beta, double g) {
    for (int64_t j = 0; j < 3; ++j)
      c.v.at({0, t, h, j}) = v[j];
    c.beta.at({0, t, h}) = beta;
    c.g.at({0, t, h}) = g;
  }
  void setLowRank(int64_t t, const Vec &a, const Vec &b) {
    for (int64_t i = 0; i < 2; ++i) {
      c.a.at({0, t, 0, i}) = a[i];
      c.b.at({0, t, 0, i}) = b[i];
    }
  }
  Result run() const { return runOracle(c.problem()); }
};

/// o[0, t, hv, :] of a B = 1 result.
Vec outputAt(const Result &r, int64_t t, int64_t hv = 0) {
  const double *p = &r.o[(t * r.HV + hv) * r.V];
  return Vec(p, p + r.V);
}

void expectNear(const Vec &actual, const Vec &expected, const char *what) {
  ASSERT_EQ(actual.size(), expected.size()) << what;
  for (size_t i = 0; i < actual.size(); ++i)
    EXPECT_NEAR(actual[i], expected[i], 1e-13 * (1 + std::fabs(expected[i])))
        << what << " element " << i;
}

/// The final state of head hv as K' rows of V.
void expectState(const Result &r, int64_t hv,
                 const std::vector<Vec> &expected) {
  for (int64_t i = 0; i < r.featureK; ++i) {
    const double *row = &r.ht[((0 * r.HV + hv) * r.featureK + i) * r.V];
    expectNear(Vec(row, row + r.V), expected[i], "ht row");
  }
}

TEST(OracleClosedForm, LinearAttnTwoTokensWithInitialState) {
  Result r = Tiny(Variant::LinearAttn, 2).run();
  expectNear(outputAt(r, 0), scaled(s, axpy(dot(k1, q1), v1, h0T(q1))), "o1");
  Vec o2 = axpy(dot(k2, q2), v2, axpy(dot(k1, q2), v1, h0T(q2)));
  expectNear(outputAt(r, 1), scaled(s, o2), "o2");
  std::vector<Vec> ht(2);
  for (int i = 0; i < 2; ++i)
    ht[i] = axpy(k2[i], v2, axpy(k1[i], v1, H0[i]));
  expectState(r, 0, ht);
}

TEST(OracleClosedForm, ExplicitScaleMultipliesQuery) {
  Tiny tiny(Variant::LinearAttn, 1, /*withH0=*/false);
  tiny.c.scale = 0.3;
  expectNear(outputAt(tiny.run(), 0), scaled(0.3 * dot(k1, q1), v1), "o1");
}

/// Scalar constant decays: o2 = s (d1 d2 H0^T q2 + d2 (k1.q2) v1 + (k2.q2) v2).
void checkScalarDecay(const Result &r, int64_t hv, double d1, double d2) {
  expectNear(outputAt(r, 0, hv),
             scaled(s, axpy(dot(k1, q1), v1, scaled(d1, h0T(q1)))), "o1");
  Vec o2 = axpy(dot(k2, q2), v2,
                axpy(d2 * dot(k1, q2), v1, scaled(d1 * d2, h0T(q2))));
  expectNear(outputAt(r, 1, hv), scaled(s, o2), "o2");
  std::vector<Vec> ht(2);
  for (int i = 0; i < 2; ++i)
    ht[i] = axpy(k2[i], v2, axpy(d2 * k1[i], v1, scaled(d1 * d2, H0[i])));
  expectState(r, hv, ht);
}

TEST(OracleClosedForm, RetentionGammaPerValueHead) {
  // Three value heads share the key head: gamma = 1 - 2^-5, 1 - 2^-6, 1 - 2^-7.
  Result r = Tiny(Variant::Retention, 2, true, /*HV=*/3).run();
  checkScalarDecay(r, 0, 31.0 / 32, 31.0 / 32);
  checkScalarDecay(r, 1, 63.0 / 64, 63.0 / 64);
  checkScalarDecay(r, 2, 127.0 / 128, 127.0 / 128);
}

TEST(OracleClosedForm, LightningUsesGivenConstants) {
  Tiny tiny(Variant::Lightning, 2, true, /*HV=*/2);
  tiny.c.decayConstants = {0.75, 0.5};
  Result r = tiny.run();
  checkScalarDecay(r, 0, 0.75, 0.75);
  checkScalarDecay(r, 1, 0.5, 0.5);
}

TEST(OracleClosedForm, SimpleGlaUsesCurrentTokensGate) {
  Tiny tiny(Variant::SimpleGla, 2);
  tiny.setGate(0, -0.25);
  tiny.setGate(1, -0.75);
  checkScalarDecay(tiny.run(), 0, std::exp(-0.25), std::exp(-0.75));
}

TEST(OracleClosedForm, SimpleGlaHardResetIsExact) {
  Tiny tiny(Variant::SimpleGla, 2);
  tiny.setGate(0, -0.5);
  tiny.setGate(1, -INFINITY);
  Result r = tiny.run();
  // exp(-inf) = 0 wipes the state: o2 sees only token 2.
  expectNear(outputAt(r, 1), scaled(s * dot(k2, q2), v2), "o2");
  for (double x : r.ht)
    EXPECT_TRUE(std::isfinite(x));
}

TEST(OracleClosedForm, GlaPerChannelDecay) {
  Tiny tiny(Variant::Gla, 2);
  const Vec g1 = {-0.1, -1.0}, g2 = {-0.7, 0.0};
  tiny.setGate(0, g1);
  tiny.setGate(1, g2);
  Result r = tiny.run();
  const Vec e1 = expv(g1), e2 = expv(g2);
  expectNear(outputAt(r, 0), scaled(s, axpy(dot(k1, q1), v1, h0T(mul(e1, q1)))),
             "o1");
  Vec o2 = axpy(dot(k2, q2), v2,
                axpy(dot(mul(e2, k1), q2), v1, h0T(mul(mul(e1, e2), q2))));
  expectNear(outputAt(r, 1), scaled(s, o2), "o2");
  std::vector<Vec> ht(2);
  for (int i = 0; i < 2; ++i)
    ht[i] =
        axpy(k2[i], v2, axpy(e2[i] * k1[i], v1, scaled(e1[i] * e2[i], H0[i])));
  expectState(r, 0, ht);
}

TEST(OracleClosedForm, Rwkv6ReadsPreviousStatePlusBonus) {
  Tiny tiny(Variant::Rwkv6, 2);
  const Vec w1 = {-0.3, -0.05}, w2 = {-2.0, -0.5}, u = {0.7, -1.3};
  tiny.setGate(0, w1);
  tiny.setGate(1, w2);
  for (int64_t i = 0; i < 2; ++i)
    tiny.c.u.at({0, i}) = u[i];
  Result r = tiny.run();
  const Vec e1 = expv(w1), e2 = expv(w2);
  // o1 = s (S0 + diag(u) k1 v1^T)^T q1, S0 = H0: w1 not applied yet.
  expectNear(outputAt(r, 0), scaled(s, axpy(dot(mul(u, k1), q1), v1, h0T(q1))),
             "o1");
  // S1 = diag(e1) H0 + k1 v1^T; o2 = s (S1 + diag(u) k2 v2^T)^T q2.
  Vec o2 =
      axpy(dot(mul(u, k2), q2), v2, axpy(dot(k1, q2), v1, h0T(mul(e1, q2))));
  expectNear(outputAt(r, 1), scaled(s, o2), "o2");
  // ht = S2 = diag(e2) S1 + k2 v2^T: w2 only shows in the final state.
  std::vector<Vec> ht(2);
  for (int i = 0; i < 2; ++i)
    ht[i] =
        axpy(k2[i], v2, axpy(e2[i] * k1[i], v1, scaled(e1[i] * e2[i], H0[i])));
  expectState(r, 0, ht);
}

TEST(OracleClosedForm, DeltaRuleTwoTokens) {
  Tiny tiny(Variant::DeltaRule, 2);
  const double b1 = 0.6, b2 = 1.7;
  tiny.setBeta(0, b1);
  tiny.setBeta(1, b2);
  Result r = tiny.run();
  Vec r1 = axpy(-1.0, h0T(k1), v1); // v1 - H0^T k1
  Vec r2 = axpy(-b1 * dot(k1, k2), r1, axpy(-1.0, h0T(k2), v2));
  expectNear(outputAt(r, 0), scaled(s, axpy(b1 * dot(k1, q1), r1, h0T(q1))),
             "o1");
  Vec o2 = axpy(b2 * dot(k2, q2), r2, axpy(b1 * dot(k1, q2), r1, h0T(q2)));
  expectNear(outputAt(r, 1), scaled(s, o2), "o2");
  std::vector<Vec> ht(2);
  for (int i = 0; i < 2; ++i)
    ht[i] = axpy(b2 * k2[i], r2, axpy(b1 * k1[i], r1, H0[i]));
  expectState(r, 0, ht);
}

TEST(OracleClosedForm, GatedDeltaRuleResidualUsesDecayedState) {
  Tiny tiny(Variant::GatedDeltaRule, 2);
  const double b1 = 0.9, b2 = 0.4, g1 = -0.2, g2 = -1.1;
  tiny.setBeta(0, b1);
  tiny.setBeta(1, b2);
  tiny.setGate(0, g1);
  tiny.setGate(1, g2);
  Result r = tiny.run();
  const double d1 = std::exp(g1), d2 = std::exp(g2);
  Vec r1 = axpy(-d1, h0T(k1), v1);
  Vec r2 = axpy(-d2 * b1 * dot(k1, k2), r1, axpy(-d1 * d2, h0T(k2), v2));
  expectNear(outputAt(r, 0),
             scaled(s, axpy(b1 * dot(k1, q1), r1, scaled(d1, h0T(q1)))), "o1");
  Vec o2 = axpy(b2 * dot(k2, q2), r2,
                axpy(d2 * b1 * dot(k1, q2), r1, scaled(d1 * d2, h0T(q2))));
  expectNear(outputAt(r, 1), scaled(s, o2), "o2");
}

TEST(OracleClosedForm, GatedDeltaRulePerValueHeadInputs) {
  // Two value heads on one key head, each with its own v, beta and g.
  Tiny tiny(Variant::GatedDeltaRule, 2, /*withH0=*/true, /*HV=*/2);
  const Vec w1 = {-1.0, 0.5, 2.0}, w2 = {0.0, -0.75, 1.25};
  struct Head {
    Vec v1, v2;
    double b1, b2, g1, g2;
  } heads[] = {{v1, v2, 0.6, 1.7, -0.2, -1.1}, {w1, w2, 0.3, 0.9, -0.5, 0.0}};
  for (int64_t h = 0; h < 2; ++h) {
    tiny.setHead(0, h, heads[h].v1, heads[h].b1, heads[h].g1);
    tiny.setHead(1, h, heads[h].v2, heads[h].b2, heads[h].g2);
  }
  Result r = tiny.run();
  for (int64_t h = 0; h < 2; ++h) {
    const Head &x = heads[h];
    const double d1 = std::exp(x.g1), d2 = std::exp(x.g2);
    Vec r1 = axpy(-d1, h0T(k1), x.v1);
    Vec r2 = axpy(-d2 * x.b1 * dot(k1, k2), r1, axpy(-d1 * d2, h0T(k2), x.v2));
    expectNear(outputAt(r, 0, h),
               scaled(s, axpy(x.b1 * dot(k1, q1), r1, scaled(d1, h0T(q1)))),
               "o1");
    Vec o2 = axpy(x.b2 * dot(k2, q2), r2,
                  axpy(d2 * x.b1 * dot(k1, q2), r1, scaled(d1 * d2, h0T(q2))));
    expectNear(outputAt(r, 1, h), scaled(s, o2), "o2");
  }
}

TEST(OracleClosedForm, GroupedKeyHeadsServeConsecutiveValueHeads) {
  // H = 2 key heads, HV = 4 value heads: value heads 0, 1 read key head 0
  // and 2, 3 read key head 1 (not hv % H). One token, no state:
  // o[hv] = s (k[hv / 2] . q[hv / 2]) v[hv].
  CaseOptions o;
  o.B = 1;
  o.T = 1;
  o.H = 2;
  o.HV = 4;
  o.K = 2;
  o.V = 3;
  o.initialState = false;
  Case c = makeCase(o);
  Result r = runOracle(c.problem());
  for (int64_t hv = 0; hv < 4; ++hv) {
    double qk = 0;
    for (int64_t i = 0; i < 2; ++i)
      qk += c.q.at({0, 0, hv / 2, i}) * c.k.at({0, 0, hv / 2, i});
    Vec v(3);
    for (int64_t j = 0; j < 3; ++j)
      v[j] = c.v.at({0, 0, hv, j});
    expectNear(outputAt(r, 0, hv), scaled(s * qk, v), "o");
  }
}

TEST(OracleClosedForm, KdaPerChannelGatedDelta) {
  Tiny tiny(Variant::Kda, 2);
  const double b1 = 0.3, b2 = 0.8;
  const Vec g1 = {-0.4, -0.01}, g2 = {-1.5, -0.25};
  tiny.setBeta(0, b1);
  tiny.setBeta(1, b2);
  tiny.setGate(0, g1);
  tiny.setGate(1, g2);
  Result r = tiny.run();
  const Vec e1 = expv(g1), e2 = expv(g2);
  // S1 = diag(e1) H0 + b1 k1 r1^T, r1 = v1 - H0^T (e1 . k1).
  Vec r1 = axpy(-1.0, h0T(mul(e1, k1)), v1);
  // r2 = v2 - S1^T (e2 . k2).
  Vec r2 = axpy(-b1 * dot(mul(e2, k1), k2), r1,
                axpy(-1.0, h0T(mul(mul(e1, e2), k2)), v2));
  expectNear(outputAt(r, 0),
             scaled(s, axpy(b1 * dot(k1, q1), r1, h0T(mul(e1, q1)))), "o1");
  Vec o2 = axpy(b2 * dot(k2, q2), r2,
                axpy(b1 * dot(mul(e2, k1), q2), r1, h0T(mul(mul(e1, e2), q2))));
  expectNear(outputAt(r, 1), scaled(s, o2), "o2");
}

TEST(OracleClosedForm, GlaGatesArePerValueHead) {
  // One token, HV = 2 value heads with different vector gates.
  Tiny tiny(Variant::Gla, 1, /*withH0=*/true, /*HV=*/2);
  const Vec ga = {-0.3, -1.2}, gb = {-2.0, 0.0};
  for (int64_t i = 0; i < 2; ++i) {
    tiny.c.g.at({0, 0, 0, i}) = ga[i];
    tiny.c.g.at({0, 0, 1, i}) = gb[i];
  }
  Result r = tiny.run();
  expectNear(outputAt(r, 0, 0),
             scaled(s, axpy(dot(k1, q1), v1, h0T(mul(expv(ga), q1)))),
             "head 0");
  expectNear(outputAt(r, 0, 1),
             scaled(s, axpy(dot(k1, q1), v1, h0T(mul(expv(gb), q1)))),
             "head 1");
}

TEST(OracleClosedForm, DplrRankOneReadsUndecayedState) {
  Tiny tiny(Variant::Dplr, 2);
  const Vec g1 = {-0.6, -0.1}, g2 = {-0.2, -2.0};
  const Vec a1 = {0.3, -0.8}, b1 = {-0.5, 0.25}, a2 = {1.1, 0.4},
            b2 = {0.2, -0.9};
  tiny.setGate(0, g1);
  tiny.setGate(1, g2);
  tiny.setLowRank(0, a1, b1);
  tiny.setLowRank(1, a2, b2);
  Result r = tiny.run();
  const Vec e1 = expv(g1), e2 = expv(g2);
  // S1 = diag(e1) H0 + b1 (a1^T H0) + k1 v1^T, so for any key-space x:
  // S1^T x = H0^T (e1 . x) + (b1.x) H0^T a1 + (k1.x) v1.
  auto s1T = [&](const Vec &x) {
    return axpy(dot(k1, x), v1, axpy(dot(b1, x), h0T(a1), h0T(mul(e1, x))));
  };
  expectNear(outputAt(r, 0), scaled(s, s1T(q1)), "o1");
  // S2 = diag(e2) S1 + b2 (a2^T S1) + k2 v2^T.
  Vec o2 = axpy(dot(k2, q2), v2, axpy(dot(b2, q2), s1T(a2), s1T(mul(e2, q2))));
  expectNear(outputAt(r, 1), scaled(s, o2), "o2");
}

//===----------------------------------------------------------------------===//
// Feature maps: T = 1 linear attention gives o = s (phi(k).phi(q)) v.
//===----------------------------------------------------------------------===//

Vec singleTokenOutput(FeatureMap map, Result *full = nullptr) {
  Tiny tiny(Variant::LinearAttn, 1, /*withH0=*/false);
  tiny.c.featureMap = map;
  Result r = tiny.run();
  if (full)
    *full = r;
  return outputAt(r, 0);
}

TEST(OracleClosedForm, FeatureMapsElementwise) {
  // q1 = (0.5, -1), k1 = (1, 2).
  struct {
    FeatureMap map;
    Vec phiQ, phiK;
  } cases[] = {
      {FeatureMap::EluPlusOne, {1.5, std::exp(-1.0)}, {2.0, 3.0}},
      {FeatureMap::Relu, {0.5, 0.0}, {1.0, 2.0}},
      {FeatureMap::Silu,
       {0.5 / (1 + std::exp(-0.5)), -1.0 / (1 + std::exp(1.0))},
       {1.0 / (1 + std::exp(-1.0)), 2.0 / (1 + std::exp(-2.0))}},
      {FeatureMap::L2Norm,
       {0.5 / std::sqrt(1.25 + 1e-6), -1.0 / std::sqrt(1.25 + 1e-6)},
       {1.0 / std::sqrt(5.0 + 1e-6), 2.0 / std::sqrt(5.0 + 1e-6)}},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(featureMapName(c.map));
    expectNear(singleTokenOutput(c.map), scaled(s * dot(c.phiK, c.phiQ), v1),
               "o1");
  }
}

TEST(OracleClosedForm, Taylor2KernelAndDefaultScale) {
  Result r;
  Vec o = singleTokenOutput(FeatureMap::Taylor2, &r);
  EXPECT_EQ(r.K, 2);
  EXPECT_EQ(r.featureK, 1 + 2 + 4);
  // phi(k).phi(q) = 1 + q.k + (q.k)^2 / 2, and the scale stays K^-0.5 with
  // the input K = 2, not K' = 7.
  double qk = dot(q1, k1);
  expectNear(o, scaled(s * (1 + qk + qk * qk / 2), v1), "o1");
  // ht = phi(k) v^T, phi(k) = [1, k1, k2, k1k1/r2, k1k2/r2, k2k1/r2, k2k2/r2].
  const double r2 = std::sqrt(2.0);
  Vec phiK = {1, 1, 2, 1 / r2, 2 / r2, 2 / r2, 4 / r2};
  std::vector<Vec> ht;
  for (double x : phiK)
    ht.push_back(scaled(x, v1));
  expectState(r, 0, ht);
}

TEST(OracleClosedForm, L2NormOfZeroVectorIsZero) {
  Tiny tiny(Variant::LinearAttn, 1, false);
  tiny.c.featureMap = FeatureMap::L2Norm;
  tiny.c.q.at({0, 0, 0, 0}) = 0;
  tiny.c.q.at({0, 0, 0, 1}) = 0;
  Result r = tiny.run();
  for (double x : outputAt(r, 0))
    EXPECT_EQ(x, 0.0);
}

//===----------------------------------------------------------------------===//
// The sum normaliser.
//===----------------------------------------------------------------------===//

TEST(OracleClosedForm, NormalizeSumLinearAttn) {
  Tiny tiny(Variant::LinearAttn, 2, /*withH0=*/false);
  tiny.c.normalize = true;
  Result r = tiny.run();
  const double eps = 1e-6;
  expectNear(outputAt(r, 0),
             scaled(s * dot(k1, q1) / (s * dot(k1, q1) + eps), v1), "o1");
  double den = s * dot(axpy(1.0, k1, k2), q2) + eps;
  Vec o2 = axpy(dot(k2, q2), v2, scaled(dot(k1, q2), v1));
  expectNear(outputAt(r, 1), scaled(s / den, o2), "o2");
}

TEST(OracleClosedForm, NormalizeSumDecaysLikeTheState) {
  Tiny tiny(Variant::SimpleGla, 2, /*withH0=*/true);
  tiny.c.normalize = true;
  tiny.c.eps = 0.125;
  tiny.setGate(0, -0.3);
  tiny.setGate(1, -0.9);
  Result r = tiny.run();
  const double d1 = std::exp(-0.3), d2 = std::exp(-0.9);
  // z starts at zero even with h0: z2 = d2 k1 + k2.
  double den = s * dot(axpy(d2, k1, k2), q2) + 0.125;
  Vec o2 = axpy(dot(k2, q2), v2,
                axpy(d2 * dot(k1, q2), v1, scaled(d1 * d2, h0T(q2))));
  expectNear(outputAt(r, 1), scaled(s / den, o2), "o2");
}

TEST(OracleClosedForm, NormalizeSumRwkv6IncludesBonus) {
  Tiny tiny(Variant::Rwkv6, 1, /*withH0=*/false);
  tiny.c.normalize = true;
  const Vec u = {0.7, -1.3};
  for (int64_t i = 0; i < 2; ++i)
    tiny.c.u.at({0, i}) = u[i];
  Result r = tiny.run();
  double bonus = dot(mul(u, k1), q1);
  expectNear(outputAt(r, 0), scaled(s * bonus / (s * bonus + 1e-6), v1), "o1");
}

} // namespace
