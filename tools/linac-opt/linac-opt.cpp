//===- linac-opt.cpp - the linac optimizer driver -------------------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// mlir-opt with the linac dialect and passes. It registers every upstream
// dialect, extension and pass plus the GPU-to-LLVM-IR translations, because
// the backends lower through linalg, vector, gpu, nvgpu and nvvm and
// gpu-module-to-binary needs the translations; with them any stage of a linac
// pipeline can be reproduced from the command line.
//
//===----------------------------------------------------------------------===//

#include "linac/Dialect/Linac/IR/LinacDialect.h"
#include "linac/Passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Target/LLVMIR/Dialect/All.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  linac::registerLinacPasses();
  linac::registerLinacPipelines();

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::registerAllGPUToLLVMIRTranslations(registry);
  registry.insert<linac::LinacDialect>();

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "linac optimizer driver\n", registry));
}
