//===- LinacOps.cpp - linac dialect operations ----------------------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// The verifier of linac.recurrence. Every operand is declared as a plain
// ranked tensor in ODS so that all shape, element-type and attribute rules
// live here, each with one message that names the operand, the dimension and
// where the expected size came from. Later passes rely on a verified op and
// do not re-check these rules.
//
//===----------------------------------------------------------------------===//

#include "linac/Dialect/Linac/IR/LinacOps.h"

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/Support/MathExtras.h"
#include "llvm/Support/raw_ostream.h"

#include <cmath>
#include <limits>
#include <optional>

using namespace mlir;
using namespace linac;

//===----------------------------------------------------------------------===//
// Custom directives
//===----------------------------------------------------------------------===//

/// `[0.96875, 0.984375]`: the per-head decays. The builtin printer of dense
/// f64 arrays rounds to 7 significant digits, which does not survive a round
/// trip for decays such as 1 - 2^-20; APFloat printing is exact.
static ParseResult parseDecayConstants(OpAsmParser &parser,
                                       DenseF64ArrayAttr &attr) {
  SmallVector<double> values;
  if (parser.parseCommaSeparatedList(
          AsmParser::Delimiter::Square, [&]() -> ParseResult {
            double value;
            if (parser.parseFloat(value))
              return failure();
            values.push_back(value);
            return success();
          }))
    return failure();
  attr = parser.getBuilder().getDenseF64ArrayAttr(values);
  return success();
}

static void printDecayConstants(OpAsmPrinter &printer, Operation *,
                                DenseF64ArrayAttr attr) {
  printer << "[";
  llvm::interleaveComma(attr.asArrayRef(), printer,
                        [&](double value) { printer.printFloat(APFloat(value)); });
  printer << "]";
}

#define GET_OP_CLASSES
#include "linac/Dialect/Linac/IR/LinacOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Shape environment
//===----------------------------------------------------------------------===//

namespace {

/// Symbolic dimensions (B, T, H, K, HV, V, N, K') bound by the first operand
/// that names them and checked against every later use. A dynamic size never
/// binds and never conflicts: it is checked at run time by the runtime's
/// tensor validation instead.
class DimEnv {
public:
  struct Binding {
    int64_t size;
    StringRef source; // operand that fixed the size, for the message
  };

  std::optional<Binding> lookup(StringRef dim) const {
    for (const auto &[name, binding] : bindings)
      if (name == dim)
        return binding;
    return std::nullopt;
  }

  void bind(StringRef dim, int64_t size, StringRef source) {
    if (ShapedType::isDynamic(size) || lookup(dim))
      return;
    bindings.push_back({dim, {size, source}});
  }

  /// The static size of `dim` when it is known, else kDynamic.
  int64_t get(StringRef dim) const {
    if (auto binding = lookup(dim))
      return binding->size;
    return ShapedType::kDynamic;
  }

private:
  SmallVector<std::pair<StringRef, Binding>> bindings;
};

std::string formatDims(ArrayRef<StringRef> dims) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "[";
  llvm::interleaveComma(dims, os);
  os << "]";
  return text;
}

/// Checks that `name` has rank `dims.size()` and that each dimension agrees
/// with the environment, binding the ones seen for the first time. `reason`
/// completes "... for <reason>" in the rank message (for example
/// "decay(diagonal)").
LogicalResult checkShape(RecurrenceOp op, DimEnv &env, StringRef name,
                         Value value, ArrayRef<StringRef> dims,
                         StringRef reason) {
  auto type = cast<RankedTensorType>(value.getType());
  if (type.getRank() != static_cast<int64_t>(dims.size())) {
    auto diag = op.emitOpError() << "'" << name << "' must have rank "
                                 << dims.size() << " " << formatDims(dims);
    if (!reason.empty())
      diag << " for " << reason;
    return diag << "; got " << type;
  }
  for (auto [index, dim] : llvm::enumerate(dims)) {
    int64_t size = type.getDimSize(index);
    std::optional<DimEnv::Binding> bound = env.lookup(dim);
    if (bound && !ShapedType::isDynamic(size) && size != bound->size)
      return op.emitOpError()
             << "'" << name << "' dimension " << index << " (" << dim
             << ") is " << size << " but " << dim << " = " << bound->size
             << " (from '" << bound->source << "')";
    env.bind(dim, size, name);
  }
  return success();
}

bool isIoElementType(Type type) { return type.isF32() || type.isF16() || type.isBF16(); }

/// Checks the element type of an optional per-token input (g, beta, a, b, u).
LogicalResult checkFloatOperand(RecurrenceOp op, StringRef name, Value value) {
  Type element = cast<RankedTensorType>(value.getType()).getElementType();
  if (!isIoElementType(element))
    return op.emitOpError() << "'" << name
                            << "' must have element type f32, f16 or bf16; got "
                            << element;
  return success();
}

