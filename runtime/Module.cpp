//===- Module.cpp - Loading and launching compiled kernels ----------------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
//
// A linac_module is a dlopen'ed shared artifact; a linac_kernel is one
// NAME_kernel/NAME_manifest pair in it (or, through linac_kernel_create, a
// kernel linked into the program), or for a CUDA kernel the
// NAME_manifest/NAME_cubin pair, loaded onto the GPU by Cuda.cpp. The manifest is parsed and checked against
// this runtime and this CPU once, when the kernel is looked up; each launch
// then only validates the tensors against the parsed form, which allocates
// nothing.
//
// Running code built for features the CPU lacks ends in SIGILL somewhere deep
// inside a kernel, and running code from another compiler version breaks the
// ABI silently; both are refused here with a message that says what to do.
//
//===----------------------------------------------------------------------===//

#include "linac/runtime/Manifest.h"
#include "linac/runtime/linac.h"

#include "Cuda.h"
#include "Error.h"

#include <cinttypes>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>

#include <dlfcn.h>
#include <elf.h>
#include <fcntl.h>
#include <link.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define LINAC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define LINAC_ASAN 1
#endif
#endif
#ifndef LINAC_ASAN
#define LINAC_ASAN 0
#endif
#if LINAC_ASAN
#include <sanitizer/asan_interface.h>
#endif

using linac::detail::fail;
using linac::detail::prependError;
using linac::detail::succeed;
using namespace linac::manifest;

struct linac_kernel {
  /// The owning module, or null for a kernel from linac_kernel_create.
  linac_module *module = nullptr;
  /// Next kernel of the same module.
  linac_kernel *next = nullptr;
  /// linac_kernel_create's copy of the manifest; a module's kernels point
  /// into the mapped artifact instead, which lives as long as they do.
  char *ownedText = nullptr;
  const char *text = nullptr;
  linac_kernel_fn fn = nullptr;
  /// A CUDA kernel's loaded function (fn is then null).
  linac::cuda::Function *cuda = nullptr;
  Manifest manifest;

  ~linac_kernel() { linac::cuda::unload(cuda); }
};

struct linac_module {
  void *handle = nullptr;
  char *path = nullptr;
  /// Guards `kernels`: lookups may come from several threads.
  std::mutex mutex;
  linac_kernel *kernels = nullptr;
};

namespace {

enum class Support { Yes, No, Unknown };

/// Whether this CPU has an LLVM-named feature. __builtin_cpu_supports takes
/// only a string literal, hence one comparison per known name.
Support cpuSupports(std::string_view feature) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_cpu_init();
#define LINAC_CPU_FEATURE(name)                                                \
  if (feature == name)                                                         \
    return __builtin_cpu_supports(name) ? Support::Yes : Support::No;
  LINAC_CPU_FEATURE("cmov")
  LINAC_CPU_FEATURE("mmx")
  LINAC_CPU_FEATURE("popcnt")
  LINAC_CPU_FEATURE("sse")
  LINAC_CPU_FEATURE("sse2")
  LINAC_CPU_FEATURE("sse3")
  LINAC_CPU_FEATURE("ssse3")
  LINAC_CPU_FEATURE("sse4.1")
  LINAC_CPU_FEATURE("sse4.2")
  LINAC_CPU_FEATURE("sse4a")
  LINAC_CPU_FEATURE("avx")
  LINAC_CPU_FEATURE("avx2")
  LINAC_CPU_FEATURE("fma")
  LINAC_CPU_FEATURE("fma4")
  LINAC_CPU_FEATURE("xop")
  LINAC_CPU_FEATURE("f16c")
  LINAC_CPU_FEATURE("bmi")
  LINAC_CPU_FEATURE("bmi2")
  LINAC_CPU_FEATURE("lzcnt")
  LINAC_CPU_FEATURE("movbe")
  LINAC_CPU_FEATURE("aes")
  LINAC_CPU_FEATURE("pclmul")
  LINAC_CPU_FEATURE("vpclmulqdq")
  LINAC_CPU_FEATURE("gfni")
  LINAC_CPU_FEATURE("sha")
  LINAC_CPU_FEATURE("adx")
  LINAC_CPU_FEATURE("avx512f")
  LINAC_CPU_FEATURE("avx512bw")
  LINAC_CPU_FEATURE("avx512vl")
  LINAC_CPU_FEATURE("avx512dq")
  LINAC_CPU_FEATURE("avx512cd")
  LINAC_CPU_FEATURE("avx512vbmi")
  LINAC_CPU_FEATURE("avx512vbmi2")
  LINAC_CPU_FEATURE("avx512ifma")
  LINAC_CPU_FEATURE("avx512vnni")
  LINAC_CPU_FEATURE("avx512bitalg")
  LINAC_CPU_FEATURE("avx512vpopcntdq")
  LINAC_CPU_FEATURE("avx512bf16")
  LINAC_CPU_FEATURE("avx512fp16")
  LINAC_CPU_FEATURE("avx512vp2intersect")
  LINAC_CPU_FEATURE("avxvnni")
  LINAC_CPU_FEATURE("amx-tile")
  LINAC_CPU_FEATURE("amx-int8")
  LINAC_CPU_FEATURE("amx-bf16")
#undef LINAC_CPU_FEATURE
#endif
  (void)feature;
  return Support::Unknown;
}

