//===- OracleValidationTest.cpp - Every oracle error path -----------------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// Each malformed problem must be rejected before any arithmetic, with a
/// message that starts with the offending tensor or option name.
///
//===----------------------------------------------------------------------===//

#include "TestUtil.h"

#include <cmath>
#include <limits>

using namespace linac;
using namespace linac::oracle;
using namespace linac::test;

namespace {

Case validCase(Variant variant, FeatureMap map = FeatureMap::Identity) {
  CaseOptions o;
  o.variant = variant;
  o.featureMap = map;
  o.B = 2;
  o.T = 5;
  o.H = 2;
  o.HV = 4;
  o.K = 3;
  o.V = 2;
  return makeCase(o);
}

/// Expects `problem` to be rejected with a message starting with `name` + ":"
/// and containing `fragment`.
void expectError(const Problem &problem, const std::string &name,
                 const std::string &fragment = "") {
  std::string error;
  Result result;
  result.o.assign(3, 1.0);
  EXPECT_FALSE(run(problem, result, error));
  EXPECT_EQ(error.rfind(name + ":", 0), 0u) << "message: " << error;
  EXPECT_NE(error.find(fragment), std::string::npos)
      << "message: " << error << "\nexpected to contain: " << fragment;
  EXPECT_TRUE(result.o.empty()) << "a failed run leaves the result empty";
  std::string again;
  EXPECT_FALSE(validate(problem, again));
  EXPECT_EQ(again, error);
}

TEST(OracleValidation, ValidProblemsPass) {
  for (Variant variant : kAllVariants) {
    Case c = validCase(variant);
    std::string error;
    EXPECT_TRUE(validate(c.problem(), error))
        << variantName(variant) << ": " << error;
  }
}

TEST(OracleValidation, ExactMessageForWrongGateShape) {
  Case c = validCase(Variant::Gla);
  Problem p = c.problem();
  p.g.rank = 3;
  std::string error;
  Result r;
  EXPECT_FALSE(run(p, r, error));
  EXPECT_EQ(error, "g: expected shape [2, 5, 4, 3] (B, T, HV, K) for variant "
                   "'gla', got [2, 5, 4]");
}

TEST(OracleValidation, MissingRequiredInputs) {
  {
    Problem p = validCase(Variant::Gla).problem();
    p.g = TensorView();
    expectError(p, "g", "missing required input for variant 'gla'");
  }
  {
    Problem p = validCase(Variant::GatedDeltaRule).problem();
    p.beta = TensorView();
    expectError(p, "beta", "missing");
  }
  {
    Problem p = validCase(Variant::Dplr).problem();
    p.b = TensorView();
    expectError(p, "b", "missing");
  }
  {
    Problem p = validCase(Variant::Rwkv6).problem();
    p.u = TensorView();
    expectError(p, "u", "[4, 3] (HV, K)");
  }
  for (const char *name : {"q", "k", "v"}) {
    Problem p = validCase(Variant::LinearAttn).problem();
    TensorView &view = name[0] == 'q' ? p.q : name[0] == 'k' ? p.k : p.v;
    view = TensorView();
    expectError(p, name, "missing");
  }
}

TEST(OracleValidation, UnexpectedInputs) {
  Case gla = validCase(Variant::Gla);
  Case dplr = validCase(Variant::Dplr);
  Case delta = validCase(Variant::GatedDeltaRule);
  Case rwkv = validCase(Variant::Rwkv6);
  {
    Problem p = validCase(Variant::LinearAttn).problem();
    p.g = gla.g.view();
    expectError(p, "g", "unexpected input for variant 'linear_attn'");
  }
  {
    Problem p = gla.problem();
    p.beta = delta.beta.view();
    expectError(p, "beta", "unexpected");
  }
  {
    Problem p = gla.problem();
    p.a = dplr.a.view();
    expectError(p, "a", "unexpected");
  }
  {
    Problem p = delta.problem();
    p.u = rwkv.u.view();
    expectError(p, "u", "unexpected");
  }
  {
    Problem p = validCase(Variant::Retention).problem();
    p.decayConstants = {0.5, 0.5, 0.5, 0.5};
    expectError(p, "decayConstants", "unexpected");
  }
}

TEST(OracleValidation, WrongShapes) {
  {
    Problem p = validCase(Variant::LinearAttn).problem();
    p.q.rank = 3;
    expectError(p, "q", "4-D");
  }
  {
    Problem p = validCase(Variant::LinearAttn).problem();
    p.q.shape[1] = 0;
    p.k.shape[1] = 0;
    p.v.shape[1] = 0;
    expectError(p, "q", "every extent >= 1");
  }
  {
    Problem p = validCase(Variant::LinearAttn).problem();
    p.q.shape[3] = -3;
    expectError(p, "q", "got [2, 5, 2, -3]");
  }
  {
    Problem p = validCase(Variant::LinearAttn).problem();
    p.k.shape[3] = 2;
    expectError(p, "k", "[2, 5, 2, 3] (B, T, H, K, as q)");
  }
  {
    Problem p = validCase(Variant::LinearAttn).problem();
    p.v.shape[1] = 4;
    expectError(p, "v", "T=5");
  }
  {
    Problem p = validCase(Variant::LinearAttn).problem();
    p.v.rank = 9;
    expectError(p, "v", "invalid rank 9");
  }
  {
    Problem p = validCase(Variant::SimpleGla).problem();
    p.g.shape[2] = 2;
    expectError(p, "g", "[2, 5, 4] (B, T, HV)");
  }
  {
    Problem p = validCase(Variant::Kda).problem();
    p.beta.rank = 4;
    p.beta.shape[3] = 1;
    expectError(p, "beta", "(B, T, HV)");
  }
  {
    Problem p = validCase(Variant::LinearAttn).problem();
    p.h0.shape[2] = 4;
    expectError(p, "h0", "[2, 4, 3, 2] (B, HV, K, V)");
  }
}

TEST(OracleValidation, Taylor2ShapesUseExpandedKeyDim) {
  // K = 3 -> K' = 13 for vector gates, a, b, u and the state.
  {
    Case c = validCase(Variant::Gla, FeatureMap::Taylor2);
    std::string error;
    EXPECT_TRUE(validate(c.problem(), error)) << error;
    Problem p = c.problem();
    p.g.shape[3] = 3;
    expectError(p, "g", "[2, 5, 4, 13] (B, T, HV, K' = 1 + K + K^2)");
  }
  {
    Problem p = validCase(Variant::Rwkv6, FeatureMap::Taylor2).problem();
    p.u.shape[1] = 3;
    expectError(p, "u", "[4, 13]");
  }
  {
    Problem p = validCase(Variant::LinearAttn, FeatureMap::Taylor2).problem();
    p.h0.shape[2] = 3;
    expectError(p, "h0", "[2, 4, 13, 2]");
  }
}

TEST(OracleValidation, HeadCounts) {
  Case c = validCase(Variant::LinearAttn);
  Problem p = c.problem();
  p.v.shape[2] = 3; // HV = 3, H = 2
  p.h0 = TensorView();
  expectError(p, "v", "HV=3 value heads is not a multiple of H=2");
}

TEST(OracleValidation, DTypes) {
  Case c = validCase(Variant::Kda);
  {
    Problem p = c.problem();
    p.q.dtype = DType::I32;
    expectError(p, "q", "unsupported dtype i32");
  }
  {
    Problem p = c.problem();
    p.g.dtype = DType::I64;
    expectError(p, "g", "expected f32, f16, bf16 or f64");
  }
  {
    Problem p = c.problem();
    p.h0.dtype = DType::F16;
    expectError(p, "h0", "expected f32 or f64");
  }
  {
    Problem p = c.problem();
    p.beta.dtype = static_cast<DType>(77);
    expectError(p, "beta", "invalid dtype");
  }
  {
    CaseOptions o;
    o.B = 1;
    o.seqLens = {3, 4};
    o.T = 7;
    Case v = makeCase(o);
    Problem p = v.problem();
    p.cuSeqlens.dtype = DType::F32;
    expectError(p, "cu_seqlens", "expected i32 or i64");
  }
}

TEST(OracleValidation, CuSeqlens) {
  CaseOptions o;
  o.B = 1;
  o.T = 7;
  o.seqLens = {3, 4};
  Case c = makeCase(o);
  auto withOffsets = [&](std::vector<int64_t> offsets,
                         const std::string &fragment) {
    Case bad = c;
    bad.cuSeqlens = offsets;
    bad.h0 = Owned(); // h0's N would no longer match
    SCOPED_TRACE(fragment);
    expectError(bad.problem(), "cu_seqlens", fragment);
  };
  withOffsets({1, 3, 7}, "first offset must be 0");
  withOffsets({0, 5, 4, 7}, "cu_seqlens[2]=4 < cu_seqlens[1]=5");
  withOffsets({0, 3, 6}, "last offset must equal T=7");
  withOffsets({0, 3, 9}, "last offset must equal T=7");
  withOffsets({0, -2, 7}, "nondecreasing");
  withOffsets({0}, "N >= 1");
  {
    Problem p = c.problem();
    p.cuSeqlens.rank = 2;
    expectError(p, "cu_seqlens", "1-D");
  }
  {
    // Varlen requires B == 1.
    Case batched = makeCase(CaseOptions());
    Problem p = batched.problem();
    p.cuSeqlens = c.problem().cuSeqlens;
    p.h0 = TensorView();
    expectError(p, "cu_seqlens", "requires B == 1, got B=2");
  }
  {
    // h0 must then have N rows, not B.
    Problem p = c.problem();
    std::vector<double> h0(1 * 2 * 3 * 4);
    p.h0 = makeContiguousView(h0.data(), DType::F64, {1, 2, 3, 4});
    expectError(p, "h0", "[2, 2, 3, 4] (N, HV, K, V)");
  }
}

TEST(OracleValidation, Options) {
  {
    Problem p = validCase(Variant::DeltaRule).problem();
    p.normalize = true;
    expectError(p, "normalize", "not defined for variant 'delta_rule'");
  }
  for (Variant variant : {Variant::GatedDeltaRule, Variant::Kda}) {
    Problem p = validCase(variant).problem();
    p.normalize = true;
    expectError(p, "normalize", variantName(variant));
  }
  {
    Problem p = validCase(Variant::LinearAttn).problem();
    p.scale = std::numeric_limits<double>::quiet_NaN();
    expectError(p, "scale", "finite");
  }
  {
    Problem p = validCase(Variant::LinearAttn).problem();
    p.eps = INFINITY;
    expectError(p, "eps", "finite");
  }
  {
    Problem p = validCase(Variant::Lightning).problem();
    p.decayConstants.pop_back();
    expectError(p, "decayConstants", "expected 4 values");
  }
  for (double bad : {0.0, -0.5, 1.5, std::nan("")}) {
    Problem p = validCase(Variant::Lightning).problem();
    p.decayConstants[2] = bad;
    expectError(p, "decayConstants", "(0, 1]");
  }
  {
    Problem p = validCase(Variant::LinearAttn).problem();
    p.featureMap = static_cast<FeatureMap>(42);
    expectError(p, "featureMap", "invalid");
  }
  {
    Problem p = validCase(Variant::LinearAttn).problem();
    p.variant = static_cast<Variant>(42);
    expectError(p, "variant", "invalid");
  }
}

TEST(OracleValidation, OverflowingStridesAndSizes) {
  Case c = validCase(Variant::LinearAttn);
  {
    Problem p = c.problem();
    p.v.strides[1] = int64_t(1) << 62;
    expectError(p, "v", "overflow");
  }
  {
    Problem p = c.problem();
    p.q.strides[0] = std::numeric_limits<int64_t>::min() / 2;
    p.q.strides[1] = std::numeric_limits<int64_t>::min() / 2;
    expectError(p, "q", "overflow");
  }
  {
    // A broadcast view may describe a huge tensor in little memory; the
    // oracle refuses outputs it could not allocate instead of crashing.
    double one = 1.0;
    Problem p;
    p.variant = Variant::LinearAttn;
    TensorView big =
        makeContiguousView(&one, DType::F64, {1 << 20, 1 << 20, 1, 4});
    for (int64_t &s : big.strides)
      s = 0;
    p.q = p.k = p.v = big;
    expectError(p, "v", "exceeds the oracle's limit");
  }
  {
    double one = 1.0;
    Problem p;
    p.variant = Variant::LinearAttn;
    p.featureMap = FeatureMap::Taylor2;
    TensorView view = makeContiguousView(&one, DType::F64, {1, 1, 1, 1 << 20});
    view.strides[3] = 0;
    p.q = p.k = p.v = view;
    expectError(p, "q", "exceeds the oracle's limit");
  }
}

} // namespace