/// Reports an operand that the chosen structure does not read. A silently
/// ignored input is a bug in whatever produced the op.
LogicalResult rejectUnused(RecurrenceOp op, StringRef name, Value value,
                           StringRef structure) {
  if (!value)
    return success();
  return op.emitOpError() << "'" << name << "' is not used by " << structure
                          << "; remove it";
}

std::string structureText(StringRef attr, StringRef value) {
  return (attr + "(" + value + ")").str();
}

} // namespace

//===----------------------------------------------------------------------===//
// RecurrenceOp
//===----------------------------------------------------------------------===//

double RecurrenceOp::getEffectiveScale() {
  if (std::optional<APFloat> scale = getScale())
    return scale->convertToDouble();
  int64_t keyDim = getQ().getType().getDimSize(3);
  return 1.0 / std::sqrt(static_cast<double>(keyDim));
}

double RecurrenceOp::getEffectiveEps() {
  if (std::optional<APFloat> eps = getEps())
    return eps->convertToDouble();
  return 1e-6;
}

/// 1 + K + K^2, the rows of taylor2's state, or nullopt when that does not
/// fit in 64 bits.
static std::optional<int64_t> taylor2Rows(int64_t keyDim) {
  int64_t square, rows;
  if (llvm::MulOverflow(keyDim, keyDim, square) ||
      llvm::AddOverflow(square, keyDim, rows) ||
      llvm::AddOverflow(rows, int64_t{1}, rows))
    return std::nullopt;
  return rows;
}

int64_t RecurrenceOp::getStateKeyDim() {
  int64_t keyDim = getQ().getType().getDimSize(3);
  if (getFeatureMap() != FeatureMap::Taylor2 || ShapedType::isDynamic(keyDim))
    return keyDim;
  // The verifier rejects a K whose K' overflows; saturate for an op that
  // has not been verified.
  return taylor2Rows(keyDim).value_or(std::numeric_limits<int64_t>::max());
}