/// Can this runtime, on this CPU, run a kernel with this manifest?
int32_t checkHost(const Manifest &m, linac_error *err) {
  if (m.compiler != LINAC_VERSION)
    return fail(err, LINAC_ERROR_VERSION,
                "%.*s: manifest from compiler %.*s, this runtime is %s; "
                "recompile",
                LINAC_SV(m.kernel), LINAC_SV(m.compiler), LINAC_VERSION);
  // A CUDA kernel's device is checked when its cubin is loaded.
  if (m.targetKind == "cuda")
    return LINAC_OK;
  if (m.targetKind != "cpu")
    return fail(err, LINAC_ERROR_TARGET,
                "%.*s: kernel compiled for target %.*s %.*s; this runtime "
                "runs cpu and cuda kernels only",
                LINAC_SV(m.kernel), LINAC_SV(m.targetKind),
                LINAC_SV(m.targetArch));
  for (int32_t i = 0; i < m.numFeatures; ++i) {
    std::string_view feature = m.features[i];
    switch (cpuSupports(feature)) {
    case Support::Yes:
      break;
    case Support::No:
      return fail(err, LINAC_ERROR_TARGET,
                  "%.*s: kernel compiled for %.*s needs %.*s, which this CPU "
                  "lacks",
                  LINAC_SV(m.kernel), LINAC_SV(m.targetArch),
                  LINAC_SV(feature));
    case Support::Unknown:
      return fail(err, LINAC_ERROR_TARGET,
                  "%.*s: kernel compiled for %.*s needs CPU feature '%.*s', "
                  "which this runtime cannot detect",
                  LINAC_SV(m.kernel), LINAC_SV(m.targetArch),
                  LINAC_SV(feature));
    }
  }
  return LINAC_OK;
}

/// Parses and checks the manifest of a kernel being created; `cuda` says
/// which kind of kernel the caller is creating.
int32_t prepare(linac_kernel *kernel, bool cuda, linac_error *err) {
  if (int32_t status = parse(kernel->text, kernel->manifest, err))
    return status;
  const Manifest &m = kernel->manifest;
  if (cuda != (m.targetKind == "cuda"))
    return fail(err, LINAC_ERROR_TARGET,
                cuda ? "%.*s: kernel compiled for target %.*s %.*s; "
                       "linac_cuda_kernel_create takes cuda kernels"
                     : "%.*s: kernel compiled for target %.*s %.*s; create "
                       "it with linac_cuda_kernel_create",
                LINAC_SV(m.kernel), LINAC_SV(m.targetKind),
                LINAC_SV(m.targetArch));
  return checkHost(m, err);
}

/// The manifest symbol is data from the artifact; a broken artifact could
/// leave it unterminated, and parsing would then read past it. The dynamic
/// symbol table records its size, which bounds the search for the NUL.
bool terminatedWithinSymbol(const void *symbol) {
  Dl_info info;
  void *extra = nullptr;
  if (!dladdr1(symbol, &info, &extra, RTLD_DL_SYMENT) || !extra)
    return true; // No symbol table entry: nothing to check against.
  const ElfW(Sym) *entry = static_cast<const ElfW(Sym) *>(extra);
  // The nearest symbol may start before ours (no size recorded for ours).
  if (info.dli_saddr != symbol || entry->st_size == 0)
    return true;
  size_t size = entry->st_size;
#if LINAC_ASAN
  // AddressSanitizer grows every global by a trailing redzone and records
  // the grown size in the symbol table; the object proper is the part that
  // is not poisoned.
  if (const void *poisoned =
          __asan_region_is_poisoned(const_cast<void *>(symbol), size))
    size = static_cast<size_t>(static_cast<const char *>(poisoned) -
                               static_cast<const char *>(symbol));
#endif
  return std::memchr(symbol, '\0', size) != nullptr;
}

