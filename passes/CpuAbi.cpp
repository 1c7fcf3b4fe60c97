//===- CpuAbi.cpp - C entry points of the CPU kernels ---------------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// Gives every task function (from linac-chunk) the C interface declared in
// include/linac/runtime/linac.h:
//
//   const char NAME_manifest[];
//   void NAME_kernel(const linac_tensor *const *tensors,
//                    linac_parallel_for_fn parallel_for, void *pool);
//   void NAME_body(void *closure, int64_t begin, int64_t end);
//
// NAME_kernel counts the tasks and hands NAME_body to the caller's
// parallel_for (or runs it inline when that is NULL); NAME_body rebuilds the
// memref descriptors from the linac_tensor structs and runs its tasks. The
// descriptors are assembled in the LLVM dialect and cast to memrefs with
// unrealized casts, which the memref-to-LLVM conversion folds away.
//
//===----------------------------------------------------------------------===//

#include "linac/Dialect/Linac/IR/LinacOps.h"
#include "linac/Passes/Passes.h"
#include "linac/Target/Artifact.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace linac {
#define GEN_PASS_DEF_LINACCPUABI
#include "linac/Passes/Passes.h.inc"
} // namespace linac

using namespace mlir;
using namespace linac;

namespace {

// Byte offsets of the fields of linac_tensor (linac.h fixes them).
constexpr int64_t kShapeOffset = 16;
constexpr int64_t kStridesOffset = 48;
constexpr int64_t kTensorBytes = 80;
constexpr StringLiteral kNullTensor = "__linac_null_tensor";

class AbiBuilder {
public:
  AbiBuilder(ModuleOp module, func::FuncOp task, func::FuncOp count)
      : module(module), task(task), count(count),
        b(task.getLoc(), module.getContext()),
        ptr(LLVM::LLVMPointerType::get(module.getContext())) {}

  void build(const std::string &manifest);

private:
  Value i64(int64_t v) {
    return LLVM::ConstantOp::create(b, b.getI64Type(), b.getI64IntegerAttr(v));
  }
  Value bytePtr(Value base, int64_t offset) {
    return LLVM::GEPOp::create(b, ptr, b.getI8Type(), base,
                               ArrayRef<LLVM::GEPArg>{offset});
  }
  /// The linac_tensor* of argument `index` (the null tensor when NULL), and
  /// whether it was present.
  std::pair<Value, Value> tensorPtr(Value tensors, int64_t index);
  /// A memref of `type` over the tensor `t` points to; with `swapTimeHead`,
  /// the tensor's dims 1 and 2 are exchanged (a bhtd tensor seen in the
  /// kernel's [B, T, H, ...] order: the strides carry the layout).
  Value descriptor(Value t, MemRefType type, bool swapTimeHead);
  /// Memrefs (and presence flags) for every buffer argument of the task.
  void unpack(Value tensors, SmallVectorImpl<Value> &buffers,
              SmallVectorImpl<Value> &present);