LogicalResult RecurrenceOp::verify() {
  DimEnv env;
  const DecayKind decay = getDecay();
  const RankOneKind rankOne = getRankOne();
  const OutputForm outputForm = getOutputForm();
  const std::string decayText =
      structureText("decay", stringifyDecayKind(decay));
  const std::string rankOneText =
      structureText("rank_one", stringifyRankOneKind(rankOne));
  const std::string outputText =
      structureText("output", stringifyOutputForm(outputForm));

  // q, k and v fix B, T, H, K, HV and V.
  if (failed(checkShape(*this, env, "q", getQ(), {"B", "T", "H", "K"}, "")) ||
      failed(checkShape(*this, env, "k", getK(), {"B", "T", "H", "K"}, "")) ||
      failed(checkShape(*this, env, "v", getV(), {"B", "T", "HV", "V"}, "")))
    return failure();

  Type ioType = getQ().getType().getElementType();
  if (!isIoElementType(ioType))
    return emitOpError() << "'q', 'k' and 'v' must have element type f32, f16 "
                            "or bf16; got "
                         << ioType;
  if (getK().getType().getElementType() != ioType ||
      getV().getType().getElementType() != ioType)
    return emitOpError() << "'q', 'k' and 'v' must share one element type; got "
                         << ioType << ", " << getK().getType().getElementType()
                         << " and " << getV().getType().getElementType();

  // Kernels are specialised on the head dimensions (register tiles, shared
  // memory layouts); only batch, time and head counts may be dynamic.
  if (ShapedType::isDynamic(env.get("K")) ||
      ShapedType::isDynamic(env.get("V")))
    return emitOpError("head dimensions K and V must be static");

  // An empty extent makes no kernel, and later rules divide by head counts
  // and take K^-0.5 (H = 0 divided by zero; found while writing the .mlir
  // fuzzer).
  static constexpr std::pair<StringRef, int> kExtents[] = {
      {"B", 0}, {"T", 1}, {"H", 2}, {"K", 3}, {"HV", 2}, {"V", 3}};
  for (auto [dim, index] : kExtents)
    if (std::optional<DimEnv::Binding> bound = env.lookup(dim);
        bound && bound->size < 1)
      return emitOpError() << "'" << bound->source << "' dimension " << index
                           << " (" << dim << ") is " << bound->size
                           << "; sizes must be at least 1";

  // taylor2's state has 1 + K + K^2 rows, which must fit in 64 bits (a
  // signed overflow before; found while writing the .mlir fuzzer).
  if (getFeatureMap() == FeatureMap::Taylor2 && !taylor2Rows(env.get("K")))
    return emitOpError() << "feature_map(taylor2) with K = " << env.get("K")
                         << " needs 1 + K + K^2 state rows, more than a "
                            "64-bit size holds";

  int64_t numHeads = env.get("H"), numValueHeads = env.get("HV");
  if (!ShapedType::isDynamic(numHeads) &&
      !ShapedType::isDynamic(numValueHeads) &&
      numValueHeads % numHeads != 0)
    return emitOpError() << "value heads HV = " << numValueHeads
                         << " must be a multiple of query/key heads H = "
                         << numHeads;

  // Per-key inputs (a diagonal g, a, b, u) and the states act on the rows of
  // the state, so they live in the feature-mapped key space K'.
  env.bind("K'", getStateKeyDim(), "q");

  // Decay.
  if (decay == DecayKind::Constant) {
    std::optional<ArrayRef<double>> constants = getDecayConstants();
    if (!constants)
      return emitOpError("decay(constant) requires 'constants', one decay per "
                         "value head");
    if (ShapedType::isDynamic(numValueHeads))
      return emitOpError("decay(constant) requires a static number of value "
                         "heads HV");
    if (static_cast<int64_t>(constants->size()) != numValueHeads)
      return emitOpError() << "'constants' has " << constants->size()
                           << " values but HV = " << numValueHeads;
    for (auto [index, value] : llvm::enumerate(*constants))
      if (!(value > 0.0 && value <= 1.0))
        return emitOpError() << "'constants' must lie in (0, 1]; element "
                             << index << " is " << value;
  } else if (getDecayConstants()) {
    return emitOpError() << "'constants' is only used by decay(constant), not "
                         << decayText;
  }

  if (hasDataDependentDecay()) {
    if (!getG())
      return emitOpError() << decayText << " requires a log-space gate 'g' "
                           << (decay == DecayKind::Scalar ? "[B, T, HV]"
                                                          : "[B, T, HV, K']");
    SmallVector<StringRef> dims = {"B", "T", "HV"};
    if (decay == DecayKind::Diagonal)
      dims.push_back("K'");
    if (failed(checkShape(*this, env, "g", getG(), dims, decayText)) ||
        failed(checkFloatOperand(*this, "g", getG())))
      return failure();
  } else if (failed(rejectUnused(*this, "g", getG(), decayText))) {
    return failure();
  }

  // Rank-one part.
  if (rankOne == RankOneKind::Delta) {
    if (!getBeta())
      return emitOpError("rank_one(delta) requires 'beta' [B, T, HV]");
    if (failed(checkShape(*this, env, "beta", getBeta(), {"B", "T", "HV"},
                          rankOneText)) ||
        failed(checkFloatOperand(*this, "beta", getBeta())))
      return failure();
  } else if (failed(rejectUnused(*this, "beta", getBeta(), rankOneText))) {
    return failure();
  }

  if (rankOne == RankOneKind::Dplr) {
    for (auto [name, value] : {std::pair<StringRef, Value>{"a", getA()},
                               std::pair<StringRef, Value>{"b", getB()}}) {
      if (!value)
        return emitOpError() << "rank_one(dplr) requires '" << name
                             << "' [B, T, HV, K']";
      if (failed(checkShape(*this, env, name, value, {"B", "T", "HV", "K'"},
                            rankOneText)) ||
          failed(checkFloatOperand(*this, name, value)))
        return failure();
    }
  } else if (failed(rejectUnused(*this, "a", getA(), rankOneText)) ||
             failed(rejectUnused(*this, "b", getB(), rankOneText))) {
    return failure();
  }

  // Output form.
  if (outputForm == OutputForm::PreviousStatePlusBonus) {
    if (rankOne != RankOneKind::None)
      return emitOpError() << outputText << " is only defined with "
                           << "rank_one(none); got " << rankOneText;
    if (!getU())
      return emitOpError() << outputText
                           << " requires the bonus 'u' [HV, K']";
    if (failed(checkShape(*this, env, "u", getU(), {"HV", "K'"}, outputText)) ||
        failed(checkFloatOperand(*this, "u", getU())))
      return failure();
  } else if (failed(rejectUnused(*this, "u", getU(), outputText))) {
    return failure();
  }

  // Normalizer and scalars.
  if (getNormalizer() == Normalizer::Sum) {
    // The normalizer is "one extra value column of ones", which for the
    // transitions that act on state columns independently is also
    // z_t = (D_t + b_t a_tᵀ) z_{t-1} + k_t. The delta rule's write depends
    // on the value column, so the two readings disagree and neither is a
    // published variant: reject it rather than pick one silently.
    if (rankOne == RankOneKind::Delta)
      return emitOpError() << "normalizer(sum) is not defined with "
                           << rankOneText;
  } else if (getEps()) {
    return emitOpError("'eps' is only used by normalizer(sum)");
  }
  if (std::optional<APFloat> eps = getEps()) {
    double value = eps->convertToDouble();
    if (!(value > 0.0) || !std::isfinite(value))
      return emitOpError() << "'eps' must be finite and positive; got "
                           << value;
  }
  if (std::optional<APFloat> scale = getScale()) {
    double value = scale->convertToDouble();
    if (!std::isfinite(value) || value == 0.0)
      return emitOpError() << "'scale' must be finite and non-zero; got "
                           << value;
  }

  // Varlen: one packed sequence axis split by offsets.
  if (Value cuSeqlens = getCuSeqlens()) {
    auto type = cast<RankedTensorType>(cuSeqlens.getType());
    if (type.getRank() != 1)
      return emitOpError() << "'cu_seqlens' must have rank 1 [N + 1]; got "
                           << type;
    if (!type.getElementType().isSignlessInteger(32) &&
        !type.getElementType().isSignlessInteger(64))
      return emitOpError() << "'cu_seqlens' must have element type i32 or "
                              "i64; got "
                           << type.getElementType();
    int64_t entries = type.getDimSize(0);
    if (!ShapedType::isDynamic(entries) && entries < 2)
      return emitOpError() << "'cu_seqlens' needs at least 2 offsets (one "
                              "sequence); got "
                           << entries;
    int64_t batch = env.get("B");
    if (!ShapedType::isDynamic(batch) && batch != 1)
      return emitOpError() << "varlen ('cu_seqlens') packs sequences along T "
                              "and requires B = 1; got B = "
                           << batch;
    if (!ShapedType::isDynamic(entries))
      env.bind("N", entries - 1, "cu_seqlens");
  } else {
    env.bind("N", env.get("B"), "q");
  }

  // A state pool: P slots, one picked per sequence.
  Value indices = getStateIndices();
  if (indices) {
    auto type = cast<RankedTensorType>(indices.getType());
    if (type.getRank() != 1)
      return emitOpError() << "'state_indices' must have rank 1 [N]; got "
                           << type;
    if (!type.getElementType().isSignlessInteger(32) &&
        !type.getElementType().isSignlessInteger(64))
      return emitOpError() << "'state_indices' must have element type i32 or "
                              "i64; got "
                           << type.getElementType();
    if (!getH0() || !getHt())
      return emitOpError() << "'state_indices' picks slots of a state pool, "
                              "so it needs both 'h0' and the result 'ht' "
                              "(the updated pool)";
    if (failed(checkShape(*this, env, "state_indices", indices, {"N"},
                          "a state pool")))
      return failure();
  }

  // States: always f32, key dimension after the feature map; a pool has P
  // slots instead of one per sequence.
  auto checkState = [&](StringRef name, Value value) -> LogicalResult {
    if (!value)
      return success();
    if (failed(checkShape(*this, env, name, value,
                          {indices ? "P" : "N", "HV", "K'", "V"},
                          indices ? "a state pool" : "a state")))
      return failure();
    Type element = cast<RankedTensorType>(value.getType()).getElementType();
    if (!element.isF32())
      return emitOpError() << "'" << name
                           << "' is a state and must have element type f32; "
                              "got "
                           << element;
    return success();
  };
  if (failed(checkState("h0", getH0())) || failed(checkState("ht", getHt())))
    return failure();

  // With cu_seqlens of run-time length the number of sequences N is known at
  // run time only, so no per-sequence tensor may fix it: the runtime could
  // not relate that static size to the offsets, and a kernel would index
  // past it.
  if (Value cuSeqlens = getCuSeqlens();
      cuSeqlens && cast<RankedTensorType>(cuSeqlens.getType()).isDynamicDim(0))
    for (auto [name, value] :
         {std::pair<StringRef, Value>{"h0", indices ? Value() : getH0()},
          {"ht", indices ? Value() : getHt()},
          {"state_indices", indices}})
      if (value && !cast<RankedTensorType>(value.getType()).isDynamicDim(0))
        return emitOpError()
               << "'" << name << "' dimension 0 (N) is static ("
               << cast<RankedTensorType>(value.getType()).getDimSize(0)
               << ") but 'cu_seqlens' has a run-time length, which sets N; "
                  "make both static or both dynamic";

  // Output.
  if (failed(checkShape(*this, env, "o", getO(), {"B", "T", "HV", "V"}, "")))
    return failure();
  Type outType = getO().getType().getElementType();
  if (!isIoElementType(outType))
    return emitOpError() << "'o' must have element type f32, f16 or bf16; got "
                         << outType;
  return success();
}
