//===- Fuzz_validate.cpp - libFuzzer target for linac_validate ------------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// Input: manifest text up to the first NUL byte, then bytes that describe one
// tensor descriptor per manifest `tensor` record (NULL, a copy of an earlier
// one, or a fresh one with its own dtype, rank, shape, strides and data).
// Sizes mostly follow the manifest (one value per symbol) so that the fuzzer
// reaches the rules between tensors, and sometimes anything at all.
//
// linac_validate reads no tensor memory except cu_seqlens and state_indices.
// So every tensor whose claimed extent is small gets a real, exactly sized
// buffer (distinct addresses make the overlap checks meaningful); larger ones
// get a made-up address, except those two, which then get NULL: a made-up
// address there would be the harness's own out-of-bounds read, not a bug.
// ASan catches any read of them past the extent their descriptor claims.
//
//===----------------------------------------------------------------------===//

#include "linac/runtime/Manifest.h"
#include "linac/runtime/linac.h"

#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>
#include <vector>

namespace {

class Bytes {
public:
  Bytes(const uint8_t *data, size_t size) : data(data), size(size) {}
  uint8_t u8() { return offset < size ? data[offset++] : 0; }
  int64_t i64() {
    int64_t value = 0;
    for (int i = 0; i < 8; ++i)
      value = static_cast<int64_t>(static_cast<uint64_t>(value) << 8 | u8());
    return value;
  }

private:
  const uint8_t *data;
  size_t size;
  size_t offset = 0;
};

/// Largest extent (in bytes) that gets a real buffer.
constexpr uint64_t kMaxBacked = 1 << 16;

/// The bytes a descriptor claims, or false when it claims more than
/// kMaxBacked, a negative stride or size, or an overflowing span. Zero-sized
/// tensors claim 0 bytes.
bool claimedBytes(const linac_tensor &t, uint64_t &bytes) {
  size_t elementSize = linac::manifest::dtypeSize(t.dtype);
  if (elementSize == 0 || t.rank < 0 || t.rank > LINAC_MAX_RANK)
    return false;
  uint64_t span = 0;
  for (int d = 0; d < t.rank; ++d) {
    if (t.shape[d] < 0 || t.strides[d] < 0)
      return false;
    if (t.shape[d] == 0) {
      bytes = 0;
      return true;
    }
  }
  for (int d = 0; d < t.rank; ++d) {
    uint64_t reach;
    if (__builtin_mul_overflow(static_cast<uint64_t>(t.shape[d] - 1),
                               static_cast<uint64_t>(t.strides[d]), &reach) ||
        __builtin_add_overflow(span, reach, &span) || span >= kMaxBacked)
      return false;
  }
  bytes = (span + 1) * elementSize;
  return bytes <= kMaxBacked;
}

/// How many elements of a backed rank-1 tensor have addresses of their own:
/// a zero stride puts any number of them (2^40, say: found as a fuzzer
/// timeout) on one.
int64_t distinctElements(const linac_tensor &t) {
  return t.strides[0] == 0 && t.shape[0] > 1 ? 1 : t.shape[0];
}

/// Element k of a backed rank-1 integer tensor (4 or 8 bytes wide; a
/// wrong dtype keeps its element size, as validation reads it).
void storeInteger(const linac_tensor &t, int64_t k, int64_t value) {
  size_t elementSize = linac::manifest::dtypeSize(t.dtype);
  char *at = static_cast<char *>(t.data) +
             static_cast<size_t>(k * t.strides[0]) * elementSize;
  if (elementSize == 4) {
    int32_t narrow = static_cast<int32_t>(value);
    std::memcpy(at, &narrow, sizeof(narrow));
  } else {
    std::memcpy(at, &value, sizeof(value));
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *nul = static_cast<const uint8_t *>(std::memchr(data, 0, size));
  size_t textSize = nul ? static_cast<size_t>(nul - data) : size;
  // linac_validate takes a C string; the copy ends at the NUL.
  std::vector<char> text(data, data + textSize);
  text.push_back('\0');
  Bytes bytes(nul ? nul + 1 : data + size, nul ? size - textSize - 1 : 0);

  linac::manifest::Manifest manifest;
  bool parsed = linac::manifest::parse(std::string_view(text.data(), textSize),
                                       manifest, nullptr) == LINAC_OK;

  int32_t count = parsed ? manifest.numTensors : 0;
  if (bytes.u8() >= 240)
    count = bytes.u8() % (linac::manifest::kMaxTensors + 2) - 1;
  size_t slots = count > 0 ? static_cast<size_t>(count) : 0;

  // One size per symbol, used by every tensor that names it.
  int64_t symbolValues[linac::manifest::kNumSymbols];
  for (int64_t &value : symbolValues)
    value = bytes.u8() % 9;

  std::vector<linac_tensor> tensors(slots);
  std::vector<const linac_tensor *> pointers(slots, nullptr);
  std::vector<bool> backed(slots, false);
  std::vector<std::unique_ptr<uint64_t[]>> storage;
  for (size_t i = 0; i < slots; ++i) {
    bool isCuSeqlens = parsed && static_cast<int32_t>(i) == manifest.cuSeqlens;
    bool isStateIndices =
        parsed && static_cast<int32_t>(i) == manifest.stateIndices;
    bool isRead = isCuSeqlens || isStateIndices;
    const linac::manifest::TensorDecl *decl =
        parsed && i < static_cast<size_t>(manifest.numTensors)
            ? &manifest.tensors[i]
            : nullptr;
    uint8_t mode = bytes.u8();
    if (mode % 16 == 0)
      continue; // NULL descriptor
    if (mode % 16 == 1 && i > 0) {
      // The same descriptor as an earlier tensor: aliases and overlaps.
      size_t earlier = bytes.u8() % i;
      if (pointers[earlier] && (!isRead || backed[earlier])) {
        pointers[i] = pointers[earlier];
        backed[i] = backed[earlier];
        continue;
      }
    }

    linac_tensor &t = tensors[i];
    t.dtype = decl && bytes.u8() < 240 ? decl->dtype : bytes.u8() % 7;
    t.rank = decl && bytes.u8() < 240 ? decl->rank : bytes.u8() % 7 - 1;
    int rank = t.rank < 0                ? 0
               : t.rank > LINAC_MAX_RANK ? LINAC_MAX_RANK
                                         : t.rank;
    for (int d = 0; d < rank; ++d) {
      uint8_t selector = bytes.u8();
      if (decl && d < decl->rank && selector < 200) {
        const linac::manifest::Dim &dim = decl->dims[d];
        t.shape[d] = dim.symbol == linac::manifest::Symbol::None
                         ? dim.size
                         : symbolValues[static_cast<int>(dim.symbol)];
      } else {
        t.shape[d] = selector < 250 ? selector % 6 : bytes.i64();
      }
    }
    // Row-major strides unless the bytes say otherwise.
    int64_t stride = 1;
    for (int d = rank - 1; d >= 0; --d) {
      uint8_t selector = bytes.u8();
      t.strides[d] = selector < 220   ? stride
                     : selector < 250 ? static_cast<int64_t>(bytes.u8()) - 20
                                      : bytes.i64();
      if (t.shape[d] > 0 && __builtin_mul_overflow(stride, t.shape[d], &stride))
        stride = 1;
    }
    // Leftover entries beyond the rank are ignored by the contract.
    for (int d = rank; d < LINAC_MAX_RANK; ++d) {
      t.shape[d] = -1;
      t.strides[d] = -1;
    }

    uint64_t claimed = 0;
    uint8_t placement = bytes.u8();
    bool misaligned = placement % 32 == 0;
    if (claimedBytes(t, claimed) && placement % 32 != 1) {
      // An exactly sized buffer (plus one byte of offset when misaligned).
      size_t words = static_cast<size_t>(claimed + 8) / 8 + 1;
      storage.emplace_back(new uint64_t[words]());
      char *base = reinterpret_cast<char *>(storage.back().get());
      t.data =
          claimed == 0 && placement % 2 ? nullptr : base + (misaligned ? 1 : 0);
      if (isCuSeqlens && t.data && claimed > 0) {
        // Offsets that are mostly valid: non-decreasing steps from 0.
        int64_t value = bytes.u8() < 240 ? 0 : bytes.i64();
        for (int64_t k = 0; k < distinctElements(t); ++k) {
          storeInteger(t, k, value);
          uint8_t step = bytes.u8();
          // Wrapping, like the offsets a buggy caller could pass.
          value = step < 250 ? static_cast<int64_t>(
                                   static_cast<uint64_t>(value) + step % 5)
                             : bytes.i64();
        }
      }
      if (isStateIndices && t.data && claimed > 0) {
        // Slots around a small pool, padding rows and repeats included.
        for (int64_t k = 0; k < distinctElements(t); ++k) {
          uint8_t pick = bytes.u8();
          storeInteger(t, k,
                       pick < 250 ? static_cast<int64_t>(pick % 12) - 2
                                  : bytes.i64());
        }
      }
      backed[i] = true;
    } else if (isRead) {
      t.data = nullptr;
    } else {
      // Never dereferenced: an address for the extent arithmetic only.
      t.data = reinterpret_cast<void *>(static_cast<uintptr_t>(bytes.i64()) &
                                        ~uintptr_t(misaligned ? 0 : 7));
    }
    pointers[i] = &t;
  }

  linac_error err;
  const linac_tensor *const *array =
      count > 0 ? pointers.data()
                : (bytes.u8() % 2 ? nullptr : pointers.data());
  int32_t status = linac_validate(text.data(), array, count, &err);
  if (status != err.code)
    abort();
  if (status == LINAC_OK) {
    if (!parsed || err.message[0] != '\0')
      abort();
  } else {
    if (err.message[0] == '\0' ||
        std::memchr(err.message, 0, sizeof(err.message)) == nullptr)
      abort();
    if (!parsed && status != LINAC_ERROR_LOAD)
      abort();
    if (parsed && status != LINAC_ERROR_INVALID_ARGUMENT)
      abort();
  }
  // The same answer without an error record.
  if (linac_validate(text.data(), array, count, nullptr) != status)
    abort();
  return 0;
}
