//===- Fuzz_mlir.cpp - libFuzzer target for the .mlir entry ---------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// linacc and linac_compile accept linac IR as text. Any bytes must either be
// rejected with at least one error diagnostic, or parse into a module that
// verifies and goes through the front of the pipeline (materialize-defaults,
// canonicalize, linac-select; and select without canonicalize, which would
// erase unused ops) to IR that still verifies and still parses back after
// printing. Crashes, hangs, sanitizer reports and silent
// rejections all fail the run.
//
// The dialects registered are the ones linac IR uses up to the chunked
// form (func, arith, tensor, memref, scf, vector, math and linac), so that
// the fuzzer spends its time in linac's parser hooks, verifiers, folders
// and passes rather than in the rest of upstream MLIR. Diagnostics are
// counted, never printed.
//
//===----------------------------------------------------------------------===//

#include "linac/Dialect/Linac/IR/LinacDialect.h"
#include "linac/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/Support/raw_ostream.h"

#include <cstdlib>

namespace {

mlir::DialectRegistry &registry() {
  static mlir::DialectRegistry *registry = [] {
    auto *r = new mlir::DialectRegistry;
    r->insert<linac::LinacDialect, mlir::arith::ArithDialect,
              mlir::func::FuncDialect, mlir::math::MathDialect,
              mlir::memref::MemRefDialect, mlir::scf::SCFDialect,
              mlir::tensor::TensorDialect, mlir::vector::VectorDialect>();
    return r;
  }();
  return *registry;
}

/// A context whose diagnostics are counted and dropped.
struct Harness {
  mlir::MLIRContext context{registry(), mlir::MLIRContext::Threading::DISABLED};
  int errors = 0;
  mlir::ScopedDiagnosticHandler handler{
      &context, [this](mlir::Diagnostic &diagnostic) {
        if (diagnostic.getSeverity() == mlir::DiagnosticSeverity::Error) {
          // An error must say something.
          if (diagnostic.str().empty())
            abort();
          ++errors;
        }
        return mlir::success();
      }};
  Harness() {
    context.printOpOnDiagnostic(false);
    context.printStackTraceOnDiagnostic(false);
  }
};

} // namespace

/// linac's code is instrumented and libMLIR.so is not, yet both inline
/// LLVM's BumpPtrAllocator and share its slabs (a context's uniquer): the
/// instrumented copy poisons a new slab's free space, the uninstrumented one
/// hands that space out without unpoisoning it, and ASan then reports
/// MLIR's own writes into it. Manual poisoning is off; every heap block
/// still has its redzones.
extern "C" const char *__asan_default_options() {
  return "allow_user_poisoning=0";
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  // MLIR's lexer stops at a NUL one past the end of its buffer, which
  // libFuzzer's exactly sized input lacks (the tools read files into
  // NUL-terminated buffers; linac_compile copies its text for this reason).
  std::string text(reinterpret_cast<const char *>(data), size);
  // A fresh context per input: uniqued attributes and types would otherwise
  // pile up, and one input could change how the next one parses.
  Harness harness;
  mlir::ParserConfig config(&harness.context);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(text, config, "fuzz.mlir");
  if (!module) {
    if (harness.errors == 0)
      abort(); // A rejection must say why.
    return 0;
  }
  if (mlir::failed(mlir::verify(*module))) {
    if (harness.errors == 0)
      abort();
    return 0;
  }

  // linac-select also runs on a copy before canonicalization: canonicalize
  // erases recurrences whose results are unused, as mutated inputs' often
  // are, and select would then never see them.
  mlir::OwningOpRef<mlir::ModuleOp> copy = module->clone();
  mlir::PassManager selectOnly(&harness.context);
  selectOnly.addPass(linac::createLinacMaterializeDefaults());
  selectOnly.addPass(linac::createLinacSelect());
  int before = harness.errors;
  if (mlir::failed(selectOnly.run(*copy)) && harness.errors == before)
    abort();

  mlir::PassManager pm(&harness.context);
  pm.addPass(linac::createLinacMaterializeDefaults());
  pm.addPass(mlir::createCanonicalizerPass());
  pm.addPass(linac::createLinacSelect());
  before = harness.errors;
  if (mlir::failed(pm.run(*module))) {
    if (harness.errors == before)
      abort();
    return 0;
  }
  // The pass manager verified after each pass; a schedule or a
  // canonicalized op that prints to something the parser rejects is a
  // printer/parser bug.
  std::string printed;
  llvm::raw_string_ostream os(printed);
  module->print(os);
  os.flush();
  Harness again;
  mlir::ParserConfig againConfig(&again.context);
  mlir::OwningOpRef<mlir::ModuleOp> reparsed =
      mlir::parseSourceString<mlir::ModuleOp>(printed, againConfig,
                                              "printed.mlir");
  if (!reparsed || mlir::failed(mlir::verify(*reparsed)))
    abort();
  return 0;
}
