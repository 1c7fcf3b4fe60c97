//===- Spec.h - attention specs: parsing and validation ---------*- C++ -*-===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// The TOML spec language of linac (docs/spec.md is its reference). A spec
/// names a variant of SEMANTICS.md and its shapes and options; the front end
/// checks every key, type and value and reports each problem with the file,
/// line and column where it was written, the way a compiler does. A valid
/// spec becomes a module of linac.recurrence ops (SpecToMLIR.h).
///
//===----------------------------------------------------------------------===//

#ifndef LINAC_SPEC_SPEC_H
#define LINAC_SPEC_SPEC_H

#include "linac/runtime/Oracle.h"
#include "linac/runtime/Tensor.h"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace linac::spec {

/// A position in a spec file (1-based; 0 when unknown).
struct SourceLoc {
  std::string file;
  unsigned line = 0;
  unsigned column = 0;
};

/// One problem found in a spec.
struct Diagnostic {
  SourceLoc loc;
  std::string message;

  /// "file:line:col: error: message", the format editors jump to.
  std::string str() const;
};

/// Memory layout of q, k, v, g, beta, a, b and o.
enum class Layout {
  BTHD, ///< [B, T, heads, dim] (default, as FLA)
  BHTD  ///< [B, heads, T, dim]
};

/// A validated spec. Optional fields are absent when the spec leaves them to
/// the run time (head counts) or to the compiler (scale, chunk size).
struct AttentionSpec {
  oracle::Variant variant = oracle::Variant::LinearAttn;
  int64_t headDimK = 0;
  int64_t headDimV = 0;
  std::optional<int64_t> numHeads;      ///< H; absent: a run-time dimension
  std::optional<int64_t> numValueHeads; ///< HV; absent: equal to H
  DType dtype = DType::F32;             ///< q, k, v
  DType outputDtype = DType::F32;       ///< o; defaults to `dtype`
  std::optional<double> scale;          ///< absent: K^-0.5
  oracle::FeatureMap featureMap = oracle::FeatureMap::Identity;
  bool normalize = false;
  std::optional<double> eps;            ///< normalizer epsilon
  std::vector<double> decay;            ///< lightning: one per value head
  std::optional<int64_t> chunkSize;     ///< absent: chosen by selection
  Layout layout = Layout::BTHD;
  bool varlen = false;
  bool initialState = true;
  bool finalState = true;
  /// h0 and ht are a pool of P states, one slot per sequence picked by a
  /// state_indices [S] input (negative: a padding row).
  bool stateIndices = false;
  bool prefill = true;
  bool decode = true;
  std::string target = "cpu";
  std::string cpu = "native";
  /// Where the [attention] table starts, for diagnostics of later stages.
  SourceLoc loc;
  /// Where head_dim_k and head_dim_v are written: a later stage that cannot
  /// serve a head size points there (through q, k and v's locations).
  SourceLoc headDimKLoc, headDimVLoc;

  /// HV when it is known: num_value_heads, else num_heads.
  std::optional<int64_t> valueHeads() const {
    return numValueHeads ? numValueHeads : numHeads;
  }
};

/// Parses and validates `text` (the contents of `fileName`). On success
/// returns the spec; otherwise returns std::nullopt and appends at least one
/// diagnostic. Never crashes, whatever `text` holds.
std::optional<AttentionSpec> parseSpec(std::string_view text,
                                       std::string_view fileName,
                                       std::vector<Diagnostic> &diagnostics);

/// The prefix of the generated C symbols for a spec file: its stem, with
/// every character that cannot appear in a C identifier replaced by '_'
/// (examples/gla.toml -> gla, giving gla_prefill and gla_decode).
std::string symbolPrefix(std::string_view specPath);

/// Reads and parses a spec file; I/O errors become diagnostics too.
std::optional<AttentionSpec> parseSpecFile(const std::string &path,
                                           std::vector<Diagnostic> &diagnostics);

/// The valid keys of each table, for docs and tests.
const std::vector<std::string_view> &attentionKeys();

//===----------------------------------------------------------------------===//
// Cost model shared by `linacc --explain` and `linac-run --bench`
//===----------------------------------------------------------------------===//

enum class CostAlgorithm { Chunked, ChunkedWY, Recurrent };
enum class CostRankOne { None, Delta, Dplr };

/// Multiply-adds times two per token and value head, for the algorithm as
/// linac-chunk builds it (chunk C, state K' x V). A C x C product counts
/// C K' (or C V) multiply-adds per token whether or not it is masked.
///   chunked:    2C(K'+V) (scores, attend) + 4K'V (state read, update);
///   chunked_wy, delta: + 2CK' (gated K Kᵀ) + CV (forward substitution)
///               + 2K'V (the state read through the keys);
///   chunked_wy, dplr:  + 6CK' (a k'ᵀ, a b'ᵀ, q bᵀ) + 5CV (two attends and
///               the substitution) + 4K'V (the state read through a, the
///               update's second sum);
///   recurrent:  4K'V, plus 2K'V for a rank-one transition (a second read).
int64_t flopsPerToken(CostAlgorithm algorithm, CostRankOne rankOne,
                      int64_t chunk, int64_t stateRows, int64_t valueDim);

/// The chunk length linac-select picks when the spec sets none: 64, or 32
/// for states taller than 256 rows (taylor2).
int64_t defaultChunkSize(int64_t stateRows);

} // namespace linac::spec

#endif // LINAC_SPEC_SPEC_H
