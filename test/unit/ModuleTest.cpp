//===- ModuleTest.cpp - Loading, checking and launching kernels -----------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
//
// The artifact is test/unit/fake_kernel.c, built as a shared library; its
// path comes from CMake as LINAC_FAKE_KERNEL_PATH.
//
//===----------------------------------------------------------------------===//

#include "linac/runtime/Random.h"
#include "linac/runtime/linac.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <link.h>
#include <unistd.h>

namespace {

const char kFakeKernel[] = LINAC_FAKE_KERNEL_PATH;

/// A manifest for the doubling kernel of fake_kernel.c with a chosen
/// compiler and target line.
std::string doublingManifest(const std::string &compiler,
                             const std::string &target) {
  return "linac-manifest 1\ncompiler " + compiler +
         "\nkernel doubling\ntarget " + target +
         "\nmode prefill\nvariant linear_attn\n"
         "tensor q in required f32 B T H 4\n"
         "tensor o out required f32 B T H 4\n"
         "alias o q\n";
}

/// o = 2 q, written directly into a program (no module).
void doublingKernel(const linac_tensor *const *tensors,
                    linac_parallel_for_fn parallel_for, void *pool) {
  struct Closure {
    const linac_tensor *q, *o;
  } closure{tensors[0], tensors[1]};
  int64_t rows =
      tensors[0]->shape[0] * tensors[0]->shape[1] * tensors[0]->shape[2];
  parallel_for(
      pool, rows,
      [](void *c, int64_t begin, int64_t end) {
        auto *cl = static_cast<Closure *>(c);
        // Contiguous by the manifest's rules only in the last dim; these
        // tests pass contiguous tensors, so rows are 4 apart.
        for (int64_t r = begin; r < end; ++r)
          for (int i = 0; i < 4; ++i)
            static_cast<float *>(cl->o->data)[r * 4 + i] =
                2.0f * static_cast<const float *>(cl->q->data)[r * 4 + i];
      },
      &closure);
}

std::string message(const linac_error &err) { return err.message; }

bool contains(const linac_error &err, const std::string &text) {
  return message(err).find(text) != std::string::npos;
}

/// A file in the test's temporary directory, removed afterwards.
class TempFile {
public:
  explicit TempFile(const std::string &name)
      : path(::testing::TempDir() + "linac-" + std::to_string(getpid()) + "-" +
             name) {}
  ~TempFile() { std::remove(path.c_str()); }
  void write(const std::vector<char> &bytes) const {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), std::streamsize(bytes.size()));
  }
  std::string path;
};

std::vector<char> readFile(const char *path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>(std::istreambuf_iterator<char>(in),
                           std::istreambuf_iterator<char>());
}

struct Doubling {
  explicit Doubling(int64_t B, int64_t T, int64_t H)
      : in(size_t(B * T * H * 4)), out(in.size(), -1.0f) {
    for (size_t i = 0; i < in.size(); ++i)
      in[i] = float(i) * 0.5f - 3.0f;
    int64_t shape[4] = {B, T, H, 4};
    int64_t strides[4] = {T * H * 4, H * 4, 4, 1};
    q = {in.data(), LINAC_F32, 4, {}, {}};
    o = {out.data(), LINAC_F32, 4, {}, {}};
    for (int d = 0; d < 4; ++d) {
      q.shape[d] = o.shape[d] = shape[d];
      q.strides[d] = o.strides[d] = strides[d];
    }
    tensors[0] = &q;
    tensors[1] = &o;
  }
  bool doubled() const {
    for (size_t i = 0; i < in.size(); ++i)
      if (out[i] != 2.0f * in[i])
        return false;
    return true;
  }
  std::vector<float> in, out;
  linac_tensor q, o;
  const linac_tensor *tensors[2];
};

class Module : public ::testing::Test {
protected:
  void SetUp() override {
    module = linac_module_load(kFakeKernel, &err);
    ASSERT_NE(module, nullptr) << err.message;
  }
  void TearDown() override { linac_module_unload(module); }

  linac_module *module = nullptr;
  linac_error err = {};
};

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

