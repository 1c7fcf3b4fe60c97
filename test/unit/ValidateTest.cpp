//===- ValidateTest.cpp - linac_validate: every rule, every message -------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//

#include "linac/runtime/linac.h"

#include "gtest/gtest.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

namespace {

/// A GLA-style prefill kernel with optional state and varlen inputs.
const char kGla[] = "linac-manifest 1\n"
                    "compiler 0.1.0\n"
                    "kernel gla_prefill\n"
                    "target cpu x86-64-v4 avx512f,avx2,fma\n"
                    "mode prefill\n"
                    "variant gla\n"
                    "tensor q in required f32 B T H 128\n"
                    "tensor k in required f32 B T H 128\n"
                    "tensor v in required f32 B T HV 128\n"
                    "tensor g in required f32 B T HV 128\n"
                    "tensor h0 in optional f32 S HV 128 128\n"
                    "tensor cu_seqlens in optional i32 N1\n"
                    "tensor o out required f32 B T HV 128\n"
                    "tensor ht out optional f32 S HV 128 128\n"
                    "alias ht h0\n";
enum { Q, K, V, G, H0, CU, O, HT, kNumGla };

size_t elementSize(linac_dtype dtype) {
  return dtype == LINAC_F16 || dtype == LINAC_BF16 ? 2
         : dtype == LINAC_I64                      ? 8
                                                   : 4;
}

/// Owns zeroed, 8-byte aligned buffers and hands out row-major descriptors
/// of them.
class Arena {
public:
  linac_tensor make(linac_dtype dtype, std::vector<int64_t> shape) {
    linac_tensor t = {};
    t.dtype = dtype;
    t.rank = int32_t(shape.size());
    int64_t count = 1;
    for (int d = t.rank - 1; d >= 0; --d) {
      t.shape[d] = shape[size_t(d)];
      t.strides[d] = count;
      count *= shape[size_t(d)];
    }
    size_t words = (size_t(count) * elementSize(dtype) + 7) / 8;
    buffers.emplace_back(new int64_t[words ? words : 1]());
    t.data = buffers.back().get();
    return t;
  }

private:
  std::vector<std::unique_ptr<int64_t[]>> buffers;
};

class Validate : public ::testing::Test {
protected:
  /// Builds a valid problem. `offsets` non-empty: varlen (B must be 1).
  void build(int64_t B, int64_t T, int64_t H, int64_t HV, bool state,
             std::vector<int32_t> offsets = {}) {
    t[Q] = arena.make(LINAC_F32, {B, T, H, 128});
    t[K] = arena.make(LINAC_F32, {B, T, H, 128});
    t[V] = arena.make(LINAC_F32, {B, T, HV, 128});
    t[G] = arena.make(LINAC_F32, {B, T, HV, 128});
    t[O] = arena.make(LINAC_F32, {B, T, HV, 128});
    int64_t S = offsets.empty() ? B : int64_t(offsets.size()) - 1;
    t[H0] = arena.make(LINAC_F32, {S, HV, 128, 128});
    t[HT] = arena.make(LINAC_F32, {S, HV, 128, 128});
    t[CU] = arena.make(LINAC_I32, {int64_t(offsets.size())});
    for (size_t i = 0; i < offsets.size(); ++i)
      static_cast<int32_t *>(t[CU].data)[i] = offsets[i];
    for (int i = 0; i < kNumGla; ++i)
      ptrs[i] = &t[i];
    if (!state)
      ptrs[H0] = ptrs[HT] = nullptr;
    if (offsets.empty())
      ptrs[CU] = nullptr;
  }

  int32_t run(const char *manifest = kGla, int32_t count = kNumGla) {
    err.code = -1;
    std::snprintf(err.message, sizeof(err.message), "not written");
    return linac_validate(manifest, ptrs, count, &err);
  }

  void expectOk(const char *manifest = kGla, int32_t count = kNumGla) {
    EXPECT_EQ(run(manifest, count), LINAC_OK) << err.message;
    EXPECT_EQ(err.code, LINAC_OK);
    EXPECT_STREQ(err.message, "");
  }

