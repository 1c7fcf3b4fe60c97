//===- RandomProblem.cpp - Seeded random inputs for the oracle ------------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//

#include "linac/runtime/RandomProblem.h"

#include "linac/runtime/Random.h"

#include <algorithm>
#include <cmath>
#include <cstring>

using namespace linac;
using namespace linac::oracle;

namespace {

/// The most elements any one generated input may have (8 GiB of f64).
constexpr int64_t kMaxInputElements = int64_t(1) << 30;

bool fail(std::string &error, std::string message) {
  error = std::move(message);
  return false;
}

/// Stores `value` as element `index` of `array`, rounded to its dtype.
void store(NpyArray &array, int64_t index, double value) {
  uint8_t *base = array.bytes.data();
  switch (array.dtype) {
  case DType::F32: {
    float narrow = static_cast<float>(value);
    std::memcpy(base + index * 4, &narrow, 4);
    return;
  }
  case DType::F16: {
    uint16_t bits = doubleToHalfBits(value);
    std::memcpy(base + index * 2, &bits, 2);
    return;
  }
  case DType::BF16: {
    uint16_t bits = doubleToBfloat16Bits(value);
    std::memcpy(base + index * 2, &bits, 2);
    return;
  }
  case DType::F64:
    std::memcpy(base + index * 8, &value, 8);
    return;
  case DType::I32: {
    int32_t narrow = static_cast<int32_t>(value);
    std::memcpy(base + index * 4, &narrow, 4);
    return;
  }
  case DType::I64: {
    int64_t wide = static_cast<int64_t>(value);
    std::memcpy(base + index * 8, &wide, 8);
    return;
  }
  }
}

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

/// log(sigmoid(x)) without forming sigmoid's rounding error near 1.
double logSigmoid(double x) {
  return x >= 0 ? -std::log1p(std::exp(-x)) : x - std::log1p(std::exp(x));
}

/// Fills `array` with rows of `rowLength` values drawn by `draw`, optionally
/// L2-normalising each row (in double, before rounding).
template <typename Draw>
void fillRows(NpyArray &array, int64_t rowLength, Rng &rng, bool unitRows,
              Draw draw) {
  std::vector<double> row(rowLength);
  int64_t rows = array.numElements() / rowLength;
  for (int64_t r = 0; r < rows; ++r) {
    double sumSquares = 0;
    for (double &x : row) {
      x = draw(rng);
      sumSquares += x * x;
    }
    double factor =
        unitRows && sumSquares > 0 ? 1.0 / std::sqrt(sumSquares) : 1.0;
    for (int64_t i = 0; i < rowLength; ++i)
      store(array, r * rowLength + i, row[i] * factor);
  }
}

TensorView viewOf(const NpyArray &array) {
  return makeContiguousView(array.bytes.data(), array.dtype, array.shape.data(),
                            int(array.shape.size()));
}

} // namespace

std::vector<std::pair<const char *, const NpyArray *>>
RandomProblem::inputs() const {
  std::vector<std::pair<const char *, const NpyArray *>> list;
  const std::pair<const char *, const NpyArray *> all[] = {
      {"q", &q}, {"k", &k}, {"v", &v}, {"g", &g},   {"beta", &beta},
      {"a", &a}, {"b", &b}, {"u", &u}, {"h0", &h0}, {"cu_seqlens", &cuSeqlens},
      {"state_indices", &stateIndices}};
  for (const auto &entry : all)
    if (!entry.second->shape.empty())
      list.push_back(entry);
  return list;
}

