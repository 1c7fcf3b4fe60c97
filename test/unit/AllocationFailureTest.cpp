//===- AllocationFailureTest.cpp - the runtime when allocations fail -----===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// The runtime allocates with `new (std::nothrow)` and reports
// LINAC_ERROR_OUT_OF_MEMORY instead of throwing or crashing. This binary
// replaces the nothrow `operator new` (a replaceable allocation function)
// with one that fails the N-th call, and sweeps N over every allocation of
// each entry point: each either succeeds or fails cleanly with a message,
// and nothing it allocated before the failure is leaked (LeakSanitizer
// checks the last point in `make sanitize`).
//
// It is its own executable so that the replacement cannot affect the other
// tests.
//
//===----------------------------------------------------------------------===//

#include "linac/runtime/linac.h"

#include "gtest/gtest.h"

#include <atomic>
#include <cstdlib>
#include <new>
#include <string>

namespace {
/// Calls of the nothrow operator new left before one fails; negative: none
/// fails.
std::atomic<long> callsBeforeFailure{-1};
} // namespace

void *operator new(std::size_t size, const std::nothrow_t &) noexcept {
  long left = callsBeforeFailure.load();
  if (left == 0)
    return nullptr;
  if (left > 0)
    callsBeforeFailure.store(left - 1);
  return ::operator new(size);
}

void *operator new[](std::size_t size, const std::nothrow_t &) noexcept {
  long left = callsBeforeFailure.load();
  if (left == 0)
    return nullptr;
  if (left > 0)
    callsBeforeFailure.store(left - 1);
  return ::operator new[](size);
}

namespace {

const char kManifest[] = "linac-manifest 1\ncompiler " LINAC_VERSION
                         "\nkernel k\ntarget cpu x86-64 -\nmode prefill\n"
                         "variant linear_attn\n"
                         "tensor q in required f32 B T H 4\n"
                         "tensor o out required f32 B T H 4\n";

void noKernel(const linac_tensor *const *, linac_parallel_for_fn, void *) {}

/// Runs `attempt` with the n-th nothrow allocation failing, n = 0, 1, ...,
/// until it succeeds; each failure must be an out-of-memory error with a
/// message. Returns how many allocations the successful call made.
template <typename Attempt> int sweep(Attempt attempt) {
  for (long n = 0; n < 64; ++n) {
    linac_error err{};
    callsBeforeFailure.store(n);
    bool ok = attempt(&err);
    bool failed = callsBeforeFailure.load() == 0;
    callsBeforeFailure.store(-1);
    if (ok)
      return static_cast<int>(n);
    EXPECT_TRUE(failed) << "failed without an allocation failure: "
                        << err.message;
    EXPECT_EQ(err.code, LINAC_ERROR_OUT_OF_MEMORY) << err.message;
    EXPECT_NE(std::string(err.message).find("out of memory"),
              std::string::npos)
        << err.message;
  }
  ADD_FAILURE() << "still failing after 64 allocations";
  return -1;
}

TEST(AllocationFailure, PoolCreate) {
  int allocations = sweep([](linac_error *err) {
    linac_pool *pool = linac_pool_create(3, err);
    linac_pool_destroy(pool);
    return pool != nullptr;
  });
  // The pool and its workers: at least two allocations were failed.
  EXPECT_GE(allocations, 2);
}

TEST(AllocationFailure, KernelCreate) {
  int allocations = sweep([](linac_error *err) {
    linac_kernel *kernel = linac_kernel_create(kManifest, noKernel, err);
    linac_kernel_destroy(kernel);
    return kernel != nullptr;
  });
  EXPECT_GE(allocations, 1);
}

TEST(AllocationFailure, ModuleLoadAndLookup) {
  int allocations = sweep([](linac_error *err) {
    linac_module *module = linac_module_load(LINAC_FAKE_KERNEL_PATH, err);
    if (!module)
      return false;
    linac_kernel *kernel = linac_module_kernel(module, "good", err);
    linac_module_unload(module);
    return kernel != nullptr;
  });
  // The module, then its kernel.
  EXPECT_GE(allocations, 2);
}

} // namespace
