//===- CudaTest.cpp - The runtime's CUDA loader without a GPU -------------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
//
// Every path of the CUDA loader that does not need a GPU: no driver, a
// driver that fails, and, through the fake driver of fake_cuda.c (named in
// LINAC_LIBCUDA), contexts, the architecture and shared-memory checks,
// device pointer checks, and the exact grid and parameters of a launch.
// The kernels themselves never run here; see docs/cuda.md for what does.
//
//===----------------------------------------------------------------------===//

#include "../../runtime/Cuda.h"
#include "../../runtime/CudaDevice.h"

#include "linac/runtime/linac.h"

#include "gtest/gtest.h"

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <dlfcn.h>

namespace {

const char kFakeCuda[] = LINAC_FAKE_CUDA_PATH;
const char kFakeKernel[] = LINAC_FAKE_KERNEL_PATH;

bool contains(const linac_error &err, const std::string &text) {
  return std::string(err.message).find(text) != std::string::npos;
}

/// The manifest of a small CUDA kernel: q [B, T, H, 4] and an optional
/// state h0 [S, HV, 4, 4] in, o [B, T, HV, 4] out, cu_seqlens optional.
std::string cudaManifest(const std::string &arch = "sm_90a",
                         int64_t shared = 1024, bool varlen = false) {
  std::string text = "linac-manifest 1\ncompiler " LINAC_VERSION
                     "\nkernel la_prefill\ntarget cuda " +
                     arch +
                     " -\nmode prefill\nvariant linear_attn\nlaunch 128 " +
                     std::to_string(shared) + " 2 h0\n" +
                     "tensor q in required bf16 B T H 4\n"
                     "tensor v in required bf16 B T HV 4\n"
                     "tensor h0 in optional f32 S HV 4 4\n";
  if (varlen)
    text += "tensor cu_seqlens in optional i32 N1\n";
  return text + "tensor o out required bf16 B T HV 4\n";
}

const unsigned char kCubin[8] = {0x7f, 'E', 'L', 'F'};

/// Makes the runtime open the driver again: the loader's and the device
/// helpers' state.
void resetDriver() {
  linac::cuda::resetDeviceHelpersForTesting();
  linac::cuda::resetDriverForTesting();
}

/// The fake driver's controls, looked up in the same library instance the
/// runtime opens.
struct Fake {
  void *handle = nullptr;
  void (*reset)() = nullptr;
  void (*set)(const char *, int) = nullptr;
  int (*get)(const char *) = nullptr;
  const char *(*functionName)() = nullptr;
  void *(*stream)() = nullptr;
  uint64_t (*param)(int) = nullptr;
  void (*registerRange)(const void *, size_t) = nullptr;
  uint64_t (*encoded)(int, const char *, int) = nullptr;
  uint64_t (*mapWord)(int, int) = nullptr;
  uint64_t (*mapAddress)(int) = nullptr;
};

class Cuda : public ::testing::Test {
protected:
  void SetUp() override {
    fake.handle = dlopen(kFakeCuda, RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(fake.handle, nullptr) << dlerror();
    auto find = [&](auto &slot, const char *name) {
      slot = reinterpret_cast<std::remove_reference_t<decltype(slot)>>(
          dlsym(fake.handle, name));
      ASSERT_NE(slot, nullptr) << name;
    };
    find(fake.reset, "fake_cuda_reset");
    find(fake.set, "fake_cuda_set");
    find(fake.get, "fake_cuda_get");
    find(fake.functionName, "fake_cuda_function_name");
    find(fake.stream, "fake_cuda_stream");
    find(fake.param, "fake_cuda_param");
    find(fake.registerRange, "fake_cuda_register");
    find(fake.encoded, "fake_cuda_encoded");
    find(fake.mapWord, "fake_cuda_map_word");
    find(fake.mapAddress, "fake_cuda_map_address");
    fake.reset();
    useDriver(kFakeCuda);
  }
  void TearDown() override {
    useDriver(nullptr);
    if (fake.handle)
      dlclose(fake.handle);
  }
  static void useDriver(const char *path) {
    if (path)
      setenv("LINAC_LIBCUDA", path, 1);
    else
      unsetenv("LINAC_LIBCUDA");
    resetDriver();
  }

  Fake fake;
  linac_error err;
};

/// Host buffers standing in for device memory, registered with the fake.
struct Tensors {
  std::vector<uint16_t> q, v, o;
  std::vector<float> h0;
  std::vector<int32_t> cu;
  linac_tensor tq{}, tv{}, th0{}, to{}, tcu{};

