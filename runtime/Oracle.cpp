//===- Oracle.cpp - Float64 reference oracle for linear attention ---------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// Validation first, arithmetic second: `run` refuses to touch memory until
/// every view has been checked against the shape the variant implies, so a
/// consistent view can never be read out of bounds. The arithmetic is the
/// literal recurrent form of SEMANTICS.md in double; it favours being
/// obviously right over being fast.
///
//===----------------------------------------------------------------------===//

#include "linac/runtime/Oracle.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

using namespace linac;
using namespace linac::oracle;

//===----------------------------------------------------------------------===//
// Names and traits
//===----------------------------------------------------------------------===//

const char *oracle::variantName(Variant variant) {
  switch (variant) {
  case Variant::LinearAttn:
    return "linear_attn";
  case Variant::Retention:
    return "retention";
  case Variant::Lightning:
    return "lightning";
  case Variant::SimpleGla:
    return "simple_gla";
  case Variant::Gla:
    return "gla";
  case Variant::Rwkv6:
    return "rwkv6";
  case Variant::DeltaRule:
    return "delta_rule";
  case Variant::GatedDeltaRule:
    return "gated_delta_rule";
  case Variant::Kda:
    return "kda";
  case Variant::Dplr:
    return "dplr";
  }
  return "<invalid variant>";
}

std::optional<Variant> oracle::parseVariant(std::string_view name) {
  for (Variant variant : kAllVariants)
    if (name == variantName(variant))
      return variant;
  return std::nullopt;
}

const char *oracle::featureMapName(FeatureMap map) {
  switch (map) {
  case FeatureMap::Identity:
    return "identity";
  case FeatureMap::EluPlusOne:
    return "elu_plus_one";
  case FeatureMap::Relu:
    return "relu";
  case FeatureMap::Silu:
    return "silu";
  case FeatureMap::L2Norm:
    return "l2norm";
  case FeatureMap::Taylor2:
    return "taylor2";
  }
  return "<invalid feature map>";
}

std::optional<FeatureMap> oracle::parseFeatureMap(std::string_view name) {
  for (FeatureMap map : kAllFeatureMaps)
    if (name == featureMapName(map))
      return map;
  return std::nullopt;
}

int64_t oracle::featureDim(FeatureMap map, int64_t headDim) {
  if (map == FeatureMap::Taylor2)
    return 1 + headDim + headDim * headDim;
  return headDim;
}

VariantTraits oracle::variantTraits(Variant variant) {
  VariantTraits traits;
  switch (variant) {
  case Variant::LinearAttn:
  case Variant::Retention:
    traits.supportsNormalize = true;
    break;
  case Variant::Lightning:
    traits.decayConstants = true;
    traits.supportsNormalize = true;
    break;
  case Variant::SimpleGla:
    traits.gate = GateKind::Scalar;
    traits.supportsNormalize = true;
    break;
  case Variant::Gla:
    traits.gate = GateKind::Vector;
    traits.supportsNormalize = true;
    break;
  case Variant::Rwkv6:
    traits.gate = GateKind::Vector;
    traits.bonus = true;
    traits.supportsNormalize = true;
    break;
  case Variant::DeltaRule:
    traits.beta = true;
    traits.deltaWrite = true;
    break;
  case Variant::GatedDeltaRule:
    traits.gate = GateKind::Scalar;
    traits.beta = true;
    traits.deltaWrite = true;
    break;
  case Variant::Kda:
    traits.gate = GateKind::Vector;
    traits.beta = true;
    traits.deltaWrite = true;
    break;
  case Variant::Dplr:
    traits.gate = GateKind::Vector;
    traits.lowRank = true;
    traits.supportsNormalize = true;
    break;
  }
  return traits;
}

//===----------------------------------------------------------------------===//
// Validation
//===----------------------------------------------------------------------===//

