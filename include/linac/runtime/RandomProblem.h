//===- RandomProblem.h - Seeded random inputs for the oracle ----*- C++ -*-===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// Builds seeded random inputs for any variant, in the ranges real models
/// use, owned as .npy-ready arrays, together with an oracle::Problem whose
/// views point into them. linac-oracle writes these arrays to disk; a checker
/// can rebuild the same inputs from the same options and seed.
///
/// Distributions (x ~ N(0, 1) unless stated):
///   q, k, v   N(0, 1); for delta_rule, gated_delta_rule and kda, q and k
///             are L2-normalised per head vector (as those models do)
///   g         log(sigmoid(x)) with x ~ N(3, 1), so g is in (-inf, 0) and
///             exp(g) is about 0.95 on average
///   beta      sigmoid(x), in (0, 1)
///   a, b      a = -kappa, b = kappa (.) c, kappa a unit vector, c_i =
///             sigmoid(x_i) (the RWKV-7 shape of the transition)
///   u         N(0, 1)
///   h0        N(0, 1), f32, only when requested (or a pool of them)
///   state_indices  i32, distinct random slots of the pool, -1 for padding
///   lambda    lightning: exp(-2^(-8 (h + 1) / HV)) for value head h (ALiBi
///             slopes), rounded to f32 so a file can hold it exactly
/// q, k, v, beta, a, b and u are stored in the requested dtype; g is f32 (f64
/// when the requested dtype is f64), since log-space gates lose too much in
/// 16 bits; h0 is always f32 and cu_seqlens i32.
///
//===----------------------------------------------------------------------===//

#ifndef LINAC_RUNTIME_RANDOMPROBLEM_H
#define LINAC_RUNTIME_RANDOMPROBLEM_H

#include "linac/runtime/Npy.h"
#include "linac/runtime/Oracle.h"

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace linac::oracle {

struct RandomProblemOptions {
  Variant variant = Variant::LinearAttn;
  FeatureMap featureMap = FeatureMap::Identity;
  bool normalize = false;
  double eps = 1e-6; ///< the normalizer's epsilon (the spec's eps)
  int64_t B = 1, T = 256, H = 4, HV = 4, K = 64, V = 64;
  uint64_t seed = 0;
  /// Non-empty: variable-length batch of these sequence lengths (B must be 1
  /// and the lengths must add up to T).
  std::vector<int64_t> seqLens;
  /// Also draw an initial state h0.
  bool initialState = false;
  /// Non-zero: h0 is a pool of this many N(0, 1) states and state_indices
  /// gives every sequence a distinct random slot, except the last
  /// `paddingRows` sequences, which get the padding index -1.
  int64_t poolSize = 0;
  int64_t paddingRows = 0;
  /// Element type of q, k, v, beta, a, b and u.
  DType dtype = DType::F32;
  std::optional<double> scale;
};

/// Owned inputs plus a Problem viewing them. Not copyable, because the views
/// point into the arrays; moving keeps them valid (vector buffers move).
struct RandomProblem {
  NpyArray q, k, v, g, beta, a, b, u, h0, cuSeqlens, stateIndices;
  Problem problem;

  RandomProblem() = default;
  RandomProblem(const RandomProblem &) = delete;
  RandomProblem &operator=(const RandomProblem &) = delete;
  RandomProblem(RandomProblem &&) = default;
  RandomProblem &operator=(RandomProblem &&) = default;

  /// The inputs this problem has, by their SEMANTICS.md names ("q", "k",
  /// "v", "g", "beta", "a", "b", "u", "h0", "cu_seqlens", "state_indices"),
  /// in that order.
  std::vector<std::pair<const char *, const NpyArray *>> inputs() const;
};

/// Draws the inputs `options` describe and validates the resulting problem.
/// On failure returns false with a message in `error`.
bool makeRandomProblem(const RandomProblemOptions &options, RandomProblem &out,
                       std::string &error);

} // namespace linac::oracle

#endif // LINAC_RUNTIME_RANDOMPROBLEM_H
