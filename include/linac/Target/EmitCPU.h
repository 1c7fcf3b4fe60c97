//===- EmitCPU.h - native code from the LLVM dialect ------------*- C++ -*-===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_TARGET_EMITCPU_H
#define LINAC_TARGET_EMITCPU_H

#include "linac/Target/Artifact.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "llvm/Support/raw_ostream.h"

#include <string>

namespace linac {

enum class CpuEmitKind { LLVMIR, Assembly, Object };

/// Everything a compiler driver's context needs to run the CPU pipeline and
/// translate its result: every upstream dialect and extension, the LLVM IR
/// translations, the linac dialect.
void registerCpuCompilerDialects(mlir::DialectRegistry &registry);

/// Translates a module in the LLVM dialect to LLVM IR, optimizes it at -O3
/// for `target` and writes IR, assembly or an ELF object, all in process
/// (LLVM's TargetMachine). Returns false with a message in `error`.
bool emitCpuCode(mlir::ModuleOp module, const CpuTarget &target,
                 CpuEmitKind kind, llvm::raw_pwrite_stream &os,
                 std::string &error);

/// Links an object file into a shared library with ld.lld.
bool linkSharedLibrary(llvm::StringRef object, llvm::StringRef output,
                       std::string &error);

} // namespace linac

#endif // LINAC_TARGET_EMITCPU_H
