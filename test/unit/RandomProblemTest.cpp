//===- RandomProblemTest.cpp - Seeded inputs for the oracle ---------------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//

#include "linac/runtime/RandomProblem.h"

#include "gtest/gtest.h"

#include <cmath>

using namespace linac;
using namespace linac::oracle;

namespace {

RandomProblemOptions small(Variant variant) {
  RandomProblemOptions o;
  o.variant = variant;
  o.B = 2;
  o.T = 9;
  o.H = 2;
  o.HV = 4;
  o.K = 4;
  o.V = 3;
  o.seed = 5;
  o.initialState = true;
  return o;
}

TEST(RandomProblem, EveryVariantValidatesAndRuns) {
  for (Variant variant : kAllVariants)
    for (DType dtype : {DType::F32, DType::F16, DType::BF16, DType::F64}) {
      SCOPED_TRACE(std::string(variantName(variant)) + " " + dtypeName(dtype));
      RandomProblemOptions o = small(variant);
      o.dtype = dtype;
      RandomProblem random;
      std::string error;
      ASSERT_TRUE(makeRandomProblem(o, random, error)) << error;
      Result result;
      ASSERT_TRUE(run(random.problem, result, error)) << error;
      for (double x : result.o)
        ASSERT_TRUE(std::isfinite(x));
      EXPECT_GT(rms(result.o.data(), result.o.size()), 0.0);
      EXPECT_EQ(random.q.dtype, dtype);
    }
}

TEST(RandomProblem, InputsMatchTheVariant) {
  RandomProblem random;
  std::string error;
  ASSERT_TRUE(makeRandomProblem(small(Variant::Dplr), random, error));
  std::vector<std::string> names;
  for (const auto &entry : random.inputs())
    names.push_back(entry.first);
  EXPECT_EQ(names,
            (std::vector<std::string>{"q", "k", "v", "g", "a", "b", "h0"}));
  ASSERT_TRUE(makeRandomProblem(small(Variant::Lightning), random, error));
  EXPECT_EQ(random.problem.decayConstants.size(), 4u);
  for (double lambda : random.problem.decayConstants) {
    EXPECT_GT(lambda, 0.0);
    EXPECT_LE(lambda, 1.0);
    EXPECT_EQ(lambda, double(float(lambda))) << "f32-representable";
  }
}

TEST(RandomProblem, GatesBetaAndKeysAreInRange) {
  RandomProblem random;
  std::string error;
  ASSERT_TRUE(makeRandomProblem(small(Variant::Kda), random, error));
  for (int64_t i = 0; i < random.g.numElements(); ++i) {
    float g = random.g.dataAs<float>()[i];
    EXPECT_LE(g, 0.0f);
    EXPECT_GT(g, -20.0f);
  }
  for (int64_t i = 0; i < random.beta.numElements(); ++i) {
    float beta = random.beta.dataAs<float>()[i];
    EXPECT_GE(beta, 0.0f);
    EXPECT_LE(beta, 1.0f);
  }
  const float *k = random.k.dataAs<float>();
  for (int64_t row = 0; row < random.k.numElements(); row += 4) {
    double norm = 0;
    for (int i = 0; i < 4; ++i)
      norm += double(k[row + i]) * k[row + i];
    EXPECT_NEAR(norm, 1.0, 1e-6) << "delta-rule keys are unit vectors";
  }
}

TEST(RandomProblem, SameSeedSameInputsAndMovesKeepViews) {
  RandomProblem a, b, c;
  std::string error;
  RandomProblemOptions o = small(Variant::Gla);
  ASSERT_TRUE(makeRandomProblem(o, a, error));
  ASSERT_TRUE(makeRandomProblem(o, b, error));
  o.seed = 6;
  ASSERT_TRUE(makeRandomProblem(o, c, error));
  EXPECT_EQ(a.q.bytes, b.q.bytes);
  EXPECT_EQ(a.g.bytes, b.g.bytes);
  EXPECT_NE(a.q.bytes, c.q.bytes);
  RandomProblem moved = std::move(a);
  EXPECT_EQ(moved.problem.q.data, moved.q.bytes.data());
  Result r1, r2;
  ASSERT_TRUE(run(moved.problem, r1, error)) << error;
  ASSERT_TRUE(run(b.problem, r2, error)) << error;
  EXPECT_EQ(r1.o, r2.o);
}

TEST(RandomProblem, Varlen) {
  RandomProblemOptions o = small(Variant::GatedDeltaRule);
  o.B = 1;
  o.T = 10;
  o.seqLens = {4, 0, 6};
  RandomProblem random;
  std::string error;
  ASSERT_TRUE(makeRandomProblem(o, random, error)) << error;
  EXPECT_EQ(random.cuSeqlens.shape, std::vector<int64_t>({4}));
  const int32_t *cu = random.cuSeqlens.dataAs<int32_t>();
  EXPECT_EQ(cu[3], 10);
  EXPECT_EQ(random.h0.shape[0], 3);
  o.seqLens = {4, 5};
  EXPECT_FALSE(makeRandomProblem(o, random, error));
  EXPECT_NE(error.find("add up to 9"), std::string::npos) << error;
}

TEST(RandomProblem, RejectsBadOptions) {
  RandomProblem random;
  std::string error;
  RandomProblemOptions o = small(Variant::Gla);
  o.HV = 3;
  EXPECT_FALSE(makeRandomProblem(o, random, error));
  EXPECT_NE(error.find("multiple"), std::string::npos);
  o = small(Variant::Gla);
  o.T = 0;
  EXPECT_FALSE(makeRandomProblem(o, random, error));
  o = small(Variant::Gla);
  o.dtype = DType::I32;
  EXPECT_FALSE(makeRandomProblem(o, random, error));
  o = small(Variant::DeltaRule);
  o.normalize = true;
  EXPECT_FALSE(makeRandomProblem(o, random, error));
  EXPECT_EQ(error.rfind("normalize:", 0), 0u);
  o = small(Variant::Gla);
  o.T = int64_t(1) << 40;
  EXPECT_FALSE(makeRandomProblem(o, random, error));
  EXPECT_NE(error.find("too large"), std::string::npos);
}

} // namespace
