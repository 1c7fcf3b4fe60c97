//===- ArtifactCache.h - on-disk cache of compiled artifacts ----*- C++ -*-===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// Where linac_compile keeps the shared artifacts it builds, how an entry is
/// named, sealed and checked, and how concurrent writers agree. No MLIR here:
/// only files, hashes and locks.
///
/// An entry is `<dir>/<prefix>-<key>.so`, the artifact followed by a trailer
/// (little-endian):
///
///   offset  0  uint64  size of the artifact in bytes (the trailer excluded)
///   offset  8  uint64  xxh3-64 of the artifact
///   offset 16  16 B    the 128-bit key the entry was built for
///   offset 32  8 B     magic "LNCJIT01"
///
/// The dynamic loader maps only what the program headers name, so the bytes
/// after the ELF image are invisible to it; to us they say whether the file
/// is complete and unchanged. Nothing partial is ever visible under the
/// entry's name: an artifact is built under a unique temporary name in the
/// same directory, sealed, then hard-linked (or renamed) into place.
///
//===----------------------------------------------------------------------===//

#ifndef LINAC_LIB_JIT_ARTIFACTCACHE_H
#define LINAC_LIB_JIT_ARTIFACTCACHE_H

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/StringRef.h"

#include <array>
#include <cstdint>
#include <string>

namespace linac::jit {

/// The 128-bit hash that names an entry.
using CacheKey = std::array<uint8_t, 16>;

/// The cache directory for an explicit choice (empty: $LINAC_CACHE_DIR, else
/// $XDG_CACHE_HOME/linac, else $HOME/.cache/linac, else
/// /tmp/linac-cache-<uid>).
std::string resolveCacheDir(llvm::StringRef explicitDir);

/// What identifies the compiler that builds the entries: the linac and LLVM
/// versions and a hash of the binary holding this code (liblinac_jit.so, or
/// the executable it is linked into). Computed once per process. Sets
/// `reusable` to false when the binary could not be read: its entries must
/// then never be reused, since a different build could have written them.
const std::string &compilerIdentity(bool &reusable);

/// Hashes the parts of a key, in order, each terminated by a NUL (so that
/// "ab"+"c" and "a"+"bc" differ).
CacheKey hashKey(llvm::ArrayRef<llvm::StringRef> parts);

/// `<dir>/<prefix>-<32 hex digits>.so`.
std::string entryPath(llvm::StringRef dir, llvm::StringRef prefix,
                      const CacheKey &key);

enum class EntryState { Missing, Valid, Invalid };

/// Checks the entry at `path` without trusting any of it: the trailer must
/// be there, the size, content hash and key must match. For an Invalid
/// entry, `why` says what is wrong. The file is read, never mapped, so a
/// concurrent truncation cannot fault.
EntryState inspectEntry(llvm::StringRef path, const CacheKey &key,
                        std::string &why);

/// Appends the trailer for `key` to the artifact at `path`.
bool sealEntry(llvm::StringRef path, const CacheKey &key, std::string &error);

/// A unique path next to `entry` for a file being built (no file is
/// created): `<entry>.tmp-<pid>-<n><suffix>`.
std::string temporaryPath(llvm::StringRef entry, llvm::StringRef suffix);

/// Makes the sealed file `temporary` the entry at `path`, and removes
/// `temporary`. When a valid entry is already there (a concurrent writer
/// won), it is kept and ours is discarded; an invalid one is replaced.
bool publishEntry(llvm::StringRef temporary, llvm::StringRef path,
                  const CacheKey &key, std::string &error);

/// An exclusive advisory lock (flock) on `<entry>.lock`, held from acquire()
/// until destruction, so that one process compiles a key while the others
/// wait for its result. On a file system without flock the lock degrades to
/// nothing: publishEntry alone keeps the cache consistent.
class EntryLock {
public:
  EntryLock() = default;
  EntryLock(const EntryLock &) = delete;
  EntryLock &operator=(const EntryLock &) = delete;
  ~EntryLock();
  /// Returns false (with `error`) when the lock file cannot be opened.
  bool acquire(llvm::StringRef entry, std::string &error);

private:
  int fd = -1;
};

} // namespace linac::jit

#endif // LINAC_LIB_JIT_ARTIFACTCACHE_H
