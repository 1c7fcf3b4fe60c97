//===- EmulateGPU.cpp - CUDA kernels back to CPU task functions -----------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// The CUDA kernels cannot run where there is no GPU, but their logic can: a
// kernel of linac-lower-chunk-gpu is a sequence of barrier intervals, and in
// each interval every thread runs the same code on its own indices. Running
// the per-thread part of each interval in a loop over thread ids, one
// interval after the other, gives exactly the results of the block (within
// an interval threads touch disjoint elements, which is what the barriers
// are for). The result is a linac-chunk task function, so the whole CPU
// back end (linac-cpu-abi, LLVM, the runtime) runs it, and the CPU
// correctness tests can hold the GPU lowering to the float64 oracle.
//
//===----------------------------------------------------------------------===//

#include "linac/Dialect/Linac/IR/LinacOps.h"
#include "linac/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include <limits>

namespace linac {
#define GEN_PASS_DEF_LINACEMULATEGPU
#include "linac/Passes/Passes.h.inc"
} // namespace linac

using namespace mlir;
using namespace linac;

namespace {

bool containsBarrier(Operation *op) {
  bool found = false;
  op->walk([&](gpu::BarrierOp) { found = true; });
  return found;
}

/// Whether `op` reads the thread id, directly or through `perThread`
/// values, anywhere inside it.
bool dependsOnThread(Operation *op, const DenseSet<Value> &perThread) {
  bool depends = false;
  op->walk([&](Operation *inner) {
    if (isa<gpu::ThreadIdOp>(inner) ||
        llvm::any_of(inner->getOperands(),
                     [&](Value v) { return perThread.contains(v); }))
      depends = true;
  });
  return depends;
}

class Serializer {
public:
  explicit Serializer(int64_t threads) : threads(threads) {}

  /// Serializes the threads of every barrier interval of `block`.
  LogicalResult run(Block &block);

private:
  /// Wraps the per-thread ops of one interval in a loop over thread ids.
  LogicalResult wrap(ArrayRef<Operation *> interval);

