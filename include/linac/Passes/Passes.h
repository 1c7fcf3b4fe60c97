//===- Passes.h - linac passes ----------------------------------*- C++ -*-===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_PASSES_PASSES_H
#define LINAC_PASSES_PASSES_H

#include "mlir/Pass/Pass.h"

namespace linac {

#define GEN_PASS_DECL
#include "linac/Passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "linac/Passes/Passes.h.inc"

} // namespace linac

#endif // LINAC_PASSES_PASSES_H