namespace {

/// The largest number of doubles the oracle will allocate for one output.
/// Views with zero strides can describe enormous tensors in little memory;
/// refusing them here keeps "errors are values" true for allocation too.
constexpr int64_t kMaxResultElements = int64_t(1) << 30;

/// Dimensions derived from q, v and cu_seqlens.
struct Dims {
  int64_t B = 0, T = 0, H = 0, HV = 0, K = 0, featureK = 0, V = 0, N = 0;
  int64_t G = 0; ///< value heads per key head
  /// With state_indices: the pool's P slots, and sequence n's slot (-1 for
  /// a padding row). Without: P = N and slot n is sequence n.
  int64_t P = 0;
  std::vector<int64_t> slots;
  /// With cu_seqlens, sequence n covers tokens [seqBegin[n], seqBegin[n+1])
  /// of batch element 0; without, sequence n is all T tokens of element n.
  std::vector<int64_t> seqBegin;
  bool varlen = false;
  double scale = 0;
};

/// Float dtypes accepted for data inputs.
bool isDataDType(DType dtype) { return isFloatingPoint(dtype); }
bool isStateDType(DType dtype) {
  return dtype == DType::F32 || dtype == DType::F64;
}
bool isIndexDType(DType dtype) {
  return dtype == DType::I32 || dtype == DType::I64;
}

/// Checks that no offset within `view` overflows int64 arithmetic, also
/// after scaling to bytes. The oracle forms offsets as sum(idx[d] * stride[d]).
bool offsetsFit(const TensorView &view) {
  int64_t low = 0, high = 0;
  for (int d = 0; d < view.rank; ++d) {
    int64_t term;
    if (__builtin_mul_overflow(view.shape[d] - 1, view.strides[d], &term))
      return false;
    if (term >= 0 ? __builtin_add_overflow(high, term, &high)
                  : __builtin_add_overflow(low, term, &low))
      return false;
  }
  int64_t bytes;
  int64_t size = static_cast<int64_t>(dtypeSize(view.dtype));
  return !__builtin_mul_overflow(high, size, &bytes) &&
         !__builtin_mul_overflow(low, size, &bytes);
}

class Validator {
public:
  Validator(const Problem &problem, std::string &error)
      : problem(problem), error(error), traits(variantTraits(problem.variant)),
        variant(variantName(problem.variant)) {}

  bool check(Dims &dims);

private:
  bool fail(std::string message) {
    error = std::move(message);
    return false;
  }

  std::string forVariant() const {
    return std::string(" for variant '") + variant + "'";
  }

  /// Shape text of a view whose rank may be garbage.
  static std::string shapeOf(const TensorView &view) {
    if (view.rank < 0 || view.rank > kMaxRank)
      return "a view of invalid rank " + std::to_string(view.rank);
    return formatShape(view.shape, view.rank);
  }

  /// Checks an input against an exact expected shape. `labels` names the
  /// dimensions, e.g. "(B, T, HV, K)". `dtypes` describes `dtypeOk` in words.
  bool checkInput(const TensorView &view, const char *name,
                  const std::vector<int64_t> &expected, const char *labels,
                  bool (*dtypeOk)(DType), const char *dtypes, bool required);

  bool checkStrides(const TensorView &view, const char *name) {
    if (!offsetsFit(view))
      return fail(std::string(name) + ": strides " +
                  formatShape(view.strides, view.rank) + " with shape " +
                  formatShape(view.shape, view.rank) +
                  " overflow 64-bit offset arithmetic");
    return true;
  }

  bool checkDType(const TensorView &view, const char *name,
                  bool (*dtypeOk)(DType), const char *dtypes) {
    if (static_cast<unsigned>(view.dtype) > static_cast<unsigned>(DType::I64))
      return fail(std::string(name) + ": invalid dtype value " +
                  std::to_string(static_cast<unsigned>(view.dtype)));
    if (!dtypeOk(view.dtype))
      return fail(std::string(name) + ": unsupported dtype " +
                  dtypeName(view.dtype) + forVariant() + "; expected " +
                  dtypes);
    return true;
  }

  bool rejectUnexpected(const TensorView &view, const char *name, bool takes) {
    if (view.present() && !takes)
      return fail(std::string(name) + ": unexpected input" + forVariant() +
                  ", which takes no " + name);
    return true;
  }

  bool checkHeadInput(const TensorView &view, const char *name,
                      const Dims &dims);
  bool checkCuSeqlens(Dims &dims);
  bool checkStateIndices(Dims &dims);
  /// Bounds ht = [N, HV, K', V] before anything of that size is allocated.
  bool checkStateSize(const Dims &dims) {
    int64_t size;
    if (__builtin_mul_overflow(dims.N, dims.HV, &size) ||
        __builtin_mul_overflow(size, dims.featureK, &size) ||
        __builtin_mul_overflow(size, dims.V, &size) ||
        size > kMaxResultElements)
      return fail(
          std::string(problem.cuSeqlens.present() ? "cu_seqlens" : "q") +
          ": the final state ht of N=" + std::to_string(dims.N) +
          " sequences x HV=" + std::to_string(dims.HV) + " x K'=" +
          std::to_string(dims.featureK) + " x V=" + std::to_string(dims.V) +
          " exceeds the oracle's limit of 2^30 elements");
    return true;
  }
  bool checkOptions(const Dims &dims);

