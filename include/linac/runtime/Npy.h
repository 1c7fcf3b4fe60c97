//===- Npy.h - Reading and writing NumPy .npy files -------------*- C++ -*-===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// A small, defensive .npy codec: format versions 1.0, 2.0 and 3.0,
/// little-endian, C order only, and the dtypes linac exchanges with the
/// outside world:
///
///   '<f4' f32   '<f2' f16   '<u2' bf16 bit patterns   '<f8' f64
///   '<i4' i32   '<i8' i64
///
/// NumPy has no bfloat16, so bf16 tensors travel as uint16 bit patterns
/// ('<u2'); reading '<u2' therefore yields DType::BF16.
///
/// The parser accepts any byte sequence without undefined behaviour: the
/// header length is bounded, the header is parsed as a strict subset of a
/// Python dict literal, shape products are overflow-checked, and the data size
/// must match the header exactly before anything is allocated.
///
//===----------------------------------------------------------------------===//

#ifndef LINAC_RUNTIME_NPY_H
#define LINAC_RUNTIME_NPY_H

#include "linac/runtime/Tensor.h"

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace linac {

/// The largest header (the dict text) the reader accepts, in bytes. NumPy
/// itself refuses headers over 10000 bytes by default.
constexpr size_t kNpyMaxHeaderSize = 65536;

/// The largest rank the reader accepts (NumPy's own limit is 64).
constexpr int kNpyMaxRank = 32;

/// An owned array as stored in a .npy file: C-order little-endian bytes.
struct NpyArray {
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;

  /// Number of elements (1 for a rank-0 array).
  int64_t numElements() const;

  template <typename T> T *dataAs() {
    return reinterpret_cast<T *>(bytes.data());
  }
  template <typename T> const T *dataAs() const {
    return reinterpret_cast<const T *>(bytes.data());
  }
};

/// The .npy descr of a dtype, e.g. "<f4"; "<u2" for BF16.
const char *npyDescr(DType dtype);

/// A zero-filled array. The caller keeps the element count reasonable.
NpyArray makeNpyArray(DType dtype, std::vector<int64_t> shape);

/// Parses a complete .npy image held in memory. On failure returns false,
/// sets `error` and leaves `array` unspecified.
bool parseNpy(const uint8_t *data, size_t size, NpyArray &array,
              std::string &error);

/// Reads and parses a .npy file.
bool readNpyFile(const std::string &path, NpyArray &array, std::string &error);

/// Encodes `array` (version 1.0, or 2.0 when the header needs it), with the
/// header padded so that the data starts at a multiple of 64 bytes.
bool serializeNpy(const NpyArray &array, std::vector<uint8_t> &out,
                  std::string &error);

/// Encodes `array` and writes it to `path`.
bool writeNpyFile(const std::string &path, const NpyArray &array,
                  std::string &error);

/// A contiguous view of `array`; fails for ranks above kMaxRank or when the
/// byte count does not match the shape.
bool getTensorView(const NpyArray &array, TensorView &view, std::string &error);

} // namespace linac

#endif // LINAC_RUNTIME_NPY_H
