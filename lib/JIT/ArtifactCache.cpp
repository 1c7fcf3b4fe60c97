//===- ArtifactCache.cpp - the on-disk cache of compiled artifacts --------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//

#include "ArtifactCache.h"

#include "linac/runtime/linac.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/xxhash.h"

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <vector>

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace linac::jit;

namespace {

constexpr char kMagic[8] = {'L', 'N', 'C', 'J', 'I', 'T', '0', '1'};
constexpr size_t kTrailerSize = 40;
/// Artifacts are tens of kilobytes; anything near this is not one of ours,
/// and reading it whole to check it would be a waste.
constexpr uint64_t kMaxEntrySize = uint64_t{1} << 30;

std::string errnoText(int error) { return std::strerror(error); }

/// Reads all of `fd` with read(2) (no mmap: a file truncated while we map it
/// would fault). Returns false on an I/O error.
bool readAll(int fd, uint64_t size, std::vector<uint8_t> &bytes) {
  bytes.resize(size);
  uint64_t done = 0;
  while (done < size) {
    ssize_t got =
        ::pread(fd, bytes.data() + done, size - done, static_cast<off_t>(done));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0)
      return false;
    done += static_cast<uint64_t>(got);
  }
  return true;
}

bool writeAll(int fd, const uint8_t *data, size_t size) {
  while (size) {
    ssize_t put = ::write(fd, data, size);
    if (put < 0 && errno == EINTR)
      continue;
    if (put <= 0)
      return false;
    data += put;
    size -= static_cast<size_t>(put);
  }
  return true;
}

/// The file this code was loaded from: liblinac_jit.so, or the executable
/// when the library is linked statically.
std::string ownBinary() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(&ownBinary), &info) && info.dli_fname &&
      *info.dli_fname)
    return info.dli_fname;
  return "/proc/self/exe";
}

} // namespace

std::string linac::jit::resolveCacheDir(llvm::StringRef explicitDir) {
  if (!explicitDir.empty())
    return explicitDir.str();
  if (const char *env = std::getenv("LINAC_CACHE_DIR"); env && *env)
    return env;
  llvm::SmallString<128> dir;
  if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg) {
    dir = xdg;
  } else if (llvm::sys::path::home_directory(dir)) {
    llvm::sys::path::append(dir, ".cache");
  } else {
    // One directory per user: entries are code this process will run.
    return "/tmp/linac-cache-" + std::to_string(::getuid());
  }
  llvm::sys::path::append(dir, "linac");
  return std::string(dir);
}

const std::string &linac::jit::compilerIdentity(bool &reusable) {
  struct Identity {
    std::string text;
    bool reusable = false;
  };
  // A function-local static: initialised once, thread-safely.
  static const Identity identity = [] {
    Identity id;
    id.text = "linac " LINAC_VERSION " llvm " LLVM_VERSION_STRING " ";
    std::string path = ownBinary();
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    struct stat info;
    std::vector<uint8_t> bytes;
    if (fd >= 0 && ::fstat(fd, &info) == 0 &&
        readAll(fd, static_cast<uint64_t>(info.st_size), bytes)) {
      id.text += llvm::utohexstr(llvm::xxh3_64bits(bytes));
      id.reusable = true;
    } else {
      id.text += "unreadable";
    }
    if (fd >= 0)
      ::close(fd);
    return id;
  }();
  reusable = identity.reusable;
  return identity.text;
}

CacheKey linac::jit::hashKey(llvm::ArrayRef<llvm::StringRef> parts) {
  std::vector<uint8_t> bytes;
  for (llvm::StringRef part : parts) {
    bytes.insert(bytes.end(), part.bytes_begin(), part.bytes_end());
    bytes.push_back(0);
  }
  llvm::XXH128_hash_t hash = llvm::xxh3_128bits(bytes);
  CacheKey key;
  llvm::support::endian::write64le(key.data(), hash.low64);
  llvm::support::endian::write64le(key.data() + 8, hash.high64);
  return key;
}

std::string linac::jit::entryPath(llvm::StringRef dir, llvm::StringRef prefix,
                                  const CacheKey &key) {
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(
      path, prefix + "-" + llvm::toHex(key, /*LowerCase=*/true) + ".so");
  return std::string(path);
}

