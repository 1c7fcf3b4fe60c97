//===- LinacDialect.cpp - linac dialect -----------------------------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#include "linac/Dialect/Linac/IR/LinacDialect.h"
#include "linac/Dialect/Linac/IR/LinacOps.h"

#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace linac;

#include "linac/Dialect/Linac/IR/LinacDialect.cpp.inc"
#include "linac/Dialect/Linac/IR/LinacEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "linac/Dialect/Linac/IR/LinacAttrs.cpp.inc"

void LinacDialect::initialize() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "linac/Dialect/Linac/IR/LinacAttrs.cpp.inc"
      >();
  addOperations<
#define GET_OP_LIST
#include "linac/Dialect/Linac/IR/LinacOps.cpp.inc"
      >();
}