/// glibc maps an artifact's segments straight from the file, so a file cut
/// short after its headers loads "successfully" and then dies of SIGBUS when
/// the loader touches a page past the end. Refuse such files first: every
/// loadable segment must lie within the file. Anything that is not a native
/// ELF header is left to dlopen, which reads headers with read() and
/// reports those problems itself. (A file that changes between this check
/// and dlopen is not defended against.)
int32_t checkNotTruncated(const char *path, const char *shownPath,
                          linac_error *err) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return LINAC_OK; // dlopen fails the same way and says why.
  int32_t status = LINAC_OK;
  struct stat info;
  ElfW(Ehdr) header;
  if (fstat(fd, &info) == 0 && S_ISREG(info.st_mode) &&
      pread(fd, &header, sizeof(header), 0) ==
          static_cast<ssize_t>(sizeof(header)) &&
      std::memcmp(header.e_ident, ELFMAG, SELFMAG) == 0 &&
      header.e_ident[EI_CLASS] ==
          (sizeof(void *) == 8 ? ELFCLASS64 : ELFCLASS32) &&
      header.e_phentsize == sizeof(ElfW(Phdr))) {
    uint64_t fileSize = static_cast<uint64_t>(info.st_size);
    for (unsigned i = 0; i < header.e_phnum && status == LINAC_OK; ++i) {
      ElfW(Phdr) segment;
      uint64_t at = header.e_phoff + uint64_t{i} * sizeof(segment);
      if (at < header.e_phoff || at > static_cast<uint64_t>(INT64_MAX) ||
          pread(fd, &segment, sizeof(segment), static_cast<off_t>(at)) !=
              static_cast<ssize_t>(sizeof(segment)))
        break; // A short program header table: dlopen reports it.
      uint64_t end;
      if (segment.p_type == PT_LOAD && segment.p_filesz > 0 &&
          (__builtin_add_overflow(uint64_t{segment.p_offset},
                                  uint64_t{segment.p_filesz}, &end) ||
           end > fileSize))
        status = fail(err, LINAC_ERROR_LOAD,
                      "cannot load '%s': the file is truncated (%" PRIu64
                      " bytes; segment %u extends to byte %" PRIu64 ")",
                      shownPath, fileSize, i,
                      uint64_t{segment.p_offset} + segment.p_filesz);
    }
  }
  close(fd);
  return status;
}

} // namespace

extern "C" linac_module *linac_module_load(const char *path, linac_error *err) {
  if (!path) {
    fail(err, LINAC_ERROR_INVALID_ARGUMENT, "the artifact path is NULL");
    return nullptr;
  }
  linac_module *module = new (std::nothrow) linac_module;
  size_t length = std::strlen(path);
  // dlopen searches the library path for a name without a slash; an
  // artifact is a file, so "gla.so" means the one in the current directory.
  bool bare = std::strchr(path, '/') == nullptr;
  char *copy = module ? static_cast<char *>(std::malloc(length + 3)) : nullptr;
  if (!copy) {
    delete module;
    fail(err, LINAC_ERROR_OUT_OF_MEMORY, "out of memory loading '%s'", path);
    return nullptr;
  }
  std::memcpy(copy, bare ? "./" : "", bare ? 2 : 0);
  std::memcpy(copy + (bare ? 2 : 0), path, length + 1);
  module->path = copy;

  if (checkNotTruncated(copy, path, err) != LINAC_OK) {
    std::free(copy);
    delete module;
    return nullptr;
  }
  module->handle = dlopen(copy, RTLD_NOW | RTLD_LOCAL);
  if (!module->handle) {
    const char *reason = dlerror();
    fail(err, LINAC_ERROR_LOAD, "cannot load '%s': %s", path,
         reason ? reason : "unknown dlopen error");
    std::free(copy);
    delete module;
    return nullptr;
  }
  succeed(err);
  return module;
}

extern "C" void linac_module_unload(linac_module *module) {
  if (!module)
    return;
  for (linac_kernel *kernel = module->kernels; kernel;) {
    linac_kernel *next = kernel->next;
    delete kernel;
    kernel = next;
  }
  dlclose(module->handle);
  std::free(module->path);
  delete module;
}

