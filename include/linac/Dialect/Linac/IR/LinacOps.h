//===- LinacOps.h - linac dialect operations --------------------*- C++ -*-===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_DIALECT_LINAC_IR_LINACOPS_H
#define LINAC_DIALECT_LINAC_IR_LINACOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectImplementation.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "linac/Dialect/Linac/IR/LinacDialect.h"

#include "linac/Dialect/Linac/IR/LinacEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "linac/Dialect/Linac/IR/LinacAttrs.h.inc"

#define GET_OP_CLASSES
#include "linac/Dialect/Linac/IR/LinacOps.h.inc"

#endif // LINAC_DIALECT_LINAC_IR_LINACOPS_H
