//===- EmitCUDA.cpp - CUDA kernels, manifests and artifacts ---------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#include "linac/Target/EmitCUDA.h"

#include "linac/Dialect/Linac/IR/LinacOps.h"
#include "linac/Passes/Passes.h"
#include "linac/Target/EmitCPU.h"
#include "linac/runtime/linac.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"

using namespace mlir;
using namespace linac;

FailureOr<std::vector<CudaKernel>> linac::getCudaKernels(ModuleOp module) {
  std::vector<CudaKernel> kernels;
  WalkResult result = module.walk([&](gpu::GPUFuncOp func) {
    if (!func->hasAttr("linac.kernel"))
      return WalkResult::advance();
    auto interface =
        getKernelInterface(cast<FunctionOpInterface>(func.getOperation()));
    auto shared = func->getAttrOfType<IntegerAttr>("linac.shared_bytes");
    auto schedule = func->getAttrOfType<ScheduleAttr>("linac.schedule");
    auto blockSize = func.getKnownBlockSizeAttr();
    if (failed(interface) || !shared || !schedule || !blockSize ||
        blockSize.size() != 3) {
      func.emitOpError() << "lacks the launch metadata of linac-gpu-map";
      return WalkResult::interrupt();
    }
    CudaKernel kernel;
    kernel.interface = std::move(*interface);
    kernel.threads = blockSize[0];
    kernel.sharedBytes = shared.getInt();
    int64_t valueDim = 0;
    for (auto [index, tensor] : llvm::enumerate(kernel.interface.tensors))
      if (tensor.name == "v")
        valueDim = cast<MemRefType>(func.getArgumentTypes()[index])
                       .getDimSize(3);
    int64_t tile = schedule.getValueTile() > 0 ? schedule.getValueTile()
                                               : valueDim;
    kernel.valueTiles = tile > 0 ? valueDim / tile : 1;
    // The TMA loads of linac-lower-chunk-gpu: a flag and a tensor map per
    // tensor, the last arguments.
    if (auto records = func->getAttrOfType<ArrayAttr>("linac.tma")) {
      for (Attribute record : records) {
        auto dict = dyn_cast<DictionaryAttr>(record);
        auto name = dict ? dict.getAs<StringAttr>("tensor") : StringAttr();
        auto box = dict ? dict.getAs<DenseI64ArrayAttr>("box")
                        : DenseI64ArrayAttr();
        if (!name || !box) {
          func.emitOpError() << "has a malformed linac.tma record " << record;
          return WalkResult::interrupt();
        }
        kernel.tma.push_back(
            {name.str(), std::vector<int64_t>(box.asArrayRef().begin(),
                                              box.asArrayRef().end())});
      }
    }
    const size_t tmaArgs = 2 * kernel.tma.size();
    // The presence flags follow the tensors: h0 then ht, when present
    // (linac-chunk's order).
    if (func.getNumArguments() > kernel.interface.tensors.size() + tmaArgs)
      for (StringRef role : {"h0", "ht"})
        for (const KernelTensor &tensor : kernel.interface.tensors)
          if (tensor.name == role)
            kernel.flags.push_back(role.str());
    if (kernel.interface.tensors.size() + kernel.flags.size() + tmaArgs !=
        func.getNumArguments()) {
      func.emitOpError() << "has " << func.getNumArguments()
                         << " arguments; expected one per tensor, one per "
                            "optional state and two per TMA tensor";
      return WalkResult::interrupt();
    }
    kernels.push_back(std::move(kernel));
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    return failure();
  return kernels;
}

LogicalResult
linac::runCudaStages(ModuleOp module,
                     ArrayRef<std::pair<std::string, std::string>> stages,
                     size_t count, std::vector<CudaKernel> &kernels,
                     bool &inputError) {
  inputError = false;
  // The interfaces are read after linac-lower-chunk-gpu: the stages run in
  // two parts, split there.
  size_t interfaceStages = 0;
  while (interfaceStages < stages.size() &&
         stages[interfaceStages].first != "linac-lower-chunk-gpu")
    ++interfaceStages;
  interfaceStages = std::min(interfaceStages + 1, stages.size());
  count = std::min(count, stages.size());
  for (auto [begin, end] :
       {std::pair<size_t, size_t>{0, std::min(count, interfaceStages)},
        std::pair<size_t, size_t>{interfaceStages, count}}) {
    if (begin >= end)
      continue;
    PassManager pm(module.getContext());
    for (size_t i = begin; i < end; ++i)
      if (failed(parsePassPipeline(stages[i].second, pm)))
        return module.emitError()
               << "internal error: bad pipeline '" << stages[i].second << "'";
    // A linac pass that fails has said why on the input; invalid IR after a
    // pass, or a failure in the upstream lowering or in ptxas, is the
    // compiler's fault.
    std::string culprit;
    switch (runPipeline(pm, module, &culprit)) {
    case PipelineFault::None:
      break;
    case PipelineFault::Input:
      inputError = true;
      return failure();
    case PipelineFault::Internal:
      return module.emitError() << "internal error in " << culprit;
    }
    if (failed(verify(module)))
      return module.emitError()
             << "internal error: the CUDA pipeline produced invalid IR";
    if (end == interfaceStages) {
      auto found = getCudaKernels(module);
      if (failed(found))
        return failure();
      kernels = std::move(*found);
    }
  }
  return success();
}

std::string linac::buildCudaManifest(const CudaKernel &kernel,
                                     const GpuTarget &target) {
  const KernelInterface &k = kernel.interface;
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "linac-manifest " << LINAC_MANIFEST_VERSION << "\n";
  os << "compiler " << LINAC_VERSION << "\n";
  os << "kernel " << k.name << "\n";
  os << "target cuda " << target.chip << " -\n";
  os << "mode " << k.mode << "\n";
  os << "variant " << k.variant << "\n";
  os << "launch " << kernel.threads << " " << kernel.sharedBytes << " "
     << kernel.valueTiles << " "
     << (kernel.flags.empty() ? std::string("-")
                              : llvm::join(kernel.flags, ","))
     << "\n";
  writeManifestTensors(os, k);
  for (const CudaKernel::TmaTensor &tma : kernel.tma) {
    os << "tma " << tma.tensor;
    for (int64_t extent : tma.box)
      os << " " << extent;
    os << "\n";
  }
  return text;
}

std::string linac::buildCudaHeader(ArrayRef<CudaKernel> kernels,
                                   const GpuTarget &target, StringRef guard) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "/* Generated by linacc " << LINAC_VERSION << "; do not edit. Target: "
     << target.name << ".\n"
     << " *\n"
     << " * Link the object that came with this header and liblinac_runtime\n"
     << " * (CMake: find_package(linac) and target_link_libraries(... "
        "linac::runtime)).\n"
     << " * The runtime opens libcuda.so.1 at run time; nothing here links "
        "CUDA.\n"
     << " * NAME_load() loads a kernel into the current CUDA context (or the\n"
     << " * primary context of device 0); free it with "
        "linac_kernel_destroy.\n"
     << " * NAME() validates device tensors against the manifest and "
        "launches\n"
     << " * on `stream` (a CUstream; NULL is the default stream), returning\n"
     << " * LINAC_OK or an error code with a message in *err. */\n";
  os << "#ifndef " << guard << "\n#define " << guard << "\n\n";
  os << "#include <linac/runtime/linac.h>\n\n";
  os << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  for (const CudaKernel &kernel : kernels) {
    const KernelInterface &k = kernel.interface;
    os << "/* " << k.name << ": " << k.variant << ", " << k.mode << ".\n";
    for (const KernelTensor &tensor : k.tensors)
      os << " *   " << tensor.name << " "
         << (tensor.output ? "(out" : "(in") << ", "
         << (tensor.optional ? "optional, may be NULL" : "required") << ") "
         << tensor.dtype << " [" << llvm::join(tensor.dims, ", ") << "]\n";
    if (k.stateAlias)
      os << " *   ht may be the same tensor as h0: the state is updated in "
            "place.\n";
    os << " * All tensors live in device memory. */\n";
    os << "extern const char " << k.name << "_manifest[];\n";
    os << "extern const unsigned char " << k.name << "_cubin[];\n";
    os << "extern const uint64_t " << k.name << "_cubin_size;\n\n";
    os << "static inline linac_kernel *" << k.name
       << "_load(linac_error *err) {\n"
       << "  return linac_cuda_kernel_create(" << k.name << "_manifest, "
       << k.name << "_cubin, " << k.name << "_cubin_size, err);\n}\n\n";
    os << "static inline int32_t " << k.name
       << "(const linac_kernel *kernel, ";
    for (const KernelTensor &tensor : k.tensors)
      os << (tensor.output ? "linac_tensor *" : "const linac_tensor *")
         << tensor.name << ", ";
    os << "void *stream, linac_error *err) {\n";
    os << "  const linac_tensor *tensors[] = {";
    llvm::interleaveComma(k.tensors, os,
                          [&](const KernelTensor &t) { os << t.name; });
    os << "};\n";
    os << "  return linac_kernel_launch_cuda(kernel, tensors, "
       << k.tensors.size() << ", stream, err);\n}\n\n";
  }
  os << "#ifdef __cplusplus\n} /* extern \"C\" */\n#endif\n\n";
  os << "#endif /* " << guard << " */\n";
  return text;
}

FailureOr<std::vector<std::pair<std::string, std::string>>>
linac::getGpuObjects(ModuleOp module) {
  std::vector<std::pair<std::string, std::string>> objects;
  WalkResult result = module.walk([&](gpu::BinaryOp binary) {
    auto list = binary.getObjects();
    auto object =
        list.size() == 1 ? dyn_cast<gpu::ObjectAttr>(list[0]) : nullptr;
    if (!object) {
      binary.emitOpError() << "must hold exactly one object";
      return WalkResult::interrupt();
    }
    StringRef name = binary.getSymName();
    name.consume_back("_module");
    objects.push_back({name.str(), object.getObject().getValue().str()});
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    return failure();
  return objects;
}

bool linac::emitCudaObject(
    MLIRContext &context, ArrayRef<CudaKernel> kernels,
    ArrayRef<std::pair<std::string, std::string>> cubins,
    const GpuTarget &target, llvm::raw_pwrite_stream &os, std::string &error) {
  OpBuilder b(&context);
  Location loc = b.getUnknownLoc();
  OwningOpRef<ModuleOp> module = ModuleOp::create(loc);
  b.setInsertionPointToEnd(module->getBody());
  auto bytes = [&](StringRef name, StringRef data, bool nul,
                   uint64_t alignment) {
    std::string text = data.str();
    if (nul)
      text.push_back('\0');
    auto global = LLVM::GlobalOp::create(
        b, loc, LLVM::LLVMArrayType::get(b.getI8Type(), text.size()),
        /*isConstant=*/true, LLVM::Linkage::External, name,
        b.getStringAttr(text));
    global.setAlignment(alignment);
  };
  for (const CudaKernel &kernel : kernels) {
    const std::string &name = kernel.interface.name;
    auto cubin = llvm::find_if(cubins, [&](auto &entry) {
      return entry.first == name;
    });
    if (cubin == cubins.end()) {
      error = "no cubin for kernel '" + name + "'";
      return false;
    }
    bytes(name + "_manifest", buildCudaManifest(kernel, target), true, 1);
    // cuModuleLoadData reads the ELF image in place; keep it aligned for
    // its 8-byte fields.
    bytes(name + "_cubin", cubin->second, false, 16);
    LLVM::GlobalOp::create(b, loc, b.getI64Type(), /*isConstant=*/true,
                           LLVM::Linkage::External, name + "_cubin_size",
                           b.getI64IntegerAttr(cubin->second.size()));
  }
  // Data only, so any x86-64 CPU will do; no features, nothing to check.
  CpuTarget host;
  host.name = "x86-64";
  host.llvmCpu = "x86-64";
  host.manifestList = "-";
  return emitCpuCode(*module, host, CpuEmitKind::Object, os, error);
}

void linac::registerCudaCompilerDialects(DialectRegistry &registry) {
  registerAllGPUToLLVMIRTranslations(registry);
}
