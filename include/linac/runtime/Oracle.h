//===- Oracle.h - Float64 reference oracle for linear attention -*- C++ -*-===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// The float64 reference oracle: the judge of every kernel linac generates.
/// It evaluates the recurrent form of each variant in SEMANTICS.md token by
/// token, per (sequence, value head), with a K' x V state held in double.
/// It is deliberately simple rather than fast, and it has no MLIR or LLVM
/// dependency.
///
/// Decisions this file fixes where SEMANTICS.md leaves room (each one is also
/// pinned by a unit test):
///
/// - `scale` defaults to K^-0.5 where K is the *input* head dimension of q
///   and k (the last extent of q), also with `taylor2`, which expands the
///   feature dimension to K' = 1 + K + K^2. The scale multiplies the
///   feature-mapped query: o_t = scale * S_t^T phi(q_t).
/// - Feature maps act on q and k only. Every other per-key input (vector `g`,
///   `a`, `b`, `u`) and the state `h0`/`ht` live in the feature-mapped key
///   space, so their key extent is K' (= K except for `taylor2`).
/// - `l2norm` is x / sqrt(sum_i x_i^2 + 1e-6), the epsilon inside the root as
///   in FLA's l2norm, so a zero vector maps to zero rather than NaN.
/// - `u` (rwkv6 bonus) has shape [HV, K']: one vector per value head.
/// - normalize = "sum" is the extra-value-column-of-ones construction: z
///   follows the variant's transition, z_t = D_t z_{t-1} + k_t, plus
///   b_t (a_t^T z_{t-1}) for dplr, and o_t is divided by
///   (scale * zeta_t^T phi(q_t) + eps), where zeta_t is what the output reads
///   (z_t, or z_{t-1} + u (.) k_t for rwkv6). It is rejected for delta_rule,
///   gated_delta_rule and kda: there the write is not k_t v_t^T but
///   beta_t k_t (v_t - S'^T k_t)^T, so "z_t = D_t z_{t-1} + k_t" and "a column
///   of ones" disagree and neither is a meaningful normaliser. z starts at
///   zero for every sequence (h0 carries no z) and is not returned, so a
///   normalised run cannot be continued through ht/h0.
/// - Strides may be zero or negative; extents must be >= 1 (cu_seqlens may
///   still describe empty sequences, whose ht is their h0). Offsets whose
///   arithmetic could overflow are rejected, and so are problems whose o or
///   ht would exceed 2^30 elements (a sanity bound: zero strides can describe
///   huge tensors in a few bytes, and the oracle must not die allocating).
///
//===----------------------------------------------------------------------===//

#ifndef LINAC_RUNTIME_ORACLE_H
#define LINAC_RUNTIME_ORACLE_H

#include "linac/runtime/Tensor.h"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace linac::oracle {

/// The recurrence families of SEMANTICS.md.
enum class Variant {
  LinearAttn,
  Retention,
  Lightning,
  SimpleGla,
  Gla,
  Rwkv6,
  DeltaRule,
  GatedDeltaRule,
  Kda,
  Dplr
};

/// All variants, in declaration order (handy for tests and tools).
constexpr Variant kAllVariants[] = {
    Variant::LinearAttn, Variant::Retention,
    Variant::Lightning,  Variant::SimpleGla,
    Variant::Gla,        Variant::Rwkv6,
    Variant::DeltaRule,  Variant::GatedDeltaRule,
    Variant::Kda,        Variant::Dplr};

/// Feature maps applied to q and k before the recurrence.
enum class FeatureMap { Identity, EluPlusOne, Relu, Silu, L2Norm, Taylor2 };

constexpr FeatureMap kAllFeatureMaps[] = {
    FeatureMap::Identity, FeatureMap::EluPlusOne, FeatureMap::Relu,
    FeatureMap::Silu,     FeatureMap::L2Norm,     FeatureMap::Taylor2};

/// The SEMANTICS.md spelling, e.g. "gated_delta_rule".
const char *variantName(Variant variant);
/// Inverse of variantName; std::nullopt for an unknown name.
std::optional<Variant> parseVariant(std::string_view name);

/// "identity", "elu_plus_one", "relu", "silu", "l2norm" or "taylor2".
const char *featureMapName(FeatureMap map);
std::optional<FeatureMap> parseFeatureMap(std::string_view name);

/// The epsilon inside the square root of the `l2norm` feature map.
constexpr double kL2NormEps = 1e-6;

/// Feature dimension K' after `map` for an input head dimension K:
/// 1 + K + K^2 for taylor2, K otherwise.
int64_t featureDim(FeatureMap map, int64_t headDim);