  /// The call fails with `code` and a message that starts with the kernel
  /// name and contains `expected`.
  void expectError(const std::string &expected, const char *manifest = kGla,
                   int32_t count = kNumGla,
                   int32_t code = LINAC_ERROR_INVALID_ARGUMENT,
                   const std::string &kernel = "gla_prefill: ") {
    EXPECT_EQ(run(manifest, count), code) << err.message;
    EXPECT_EQ(err.code, code);
    std::string message = err.message;
    EXPECT_EQ(message.rfind(kernel, 0), 0u) << message;
    EXPECT_NE(message.find(expected), std::string::npos)
        << "message: " << message << "\nwanted:  " << expected;
  }

  Arena arena;
  linac_tensor t[kNumGla] = {};
  const linac_tensor *ptrs[kNumGla] = {};
  linac_error err = {};
};

//===----------------------------------------------------------------------===//
// Accepted problems
//===----------------------------------------------------------------------===//

TEST_F(Validate, AcceptsAValidProblem) {
  build(2, 5, 2, 4, false);
  expectOk();
  build(2, 5, 2, 4, true);
  expectOk();
}

TEST_F(Validate, AcceptsPaddedOuterStrides) {
  build(1, 3, 2, 2, false);
  // q as a view of a [1, 3, 3, 128] buffer: heads padded, inner stride 1.
  t[Q] = arena.make(LINAC_F32, {1, 3, 3, 128});
  t[Q].shape[2] = 2;
  expectOk();
}

TEST_F(Validate, AcceptsZeroSizedTensorsWithNullData) {
  build(1, 4, 0, 0, false);
  for (int i : {Q, K, V, G, O})
    t[i].data = nullptr;
  expectOk();
}

TEST_F(Validate, ErrorMayBeNull) {
  build(1, 2, 1, 1, false);
  EXPECT_EQ(linac_validate(kGla, ptrs, kNumGla, nullptr), LINAC_OK);
  ptrs[K] = nullptr;
  EXPECT_EQ(linac_validate(kGla, ptrs, kNumGla, nullptr),
            LINAC_ERROR_INVALID_ARGUMENT);
}

//===----------------------------------------------------------------------===//
// Arguments and descriptors
//===----------------------------------------------------------------------===//

TEST_F(Validate, CountMustMatchTheManifest) {
  build(1, 2, 1, 1, false);
  expectError("7 tensors given, the manifest declares 8", kGla, 7);
  expectError("-1 tensors given", kGla, -1);
}

TEST_F(Validate, TensorArrayMustNotBeNull) {
  EXPECT_EQ(linac_validate(kGla, nullptr, kNumGla, &err),
            LINAC_ERROR_INVALID_ARGUMENT);
  EXPECT_NE(std::string(err.message).find("the tensor array is NULL"),
            std::string::npos)
      << err.message;
}

TEST_F(Validate, RequiredTensorsMustBePresent) {
  build(1, 2, 1, 1, false);
  ptrs[K] = nullptr;
  expectError("gla_prefill: tensor 'k' is required but NULL");
}

TEST_F(Validate, DtypeMustMatch) {
  build(1, 2, 1, 1, false);
  t[Q].dtype = LINAC_F16;
  expectError("tensor 'q' has dtype f16, expected f32");
  t[Q].dtype = 17;
  expectError("tensor 'q' has dtype 17 (not a linac_dtype), expected f32");
  build(1, 2, 1, 1, false, {0, 2});
  t[CU].dtype = LINAC_I64;
  expectError("tensor 'cu_seqlens' has dtype i64, expected i32");
}

TEST_F(Validate, RankMustMatch) {
  build(1, 64, 16, 16, false);
  t[Q].rank = 3;
  expectError("tensor 'q' has rank 3 (shape [1, 64, 16]), expected rank 4: "
              "[B, T, H, 128]");
  t[Q].rank = 9;
  expectError("tensor 'q' has rank 9, expected rank 4: [B, T, H, 128]");
  t[Q].rank = -1;
  expectError("tensor 'q' has rank -1, expected rank 4");
}

TEST_F(Validate, SizesMustBeNonNegative) {
  build(1, 2, 1, 1, false);
  t[Q].shape[1] = -3;
  expectError("tensor 'q' dim 1 is -3; sizes cannot be negative");
}

//===----------------------------------------------------------------------===//
// Shapes and symbols
//===----------------------------------------------------------------------===//

TEST_F(Validate, StaticDimensionsMustMatch) {
  build(1, 64, 16, 16, false);
  t[Q].shape[3] = 96;
  expectError("gla_prefill: tensor 'q' has shape [1, 64, 16, 96], expected "
              "[B, T, H, 128] = [1, 64, 16, 128]: dim 3 is 96, expected 128");
}

TEST_F(Validate, SymbolsBindAtFirstUse) {
  build(1, 64, 16, 16, false);
  t[K].shape[2] = 8;
  expectError("tensor 'k' has shape [1, 64, 8, 128], expected [B, T, H, 128] "
              "= [1, 64, 16, 128]: dim 2 (H) is 8, but tensor 'q' dim 2 has "
              "H = 16");
  build(1, 64, 16, 16, false);
  t[O].shape[1] = 63;
  expectError("tensor 'o' has shape [1, 63, 16, 128], expected [B, T, HV, "
              "128] = [1, 64, 16, 128]: dim 1 (T) is 63, but tensor 'q' dim "
              "1 has T = 64");
}

TEST_F(Validate, HVMustBeAMultipleOfH) {
  build(1, 64, 16, 8, false);
  expectError("gla_prefill: tensor 'v' dim 2 (HV) is 8, expected a multiple "
              "of H = 16 (tensor 'q' dim 2)");
  build(1, 4, 2, 6, false);
  expectOk(); // GVA: 3 value heads per query head.
  build(1, 4, 0, 2, false);
  for (int i : {Q, K})
    t[i].data = nullptr;
  expectError("tensor 'v' dim 2 (HV) is 2, expected a multiple of H = 0");
}

TEST_F(Validate, TAndBMustBePositive) {
  build(1, 0, 1, 1, false);
  expectError("tensor 'q' dim 1 (T) is 0, expected at least 1");
  build(0, 3, 1, 1, false);
  expectError("tensor 'q' dim 0 (B) is 0, expected at least 1");
}

TEST_F(Validate, StateBatchMustMatchB) {
  build(2, 3, 1, 1, true);
  t[H0].shape[0] = 3;
  t[HT].shape[0] = 3;
  expectError("tensor 'h0' dim 0 (S) is 3, expected S = B = 2 (tensor 'q' "
              "dim 0; no cu_seqlens given)");
}

//===----------------------------------------------------------------------===//
// Layout
//===----------------------------------------------------------------------===//

TEST_F(Validate, DataMustNotBeNull) {
  build(1, 3, 1, 1, false);
  t[Q].data = nullptr;
  expectError("tensor 'q' has NULL data but shape [1, 3, 1, 128] (384 "
              "elements)");
}

TEST_F(Validate, StridesMustBeNonNegative) {
  build(1, 3, 1, 1, false);
  t[Q].strides[1] = -128;
  expectError("tensor 'q' dim 1 has stride -128; strides cannot be negative");
}

TEST_F(Validate, InnermostStrideMustBeOne) {
  build(1, 3, 1, 1, false);
  t[Q] = arena.make(LINAC_F32, {1, 3, 1, 256});
  t[Q].shape[3] = 128;
  t[Q].strides[3] = 2;
  expectError("gla_prefill: tensor 'q' innermost stride is 2; the CPU kernels "
              "need stride 1 on the last dimension (copy it contiguous "
              "first)");
}

TEST_F(Validate, InnermostStrideOfASizeOneDimensionIsFree) {
  const char manifest[] = "linac-manifest 1\ncompiler 0.1.0\nkernel k\n"
                          "target cpu x86-64 -\nmode decode\nvariant gla\n"
                          "tensor x in required f32 T H\n";
  linac_tensor x = arena.make(LINAC_F32, {4, 1});
  x.strides[1] = 7;
  ptrs[0] = &x;
  EXPECT_EQ(run(manifest, 1), LINAC_OK) << err.message;
  x.shape[1] = 2;
  x.strides[0] = 14;
  EXPECT_EQ(run(manifest, 1), LINAC_ERROR_INVALID_ARGUMENT);
}

TEST_F(Validate, DataMustBeAligned) {
  build(1, 3, 1, 1, false);
  t[Q].data = static_cast<char *>(t[Q].data) + 2;
  expectError("tensor 'q' data 0x");
  expectError("is not aligned to its 4-byte element size");
}

const char kPair[] = "linac-manifest 1\ncompiler 0.1.0\nkernel pair\n"
                     "target cpu x86-64 -\nmode prefill\nvariant gla\n"
                     "tensor x in required f32 T H\n"
                     "tensor y out required f32 T H\n";

TEST_F(Validate, ExtentsMustFitTheAddressSpace) {
  static float storage[4];
  linac_tensor x = {storage, LINAC_F32, 2, {2, 2}, {INT64_MAX / 2, 1}};
  linac_tensor y = {storage + 2, LINAC_F32, 2, {2, 2}, {2, 1}};
  ptrs[0] = &x;
  ptrs[1] = &y;
  expectError("tensor 'x' with shape [2, 2] and strides [4611686018427387903, "
              "1] at 0x",
              kPair, 2, LINAC_ERROR_INVALID_ARGUMENT, "pair: ");
  expectError("reaches past the end of the address space", kPair, 2,
              LINAC_ERROR_INVALID_ARGUMENT, "pair: ");
  x.shape[0] = INT64_MAX;
  x.shape[1] = 4;
  y.shape[0] = INT64_MAX;
  y.shape[1] = 4;
  expectError("tensor 'x' has shape [9223372036854775807, 4], whose element "
              "count overflows int64",
              kPair, 2, LINAC_ERROR_INVALID_ARGUMENT, "pair: ");
}

//===----------------------------------------------------------------------===//
// Overlap and aliases
//===----------------------------------------------------------------------===//

TEST_F(Validate, OutputsMustNotOverlapInputs) {
  build(1, 3, 1, 1, false);
  t[O] = t[Q];
  expectError("gla_prefill: tensor 'o' overlaps input 'q'");
  // One element of overlap is enough: v starts at o's last element.
  build(1, 3, 1, 1, false);
  t[V].data = static_cast<float *>(t[O].data) + 3 * 128 - 1;
  expectError("tensor 'o' overlaps input 'v'");
}

TEST_F(Validate, OutputsMustNotOverlapEachOther) {
  const char manifest[] = "linac-manifest 1\ncompiler 0.1.0\nkernel two\n"
                          "target cpu x86-64 -\nmode prefill\nvariant gla\n"
                          "tensor x in required f32 T 4\n"
                          "tensor a out required f32 T 4\n"
                          "tensor b out required f32 T 4\n";
  linac_tensor x = arena.make(LINAC_F32, {2, 4});
  // a is rows 0-1 of a 3-row buffer, b rows 1-2.
  linac_tensor a = arena.make(LINAC_F32, {3, 4});
  a.shape[0] = 2;
  linac_tensor b = a;
  b.data = static_cast<float *>(a.data) + 4;
  ptrs[0] = &x;
  ptrs[1] = &a;
  ptrs[2] = &b;
  expectError("tensor 'a' overlaps output 'b'", manifest, 3,
              LINAC_ERROR_INVALID_ARGUMENT, "two: ");
}

TEST_F(Validate, InterleavedOutputsAreConservativelyRejected) {
  // Even and odd elements of one buffer share no element, but their extents
  // overlap; the check is by extent.
  static float storage[4];
  linac_tensor x = {storage, LINAC_F32, 2, {2, 1}, {2, 1}};
  linac_tensor y = {storage + 1, LINAC_F32, 2, {2, 1}, {2, 1}};
  ptrs[0] = &x;
  ptrs[1] = &y;
  expectError("tensor 'y' overlaps input 'x'", kPair, 2,
              LINAC_ERROR_INVALID_ARGUMENT, "pair: ");
}

TEST_F(Validate, AliasAllowsOnlyTheVerySameTensor) {
  build(1, 3, 1, 2, true);
  t[HT] = t[H0];
  expectOk();
  ptrs[HT] = ptrs[H0]; // The same descriptor, too.
  expectOk();

  // Shifted by one element: partial overlap.
  build(1, 3, 1, 2, true);
  t[HT] = t[H0];
  t[HT].data = static_cast<float *>(t[H0].data) + 1;
  expectError("tensor 'ht' overlaps input 'h0' but is not the very same "
              "tensor; 'alias ht h0' allows only the same data, shape and "
              "strides");

  // Same data, other strides (rows padded to 130 elements).
  build(1, 3, 1, 1, true);
  t[HT] = t[H0];
  t[HT].strides[2] = 130;
  expectError("tensor 'ht' overlaps input 'h0' but is not the very same");

  // Strides of size-1 dimensions are never stepped along, so they do not
  // make two views different.
  build(1, 3, 1, 1, true);
  t[HT] = t[H0];
  t[HT].strides[0] = 5;
  t[HT].strides[1] = 0;
  expectOk();
}

TEST_F(Validate, AliasDoesNotAllowOtherPairs) {
  // ht may be h0, but nothing else: here q reads the start of the state.
  build(1, 3, 1, 1, true);
  t[HT] = t[H0];
  t[Q].data = t[H0].data;
  expectError("tensor 'ht' overlaps input 'q'");
}

//===----------------------------------------------------------------------===//
// Variable-length batches
//===----------------------------------------------------------------------===//

TEST_F(Validate, VarlenAccepted) {
  build(1, 7, 1, 2, true, {0, 3, 3, 7});
  expectOk();
  build(1, 7, 1, 2, false, {0, 7});
  expectOk();
}

TEST_F(Validate, VarlenWithI64Offsets) {
  std::string manifest = kGla;
  manifest.replace(manifest.find("optional i32 N1"), 15, "optional i64 N1");
  build(1, 5, 1, 1, true, {0, 2, 5});
  t[CU] = arena.make(LINAC_I64, {3});
  int64_t *offsets = static_cast<int64_t *>(t[CU].data);
  offsets[0] = 0;
  offsets[1] = 2;
  offsets[2] = 5;
  expectOk(manifest.c_str());
  offsets[2] = int64_t(1) << 40;
  expectError("cu_seqlens[2] (the last offset) is 1099511627776, expected T "
              "= 5",
              manifest.c_str());
}

TEST_F(Validate, VarlenNeedsBOne) {
  build(2, 7, 1, 1, false, {0, 7});
  expectError("tensor 'q' dim 0 (B) is 2, expected 1: with cu_seqlens the "
              "sequences are packed along T");
}

TEST_F(Validate, VarlenStateHasOneEntryPerSequence) {
  build(1, 7, 1, 1, true, {0, 3, 3, 7});
  t[H0].shape[0] = 2;
  t[HT].shape[0] = 2;
  expectError("tensor 'h0' dim 0 (S) is 2, expected S = N1 - 1 = 3 "
              "(cu_seqlens has N1 = 4 offsets)");
}

TEST_F(Validate, OffsetsStartAtZero) {
  build(1, 7, 1, 1, false, {1, 3, 7});
  expectError("cu_seqlens[0] is 1, expected 0");
}

TEST_F(Validate, OffsetsAreNonDecreasing) {
  build(1, 7, 1, 1, false, {0, 3, 2, 7});
  expectError("cu_seqlens[2] is 2, less than cu_seqlens[1] = 3; offsets must "
              "be non-decreasing");
}

TEST_F(Validate, OffsetsEndAtT) {
  build(1, 7, 1, 1, false, {0, 3, 6});
  expectError("cu_seqlens[2] (the last offset) is 6, expected T = 7 (tensor "
              "'q' dim 1)");
  build(1, 7, 1, 1, false, {0});
  expectError("cu_seqlens[0] (the last offset) is 0, expected T = 7");
}

TEST_F(Validate, OffsetsMustExist) {
  build(1, 7, 1, 1, false, {0, 7});
  t[CU].shape[0] = 0;
  expectError("tensor 'cu_seqlens' dim 0 (N1) is 0, expected at least 2");
  // Unbacked offsets are rejected before they are read.
  build(1, 7, 1, 1, false, {0, 7});
  t[CU].data = nullptr;
  expectError("tensor 'cu_seqlens' has NULL data but shape [2]");
  build(1, 7, 1, 1, false, {0, 7});
  t[CU].strides[0] = 2;
  expectError("tensor 'cu_seqlens' innermost stride is 2");
}

TEST_F(Validate, OutputsMustNotOverlapOffsets) {
  // The offsets start at o's last element. (They are never read: the
  // overlap is found first.)
  build(1, 7, 1, 1, false, {0, 7});
  t[CU].data = static_cast<float *>(t[O].data) + 7 * 128 - 1;
  expectError("tensor 'o' overlaps input 'cu_seqlens'");
}

//===----------------------------------------------------------------------===//
// State pools
//===----------------------------------------------------------------------===//

/// A decode kernel whose states are a pool of P slots, one picked per
/// sequence.
const char kPool[] = "linac-manifest 1\n"
                     "compiler 0.1.0\n"
                     "kernel gdn_decode\n"
                     "target cpu x86-64-v4 avx512f,avx2,fma\n"
                     "mode decode\n"
                     "variant gated_delta_rule\n"
                     "tensor q in required f32 B T H 16\n"
                     "tensor h0 in required f32 P HV 16 16\n"
                     "tensor state_indices in required i32 S\n"
                     "tensor o out required f32 B T HV 16\n"
                     "tensor ht out required f32 P HV 16 16\n"
                     "alias ht h0\n";
enum { PQ, PH0, PIDX, PO, PHT, kNumPool };

class Pool : public Validate {
protected:
  /// B sequences of one token over a pool of P slots, updated in place,
  /// with these indices.
  void buildPool(int64_t P, std::vector<int64_t> indices,
                 linac_dtype dtype = LINAC_I32) {
    const int64_t B = int64_t(indices.size());
    p[PQ] = arena.make(LINAC_F32, {B, 1, 2, 16});
    p[PO] = arena.make(LINAC_F32, {B, 1, 2, 16});
    p[PH0] = p[PHT] = arena.make(LINAC_F32, {P, 2, 16, 16});
    p[PIDX] = arena.make(dtype, {B});
    for (size_t i = 0; i < indices.size(); ++i) {
      if (dtype == LINAC_I32)
        static_cast<int32_t *>(p[PIDX].data)[i] = int32_t(indices[i]);
      else
        static_cast<int64_t *>(p[PIDX].data)[i] = indices[i];
    }
    for (int i = 0; i < kNumPool; ++i)
      pp[i] = &p[i];
  }

