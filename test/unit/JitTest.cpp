//===- JitTest.cpp - linac_compile: compile, cache, run -------------------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
//
// Each test compiles into a cache directory of its own. Kernels are checked
// against the float64 oracle at the SEMANTICS.md tolerances (relative RMS
// 1e-5 for f32 prefill, 1e-6 for f32 decode), so a cache that handed back
// the wrong artifact, or a corrupt one, fails here rather than passing.
//
//===----------------------------------------------------------------------===//

#include "linac/runtime/Npy.h"
#include "linac/runtime/Oracle.h"
#include "linac/runtime/RandomProblem.h"
#include "linac/runtime/linac.h"
#include "linac/runtime/linac_jit.h"

#include "gtest/gtest.h"

#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <dlfcn.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace linac;

namespace {

/// GLA, small enough to compile and run fast; prefill crosses chunk
/// boundaries at T = 100.
const char kGlaSpec[] = "[attention]\n"
                        "variant = \"gla\"\n"
                        "head_dim_k = 32\n"
                        "head_dim_v = 32\n"
                        "num_heads = 2\n";

const char kRetentionSpec[] = "[attention]\n"
                              "variant = \"retention\"\n"
                              "head_dim_k = 16\n"
                              "head_dim_v = 32\n"
                              "num_heads = 3\n"
                              "[modes]\n"
                              "decode = false\n";

/// linac IR for a GLA prefill kernel named `irgla` (the names of the
/// function arguments tell the ABI which tensor is which).
const char kGlaIR[] =
    "// A hand-written prefill kernel.\n"
    "func.func @irgla(%q: tensor<?x?x2x16xf32> {linac.arg = \"q\"},\n"
    "                 %k: tensor<?x?x2x16xf32> {linac.arg = \"k\"},\n"
    "                 %v: tensor<?x?x2x16xf32> {linac.arg = \"v\"},\n"
    "                 %g: tensor<?x?x2x16xf32> {linac.arg = \"g\"},\n"
    "                 %h0: tensor<?x2x16x16xf32> {linac.arg = \"h0\"})\n"
    "    -> (tensor<?x?x2x16xf32> {linac.arg = \"o\"},\n"
    "        tensor<?x2x16x16xf32> {linac.arg = \"ht\"})\n"
    "    attributes {linac.variant = \"gla\"} {\n"
    "  %o, %ht = linac.recurrence decay(diagonal)\n"
    "      q(%q : tensor<?x?x2x16xf32>) k(%k : tensor<?x?x2x16xf32>)\n"
    "      v(%v : tensor<?x?x2x16xf32>) g(%g : tensor<?x?x2x16xf32>)\n"
    "      h0(%h0 : tensor<?x2x16x16xf32>)\n"
    "      -> tensor<?x?x2x16xf32>, tensor<?x2x16x16xf32>\n"
    "  return %o, %ht : tensor<?x?x2x16xf32>, tensor<?x2x16x16xf32>\n"
    "}\n";

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

linac_tensor viewOf(NpyArray &array) {
  linac_tensor t{};
  t.data = array.bytes.data();
  t.dtype = array.dtype == DType::I32   ? LINAC_I32
            : array.dtype == DType::I64 ? LINAC_I64
                                        : LINAC_F32;
  t.rank = static_cast<int32_t>(array.shape.size());
  int64_t stride = 1;
  for (int d = t.rank - 1; d >= 0; --d) {
    t.shape[d] = array.shape[d];
    t.strides[d] = stride;
    stride *= array.shape[d];
  }
  return t;
}

std::vector<double> toDoubles(const NpyArray &array) {
  std::vector<double> out(array.numElements());
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = array.dataAs<float>()[i];
  return out;
}

/// Runs `kernelName` from `module` on seeded f32 inputs and returns the
/// larger relative RMS error of o and ht against the float64 oracle, or a
/// huge value (after recording a test failure) when it cannot run.
double runAgainstOracle(linac_module *module, const std::string &kernelName,
                        oracle::RandomProblemOptions options, bool decode) {
  constexpr double kCannotRun = 1e300;
  linac_error err{};
  linac_kernel *kernel = linac_module_kernel(module, kernelName.c_str(), &err);
  if (!kernel) {
    ADD_FAILURE() << kernelName << ": " << err.message;
    return kCannotRun;
  }
  options.dtype = DType::F32;
  options.initialState = true;
  oracle::RandomProblem problem;
  std::string error;
  if (!oracle::makeRandomProblem(options, problem, error)) {
    ADD_FAILURE() << error;
    return kCannotRun;
  }
  const int64_t B = options.B, T = options.T, HV = options.HV, K = options.K,
                V = options.V;
  NpyArray o = makeNpyArray(DType::F32, {B, T, HV, V});
  NpyArray ht = makeNpyArray(DType::F32, {B, HV, K, V});
  // Decode updates the state in place (ht is h0); the oracle needs h0 as it
  // was.
  NpyArray h0Before = problem.h0;
  std::map<std::string, linac_tensor> views;
  for (auto [name, array] : problem.inputs())
    views[name] = viewOf(const_cast<NpyArray &>(*array));
  views["o"] = viewOf(o);
  views["ht"] = decode ? views["h0"] : viewOf(ht);

  // Tensors in the order of the manifest's `tensor` lines.
  std::vector<const linac_tensor *> tensors;
  std::istringstream manifest(linac_kernel_manifest(kernel));
  for (std::string line; std::getline(manifest, line);) {
    std::istringstream words(line);
    std::string record, name;
    words >> record >> name;
    if (record != "tensor")
      continue;
    auto found = views.find(name);
    tensors.push_back(found == views.end() ? nullptr : &found->second);
  }
  if (linac_kernel_launch(kernel, tensors.data(),
                          static_cast<int32_t>(tensors.size()), nullptr,
                          &err) != LINAC_OK) {
    ADD_FAILURE() << kernelName << ": " << err.message;
    return kCannotRun;
  }

  oracle::Problem reference = problem.problem;
  if (!getTensorView(h0Before, reference.h0, error)) {
    ADD_FAILURE() << error;
    return kCannotRun;
  }
  oracle::Result expected;
  if (!oracle::run(reference, expected, error)) {
    ADD_FAILURE() << "oracle: " << error;
    return kCannotRun;
  }
  double oError = oracle::relativeRmsError(toDoubles(o), expected.o);
  double htError = oracle::relativeRmsError(toDoubles(decode ? problem.h0 : ht),
                                            expected.ht);
  if (!(oError == oError) || !(htError == htError))
    return kCannotRun; // NaN
  return std::max(oError, htError);
}

oracle::RandomProblemOptions glaProblem(int64_t T) {
  oracle::RandomProblemOptions options;
  options.variant = oracle::Variant::Gla;
  options.B = 2;
  options.T = T;
  options.H = options.HV = 2;
  options.K = options.V = 32;
  options.seed = 7;
  return options;
}

/// SEMANTICS.md tolerances for f32 (relative RMS error).
constexpr double kPrefillTolerance = 1e-5, kDecodeTolerance = 1e-6;

/// Checks both kernels of the GLA spec compiled under the name "tiny".
void expectGlaCorrect(linac_module *module) {
  EXPECT_LE(runAgainstOracle(module, "tiny_prefill", glaProblem(100), false),
            kPrefillTolerance);
  EXPECT_LE(runAgainstOracle(module, "tiny_decode", glaProblem(3), true),
            kDecodeTolerance);
}

class Jit : public ::testing::Test {
protected:
  void SetUp() override {
    const ::testing::TestInfo *test =
        ::testing::UnitTest::GetInstance()->current_test_info();
    dir = ::testing::TempDir() + "linac-jit-" + std::to_string(getpid()) + "-" +
          test->name();
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir, ec);
    ASSERT_FALSE(ec) << ec.message();
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir, ec);
  }

  linac_compile_options options(const char *name = "tiny") const {
    linac_compile_options o{};
    o.name = name;
    o.cache_dir = dir.c_str();
    return o;
  }

  linac_module *compile(const std::string &text, linac_compile_info *info,
                        linac_error *err, const char *name = "tiny") const {
    linac_compile_options o = options(name);
    return linac_compile(text.data(), text.size(), &o, info, err);
  }

  /// The artifacts (not lock files) in the cache directory.
  std::vector<std::string> entries() const {
    std::vector<std::string> found;
    for (const fs::directory_entry &entry : fs::directory_iterator(dir))
      if (entry.path().extension() == ".so")
        found.push_back(entry.path().string());
    return found;
  }

  std::string dir;
};