  const Problem &problem;
  std::string &error;
  VariantTraits traits;
  const char *variant;
};

bool Validator::checkInput(const TensorView &view, const char *name,
                           const std::vector<int64_t> &expected,
                           const char *labels, bool (*dtypeOk)(DType),
                           const char *dtypes, bool required) {
  std::string want =
      formatShape(expected.data(), int(expected.size())) + " " + labels;
  if (!view.present()) {
    if (!required)
      return true;
    return fail(std::string(name) + ": missing required input" + forVariant() +
                " (expected shape " + want + ")");
  }
  bool same = view.rank == int(expected.size());
  for (int d = 0; same && d < view.rank; ++d)
    same = view.shape[d] == expected[d];
  if (!same)
    return fail(std::string(name) + ": expected shape " + want + forVariant() +
                ", got " + shapeOf(view));
  return checkDType(view, name, dtypeOk, dtypes) && checkStrides(view, name);
}

bool Validator::checkHeadInput(const TensorView &view, const char *name,
                               const Dims &dims) {
  // q and k: the first one fixes B, T, H, K; the second must match it.
  if (!view.present())
    return fail(std::string(name) + ": missing required input" + forVariant() +
                " (expected shape [B, T, H, K])");
  if (dims.B != 0) {
    std::vector<int64_t> expected = {dims.B, dims.T, dims.H, dims.K};
    return checkInput(view, name, expected, "(B, T, H, K, as q)", isDataDType,
                      "f32, f16, bf16 or f64", true);
  }
  bool ok = view.rank == 4;
  for (int d = 0; ok && d < 4; ++d)
    ok = view.shape[d] >= 1;
  if (!ok)
    return fail(std::string(name) +
                ": expected a 4-D shape [B, T, H, K] with every extent >= 1" +
                forVariant() + ", got " + shapeOf(view));
  return checkDType(view, name, isDataDType, "f32, f16, bf16 or f64") &&
         checkStrides(view, name);
}

/// Element n of a rank-1 i32 or i64 view (dtype and strides checked).
int64_t readIndex(const TensorView &view, int64_t n) {
  const int64_t size = static_cast<int64_t>(dtypeSize(view.dtype));
  const char *at =
      static_cast<const char *>(view.data) + n * view.strides[0] * size;
  if (view.dtype == DType::I32) {
    int32_t narrow;
    std::memcpy(&narrow, at, sizeof(narrow));
    return narrow;
  }
  int64_t value;
  std::memcpy(&value, at, sizeof(value));
  return value;
}

bool Validator::checkCuSeqlens(Dims &dims) {
  const TensorView &cu = problem.cuSeqlens;
  if (!cu.present()) {
    dims.N = dims.B;
    return checkStateSize(dims);
  }
  if (cu.rank != 1 || cu.shape[0] < 2)
    return fail("cu_seqlens: expected a 1-D shape [N + 1] with N >= 1, got " +
                shapeOf(cu));
  if (!checkDType(cu, "cu_seqlens", isIndexDType, "i32 or i64") ||
      !checkStrides(cu, "cu_seqlens"))
    return false;
  if (dims.B != 1)
    return fail("cu_seqlens: variable-length input requires B == 1, got B=" +
                std::to_string(dims.B));
  dims.varlen = true;
  dims.N = cu.shape[0] - 1;
  if (!checkStateSize(dims))
    return false;
  dims.seqBegin.resize(dims.N + 1);
  for (int64_t n = 0; n <= dims.N; ++n)
    dims.seqBegin[n] = readIndex(cu, n);
  if (dims.seqBegin[0] != 0)
    return fail("cu_seqlens: first offset must be 0, got " +
                std::to_string(dims.seqBegin[0]));
  for (int64_t n = 1; n <= dims.N; ++n)
    if (dims.seqBegin[n] < dims.seqBegin[n - 1])
      return fail("cu_seqlens: offsets must be nondecreasing, but "
                  "cu_seqlens[" +
                  std::to_string(n) + "]=" + std::to_string(dims.seqBegin[n]) +
                  " < cu_seqlens[" + std::to_string(n - 1) +
                  "]=" + std::to_string(dims.seqBegin[n - 1]));
  if (dims.seqBegin[dims.N] != dims.T)
    return fail(
        "cu_seqlens: last offset must equal T=" + std::to_string(dims.T) +
        ", got " + std::to_string(dims.seqBegin[dims.N]));
  return true;
}

bool Validator::checkStateIndices(Dims &dims) {
  const TensorView &indices = problem.stateIndices;
  dims.P = dims.N;
  dims.slots.resize(dims.N);
  for (int64_t n = 0; n < dims.N; ++n)
    dims.slots[n] = n;
  if (!indices.present())
    return true;
  if (!problem.h0.present())
    return fail("state_indices: picks slots of a state pool, which h0 holds; "
                "h0 is missing");
  const TensorView &pool = problem.h0;
  if (pool.rank != 4 || pool.shape[0] < 0)
    return fail("h0: expected the state pool [P, HV, K', V], got " +
                shapeOf(pool));
  dims.P = pool.shape[0];
  if (indices.rank != 1 || indices.shape[0] != dims.N)
    return fail("state_indices: expected a 1-D shape [N] with N = " +
                std::to_string(dims.N) + " (one slot per sequence), got " +
                shapeOf(indices));
  if (!checkDType(indices, "state_indices", isIndexDType, "i32 or i64") ||
      !checkStrides(indices, "state_indices"))
    return false;
  // ht is the whole pool.
  Dims pooled = dims;
  pooled.N = dims.P;
  if (!checkStateSize(pooled))
    return false;
  std::vector<std::pair<int64_t, int64_t>> named; // (slot, sequence)
  for (int64_t n = 0; n < dims.N; ++n) {
    const int64_t value = readIndex(indices, n);
    dims.slots[n] = value < 0 ? -1 : value; // negative: a padding row
    if (value < 0)
      continue;
    if (value >= dims.P)
      return fail("state_indices: state_indices[" + std::to_string(n) +
                  "]=" + std::to_string(value) + " is outside the pool of P=" +
                  std::to_string(dims.P) + " slots");
    named.push_back({value, n});
  }
  std::sort(named.begin(), named.end());
  for (size_t i = 1; i < named.size(); ++i)
    if (named[i].first == named[i - 1].first)
      return fail("state_indices: sequences " +
                  std::to_string(named[i - 1].second) + " and " +
                  std::to_string(named[i].second) + " share slot " +
                  std::to_string(named[i].first));
  return true;
}

bool Validator::checkOptions(const Dims &dims) {
  if (problem.scale && !std::isfinite(*problem.scale))
    return fail("scale: must be finite, got " + std::to_string(*problem.scale));
  if (!std::isfinite(problem.eps))
    return fail("eps: must be finite, got " + std::to_string(problem.eps));
  if (problem.normalize && !traits.supportsNormalize)
    return fail(std::string("normalize: the 'sum' normaliser is not defined") +
                forVariant() +
                ": its write beta_t k_t (v_t - S'^T k_t)^T is not a plain "
                "k_t v_t^T, so there is no consistent z_t");
  if (static_cast<unsigned>(problem.featureMap) >
      static_cast<unsigned>(FeatureMap::Taylor2))
    return fail("featureMap: invalid value " +
                std::to_string(static_cast<unsigned>(problem.featureMap)));
  if (!traits.decayConstants) {
    if (!problem.decayConstants.empty())
      return fail("decayConstants: unexpected" + forVariant() +
                  ", which takes no decay constants (only lightning does)");
    return true;
  }
  if (int64_t(problem.decayConstants.size()) != dims.HV)
    return fail("decayConstants: expected " + std::to_string(dims.HV) +
                " values (one per value head, HV=" + std::to_string(dims.HV) +
                ")" + forVariant() + ", got " +
                std::to_string(problem.decayConstants.size()));
  for (size_t h = 0; h < problem.decayConstants.size(); ++h) {
    double lambda = problem.decayConstants[h];
    if (!(lambda > 0.0 && lambda <= 1.0))
      return fail("decayConstants: value " + std::to_string(h) + " is " +
                  std::to_string(lambda) + ", expected a value in (0, 1]");
  }
  return true;
}

bool Validator::check(Dims &dims) {
  if (static_cast<unsigned>(problem.variant) >
      static_cast<unsigned>(Variant::Dplr))
    return fail("variant: invalid value " +
                std::to_string(static_cast<unsigned>(problem.variant)));

  // q fixes B, T, H, K; k must match it.
  if (!checkHeadInput(problem.q, "q", dims))
    return false;
  dims.B = problem.q.shape[0];
  dims.T = problem.q.shape[1];
  dims.H = problem.q.shape[2];
  dims.K = problem.q.shape[3];
  if (!checkHeadInput(problem.k, "k", dims))
    return false;

  // v fixes HV and V.
  const TensorView &v = problem.v;
  if (!v.present())
    return fail("v: missing required input" + forVariant() +
                " (expected shape [B, T, HV, V])");
  bool ok = v.rank == 4 && v.shape[0] == dims.B && v.shape[1] == dims.T &&
            v.shape[2] >= 1 && v.shape[3] >= 1;
  if (!ok)
    return fail("v: expected a 4-D shape [B, T, HV, V] with B=" +
                std::to_string(dims.B) + ", T=" + std::to_string(dims.T) +
                " (as q) and HV, V >= 1" + forVariant() + ", got " +
                shapeOf(v));
  if (!checkDType(v, "v", isDataDType, "f32, f16, bf16 or f64") ||
      !checkStrides(v, "v"))
    return false;
  dims.HV = v.shape[2];
  dims.V = v.shape[3];
  if (dims.HV % dims.H != 0)
    return fail("v: HV=" + std::to_string(dims.HV) +
                " value heads is not a multiple of H=" +
                std::to_string(dims.H) + " query/key heads");
  dims.G = dims.HV / dims.H;

  // The feature dimension, and the sizes of everything the oracle allocates.
  int64_t kk, featureK, oSize;
  if (problem.featureMap == FeatureMap::Taylor2) {
    if (__builtin_mul_overflow(dims.K, dims.K, &kk) ||
        __builtin_add_overflow(kk, dims.K + 1, &featureK))
      return fail("q: head dimension K=" + std::to_string(dims.K) +
                  " is too large for the taylor2 feature map");
  } else {
    featureK = dims.K;
  }
  dims.featureK = featureK;
  if (__builtin_mul_overflow(dims.B, dims.T, &oSize) ||
      __builtin_mul_overflow(oSize, dims.HV, &oSize) ||
      __builtin_mul_overflow(oSize, dims.V, &oSize) ||
      oSize > kMaxResultElements)
    return fail(
        "v: output o of shape " +
        formatShape(
            std::vector<int64_t>{dims.B, dims.T, dims.HV, dims.V}.data(), 4) +
        " exceeds the oracle's limit of 2^30 elements");

  if (!checkOptions(dims))
    return false;

  // Variant inputs.
  const char *floats = "f32, f16, bf16 or f64";
  const bool taylor = problem.featureMap == FeatureMap::Taylor2;
  const char *vecLabels =
      taylor ? "(B, T, HV, K' = 1 + K + K^2)" : "(B, T, HV, K)";
  if (!rejectUnexpected(problem.g, "g", traits.gate != GateKind::None))
    return false;
  if (traits.gate == GateKind::Scalar &&
      !checkInput(problem.g, "g", {dims.B, dims.T, dims.HV}, "(B, T, HV)",
                  isDataDType, floats, true))
    return false;
  if (traits.gate == GateKind::Vector &&
      !checkInput(problem.g, "g", {dims.B, dims.T, dims.HV, featureK},
                  vecLabels, isDataDType, floats, true))
    return false;

  if (!rejectUnexpected(problem.beta, "beta", traits.beta) ||
      !checkInput(problem.beta, "beta", {dims.B, dims.T, dims.HV}, "(B, T, HV)",
                  isDataDType, floats, traits.beta))
    return false;

  if (!rejectUnexpected(problem.a, "a", traits.lowRank) ||
      !rejectUnexpected(problem.b, "b", traits.lowRank) ||
      !checkInput(problem.a, "a", {dims.B, dims.T, dims.HV, featureK},
                  vecLabels, isDataDType, floats, traits.lowRank) ||
      !checkInput(problem.b, "b", {dims.B, dims.T, dims.HV, featureK},
                  vecLabels, isDataDType, floats, traits.lowRank))
    return false;

  if (!rejectUnexpected(problem.u, "u", traits.bonus) ||
      !checkInput(problem.u, "u", {dims.HV, featureK},
                  taylor ? "(HV, K' = 1 + K + K^2)" : "(HV, K)", isDataDType,
                  floats, traits.bonus))
    return false;

  // Sequences, then the initial state, which is per sequence (or a pool).
  if (!checkCuSeqlens(dims) || !checkStateIndices(dims))
    return false;
  if (problem.stateIndices.present()) {
    if (!checkInput(problem.h0, "h0", {dims.P, dims.HV, featureK, dims.V},
                    taylor ? "(P, HV, K' = 1 + K + K^2, V)" : "(P, HV, K, V)",
                    isStateDType, "f32 or f64", true))
      return false;
  } else if (!checkInput(
          problem.h0, "h0", {dims.N, dims.HV, featureK, dims.V},
          dims.varlen
              ? (taylor ? "(N, HV, K' = 1 + K + K^2, V)" : "(N, HV, K, V)")
              : (taylor ? "(B, HV, K' = 1 + K + K^2, V)" : "(B, HV, K, V)"),
          isStateDType, "f32 or f64", false))
    return false;

  dims.scale = problem.scale ? *problem.scale
                             : 1.0 / std::sqrt(static_cast<double>(dims.K));
  return true;
}

//===----------------------------------------------------------------------===//
// Evaluation
//===----------------------------------------------------------------------===//

/// Converts `count` elements starting at element `offset` of `view`, `stride`
/// elements apart, to double. The dtype dispatch happens once per row.
void loadRow(const TensorView &view, int64_t offset, int64_t stride,
             int64_t count, double *out) {
  const char *base = static_cast<const char *>(view.data);
  switch (view.dtype) {
  case DType::F32:
    for (int64_t i = 0; i < count; ++i) {
      float value;
      std::memcpy(&value, base + (offset + i * stride) * 4, 4);
      out[i] = value;
    }
    return;
  case DType::F64:
    for (int64_t i = 0; i < count; ++i)
      std::memcpy(&out[i], base + (offset + i * stride) * 8, 8);
    return;
  default:
    for (int64_t i = 0; i < count; ++i)
      out[i] = loadAsDouble(view.data, view.dtype, offset + i * stride);
    return;
  }
}

/// Offset of [i0, i1, i2, 0] in a rank-3 or rank-4 view (or [i0, 0] ...).
int64_t offsetOf(const TensorView &view, int64_t i0, int64_t i1 = 0,
                 int64_t i2 = 0) {
  int64_t offset = i0 * view.strides[0];
  if (view.rank > 1)
    offset += i1 * view.strides[1];
  if (view.rank > 2)
    offset += i2 * view.strides[2];
  return offset;
}

/// Applies `map` to the K raw values in `x`, writing K' values to `out`.
void applyFeatureMap(FeatureMap map, const double *x, int64_t K, double *out) {
  switch (map) {
  case FeatureMap::Identity:
    std::copy(x, x + K, out);
    return;
  case FeatureMap::EluPlusOne:
    // elu(x) + 1 is exp(x) for x <= 0; computing exp directly avoids the
    // cancellation in (exp(x) - 1) + 1.
    for (int64_t i = 0; i < K; ++i)
      out[i] = x[i] > 0 ? x[i] + 1.0 : std::exp(x[i]);
    return;
  case FeatureMap::Relu:
    for (int64_t i = 0; i < K; ++i)
      out[i] = x[i] < 0 ? 0.0 : x[i]; // NaN propagates.
    return;
  case FeatureMap::Silu:
    // exp(-x) overflows to +inf for very negative x, giving x / inf = -0.
    for (int64_t i = 0; i < K; ++i)
      out[i] = x[i] / (1.0 + std::exp(-x[i]));
    return;
  case FeatureMap::L2Norm: {
    double sumSquares = 0;
    for (int64_t i = 0; i < K; ++i)
      sumSquares += x[i] * x[i];
    double inverse = 1.0 / std::sqrt(sumSquares + kL2NormEps);
    for (int64_t i = 0; i < K; ++i)
      out[i] = x[i] * inverse;
    return;
  }
  case FeatureMap::Taylor2: {
    // [1, x, vec(x x^T) / sqrt(2)], so phi(q) . phi(k) = 1 + q.k + (q.k)^2/2.
    const double invSqrt2 = 1.0 / std::sqrt(2.0);
    out[0] = 1.0;
    std::copy(x, x + K, out + 1);
    double *outer = out + 1 + K;
    for (int64_t i = 0; i < K; ++i)
      for (int64_t j = 0; j < K; ++j)
        outer[i * K + j] = x[i] * x[j] * invSqrt2;
    return;
  }
  }
}

/// Evaluates one (sequence, value head) pair.
class HeadScan {
public:
  HeadScan(const Problem &problem, const Dims &dims)
      : problem(problem), dims(dims), traits(variantTraits(problem.variant)),
        rawQ(dims.K), rawK(dims.K), q(dims.featureK), k(dims.featureK),
        v(dims.V), decay(dims.featureK), a(dims.featureK), b(dims.featureK),
        u(dims.featureK), out(dims.V), state(dims.featureK * dims.V),
        z(dims.featureK) {}