EntryState linac::jit::inspectEntry(llvm::StringRef path, const CacheKey &key,
                                    std::string &why) {
  std::string file = path.str();
  int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return EntryState::Missing;
    why = "cannot open it: " + errnoText(errno);
    return EntryState::Invalid;
  }
  struct stat info;
  std::vector<uint8_t> bytes;
  EntryState state = EntryState::Invalid;
  if (::fstat(fd, &info) != 0) {
    why = "cannot stat it: " + errnoText(errno);
  } else if (!S_ISREG(info.st_mode)) {
    why = "not a regular file";
  } else if (static_cast<uint64_t>(info.st_size) < kTrailerSize) {
    why = "truncated (" + std::to_string(info.st_size) + " bytes)";
  } else if (static_cast<uint64_t>(info.st_size) > kMaxEntrySize) {
    why = "implausibly large (" + std::to_string(info.st_size) + " bytes)";
  } else if (!readAll(fd, static_cast<uint64_t>(info.st_size), bytes)) {
    why = "cannot read it: " + errnoText(errno);
  } else {
    const uint8_t *trailer = bytes.data() + bytes.size() - kTrailerSize;
    uint64_t payload = bytes.size() - kTrailerSize;
    if (std::memcmp(trailer + 32, kMagic, sizeof(kMagic)) != 0)
      why = "no linac trailer (truncated, or not written by linac_compile)";
    else if (llvm::support::endian::read64le(trailer) != payload)
      why = "size mismatch (" + std::to_string(payload) +
            " bytes, trailer "
            "says " +
            std::to_string(llvm::support::endian::read64le(trailer)) + ")";
    else if (std::memcmp(trailer + 16, key.data(), key.size()) != 0)
      why = "built for another key";
    else if (llvm::support::endian::read64le(trailer + 8) !=
             llvm::xxh3_64bits(llvm::ArrayRef(bytes.data(), payload)))
      why = "content hash mismatch (corrupt)";
    else
      state = EntryState::Valid;
  }
  ::close(fd);
  return state;
}

bool linac::jit::sealEntry(llvm::StringRef path, const CacheKey &key,
                           std::string &error) {
  std::string file = path.str();
  int fd = ::open(file.c_str(), O_RDWR | O_APPEND | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open '" + file + "': " + errnoText(errno);
    return false;
  }
  struct stat info;
  std::vector<uint8_t> bytes;
  bool ok = ::fstat(fd, &info) == 0 &&
            readAll(fd, static_cast<uint64_t>(info.st_size), bytes);
  if (ok) {
    uint8_t trailer[kTrailerSize];
    llvm::support::endian::write64le(trailer, bytes.size());
    llvm::support::endian::write64le(trailer + 8, llvm::xxh3_64bits(bytes));
    std::memcpy(trailer + 16, key.data(), key.size());
    std::memcpy(trailer + 32, kMagic, sizeof(kMagic));
    ok = writeAll(fd, trailer, sizeof(trailer));
  }
  if (!ok)
    error = "cannot seal '" + file + "': " + errnoText(errno);
  if (::close(fd) != 0 && ok) {
    error = "cannot write '" + file + "': " + errnoText(errno);
    ok = false;
  }
  return ok;
}

std::string linac::jit::temporaryPath(llvm::StringRef entry,
                                      llvm::StringRef suffix) {
  // The pid tells processes apart, the counter the calls of one process
  // (threads included).
  static std::atomic<uint64_t> counter{0};
  return (entry + ".tmp-" + llvm::Twine(static_cast<int64_t>(::getpid())) +
          "-" + llvm::Twine(counter.fetch_add(1)) + suffix)
      .str();
}

bool linac::jit::publishEntry(llvm::StringRef temporary, llvm::StringRef path,
                              const CacheKey &key, std::string &error) {
  std::string from = temporary.str(), to = path.str();
  // link() never replaces: if another writer got there first, its entry
  // stays and every process loads the same file.
  if (::link(from.c_str(), to.c_str()) == 0) {
    ::unlink(from.c_str());
    return true;
  }
  int linkError = errno;
  if (linkError == EEXIST) {
    std::string why;
    if (inspectEntry(to, key, why) == EntryState::Valid) {
      ::unlink(from.c_str());
      return true;
    }
  }
  // Replace an invalid entry, or publish on a file system without hard
  // links; rename() is atomic either way.
  if (::rename(from.c_str(), to.c_str()) == 0)
    return true;
  error = "cannot move the artifact into the cache as '" + to +
          "': " + errnoText(errno);
  ::unlink(from.c_str());
  return false;
}

EntryLock::~EntryLock() {
  if (fd >= 0)
    ::close(fd); // Releases the flock.
}

bool EntryLock::acquire(llvm::StringRef entry, std::string &error) {
  std::string path = (entry + ".lock").str();
  fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    error = "cannot create the lock file '" + path + "': " + errnoText(errno);
    return false;
  }
  while (::flock(fd, LOCK_EX) != 0) {
    if (errno == EINTR)
      continue;
    // ENOLCK, EOPNOTSUPP (some network file systems): go on unlocked;
    // publishEntry keeps concurrent writers safe, just not economical.
    break;
  }
  return true;
}