/// How a variant's decay gate is shaped.
enum class GateKind {
  None,   ///< no `g` input (linear_attn, delta_rule, retention, lightning)
  Scalar, ///< g is [B, T, HV]
  Vector  ///< g is [B, T, HV, K']
};

/// Which inputs a variant takes besides q, k, v (and the optional h0 and
/// cu_seqlens every variant accepts).
struct VariantTraits {
  GateKind gate = GateKind::None;
  bool beta = false;           ///< delta-rule write strength [B, T, HV]
  bool lowRank = false;        ///< dplr's a and b, [B, T, HV, K']
  bool bonus = false;          ///< rwkv6's u, [HV, K']
  bool decayConstants = false; ///< lightning's per-value-head lambda
  bool deltaWrite = false;     ///< the write is delta-shaped
  bool supportsNormalize = false;
};
VariantTraits variantTraits(Variant variant);

/// A problem for the oracle. All views are borrowed; absent optional inputs
/// have a null `data`. Shapes (K' = featureDim(featureMap, K)):
///   q, k      [B, T, H, K]
///   v         [B, T, HV, V]           HV a multiple of H; value head hv
///                                      reads key head hv / (HV / H)
///   g         [B, T, HV]     simple_gla, gated_delta_rule
///             [B, T, HV, K'] gla, rwkv6 (its w), kda, dplr
///   beta      [B, T, HV]     delta_rule, gated_delta_rule, kda
///   a, b      [B, T, HV, K'] dplr
///   u         [HV, K']       rwkv6
///   h0        [N, HV, K', V] optional, f32 or f64
///   cuSeqlens [N + 1]        optional, i32 or i64; then B == 1
///   stateIndices [N]         optional, i32 or i64: h0 is then a pool
///                            [P, HV, K', V] (required), sequence n starts
///                            from slot stateIndices[n] and ht is the pool
///                            with those slots replaced; a negative index is
///                            a padding row (no slot, o rows zero); an index
///                            >= P or two sequences on one slot is an error
/// q, k, v, g, beta, a, b and u may be f32, f16, bf16 or f64.
struct Problem {
  Variant variant = Variant::LinearAttn;
  FeatureMap featureMap = FeatureMap::Identity;
  /// normalize = "sum" (see the file comment for its exact definition).
  bool normalize = false;
  /// Added to the normaliser's denominator; only used with `normalize`.
  double eps = 1e-6;
  /// Multiplies the feature-mapped query. Default: K^-0.5 with K the input
  /// head dimension of q/k (before a taylor2 expansion).
  std::optional<double> scale;
  /// lightning only: lambda_h for each value head, each in (0, 1].
  std::vector<double> decayConstants;
  TensorView q, k, v, g, beta, a, b, u, h0, cuSeqlens, stateIndices;
};

/// The oracle's outputs, contiguous row-major doubles.
struct Result {
  std::vector<double> o;  ///< [B, T, HV, V]
  std::vector<double> ht; ///< [N, HV, K', V], or the pool [P, HV, K', V]
  /// The dimensions the run used, so callers need not recompute them.
  int64_t B = 0, T = 0, H = 0, HV = 0, K = 0, featureK = 0, V = 0, N = 0;
  int64_t P = 0; ///< ht's dim 0: the pool's slots, else N
};

/// Checks every input of `problem` (presence, unexpected inputs, ranks,
/// shapes, dtypes, stride arithmetic, cu_seqlens contents, option values)
/// without computing anything. On failure returns false and sets `error` to a
/// message that starts with the offending tensor or option name.
bool validate(const Problem &problem, std::string &error);

/// Validates `problem`, then evaluates the recurrence in double. On failure
/// returns false, sets `error`, and leaves `result` empty.
bool run(const Problem &problem, Result &result, std::string &error);

/// Relative RMS error rms(x - ref) / rms(ref), the contract metric of
/// SEMANTICS.md. Returns 0 when both are all zero, +inf when only `ref` is,
/// and NaN when the vector overload gets vectors of different sizes.
double relativeRmsError(const double *x, const double *ref, size_t count);
double relativeRmsError(const std::vector<double> &x,
                        const std::vector<double> &ref);

/// Root mean square of `count` values (0 for an empty range).
double rms(const double *values, size_t count);

/// The largest |x - ref|.
double maxAbsError(const double *x, const double *ref, size_t count);

} // namespace linac::oracle

#endif // LINAC_RUNTIME_ORACLE_H