  void runSequence(int64_t n, int64_t hv, Result &result);

private:
  /// Loads q, k, v and the per-token inputs of token t into the buffers.
  void loadToken(int64_t batch, int64_t t, int64_t hv);
  /// One recurrence step; writes the unnormalised output to `out` and
  /// returns the normaliser's denominator (1 without normalisation).
  double step();

  const Problem &problem;
  const Dims &dims;
  VariantTraits traits;
  std::vector<double> rawQ, rawK, q, k, v, decay, a, b, u, out;
  std::vector<double> state; ///< K' x V, row-major
  std::vector<double> z;     ///< the normaliser, K'
  double beta = 0;
  bool hasDecay = false;
};

void HeadScan::loadToken(int64_t batch, int64_t t, int64_t hv) {
  const int64_t hk = hv / dims.G, K = dims.K, featureK = dims.featureK;
  const TensorView &qv = problem.q, &kv = problem.k, &vv = problem.v;
  loadRow(qv, offsetOf(qv, batch, t, hk), qv.strides[3], K, rawQ.data());
  loadRow(kv, offsetOf(kv, batch, t, hk), kv.strides[3], K, rawK.data());
  loadRow(vv, offsetOf(vv, batch, t, hv), vv.strides[3], dims.V, v.data());
  applyFeatureMap(problem.featureMap, rawQ.data(), K, q.data());
  applyFeatureMap(problem.featureMap, rawK.data(), K, k.data());

  // The transition's diagonal, as one multiplier per state row. Gates are
  // log-space: exp(-inf) is exactly 0 (a hard reset), exp(0) exactly 1.
  const TensorView &g = problem.g;
  switch (problem.variant) {
  case Variant::Retention:
    // gamma_h = 1 - 2^(-5-h); for h >= 48 it rounds to 1 in double.
    std::fill(decay.begin(), decay.end(),
              1.0 - std::ldexp(1.0, -5 - int(std::min<int64_t>(hv, 2000))));
    break;
  case Variant::Lightning:
    std::fill(decay.begin(), decay.end(), problem.decayConstants[hv]);
    break;
  default:
    if (traits.gate == GateKind::Scalar) {
      double gate;
      loadRow(g, offsetOf(g, batch, t, hv), 0, 1, &gate);
      std::fill(decay.begin(), decay.end(), std::exp(gate));
    } else if (traits.gate == GateKind::Vector) {
      loadRow(g, offsetOf(g, batch, t, hv), g.strides[3], featureK,
              decay.data());
      for (double &d : decay)
        d = std::exp(d);
    }
    break;
  }
  if (traits.beta)
    loadRow(problem.beta, offsetOf(problem.beta, batch, t, hv), 0, 1, &beta);
  if (traits.lowRank) {
    const TensorView &av = problem.a, &bv = problem.b;
    loadRow(av, offsetOf(av, batch, t, hv), av.strides[3], featureK, a.data());
    loadRow(bv, offsetOf(bv, batch, t, hv), bv.strides[3], featureK, b.data());
  }
}

double HeadScan::step() {
  const int64_t featureK = dims.featureK, V = dims.V;
  double *S = state.data();
  const double scale = dims.scale;
  const bool normalize = problem.normalize;

  if (problem.variant == Variant::Rwkv6) {
    // The output reads S_{t-1} plus the bonus u (.) k_t v_t^T, then the state
    // decays with w_t and takes the write.
    double bonus = 0;
    for (int64_t i = 0; i < featureK; ++i)
      bonus += u[i] * k[i] * q[i];
    std::fill(out.begin(), out.end(), 0.0);
    for (int64_t i = 0; i < featureK; ++i)
      for (int64_t j = 0; j < V; ++j)
        out[j] += q[i] * S[i * V + j];
    for (int64_t j = 0; j < V; ++j)
      out[j] = scale * (out[j] + bonus * v[j]);
    double denominator = 1.0;
    if (normalize) {
      double zq = 0;
      for (int64_t i = 0; i < featureK; ++i)
        zq += z[i] * q[i];
      denominator = scale * (zq + bonus) + problem.eps;
      for (int64_t i = 0; i < featureK; ++i)
        z[i] = decay[i] * z[i] + k[i];
    }
    for (int64_t i = 0; i < featureK; ++i)
      for (int64_t j = 0; j < V; ++j)
        S[i * V + j] = decay[i] * S[i * V + j] + k[i] * v[j];
    return denominator;
  }

  if (traits.lowRank) {
    // S_t = D S + b (a^T S) + k v^T; the rank-1 term reads the undecayed S.
    std::vector<double> &aS = out; // reuse as scratch: a^T S_{t-1}
    std::fill(aS.begin(), aS.end(), 0.0);
    for (int64_t i = 0; i < featureK; ++i)
      for (int64_t j = 0; j < V; ++j)
        aS[j] += a[i] * S[i * V + j];
    for (int64_t i = 0; i < featureK; ++i)
      for (int64_t j = 0; j < V; ++j)
        S[i * V + j] = decay[i] * S[i * V + j] + b[i] * aS[j] + k[i] * v[j];
    if (normalize) {
      double az = 0;
      for (int64_t i = 0; i < featureK; ++i)
        az += a[i] * z[i];
      for (int64_t i = 0; i < featureK; ++i)
        z[i] = decay[i] * z[i] + b[i] * az + k[i];
    }
  } else if (traits.deltaWrite) {
    // S' = D S; S_t = S' + beta k (v - S'^T k)^T, residual formed from S'.
    if (hasDecay)
      for (int64_t i = 0; i < featureK; ++i)
        for (int64_t j = 0; j < V; ++j)
          S[i * V + j] *= decay[i];
    std::vector<double> &residual = out; // scratch
    std::copy(v.begin(), v.end(), residual.begin());
    for (int64_t i = 0; i < featureK; ++i)
      for (int64_t j = 0; j < V; ++j)
        residual[j] -= k[i] * S[i * V + j];
    for (int64_t i = 0; i < featureK; ++i) {
      double weight = beta * k[i];
      for (int64_t j = 0; j < V; ++j)
        S[i * V + j] += weight * residual[j];
    }
  } else {
    // S_t = D S + k v^T.
    for (int64_t i = 0; i < featureK; ++i) {
      double d = hasDecay ? decay[i] : 1.0;
      for (int64_t j = 0; j < V; ++j)
        S[i * V + j] = d * S[i * V + j] + k[i] * v[j];
    }
    if (normalize)
      for (int64_t i = 0; i < featureK; ++i)
        z[i] = (hasDecay ? decay[i] : 1.0) * z[i] + k[i];
  }

  std::fill(out.begin(), out.end(), 0.0);
  for (int64_t i = 0; i < featureK; ++i)
    for (int64_t j = 0; j < V; ++j)
      out[j] += q[i] * S[i * V + j];
  for (double &value : out)
    value *= scale;
  if (!normalize)
    return 1.0;
  double zq = 0;
  for (int64_t i = 0; i < featureK; ++i)
    zq += z[i] * q[i];
  return scale * zq + problem.eps;
}

void HeadScan::runSequence(int64_t n, int64_t hv, Result &result) {
  const int64_t featureK = dims.featureK, V = dims.V;
  hasDecay = problem.variant != Variant::LinearAttn &&
             problem.variant != Variant::DeltaRule;

  // A padding row of a pool: no state read or written, o rows stay zero.
  const int64_t slot = dims.slots[n];
  if (slot < 0)
    return;
  // S_0 = h0[slot, hv] or zeros; z_0 = 0 always.
  const TensorView &h0 = problem.h0;
  if (h0.present()) {
    for (int64_t i = 0; i < featureK; ++i)
      loadRow(h0, offsetOf(h0, slot, hv, i), h0.strides[3], V,
              &state[i * V]);
  } else {
    std::fill(state.begin(), state.end(), 0.0);
  }
  std::fill(z.begin(), z.end(), 0.0);
  if (traits.bonus) {
    const TensorView &uv = problem.u;
    loadRow(uv, offsetOf(uv, hv), uv.strides[1], featureK, u.data());
  }

  const int64_t batch = dims.varlen ? 0 : n;
  const int64_t begin = dims.varlen ? dims.seqBegin[n] : 0;
  const int64_t end = dims.varlen ? dims.seqBegin[n + 1] : dims.T;
  for (int64_t t = begin; t < end; ++t) {
    loadToken(batch, t, hv);
    double denominator = step();
    double *o = &result.o[((batch * dims.T + t) * dims.HV + hv) * V];
    for (int64_t j = 0; j < V; ++j)
      o[j] = problem.normalize ? out[j] / denominator : out[j];
  }
  std::copy(state.begin(), state.end(),
            result.ht.begin() + (slot * dims.HV + hv) * featureK * V);
}

} // namespace

