//===- Fuzz_spec.cpp - libFuzzer target for the spec parser ---------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// Any bytes must give either a spec or at least one diagnostic with a
// message, without crashing, hanging or touching memory out of bounds.
//
//===----------------------------------------------------------------------===//

#include "linac/Spec/Spec.h"

#include <cstdlib>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  std::vector<linac::spec::Diagnostic> diagnostics;
  std::optional<linac::spec::AttentionSpec> spec =
      linac::spec::parseSpec(text, "fuzz.toml", diagnostics);
  if (!spec && diagnostics.empty())
    abort(); // A rejection must say why.
  for (const linac::spec::Diagnostic &diagnostic : diagnostics)
    if (diagnostic.message.empty() || diagnostic.str().empty())
      abort();
  if (spec && (spec->headDimK < 1 || spec->headDimV < 1))
    abort(); // Accepted specs satisfy the documented ranges.
  return 0;
}
