//===- SpecToMLIR.h - build linac IR from a spec ----------------*- C++ -*-===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#ifndef LINAC_SPEC_SPECTOMLIR_H
#define LINAC_SPEC_SPECTOMLIR_H

#include "linac/Spec/Spec.h"

#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

namespace linac::spec {

/// Builds a module with one function per enabled mode, `<name>_prefill` and
/// `<name>_decode`, each holding one linac.recurrence that computes the
/// spec's variant on tensors. Head counts the spec leaves open and the batch
/// and time extents are dynamic. Every argument carries a `linac.arg` name
/// ("q", "k", "g", "h0", ...) for the header and manifest generators, and the
/// module records the spec's target, cpu and layout as `linac.*` attributes.
/// The caller's context must have the linac and func dialects loaded or
/// registered. Returns null and emits an MLIR diagnostic on failure (the op
/// verifier rejects something the spec parser let through).
mlir::OwningOpRef<mlir::ModuleOp> buildModule(const AttentionSpec &spec,
                                              llvm::StringRef name,
                                              mlir::MLIRContext &context);

} // namespace linac::spec

#endif // LINAC_SPEC_SPECTOMLIR_H
