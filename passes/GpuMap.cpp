//===- GpuMap.cpp - task functions to CUDA kernels ------------------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// linac-chunk splits a recurrence into independent tasks, one per (sequence,
// value head, value tile). On a GPU each task is one thread block: the grid
// covers batch x value heads x value tiles and the chunk loop runs inside
// the kernel. This pass builds that kernel from the task function: block id
// becomes the task index, scratch tiles move to dynamic shared memory, and
// everything the host needs to launch it (threads, shared bytes) is recorded
// on the kernel. The chunked-scan ops stay; linac-lower-chunk-gpu gives them
// their block-cooperative form.
//
//===----------------------------------------------------------------------===//

#include "linac/Dialect/Linac/IR/LinacOps.h"
#include "linac/Passes/GpuSchedule.h"
#include "linac/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/IRMapping.h"

namespace linac {
#define GEN_PASS_DEF_LINACGPUMAP
#include "linac/Passes/Passes.h.inc"
} // namespace linac

using namespace mlir;
using namespace linac;

namespace {

/// The workgroup (shared) memory space.
Attribute workgroupSpace(MLIRContext *ctx) {
  return gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
}

/// Replaces every memref.alloca in `kernel` with a view of the block's
/// dynamic shared memory, packed from offset 0 at kSharedAlign-byte
/// boundaries. Returns the bytes used.
int64_t promoteScratch(gpu::GPUFuncOp kernel) {
  SmallVector<memref::AllocaOp> allocas;
  kernel.walk([&](memref::AllocaOp alloca) { allocas.push_back(alloca); });
  if (allocas.empty())
    return 0;
  MLIRContext *ctx = kernel.getContext();
  OpBuilder b = OpBuilder::atBlockBegin(&kernel.getBody().front());
  Location loc = kernel.getLoc();
  auto bytesType =
      MemRefType::get({ShapedType::kDynamic}, b.getI8Type(),
                      MemRefLayoutAttrInterface(), workgroupSpace(ctx));
  Value base = gpu::DynamicSharedMemoryOp::create(b, loc, bytesType);
  int64_t offset = 0;
  for (memref::AllocaOp alloca : allocas) {
    MemRefType type = alloca.getType();
    // linac-chunk allocates only static f32 tiles; anything else is not a
    // scratch tile and is left alone (the verifier of the op it feeds will
    // say what is wrong).
    if (!type.hasStaticShape() || !type.getElementType().isF32() ||
        type.getRank() != 2)
      continue;
    auto shared = MemRefType::get(type.getShape(), type.getElementType(),
                                  MemRefLayoutAttrInterface(),
                                  workgroupSpace(ctx));
    Value at = arith::ConstantIndexOp::create(b, loc, offset);
    Value view =
        memref::ViewOp::create(b, alloca.getLoc(), shared, base, at, {});
    alloca.getResult().replaceAllUsesWith(view);
    alloca.erase();
    offset += sharedTileBytes(type.getDimSize(0), type.getDimSize(1));
  }
  return offset;
}

/// Clamps every offset loaded from `cuSeqlens` into [0, T], T = dim 1 of
/// `q`, so that any content of cu_seqlens keeps the chunk loop inside the
/// tensors (begin and end in [0, T]; an end below its begin is an empty
/// loop).
void clampOffsets(gpu::GPUFuncOp kernel, Value cuSeqlens, Value q) {
  SmallVector<memref::LoadOp> loads;
  for (Operation *user : cuSeqlens.getUsers())
    if (auto load = dyn_cast<memref::LoadOp>(user);
        load && load.getMemRef() == cuSeqlens)
      loads.push_back(load);
  OpBuilder b(kernel.getContext());
  for (memref::LoadOp load : loads) {
    b.setInsertionPointAfter(load);
    Location loc = load.getLoc();
    Type type = load.getType();
    Value time = arith::IndexCastOp::create(
        b, loc, type, memref::DimOp::create(b, loc, q, 1));
    Value zero = arith::ConstantOp::create(b, loc, b.getIntegerAttr(type, 0));
    Value low = arith::MaxSIOp::create(b, loc, load.getResult(), zero);
    Value clamped = arith::MinSIOp::create(b, loc, low, time);
    load.getResult().replaceAllUsesExcept(clamped, low.getDefiningOp());
  }
}

class KernelBuilder {
public:
  KernelBuilder(ModuleOp module, func::FuncOp task, const GpuTarget &target)
      : module(module), task(task), target(target) {}