  ModuleOp module;
  func::FuncOp task, count;
  ImplicitLocOpBuilder b;
  Type ptr;
};

std::pair<Value, Value> AbiBuilder::tensorPtr(Value tensors, int64_t index) {
  Value slot = LLVM::GEPOp::create(b, ptr, ptr, tensors,
                                   ArrayRef<LLVM::GEPArg>{index});
  Value t = LLVM::LoadOp::create(b, ptr, slot);
  Value null = LLVM::ZeroOp::create(b, ptr);
  Value present = LLVM::ICmpOp::create(b, LLVM::ICmpPredicate::ne, t, null);
  Value fallback = LLVM::AddressOfOp::create(b, ptr, kNullTensor);
  return {LLVM::SelectOp::create(b, present, t, fallback), present};
}

Value AbiBuilder::descriptor(Value t, MemRefType type, bool swapTimeHead) {
  const int64_t rank = type.getRank();
  auto i64Type = b.getI64Type();
  auto array = LLVM::LLVMArrayType::get(i64Type, rank);
  auto structType = LLVM::LLVMStructType::getLiteral(
      b.getContext(), {ptr, ptr, i64Type, array, array});
  Value data = LLVM::LoadOp::create(b, ptr, t);
  Value desc = LLVM::PoisonOp::create(b, structType);
  desc = LLVM::InsertValueOp::create(b, desc, data, ArrayRef<int64_t>{0});
  desc = LLVM::InsertValueOp::create(b, desc, data, ArrayRef<int64_t>{1});
  desc = LLVM::InsertValueOp::create(b, desc, i64(0), ArrayRef<int64_t>{2});
  for (int64_t d = 0; d < rank; ++d) {
    int64_t from = d;
    if (swapTimeHead && rank >= 3 && (d == 1 || d == 2))
      from = 3 - d;
    Value size =
        LLVM::LoadOp::create(b, i64Type, bytePtr(t, kShapeOffset + 8 * from));
    Value stride = LLVM::LoadOp::create(
        b, i64Type, bytePtr(t, kStridesOffset + 8 * from));
    desc = LLVM::InsertValueOp::create(b, desc, size, ArrayRef<int64_t>{3, d});
    desc =
        LLVM::InsertValueOp::create(b, desc, stride, ArrayRef<int64_t>{4, d});
  }
  return UnrealizedConversionCastOp::create(b, type, desc).getResult(0);
}

void AbiBuilder::unpack(Value tensors, SmallVectorImpl<Value> &buffers,
                        SmallVectorImpl<Value> &present) {
  auto names = task->getAttrOfType<ArrayAttr>("linac.tensors");
  for (auto [index, type] : llvm::enumerate(count.getArgumentTypes())) {
    auto [t, isPresent] = tensorPtr(tensors, index);
    StringRef name = cast<StringAttr>(names[index]).getValue();
    buffers.push_back(descriptor(t, cast<MemRefType>(type),
                                 isHeadMajor(module, name)));
    present.push_back(isPresent);
  }
}

void AbiBuilder::build(const std::string &manifest) {
  MLIRContext *ctx = module.getContext();
  std::string name =
      task->getAttrOfType<StringAttr>("linac.kernel").getValue().str();
  auto names = task->getAttrOfType<ArrayAttr>("linac.tensors");
  b.setInsertionPointToEnd(module.getBody());

  // const char NAME_manifest[] = "...";
  std::string text = manifest;
  text.push_back('\0');
  LLVM::GlobalOp::create(
      b, LLVM::LLVMArrayType::get(b.getI8Type(), text.size()),
      /*isConstant=*/true, LLVM::Linkage::External, name + "_manifest",
      b.getStringAttr(text));

  // void NAME_body(void *closure, int64_t begin, int64_t end)
  auto bodyType = FunctionType::get(
      ctx, {ptr, b.getI64Type(), b.getI64Type()}, {});
  auto body = func::FuncOp::create(b, name + "_body", bodyType);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(body.addEntryBlock());
    Value tensors = body.getArgument(0);
    SmallVector<Value> args, present;
    unpack(tensors, args, present);
    // linac-chunk appends a presence flag for h0 then ht, when they are
    // optional (prefill) and present in the signature.
    if (task.getNumArguments() > count.getNumArguments() + 1)
      for (StringRef role : {"h0", "ht"})
        for (auto [index, attr] : llvm::enumerate(names))
          if (cast<StringAttr>(attr).getValue() == role)
            args.push_back(present[index]);
    Value begin =
        arith::IndexCastOp::create(b, b.getIndexType(), body.getArgument(1));
    Value end =
        arith::IndexCastOp::create(b, b.getIndexType(), body.getArgument(2));
    auto loop = scf::ForOp::create(b, begin, end,
                                   arith::ConstantIndexOp::create(b, 1));
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPoint(loop.getBody()->getTerminator());
      SmallVector<Value> callArgs(args);
      callArgs.push_back(loop.getInductionVar());
      func::CallOp::create(b, task, callArgs);
    }
    func::ReturnOp::create(b);
  }

  // void NAME_kernel(const linac_tensor *const *tensors,
  //                  linac_parallel_for_fn parallel_for, void *pool)
  auto kernelType = FunctionType::get(ctx, {ptr, ptr, ptr}, {});
  auto kernel = func::FuncOp::create(b, name + "_kernel", kernelType);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(kernel.addEntryBlock());
    Value tensors = kernel.getArgument(0);
    Value parallelFor = kernel.getArgument(1);
    Value pool = kernel.getArgument(2);
    SmallVector<Value> args, present;
    unpack(tensors, args, present);
    Value n = func::CallOp::create(b, count, args).getResult(0);
    Value n64 = arith::IndexCastOp::create(b, b.getI64Type(), n);
    Value null = LLVM::ZeroOp::create(b, ptr);
    Value inline_ =
        LLVM::ICmpOp::create(b, LLVM::ICmpPredicate::eq, parallelFor, null);
    auto ifOp = scf::IfOp::create(b, inline_, /*withElse=*/true);
    {
      OpBuilder::InsertionGuard inner(b);
      b.setInsertionPointToStart(ifOp.thenBlock());
      func::CallOp::create(b, body, ValueRange{tensors, i64(0), n64});
      b.setInsertionPointToStart(ifOp.elseBlock());
      Value fn = func::ConstantOp::create(b, bodyType,
                                          SymbolRefAttr::get(body));
      Value fnPtr = UnrealizedConversionCastOp::create(b, ptr, fn).getResult(0);
      auto callee = LLVM::LLVMFunctionType::get(
          LLVM::LLVMVoidType::get(ctx), {ptr, b.getI64Type(), ptr, ptr});
      LLVM::CallOp::create(b, callee,
                           ValueRange{parallelFor, pool, n64, fnPtr, tensors});
    }
    func::ReturnOp::create(b);
  }
}