bool oracle::validate(const Problem &problem, std::string &error) {
  Dims dims;
  return Validator(problem, error).check(dims);
}

bool oracle::run(const Problem &problem, Result &result, std::string &error) {
  result = Result();
  Dims dims;
  if (!Validator(problem, error).check(dims))
    return false;

  result.B = dims.B;
  result.T = dims.T;
  result.H = dims.H;
  result.HV = dims.HV;
  result.K = dims.K;
  result.featureK = dims.featureK;
  result.V = dims.V;
  result.N = dims.N;
  result.P = dims.P;
  result.o.assign(dims.B * dims.T * dims.HV * dims.V, 0.0);
  result.ht.assign(dims.P * dims.HV * dims.featureK * dims.V, 0.0);
  // A pool's slots that no sequence names keep h0's values.
  if (problem.stateIndices.present()) {
    const TensorView &h0 = problem.h0;
    const int64_t featureK = dims.featureK, V = dims.V;
    for (int64_t p = 0; p < dims.P; ++p)
      for (int64_t hv = 0; hv < dims.HV; ++hv)
        for (int64_t i = 0; i < featureK; ++i)
          loadRow(h0, offsetOf(h0, p, hv, i), h0.strides[3], V,
                  &result.ht[((p * dims.HV + hv) * featureK + i) * V]);
  }

  HeadScan scan(problem, dims);
  for (int64_t n = 0; n < dims.N; ++n)
    for (int64_t hv = 0; hv < dims.HV; ++hv)
      scan.runSequence(n, hv, result);
  return true;
}

