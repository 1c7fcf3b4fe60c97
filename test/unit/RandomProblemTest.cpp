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

namespace {

/// The pool's slots, copied out in sequence order: the states a run
/// without a pool starts from (zeros for padding rows).
linac::NpyArray gatherStates(const linac::oracle::RandomProblem &pooled,
                             int64_t sequences) {
  const linac::NpyArray &pool = pooled.h0;
  const int64_t slot = pool.shape[1] * pool.shape[2] * pool.shape[3];
  linac::NpyArray states = linac::makeNpyArray(
      linac::DType::F32, {sequences, pool.shape[1], pool.shape[2],
                          pool.shape[3]});
  const float *from = pool.dataAs<float>();
  float *to = states.dataAs<float>();
  for (int64_t n = 0; n < sequences; ++n) {
    const int32_t index = pooled.stateIndices.dataAs<int32_t>()[n];
    for (int64_t i = 0; i < slot; ++i)
      to[n * slot + i] = index < 0 ? 0.0f : from[index * slot + i];
  }
  return states;
}

} // namespace

// A pool changes where states come from and go to, nothing else: the same
// problem run on the gathered states gives the same outputs (exactly: the
// same arithmetic), the named slots of ht hold those final states, every
// other slot is h0's, and a padding row's outputs are zero.
TEST(RandomProblem, StatePoolEqualsGatheredStates) {
  using namespace linac::oracle;
  for (bool varlen : {false, true}) {
    RandomProblemOptions options;
    options.variant = Variant::Kda;
    options.B = varlen ? 1 : 4;
    options.T = varlen ? 23 : 3;
    if (varlen)
      options.seqLens = {5, 0, 11, 7};
    options.H = 1;
    options.HV = 2;
    options.K = 8;
    options.V = 4;
    options.poolSize = 9;
    options.paddingRows = 1;
    options.seed = 7;
    RandomProblem pooled;
    std::string error;
    ASSERT_TRUE(makeRandomProblem(options, pooled, error)) << error;
    const int64_t sequences = 4;
    ASSERT_EQ(pooled.stateIndices.numElements(), sequences);
    EXPECT_EQ(pooled.stateIndices.dataAs<int32_t>()[3], -1);

    Problem plain = pooled.problem;
    plain.stateIndices = {};
    linac::NpyArray states = gatherStates(pooled, sequences);
    ASSERT_TRUE(linac::getTensorView(states, plain.h0, error)) << error;

    Result withPool, without;
    ASSERT_TRUE(run(pooled.problem, withPool, error)) << error;
    ASSERT_TRUE(run(plain, without, error)) << error;
    EXPECT_EQ(withPool.P, 9);
    ASSERT_EQ(withPool.ht.size(), size_t(9 * 2 * 8 * 4));

    // o: equal, except the padding row's tokens, which are zero.
    const int64_t rowsPerToken = 2 * 4;
    auto paddingToken = [&](int64_t b, int64_t t) {
      return varlen ? t >= 16 : b == 3; // the last sequence
    };
    for (int64_t b = 0; b < options.B; ++b)
      for (int64_t t = 0; t < options.T; ++t)
        for (int64_t i = 0; i < rowsPerToken; ++i) {
          size_t at = size_t((b * options.T + t) * rowsPerToken + i);
          EXPECT_EQ(withPool.o[at], paddingToken(b, t) ? 0.0 : without.o[at])
              << "b=" << b << " t=" << t;
        }
    // ht: the named slots hold the sequences' final states, the rest h0.
    const int64_t slot = 2 * 8 * 4;
    std::vector<int64_t> owner(9, -1);
    for (int64_t n = 0; n < sequences; ++n)
      if (int32_t index = pooled.stateIndices.dataAs<int32_t>()[n]; index >= 0)
        owner[index] = n;
    for (int64_t p = 0; p < 9; ++p)
      for (int64_t i = 0; i < slot; ++i) {
        double want = owner[p] >= 0
                          ? without.ht[size_t(owner[p] * slot + i)]
                          : double(pooled.h0.dataAs<float>()[p * slot + i]);
        ASSERT_EQ(withPool.ht[size_t(p * slot + i)], want) << "slot " << p;
      }
  }
}

TEST(RandomProblem, StatePoolErrors) {
  using namespace linac::oracle;
  RandomProblemOptions options;
  options.B = 3;
  options.T = 2;
  options.poolSize = 2;
  RandomProblem problem;
  std::string error;
  EXPECT_FALSE(makeRandomProblem(options, problem, error));
  EXPECT_EQ(error, "a pool of 2 states cannot hold 3 sequences");
  options.paddingRows = 1;
  ASSERT_TRUE(makeRandomProblem(options, problem, error)) << error;

  // The oracle's own checks: a slot past the pool, a shared slot.
  Result result;
  int32_t *indices = problem.stateIndices.dataAs<int32_t>();
  indices[0] = 2;
  EXPECT_FALSE(run(problem.problem, result, error));
  EXPECT_EQ(error, "state_indices: state_indices[0]=2 is outside the pool of "
                   "P=2 slots");
  indices[0] = indices[1];
  EXPECT_FALSE(run(problem.problem, result, error));
  EXPECT_EQ(error, "state_indices: sequences 0 and 1 share slot " +
                       std::to_string(indices[1]));
  // Padding rows may repeat.
  indices[0] = indices[2] = -1;
  EXPECT_TRUE(run(problem.problem, result, error)) << error;
  problem.problem.h0 = {};
  EXPECT_FALSE(run(problem.problem, result, error));
  EXPECT_EQ(error, "state_indices: picks slots of a state pool, which h0 "
                   "holds; h0 is missing");
}
