//===- EmitCPU.cpp - native code from the LLVM dialect --------------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// The last step of the CPU pipeline, in process: LLVM dialect -> LLVM IR ->
// the -O3 module pipeline -> the X86 backend. TOOLCHAIN.md measured why the
// IR optimizer matters: llc alone left the register tiles 40 % slower.
//
//===----------------------------------------------------------------------===//

#include "linac/Target/EmitCPU.h"

#include "linac/Dialect/Linac/IR/LinacDialect.h"

#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/Target/TargetOptions.h"
#include "llvm/TargetParser/Host.h"

#include <memory>

using namespace linac;

void linac::registerCpuCompilerDialects(mlir::DialectRegistry &registry) {
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  registry.insert<linac::LinacDialect>();
}

bool linac::emitCpuCode(mlir::ModuleOp module, const CpuTarget &target,
                        CpuEmitKind kind, llvm::raw_pwrite_stream &os,
                        std::string &error) {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();

  llvm::LLVMContext context;
  std::unique_ptr<llvm::Module> llvmModule =
      mlir::translateModuleToLLVMIR(module, context, "linac");
  if (!llvmModule) {
    error = "cannot translate the LLVM dialect to LLVM IR";
    return false;
  }

  llvm::Triple triple(llvm::sys::getDefaultTargetTriple());
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, error);
  if (!llvmTarget)
    return false;
  llvm::TargetOptions options;
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, target.llvmCpu, target.llvmFeatures, options,
      llvm::Reloc::PIC_, std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine) {
    error = "cannot create an LLVM target machine for cpu '" +
            target.llvmCpu + "'";
    return false;
  }
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(machine->createDataLayout());
  // Every function gets the CPU and its features, so the inliner and the
  // vectorizer see the same target as the code generator.
  for (llvm::Function &function : *llvmModule) {
    if (function.isDeclaration())
      continue;
    function.addFnAttr("target-cpu", target.llvmCpu);
    if (!target.llvmFeatures.empty())
      function.addFnAttr("target-features", target.llvmFeatures);
  }

  {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder builder(machine.get());
    builder.registerModuleAnalyses(mam);
    builder.registerCGSCCAnalyses(cgam);
    builder.registerFunctionAnalyses(fam);
    builder.registerLoopAnalyses(lam);
    builder.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::ModulePassManager passes =
        builder.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O3);
    passes.run(*llvmModule, mam);
  }

  if (kind == CpuEmitKind::LLVMIR) {
    llvmModule->print(os, nullptr);
    return true;
  }
  llvm::legacy::PassManager codegen;
  auto fileType = kind == CpuEmitKind::Assembly
                      ? llvm::CodeGenFileType::AssemblyFile
                      : llvm::CodeGenFileType::ObjectFile;
  if (machine->addPassesToEmitFile(codegen, os, nullptr, fileType)) {
    error = "the LLVM target cannot emit this file type";
    return false;
  }
  codegen.run(*llvmModule);
  return true;
}

bool linac::linkSharedLibrary(llvm::StringRef object, llvm::StringRef output,
                              std::string &error) {
  // The linker found at configure time (LLVM 22's lld), never PATH.
  llvm::StringRef linker = LINAC_LLD_PATH;
  // Undefined symbols are allowed: LLVM may turn zeroing loops into memset
  // and copies into memcpy, which the C library of the loading process
  // provides.
  // compiler-rt's builtins provide the soft conversions LLVM may call
  // (__truncsfbf2 for bf16 outputs on CPUs without AVX512-BF16).
  llvm::SmallVector<llvm::StringRef> args = {linker, "-shared", "-o", output,
                                             object, LINAC_BUILTINS_PATH};
  std::string message;
  int status = llvm::sys::ExecuteAndWait(linker, args, std::nullopt, {}, 0, 0,
                                         &message);
  if (status != 0) {
    error = ("cannot link '" + output + "' with " + linker + ": " +
             (message.empty() ? "exit status " + std::to_string(status)
                              : message))
                .str();
    return false;
  }
  return true;
}