//===----------------------------------------------------------------------===//
// Compiling and running
//===----------------------------------------------------------------------===//

TEST_F(Jit, CompilesGlaAndMatchesTheOracle) {
  linac_compile_info info;
  linac_error err;
  linac_module *module = compile(kGlaSpec, &info, &err);
  ASSERT_NE(module, nullptr) << err.message;
  EXPECT_EQ(err.code, LINAC_OK);
  EXPECT_EQ(info.compiled, 1);
  EXPECT_EQ(info.rebuilt, 0);
  EXPECT_GT(info.milliseconds, 0.0);
  EXPECT_EQ(fs::path(info.path).parent_path(), fs::path(dir));
  EXPECT_EQ(entries(), std::vector<std::string>{info.path});
  expectGlaCorrect(module);
  linac_module_unload(module);
}

TEST_F(Jit, CompilesRetentionAndMatchesTheOracle) {
  linac_compile_info info;
  linac_error err;
  linac_module *module = compile(kRetentionSpec, &info, &err, "ret");
  ASSERT_NE(module, nullptr) << err.message;
  oracle::RandomProblemOptions problem;
  problem.variant = oracle::Variant::Retention;
  problem.B = 1;
  problem.T = 77;
  problem.H = problem.HV = 3;
  problem.K = 16;
  problem.V = 32;
  problem.seed = 3;
  EXPECT_LE(runAgainstOracle(module, "ret_prefill", problem, false),
            kPrefillTolerance);
  // [modes] decode = false: no decode kernel was built.
  EXPECT_EQ(linac_module_kernel(module, "ret_decode", &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_NOT_FOUND);
  linac_module_unload(module);
}

TEST_F(Jit, CompilesLinacIR) {
  linac_compile_options o{};
  o.cache_dir = dir.c_str();
  linac_compile_info info;
  linac_error err;
  // No source name: recognised as IR by its first line.
  linac_module *module =
      linac_compile(kGlaIR, std::strlen(kGlaIR), &o, &info, &err);
  ASSERT_NE(module, nullptr) << err.message;
  EXPECT_EQ(info.compiled, 1);
  oracle::RandomProblemOptions problem = glaProblem(70);
  problem.K = problem.V = 16;
  EXPECT_LE(runAgainstOracle(module, "irgla", problem, false),
            kPrefillTolerance);
  linac_module_unload(module);

  // The same text as TOML is a spec error, not IR.
  o.format = LINAC_SOURCE_TOML;
  EXPECT_EQ(linac_compile(kGlaIR, std::strlen(kGlaIR), &o, &info, &err),
            nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_SPEC);
  EXPECT_TRUE(contains(err.message, "<spec>:1:1: error:")) << err.message;
}

TEST_F(Jit, NullInfoAndErrorAreAllowed) {
  linac_compile_options o = options();
  linac_module *module =
      linac_compile(kGlaSpec, std::strlen(kGlaSpec), &o, nullptr, nullptr);
  ASSERT_NE(module, nullptr);
  linac_module_unload(module);
  EXPECT_EQ(linac_compile(nullptr, 0, &o, nullptr, nullptr), nullptr);
}

//===----------------------------------------------------------------------===//
// The cache
//===----------------------------------------------------------------------===//

TEST_F(Jit, SecondCallHitsTheCache) {
  linac_compile_info first, second;
  linac_error err;
  linac_module *module = compile(kGlaSpec, &first, &err);
  ASSERT_NE(module, nullptr) << err.message;
  linac_module_unload(module);
  struct stat before;
  ASSERT_EQ(stat(first.path, &before), 0);

  module = compile(kGlaSpec, &second, &err);
  ASSERT_NE(module, nullptr) << err.message;
  EXPECT_EQ(second.compiled, 0);
  EXPECT_EQ(second.rebuilt, 0);
  EXPECT_STREQ(second.path, first.path);
  // The very same file: not rewritten.
  struct stat after;
  ASSERT_EQ(stat(second.path, &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
  EXPECT_EQ(after.st_mtim.tv_sec, before.st_mtim.tv_sec);
  EXPECT_EQ(after.st_mtim.tv_nsec, before.st_mtim.tv_nsec);
  expectGlaCorrect(module);
  linac_module_unload(module);
}

TEST_F(Jit, KeyCoversTextNameFlagsAndTarget) {
  linac_compile_info a, b, c;
  linac_error err;
  linac_module *m = compile(kGlaSpec, &a, &err);
  ASSERT_NE(m, nullptr) << err.message;
  linac_module_unload(m);
  // Another name means other symbols: another entry.
  m = compile(kGlaSpec, &b, &err, "other");
  ASSERT_NE(m, nullptr) << err.message;
  EXPECT_EQ(b.compiled, 1);
  EXPECT_STRNE(a.path, b.path);
  linac_module_unload(m);
  // A comment changes the text, hence the key (the key never parses).
  m = compile(std::string(kGlaSpec) + "# same spec\n", &c, &err);
  ASSERT_NE(m, nullptr) << err.message;
  EXPECT_EQ(c.compiled, 1);
  EXPECT_STRNE(a.path, c.path);
  linac_module_unload(m);

  // Flags change the code: another entry, and still the same results.
  linac_compile_options outlined = options();
  outlined.flags = LINAC_COMPILE_OUTLINE_OPS;
  linac_compile_info d;
  m = linac_compile(kGlaSpec, std::strlen(kGlaSpec), &outlined, &d, &err);
  ASSERT_NE(m, nullptr) << err.message;
  EXPECT_EQ(d.compiled, 1);
  EXPECT_STRNE(a.path, d.path);
  expectGlaCorrect(m);
  linac_module_unload(m);

  __builtin_cpu_init();
  if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
    GTEST_SKIP() << "this CPU cannot run x86-64-v3 code";
  linac_compile_options o = options();
  o.target = "cpu:x86-64-v3";
  linac_compile_info v3;
  m = linac_compile(kGlaSpec, std::strlen(kGlaSpec), &o, &v3, &err);
  ASSERT_NE(m, nullptr) << err.message;
  EXPECT_EQ(v3.compiled, 1);
  EXPECT_STRNE(a.path, v3.path);
  linac_kernel *kernel = linac_module_kernel(m, "tiny_prefill", &err);
  ASSERT_NE(kernel, nullptr) << err.message;
  EXPECT_TRUE(contains(linac_kernel_manifest(kernel),
                       "target cpu x86-64-v3 avx2,fma,f16c\n"));
  expectGlaCorrect(m);
  linac_module_unload(m);
}

/// Damages the cache entry of kGlaSpec in one way; the next compile must
/// notice, rebuild, and give correct kernels.
class JitCorruption : public Jit {
protected:
  void
  expectRebuiltAfter(const std::function<void(const std::string &)> &damage) {
    linac_compile_info info;
    linac_error err;
    linac_module *module = compile(kGlaSpec, &info, &err);
    ASSERT_NE(module, nullptr) << err.message;
    // Unload first: damaging a file that is mapped would hit this process.
    linac_module_unload(module);
    std::string path = info.path;
    damage(path);

    std::vector<std::string> notes;
    linac_compile_options o = options();
    o.diagnostic = [](void *user, const char *text) {
      static_cast<std::vector<std::string> *>(user)->push_back(text);
    };
    o.diagnostic_user = &notes;
    module = linac_compile(kGlaSpec, std::strlen(kGlaSpec), &o, &info, &err);
    ASSERT_NE(module, nullptr) << err.message;
    EXPECT_EQ(info.compiled, 1);
    EXPECT_EQ(info.rebuilt, 1);
    ASSERT_EQ(notes.size(), 1u);
    EXPECT_TRUE(contains(notes[0], path + ": note: rebuilding the cache "
                                          "entry: "))
        << notes[0];
    EXPECT_EQ(std::string(info.path), path);
    expectGlaCorrect(module);
    linac_module_unload(module);

    // The rebuilt entry is whole again: the next call is a hit.
    module = compile(kGlaSpec, &info, &err);
    ASSERT_NE(module, nullptr) << err.message;
    EXPECT_EQ(info.compiled, 0);
    linac_module_unload(module);
  }
};

TEST_F(JitCorruption, TruncatedToHalf) {
  expectRebuiltAfter([](const std::string &path) {
    ASSERT_EQ(truncate(path.c_str(), fs::file_size(path) / 2), 0);
  });
}

TEST_F(JitCorruption, TruncatedToNothing) {
  expectRebuiltAfter(
      [](const std::string &path) { ASSERT_EQ(truncate(path.c_str(), 0), 0); });
}

/// Only the trailer is gone: the ELF image alone would load and run, but an
/// entry that cannot prove it is complete is not trusted.
TEST_F(JitCorruption, TrailerCutOff) {
  expectRebuiltAfter([](const std::string &path) {
    ASSERT_EQ(truncate(path.c_str(), fs::file_size(path) - 40), 0);
  });
}

/// Same size, a few bytes changed in the middle (code or data).
TEST_F(JitCorruption, BytesFlipped) {
  expectRebuiltAfter([](const std::string &path) {
    std::fstream file(path, std::ios::in | std::ios::out | std::ios::binary);
    file.seekp(static_cast<std::streamoff>(fs::file_size(path) / 2));
    file.write("\xde\xad\xbe\xef", 4);
  });
}

TEST_F(JitCorruption, Garbage) {
  expectRebuiltAfter([](const std::string &path) {
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    for (int i = 0; i < 1000; ++i)
      file << "not an artifact " << i << "\n";
  });
}

/// A valid entry of another key under this key's name.
TEST_F(JitCorruption, EntryOfAnotherSpec) {
  linac_compile_info other;
  linac_error err;
  linac_module *module = compile(kRetentionSpec, &other, &err);
  ASSERT_NE(module, nullptr) << err.message;
  linac_module_unload(module);
  std::string otherPath = other.path;
  expectRebuiltAfter([&](const std::string &path) {
    fs::copy_file(otherPath, path, fs::copy_options::overwrite_existing);
  });
}

/// The entry's name is a directory: not loadable, and not removable by
/// unlink; the compile then fails with an I/O error instead of looping.
TEST_F(Jit, EntryThatIsADirectoryIsAnError) {
  linac_compile_info info;
  linac_error err;
  linac_module *module = compile(kGlaSpec, &info, &err);
  ASSERT_NE(module, nullptr) << err.message;
  linac_module_unload(module);
  std::string path = info.path;
  fs::remove(path);
  fs::create_directory(path);
  fs::create_directory(path + "/inside");
  EXPECT_EQ(compile(kGlaSpec, &info, &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_IO);
  EXPECT_TRUE(contains(err.message, path)) << err.message;
}

TEST_F(Jit, ConcurrentProcessesShareOneCompile) {
  constexpr int kProcesses = 4;
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // The child reports through its exit status only: 10 compiled and
      // correct, 11 loaded and correct, 1 anything else.
      linac_compile_info info;
      linac_error err;
      linac_module *module = compile(kGlaSpec, &info, &err);
      if (!module)
        _exit(1);
      bool ok = runAgainstOracle(module, "tiny_prefill", glaProblem(100),
                                 false) <= kPrefillTolerance;
      linac_module_unload(module);
      _exit(!ok ? 1 : info.compiled ? 10 : 11);
    }
    children.push_back(pid);
  }
  int compiled = 0, loaded = 0;
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    int code = WEXITSTATUS(status);
    EXPECT_TRUE(code == 10 || code == 11) << "child exit status " << code;
    compiled += code == 10;
    loaded += code == 11;
  }
  // The entry lock lets one process compile; the others load its file.
  EXPECT_EQ(compiled, 1);
  EXPECT_EQ(loaded, kProcesses - 1);
  EXPECT_EQ(entries().size(), 1u);
  // No temporary file is left behind.
  for (const fs::directory_entry &entry : fs::directory_iterator(dir))
    EXPECT_FALSE(contains(entry.path().string(), ".tmp-")) << entry.path();
}

TEST_F(Jit, ConcurrentThreadsShareOneCompile) {
  constexpr int kThreads = 3;
  std::vector<linac_module *> modules(kThreads, nullptr);
  std::vector<linac_compile_info> infos(kThreads);
  std::vector<linac_error> errors(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back(
        [&, i] { modules[i] = compile(kGlaSpec, &infos[i], &errors[i]); });
  for (std::thread &thread : threads)
    thread.join();
  int compiled = 0;
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_NE(modules[i], nullptr) << errors[i].message;
    compiled += infos[i].compiled;
    EXPECT_STREQ(infos[i].path, infos[0].path);
  }
  EXPECT_EQ(compiled, 1);
  expectGlaCorrect(modules[1]);
  for (linac_module *module : modules)
    linac_module_unload(module);
}

/// Different keys compile at the same time, each in its own context.
TEST_F(Jit, ConcurrentThreadsCompileDifferentSpecs) {
  const char *names[] = {"t0", "t1", "t2"};
  constexpr int kThreads = 3;
  std::vector<linac_module *> modules(kThreads, nullptr);
  std::vector<linac_compile_info> infos(kThreads);
  std::vector<linac_error> errors(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i)
    threads.emplace_back([&, i] {
      modules[i] = compile(kGlaSpec, &infos[i], &errors[i], names[i]);
    });
  for (std::thread &thread : threads)
    thread.join();
  for (int i = 0; i < kThreads; ++i) {
    ASSERT_NE(modules[i], nullptr) << errors[i].message;
    EXPECT_EQ(infos[i].compiled, 1);
    EXPECT_LE(runAgainstOracle(modules[i], std::string(names[i]) + "_prefill",
                               glaProblem(100), false),
              kPrefillTolerance);
    linac_module_unload(modules[i]);
  }
  EXPECT_EQ(entries().size(), 3u);
}

//===----------------------------------------------------------------------===//
// Errors
//===----------------------------------------------------------------------===//

TEST_F(Jit, SpecErrorsSayWhere) {
  const std::string bad = "[attention]\n"
                          "variant = \"gla\"\n"
                          "head_dim_k = 2048\n"
                          "head_dim_v = 32\n"
                          "head_dimv = 3\n";
  std::vector<std::string> diagnostics;
  linac_compile_options o = options();
  o.diagnostic = [](void *user, const char *text) {
    static_cast<std::vector<std::string> *>(user)->push_back(text);
  };
  o.diagnostic_user = &diagnostics;
  linac_compile_info info;
  linac_error err;
  EXPECT_EQ(linac_compile(bad.data(), bad.size(), &o, &info, &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_SPEC);
  // Every problem, each with its line and column.
  EXPECT_TRUE(contains(err.message, "<spec>:3:14: error: 'head_dim_k' must be "
                                    "in [1, 1024]; got 2048"))
      << err.message;
  EXPECT_TRUE(contains(err.message, "<spec>:5:1: error: unknown key "
                                    "'head_dimv'"))
      << err.message;
  ASSERT_EQ(diagnostics.size(), 2u);
  EXPECT_TRUE(contains(err.message, diagnostics[0]));
  EXPECT_EQ(info.compiled, 0);
  EXPECT_TRUE(entries().empty());

  // A source name replaces <spec>.
  o.source_name = "models/mine.toml";
  EXPECT_EQ(linac_compile(bad.data(), bad.size(), &o, &info, &err), nullptr);
  EXPECT_TRUE(contains(err.message, "models/mine.toml:3:14: error:"))
      << err.message;
}

TEST_F(Jit, IRErrorsSayWhere) {
  linac_compile_options o = options(nullptr);
  linac_error err;
  // A verifier error: g with decay(none).
  const std::string unusedGate =
      "func.func @f(%q: tensor<1x?x2x16xf32>) {\n"
      "  %0 = linac.recurrence decay(none) q(%q : tensor<1x?x2x16xf32>) "
      "k(%q : tensor<1x?x2x16xf32>) v(%q : tensor<1x?x2x16xf32>) "
      "g(%q : tensor<1x?x2x16xf32>) -> tensor<1x?x2x16xf32>\n"
      "  return\n"
      "}\n";
  EXPECT_EQ(
      linac_compile(unusedGate.data(), unusedGate.size(), &o, nullptr, &err),
      nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_SPEC);
  EXPECT_TRUE(contains(err.message,
                       "<spec>:2:8: error: 'linac.recurrence' op 'g' is not "
                       "used by decay(none); remove it"))
      << err.message;
  // The op is not dumped into the message.
  EXPECT_FALSE(contains(err.message, "see current operation")) << err.message;

  // A syntax error.
  const std::string syntax = "module {\n  func.func @f( {\n}\n";
  EXPECT_EQ(linac_compile(syntax.data(), syntax.size(), &o, nullptr, &err),
            nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_SPEC);
  EXPECT_TRUE(contains(err.message, "<spec>:2:")) << err.message;

  // Valid IR with nothing to compile.
  const std::string empty = "module {\n}\n";
  EXPECT_EQ(linac_compile(empty.data(), empty.size(), &o, nullptr, &err),
            nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_SPEC);
  EXPECT_TRUE(
      contains(err.message, "<spec>:1:1: error: input has no linac.recurrence"))
      << err.message;
  EXPECT_TRUE(entries().empty());
}

/// What the backend does not support yet is an input error too, located at
/// the spec's [attention] table.
TEST_F(Jit, UnsupportedStructureIsASpecError) {
  // A head size the CPU backend cannot serve (not whole 16-lane vectors)
  // is refused by linac-chunk, at the key that sets it.
  const std::string ragged = "[attention]\n"
                             "variant = \"gla\"\n"
                             "head_dim_k = 24\n"
                             "head_dim_v = 16\n";
  linac_compile_options o = options();
  o.target = "cpu:x86-64-v4";
  linac_error err;
  EXPECT_EQ(linac_compile(ragged.data(), ragged.size(), &o, nullptr, &err),
            nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_SPEC);
  EXPECT_TRUE(contains(err.message, "<spec>:3:14: error: head dim K = 24"))
      << err.message;
  EXPECT_TRUE(entries().empty());
}

/// The text of data symbol `symbol` in the shared artifact at `path`
/// (a CUDA artifact's manifest), or "" when it has none.
std::string artifactString(const std::string &path, const std::string &symbol) {
  void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    return "";
  const char *text = static_cast<const char *>(dlsym(handle, symbol.c_str()));
  std::string copy = text ? text : "";
  dlclose(handle);
  return copy;
}

TEST_F(Jit, CudaTargetsCompileToCubins) {
  if (std::string(LINAC_TEST_CUDA_TOOLKIT).empty()) {
    linac_compile_options o = options();
    o.target = "cuda:sm_90a";
    linac_error err;
    EXPECT_EQ(linac_compile(kGlaSpec, std::strlen(kGlaSpec), &o, nullptr, &err),
              nullptr);
    EXPECT_EQ(err.code, LINAC_ERROR_TARGET);
    EXPECT_TRUE(contains(err.message, "no CUDA toolkit")) << err.message;
    GTEST_SKIP() << "built without a CUDA toolkit: cubins cannot be made";
  }
  linac_compile_options o = options();
  o.target = "cuda:sm_90a";
  linac_compile_info info;
  linac_error err;
  linac_module *module =
      linac_compile(kGlaSpec, std::strlen(kGlaSpec), &o, &info, &err);
  ASSERT_NE(module, nullptr) << err.message;
  EXPECT_EQ(info.compiled, 1);
  // A data-only artifact: per kernel a manifest and a cubin.
  std::string manifest = artifactString(info.path, "tiny_prefill_manifest");
  EXPECT_TRUE(contains(manifest, "\ntarget cuda sm_90a -\n")) << manifest;
  EXPECT_TRUE(contains(manifest, "\nlaunch 128 ")) << manifest;
  EXPECT_TRUE(contains(manifest, "\nschedule chunked ")) << manifest;
  EXPECT_TRUE(contains(artifactString(info.path, "tiny_decode_manifest"),
                       "\nschedule recurrent 0\n"));
  // Looking a kernel up loads its cubin onto the GPU: without one, the
  // runtime says why.
  int32_t devices = 0;
  linac_kernel *kernel = linac_module_kernel(module, "tiny_prefill", &err);
  if (linac_cuda_device_count(&devices, nullptr) != LINAC_OK || devices == 0) {
    EXPECT_EQ(kernel, nullptr);
    EXPECT_EQ(err.code, LINAC_ERROR_CUDA) << err.message;
  } else {
    EXPECT_TRUE(kernel || err.code == LINAC_ERROR_TARGET) << err.message;
  }
  linac_module_unload(module);

  // The second call loads the cached artifact.
  module = linac_compile(kGlaSpec, std::strlen(kGlaSpec), &o, &info, &err);
  ASSERT_NE(module, nullptr) << err.message;
  EXPECT_EQ(info.compiled, 0);
  linac_module_unload(module);

  // The spec's own [target] default counts when the options say nothing...
  const std::string cudaSpec =
      std::string(kGlaSpec) + "[target]\ndefault = \"cuda:sm_80\"\n";
  module = compile(cudaSpec, &info, &err);
  ASSERT_NE(module, nullptr) << err.message;
  EXPECT_TRUE(contains(artifactString(info.path, "tiny_prefill_manifest"),
                       "\ntarget cuda sm_80 -\n"));
  linac_module_unload(module);
  // ... and the options override it.
  o.target = "cpu";
  module = linac_compile(cudaSpec.data(), cudaSpec.size(), &o, nullptr, &err);
  ASSERT_NE(module, nullptr) << err.message;
  EXPECT_NE(linac_module_kernel(module, "tiny_prefill", &err), nullptr)
      << err.message;
  linac_module_unload(module);
}

TEST_F(Jit, EmulatedCudaKernelsMatchTheOracle) {
  // The CUDA kernels' own code, run on the CPU: what linac-run
  // --cuda-emulate runs. No toolkit or GPU needed.
  linac_compile_options o = options();
  o.target = "cuda:sm_90a";
  o.flags = LINAC_COMPILE_CUDA_EMULATE;
  linac_compile_info info;
  linac_error err;
  linac_module *module =
      linac_compile(kGlaSpec, std::strlen(kGlaSpec), &o, &info, &err);
  ASSERT_NE(module, nullptr) << err.message;
  EXPECT_EQ(info.compiled, 1);
  expectGlaCorrect(module);
  linac_module_unload(module);
  // Its own cache entry: neither the CPU kernels' nor the cubins'.
  std::string emulated = info.path;
  o.flags = 0;
  o.target = "cpu";
  module = linac_compile(kGlaSpec, std::strlen(kGlaSpec), &o, &info, &err);
  ASSERT_NE(module, nullptr) << err.message;
  EXPECT_EQ(info.compiled, 1);
  EXPECT_NE(emulated, info.path);
  linac_module_unload(module);
}

TEST_F(Jit, BadCudaOptions) {
  linac_compile_options o = options();
  linac_error err;
  auto expectInvalid = [&](const char *target, uint32_t flags,
                           const std::string &message) {
    o.target = target;
    o.flags = flags;
    EXPECT_EQ(linac_compile(kGlaSpec, std::strlen(kGlaSpec), &o, nullptr, &err),
              nullptr);
    EXPECT_EQ(err.code, LINAC_ERROR_INVALID_ARGUMENT) << err.message;
    EXPECT_TRUE(contains(err.message, message)) << err.message;
  };
  expectInvalid("cuda", 0, "expected cuda:sm_90a or cuda:sm_80");
  expectInvalid("cuda:sm_70", 0, "expected cuda:sm_90a or cuda:sm_80");
  expectInvalid("cpu", LINAC_COMPILE_CUDA_EMULATE,
                "LINAC_COMPILE_CUDA_EMULATE needs a cuda target");
  expectInvalid("cuda:sm_80",
                LINAC_COMPILE_CUDA_EMULATE | LINAC_COMPILE_OUTLINE_OPS,
                "LINAC_COMPILE_OUTLINE_OPS is for cpu targets");
  EXPECT_TRUE(entries().empty());
}

TEST_F(Jit, BadArguments) {
  linac_compile_options o = options();
  linac_error err;
  auto expectInvalid = [&](const std::string &text,
                           const linac_compile_options &opts,
                           const std::string &message) {
    EXPECT_EQ(linac_compile(text.data(), text.size(), &opts, nullptr, &err),
              nullptr);
    EXPECT_EQ(err.code, LINAC_ERROR_INVALID_ARGUMENT) << err.message;
    EXPECT_TRUE(contains(err.message, message)) << err.message;
  };
  EXPECT_EQ(linac_compile(nullptr, 4, &o, nullptr, &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_INVALID_ARGUMENT);
  expectInvalid(std::string(kGlaSpec) + '\0', o, "NUL byte at offset");

  linac_compile_options badName = options("1gla");
  expectInvalid(kGlaSpec, badName, "'1gla' is not a C identifier");
  linac_compile_options longName = options(nullptr);
  std::string tooLong(101, 'a');
  longName.name = tooLong.c_str();
  expectInvalid(kGlaSpec, longName, "is not a C identifier of at most 100");

  linac_compile_options irWithName = options("x");
  irWithName.format = LINAC_SOURCE_MLIR;
  expectInvalid(kGlaIR, irWithName, "options->name is for TOML specs");

  linac_compile_options badFormat = options();
  badFormat.format = 7;
  expectInvalid(kGlaSpec, badFormat, "unknown source format 7");

  linac_compile_options badFlags = options();
  badFlags.flags = LINAC_COMPILE_OUTLINE_OPS | 0x80u;
  expectInvalid(kGlaSpec, badFlags, "unknown bits in options->flags: 0x80");

  linac_compile_options badTarget = options();
  badTarget.target = "tpu";
  expectInvalid(kGlaSpec, badTarget, "unknown target 'tpu'");
  badTarget.target = "cpu:pentium";
  expectInvalid(kGlaSpec, badTarget, "unknown cpu 'pentium'");
  EXPECT_TRUE(entries().empty());
}

/// The text may end right where readable memory ends: nothing past `length`
/// is read. (MLIR's lexer looks one byte past its buffer for a NUL; the
/// .mlir fuzzer found that linac_compile handed it the caller's buffer.)
TEST_F(Jit, ReadsNothingPastTheText) {
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  void *mapping = mmap(nullptr, 2 * page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(mapping, MAP_FAILED);
  char *guard = static_cast<char *>(mapping) + page;
  ASSERT_EQ(mprotect(guard, page, PROT_NONE), 0);
  auto atPageEnd = [&](const std::string &text) {
    EXPECT_LE(text.size(), page);
    char *start = guard - text.size();
    std::memcpy(start, text.data(), text.size());
    return start;
  };
  linac_compile_options o = options(nullptr);
  linac_error err;

  // Valid IR ending in a newline, and IR that ends inside a symbol name.
  std::string ir = kGlaIR;
  linac_module *module =
      linac_compile(atPageEnd(ir), ir.size(), &o, nullptr, &err);
  EXPECT_NE(module, nullptr) << err.message;
  linac_module_unload(module);
  std::string cut = "func.func @zero_dpf";
  EXPECT_EQ(linac_compile(atPageEnd(cut), cut.size(), &o, nullptr, &err),
            nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_SPEC);
  EXPECT_TRUE(contains(err.message, "<spec>:1:")) << err.message;

  // A spec ending without a newline.
  o.name = "tiny";
  std::string spec = std::string(kGlaSpec) + "num_value_heads = 2";
  module = linac_compile(atPageEnd(spec), spec.size(), &o, nullptr, &err);
  EXPECT_NE(module, nullptr) << err.message;
  linac_module_unload(module);
  munmap(mapping, 2 * page);
}

TEST_F(Jit, UnusableCacheDirectoryIsAnIOError) {
  // A regular file where a directory must be.
  std::string file = dir + "/file";
  std::ofstream(file) << "x";
  std::string cache = file + "/cache";
  linac_compile_options o = options();
  o.cache_dir = cache.c_str();
  linac_error err;
  EXPECT_EQ(linac_compile(kGlaSpec, std::strlen(kGlaSpec), &o, nullptr, &err),
            nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_IO);
  EXPECT_TRUE(contains(err.message,
                       "cannot create the cache directory '" + cache + "'"))
      << err.message;
}

TEST_F(Jit, DefaultCacheDirectoryComesFromTheEnvironment) {
  std::string cache = dir + "/from-env";
  ASSERT_EQ(setenv("LINAC_CACHE_DIR", cache.c_str(), 1), 0);
  linac_compile_options o = options();
  o.cache_dir = nullptr;
  linac_compile_info info;
  linac_error err;
  linac_module *module =
      linac_compile(kGlaSpec, std::strlen(kGlaSpec), &o, &info, &err);
  unsetenv("LINAC_CACHE_DIR");
  ASSERT_NE(module, nullptr) << err.message;
  EXPECT_EQ(fs::path(info.path).parent_path(), fs::path(cache));
  linac_module_unload(module);
}

} // namespace