  int64_t threads;
  DenseSet<Value> perThread;
};

LogicalResult Serializer::run(Block &block) {
  SmallVector<Operation *> interval;
  for (Operation &op : llvm::make_early_inc_range(block)) {
    if (isa<gpu::BarrierOp>(op)) {
      if (failed(wrap(interval)))
        return failure();
      interval.clear();
      op.erase();
      continue;
    }
    if (op.getNumRegions() > 0 && containsBarrier(&op)) {
      // Control flow around barriers is uniform on a GPU (every thread must
      // reach each barrier); its regions are serialized on their own.
      for (Operation *before : interval)
        if (dependsOnThread(before, perThread))
          perThread.insert(before->result_begin(), before->result_end());
      if (llvm::any_of(op.getOperands(),
                       [&](Value v) { return perThread.contains(v); }))
        return op.emitOpError()
               << "holds a barrier under per-thread control flow";
      if (failed(wrap(interval)))
        return failure();
      interval.clear();
      for (Region &region : op.getRegions())
        for (Block &inner : region)
          if (failed(run(inner)))
            return failure();
      continue;
    }
    if (op.hasTrait<OpTrait::IsTerminator>())
      continue;
    interval.push_back(&op);
  }
  return wrap(interval);
}

LogicalResult Serializer::wrap(ArrayRef<Operation *> interval) {
  SmallVector<Operation *> mine, uniform;
  for (Operation *op : interval) {
    if (dependsOnThread(op, perThread)) {
      mine.push_back(op);
      for (Value result : op->getResults())
        perThread.insert(result);
    } else {
      uniform.push_back(op);
    }
  }
  if (mine.empty())
    return success();
  // Uniform ops run once instead of once per thread, and before the loop:
  // that is only the same when they have no side effects.
  for (Operation *op : uniform)
    if (!isMemoryEffectFree(op))
      return op->emitOpError()
             << "has side effects in a barrier interval with per-thread code; "
                "cannot serialize the threads";
  Operation *first = mine.front();
  for (Operation *op : uniform)
    if (first->isBeforeInBlock(op))
      op->moveBefore(first);

  OpBuilder b(first);
  Location loc = first->getLoc();
  auto loop = scf::ForOp::create(b, loc, arith::ConstantIndexOp::create(b, loc, 0),
                                 arith::ConstantIndexOp::create(b, loc, threads),
                                 arith::ConstantIndexOp::create(b, loc, 1));
  Operation *yield = loop.getBody()->getTerminator();
  for (Operation *op : mine)
    op->moveBefore(yield);
  for (Operation *op : mine)
    for (Value result : op->getResults())
      for (Operation *user : result.getUsers())
        if (!loop->isAncestor(user))
          return user->emitOpError()
                 << "uses a per-thread value after a barrier; cannot "
                    "serialize the threads";
  SmallVector<gpu::ThreadIdOp> ids;
  loop.getBody()->walk([&](gpu::ThreadIdOp id) { ids.push_back(id); });
  for (gpu::ThreadIdOp id : ids) {
    if (id.getDimension() != gpu::Dimension::x)
      return id.emitOpError() << "only blocks along x are emulated";
    perThread.erase(id.getResult());
    id.replaceAllUsesWith(loop.getInductionVar());
    id.erase();
  }
  return success();
}

/// Drops the workgroup memory space from every memref type in `func`.
void stripSharedSpace(func::FuncOp func) {
  auto strip = [](Type type) -> Type {
    auto memref = dyn_cast<MemRefType>(type);
    if (!memref || !isa_and_nonnull<gpu::AddressSpaceAttr>(
                       memref.getMemorySpace()))
      return type;
    return MemRefType::get(memref.getShape(), memref.getElementType(),
                           memref.getLayout());
  };
  func.walk([&](Operation *op) {
    for (Value result : op->getResults())
      result.setType(strip(result.getType()));
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (BlockArgument arg : block.getArguments())
          arg.setType(strip(arg.getType()));
  });
}

/// Whether the runtime encodes a tensor map for `memref`'s view and sets
/// its TMA flag (runtime/Cuda.cpp, tmaUsable): the data address is 16-byte
/// aligned, every outer stride of a dimension longer than one is a multiple
/// of 16 bytes below 2^40, and every extent fits the copy's int32
/// coordinates. As an i32, 1 or 0.
Value tmaUsable(OpBuilder &b, Location loc, Value memref) {
  auto type = cast<MemRefType>(memref.getType());
  const int64_t bytes = type.getElementTypeBitWidth() / 8;
  auto metadata =
      memref::ExtractStridedMetadataOp::create(b, loc, memref);
  auto index = [&](int64_t v) -> Value {
    return arith::ConstantIndexOp::create(b, loc, v);
  };
  auto cmp = [&](arith::CmpIPredicate predicate, Value x, Value y) -> Value {
    return arith::CmpIOp::create(b, loc, predicate, x, y);
  };
  auto both = [&](Value x, Value y) -> Value {
    return arith::AndIOp::create(b, loc, x, y);
  };
  auto inBytes = [&](Value elements) -> Value {
    return arith::MulIOp::create(b, loc, elements, index(bytes));
  };
  Value address = arith::AddIOp::create(
      b, loc,
      memref::ExtractAlignedPointerAsIndexOp::create(b, loc, memref),
      inBytes(metadata.getOffset()));
  Value usable = cmp(arith::CmpIPredicate::eq,
                     arith::RemUIOp::create(b, loc, address, index(16)),
                     index(0));
  for (int64_t d = 0; d < type.getRank(); ++d) {
    Value size = metadata.getSizes()[d];
    usable = both(usable, cmp(arith::CmpIPredicate::ule, size,
                              index(std::numeric_limits<int32_t>::max())));
    if (d == type.getRank() - 1)
      continue;
    Value stride = inBytes(metadata.getStrides()[d]);
    Value fits = both(
        cmp(arith::CmpIPredicate::eq,
            arith::RemUIOp::create(b, loc, stride, index(16)), index(0)),
        cmp(arith::CmpIPredicate::ult, stride, index(int64_t(1) << 40)));
    usable = both(usable, arith::OrIOp::create(
                              b, loc,
                              cmp(arith::CmpIPredicate::eq, size, index(1)),
                              fits));
  }
  return arith::ExtUIOp::create(b, loc, IntegerType::get(b.getContext(), 32),
                                usable);
}

LogicalResult emulate(ModuleOp module, gpu::GPUFuncOp kernel) {
  MLIRContext *ctx = module.getContext();
  auto name = kernel->getAttrOfType<StringAttr>("linac.kernel");
  auto names = kernel->getAttrOfType<ArrayAttr>("linac.tensors");
  auto schedule = kernel->getAttrOfType<ScheduleAttr>("linac.schedule");
  auto shared = kernel->getAttrOfType<IntegerAttr>("linac.shared_bytes");
  auto blockSize = kernel.getKnownBlockSizeAttr();
  if (!name || !names || !schedule || !shared || !blockSize)
    return kernel.emitOpError() << "is not a kernel of linac-gpu-map";
  bool mma = false;
  kernel.walk([&](Operation *op) {
    if (isa<NVVM::NVVMDialect, nvgpu::NVGPUDialect>(op->getDialect()))
      mma = true;
  });
  if (mma)
    return kernel.emitOpError()
           << "uses warp-level MMA; lower it with "
              "linac-lower-chunk-gpu{mma-emulation} to emulate it";

  // The TMA arguments (the last ones: a flag, then a tensor map, per TMA
  // tensor) have no CPU meaning: the flag becomes the runtime's decision
  // for the tensor's view, and the map must be unused (the emulated copy
  // reads the memref).
  auto tma = kernel->getAttrOfType<ArrayAttr>("linac.tma");
  const unsigned numTma = tma ? tma.size() : 0;
  if (2 * numTma > kernel.getNumArguments())
    return kernel.emitOpError() << "has " << numTma
                                << " linac.tma records but only "
                                << kernel.getNumArguments() << " arguments";
  const unsigned firstTma = kernel.getNumArguments() - 2 * numTma;

  // NAME_task(buffers..., flags as i1..., task) and NAME_tasks(buffers...).
  SmallVector<Type> types;
  for (Type type : kernel.getArgumentTypes().take_front(firstTma))
    types.push_back(type.isInteger(32) ? IntegerType::get(ctx, 1) : type);
  const size_t numBuffers = names.size();
  types.push_back(IndexType::get(ctx));
  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  Location loc = kernel.getLoc();
  auto task = func::FuncOp::create(b, loc, (name.getValue() + "_task").str(),
                                   FunctionType::get(ctx, types, {}));
  auto count = func::FuncOp::create(
      b, loc, (name.getValue() + "_tasks").str(),
      FunctionType::get(ctx, ArrayRef<Type>(types).take_front(numBuffers),
                        {IndexType::get(ctx)}));
  for (func::FuncOp f : {task, count})
    f.setPrivate();
  for (StringRef attr : {"linac.kernel", "linac.tensors", "linac.mode",
                         "linac.variant", "linac.schedule"})
    if (Attribute value = kernel->getAttr(attr))
      task->setAttr(attr, value);

  // The body moves over; flags and the block id get their CPU meaning.
  task.getBody().takeBody(kernel.getBody());
  Block &entry = task.getBody().front();
  b.setInsertionPointToStart(&entry);
  for (unsigned m = 0; m < numTma; ++m) {
    auto record = dyn_cast<DictionaryAttr>(tma[m]);
    auto tensor = record ? record.getAs<StringAttr>("tensor") : StringAttr();
    auto position = tensor ? llvm::find(names, tensor) : names.end();
    if (position == names.end())
      return kernel.emitOpError() << "has a linac.tma record " << tma[m]
                                  << " that names no tensor of linac.tensors";
    BlockArgument map = entry.getArgument(firstTma + numTma + m);
    if (!map.use_empty())
      return kernel.emitOpError()
             << "reads the tensor map of '" << tensor.getValue()
             << "'; lower it with linac-lower-chunk-gpu{mma-emulation}";
    Value memref = entry.getArgument(position - names.begin());
    entry.getArgument(firstTma + m)
        .replaceAllUsesWith(tmaUsable(b, loc, memref));
  }
  entry.eraseArguments(firstTma, 2 * numTma);
  for (BlockArgument arg : entry.getArguments()) {
    if (!arg.getType().isInteger(32))
      continue;
    arg.setType(IntegerType::get(ctx, 1));
    auto wide = arith::ExtUIOp::create(b, loc, IntegerType::get(ctx, 32), arg);
    arg.replaceAllUsesExcept(wide.getResult(), wide.getOperation());
  }
  Value taskIndex = entry.addArgument(IndexType::get(ctx), loc);
  SmallVector<Operation *> gpuOps;
  task.walk([&](Operation *op) {
    if (isa<gpu::BlockIdOp, gpu::DynamicSharedMemoryOp, gpu::ReturnOp>(op))
      gpuOps.push_back(op);
  });
  Value stack;
  if (llvm::any_of(gpuOps, [](Operation *op) {
        return isa<gpu::DynamicSharedMemoryOp>(op);
      })) {
    b.setInsertionPointToStart(&entry);
    Value buffer = memref::AllocaOp::create(
        b, loc,
        MemRefType::get({std::max<int64_t>(shared.getInt(), 1)},
                        b.getI8Type()));
    // Shared memory starts 16-byte aligned; so must its stand-in.
    cast<memref::AllocaOp>(buffer.getDefiningOp())
        .setAlignment(static_cast<uint64_t>(16));
    stack = memref::CastOp::create(
        b, loc, MemRefType::get({ShapedType::kDynamic}, b.getI8Type()),
        buffer);
  }
  for (Operation *op : gpuOps) {
    if (isa<gpu::BlockIdOp>(op)) {
      op->getResult(0).replaceAllUsesWith(taskIndex);
    } else if (isa<gpu::DynamicSharedMemoryOp>(op)) {
      op->getResult(0).replaceAllUsesWith(stack);
    } else {
      b.setInsertionPoint(op);
      func::ReturnOp::create(b, op->getLoc());
    }
    op->erase();
  }
  stripSharedSpace(task);
  if (failed(Serializer(blockSize[0]).run(entry)))
    return failure();

  // The task count: sequences x value heads x value tiles.
  {
    Block *body = count.addEntryBlock();
    b.setInsertionPointToStart(body);
    Value q, v, cuSeqlens;
    for (auto [index, attr] : llvm::enumerate(names)) {
      StringRef role = cast<StringAttr>(attr).getValue();
      if (role == "q")
        q = body->getArgument(index);
      else if (role == "v")
        v = body->getArgument(index);
      else if (role == "cu_seqlens")
        cuSeqlens = body->getArgument(index);
    }
    if (!q || !v)
      return kernel.emitOpError() << "has no q or v tensor";
    Value seqs;
    if (cuSeqlens)
      seqs = arith::SubIOp::create(b, loc,
                                   memref::DimOp::create(b, loc, cuSeqlens, 0),
                                   arith::ConstantIndexOp::create(b, loc, 1));
    else
      seqs = memref::DimOp::create(b, loc, q, 0);
    int64_t valueDim = cast<MemRefType>(v.getType()).getDimSize(3);
    int64_t tile =
        schedule.getValueTile() > 0 ? schedule.getValueTile() : valueDim;
    Value heads = memref::DimOp::create(b, loc, v, 2);
    Value n = arith::MulIOp::create(
        b, loc, arith::MulIOp::create(b, loc, seqs, heads),
        arith::ConstantIndexOp::create(b, loc, valueDim / tile));
    func::ReturnOp::create(b, loc, n);
  }
  return success();
}

struct EmulateGpuPass : linac::impl::LinacEmulateGpuBase<EmulateGpuPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<gpu::GPUFuncOp> kernels;
    module.walk([&](gpu::GPUFuncOp kernel) { kernels.push_back(kernel); });
    for (gpu::GPUFuncOp kernel : kernels) {
      if (failed(emulate(module, kernel)))
        return signalPassFailure();
    }
    SmallVector<gpu::GPUModuleOp> gpuModules(
        module.getOps<gpu::GPUModuleOp>());
    for (gpu::GPUModuleOp gpuModule : gpuModules)
      gpuModule.erase();
    module->removeAttr(gpu::GPUDialect::getContainerModuleAttrName());
  }
};

} // namespace