  Tensors(int64_t B, int64_t T, int64_t H, int64_t HV)
      : q(B * T * H * 4), v(B * T * HV * 4), o(B * T * HV * 4),
        h0(B * HV * 16) {
    auto view = [](linac_tensor &t, void *data, int32_t dtype,
                   std::vector<int64_t> shape) {
      t.data = data;
      t.dtype = dtype;
      t.rank = static_cast<int32_t>(shape.size());
      int64_t stride = 1;
      for (int d = t.rank - 1; d >= 0; --d) {
        t.shape[d] = shape[d];
        t.strides[d] = stride;
        stride *= shape[d];
      }
    };
    view(tq, q.data(), LINAC_BF16, {B, T, H, 4});
    view(tv, v.data(), LINAC_BF16, {B, T, HV, 4});
    view(th0, h0.data(), LINAC_F32, {B, HV, 4, 4});
    view(to, o.data(), LINAC_BF16, {B, T, HV, 4});
  }
  void registerAll(const Fake &fake) {
    fake.registerRange(q.data(), q.size() * 2);
    fake.registerRange(v.data(), v.size() * 2);
    fake.registerRange(o.data(), o.size() * 2);
    fake.registerRange(h0.data(), h0.size() * 4);
  }
};

//===----------------------------------------------------------------------===//
// No driver, or a driver that does not work
//===----------------------------------------------------------------------===//

TEST_F(Cuda, MissingDriverLibrary) {
  useDriver("/nonexistent/libcuda.so.1");
  int32_t count = -1;
  EXPECT_EQ(linac_cuda_device_count(&count, &err), LINAC_ERROR_CUDA);
  EXPECT_EQ(count, 0);
  EXPECT_TRUE(contains(err, "cannot load the CUDA driver "
                            "'/nonexistent/libcuda.so.1'"))
      << err.message;
  EXPECT_TRUE(contains(err, "CUDA kernels need an NVIDIA driver")) << err.message;
  std::string manifest = cudaManifest();
  EXPECT_EQ(linac_cuda_kernel_create(manifest.c_str(), kCubin, sizeof(kCubin),
                                     &err),
            nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_CUDA);
}

TEST_F(Cuda, DefaultDriverOnThisMachine) {
  useDriver(nullptr);
  int32_t count = 0;
  if (linac_cuda_device_count(&count, &err) == LINAC_OK)
    GTEST_SKIP() << "this machine has a CUDA driver (" << count
                 << " devices); the no-driver message is tested elsewhere";
  EXPECT_EQ(err.code, LINAC_ERROR_CUDA);
  // Either no libcuda.so.1 at all, or one that cannot initialize.
  EXPECT_TRUE(contains(err, "libcuda.so.1") || contains(err, "cuInit failed"))
      << err.message;
}

TEST_F(Cuda, LibraryWithoutTheDriverApi) {
  useDriver(kFakeKernel);
  int32_t count = 0;
  EXPECT_EQ(linac_cuda_device_count(&count, &err), LINAC_ERROR_CUDA);
  EXPECT_TRUE(contains(err, "has no cuGetErrorName")) << err.message;
}

TEST_F(Cuda, InitFailures) {
  for (auto [code, text] :
       {std::pair<int, const char *>{100, "cuInit failed: CUDA_ERROR_NO_DEVICE "
                                          "(no CUDA-capable device is "
                                          "detected)"},
        {34, "cuInit failed: CUDA_ERROR_STUB_LIBRARY (CUDA driver is a stub "
             "library)"},
        {999, "cuInit failed: CUDA error 999"}}) {
    fake.set("init", code);
    resetDriver();
    int32_t count = 0;
    EXPECT_EQ(linac_cuda_device_count(&count, &err), LINAC_ERROR_CUDA);
    EXPECT_TRUE(contains(err, text)) << err.message;
  }
  fake.set("init", 0);
  resetDriver();
  int32_t count = 0;
  EXPECT_EQ(linac_cuda_device_count(&count, &err), LINAC_OK) << err.message;
  EXPECT_EQ(count, 1);
}

//===----------------------------------------------------------------------===//
// Loading
//===----------------------------------------------------------------------===//

TEST_F(Cuda, LoadsIntoThePrimaryContext) {
  std::string manifest = cudaManifest("sm_90a", 100000);
  linac_kernel *kernel = linac_cuda_kernel_create(manifest.c_str(), kCubin,
                                                  sizeof(kCubin), &err);
  ASSERT_NE(kernel, nullptr) << err.message;
  EXPECT_EQ(fake.get("moduleLoads"), 1);
  EXPECT_STREQ(fake.functionName(), "la_prefill");
  // More than 48 KiB of dynamic shared memory needs the opt-in.
  EXPECT_EQ(fake.get("sharedAttribute"), 100000);
  EXPECT_EQ(fake.get("retains"), 1);
  linac_kernel_destroy(kernel);
  EXPECT_EQ(fake.get("moduleUnloads"), 1);
  EXPECT_EQ(fake.get("releases"), 1);
  EXPECT_EQ(fake.get("balanced"), 1);
}

TEST_F(Cuda, UsesTheCurrentContext) {
  fake.set("current", 1);
  std::string manifest = cudaManifest();
  linac_kernel *kernel = linac_cuda_kernel_create(manifest.c_str(), kCubin,
                                                  sizeof(kCubin), &err);
  ASSERT_NE(kernel, nullptr) << err.message;
  EXPECT_EQ(fake.get("retains"), 0);
  EXPECT_EQ(fake.get("sharedAttribute"), 0); // 1 KiB needs no opt-in.
  linac_kernel_destroy(kernel);
  EXPECT_EQ(fake.get("releases"), 0);
}

TEST_F(Cuda, ArchitectureMustMatch) {
  struct Case {
    const char *arch;
    int major, minor;
    bool ok;
  } cases[] = {{"sm_90a", 9, 0, true},  {"sm_90a", 8, 6, false},
               {"sm_90a", 10, 0, false}, {"sm_80", 8, 0, true},
               {"sm_80", 8, 9, true},   {"sm_80", 9, 0, false}};
  for (const Case &c : cases) {
    fake.set("major", c.major);
    fake.set("minor", c.minor);
    std::string manifest = cudaManifest(c.arch);
    linac_kernel *kernel = linac_cuda_kernel_create(manifest.c_str(), kCubin,
                                                    sizeof(kCubin), &err);
    EXPECT_EQ(kernel != nullptr, c.ok) << c.arch << " " << err.message;
    if (!c.ok) {
      EXPECT_EQ(err.code, LINAC_ERROR_TARGET);
      EXPECT_TRUE(contains(err, std::string("kernel compiled for ") + c.arch))
          << err.message;
      EXPECT_TRUE(contains(err, "recompile for its architecture"))
          << err.message;
    }
    linac_kernel_destroy(kernel);
  }
  // Every failed load gave its context back.
  EXPECT_EQ(fake.get("retains"), fake.get("releases"));
  EXPECT_EQ(fake.get("balanced"), 1);

  std::string unknown = cudaManifest("sm_75");
  EXPECT_EQ(linac_cuda_kernel_create(unknown.c_str(), kCubin, sizeof(kCubin),
                                     &err),
            nullptr);
  EXPECT_TRUE(contains(err, "unknown CUDA architecture 'sm_75'"))
      << err.message;
}

TEST_F(Cuda, SharedMemoryMustFit) {
  fake.set("optin", 99 * 1024);
  std::string manifest = cudaManifest("sm_90a", 150000);
  EXPECT_EQ(linac_cuda_kernel_create(manifest.c_str(), kCubin, sizeof(kCubin),
                                     &err),
            nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_TARGET);
  EXPECT_TRUE(contains(err, "needs 150000 bytes of shared memory per block, "
                            "device 0 allows 101376"))
      << err.message;
}

TEST_F(Cuda, ModuleLoadErrorsAreMessages) {
  fake.set("load", 209);
  std::string manifest = cudaManifest();
  EXPECT_EQ(linac_cuda_kernel_create(manifest.c_str(), kCubin, sizeof(kCubin),
                                     &err),
            nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_CUDA);
  EXPECT_TRUE(contains(err, "la_prefill: cuModuleLoadData failed: "
                            "CUDA_ERROR_NO_BINARY_FOR_GPU (no kernel image is "
                            "available for execution on the device)"))
      << err.message;
  EXPECT_EQ(fake.get("retains"), fake.get("releases"));
}

TEST_F(Cuda, WrongKindOfKernel) {
  std::string cpu = "linac-manifest 1\ncompiler " LINAC_VERSION
                    "\nkernel k\ntarget cpu x86-64 -\nmode prefill\n"
                    "variant linear_attn\n";
  EXPECT_EQ(linac_cuda_kernel_create(cpu.c_str(), kCubin, sizeof(kCubin), &err),
            nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_TARGET);
  EXPECT_TRUE(contains(err, "linac_cuda_kernel_create takes cuda kernels"))
      << err.message;
  std::string manifest = cudaManifest();
  EXPECT_EQ(linac_cuda_kernel_create(manifest.c_str(), nullptr, 8, &err),
            nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(linac_cuda_kernel_create(manifest.c_str(), kCubin, 0, &err),
            nullptr);
  EXPECT_TRUE(contains(err, "the cubin is empty")) << err.message;

  linac_kernel *kernel = linac_cuda_kernel_create(manifest.c_str(), kCubin,
                                                  sizeof(kCubin), &err);
  ASSERT_NE(kernel, nullptr) << err.message;
  EXPECT_EQ(linac_kernel_launch(kernel, nullptr, 0, nullptr, &err),
            LINAC_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(err, "la_prefill is a CUDA kernel; launch it with "
                            "linac_kernel_launch_cuda"))
      << err.message;
  linac_kernel_destroy(kernel);
  EXPECT_EQ(linac_kernel_launch_cuda(nullptr, nullptr, 0, nullptr, &err),
            LINAC_ERROR_INVALID_ARGUMENT);
}

TEST_F(Cuda, ModuleArtifacts) {
  linac_module *module = linac_module_load(kFakeKernel, &err);
  ASSERT_NE(module, nullptr) << err.message;
  linac_kernel *kernel = linac_module_kernel(module, "cudak", &err);
  ASSERT_NE(kernel, nullptr) << err.message;
  EXPECT_STREQ(fake.functionName(), "cudak");
  EXPECT_EQ(fake.get("sharedAttribute"), 65536);
  EXPECT_EQ(linac_module_kernel(module, "cudak", &err), kernel);
  EXPECT_EQ(linac_module_kernel(module, "nocubin", &err), nullptr);
  EXPECT_EQ(err.code, LINAC_ERROR_NOT_FOUND);
  EXPECT_TRUE(contains(err, "symbol nocubin_cubin not found")) << err.message;
  // A CPU kernel of the same artifact still launches on a pool, not here.
  linac_kernel *cpu = linac_module_kernel(module, "good", &err);
  ASSERT_NE(cpu, nullptr) << err.message;
  EXPECT_EQ(linac_kernel_launch_cuda(cpu, nullptr, 0, nullptr, &err),
            LINAC_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(err, "good is a CPU kernel")) << err.message;
  linac_module_unload(module);
  EXPECT_EQ(fake.get("moduleUnloads"), 1);
  EXPECT_EQ(fake.get("retains"), fake.get("releases"));
}

//===----------------------------------------------------------------------===//
// Launching
//===----------------------------------------------------------------------===//

class CudaLaunch : public Cuda {
protected:
  void SetUp() override {
    Cuda::SetUp();
    manifest = cudaManifest("sm_90a", 70000, /*varlen=*/true);
    kernel = linac_cuda_kernel_create(manifest.c_str(), kCubin, sizeof(kCubin),
                                      &err);
    ASSERT_NE(kernel, nullptr) << err.message;
  }
  void TearDown() override {
    linac_kernel_destroy(kernel);
    Cuda::TearDown();
  }
  std::string manifest;
  linac_kernel *kernel = nullptr;
};

TEST_F(CudaLaunch, GridAndParameters) {
  Tensors t(/*B=*/3, /*T=*/5, /*H=*/2, /*HV=*/4);
  t.registerAll(fake);
  const linac_tensor *tensors[] = {&t.tq, &t.tv, &t.th0, nullptr, &t.to};
  // 5 tensors of rank 4, 4, 4, 1, 4: 11 + 11 + 11 + 5 + 11 slots, then the
  // flag of h0.
  fake.set("params", 50);
  int stream;
  ASSERT_EQ(linac_kernel_launch_cuda(kernel, tensors, 5, &stream, &err),
            LINAC_OK)
      << err.message;
  EXPECT_EQ(fake.get("launches"), 1);
  EXPECT_EQ(fake.get("grid"), 3 * 4 * 2); // B x HV x value tiles
  EXPECT_EQ(fake.get("block"), 128);
  EXPECT_EQ(fake.get("shared"), 70000);
  EXPECT_EQ(fake.stream(), &stream);
  // q: data twice, offset 0, sizes, strides.
  EXPECT_EQ(fake.param(0), reinterpret_cast<uintptr_t>(t.q.data()));
  EXPECT_EQ(fake.param(1), reinterpret_cast<uintptr_t>(t.q.data()));
  EXPECT_EQ(fake.param(2), 0u);
  const uint64_t qShape[] = {3, 5, 2, 4}, qStrides[] = {40, 8, 4, 1};
  for (int d = 0; d < 4; ++d) {
    EXPECT_EQ(fake.param(3 + d), qShape[d]);
    EXPECT_EQ(fake.param(7 + d), qStrides[d]);
  }
  // h0 is the third descriptor, cu_seqlens (absent) the fourth: zeros.
  EXPECT_EQ(fake.param(22), reinterpret_cast<uintptr_t>(t.h0.data()));
  for (int i = 33; i < 38; ++i)
    EXPECT_EQ(fake.param(i), 0u) << i;
  EXPECT_EQ(fake.param(38), reinterpret_cast<uintptr_t>(t.o.data()));
  // The presence flag of h0, an int32 in the last slot.
  EXPECT_EQ(static_cast<int32_t>(fake.param(49)), 1);

  // Without h0 the flag is 0 and its descriptor zeros.
  const linac_tensor *noState[] = {&t.tq, &t.tv, nullptr, nullptr, &t.to};
  ASSERT_EQ(linac_kernel_launch_cuda(kernel, noState, 5, nullptr, &err),
            LINAC_OK)
      << err.message;
  EXPECT_EQ(fake.param(22), 0u);
  EXPECT_EQ(static_cast<int32_t>(fake.param(49)), 0);
  EXPECT_EQ(fake.stream(), nullptr);
  EXPECT_EQ(fake.get("balanced"), 1);
}

TEST_F(Cuda, GridWithStaticHeadCounts) {
  // A spec with num_heads fixes H and HV in the manifest (what linacc
  // writes for every example), so no symbol binds HV: the grid reads it off
  // o, in either layout.
  for (bool headMajor : {false, true}) {
    std::string text = "linac-manifest 1\ncompiler " LINAC_VERSION
                       "\nkernel la_prefill\ntarget cuda sm_90a -\n"
                       "mode prefill\nvariant linear_attn\n"
                       "launch 128 1024 2 -\n";
    text += headMajor ? "tensor q in required bf16 B 1 T 4\n"
                        "tensor v in required bf16 B 4 T 4\n"
                        "tensor o out required bf16 B 4 T 4\n"
                      : "tensor q in required bf16 B T 1 4\n"
                        "tensor v in required bf16 B T 4 4\n"
                        "tensor o out required bf16 B T 4 4\n";
    linac_kernel *kernel = linac_cuda_kernel_create(text.c_str(), kCubin,
                                                    sizeof(kCubin), &err);
    ASSERT_NE(kernel, nullptr) << err.message;
    Tensors t(/*B=*/3, /*T=*/5, /*H=*/1, /*HV=*/4);
    t.registerAll(fake);
    linac_tensor q = t.tq, v = t.tv, o = t.to;
    if (headMajor)
      for (linac_tensor *view : {&q, &v, &o}) {
        // The same bytes seen as [B, heads, T, 4].
        std::swap(view->shape[1], view->shape[2]);
        view->strides[2] = 4;
        view->strides[1] = view->shape[2] * 4;
      }
    const linac_tensor *tensors[] = {&q, &v, &o};
    ASSERT_EQ(linac_kernel_launch_cuda(kernel, tensors, 3, nullptr, &err),
              LINAC_OK)
        << err.message;
    EXPECT_EQ(fake.get("grid"), 3 * 4 * 2) << "head-major: " << headMajor;
    linac_kernel_destroy(kernel);
  }
}

TEST_F(CudaLaunch, VarlenGridWithoutReadingOffsets) {
  Tensors t(/*B=*/1, /*T=*/9, /*H=*/1, /*HV=*/2);
  t.registerAll(fake);
  // Offsets the host must not read (they are device memory): garbage, and
  // not registered as host-readable in any way the runtime would use.
  t.cu = {0, 1000, -5, 9};
  t.tcu.data = t.cu.data();
  t.tcu.dtype = LINAC_I32;
  t.tcu.rank = 1;
  t.tcu.shape[0] = 4;
  t.tcu.strides[0] = 1;
  fake.registerRange(t.cu.data(), t.cu.size() * 4);
  t.th0.shape[0] = 3; // S = N1 - 1
  const linac_tensor *tensors[] = {&t.tq, &t.tv, nullptr, &t.tcu, &t.to};
  ASSERT_EQ(linac_kernel_launch_cuda(kernel, tensors, 5, nullptr, &err),
            LINAC_OK)
      << err.message;
  EXPECT_EQ(fake.get("grid"), 3 * 2 * 2); // sequences x HV x value tiles
}

TEST_F(CudaLaunch, RefusesBadTensorsBeforeLaunching) {
  Tensors t(2, 5, 2, 4);
  t.registerAll(fake);
  // A shape that disagrees with the manifest.
  linac_tensor wrong = t.tv;
  wrong.shape[3] = 8;
  const linac_tensor *shapes[] = {&t.tq, &wrong, nullptr, nullptr, &t.to};
  EXPECT_EQ(linac_kernel_launch_cuda(kernel, shapes, 5, nullptr, &err),
            LINAC_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(err, "tensor 'v' has shape [2, 5, 4, 8]"))
      << err.message;

  // Memory the driver does not know (host memory, another context).
  std::vector<uint16_t> host(t.o.size());
  linac_tensor stray = t.to;
  stray.data = host.data();
  const linac_tensor *hostOut[] = {&t.tq, &t.tv, nullptr, nullptr, &stray};
  EXPECT_EQ(linac_kernel_launch_cuda(kernel, hostOut, 5, nullptr, &err),
            LINAC_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(err, "tensor 'o' at "));
  EXPECT_TRUE(contains(err, "is not in device memory of the kernel's context "
                            "(cuMemGetAddressRange: CUDA_ERROR_INVALID_VALUE "
                            "(invalid argument))"))
      << err.message;

  // A view that runs past the end of its allocation.
  linac_tensor longer = t.tq;
  longer.data = t.q.data() + 4;
  const linac_tensor *past[] = {&longer, &t.tv, nullptr, nullptr, &t.to};
  EXPECT_EQ(linac_kernel_launch_cuda(kernel, past, 5, nullptr, &err),
            LINAC_ERROR_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(err, "tensor 'q' addresses 160 bytes from"))
      << err.message;
  EXPECT_TRUE(contains(err, "past the end of its device allocation (160 "
                            "bytes at"))
      << err.message;
  EXPECT_EQ(fake.get("launches"), 0);
}

TEST_F(CudaLaunch, LaunchErrorsAreMessages) {
  Tensors t(1, 2, 1, 1);
  t.registerAll(fake);
  const linac_tensor *tensors[] = {&t.tq, &t.tv, nullptr, nullptr, &t.to};
  fake.set("launch", 701);
  EXPECT_EQ(linac_kernel_launch_cuda(kernel, tensors, 5, nullptr, &err),
            LINAC_ERROR_CUDA);
  EXPECT_TRUE(contains(err, "la_prefill: cuLaunchKernel(2 blocks of 128 "
                            "threads, 70000 bytes of shared memory) failed: "
                            "CUDA_ERROR_LAUNCH_OUT_OF_RESOURCES (too many "
                            "resources requested for launch)"))
      << err.message;
  EXPECT_EQ(fake.get("balanced"), 1);
}

TEST_F(CudaLaunch, EmptyProblemsLaunchNothing) {
  Tensors t(1, 2, 0, 0);
  const linac_tensor *tensors[] = {&t.tq, &t.tv, nullptr, nullptr, &t.to};
  EXPECT_EQ(linac_kernel_launch_cuda(kernel, tensors, 5, nullptr, &err),
            LINAC_OK)
      << err.message;
  EXPECT_EQ(fake.get("launches"), 0);
}

//===----------------------------------------------------------------------===//
// Device memory, streams and events (linac.h's helpers)
//===----------------------------------------------------------------------===//

TEST_F(Cuda, HelpersWithoutADriver) {
  useDriver("/nonexistent/libcuda.so.1");
  void *pointer = reinterpret_cast<void *>(1);
  EXPECT_EQ(linac_cuda_malloc(64, &pointer, &err), LINAC_ERROR_CUDA);
  EXPECT_EQ(pointer, nullptr);
  EXPECT_TRUE(contains(err, "cannot load the CUDA driver")) << err.message;
  linac_cuda_device_info info;
  EXPECT_EQ(linac_cuda_get_device_info(0, &info, &err), LINAC_ERROR_CUDA);
  void *stream = nullptr;
  EXPECT_EQ(linac_cuda_stream_create(&stream, &err), LINAC_ERROR_CUDA);
  EXPECT_TRUE(contains(err, "CUDA kernels need an NVIDIA driver"))
      << err.message;
}

TEST_F(Cuda, DeviceInfo) {
  linac_cuda_device_info info;
  ASSERT_EQ(linac_cuda_get_device_info(0, &info, &err), LINAC_OK)
      << err.message;
  EXPECT_STREQ(info.name, "Fake CUDA device");
  EXPECT_EQ(info.major, 9);
  EXPECT_EQ(info.minor, 0);
  EXPECT_EQ(info.multiprocessors, 132);
  EXPECT_EQ(info.clock_khz, 1980000);
  EXPECT_EQ(info.memory_clock_khz, 2619000);
  EXPECT_EQ(info.memory_bus_bits, 5120);
  EXPECT_EQ(info.l2_bytes, 50 << 20);
  EXPECT_EQ(info.memory_bytes, int64_t{80} << 30);
  EXPECT_EQ(info.shared_per_block_optin, 227 * 1024);
  // No context is needed for device properties.
  EXPECT_EQ(fake.get("retains"), 0);

  EXPECT_EQ(linac_cuda_get_device_info(1, &info, &err), LINAC_ERROR_CUDA);
  EXPECT_TRUE(contains(err, "cuDeviceGet(1) failed: CUDA_ERROR_INVALID_VALUE "
                            "(invalid argument)"))
      << err.message;
  EXPECT_EQ(linac_cuda_get_device_info(0, nullptr, &err),
            LINAC_ERROR_INVALID_ARGUMENT);
}

TEST_F(Cuda, MemoryRoundTrip) {
  void *device = nullptr;
  ASSERT_EQ(linac_cuda_malloc(64, &device, &err), LINAC_OK) << err.message;
  ASSERT_NE(device, nullptr);
  std::vector<uint8_t> in(64), out(64, 0);
  for (size_t i = 0; i < in.size(); ++i)
    in[i] = static_cast<uint8_t>(3 * i + 1);
  ASSERT_EQ(linac_cuda_memcpy_htod(device, in.data(), 64, &err), LINAC_OK)
      << err.message;
  ASSERT_EQ(linac_cuda_memcpy_dtoh(out.data(), device, 64, &err), LINAC_OK)
      << err.message;
  EXPECT_EQ(in, out);
  ASSERT_EQ(linac_cuda_memset(static_cast<char *>(device) + 8, 0xab, 8, &err),
            LINAC_OK)
      << err.message;
  ASSERT_EQ(linac_cuda_memcpy_dtoh(out.data(), device, 64, &err), LINAC_OK);
  EXPECT_EQ(out[7], in[7]);
  EXPECT_EQ(out[8], 0xab);
  EXPECT_EQ(out[15], 0xab);
  EXPECT_EQ(out[16], in[16]);
  EXPECT_EQ(linac_cuda_synchronize(&err), LINAC_OK) << err.message;
  EXPECT_EQ(linac_cuda_free(device, &err), LINAC_OK) << err.message;
  EXPECT_EQ(fake.get("allocations"), 1);
  EXPECT_EQ(fake.get("frees"), 1);
  // Device 0's primary context, retained once and kept; every call left
  // the thread's context stack as it found it.
  EXPECT_EQ(fake.get("retains"), 1);
  EXPECT_EQ(fake.get("releases"), 0);
  EXPECT_EQ(fake.get("balanced"), 1);

  // Nothing to do: no driver call, no error.
  void *none = reinterpret_cast<void *>(1);
  EXPECT_EQ(linac_cuda_malloc(0, &none, &err), LINAC_OK);
  EXPECT_EQ(none, nullptr);
  EXPECT_EQ(linac_cuda_free(nullptr, &err), LINAC_OK);
  EXPECT_EQ(linac_cuda_memcpy_htod(nullptr, nullptr, 0, &err), LINAC_OK);
  EXPECT_EQ(linac_cuda_malloc(8, nullptr, &err), LINAC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(linac_cuda_memcpy_dtoh(nullptr, in.data(), 8, &err),
            LINAC_ERROR_INVALID_ARGUMENT);
}

TEST_F(Cuda, HelpersUseTheCurrentContext) {
  fake.set("current", 1);
  void *device = nullptr;
  ASSERT_EQ(linac_cuda_malloc(16, &device, &err), LINAC_OK) << err.message;
  EXPECT_EQ(linac_cuda_free(device, &err), LINAC_OK);
  EXPECT_EQ(fake.get("retains"), 0);
}

TEST_F(Cuda, HelperErrorsAreMessages) {
  fake.set("alloc", 2);
  void *device = nullptr;
  EXPECT_EQ(linac_cuda_malloc(1 << 20, &device, &err), LINAC_ERROR_CUDA);
  EXPECT_TRUE(contains(err, "cuMemAlloc(1048576 bytes) failed: "
                            "CUDA_ERROR_OUT_OF_MEMORY (out of memory)"))
      << err.message;
  fake.set("alloc", 0);
  ASSERT_EQ(linac_cuda_malloc(16, &device, &err), LINAC_OK);
  // Past the end of the allocation: the driver refuses it.
  std::vector<uint8_t> host(32);
  EXPECT_EQ(linac_cuda_memcpy_htod(device, host.data(), 32, &err),
            LINAC_ERROR_CUDA);
  EXPECT_TRUE(contains(err, "cuMemcpyHtoD failed: CUDA_ERROR_INVALID_VALUE"))
      << err.message;
  fake.set("copy", 700);
  EXPECT_EQ(linac_cuda_memcpy_dtoh(host.data(), device, 16, &err),
            LINAC_ERROR_CUDA);
  EXPECT_TRUE(contains(err, "cuMemcpyDtoH failed: CUDA_ERROR_ILLEGAL_ADDRESS "
                            "(an illegal memory access was encountered)"))
      << err.message;
  fake.set("copy", 0);
  // A kernel that faulted reports at the next synchronization.
  fake.set("sync", 700);
  EXPECT_EQ(linac_cuda_stream_synchronize(nullptr, &err), LINAC_ERROR_CUDA);
  EXPECT_TRUE(contains(err, "cuStreamSynchronize failed: "
                            "CUDA_ERROR_ILLEGAL_ADDRESS"))
      << err.message;
  EXPECT_EQ(linac_cuda_synchronize(&err), LINAC_ERROR_CUDA);
  EXPECT_TRUE(contains(err, "cuCtxSynchronize failed")) << err.message;
  fake.set("sync", 0);
  EXPECT_EQ(linac_cuda_free(device, &err), LINAC_OK);
  // Freeing twice is the driver's error, reported, not a crash.
  EXPECT_EQ(linac_cuda_free(device, &err), LINAC_ERROR_CUDA);
  EXPECT_TRUE(contains(err, "cuMemFree failed")) << err.message;
  EXPECT_EQ(fake.get("balanced"), 1);
}

TEST_F(Cuda, StreamsAndEvents) {
  void *stream = nullptr, *start = nullptr, *end = nullptr;
  ASSERT_EQ(linac_cuda_stream_create(&stream, &err), LINAC_OK) << err.message;
  ASSERT_EQ(linac_cuda_event_create(&start, &err), LINAC_OK) << err.message;
  ASSERT_EQ(linac_cuda_event_create(&end, &err), LINAC_OK) << err.message;
  float ms = -1;
  // Never recorded: the driver's error.
  EXPECT_EQ(linac_cuda_event_elapsed(&ms, start, end, &err), LINAC_ERROR_CUDA);
  EXPECT_TRUE(contains(err, "cuEventSynchronize failed: "
                            "CUDA_ERROR_INVALID_HANDLE"))
      << err.message;
  ASSERT_EQ(linac_cuda_event_record(start, stream, &err), LINAC_OK);
  ASSERT_EQ(linac_cuda_event_record(end, stream, &err), LINAC_OK);
  ASSERT_EQ(linac_cuda_event_elapsed(&ms, start, end, &err), LINAC_OK)
      << err.message;
  EXPECT_FLOAT_EQ(ms, 0.25f); // the fake's 250 us per record
  EXPECT_EQ(linac_cuda_stream_synchronize(stream, &err), LINAC_OK);
  EXPECT_EQ(linac_cuda_event_elapsed(nullptr, start, end, &err),
            LINAC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(linac_cuda_event_record(nullptr, stream, &err),
            LINAC_ERROR_INVALID_ARGUMENT);
  EXPECT_EQ(linac_cuda_event_destroy(start, &err), LINAC_OK);
  EXPECT_EQ(linac_cuda_event_destroy(end, &err), LINAC_OK);
  EXPECT_EQ(linac_cuda_stream_destroy(stream, &err), LINAC_OK);
  EXPECT_EQ(fake.get("events"), 0);
  EXPECT_EQ(fake.get("streams"), 0);

  fake.set("event", 2);
  EXPECT_EQ(linac_cuda_event_create(&start, &err), LINAC_ERROR_CUDA);
  EXPECT_EQ(start, nullptr);
  EXPECT_TRUE(contains(err, "cuEventCreate failed: CUDA_ERROR_OUT_OF_MEMORY"))
      << err.message;
}

TEST_F(Cuda, KernelsAcceptHelperMemory) {
  // The kernel and the helpers share device 0's primary context, so the
  // launch's address check finds linac_cuda_malloc's allocations.
  std::string manifest = cudaManifest();
  linac_kernel *kernel = linac_cuda_kernel_create(manifest.c_str(), kCubin,
                                                  sizeof(kCubin), &err);
  ASSERT_NE(kernel, nullptr) << err.message;
  Tensors host(1, 3, 1, 1);
  void *q = nullptr, *v = nullptr, *o = nullptr;
  ASSERT_EQ(linac_cuda_malloc(host.q.size() * 2, &q, &err), LINAC_OK);
  ASSERT_EQ(linac_cuda_malloc(host.v.size() * 2, &v, &err), LINAC_OK);
  ASSERT_EQ(linac_cuda_malloc(host.o.size() * 2, &o, &err), LINAC_OK);
  linac_tensor tq = host.tq, tv = host.tv, to = host.to;
  tq.data = q;
  tv.data = v;
  to.data = o;
  const linac_tensor *tensors[] = {&tq, &tv, nullptr, &to};
  void *stream = nullptr;
  ASSERT_EQ(linac_cuda_stream_create(&stream, &err), LINAC_OK);
  EXPECT_EQ(linac_kernel_launch_cuda(kernel, tensors, 4, stream, &err),
            LINAC_OK)
      << err.message;
  EXPECT_EQ(fake.get("launches"), 1);
  EXPECT_EQ(fake.stream(), stream);
  for (void *pointer : {q, v, o})
    EXPECT_EQ(linac_cuda_free(pointer, &err), LINAC_OK);
  EXPECT_EQ(linac_cuda_stream_destroy(stream, &err), LINAC_OK);
  linac_kernel_destroy(kernel);
  // The kernel released its own reference; the helpers' stays.
  EXPECT_EQ(fake.get("retains"), 2);
  EXPECT_EQ(fake.get("releases"), 1);
}

//===----------------------------------------------------------------------===//
// TMA: tensor maps encoded per launch
//===----------------------------------------------------------------------===//

/// A kernel that loads q (bf16) and g (f32) through TMA in boxes of 16 rows:
/// q [B, T, H, 8], g [B, T, HV, 4], o [B, T, HV, 8].
std::string tmaManifest() {
  return "linac-manifest 1\ncompiler " LINAC_VERSION
         "\nkernel gla_prefill\ntarget cuda sm_90a -\nmode prefill\n"
         "variant gla\nlaunch 128 70000 1 -\n"
         "tensor q in required bf16 B T H 8\n"
         "tensor g in required f32 B T HV 4\n"
         "tensor o out required bf16 B T HV 8\n"
         "tma q 8 1 16 1\n"
         "tma g 4 1 16 1\n";
}

/// 64-byte aligned host memory standing in for a device allocation.
struct Buffer {
  explicit Buffer(size_t bytes)
      : data(static_cast<unsigned char *>(
            std::aligned_alloc(64, (bytes + 63) / 64 * 64))),
        bytes(bytes) {}
  ~Buffer() { std::free(data); }
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  unsigned char *data;
  size_t bytes;
};

linac_tensor view(void *data, int32_t dtype, std::vector<int64_t> shape,
                  std::vector<int64_t> strides) {
  linac_tensor t{};
  t.data = data;
  t.dtype = dtype;
  t.rank = static_cast<int32_t>(shape.size());
  for (int32_t d = 0; d < t.rank; ++d) {
    t.shape[d] = shape[d];
    t.strides[d] = strides[d];
  }
  return t;
}

// Parameters: q, g, o are rank-4 descriptors of 11 slots (0..32), then the
// TMA flags of q and g (33, 34), then their tensor maps (35, 36).
constexpr int kTmaFlag = 33, kFirstMap = 35;

class CudaTma : public Cuda {
protected:
  void SetUp() override {
    Cuda::SetUp();
    manifest = tmaManifest();
    kernel = linac_cuda_kernel_create(manifest.c_str(), kCubin, sizeof(kCubin),
                                      &err);
    ASSERT_NE(kernel, nullptr) << err.message;
    for (Buffer *b : {&q, &g, &o})
      fake.registerRange(b->data, b->bytes);
  }
  void TearDown() override {
    linac_kernel_destroy(kernel);
    Cuda::TearDown();
  }
  /// Launches q, g and o with the fake driver told where the parameters
  /// (37) and the first tensor map are.
  int32_t launch(const linac_tensor *const *tensors) {
    fake.set("params", 37);
    fake.set("maps", kFirstMap);
    return linac_kernel_launch_cuda(kernel, tensors, 3, nullptr, &err);
  }
  // B = 3, T = 5, H = 2, HV = 2, with room for padded views.
  Buffer q{4096}, g{4096}, o{4096};
  std::string manifest;
  linac_kernel *kernel = nullptr;
};

TEST_F(CudaTma, EncodesOneTiledMapPerTensor) {
  linac_tensor tq = view(q.data, LINAC_BF16, {3, 5, 2, 8}, {80, 16, 8, 1});
  linac_tensor tg = view(g.data, LINAC_F32, {3, 5, 2, 4}, {40, 8, 4, 1});
  linac_tensor to = view(o.data, LINAC_BF16, {3, 5, 2, 8}, {80, 16, 8, 1});
  const linac_tensor *tensors[] = {&tq, &tg, &to};
  ASSERT_EQ(launch(tensors), LINAC_OK) << err.message;
  ASSERT_EQ(fake.get("encodes"), 2);
  // q: bf16 (CU_TENSOR_MAP_DATA_TYPE_BFLOAT16 = 9), rank 4, dims innermost
  // first, byte strides of the three outer dims, the manifest's box, unit
  // element strides; no interleave or swizzle, L2 promotion 128B (2),
  // zeros out of bounds (0).
  const uint64_t qDims[] = {8, 2, 5, 3}, qStrides[] = {16, 32, 160};
  const uint64_t qBox[] = {8, 1, 16, 1};
  EXPECT_EQ(fake.encoded(0, "dtype", 0), 9u);
  EXPECT_EQ(fake.encoded(0, "rank", 0), 4u);
  EXPECT_EQ(fake.encoded(0, "address", 0),
            reinterpret_cast<uintptr_t>(q.data));
  for (int d = 0; d < 4; ++d) {
    EXPECT_EQ(fake.encoded(0, "dims", d), qDims[d]) << d;
    EXPECT_EQ(fake.encoded(0, "box", d), qBox[d]) << d;
    EXPECT_EQ(fake.encoded(0, "elementStrides", d), 1u) << d;
  }
  for (int d = 0; d < 3; ++d)
    EXPECT_EQ(fake.encoded(0, "strides", d), qStrides[d]) << d;
  EXPECT_EQ(fake.encoded(0, "interleave", 0), 0u);
  EXPECT_EQ(fake.encoded(0, "swizzle", 0), 0u);
  EXPECT_EQ(fake.encoded(0, "l2", 0), 2u);
  EXPECT_EQ(fake.encoded(0, "oob", 0), 0u);
  EXPECT_EQ(fake.encoded(0, "map", 0) % 64, 0u);
  // g: f32 (7), its own strides and box.
  const uint64_t gDims[] = {4, 2, 5, 3}, gStrides[] = {16, 32, 160};
  EXPECT_EQ(fake.encoded(1, "dtype", 0), 7u);
  for (int d = 0; d < 4; ++d)
    EXPECT_EQ(fake.encoded(1, "dims", d), gDims[d]) << d;
  for (int d = 0; d < 3; ++d)
    EXPECT_EQ(fake.encoded(1, "strides", d), gStrides[d]) << d;
  EXPECT_EQ(fake.encoded(1, "box", 0), 4u);

  // The flags say both maps are valid; each map is the 128-byte parameter
  // the driver wrote (its first words: a magic number, the call's number,
  // the address), passed from 64-byte aligned memory.
  EXPECT_EQ(static_cast<int32_t>(fake.param(kTmaFlag)), 1);
  EXPECT_EQ(static_cast<int32_t>(fake.param(kTmaFlag + 1)), 1);
  for (int m = 0; m < 2; ++m) {
    EXPECT_EQ(fake.mapWord(kFirstMap + m, 0), 0x70616d726f736e65ull) << m;
    EXPECT_EQ(fake.mapWord(kFirstMap + m, 1), static_cast<uint64_t>(m + 1));
    EXPECT_EQ(fake.mapAddress(kFirstMap + m) % 64, 0u) << m;
  }
  EXPECT_EQ(fake.mapWord(kFirstMap, 2), reinterpret_cast<uintptr_t>(q.data));
  EXPECT_EQ(fake.mapWord(kFirstMap + 1, 2),
            reinterpret_cast<uintptr_t>(g.data));
  EXPECT_EQ(fake.get("launches"), 1);
  EXPECT_EQ(fake.get("balanced"), 1);
}

TEST_F(CudaTma, ViewsTmaCannotDescribeUseThreadLoads) {
  // q in rows padded by 3 elements: outer strides of 22, 110 and 550 bf16
  // elements (44, 220, 1100 bytes) are not multiples of 16 bytes.
  linac_tensor padded = view(q.data, LINAC_BF16, {3, 5, 2, 8}, {550, 110, 11, 1});
  // g starting 8 bytes into its buffer: not 16-byte aligned.
  linac_tensor shifted =
      view(g.data + 8, LINAC_F32, {3, 5, 2, 4}, {40, 8, 4, 1});
  linac_tensor to = view(o.data, LINAC_BF16, {3, 5, 2, 8}, {80, 16, 8, 1});
  const linac_tensor *tensors[] = {&padded, &shifted, &to};
  ASSERT_EQ(launch(tensors), LINAC_OK) << err.message;
  EXPECT_EQ(fake.get("encodes"), 0);
  EXPECT_EQ(static_cast<int32_t>(fake.param(kTmaFlag)), 0);
  EXPECT_EQ(static_cast<int32_t>(fake.param(kTmaFlag + 1)), 0);
  for (int w = 0; w < 16; ++w)
    EXPECT_EQ(fake.mapWord(kFirstMap, w), 0u) << w;
  EXPECT_EQ(fake.get("launches"), 1);

  // A batch of one: its stride is never used, so an odd one is fine, and
  // the map gets the packed stride instead (T x H x 8 bf16 = 160 bytes).
  linac_tensor single = view(q.data, LINAC_BF16, {1, 5, 2, 8}, {7, 16, 8, 1});
  linac_tensor tg = view(g.data, LINAC_F32, {1, 5, 2, 4}, {40, 8, 4, 1});
  linac_tensor one = view(o.data, LINAC_BF16, {1, 5, 2, 8}, {80, 16, 8, 1});
  const linac_tensor *batchOfOne[] = {&single, &tg, &one};
  ASSERT_EQ(linac_kernel_launch_cuda(kernel, batchOfOne, 3, nullptr, &err),
            LINAC_OK)
      << err.message;
  ASSERT_EQ(fake.get("encodes"), 2);
  EXPECT_EQ(fake.encoded(0, "strides", 2), 160u);
  EXPECT_EQ(static_cast<int32_t>(fake.param(kTmaFlag)), 1);
}

TEST_F(CudaTma, HeadMajorTensorsArePassedInKernelOrder) {
  // layout = "bhtd": q and o are stored [B, H, T, D] (the manifest lists
  // that order); g stays [B, T, HV, D]. The kernel indexes [B, T, H, D].
  linac_kernel_destroy(kernel);
  manifest = "linac-manifest 1\ncompiler " LINAC_VERSION
             "\nkernel gla_prefill\ntarget cuda sm_90a -\nmode prefill\n"
             "variant gla\nlaunch 128 70000 1 -\n"
             "tensor q in required bf16 B H T 8\n"
             "tensor g in required f32 B T HV 4\n"
             "tensor o out required bf16 B HV T 8\n"
             "layout bhtd q o\n"
             "tma q 8 1 16 1\n"
             "tma g 4 1 16 1\n";
  kernel = linac_cuda_kernel_create(manifest.c_str(), kCubin, sizeof(kCubin),
                                    &err);
  ASSERT_NE(kernel, nullptr) << err.message;
  // B = 3, H = HV = 2, T = 5, packed head-major: strides 80, 40, 8, 1.
  linac_tensor tq = view(q.data, LINAC_BF16, {3, 2, 5, 8}, {80, 40, 8, 1});
  linac_tensor tg = view(g.data, LINAC_F32, {3, 5, 2, 4}, {40, 8, 4, 1});
  linac_tensor to = view(o.data, LINAC_BF16, {3, 2, 5, 8}, {80, 40, 8, 1});
  const linac_tensor *tensors[] = {&tq, &tg, &to};
  ASSERT_EQ(launch(tensors), LINAC_OK) << err.message;
  // q's descriptor (slots 0..10): sizes [B, T, H, D] = [3, 5, 2, 8] with
  // the matching strides [80, 8, 40, 1]; g's (11..21) as stored; o's
  // (22..32) swapped like q's.
  const uint64_t qShape[] = {3, 5, 2, 8}, qStrides[] = {80, 8, 40, 1};
  const uint64_t gShape[] = {3, 5, 2, 4}, gStrides[] = {40, 8, 4, 1};
  for (int d = 0; d < 4; ++d) {
    EXPECT_EQ(fake.param(3 + d), qShape[d]) << d;
    EXPECT_EQ(fake.param(7 + d), qStrides[d]) << d;
    EXPECT_EQ(fake.param(14 + d), gShape[d]) << d;
    EXPECT_EQ(fake.param(18 + d), gStrides[d]) << d;
    EXPECT_EQ(fake.param(25 + d), qShape[d]) << d;
    EXPECT_EQ(fake.param(29 + d), qStrides[d]) << d;
  }
  // The grid reads B and HV off the stored shapes: 3 x 2 blocks.
  EXPECT_EQ(fake.get("grid"), 6);
  // q's map describes the kernel's view, innermost first: dims [D, H, T, B]
  // = [8, 2, 5, 3] with byte strides [H: 80, T: 16, B: 160], so the
  // kernel's (col, head, row, batch) coordinates address it.
  ASSERT_EQ(fake.get("encodes"), 2);
  const uint64_t dims[] = {8, 2, 5, 3}, strides[] = {80, 16, 160};
  for (int d = 0; d < 4; ++d)
    EXPECT_EQ(fake.encoded(0, "dims", d), dims[d]) << d;
  for (int d = 0; d < 3; ++d)
    EXPECT_EQ(fake.encoded(0, "strides", d), strides[d]) << d;
  EXPECT_EQ(static_cast<int32_t>(fake.param(kTmaFlag)), 1);
  EXPECT_EQ(fake.get("launches"), 1);
}

TEST_F(CudaTma, EncodeErrorsAreMessages) {
  linac_tensor tq = view(q.data, LINAC_BF16, {3, 5, 2, 8}, {80, 16, 8, 1});
  linac_tensor tg = view(g.data, LINAC_F32, {3, 5, 2, 4}, {40, 8, 4, 1});
  linac_tensor to = view(o.data, LINAC_BF16, {3, 5, 2, 8}, {80, 16, 8, 1});
  const linac_tensor *tensors[] = {&tq, &tg, &to};
  fake.set("encode", 1);
  EXPECT_EQ(linac_kernel_launch_cuda(kernel, tensors, 3, nullptr, &err),
            LINAC_ERROR_CUDA);
  EXPECT_TRUE(contains(err, "gla_prefill: tensor 'q': "
                            "cuTensorMapEncodeTiled(bf16, dims [8, 2, 5, 3], "
                            "byte strides [16, 32, 160], box [8, 1, 16, 1]) "
                            "failed: CUDA_ERROR_INVALID_VALUE (invalid "
                            "argument)"))
      << err.message;
  // Nothing was launched, the context was popped, and the kernel launches
  // once the driver encodes again.
  EXPECT_EQ(fake.get("encodes"), 1);
  EXPECT_EQ(fake.get("launches"), 0);
  EXPECT_EQ(fake.get("balanced"), 1);
  fake.set("encode", 0);
  EXPECT_EQ(linac_kernel_launch_cuda(kernel, tensors, 3, nullptr, &err),
            LINAC_OK)
      << err.message;
  EXPECT_EQ(fake.get("launches"), 1);
}

//===----------------------------------------------------------------------===//
// A real driver, when there is one
//===----------------------------------------------------------------------===//

/// Runs only where libcuda.so.1 and a device exist; elsewhere it is skipped
/// with the runtime's own explanation. The kernels' results on a GPU are
/// checked by test/Integration/CUDA/gpu.test.
TEST(CudaDevice, RealDriverRefusesABadImage) {
  unsetenv("LINAC_LIBCUDA");
  resetDriver();
  linac_error err;
  int32_t count = 0;
  if (linac_cuda_device_count(&count, &err) != LINAC_OK || count == 0)
    GTEST_SKIP() << "needs a CUDA device: " << err.message;
  // Not a cubin: the driver must refuse it with a message (or the runtime
  // first, if device 0 is neither 9.0 nor 8.x).
  const unsigned char garbage[64] = {0x7f, 'E', 'L', 'F', 2, 1, 1};
  for (const char *arch : {"sm_90a", "sm_80"}) {
    std::string manifest = cudaManifest(arch);
    linac_kernel *kernel =
        linac_cuda_kernel_create(manifest.c_str(), garbage, sizeof(garbage),
                                 &err);
    EXPECT_EQ(kernel, nullptr);
    EXPECT_TRUE(err.code == LINAC_ERROR_CUDA || err.code == LINAC_ERROR_TARGET)
        << err.message;
    EXPECT_TRUE(contains(err, "cuModuleLoadData failed: CUDA_ERROR_") ||
                contains(err, "recompile for its architecture"))
        << err.message;
  }
}

/// The memory, stream and event helpers against the real driver.
TEST(CudaDevice, HelpersRoundTrip) {
  unsetenv("LINAC_LIBCUDA");
  resetDriver();
  linac_error err;
  int32_t count = 0;
  if (linac_cuda_device_count(&count, &err) != LINAC_OK || count == 0)
    GTEST_SKIP() << "needs a CUDA device: " << err.message;
  linac_cuda_device_info info;
  ASSERT_EQ(linac_cuda_get_device_info(0, &info, &err), LINAC_OK)
      << err.message;
  EXPECT_GT(info.multiprocessors, 0);
  EXPECT_GT(info.memory_bytes, 0);
  std::vector<float> in(1 << 20), out(in.size());
  for (size_t i = 0; i < in.size(); ++i)
    in[i] = static_cast<float>(i) * 0.5f;
  void *device = nullptr, *stream = nullptr, *start = nullptr, *end = nullptr;
  const uint64_t bytes = in.size() * sizeof(float);
  ASSERT_EQ(linac_cuda_malloc(bytes, &device, &err), LINAC_OK) << err.message;
  ASSERT_EQ(linac_cuda_stream_create(&stream, &err), LINAC_OK) << err.message;
  ASSERT_EQ(linac_cuda_event_create(&start, &err), LINAC_OK) << err.message;
  ASSERT_EQ(linac_cuda_event_create(&end, &err), LINAC_OK) << err.message;
  ASSERT_EQ(linac_cuda_event_record(start, stream, &err), LINAC_OK);
  ASSERT_EQ(linac_cuda_memcpy_htod(device, in.data(), bytes, &err), LINAC_OK)
      << err.message;
  ASSERT_EQ(linac_cuda_event_record(end, stream, &err), LINAC_OK);
  float ms = -1;
  ASSERT_EQ(linac_cuda_event_elapsed(&ms, start, end, &err), LINAC_OK)
      << err.message;
  EXPECT_GE(ms, 0.0f);
  ASSERT_EQ(linac_cuda_memcpy_dtoh(out.data(), device, bytes, &err), LINAC_OK)
      << err.message;
  EXPECT_EQ(in, out);
  EXPECT_EQ(linac_cuda_event_destroy(start, &err), LINAC_OK);
  EXPECT_EQ(linac_cuda_event_destroy(end, &err), LINAC_OK);
  EXPECT_EQ(linac_cuda_stream_destroy(stream, &err), LINAC_OK);
  EXPECT_EQ(linac_cuda_free(device, &err), LINAC_OK);
}

} // namespace