struct CpuAbiPass : linac::impl::LinacCpuAbiBase<CpuAbiPass> {
  using LinacCpuAbiBase::LinacCpuAbiBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    std::string cpuName = cpu;
    if (cpuName.empty())
      if (auto attr = module->getAttrOfType<StringAttr>("linac.cpu"))
        cpuName = attr.str();
    if (cpuName.empty())
      cpuName = "native";
    CpuTarget target;
    std::string error;
    if (!resolveCpuTarget(cpuName, target, error)) {
      module.emitError() << "linac-cpu-abi: " << error;
      return signalPassFailure();
    }

    SmallVector<func::FuncOp> tasks;
    module.walk([&](func::FuncOp func) {
      if (func->hasAttr("linac.kernel"))
        tasks.push_back(func);
    });
    if (tasks.empty())
      return;

    // A zeroed linac_tensor that stands in for NULL optional tensors, so the
    // descriptors can be read unconditionally (and are never dereferenced).
    OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
    if (!module.lookupSymbol(kNullTensor)) {
      auto type = LLVM::LLVMArrayType::get(b.getI8Type(), kTensorBytes);
      auto global = LLVM::GlobalOp::create(
          b, module.getLoc(), type, /*isConstant=*/true,
          LLVM::Linkage::Internal, kNullTensor, Attribute());
      Block *init = b.createBlock(&global.getInitializerRegion());
      b.setInsertionPointToStart(init);
      Value zero = LLVM::ZeroOp::create(b, module.getLoc(), type);
      LLVM::ReturnOp::create(b, module.getLoc(), zero);
    }

    for (func::FuncOp task : tasks) {
      auto count = module.lookupSymbol<func::FuncOp>(
          (task.getSymName().drop_back(strlen("_task")) + "_tasks").str());
      auto kernel = getKernelInterface(task);
      if (!count || failed(kernel)) {
        task.emitOpError() << "is not a task function of linac-chunk";
        return signalPassFailure();
      }
      AbiBuilder(module, task, count).build(buildManifest(*kernel, target));
      // Only NAME_body calls them: internal linkage keeps them out of the
      // object's symbol table (no clash when two kernels' objects are linked
      // into one program under different names) and lets LLVM specialise
      // them for their single caller.
      auto internal = LLVM::LinkageAttr::get(&getContext(),
                                             LLVM::Linkage::Internal);
      task->setAttr("llvm.linkage", internal);
      count->setAttr("llvm.linkage", internal);
    }
  }
};

} // namespace