  LogicalResult run();

private:
  ModuleOp module;
  func::FuncOp task;
  const GpuTarget &target;
};

LogicalResult KernelBuilder::run() {
  MLIRContext *ctx = module.getContext();
  auto name = task->getAttrOfType<StringAttr>("linac.kernel");
  auto names = task->getAttrOfType<ArrayAttr>("linac.tensors");
  auto schedule = task->getAttrOfType<ScheduleAttr>("linac.schedule");
  if (!name || !names || !schedule || task.getNumArguments() == 0 ||
      !task.getArgumentTypes().back().isIndex() ||
      !llvm::hasSingleElement(task.getBody()))
    return task.emitOpError() << "is not a task function of linac-chunk";
  if (schedule.getVectorWidth() != 0)
    return task.emitOpError()
           << "has a CPU schedule (vector_width = "
           << schedule.getVectorWidth()
           << "); run linac-select with target=" << target.name;
  // A hand-written schedule may name any instruction; only sm_90a has
  // warpgroup MMA, and NVVM's verifier otherwise rejects the lowered kernel
  // after linac's passes succeeded (found by linac-fuzz-pipeline).
  if (!schedule.getMma().empty() && schedule.getMma() != "wgmma")
    return task.emitOpError() << "has a schedule with mma = \""
                              << schedule.getMma()
                              << "\" (expected \"wgmma\" or none)";
  if (schedule.getMma() == "wgmma" && !target.hopper)
    return task.emitOpError() << "has a wgmma schedule, but " << target.chip
                              << " has no warpgroup MMA (sm_90a only)";
  // Likewise for the chunk tile loads: TMA exists on sm_90a only.
  if (!schedule.getLoad().empty() && schedule.getLoad() != "tma" &&
      schedule.getLoad() != "cp.async")
    return task.emitOpError() << "has a schedule with load = \""
                              << schedule.getLoad()
                              << "\" (expected \"tma\", \"cp.async\" or none)";
  if (schedule.getLoad() == "tma" && !target.hopper)
    return task.emitOpError() << "has a tma schedule, but " << target.chip
                              << " has no Tensor Memory Accelerator (sm_90a "
                                 "only)";
  // Two stages run the next chunk's TMA or cp.async copies during this
  // chunk's compute; deeper pipelines and overlapped thread loads do not
  // exist.
  if (schedule.getStages() < 0 || schedule.getStages() > 2)
    return task.emitOpError() << "has a schedule with stages = "
                              << schedule.getStages()
                              << " (expected 0, 1 or 2)";
  if (schedule.getStages() == 2 && schedule.getLoad().empty())
    return task.emitOpError()
           << "has a schedule with stages = 2 but thread loads (two stages "
              "overlap the next chunk's TMA or cp.async copies with this "
              "chunk)";
  if (schedule.getLoad() == "cp.async" && schedule.getStages() != 2)
    return task.emitOpError()
           << "has a schedule with load = \"cp.async\" and stages = "
           << schedule.getStages()
           << " (the asynchronous copies run one chunk ahead: stages = 2)";
  const int64_t warps =
      schedule.getWarps() > 0 ? schedule.getWarps() : kGpuWarps;
  const int64_t threads = 32 * warps;
  if (threads > 1024)
    return task.emitOpError() << "asks for " << warps
                              << " warps; a block has at most 32";

  // Kernel arguments: the buffers, then the presence flags as i32 (an i1
  // kernel parameter has no portable size for the host to fill in).
  SmallVector<Type> types;
  for (Type type : task.getArgumentTypes().drop_back())
    types.push_back(type.isInteger(1) ? IntegerType::get(ctx, 32) : type);

  OpBuilder b = OpBuilder::atBlockEnd(module.getBody());
  Location loc = task.getLoc();
  auto gpuModule =
      gpu::GPUModuleOp::create(b, loc, (name.getValue() + "_module").str());
  b.setInsertionPointToStart(gpuModule.getBody());
  auto kernel = gpu::GPUFuncOp::create(b, loc, name.getValue(),
                                       FunctionType::get(ctx, types, {}));
  kernel->setAttr(gpu::GPUDialect::getKernelFuncAttrName(), b.getUnitAttr());
  kernel.setKnownBlockSizeAttr(
      b.getDenseI32ArrayAttr({static_cast<int32_t>(threads), 1, 1}));

  // The body: the task's, with the task index read from the block id.
  Block &entry = kernel.getBody().front();
  Block &body = task.getBody().front();
  b.setInsertionPointToStart(&entry);
  IRMapping mapping;
  for (auto [index, arg] : llvm::enumerate(body.getArguments().drop_back())) {
    Value kernelArg = entry.getArgument(index);
    if (arg.getType().isInteger(1)) {
      Value zero = arith::ConstantIntOp::create(b, loc, 0, 32);
      kernelArg = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ne,
                                        kernelArg, zero);
    }
    mapping.map(arg, kernelArg);
  }
  mapping.map(body.getArguments().back(),
              gpu::BlockIdOp::create(b, loc, gpu::Dimension::x));
  for (Operation &op : body) {
    if (isa<func::ReturnOp>(op)) {
      gpu::ReturnOp::create(b, op.getLoc());
      continue;
    }
    b.clone(op, mapping);
  }