//===----------------------------------------------------------------------===//
// Error metrics
//===----------------------------------------------------------------------===//

double oracle::relativeRmsError(const double *x, const double *ref,
                                size_t count) {
  double diff = 0, norm = 0;
  for (size_t i = 0; i < count; ++i) {
    double d = x[i] - ref[i];
    diff += d * d;
    norm += ref[i] * ref[i];
  }
  if (norm == 0)
    return diff == 0 ? 0.0 : std::numeric_limits<double>::infinity();
  return std::sqrt(diff / norm);
}

double oracle::relativeRmsError(const std::vector<double> &x,
                                const std::vector<double> &ref) {
  if (x.size() != ref.size())
    return std::numeric_limits<double>::quiet_NaN();
  return relativeRmsError(x.data(), ref.data(), x.size());
}

double oracle::rms(const double *values, size_t count) {
  if (count == 0)
    return 0;
  double sum = 0;
  for (size_t i = 0; i < count; ++i)
    sum += values[i] * values[i];
  return std::sqrt(sum / static_cast<double>(count));
}

double oracle::maxAbsError(const double *x, const double *ref, size_t count) {
  double worst = 0;
  for (size_t i = 0; i < count; ++i) {
    double d = std::fabs(x[i] - ref[i]);
    if (!(d <= worst)) // lets a NaN through, unlike std::max
      worst = d;
  }
  return worst;
}