extern "C" linac_kernel *
linac_module_kernel(linac_module *module, const char *name, linac_error *err) {
  if (!module || !name) {
    fail(err, LINAC_ERROR_INVALID_ARGUMENT, "%s is NULL",
         module ? "the kernel name" : "the module");
    return nullptr;
  }
  size_t length = std::strlen(name);
  if (length == 0 || length > kMaxNameLength) {
    fail(err, LINAC_ERROR_INVALID_ARGUMENT,
         "kernel name of %zu characters; names have 1 to %zu", length,
         kMaxNameLength);
    return nullptr;
  }

  std::lock_guard<std::mutex> lock(module->mutex);
  for (linac_kernel *kernel = module->kernels; kernel; kernel = kernel->next)
    if (kernel->manifest.kernel == name) {
      succeed(err);
      return kernel;
    }

  char kernelSymbol[kMaxNameLength + sizeof("_manifest")];
  char manifestSymbol[kMaxNameLength + sizeof("_manifest")];
  std::memcpy(kernelSymbol, name, length);
  std::memcpy(kernelSymbol + length, "_kernel", sizeof("_kernel"));
  std::memcpy(manifestSymbol, name, length);
  std::memcpy(manifestSymbol + length, "_manifest", sizeof("_manifest"));
  // A CUDA kernel has a cubin instead of a function: its manifest decides
  // which symbols must exist.
  void *text = dlsym(module->handle, manifestSymbol);
  if (!text) {
    fail(err, LINAC_ERROR_NOT_FOUND,
         "no kernel '%s' in '%s': symbol %s not found", name, module->path,
         manifestSymbol);
    return nullptr;
  }
  if (!terminatedWithinSymbol(text)) {
    fail(err, LINAC_ERROR_LOAD,
         "corrupt manifest: %s in '%s' is not NUL-terminated", manifestSymbol,
         module->path);
    return nullptr;
  }
  Manifest peek;
  bool cuda = parse(static_cast<const char *>(text), peek, nullptr) ==
                  LINAC_OK &&
              peek.targetKind == "cuda";
  char cubinSymbol[kMaxNameLength + sizeof("_cubin_size")];
  char sizeSymbol[kMaxNameLength + sizeof("_cubin_size")];
  std::memcpy(cubinSymbol, name, length);
  std::memcpy(cubinSymbol + length, "_cubin", sizeof("_cubin"));
  std::memcpy(sizeSymbol, name, length);
  std::memcpy(sizeSymbol + length, "_cubin_size", sizeof("_cubin_size"));
  void *fn = cuda ? nullptr : dlsym(module->handle, kernelSymbol);
  void *cubin = cuda ? dlsym(module->handle, cubinSymbol) : nullptr;
  void *cubinSize = cuda ? dlsym(module->handle, sizeSymbol) : nullptr;
  if (cuda ? !cubin || !cubinSize : !fn) {
    fail(err, LINAC_ERROR_NOT_FOUND,
         "no kernel '%s' in '%s': symbol %s not found", name, module->path,
         !cuda ? kernelSymbol : !cubin ? cubinSymbol : sizeSymbol);
    return nullptr;
  }
  linac_kernel *kernel = new (std::nothrow) linac_kernel;
  if (!kernel) {
    fail(err, LINAC_ERROR_OUT_OF_MEMORY, "out of memory loading kernel '%s'",
         name);
    return nullptr;
  }
  kernel->module = module;
  kernel->text = static_cast<const char *>(text);
  // The function pointer travels through dlsym's void *, as POSIX requires.
  kernel->fn = reinterpret_cast<linac_kernel_fn>(fn);
  int32_t status = parse(kernel->text, kernel->manifest, err);
  if (status == LINAC_OK && kernel->manifest.kernel != name)
    status =
        fail(err, LINAC_ERROR_LOAD, "corrupt manifest: %s names kernel '%.*s'",
             manifestSymbol, LINAC_SV(kernel->manifest.kernel));
  if (status == LINAC_OK)
    status = checkHost(kernel->manifest, err);
  if (status == LINAC_OK && cuda) {
    uint64_t size;
    std::memcpy(&size, cubinSize, sizeof(size));
    status = linac::cuda::load(kernel->manifest, cubin, size, &kernel->cuda,
                               err);
  }
  if (status != LINAC_OK) {
    prependError(err, "%s: ", module->path);
    delete kernel;
    return nullptr;
  }
  kernel->next = module->kernels;
  module->kernels = kernel;
  succeed(err);
  return kernel;
}