  int64_t sharedBytes = promoteScratch(kernel);
  if (sharedBytes > target.sharedLimit) {
    std::string needed = sharedBytes >= kSharedSaturated
                             ? "more than 2^50"
                             : std::to_string(sharedBytes);
    return task.emitOpError()
           << "needs " << needed
           << " bytes of shared memory for its tiles, more than the "
           << target.sharedLimit << " bytes of " << target.chip
           << "; choose a smaller chunk_size or value_tile";
  }

  // Roles by name, for the cu_seqlens clamp and the tensor-core type.
  Value q, cuSeqlens;
  for (auto [index, attr] : llvm::enumerate(names)) {
    StringRef role = cast<StringAttr>(attr).getValue();
    if (role == "q")
      q = entry.getArgument(index);
    else if (role == "cu_seqlens")
      cuSeqlens = entry.getArgument(index);
  }
  if (cuSeqlens && q)
    clampOffsets(kernel, cuSeqlens, q);
  StringRef mma = "none";
  if (q) {
    Type element = cast<MemRefType>(q.getType()).getElementType();
    mma = element.isBF16() ? "bf16" : element.isF16() ? "f16" : "none";
  }

  for (StringRef attr :
       {"linac.kernel", "linac.tensors", "linac.mode", "linac.variant",
        "linac.schedule"})
    if (Attribute value = task->getAttr(attr))
      kernel->setAttr(attr, value);
  kernel->setAttr("linac.target", b.getStringAttr(target.name));
  kernel->setAttr("linac.mma", b.getStringAttr(mma));
  kernel->setAttr("linac.shared_bytes", b.getI64IntegerAttr(sharedBytes));

  // The host-side task counter has no use on a GPU: the runtime sizes the
  // grid from the validated shapes.
  StringRef taskName = task.getSymName();
  if (taskName.ends_with("_task"))
    if (auto count = module.lookupSymbol<func::FuncOp>(
            (taskName.drop_back(strlen("_task")) + "_tasks").str()))
      count.erase();
  task.erase();
  return success();
}

struct GpuMapPass : linac::impl::LinacGpuMapBase<GpuMapPass> {
  using LinacGpuMapBase::LinacGpuMapBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    SmallVector<func::FuncOp> tasks;
    module.walk([&](func::FuncOp func) {
      if (func->hasAttr("linac.kernel"))
        tasks.push_back(func);
    });
    if (tasks.empty())
      return;
    std::string name = target;
    if (name.empty())
      if (auto attr = module->getAttrOfType<StringAttr>("linac.target"))
        name = attr.str();
    if (name.empty()) {
      module.emitError() << "linac-gpu-map: no target; pass "
                            "target=cuda:sm_90a|cuda:sm_80 or set the "
                            "module's linac.target";
      return signalPassFailure();
    }
    GpuTarget gpu;
    std::string error;
    if (!resolveGpuTarget(name, gpu, error)) {
      module.emitError() << "linac-gpu-map: " << error;
      return signalPassFailure();
    }
    // layout = "bhtd" needs nothing here: kernels index [B, T, H, ...]
    // views with any strides, and the runtime passes a head-major tensor's
    // sizes and strides in that order (the manifest's `layout` record).

    for (func::FuncOp task : tasks)
      if (failed(KernelBuilder(module, task, gpu).run()))
        return signalPassFailure();
    module->setAttr(gpu::GPUDialect::getContainerModuleAttrName(),
                      UnitAttr::get(module.getContext()));
  }
};

} // namespace
