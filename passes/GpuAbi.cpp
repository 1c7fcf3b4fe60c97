//===- GpuAbi.cpp - parameter and shared-memory ABI of the CUDA kernels ---===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// After the GPU-to-NVVM conversion, a kernel is an llvm.func; what the
// runtime's launch assumes beyond the memref descriptors is set here:
//
// - the tensor maps of its TMA loads (the last arguments; `linac.tma` counts
//   them) are CUtensorMaps passed by value: 128-byte, 64-byte-aligned
//   `.param` arrays (`llvm.byval`, `llvm.align`) that stay in parameter
//   space (`nvvm.grid_constant`, CUDA's __grid_constant__), so the copy
//   instruction reads the map the driver placed there through a generic
//   address (cvta.param) instead of a local copy;
// - the dynamic shared memory is 128-byte aligned, the alignment of a bulk
//   tensor copy's destination (its offsets are multiples of 128 from there).
//
// The GPU dialect has no way to say either on a gpu.func (the NVVM verifier
// accepts nvvm.grid_constant on kernels only, and the conversion drops
// llvm.byval), hence this pass between the two.
//
//===----------------------------------------------------------------------===//

#include "linac/Passes/GpuSchedule.h"
#include "linac/Passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace linac {
#define GEN_PASS_DEF_LINACGPUABI
#include "linac/Passes/Passes.h.inc"
} // namespace linac

using namespace mlir;
using namespace linac;

namespace {

/// Bytes of a CUtensorMap (cuda.h), and its alignment.
constexpr int64_t kTensorMapBytes = 128;
constexpr int64_t kTensorMapAlign = 64;

struct GpuAbiPass : linac::impl::LinacGpuAbiBase<GpuAbiPass> {
  void runOnOperation() override {
    gpu::GPUModuleOp module = getOperation();
    MLIRContext *ctx = module.getContext();
    bool tma = false;
    for (LLVM::LLVMFuncOp func : module.getOps<LLVM::LLVMFuncOp>()) {
      auto maps = func->getAttrOfType<ArrayAttr>("linac.tma");
      if (!maps)
        continue;
      if (!func->hasAttr(NVVM::NVVMDialect::getKernelFuncAttrName())) {
        func.emitOpError() << "has linac.tma but is not a kernel (run "
                              "linac-gpu-abi after convert-gpu-to-nvvm)";
        return signalPassFailure();
      }
      const unsigned count = maps.size(), args = func.getNumArguments();
      if (count > args) {
        func.emitOpError() << "lists " << count
                           << " tensor maps in linac.tma but has only "
                           << args << " arguments";
        return signalPassFailure();
      }
      for (unsigned i = args - count; i < args; ++i) {
        auto pointer = dyn_cast<LLVM::LLVMPointerType>(
            func.getArgumentTypes()[i]);
        if (!pointer || pointer.getAddressSpace() != 0) {
          func.emitOpError() << "argument " << i << " is a tensor map of "
                             << "linac.tma and must be !llvm.ptr, not "
                             << func.getArgumentTypes()[i];
          return signalPassFailure();
        }
        func.setArgAttr(i, LLVM::LLVMDialect::getByValAttrName(),
                        TypeAttr::get(LLVM::LLVMArrayType::get(
                            IntegerType::get(ctx, 8), kTensorMapBytes)));
        func.setArgAttr(i, LLVM::LLVMDialect::getAlignAttrName(),
                        IntegerAttr::get(IntegerType::get(ctx, 32),
                                         kTensorMapAlign));
        func.setArgAttr(i, NVVM::NVVMDialect::getGridConstantAttrName(),
                        UnitAttr::get(ctx));
      }
      tma = true;
    }
    if (!tma)
      return;
    // gpu.dynamic_shared_memory lowers to a zero-length shared array.
    for (LLVM::GlobalOp global : module.getOps<LLVM::GlobalOp>()) {
      auto array = dyn_cast<LLVM::LLVMArrayType>(global.getGlobalType());
      if (global.getAddrSpace() != 3 || !array || array.getNumElements() != 0)
        continue;
      if (global.getAlignment().value_or(0) < static_cast<uint64_t>(kTmaAlign))
        global.setAlignment(static_cast<uint64_t>(kTmaAlign));
    }
  }
};

} // namespace
