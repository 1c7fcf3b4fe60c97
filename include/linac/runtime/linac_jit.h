/*===- linac_jit.h - compile specs at run time, with a disk cache -*- C -*-===*
 *
 * Part of linac, an MLIR-based compiler for linear-attention kernels.
 *
 * linac_compile turns a spec (the TOML of docs/spec.md, or linac IR with a
 * linac.recurrence op) into a loaded module, through the same pipeline as
 * `linacc --emit=shared` and `linac-run`. This is the runtime's JIT entry,
 * and it lives in its own library, liblinac_jit (CMake: linac::jit), because
 * it carries the compiler: it needs libMLIR/libLLVM 22 and ld.lld at run
 * time, which liblinac_runtime never does. What it returns is an ordinary
 * linac_module of linac.h: look kernels up with linac_module_kernel, launch
 * them with linac_kernel_launch, free it with linac_module_unload.
 *
 * Kernels never compile twice: each result is cached on disk, keyed by a
 * hash of the source text, its format, the kernel name prefix, the target
 * (CPU name and LLVM features), the flags, the linac and LLVM versions and a
 * hash of the compiler library itself (a rebuilt compiler never reuses the
 * files of an older one). A cache entry is the shared artifact followed by a
 * 40-byte trailer holding its size, a hash of its content and the key; an
 * entry that is truncated, corrupt or written for another key is rebuilt,
 * never loaded. Entries are written to a unique temporary file in the cache
 * directory and published with an atomic link/rename, and compilations of
 * one key are serialised with a lock file, so several threads or processes
 * may compile the same spec at once: one compiles, the others wait and load
 * its file. Stale entries are never deleted; removing the directory (or any
 * file in it) at any time is safe (at worst a key compiles twice). The
 * checks guard against accidents, not attacks: entries are code this process
 * runs, so the cache directory must be writable only by people trusted to
 * run code here, like any directory of shared libraries.
 *
 * Errors are values (linac.h's conventions): on failure the call returns
 * NULL and fills `err`. An invalid spec gives LINAC_ERROR_SPEC with the
 * compiler's diagnostics as "file:line:col: error: message" lines (the file
 * is options->source_name, "<spec>" by default); the full text of every
 * diagnostic also goes to options->diagnostic when set, since the 512-byte
 * message may have to be cut short.
 *
 *===----------------------------------------------------------------------===*/

#ifndef LINAC_RUNTIME_LINAC_JIT_H
#define LINAC_RUNTIME_LINAC_JIT_H

#include "linac/runtime/linac.h"

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define LINAC_JIT_API __attribute__((visibility("default")))
#else
#define LINAC_JIT_API
#endif

/* What the text given to linac_compile is. */
typedef enum linac_source_format {
  /* By the extension of source_name (.toml, .mlir); without one, linac IR
   * when the text starts (after blanks and // comments) with `module`,
   * `func.func`, `"` or `{-#`, else a TOML spec. IR that starts with
   * attribute or type aliases needs LINAC_SOURCE_MLIR or a .mlir name. */
  LINAC_SOURCE_AUTO = 0,
  LINAC_SOURCE_TOML = 1, /* a spec, docs/spec.md */
  LINAC_SOURCE_MLIR = 2, /* linac IR with at least one linac.recurrence */
} linac_source_format;

/* Bits of linac_compile_options.flags. */
typedef enum linac_compile_flag {
  /* Each chunked-scan op in its own never-inlined function, so that a
   * profiler splits the kernel's time by op (slower; for profiling). */
  LINAC_COMPILE_OUTLINE_OPS = 1u << 0,
  /* With a cuda:* target: build the CUDA kernels' own code for this CPU
   * instead of cubins (what `linacc --cuda-emulate` writes): the kernels of
   * linac-lower-chunk-gpu with their tensor-core operands rounded as on the
   * GPU and a block's threads serialized between barriers. The result is a
   * CPU module (launch its kernels with linac_kernel_launch); it runs, and
   * is checked against the oracle, on machines without a GPU. */
  LINAC_COMPILE_CUDA_EMULATE = 1u << 1,
} linac_compile_flag;

/* Receives the full text of one compiler diagnostic (no trailing newline). */
typedef void (*linac_diagnostic_fn)(void *user, const char *text);

/* Options of linac_compile. Zero-initialize, then set what you need: every
 * field has a default, and a NULL options pointer means all defaults. */
typedef struct linac_compile_options {
  /* The name diagnostics give the text ("<spec>" when NULL); AUTO also
   * reads the format from its extension. Not part of the cache key. */
  const char *source_name;
  int32_t format; /* a linac_source_format */
  /* TOML: the prefix of the kernel names, NAME_prefill and NAME_decode; a C
   * identifier. Default: the stem of source_name when that is one, else
   * "spec". Must be NULL for linac IR, whose functions name the kernels. */
  const char *name;
  /* "cpu" (the spec's cpu, else the host's), "cpu:native",
   * "cpu:x86-64-v3", "cpu:x86-64-v4", "cuda:sm_90a" or "cuda:sm_80". NULL
   * or "": the spec's [target] (TOML) or the module's linac.target and
   * linac.cpu (IR), else "cpu:native". A cuda target gives a module of
   * cubins (look its kernels up with linac_module_kernel, which loads them
   * onto the GPU, and launch them with linac_kernel_launch_cuda); compiling
   * one needs no GPU, but needs the CUDA toolkit this library was
   * configured with (ptxas), else LINAC_ERROR_TARGET. */
  const char *target;
  /* NULL or "": $LINAC_CACHE_DIR, else $XDG_CACHE_HOME/linac, else
   * $HOME/.cache/linac (else /tmp/linac-cache-UID). Created when
   * missing. */
  const char *cache_dir;
  linac_diagnostic_fn diagnostic; /* optional */
  void *diagnostic_user;
  uint32_t flags; /* linac_compile_flag bits; part of the cache key */
} linac_compile_options;

/* What linac_compile did, for callers that care (tests, tools, logs). */
typedef struct linac_compile_info {
  int32_t compiled; /* 1: this call ran the compiler; 0: a cache hit */
  /* 1: a cache entry existed but was truncated, corrupt or unloadable, and
   * was replaced (options->diagnostic also gets a note saying why). */
  int32_t rebuilt;
  double milliseconds; /* wall time of the call */
  char path[1024];     /* the cache entry that was loaded */
} linac_compile_info;

/* Compiles `length` bytes of `source` (NUL bytes are not allowed) and
 * returns the loaded module, or NULL with `err` filled. `info` and `err`
 * may be NULL. Codes:
 *   LINAC_ERROR_SPEC              the text is not a valid spec or IR, or
 *                                 the compiler does not support what it
 *                                 asks for (the message says where, why);
 *   LINAC_ERROR_INVALID_ARGUMENT  NULL source, bad name, format, target or
 *                                 flags;
 *   LINAC_ERROR_TARGET            a target this build cannot compile for
 *                                 (cuda without a CUDA toolkit), or a CPU
 *                                 the host lacks features of
 *                                 (cpu:x86-64-v4 on an AVX2 machine);
 *   LINAC_ERROR_IO                the cache directory cannot be created,
 *                                 written or locked;
 *   LINAC_ERROR_LOAD              a freshly built artifact does not load;
 *   LINAC_ERROR_INTERNAL          a compiler bug (invalid IR, link failure).
 * Thread-safe. */
LINAC_JIT_API linac_module *
linac_compile(const char *source, size_t length,
              const linac_compile_options *options, linac_compile_info *info,
              linac_error *err);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* LINAC_RUNTIME_LINAC_JIT_H */
