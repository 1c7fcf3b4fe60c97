//===- Manifest.h - Parsed kernel manifests ---------------------*- C++ -*-===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// The C++ side of the manifest format described in linac.h: a parsed,
/// allocation-free representation, the strict parser, and the tensor checks
/// behind `linac_validate`.
///
/// Nothing here allocates. Every string in a `Manifest` is a view into the
/// text it was parsed from, and the tables have fixed capacities, so parsing
/// and validating cannot run out of memory and a kernel launch costs no heap
/// traffic. The text must therefore outlive the `Manifest`.
///
//===----------------------------------------------------------------------===//

#ifndef LINAC_RUNTIME_MANIFEST_H
#define LINAC_RUNTIME_MANIFEST_H

#include "linac/runtime/linac.h"

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace linac::manifest {

/// Capacities of a parsed manifest. The largest generated kernels (dplr with
/// h0, ht and cu_seqlens) declare about a dozen tensors; a manifest beyond
/// these limits is rejected as corrupt rather than truncated.
constexpr int kMaxTensors = 32;
constexpr int kMaxAliases = kMaxTensors;
constexpr int kMaxFeatures = 32;
/// Names (kernel, tensor) longer than this are rejected: they become symbol
/// names and appear in every error message, which has a fixed size.
constexpr size_t kMaxNameLength = 128;

/// The symbolic dimensions of the format. `None` marks a static size.
enum class Symbol : uint8_t { None, B, T, H, HV, S, N1, P };
constexpr int kNumSymbols = 8;

/// "B", "T", "H", "HV", "S", "N1", "P" ("" for None).
const char *symbolName(Symbol symbol);

/// One dimension of a tensor record: a symbol, or a static size.
struct Dim {
  Symbol symbol = Symbol::None;
  int64_t size = 0; ///< Meaningful only when `symbol` is None.
};

/// One `tensor` record.
struct TensorDecl {
  std::string_view name;
  bool output = false;
  bool required = false;
  linac_dtype dtype = LINAC_F32;
  int32_t rank = 0;
  Dim dims[LINAC_MAX_RANK];
  /// Named by the `layout bhtd` record: stored with dims 1 and 2 swapped
  /// against the kernel's [B, T, H, ...] order (dims lists the stored
  /// order). CPU kernels swap them back themselves; the CUDA launch passes
  /// the kernel such a tensor's sizes and strides in kernel order.
  bool headMajor = false;
};

/// One `tma` record: a tensor a CUDA kernel loads through the Tensor Memory
/// Accelerator, and the box (elements per copy, innermost dimension first)
/// its tensor map must describe.
struct TmaDecl {
  int32_t tensor = -1; ///< index into `Manifest::tensors`
  uint32_t box[LINAC_MAX_RANK] = {};
};

/// The largest extent of a TMA box (cuTensorMapEncodeTiled's boxDim).
constexpr uint32_t kMaxTmaBox = 256;

/// One `alias` record, as indices into `Manifest::tensors`.
struct Alias {
  int32_t output = -1;
  int32_t input = -1;
};

struct Manifest {
  std::string_view compiler;
  std::string_view kernel;
  /// `target <kind> <arch> [<features>]`: kind "cpu" (arch a CPU name such
  /// as x86-64-v4) or anything else, which the loader refuses.
  std::string_view targetKind;
  std::string_view targetArch;
  /// The raw third target field ("-" or a comma list), "" when absent.
  std::string_view targetFeatures;
  /// The split feature list (empty for "-").
  std::string_view features[kMaxFeatures];
  int32_t numFeatures = 0;
  std::string_view mode; ///< "prefill" or "decode".
  std::string_view variant;
  /// `schedule <algorithm> <chunk>` (optional, informational): what
  /// linac-select chose, for cost models; "" and 0 when absent.
  std::string_view scheduleAlgorithm;
  int64_t scheduleChunk = 0;
  TensorDecl tensors[kMaxTensors];
  int32_t numTensors = 0;
  Alias aliases[kMaxAliases];
  int32_t numAliases = 0;
  /// Index of the tensor named `cu_seqlens`, or -1.
  int32_t cuSeqlens = -1;
  /// Index of the tensor named `state_indices` (a state pool), or -1.
  int32_t stateIndices = -1;
  /// `launch <threads> <shared bytes> <value tiles> <flags>`: how to launch
  /// a CUDA kernel (required with `target cuda`, refused otherwise). The
  /// grid has S * HV * launchTiles blocks of launchThreads threads and
  /// launchShared bytes of dynamic shared memory; after the tensors the
  /// kernel takes one int32 presence flag per tensor of `flags` (a comma
  /// list of optional tensors, or "-").
  bool hasLaunch = false;
  int64_t launchThreads = 0;
  int64_t launchShared = 0;
  int64_t launchTiles = 0;
  int32_t flags[kMaxTensors] = {};
  int32_t numFlags = 0;
  /// `tma <tensor> <box>...` (CUDA kernels only): after the presence flags
  /// the kernel takes one int32 per record (1: the tensor's map was
  /// encoded; 0: the kernel loads that tensor with its threads) and then
  /// one 128-byte CUtensorMap per record, in record order.
  TmaDecl tma[kMaxTensors];
  int32_t numTma = 0;
  /// Whether a `layout bhtd <tensor>...` record was read (it sets the
  /// named tensors' headMajor).
  bool hasLayout = false;
};

/// The values the symbols of a manifest took in one validated call.
struct Bindings {
  bool bound[kNumSymbols] = {};
  int64_t value[kNumSymbols] = {};

  bool has(Symbol symbol) const { return bound[static_cast<int>(symbol)]; }
  int64_t get(Symbol symbol) const { return value[static_cast<int>(symbol)]; }
};

/// How validate treats tensor memory.
struct ValidateOptions {
  /// Whether tensor memory may be read (the offsets of cu_seqlens). False
  /// for device memory, which the host cannot read without synchronizing;
  /// the CUDA kernels clamp those offsets themselves.
  bool readContents = true;
};

/// Parses manifest text strictly. Returns LINAC_OK, or LINAC_ERROR_LOAD with
/// "corrupt manifest: line N: ..." in `err` (when non-null). Any byte
/// sequence is safe to pass; an embedded NUL is an error. On success the
/// views in `out` point into `text`.
int32_t parse(std::string_view text, Manifest &out, linac_error *err);

/// Checks `count` tensors against a parsed manifest: every rule of linac.h.
/// Reads no tensor memory except the offsets of `cu_seqlens`, and those only
/// once its shape, strides, alignment and extent have been checked. Returns
/// LINAC_OK or LINAC_ERROR_INVALID_ARGUMENT with a message that starts with
/// the kernel name.
int32_t validate(const Manifest &manifest, const linac_tensor *const *tensors,
                 int32_t count, linac_error *err,
                 const ValidateOptions &options = ValidateOptions(),
                 Bindings *bindings = nullptr);

/// "f32", "f16", "bf16", "i32", "i64", or nullptr for a value outside
/// linac_dtype.
const char *dtypeName(int32_t dtype);
/// Element size in bytes, or 0 for a value outside linac_dtype.
size_t dtypeSize(int32_t dtype);

} // namespace linac::manifest

#endif // LINAC_RUNTIME_MANIFEST_H