  int32_t runPool(const char *manifest = kPool) {
    err.code = -1;
    return linac_validate(manifest, pp, kNumPool, &err);
  }

  void expectPoolError(const std::string &expected,
                       const char *manifest = kPool) {
    EXPECT_EQ(runPool(manifest), LINAC_ERROR_INVALID_ARGUMENT) << err.message;
    std::string message = err.message;
    EXPECT_EQ(message.rfind("gdn_decode: ", 0), 0u) << message;
    EXPECT_NE(message.find(expected), std::string::npos)
        << "message: " << message << "\nwanted:  " << expected;
  }

  linac_tensor p[kNumPool] = {};
  const linac_tensor *pp[kNumPool] = {};
};

TEST_F(Pool, AcceptsDistinctSlotsAndPaddingRows) {
  buildPool(8, {5, 0, 7});
  EXPECT_EQ(runPool(), LINAC_OK) << err.message;
  // Negative indices are padding rows and may repeat.
  buildPool(2, {-1, 1, -1, -7, 0});
  EXPECT_EQ(runPool(), LINAC_OK) << err.message;
  // A pool of one slot; a batch of padding rows needs no slot at all.
  buildPool(1, {0});
  EXPECT_EQ(runPool(), LINAC_OK) << err.message;
  buildPool(0, {-1, -1});
  EXPECT_EQ(runPool(), LINAC_OK) << err.message;
}

TEST_F(Pool, IndicesMustNameASlot) {
  buildPool(8, {5, 8, 1});
  expectPoolError("state_indices[1] is 8, outside the pool of P = 8 states "
                  "(tensor 'h0' dim 0); use a negative index for a padding "
                  "row");
  buildPool(0, {-1, 0});
  expectPoolError("state_indices[1] is 0, outside the pool of P = 0 states");
}

TEST_F(Pool, AStaticPoolSizeBoundsTheIndices) {
  // Hand-written IR may fix the pool's size: the manifest then says 8, and
  // no symbol P carries it.
  std::string manifest = kPool;
  for (const char *record : {"tensor h0 in required f32 P", "tensor ht out required f32 P"}) {
    size_t at = manifest.find(record);
    manifest.replace(at + strlen(record) - 1, 1, "8");
  }
  buildPool(8, {7, -1, 0});
  EXPECT_EQ(runPool(manifest.c_str()), LINAC_OK) << err.message;
  buildPool(8, {7, 8});
  expectPoolError("state_indices[1] is 8, outside the pool of P = 8 states "
                  "(tensor 'h0' dim 0)",
                  manifest.c_str());
}

TEST_F(Pool, SlotsMustNotRepeat) {
  buildPool(8, {3, 6, -1, 6});
  expectPoolError("state_indices[1] and state_indices[3] are both 6: two "
                  "sequences may not share a state slot");
}

TEST_F(Pool, RepeatsAreFoundInLargeBatches) {
  // Past the on-stack copy (256 entries): the first and last row collide.
  std::vector<int64_t> indices(1000);
  for (size_t i = 0; i < indices.size(); ++i)
    indices[i] = int64_t(i) * 3;
  indices.back() = 0;
  buildPool(3000, indices);
  expectPoolError("state_indices[0] and state_indices[999] are both 0");
  indices.back() = 2999;
  buildPool(3000, indices);
  EXPECT_EQ(runPool(), LINAC_OK) << err.message;
}

TEST_F(Pool, I64IndicesAreReadWhole) {
  // 2^32 + 1 would pass as slot 1 if read as 32 bits.
  std::string manifest = kPool;
  manifest.replace(manifest.find("state_indices in required i32"),
                   strlen("state_indices in required i32"),
                   "state_indices in required i64");
  buildPool(4, {(int64_t(1) << 32) + 1, 2}, LINAC_I64);
  expectPoolError("state_indices[0] is 4294967297, outside the pool",
                  manifest.c_str());
}

TEST_F(Pool, TheIndicesSizeTheBatch) {
  buildPool(8, {1, 2, 3});
  p[PIDX].shape[0] = 2; // two indices for three sequences
  expectPoolError("tensor 'state_indices' dim 0 (S) is 2, expected S = B = 3");
  // The pool's slots bind P: ht must have as many as h0.
  buildPool(8, {1, 2, 3});
  p[PHT] = arena.make(LINAC_F32, {9, 2, 16, 16});
  expectPoolError("tensor 'ht' has shape [9, 2, 16, 16], expected [P, HV, 16, "
                  "16] = [8, 2, 16, 16]: dim 0 (P) is 9, but tensor 'h0' dim 0 "
                  "has P = 8");
}

} // namespace
