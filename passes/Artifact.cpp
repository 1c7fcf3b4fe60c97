//===- Artifact.cpp - manifests, headers and CPU targets ------------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#include "linac/Target/Artifact.h"

#include "linac/Dialect/Linac/IR/LinacOps.h"
#include "linac/runtime/linac.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;
using namespace linac;

namespace {
/// Features the manifest may list; the runtime checks each with
/// __builtin_cpu_supports before it runs a kernel.
constexpr const char *kCheckedFeatures[] = {
    "avx512f", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma", "f16c"};
} // namespace

bool linac::resolveCpuTarget(StringRef name, CpuTarget &target,
                             std::string &error) {
  target.name = name.str();
  SmallVector<std::string> features;
  if (name == "native") {
    target.llvmCpu = llvm::sys::getHostCPUName().str();
    llvm::StringMap<bool> host = llvm::sys::getHostCPUFeatures();
    std::vector<std::string> llvmFeatures;
    for (auto &entry : host)
      llvmFeatures.push_back((entry.second ? "+" : "-") + entry.getKey().str());
    llvm::sort(llvmFeatures);
    target.llvmFeatures = llvm::join(llvmFeatures, ",");
    for (const char *feature : kCheckedFeatures)
      if (host.lookup(feature))
        features.push_back(feature);
    target.vectorWidth = host.lookup("avx512f") ? 16 : 8;
  } else if (name == "x86-64-v4") {
    target.llvmCpu = "x86-64-v4";
    // 512-bit vectors: x86-64-v4 alone lets LLVM prefer 256-bit ones.
    target.llvmFeatures = "+prefer-no-gather,-prefer-256-bit";
    features = {"avx512f", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma"};
    target.vectorWidth = 16;
  } else if (name == "x86-64-v3") {
    target.llvmCpu = "x86-64-v3";
    features = {"avx2", "fma", "f16c"};
    target.vectorWidth = 8;
  } else {
    error = ("unknown cpu '" + name +
             "' (expected native, x86-64-v3 or x86-64-v4)")
                .str();
    return false;
  }
  target.manifestList = features.empty() ? "-" : llvm::join(features, ",");
  return true;
}

bool linac::isHeadMajor(ModuleOp module, StringRef name) {
  auto layout =
      module ? module->getAttrOfType<StringAttr>("linac.layout") : StringAttr();
  if (!layout || layout.getValue() != "bhtd")
    return false;
  return llvm::is_contained(
      ArrayRef<StringRef>{"q", "k", "v", "g", "beta", "a", "b", "o"}, name);
}

FailureOr<KernelInterface>
linac::getKernelInterface(FunctionOpInterface task) {
  auto name = task->getAttrOfType<StringAttr>("linac.kernel");
  auto names = task->getAttrOfType<ArrayAttr>("linac.tensors");
  auto mode = task->getAttrOfType<StringAttr>("linac.mode");
  if (!name || !names || !mode)
    return failure();
  auto variant = task->getAttrOfType<StringAttr>("linac.variant");
  KernelInterface kernel;
  kernel.name = name.str();
  kernel.mode = mode.str();
  kernel.variant = variant ? variant.str() : "custom";
  const bool decode = kernel.mode == "decode";
  auto named = [&](StringRef role) {
    return llvm::any_of(names, [&](Attribute attr) {
      return cast<StringAttr>(attr).getValue() == role;
    });
  };
  kernel.statePool = named("state_indices");
  const bool varlen = named("cu_seqlens");
  // Per tensor, the role symbol of each dimension; per symbol, a static
  // size that some tensor gives it.
  SmallVector<SmallVector<const char *, 4>> roles;
  llvm::StringMap<int64_t> fixed;
  // Without cu_seqlens the sequences are the batch: S and B are one size.
  auto sizeClass = [&](StringRef symbol) -> StringRef {
    return !varlen && symbol == "S" ? "B" : symbol;
  };
  for (auto [index, attr] : llvm::enumerate(names)) {
    KernelTensor tensor;
    tensor.name = cast<StringAttr>(attr).str();
    auto type = cast<MemRefType>(task.getArgumentTypes()[index]);
    Type element = type.getElementType();
    tensor.dtype = element.isF32()    ? "f32"
                   : element.isF16()  ? "f16"
                   : element.isBF16() ? "bf16"
                   : element.isInteger(32) ? "i32"
                                           : "i64";
    tensor.output = tensor.name == "o" || tensor.name == "ht";
    tensor.optional = !decode && !kernel.statePool &&
                      (tensor.name == "h0" || tensor.name == "ht");
    // The symbol of each dynamic dimension, by role (SEMANTICS.md).
    SmallVector<const char *, 4> symbols;
    if (tensor.name == "q" || tensor.name == "k")
      symbols = {"B", "T", "H", "K"};
    else if (tensor.name == "h0" || tensor.name == "ht")
      symbols = {kernel.statePool ? "P" : "S", "HV", "K", "V"};
    else if (tensor.name == "cu_seqlens")
      symbols = {"N1"};
    else if (tensor.name == "state_indices")
      symbols = {"S"};
    else if (tensor.name == "u")
      symbols = {"HV", "K"};
    else
      symbols = {"B", "T", "HV", "D"};
    for (int64_t d = 0; d < type.getRank(); ++d)
      if (!type.isDynamicDim(d))
        fixed.try_emplace(sizeClass(symbols[d]), type.getDimSize(d));
    roles.push_back(symbols);
    kernel.tensors.push_back(std::move(tensor));
  }
  // A size that one tensor fixes is written for every tensor of that role:
  // validation relates tensors through the symbols only, so a static size
  // beside the symbol (h0 [2, ...] with q [B, ...]) would let B = 3 through
  // to a kernel that indexes h0 with sequences 0..2. (The op verifier has
  // checked that the static sizes agree, and that with cu_seqlens of
  // run-time length no per-sequence size is static.) cu_seqlens is written
  // as it is: the parser takes only N1 there.
  for (auto [index, tensor] : llvm::enumerate(kernel.tensors)) {
    auto type = cast<MemRefType>(task.getArgumentTypes()[index]);
    for (int64_t d = 0; d < type.getRank(); ++d) {
      StringRef symbol = roles[index][d];
      auto known = fixed.find(sizeClass(symbol));
      if (!type.isDynamicDim(d))
        tensor.dims.push_back(std::to_string(type.getDimSize(d)));
      else if (known != fixed.end() && symbol != "N1")
        tensor.dims.push_back(std::to_string(known->second));
      else
        tensor.dims.push_back(symbol.str());
    }
    // Head-major tensors are listed in their stored order.
    if (isHeadMajor(task->getParentOfType<ModuleOp>(), tensor.name) &&
        tensor.dims.size() >= 3) {
      std::swap(tensor.dims[1], tensor.dims[2]);
      kernel.headMajor.push_back(tensor.name);
    }
  }
  kernel.stateAlias = decode || kernel.statePool;
  if (auto schedule = task->getAttrOfType<ScheduleAttr>("linac.schedule")) {
    kernel.algorithm = stringifyAlgorithm(schedule.getAlgorithm()).str();
    kernel.chunkSize = schedule.getAlgorithm() == Algorithm::Recurrent
                           ? 0
                           : schedule.getChunkSize();
  }
  return kernel;
}

std::vector<KernelInterface> linac::getKernelInterfaces(ModuleOp module) {
  std::vector<KernelInterface> kernels;
  module.walk([&](func::FuncOp func) {
    if (auto kernel = getKernelInterface(func); succeeded(kernel))
      kernels.push_back(std::move(*kernel));
  });
  return kernels;
}

void linac::writeManifestTensors(llvm::raw_ostream &os,
                                 const KernelInterface &kernel) {
  if (!kernel.algorithm.empty())
    os << "schedule " << kernel.algorithm << " " << kernel.chunkSize << "\n";
  for (const KernelTensor &tensor : kernel.tensors) {
    os << "tensor " << tensor.name << " " << (tensor.output ? "out" : "in")
       << " " << (tensor.optional ? "optional" : "required") << " "
       << tensor.dtype;
    for (const std::string &dim : tensor.dims)
      os << " " << dim;
    os << "\n";
  }
  if (!kernel.headMajor.empty())
    os << "layout bhtd " << llvm::join(kernel.headMajor, " ") << "\n";
  if (kernel.stateAlias)
    os << "alias ht h0\n";
}

std::string linac::buildManifest(const KernelInterface &kernel,
                                 const CpuTarget &target) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "linac-manifest " << LINAC_MANIFEST_VERSION << "\n";
  os << "compiler " << LINAC_VERSION << "\n";
  os << "kernel " << kernel.name << "\n";
  os << "target cpu " << target.name << " " << target.manifestList << "\n";
  os << "mode " << kernel.mode << "\n";
  os << "variant " << kernel.variant << "\n";
  writeManifestTensors(os, kernel);
  return text;
}

std::string linac::buildHeader(ArrayRef<KernelInterface> kernels,
                               const CpuTarget &target, StringRef guard) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "/* Generated by linacc " << LINAC_VERSION
     << "; do not edit. Target: cpu " << target.name << " ("
     << target.manifestList << ").\n"
     << " *\n"
     << " * Link the object that came with this header and liblinac_runtime\n"
     << " * (CMake: find_package(linac) and target_link_libraries(... "
        "linac::runtime)).\n"
     << " * Tensors are linac_tensor views (data, dtype, rank, shape, strides "
        "in\n"
     << " * elements; the last stride must be 1). Every wrapper checks that this\n"
     << " * CPU has the features the object was compiled for, validates its\n"
     << " * tensors against the kernel's manifest and returns LINAC_OK or an\n"
     << " * error code with a message in *err (which may be NULL); it never\n"
     << " * writes outside the given tensors. `pool` may be NULL (the calling\n"
     << " * thread does all the work). */\n";
  os << "#ifndef " << guard << "\n#define " << guard << "\n\n";
  os << "#include <linac/runtime/linac.h>\n\n";
  os << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  for (const KernelInterface &kernel : kernels) {
    os << "/* " << kernel.name << ": " << kernel.variant << ", " << kernel.mode
       << ".\n";
    for (const KernelTensor &tensor : kernel.tensors) {
      os << " *   " << tensor.name << " "
         << (tensor.output ? "(out" : "(in") << ", "
         << (tensor.optional ? "optional, may be NULL" : "required") << ") "
         << tensor.dtype << " [" << llvm::join(tensor.dims, ", ") << "]\n";
    }
    if (kernel.statePool)
      os << " *   h0 and ht are a pool of P states; sequence s reads slot\n"
         << " *   state_indices[s] of h0 and writes that slot of ht, and no "
            "other;\n"
         << " *   pass ht = h0 to update the pool in place. An index outside "
            "[0, P)\n"
         << " *   (-1 for a padding row) reads and writes no slot and zeroes "
            "the\n"
         << " *   sequence's rows of o; validation rejects indices >= P and "
            "repeats.\n";
    else if (kernel.stateAlias)
      os << " *   ht may be the same tensor as h0: the state is updated in "
            "place.\n";
    os << " * B batch, T tokens, H query/key heads, HV value heads (a "
          "multiple of H),\n"
       << " * S sequences (B, or N with cu_seqlens), N1 = N + 1"
       << (kernel.statePool ? ", P pool slots" : "") << ". */\n";
    os << "extern const char " << kernel.name << "_manifest[];\n";
    os << "void " << kernel.name
       << "_kernel(const linac_tensor *const *tensors,\n"
       << "    linac_parallel_for_fn parallel_for, void *pool);\n\n";
    os << "static inline int32_t " << kernel.name << "(";
    for (const KernelTensor &tensor : kernel.tensors)
      os << (tensor.output ? "linac_tensor *" : "const linac_tensor *")
         << tensor.name << ", ";
    os << "linac_pool *pool, linac_error *err) {\n";
    os << "  const linac_tensor *tensors[] = {";
    llvm::interleaveComma(kernel.tensors, os,
                          [&](const KernelTensor &t) { os << t.name; });
    os << "};\n";
    os << "  int32_t status = linac_check_host(" << kernel.name
       << "_manifest, err);\n";
    os << "  if (status != LINAC_OK)\n    return status;\n";
    os << "  status = linac_validate(" << kernel.name << "_manifest, tensors, "
       << kernel.tensors.size() << ", err);\n";
    os << "  if (status != LINAC_OK)\n    return status;\n";
    os << "  " << kernel.name
       << "_kernel(tensors, linac_pool_parallel_for, pool);\n";
    os << "  return LINAC_OK;\n}\n\n";
  }
  os << "#ifdef __cplusplus\n} /* extern \"C\" */\n#endif\n\n";
  os << "#endif /* " << guard << " */\n";
  return text;
}
