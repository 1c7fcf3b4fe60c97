//===- LinacDialect.h - linac dialect ---------------------------*- C++ -*-===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_DIALECT_LINAC_IR_LINACDIALECT_H
#define LINAC_DIALECT_LINAC_IR_LINACDIALECT_H

#include "mlir/IR/Dialect.h"

#include "linac/Dialect/Linac/IR/LinacDialect.h.inc"

#endif // LINAC_DIALECT_LINAC_IR_LINACDIALECT_H