TEST(ModuleLoad, MissingFile) {
  linac_error err;
  const char path[] = "/nonexistent/linac/kernels.so";
  EXPECT_EQ(linac_module_load(path, &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_LOAD);
  EXPECT_TRUE(contains(err, "cannot load '/nonexistent/linac/kernels.so'"))
      << err.message;
  EXPECT_TRUE(contains(err, "No such file")) << err.message;
}

/// A bare name means a file in the current directory, not a library found
/// along the system search path.
TEST(ModuleLoad, BareNamesAreNotSearchedFor) {
  linac_error err;
  EXPECT_EQ(linac_module_load("libc.so.6", &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_LOAD);
  EXPECT_TRUE(contains(err, "cannot load 'libc.so.6'")) << err.message;
}

TEST(ModuleLoad, GarbageFile) {
  linac::Rng rng(7);
  std::vector<char> bytes(4096);
  for (char &byte : bytes)
    byte = char(rng.below(256));
  TempFile file("garbage.so");
  file.write(bytes);
  linac_error err;
  EXPECT_EQ(linac_module_load(file.path.c_str(), &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_LOAD);
  EXPECT_TRUE(contains(err, file.path)) << err.message;
}

TEST(ModuleLoad, EmptyFileAndDirectory) {
  TempFile file("empty.so");
  file.write({});
  linac_error err;
  EXPECT_EQ(linac_module_load(file.path.c_str(), &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_LOAD);
  EXPECT_TRUE(contains(err, file.path)) << err.message;
  EXPECT_EQ(linac_module_load(::testing::TempDir().c_str(), &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_LOAD);
}

/// Where the last loadable segment of an ELF image ends in the file.
size_t loadedEnd(const std::vector<char> &image) {
  ElfW(Ehdr) header;
  if (image.size() < sizeof(header))
    return 0;
  std::memcpy(&header, image.data(), sizeof(header));
  size_t end = 0;
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    ElfW(Phdr) segment;
    size_t at = header.e_phoff + i * sizeof(segment);
    if (at + sizeof(segment) > image.size())
      return 0;
    std::memcpy(&segment, image.data() + at, sizeof(segment));
    if (segment.p_type == PT_LOAD)
      end = std::max(end, size_t(segment.p_offset + segment.p_filesz));
  }
  return end;
}

/// Prefixes of a real artifact that cut into its loadable segments are
/// refused. Without the loader's segment check glibc maps them past the end
/// of the file and the process dies of SIGBUS.
TEST(ModuleLoad, TruncatedArtifacts) {
  std::vector<char> whole = readFile(kFakeKernel);
  size_t end = loadedEnd(whole);
  ASSERT_GT(end, 4096u);
  ASSERT_LE(end, whole.size());
  TempFile file("truncated.so");
  for (size_t size : {size_t(0), size_t(3), size_t(63), size_t(64), size_t(200),
                      size_t(1000), end / 4, end / 2, end - 1}) {
    file.write(std::vector<char>(whole.begin(), whole.begin() + long(size)));
    linac_error err;
    linac_module *module = linac_module_load(file.path.c_str(), &err);
    EXPECT_EQ(module, nullptr) << size;
    linac_module_unload(module);
    EXPECT_EQ(err.code, LINAC_ERROR_LOAD) << size;
    EXPECT_TRUE(contains(err, file.path)) << err.message;
    if (size >= 1000)
      EXPECT_TRUE(contains(err, "the file is truncated")) << err.message;
  }
}

TEST(ModuleLoad, NullArguments) {
  linac_error err;
  EXPECT_EQ(linac_module_load(nullptr, &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(linac_module_kernel(nullptr, "good", &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_INVALID_ARGUMENT);
  linac_module_unload(nullptr);
  EXPECT_EQ(linac_kernel_manifest(nullptr), nullptr);
  EXPECT_EQ(linac_kernel_launch(nullptr, nullptr, 0, nullptr, &err),
            LINAC_ERROR_INVALID_ARGUMENT);
}

//===----------------------------------------------------------------------===//
// Looking kernels up
//===----------------------------------------------------------------------===//

TEST_F(Module, FindsAKernelOnce) {
  linac_kernel *kernel = linac_module_kernel(module, "good", &err);
  ASSERT_NE(kernel, nullptr) << err.message;
  EXPECT_EQ(err.code, LINAC_OK);
  EXPECT_EQ(std::string(linac_kernel_manifest(kernel))
                .rfind("linac-manifest 1\ncompiler 0.1.0\nkernel good\n", 0),
            0u);
  EXPECT_EQ(linac_module_kernel(module, "good", &err), kernel);
  linac_kernel_destroy(kernel); // Owned by the module: ignored.
  EXPECT_EQ(linac_module_kernel(module, "good", &err), kernel);
}

TEST_F(Module, MissingKernel) {
  EXPECT_EQ(linac_module_kernel(module, "nosuch", &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_NOT_FOUND);
  EXPECT_TRUE(contains(err, "no kernel 'nosuch' in '")) << err.message;
  EXPECT_TRUE(contains(err, "symbol nosuch_manifest not found")) << err.message;
}

TEST_F(Module, KernelWithoutManifest) {
  EXPECT_EQ(linac_module_kernel(module, "lonely", &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_NOT_FOUND);
  EXPECT_TRUE(contains(err, "symbol lonely_manifest not found")) << err.message;
}

TEST_F(Module, BadNames) {
  EXPECT_EQ(linac_module_kernel(module, "", &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(linac_module_kernel(module, nullptr, &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_INVALID_ARGUMENT);
  std::string longName(300, 'k');
  EXPECT_EQ(linac_module_kernel(module, longName.c_str(), &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_INVALID_ARGUMENT);
}

TEST_F(Module, OtherCompilerVersion) {
  EXPECT_EQ(linac_module_kernel(module, "old", &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_VERSION);
  EXPECT_TRUE(contains(err, "old: manifest from compiler 0.0.9, this runtime "
                            "is 0.1.0; recompile"))
      << err.message;
  EXPECT_TRUE(contains(err, kFakeKernel)) << err.message;
}

TEST_F(Module, OtherTarget) {
  EXPECT_EQ(linac_module_kernel(module, "gpu", &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_TARGET);
  EXPECT_TRUE(contains(err, "gpu: kernel compiled for target tpu v5; "
                            "this runtime runs cpu and cuda kernels only"))
      << err.message;
}

TEST_F(Module, CorruptManifest) {
  EXPECT_EQ(linac_module_kernel(module, "corrupt", &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_LOAD);
  EXPECT_TRUE(contains(err, "corrupt manifest: line 7: unknown record 'tensr'"))
      << err.message;
  EXPECT_TRUE(contains(err, kFakeKernel)) << err.message;
}

TEST_F(Module, ManifestNamingAnotherKernel) {
  EXPECT_EQ(linac_module_kernel(module, "renamed", &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_LOAD);
  EXPECT_TRUE(contains(err, "renamed_manifest names kernel 'something_else'"))
      << err.message;
}

TEST_F(Module, UnterminatedManifest) {
  EXPECT_EQ(linac_module_kernel(module, "unterminated", &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_LOAD);
  EXPECT_TRUE(contains(err, "unterminated_manifest in '"));
  EXPECT_TRUE(contains(err, "is not NUL-terminated")) << err.message;
}

//===----------------------------------------------------------------------===//
// Launching
//===----------------------------------------------------------------------===//

TEST_F(Module, LaunchRunsTheKernelOnThePool) {
  linac_kernel *kernel = linac_module_kernel(module, "good", &err);
  ASSERT_NE(kernel, nullptr) << err.message;
  for (int32_t threads = 0; threads <= 4; ++threads) {
    linac_pool *pool = nullptr;
    if (threads > 0) {
      pool = linac_pool_create(threads, &err);
      ASSERT_NE(pool, nullptr) << err.message;
    }
    for (int repeat = 0; repeat < 20; ++repeat) {
      Doubling problem(2, 9 + repeat, 3);
      ASSERT_EQ(linac_kernel_launch(kernel, problem.tensors, 2, pool, &err),
                LINAC_OK)
          << err.message;
      EXPECT_EQ(err.code, LINAC_OK);
      ASSERT_TRUE(problem.doubled()) << threads << " threads";
    }
    linac_pool_destroy(pool);
  }
}

TEST_F(Module, LaunchInPlaceThroughTheAlias) {
  linac_kernel *kernel = linac_module_kernel(module, "good", &err);
  ASSERT_NE(kernel, nullptr) << err.message;
  Doubling problem(1, 5, 2);
  std::vector<float> original = problem.in;
  problem.o = problem.q;
  ASSERT_EQ(linac_kernel_launch(kernel, problem.tensors, 2, nullptr, &err),
            LINAC_OK)
      << err.message;
  for (size_t i = 0; i < original.size(); ++i)
    ASSERT_EQ(problem.in[i], 2.0f * original[i]);
}

TEST_F(Module, LaunchValidatesFirst) {
  linac_kernel *kernel = linac_module_kernel(module, "good", &err);
  ASSERT_NE(kernel, nullptr) << err.message;
  Doubling problem(1, 5, 2);
  problem.o.shape[3] = 3;
  EXPECT_EQ(linac_kernel_launch(kernel, problem.tensors, 2, nullptr, &err),
            LINAC_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(err, "good: tensor 'o' has shape [1, 5, 2, 3]"))
      << err.message;
  for (float value : problem.out)
    ASSERT_EQ(value, -1.0f); // The kernel did not run.
  problem.o.shape[3] = 4;
  EXPECT_EQ(linac_kernel_launch(kernel, problem.tensors, 1, nullptr, &err),
            LINAC_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(err, "1 tensors given, the manifest declares 2"));
}

//===----------------------------------------------------------------------===//
// Kernels linked into the program
//===----------------------------------------------------------------------===//

TEST(KernelCreate, RunsALinkedKernel) {
  linac_error err;
  std::string manifest = doublingManifest(LINAC_VERSION, "cpu x86-64 -");
  linac_kernel *kernel =
      linac_kernel_create(manifest.c_str(), doublingKernel, &err);
  ASSERT_NE(kernel, nullptr) << err.message;
  // The manifest was copied.
  manifest.assign(manifest.size(), 'x');
  EXPECT_EQ(
      std::string(linac_kernel_manifest(kernel)).rfind("linac-manifest 1\n", 0),
      0u);
  linac_pool *pool = linac_pool_create(3, &err);
  ASSERT_NE(pool, nullptr) << err.message;
  Doubling problem(3, 4, 5);
  EXPECT_EQ(linac_kernel_launch(kernel, problem.tensors, 2, pool, &err),
            LINAC_OK)
      << err.message;
  EXPECT_TRUE(problem.doubled());
  linac_pool_destroy(pool);
  linac_kernel_destroy(kernel);
  linac_kernel_destroy(nullptr);
}

TEST(KernelCreate, SameChecksAsTheLoader) {
  linac_error err;
  EXPECT_EQ(
      linac_kernel_create(doublingManifest("0.0.9", "cpu x86-64 -").c_str(),
                          doublingKernel, &err),
      nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_VERSION);
  EXPECT_TRUE(contains(err, "doubling: manifest from compiler 0.0.9, this "
                            "runtime is 0.1.0; recompile"))
      << err.message;

  EXPECT_EQ(linac_kernel_create(
                doublingManifest(LINAC_VERSION, "tpu v5").c_str(),
                doublingKernel, &err),
            nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_TARGET);
  // A CUDA manifest has its own constructor.
  EXPECT_EQ(linac_kernel_create(
                (doublingManifest(LINAC_VERSION, "cuda sm_90a -") +
                 "launch 128 0 1 -\n")
                    .c_str(),
                doublingKernel, &err),
            nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_TARGET);
  EXPECT_TRUE(contains(err, "create it with linac_cuda_kernel_create"))
      << err.message;

  EXPECT_EQ(
      linac_kernel_create("linac-manifest 1\nnonsense\n", doublingKernel, &err),
      nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_LOAD);
  EXPECT_TRUE(contains(err, "corrupt manifest: line 2")) << err.message;

  EXPECT_EQ(linac_kernel_create(nullptr, doublingKernel, &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(linac_kernel_create(
                doublingManifest(LINAC_VERSION, "cpu x86-64 -").c_str(),
                nullptr, &err),
            nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_INVALID_ARGUMENT);
}

#if defined(__x86_64__) || defined(__i386__)
/// The first of a few rarely combined features that this CPU lacks: fma4
/// and xop exist only on pre-Zen AMD parts, amx-tile and avx512fp16 only on
/// recent Intel server parts, sse4a only on AMD.
const char *missingFeature() {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("fma4"))
    return "fma4";
  if (!__builtin_cpu_supports("xop"))
    return "xop";
  if (!__builtin_cpu_supports("amx-tile"))
    return "amx-tile";
  if (!__builtin_cpu_supports("avx512fp16"))
    return "avx512fp16";
  if (!__builtin_cpu_supports("sse4a"))
    return "sse4a";
  return nullptr;
}

TEST(KernelCreate, UnsupportedCpuFeature) {
  const char *feature = missingFeature();
  if (!feature)
    GTEST_SKIP() << "this CPU has every feature the test knows to be rare";
  linac_error err;
  std::string target = std::string("cpu x86-64-v4 sse2,") + feature;
  EXPECT_EQ(linac_kernel_create(doublingManifest(LINAC_VERSION, target).c_str(),
                                doublingKernel, &err),
            nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_TARGET);
  EXPECT_TRUE(contains(err, std::string("doubling: kernel compiled for "
                                        "x86-64-v4 needs ") +
                                feature + ", which this CPU lacks"))
      << err.message;
}

TEST(KernelCreate, SupportedCpuFeatures) {
  // Every x86-64 CPU has SSE2.
  linac_error err;
  linac_kernel *kernel = linac_kernel_create(
      doublingManifest(LINAC_VERSION, "cpu x86-64 sse,sse2").c_str(),
      doublingKernel, &err);
  EXPECT_NE(kernel, nullptr) << err.message;
  linac_kernel_destroy(kernel);
}
#endif

TEST(KernelCreate, UnknownCpuFeature) {
  linac_error err;
  EXPECT_EQ(linac_kernel_create(
                doublingManifest(LINAC_VERSION, "cpu x86-64-v9 warp9").c_str(),
                doublingKernel, &err),
            nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_TARGET);
  EXPECT_TRUE(contains(err, "doubling: kernel compiled for x86-64-v9 needs "
                            "CPU feature 'warp9', which this runtime cannot "
                            "detect"))
      << err.message;
}

TEST(CheckHost, SameChecksWithoutAKernel) {
  linac_error err;
  EXPECT_EQ(linac_check_host(
                doublingManifest(LINAC_VERSION, "cpu x86-64 sse2").c_str(),
                &err),
            LINAC_OK)
      << err.message;
  EXPECT_EQ(linac_check_host(
                doublingManifest("0.0.9", "cpu x86-64 -").c_str(), &err),
            LINAC_ERROR_VERSION);
  EXPECT_EQ(linac_check_host(
                doublingManifest(LINAC_VERSION, "cpu x86-64-v9 warp9").c_str(),
                &err),
            LINAC_ERROR_TARGET);
  EXPECT_TRUE(contains(err, "needs CPU feature 'warp9'")) << err.message;
#if defined(__x86_64__) || defined(__i386__)
  if (const char *feature = missingFeature()) {
    std::string target = std::string("cpu x86-64-v4 ") + feature;
    EXPECT_EQ(linac_check_host(
                  doublingManifest(LINAC_VERSION, target).c_str(), &err),
              LINAC_ERROR_TARGET);
    EXPECT_TRUE(contains(err, "which this CPU lacks")) << err.message;
  }
#endif
  EXPECT_EQ(linac_check_host("linac-manifest 1\nnonsense\n", &err),
            LINAC_ERROR_LOAD);
  EXPECT_EQ(linac_check_host(nullptr, &err), LINAC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(linac_check_host(nullptr, nullptr), LINAC_ERROR_INVALID_ARGUMENT);
}

} // namespace
