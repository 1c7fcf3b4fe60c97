//===- SpecToMLIR.cpp - build linac IR from a spec ------------------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// Maps a variant name onto the structural properties of linac.recurrence
// (the table in the op's description) and builds the function a kernel will
// be generated from. This is the only place where variant names meet the IR.
//
//===----------------------------------------------------------------------===//

#include "linac/Spec/SpecToMLIR.h"

#include "linac/Dialect/Linac/IR/LinacOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"

#include <cmath>

using namespace mlir;
using namespace linac;
using namespace linac::spec;
using linac::DecayKind;
using linac::OutputForm;
using linac::RankOneKind;

namespace {

struct Structure {
  DecayKind decay = DecayKind::None;
  RankOneKind rankOne = RankOneKind::None;
  OutputForm output = OutputForm::CurrentState;
};

Structure structureOf(oracle::Variant variant) {
  using oracle::Variant;
  switch (variant) {
  case Variant::LinearAttn:
    return {};
  case Variant::Retention:
  case Variant::Lightning:
    return {DecayKind::Constant};
  case Variant::SimpleGla:
    return {DecayKind::Scalar};
  case Variant::Gla:
    return {DecayKind::Diagonal};
  case Variant::Rwkv6:
    return {DecayKind::Diagonal, RankOneKind::None,
            OutputForm::PreviousStatePlusBonus};
  case Variant::DeltaRule:
    return {DecayKind::None, RankOneKind::Delta};
  case Variant::GatedDeltaRule:
    return {DecayKind::Scalar, RankOneKind::Delta};
  case Variant::Kda:
    return {DecayKind::Diagonal, RankOneKind::Delta};
  case Variant::Dplr:
    return {DecayKind::Diagonal, RankOneKind::Dplr};
  }
  return {};
}

/// The runtime and the dialect spell feature maps the same way (SEMANTICS.md),
/// so the name is the mapping.
linac::FeatureMap toIR(oracle::FeatureMap map) {
  return *linac::symbolizeFeatureMap(oracle::featureMapName(map));
}

Type elementType(DType dtype, MLIRContext &context) {
  switch (dtype) {
  case DType::F16:
    return Float16Type::get(&context);
  case DType::BF16:
    return BFloat16Type::get(&context);
  default:
    return Float32Type::get(&context);
  }
}

/// Builds `<name>_<mode>`; decode always takes and returns the state.
LogicalResult buildFunction(const AttentionSpec &spec, StringRef name,
                            bool decode, ModuleOp module) {
  MLIRContext &context = *module.getContext();
  OpBuilder builder(&context);
  builder.setInsertionPointToEnd(module.getBody());
  Location loc = FileLineColLoc::get(&context, spec.loc.file, spec.loc.line,
                                     spec.loc.column);

  const int64_t dyn = ShapedType::kDynamic;
  const Structure structure = structureOf(spec.variant);
  const bool varlen = spec.varlen && !decode;
  const int64_t batch = varlen ? 1 : dyn;
  const int64_t heads = spec.numHeads.value_or(dyn);
  const int64_t valueHeads = spec.valueHeads().value_or(dyn);
  const int64_t keyDim = spec.headDimK, valueDim = spec.headDimV;
  const int64_t stateKeyDim = oracle::featureDim(spec.featureMap, keyDim);
  Type ioType = elementType(spec.dtype, context);
  Type f32 = builder.getF32Type();

  // Gates and write strengths stay f32 whatever the input type: log-space
  // gates lose too much in 16 bits to be cumulatively summed.
  SmallVector<std::pair<StringRef, Type>> args = {
      {"q", RankedTensorType::get({batch, dyn, heads, keyDim}, ioType)},
      {"k", RankedTensorType::get({batch, dyn, heads, keyDim}, ioType)},
      {"v", RankedTensorType::get({batch, dyn, valueHeads, valueDim}, ioType)}};
  auto perToken = RankedTensorType::get({batch, dyn, valueHeads}, f32);
  auto perKey =
      RankedTensorType::get({batch, dyn, valueHeads, stateKeyDim}, f32);
  if (structure.decay == DecayKind::Scalar)
    args.push_back({"g", perToken});
  if (structure.decay == DecayKind::Diagonal)
    args.push_back({"g", perKey});
  if (structure.rankOne == RankOneKind::Delta)
    args.push_back({"beta", perToken});
  if (structure.rankOne == RankOneKind::Dplr) {
    args.push_back({"a", perKey});
    args.push_back({"b", perKey});
  }
  if (structure.output == OutputForm::PreviousStatePlusBonus)
    args.push_back({"u", RankedTensorType::get({valueHeads, stateKeyDim}, f32)});
  // A pool has its own run-time number of slots.
  auto stateType = RankedTensorType::get(
      {varlen || spec.stateIndices ? dyn : batch, valueHeads, stateKeyDim,
       valueDim},
      f32);
  const bool withH0 = decode || spec.initialState;
  const bool withHt = decode || spec.finalState;
  if (withH0)
    args.push_back({"h0", stateType});
  if (varlen)
    args.push_back(
        {"cu_seqlens", RankedTensorType::get({dyn}, builder.getI32Type())});
  if (spec.stateIndices)
    args.push_back({"state_indices",
                    RankedTensorType::get({varlen ? dyn : batch},
                                          builder.getI32Type())});

  SmallVector<Type> argTypes, resultTypes;
  for (auto &[argName, type] : args)
    argTypes.push_back(type);
  auto outType = RankedTensorType::get({batch, dyn, valueHeads, valueDim},
                                       elementType(spec.outputDtype, context));
  resultTypes.push_back(outType);
  if (withHt)
    resultTypes.push_back(stateType);

  std::string funcName = (name + (decode ? "_decode" : "_prefill")).str();
  auto func = func::FuncOp::create(builder, loc, funcName,
                                   builder.getFunctionType(argTypes, resultTypes));
  for (auto [index, arg] : llvm::enumerate(args))
    func.setArgAttr(index, "linac.arg", builder.getStringAttr(arg.first));
  func.setResultAttr(0, "linac.arg", builder.getStringAttr("o"));
  // The variant name only labels the artifact (manifest, header); passes
  // read the op's structure.
  func->setAttr("linac.variant",
                builder.getStringAttr(oracle::variantName(spec.variant)));
  if (withHt)
    func.setResultAttr(1, "linac.arg", builder.getStringAttr("ht"));

  Block *body = func.addEntryBlock();
  // q and k are sized by head_dim_k, v by head_dim_v: errors about a head
  // size are reported at the tensor, hence at the key that sets it.
  auto keyLoc = [&](const SourceLoc &where) -> Location {
    return FileLineColLoc::get(&context, where.file, where.line, where.column);
  };
  for (auto [index, arg] : llvm::enumerate(args)) {
    if (arg.first == "q" || arg.first == "k")
      body->getArgument(index).setLoc(keyLoc(spec.headDimKLoc));
    else if (arg.first == "v")
      body->getArgument(index).setLoc(keyLoc(spec.headDimVLoc));
  }
  builder.setInsertionPointToStart(body);
  auto argument = [&](StringRef argName) -> Value {
    for (auto [index, arg] : llvm::enumerate(args))
      if (arg.first == argName)
        return body->getArgument(index);
    return Value();
  };

  DenseF64ArrayAttr constants;
  if (spec.variant == oracle::Variant::Retention) {
    SmallVector<double> gammas;
    for (int64_t h = 0; h < valueHeads; ++h)
      gammas.push_back(1.0 - std::exp2(-5.0 - static_cast<double>(h)));
    constants = builder.getDenseF64ArrayAttr(gammas);
  } else if (spec.variant == oracle::Variant::Lightning) {
    constants = builder.getDenseF64ArrayAttr(spec.decay);
  }
  FloatAttr scale =
      spec.scale ? builder.getF32FloatAttr(static_cast<float>(*spec.scale))
                 : FloatAttr();
  FloatAttr eps = spec.eps
                      ? builder.getF32FloatAttr(static_cast<float>(*spec.eps))
                      : FloatAttr();

  auto op = linac::RecurrenceOp::create(
      builder, loc, outType, withHt ? Type(stateType) : Type(),
      structure.decay, structure.rankOne, structure.output,
      toIR(spec.featureMap),
      spec.normalize ? linac::Normalizer::Sum
                     : linac::Normalizer::None,
      constants, scale, eps, argument("q"), argument("k"), argument("v"),
      argument("g"), argument("beta"), argument("a"), argument("b"),
      argument("u"), argument("h0"), argument("cu_seqlens"),
      argument("state_indices"));
  op->setAttr("linac.mode", builder.getStringAttr(decode ? "decode" : "prefill"));
  if (spec.chunkSize)
    op->setAttr("linac.chunk_size", builder.getI64IntegerAttr(*spec.chunkSize));
  func::ReturnOp::create(builder, loc, op->getResults());
  return success();
}

} // namespace

OwningOpRef<ModuleOp> linac::spec::buildModule(const AttentionSpec &spec,
                                               StringRef name,
                                               MLIRContext &context) {
  context.getOrLoadDialect<func::FuncDialect>();
  context.getOrLoadDialect<linac::LinacDialect>();
  Location loc = FileLineColLoc::get(&context, spec.loc.file, spec.loc.line,
                                     spec.loc.column);
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  Builder builder(&context);
  module->getOperation()->setAttr("linac.target",
                                  builder.getStringAttr(spec.target));
  module->getOperation()->setAttr("linac.cpu", builder.getStringAttr(spec.cpu));
  module->getOperation()->setAttr(
      "linac.layout",
      builder.getStringAttr(spec.layout == Layout::BTHD ? "bthd" : "bhtd"));
  if (spec.prefill && failed(buildFunction(spec, name, false, *module)))
    return nullptr;
  if (spec.decode && failed(buildFunction(spec, name, true, *module)))
    return nullptr;
  if (failed(verify(*module)))
    return nullptr;
  return module;
}
