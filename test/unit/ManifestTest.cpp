//===- ManifestTest.cpp - The strict manifest parser ----------------------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//

#include "linac/runtime/Manifest.h"
#include "linac/runtime/Random.h"

#include "gtest/gtest.h"

#include <string>

using namespace linac::manifest;

namespace {

const char kHeader[] = "linac-manifest 1\n"
                       "compiler 0.1.0\n"
                       "kernel gla_prefill\n"
                       "target cpu x86-64-v4 avx512f,avx2,fma\n"
                       "mode prefill\n"
                       "variant gla\n";

const char kGla[] = "linac-manifest 1\n"
                    "compiler 0.1.0\n"
                    "kernel gla_prefill\n"
                    "target cpu x86-64-v4 avx512f,avx2,fma\n"
                    "mode prefill\n"
                    "variant gla\n"
                    "tensor q in required f32 B T H 128\n"
                    "tensor k in required bf16 B T H 128\n"
                    "tensor v in required f16 B T HV 128\n"
                    "tensor h0 in optional f32 S HV 128 128\n"
                    "tensor cu_seqlens in optional i64 N1\n"
                    "tensor o out required f32 B T HV 128\n"
                    "tensor ht out optional f32 S HV 128 128\n"
                    "tensor scalar in optional i32\n"
                    "alias ht h0\n";

/// `text` does not parse, and the error contains `message`.
void expectRejected(const std::string &text, const char *message) {
  Manifest m;
  linac_error err;
  EXPECT_EQ(parse(text, m, &err), LINAC_ERROR_LOAD) << text;
  EXPECT_NE(std::string(err.message).find(message), std::string::npos)
      << err.message;
}

TEST(Manifest, ParsesEveryRecord) {
  Manifest m;
  linac_error err;
  ASSERT_EQ(parse(kGla, m, &err), LINAC_OK) << err.message;
  EXPECT_EQ(m.compiler, "0.1.0");
  EXPECT_EQ(m.kernel, "gla_prefill");
  EXPECT_EQ(m.targetKind, "cpu");
  EXPECT_EQ(m.targetArch, "x86-64-v4");
  EXPECT_EQ(m.targetFeatures, "avx512f,avx2,fma");
  ASSERT_EQ(m.numFeatures, 3);
  EXPECT_EQ(m.features[0], "avx512f");
  EXPECT_EQ(m.features[2], "fma");
  EXPECT_EQ(m.mode, "prefill");
  EXPECT_EQ(m.variant, "gla");
  ASSERT_EQ(m.numTensors, 8);
  const TensorDecl &q = m.tensors[0];
  EXPECT_EQ(q.name, "q");
  EXPECT_FALSE(q.output);
  EXPECT_TRUE(q.required);
  EXPECT_EQ(q.dtype, LINAC_F32);
  ASSERT_EQ(q.rank, 4);
  EXPECT_EQ(q.dims[0].symbol, Symbol::B);
  EXPECT_EQ(q.dims[2].symbol, Symbol::H);
  EXPECT_EQ(q.dims[3].symbol, Symbol::None);
  EXPECT_EQ(q.dims[3].size, 128);
  EXPECT_EQ(m.tensors[1].dtype, LINAC_BF16);
  EXPECT_EQ(m.tensors[2].dtype, LINAC_F16);
  EXPECT_EQ(m.tensors[2].dims[2].symbol, Symbol::HV);
  EXPECT_FALSE(m.tensors[3].required);
  EXPECT_EQ(m.tensors[3].dims[0].symbol, Symbol::S);
  EXPECT_EQ(m.cuSeqlens, 4);
  EXPECT_EQ(m.tensors[4].dtype, LINAC_I64);
  EXPECT_TRUE(m.tensors[5].output);
  EXPECT_EQ(m.tensors[7].rank, 0);
  ASSERT_EQ(m.numAliases, 1);
  EXPECT_EQ(m.aliases[0].output, 6);
  EXPECT_EQ(m.aliases[0].input, 3);
}

TEST(Manifest, StatePoolRecords) {
  // A pool: P sizes h0 and ht, state_indices is found like cu_seqlens.
  const char text[] = "linac-manifest 1\n"
                      "compiler 0.1.0\n"
                      "kernel k\n"
                      "target cpu x86-64-v4 -\n"
                      "mode decode\n"
                      "variant gla\n"
                      "tensor q in required f32 B T H 16\n"
                      "tensor h0 in required f32 P HV 16 16\n"
                      "tensor state_indices in required i64 S\n"
                      "tensor ht out required f32 P HV 16 16\n";
  Manifest m;
  linac_error err;
  ASSERT_EQ(parse(text, m, &err), LINAC_OK) << err.message;
  EXPECT_EQ(m.tensors[1].dims[0].symbol, Symbol::P);
  EXPECT_STREQ(symbolName(Symbol::P), "P");
  EXPECT_EQ(m.stateIndices, 2);
  EXPECT_EQ(m.cuSeqlens, -1);
  EXPECT_EQ(m.tensors[2].dtype, LINAC_I64);
  // A static number of sequences (hand-written IR with a static batch).
  std::string fixed = text;
  fixed.replace(fixed.find("i64 S"), 5, "i64 4");
  ASSERT_EQ(parse(fixed, m, &err), LINAC_OK) << err.message;
  EXPECT_EQ(m.tensors[2].dims[0].symbol, Symbol::None);
  EXPECT_EQ(m.tensors[2].dims[0].size, 4);
}

TEST(Manifest, AcceptsNoFinalNewlineAndNoFeatures) {
  Manifest m;
  linac_error err;
  std::string text = "linac-manifest 1\ncompiler 0.1.0\nkernel k\n"
                     "target cpu generic -\nmode decode\nvariant gla";
  ASSERT_EQ(parse(text, m, &err), LINAC_OK) << err.message;
  EXPECT_EQ(m.numFeatures, 0);
  EXPECT_EQ(m.numTensors, 0);
  EXPECT_EQ(m.cuSeqlens, -1);
  EXPECT_EQ(m.mode, "decode");
}

TEST(Manifest, AcceptsOtherTargetsForTheLoaderToRefuse) {
  Manifest m;
  linac_error err;
  std::string text = "linac-manifest 1\ncompiler 0.1.0\nkernel k\n"
                     "target tpu v5\nmode prefill\nvariant gla\n";
  ASSERT_EQ(parse(text, m, &err), LINAC_OK) << err.message;
  EXPECT_EQ(m.targetKind, "tpu");
  EXPECT_EQ(m.targetArch, "v5");
  EXPECT_FALSE(m.hasLaunch);
}

TEST(Manifest, CudaLaunchRecord) {
  Manifest m;
  linac_error err;
  std::string text = "linac-manifest 1\ncompiler 0.1.0\nkernel k\n"
                     "target cuda sm_90a -\nmode prefill\nvariant gla\n"
                     "launch 128 153088 2 h0,ht\n"
                     "tensor q in required bf16 B T 16 128\n"
                     "tensor h0 in optional f32 S 16 128 128\n"
                     "tensor ht out optional f32 S 16 128 128\n";
  ASSERT_EQ(parse(text, m, &err), LINAC_OK) << err.message;
  EXPECT_EQ(m.targetKind, "cuda");
  EXPECT_EQ(m.targetArch, "sm_90a");
  EXPECT_TRUE(m.hasLaunch);
  EXPECT_EQ(m.launchThreads, 128);
  EXPECT_EQ(m.launchShared, 153088);
  EXPECT_EQ(m.launchTiles, 2);
  ASSERT_EQ(m.numFlags, 2);
  EXPECT_EQ(m.flags[0], 1);
  EXPECT_EQ(m.flags[1], 2);
}

TEST(Manifest, BadLaunchRecords) {
  const std::string head = "linac-manifest 1\ncompiler 0.1.0\nkernel k\n"
                           "mode prefill\nvariant gla\n";
  const std::string cuda = head + "target cuda sm_80 -\n";
  const std::string tensors = "tensor q in required f32 B T 1 4\n"
                              "tensor h0 in optional f32 S 1 4 4\n";
  const std::pair<std::string, const char *> cases[] = {
      {cuda + tensors, "a cuda kernel needs a 'launch' record"},
      {head + "target cpu x86-64 -\nlaunch 128 0 1 -\n" + tensors,
       "'launch' is for cuda kernels"},
      {cuda + "launch 100 0 1 -\n" + tensors,
       "launch threads '100' is not a multiple of 32"},
      {cuda + "launch 2048 0 1 -\n" + tensors, "launch threads '2048'"},
      {cuda + "launch 128 -1 1 -\n" + tensors, "launch shared bytes '-1'"},
      {cuda + "launch 128 0 0 -\n" + tensors, "launch value tiles '0'"},
      {cuda + "launch 128 0 1\n" + tensors, "'launch' takes threads"},
      {cuda + "launch 128 0 1 -\nlaunch 128 0 1 -\n" + tensors,
       "second 'launch' record"},
      {cuda + "launch 128 0 1 q\n" + tensors,
       "launch flag 'q' is not an optional tensor"},
      {cuda + "launch 128 0 1 h1\n" + tensors,
       "launch flag 'h1' is not an optional tensor"},
      {cuda + "launch 128 0 1 h0,h0\n" + tensors,
       "launch flag 'h0' appears twice"},
  };
  for (const auto &[text, message] : cases)
    expectRejected(text, message);
}

TEST(Manifest, ScheduleRecord) {
  const std::string tensors = "tensor q in required f32 B T 1 4\n";
  // A Manifest holds views into its text: keep the text alive.
  const std::string text =
      std::string(kHeader) + "schedule chunked_wy 64\n" + tensors;
  Manifest m;
  linac_error err;
  ASSERT_EQ(parse(text, m, &err), LINAC_OK) << err.message;
  EXPECT_EQ(m.scheduleAlgorithm, "chunked_wy");
  EXPECT_EQ(m.scheduleChunk, 64);
  // Optional: absent, it reads as nothing.
  const std::string bareText = std::string(kHeader) + tensors;
  Manifest bare;
  ASSERT_EQ(parse(bareText, bare, &err), LINAC_OK);
  EXPECT_EQ(bare.scheduleAlgorithm, "");
  EXPECT_EQ(bare.scheduleChunk, 0);
  const std::pair<std::string, const char *> cases[] = {
      {"schedule chunked\n", "'schedule' takes an algorithm and a chunk"},
      {"schedule scan 4\n", "schedule algorithm 'scan' is not chunked"},
      {"schedule chunked -1\n", "schedule chunk size '-1'"},
      {"schedule chunked 4096000\n", "schedule chunk size '4096000'"},
      {"schedule chunked 16\nschedule chunked 16\n",
       "second 'schedule' record"},
  };
  for (const auto &[record, message] : cases)
    expectRejected(std::string(kHeader) + record + tensors, message);
}

TEST(Manifest, LayoutRecord) {
  const std::string tensors = "tensor q in required f32 B H T 4\n"
                              "tensor beta in required f32 B HV T\n"
                              "tensor h0 in optional f32 S HV 4 4\n"
                              "tensor cu_seqlens in optional i32 N1\n";
  const std::string text =
      std::string(kHeader) + tensors + "layout bhtd q beta\n";
  Manifest m;
  linac_error err;
  ASSERT_EQ(parse(text, m, &err), LINAC_OK) << err.message;
  EXPECT_TRUE(m.hasLayout);
  EXPECT_TRUE(m.tensors[0].headMajor);
  EXPECT_TRUE(m.tensors[1].headMajor);
  EXPECT_FALSE(m.tensors[2].headMajor);
  // Without the record every tensor is in the kernel's order.
  const std::string bareText = std::string(kHeader) + tensors;
  Manifest bare;
  ASSERT_EQ(parse(bareText, bare, &err), LINAC_OK);
  EXPECT_FALSE(bare.hasLayout);
  EXPECT_FALSE(bare.tensors[0].headMajor);
  const std::pair<std::string, const char *> cases[] = {
      {"layout bhtd\n", "'layout' takes 'bhtd' and the head-major tensors'"},
      {"layout bthd q\n", "'layout' takes 'bhtd'"},
      {"layout bhtd v\n", "layout of 'v', which is not declared by an "
                          "earlier 'tensor' record"},
      {"layout bhtd cu_seqlens\n",
       "layout bhtd of 'cu_seqlens', a tensor of rank 1"},
      {"layout bhtd q q\n", "layout bhtd names 'q' twice"},
      {"layout bhtd q\nlayout bhtd beta\n", "second 'layout' record"},
  };
  for (const auto &[record, message] : cases)
    expectRejected(std::string(kHeader) + tensors + record, message);
  // Before the tensor it names, the record names nothing.
  Manifest early;
  EXPECT_EQ(parse(std::string(kHeader) + "layout bhtd q\n" + tensors, early,
                  &err),
            LINAC_ERROR_LOAD);
}

TEST(Manifest, CudaTmaRecords) {
  Manifest m;
  linac_error err;
  std::string text = "linac-manifest 1\ncompiler 0.1.0\nkernel k\n"
                     "target cuda sm_90a -\nmode prefill\nvariant gla\n"
                     "launch 128 153088 2 -\n"
                     "tensor q in required bf16 B T 16 128\n"
                     "tensor g in required f32 B T 16 128\n"
                     "tensor o out required bf16 B T 16 128\n"
                     "tma q 128 1 64 1\n"
                     "tma g 4 1 256 1\n";
  ASSERT_EQ(parse(text, m, &err), LINAC_OK) << err.message;
  ASSERT_EQ(m.numTma, 2);
  // A box may reach past a static dimension (64 rows of a 3-token tensor:
  // TMA fills the rest; found by linac-fuzz-pipeline).
  Manifest shortT;
  std::string staticT = "linac-manifest 1\ncompiler 0.1.0\nkernel k\n"
                        "target cuda sm_90a -\nmode prefill\nvariant gla\n"
                        "launch 128 153088 2 -\n"
                        "tensor q in required f32 2 3 2 128\n"
                        "tma q 128 1 64 1\n";
  EXPECT_EQ(parse(staticT, shortT, &err), LINAC_OK) << err.message;
  EXPECT_EQ(m.tma[0].tensor, 0);
  EXPECT_EQ(m.tma[1].tensor, 1);
  const uint32_t q[] = {128, 1, 64, 1}, g[] = {4, 1, 256, 1};
  for (int d = 0; d < 4; ++d) {
    EXPECT_EQ(m.tma[0].box[d], q[d]) << d;
    EXPECT_EQ(m.tma[1].box[d], g[d]) << d;
  }
}

TEST(Manifest, BadTmaRecords) {
  const std::string head = "linac-manifest 1\ncompiler 0.1.0\nkernel k\n"
                           "mode prefill\nvariant gla\n";
  const std::string cuda = head + "target cuda sm_90a -\nlaunch 128 0 1 -\n";
  const std::string tensors = "tensor q in required bf16 B T 1 64\n"
                              "tensor cu_seqlens in optional i32 N1\n"
                              "tensor o out required bf16 B T 1 64\n";
  const std::pair<std::string, const char *> cases[] = {
      {head + "target cpu x86-64 -\n" + tensors + "tma q 64 1 16 1\n",
       "line 10: 'tma' is for cuda kernels, this one targets 'cpu'"},
      {cuda + "tma q 64 1 16 1\n" + tensors,
       "tma record of 'q', which is not declared by an earlier 'tensor' "
       "record"},
      {cuda + tensors + "tma q\n", "'tma' takes a tensor name and its box"},
      {cuda + tensors + "tma o 64 1 16 1\n",
       "tma record of 'o': TMA loads f32, f16 or bf16 'in' tensors"},
      {cuda + tensors + "tma cu_seqlens 8\n",
       "tma record of 'cu_seqlens': TMA loads f32, f16 or bf16 'in' tensors"},
      {cuda + tensors + "tma q 64 1 16\n",
       "tma record of 'q' has 3 box extents; the tensor has rank 4"},
      {cuda + tensors + "tma q 64 1 16 1\ntma q 64 1 16 1\n",
       "second tma record of 'q'"},
      {cuda + tensors + "tma q 64 1 0 1\n",
       "tma record of 'q': box extent '0' is not in [1, 256]"},
      {cuda + tensors + "tma q 64 1 512 1\n",
       "tma record of 'q': box extent '512' is not in [1, 256]"},
      {cuda + tensors + "tma q 4 1 16 1\n",
       "tma record of 'q': a box row of 4 elements is not a multiple of 16 "
       "bytes"},
  };
  for (const auto &[text, message] : cases)
    expectRejected(text, message);
}

struct BadCase {
  std::string text;
  const char *message;
};

/// kHeader plus `tail`.
std::string withHeader(const std::string &tail) {
  return std::string(kHeader) + tail;
}

TEST(Manifest, RejectsEveryMalformedRecord) {
  std::string many;
  for (int i = 0; i < kMaxTensors + 1; ++i)
    many += "tensor t" + std::to_string(i) + " in required f32 T\n";
  std::string longName(kMaxNameLength + 1, 'a');
  const BadCase cases[] = {
      {"", "line 1: expected 'linac-manifest 1' first, found an empty line"},
      {"compiler 0.1.0\n", "line 1: expected 'linac-manifest 1' first"},
      {"linac-manifest 2\n", "line 1: unsupported manifest version"},
      {"linac-manifest 1 extra\n", "line 1: unsupported manifest version"},
      {"linac-manifest 1\ncompiler 0.1.0\n", "no 'kernel' record"},
      {withHeader("bogus 1\n"), "line 7: unknown record 'bogus'"},
      {withHeader("linac-manifest 1\n"), "line 7: 'linac-manifest' appears"},
      {withHeader("compiler 0.1.0\n"), "line 7: second 'compiler' record"},
      {withHeader("\n"), "line 7: empty line"},
      {withHeader("tensor q in required f32 B  T\n"),
       "line 7: fields are separated by single spaces"},
      {withHeader("tensor q in required f32 B T \n"),
       "line 7: fields are separated by single spaces"},
      {withHeader(" tensor q in required f32 B T\n"),
       "line 7: fields are separated by single spaces"},
      {withHeader("tensor q in required f32 B T\r\n"),
       "line 7: unexpected byte 0x0d"},
      {withHeader("tensor q in required f32 B\tT\n"),
       "line 7: unexpected byte 0x09"},
      {withHeader("variant g\xc3\xa9\n"), "unexpected byte 0xc3"},
      {withHeader(std::string("tensor q in\0 required", 21)),
       "line 7: unexpected byte 0x00"},
      {withHeader("tensor q in required f64 B T\n"),
       "line 7: tensor 'q': unknown dtype 'f64'"},
      {withHeader("tensor q in required f32 B T K\n"),
       "tensor 'q' dim 2: 'K' is neither a size nor one of B T H HV S N1 P"},
      {withHeader("tensor q in required f32 -1\n"),
       "dim 0: '-1' is neither a size"},
      {withHeader("tensor q in required f32 +1\n"),
       "dim 0: '+1' is neither a size"},
      {withHeader("tensor q in required f32 012\n"),
       "dim 0: '012' is neither a size"},
      {withHeader("tensor q in required f32 9223372036854775808\n"),
       "dim 0: '9223372036854775808' is neither a size"},
      {withHeader("tensor q in required f32 B T H V\n"),
       "dim 3: 'V' is neither"},
      {withHeader("tensor q in required f32 1 2 3 4 5\n"),
       "tensor 'q' has rank 5; the largest rank is 4"},
      {withHeader("tensor q in required f32 1 2 3 4 5 6 7 8 9 10 11 12\n"),
       "line 7: more than 16 fields"},
      {withHeader("tensor q inout required f32 T\n"),
       "'inout' is neither 'in' nor 'out'"},
      {withHeader("tensor q in maybe f32 T\n"),
       "'maybe' is neither 'required' nor 'optional'"},
      {withHeader("tensor q in required\n"), "'tensor' needs a name"},
      {withHeader("tensor 9q in required f32 T\n"),
       "tensor name '9q' is not an identifier"},
      {withHeader("tensor " + longName + " in required f32 T\n"),
       "is not an identifier of at most 128 characters"},
      {withHeader("tensor q in required f32 T\ntensor q in required f32 T\n"),
       "line 8: second tensor named 'q'"},
      {withHeader(many), "line 39: more than 32 tensors"},
      {withHeader("tensor cu_seqlens in required f32 N1\n"),
       "cu_seqlens must be declared 'in', i32 or i64, with the one dimension "
       "N1"},
      {withHeader("tensor cu_seqlens out required i32 N1\n"),
       "cu_seqlens must be declared"},
      {withHeader("tensor cu_seqlens in required i32 T\n"),
       "cu_seqlens must be declared"},
      {withHeader("tensor q in required f32 N1 4\n"),
       "tensor 'q' dim 0: N1 is the length of cu_seqlens"},
      {withHeader("tensor state_indices in required f32 S\n"),
       "state_indices must be declared 'in', i32 or i64, with the one "
       "dimension S"},
      {withHeader("tensor state_indices out required i32 S\n"),
       "state_indices must be declared"},
      {withHeader("tensor state_indices in required i32 B\n"),
       "state_indices must be declared"},
      {withHeader("tensor state_indices in required i64 S 2\n"),
       "state_indices must be declared"},
      {withHeader("tensor o out required f32 T\nalias o q\n"),
       "line 8: alias of 'q', which is not declared"},
      {withHeader("tensor q in required f32 T\ntensor o out required f32 T\n"
                  "alias q o\n"),
       "alias 'q o' must name an 'out' tensor, then an 'in' tensor"},
      {withHeader("tensor q in required f16 T\ntensor o out required f32 T\n"
                  "alias o q\n"),
       "alias 'o q': the tensors differ in dtype or rank"},
      {withHeader("tensor q in required f32 T\ntensor o out required f32 T\n"
                  "alias o q\nalias o q\n"),
       "line 10: second alias 'o q'"},
      {withHeader("alias o\n"), "'alias' takes an output and an input"},
      {"linac-manifest 1\ncompiler 0.1.0\nkernel k\ntarget cpu x86-64\n",
       "line 4: 'target cpu' takes a CPU name and a feature list"},
      {"linac-manifest 1\ncompiler 0.1.0\nkernel k\ntarget cpu\n",
       "line 4: 'target' needs a kind and an architecture"},
      {"linac-manifest 1\ncompiler 0.1.0\nkernel k\n"
       "target cpu x86-64 avx2,,fma\n",
       "line 4: bad CPU feature '' in 'avx2,,fma'"},
      {"linac-manifest 1\ncompiler 0.1.0\nkernel k\n"
       "target cpu x86-64 AVX2\n",
       "bad CPU feature 'AVX2'"},
      {"linac-manifest 1\ncompiler 0.1.0\nkernel k\ntarget cpu x86-64 -\n"
       "mode train\n",
       "line 5: mode 'train' is neither 'prefill' nor 'decode'"},
      {"linac-manifest 1\ncompiler 0.1.0\nkernel 9k\n",
       "line 3: kernel name '9k' is not an identifier"},
      {"linac-manifest 1\ncompiler\n", "'compiler' takes exactly one field"},
      {"linac-manifest 1\ncompiler 0.1.0\nkernel k\ntarget cpu x86-64 -\n"
       "mode prefill\n",
       "corrupt manifest: no 'variant' record"},
  };
  for (const BadCase &bad : cases) {
    Manifest m;
    linac_error err;
    EXPECT_EQ(parse(bad.text, m, &err), LINAC_ERROR_LOAD) << bad.text;
    EXPECT_EQ(err.code, LINAC_ERROR_LOAD);
    std::string message = err.message;
    EXPECT_EQ(message.rfind("corrupt manifest: ", 0), 0u) << message;
    EXPECT_NE(message.find(bad.message), std::string::npos)
        << "message: " << message << "\nwanted: " << bad.message;
    // Nothing half-parsed is left behind.
    EXPECT_EQ(m.numTensors, 0);
    EXPECT_TRUE(m.kernel.empty());
  }
}

TEST(Manifest, TooManyFeatures) {
  std::string features;
  for (int i = 0; i <= kMaxFeatures; ++i)
    features += (i ? ",f" : "f") + std::to_string(i);
  std::string text = "linac-manifest 1\ncompiler 0.1.0\nkernel k\n"
                     "target cpu x86-64 " +
                     features + "\n";
  Manifest m;
  linac_error err;
  EXPECT_EQ(parse(text, m, &err), LINAC_ERROR_LOAD);
  EXPECT_NE(std::string(err.message).find("more than 32 CPU features"),
            std::string::npos)
      << err.message;
}

TEST(Manifest, NullErrorIsAllowed) {
  Manifest m;
  EXPECT_EQ(parse("garbage", m, nullptr), LINAC_ERROR_LOAD);
  EXPECT_EQ(parse(kGla, m, nullptr), LINAC_OK);
}

TEST(Manifest, LongFieldsAreQuotedShort) {
  std::string record(2000, 'x');
  Manifest m;
  linac_error err;
  EXPECT_EQ(parse(withHeader(record + "\n"), m, &err), LINAC_ERROR_LOAD);
  std::string message = err.message;
  EXPECT_LT(message.size(), 200u) << message;
  EXPECT_NE(message.find("unknown record 'xxxx"), std::string::npos);
}

TEST(Manifest, ValidateReportsCorruptManifests) {
  linac_error err;
  EXPECT_EQ(
      linac_validate("linac-manifest 1\nkernel k\nfoo\n", nullptr, 0, &err),
      LINAC_ERROR_LOAD);
  EXPECT_NE(std::string(err.message)
                .find("corrupt manifest: line 3: unknown record 'foo'"),
            std::string::npos)
      << err.message;
  EXPECT_EQ(linac_validate(nullptr, nullptr, 0, &err),
            LINAC_ERROR_INVALID_ARGUMENT);
}

/// Mutations of a valid manifest and plain random bytes: the parser either
/// accepts or reports a corrupt manifest, and never reads out of bounds
/// (which the sanitizer build would catch).
TEST(Manifest, SurvivesArbitraryBytes) {
  linac::Rng rng(1234);
  const std::string valid = kGla;
  int accepted = 0;
  for (int trial = 0; trial < 20000; ++trial) {
    std::string text;
    if (trial % 2) {
      text = valid;
      int edits = 1 + int(rng.below(4));
      for (int e = 0; e < edits; ++e) {
        size_t at = size_t(rng.below(text.size()));
        switch (rng.below(3)) {
        case 0:
          text[at] = char(rng.below(256));
          break;
        case 1:
          text.erase(at, 1 + size_t(rng.below(8)));
          break;
        default:
          text.insert(at, 1, " \n,0BTS"[rng.below(7)]);
        }
      }
    } else {
      size_t length = size_t(rng.below(64));
      for (size_t i = 0; i < length; ++i)
        text.push_back(char(rng.below(256)));
    }
    Manifest m;
    linac_error err;
    int32_t status = parse(text, m, &err);
    if (status == LINAC_OK) {
      ++accepted;
      continue;
    }
    ASSERT_EQ(status, LINAC_ERROR_LOAD);
    ASSERT_EQ(std::string(err.message).rfind("corrupt manifest: ", 0), 0u);
  }
  // Some single-byte edits keep the manifest valid (a digit in a size).
  EXPECT_GT(accepted, 0);
}

} // namespace