bool oracle::makeRandomProblem(const RandomProblemOptions &options,
                               RandomProblem &out, std::string &error) {
  const int64_t B = options.B, T = options.T, H = options.H, HV = options.HV,
                K = options.K, V = options.V;
  if (B < 1 || T < 1 || H < 1 || HV < 1 || K < 1 || V < 1)
    return fail(error,
                "every dimension must be >= 1, got B=" + std::to_string(B) +
                    " T=" + std::to_string(T) + " H=" + std::to_string(H) +
                    " HV=" + std::to_string(HV) + " K=" + std::to_string(K) +
                    " V=" + std::to_string(V));
  if (HV % H != 0)
    return fail(error, "HV=" + std::to_string(HV) +
                           " must be a multiple of H=" + std::to_string(H));
  if (!isFloatingPoint(options.dtype))
    return fail(error, std::string("input dtype must be a float type, got ") +
                           dtypeName(options.dtype));
  if (K > 46340) // keeps 1 + K + K^2 far from overflow
    return fail(error, "K=" + std::to_string(K) + " is too large");
  const int64_t featureK = featureDim(options.featureMap, K);
  // Bound the largest input (a vector gate or the state) before allocating.
  int64_t largest = 1;
  for (int64_t extent : {B, T, HV, std::max(featureK, V)})
    if (__builtin_mul_overflow(largest, extent, &largest))
      largest = kMaxInputElements + 1;
  int64_t stateSize = 1;
  for (int64_t extent : {B, HV, featureK, V})
    if (__builtin_mul_overflow(stateSize, extent, &stateSize))
      stateSize = kMaxInputElements + 1;
  if (largest > kMaxInputElements || stateSize > kMaxInputElements)
    return fail(error, "problem too large: an input would exceed 2^30 "
                       "elements");

  int64_t N = B;
  if (!options.seqLens.empty()) {
    if (B != 1)
      return fail(error, "variable-length sequences require B == 1, got B=" +
                             std::to_string(B));
    int64_t total = 0;
    for (int64_t length : options.seqLens) {
      if (length < 0)
        return fail(error, "sequence lengths must be >= 0, got " +
                               std::to_string(length));
      if (__builtin_add_overflow(total, length, &total) || total > T)
        break;
    }
    if (total != T)
      return fail(error, "sequence lengths add up to " + std::to_string(total) +
                             ", expected T=" + std::to_string(T));
    N = static_cast<int64_t>(options.seqLens.size());
  }

  RandomProblem result;
  const VariantTraits traits = variantTraits(options.variant);
  const DType dtype = options.dtype;
  const DType gateType = dtype == DType::F64 ? DType::F64 : DType::F32;
  const bool unitKeys = traits.deltaWrite;
  Rng rng(options.seed);
  auto standard = [](Rng &r) { return r.normal(); };

  result.q = makeNpyArray(dtype, {B, T, H, K});
  fillRows(result.q, K, rng, unitKeys, standard);
  result.k = makeNpyArray(dtype, {B, T, H, K});
  fillRows(result.k, K, rng, unitKeys, standard);
  result.v = makeNpyArray(dtype, {B, T, HV, V});
  fillRows(result.v, V, rng, false, standard);

  auto gate = [](Rng &r) { return logSigmoid(r.normal(3.0, 1.0)); };
  if (traits.gate == GateKind::Scalar) {
    result.g = makeNpyArray(gateType, {B, T, HV});
    fillRows(result.g, 1, rng, false, gate);
  } else if (traits.gate == GateKind::Vector) {
    result.g = makeNpyArray(gateType, {B, T, HV, featureK});
    fillRows(result.g, featureK, rng, false, gate);
  }
  if (traits.beta) {
    // Write strengths are f32 whatever the activations are, as the
    // compiler's kernels take them (lib/Spec/SpecToMLIR.cpp).
    result.beta = makeNpyArray(gateType, {B, T, HV});
    fillRows(result.beta, 1, rng, false,
             [](Rng &r) { return sigmoid(r.normal()); });
  }
  if (traits.lowRank) {
    result.a = makeNpyArray(gateType, {B, T, HV, featureK});
    result.b = makeNpyArray(gateType, {B, T, HV, featureK});
    std::vector<double> kappa(featureK);
    for (int64_t row = 0; row < B * T * HV; ++row) {
      double sumSquares = 0;
      for (double &x : kappa) {
        x = rng.normal();
        sumSquares += x * x;
      }
      double inverse = 1.0 / std::sqrt(sumSquares);
      for (int64_t i = 0; i < featureK; ++i) {
        double unit = kappa[i] * inverse;
        store(result.a, row * featureK + i, -unit);
        store(result.b, row * featureK + i, unit * sigmoid(rng.normal()));
      }
    }
  }
  if (traits.bonus) {
    result.u = makeNpyArray(gateType, {HV, featureK});
    // With the sum normalizer the first output divides by the bonus alone
    // (z_0 = 0): a signed u can put that denominator at zero, where any
    // rounding is amplified without bound. A positive bonus, like RWKV-4's
    // e^u, keeps the problem well conditioned.
    if (options.normalize)
      fillRows(result.u, featureK, rng, false,
               [&](Rng &r) { return std::fabs(standard(r)); });
    else
      fillRows(result.u, featureK, rng, false, standard);
  }
  if (options.poolSize > 0) {
    // A pool of P slots; sequence n gets a distinct random slot (a shuffle
    // of the slots, so slot order and sequence order differ), the last
    // paddingRows sequences the padding index -1.
    if (options.paddingRows < 0 || options.paddingRows > N ||
        options.poolSize < N - options.paddingRows) {
      error = "a pool of " + std::to_string(options.poolSize) +
              " states cannot hold " +
              std::to_string(N - options.paddingRows) + " sequences";
      return false;
    }
    result.h0 = makeNpyArray(DType::F32, {options.poolSize, HV, featureK, V});
    fillRows(result.h0, V, rng, false, standard);
    std::vector<int64_t> slots(static_cast<size_t>(options.poolSize));
    for (int64_t p = 0; p < options.poolSize; ++p)
      slots[p] = p;
    for (int64_t p = options.poolSize - 1; p > 0; --p)
      std::swap(slots[p], slots[rng.next() % static_cast<uint64_t>(p + 1)]);
    result.stateIndices = makeNpyArray(DType::I32, {N});
    for (int64_t n = 0; n < N; ++n)
      store(result.stateIndices, n,
            n < N - options.paddingRows ? static_cast<double>(slots[n]) : -1.0);
  } else if (options.initialState) {
    result.h0 = makeNpyArray(DType::F32, {N, HV, featureK, V});
    fillRows(result.h0, V, rng, false, standard);
  }
  if (!options.seqLens.empty()) {
    result.cuSeqlens = makeNpyArray(DType::I32, {N + 1});
    int64_t offset = 0;
    store(result.cuSeqlens, 0, 0);
    for (int64_t n = 0; n < N; ++n) {
      offset += options.seqLens[n];
      store(result.cuSeqlens, n + 1, static_cast<double>(offset));
    }
  }

  Problem &problem = result.problem;
  problem.variant = options.variant;
  problem.featureMap = options.featureMap;
  problem.normalize = options.normalize;
  problem.eps = options.eps;
  problem.scale = options.scale;
  if (traits.decayConstants)
    for (int64_t h = 0; h < HV; ++h)
      problem.decayConstants.push_back(static_cast<float>(
          std::exp(-std::exp2(-8.0 * double(h + 1) / double(HV)))));
  problem.q = viewOf(result.q);
  problem.k = viewOf(result.k);
  problem.v = viewOf(result.v);
  if (!result.g.shape.empty())
    problem.g = viewOf(result.g);
  if (!result.beta.shape.empty())
    problem.beta = viewOf(result.beta);
  if (!result.a.shape.empty()) {
    problem.a = viewOf(result.a);
    problem.b = viewOf(result.b);
  }
  if (!result.u.shape.empty())
    problem.u = viewOf(result.u);
  if (!result.h0.shape.empty())
    problem.h0 = viewOf(result.h0);
  if (!result.cuSeqlens.shape.empty())
    problem.cuSeqlens = viewOf(result.cuSeqlens);
  if (!result.stateIndices.shape.empty())
    problem.stateIndices = viewOf(result.stateIndices);

  if (!validate(problem, error))
    return false;
  out = std::move(result);
  return true;
}