extern "C" linac_kernel *linac_kernel_create(const char *manifest,
                                             linac_kernel_fn fn,
                                             linac_error *err) {
  if (!manifest || !fn) {
    fail(err, LINAC_ERROR_INVALID_ARGUMENT, "%s is NULL",
         manifest ? "the kernel function" : "the manifest");
    return nullptr;
  }
  linac_kernel *kernel = new (std::nothrow) linac_kernel;
  size_t size = std::strlen(manifest) + 1;
  char *copy = kernel ? static_cast<char *>(std::malloc(size)) : nullptr;
  if (!copy) {
    delete kernel;
    fail(err, LINAC_ERROR_OUT_OF_MEMORY, "out of memory creating a kernel");
    return nullptr;
  }
  std::memcpy(copy, manifest, size);
  kernel->ownedText = copy;
  kernel->text = copy;
  kernel->fn = fn;
  if (prepare(kernel, /*cuda=*/false, err) != LINAC_OK) {
    std::free(copy);
    delete kernel;
    return nullptr;
  }
  succeed(err);
  return kernel;
}

extern "C" int32_t linac_check_host(const char *manifest, linac_error *err) {
  if (!manifest)
    return fail(err, LINAC_ERROR_INVALID_ARGUMENT, "the manifest is NULL");
  // Manifest is small and holds views into the text: no allocation.
  Manifest parsed;
  if (int32_t status = parse(manifest, parsed, err))
    return status;
  if (int32_t status = checkHost(parsed, err))
    return status;
  succeed(err);
  return LINAC_OK;
}

extern "C" void linac_kernel_destroy(linac_kernel *kernel) {
  // A module's kernels are freed with the module.
  if (!kernel || kernel->module)
    return;
  std::free(kernel->ownedText);
  delete kernel;
}

extern "C" const char *linac_kernel_manifest(const linac_kernel *kernel) {
  return kernel ? kernel->text : nullptr;
}

extern "C" int32_t linac_kernel_launch(const linac_kernel *kernel,
                                       const linac_tensor *const *tensors,
                                       int32_t count, linac_pool *pool,
                                       linac_error *err) {
  if (!kernel)
    return fail(err, LINAC_ERROR_INVALID_ARGUMENT, "the kernel is NULL");
  if (kernel->cuda)
    return fail(err, LINAC_ERROR_INVALID_ARGUMENT,
                "%.*s is a CUDA kernel; launch it with "
                "linac_kernel_launch_cuda on a stream",
                LINAC_SV(kernel->manifest.kernel));
  if (int32_t status = validate(kernel->manifest, tensors, count, err))
    return status;
  kernel->fn(tensors, linac_pool_parallel_for, pool);
  return LINAC_OK;
}

extern "C" int32_t linac_cuda_device_count(int32_t *count, linac_error *err) {
  return linac::cuda::deviceCount(count, err);
}

extern "C" linac_kernel *linac_cuda_kernel_create(const char *manifest,
                                                  const void *cubin,
                                                  uint64_t size,
                                                  linac_error *err) {
  if (!manifest || !cubin) {
    fail(err, LINAC_ERROR_INVALID_ARGUMENT, "%s is NULL",
         manifest ? "the cubin" : "the manifest");
    return nullptr;
  }
  linac_kernel *kernel = new (std::nothrow) linac_kernel;
  size_t textSize = std::strlen(manifest) + 1;
  char *copy = kernel ? static_cast<char *>(std::malloc(textSize)) : nullptr;
  if (!copy) {
    delete kernel;
    fail(err, LINAC_ERROR_OUT_OF_MEMORY, "out of memory creating a kernel");
    return nullptr;
  }
  std::memcpy(copy, manifest, textSize);
  kernel->ownedText = copy;
  kernel->text = copy;
  if (prepare(kernel, /*cuda=*/true, err) != LINAC_OK ||
      linac::cuda::load(kernel->manifest, cubin, size, &kernel->cuda, err) !=
          LINAC_OK) {
    std::free(copy);
    delete kernel;
    return nullptr;
  }
  succeed(err);
  return kernel;
}

extern "C" int32_t linac_kernel_launch_cuda(const linac_kernel *kernel,
                                            const linac_tensor *const *tensors,
                                            int32_t count, void *stream,
                                            linac_error *err) {
  if (!kernel)
    return fail(err, LINAC_ERROR_INVALID_ARGUMENT, "the kernel is NULL");
  if (!kernel->cuda)
    return fail(err, LINAC_ERROR_INVALID_ARGUMENT,
                "%.*s is a CPU kernel; launch it with linac_kernel_launch",
                LINAC_SV(kernel->manifest.kernel));
  return linac::cuda::launch(kernel->cuda, kernel->manifest, tensors, count,
                             stream, err);
}
