//===- Tensor.h - Element types and strided tensor views --------*- C++ -*-===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// The small vocabulary shared by the runtime, the .npy reader and the float64
/// oracle: element types, a non-owning strided view of a host tensor, and exact
/// bit-level conversions between IEEE binary16 / bfloat16 and double.
///
/// A view describes up to four dimensions with strides counted in elements,
/// not bytes, as in SEMANTICS.md. Strides may be zero (broadcast) or negative;
/// `data` always addresses the element at index [0, 0, 0, 0].
///
//===----------------------------------------------------------------------===//

#ifndef LINAC_RUNTIME_TENSOR_H
#define LINAC_RUNTIME_TENSOR_H

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>

namespace linac {

/// Element types a tensor may hold. `BF16` is stored as its raw 16-bit
/// pattern (in .npy files it travels as '<u2').
enum class DType : uint8_t { F32, F16, BF16, F64, I32, I64 };

/// Short lower-case name: "f32", "f16", "bf16", "f64", "i32", "i64".
const char *dtypeName(DType dtype);

/// Size of one element in bytes.
size_t dtypeSize(DType dtype);

/// True for F32, F16, BF16 and F64.
bool isFloatingPoint(DType dtype);

/// The largest rank a TensorView can describe.
constexpr int kMaxRank = 4;

/// A non-owning view of a host tensor. An absent optional input is a view
/// whose `data` is null.
struct TensorView {
  const void *data = nullptr;
  DType dtype = DType::F32;
  int rank = 0;
  int64_t shape[kMaxRank] = {0, 0, 0, 0};
  /// Strides in elements (not bytes).
  int64_t strides[kMaxRank] = {0, 0, 0, 0};

  bool present() const { return data != nullptr; }
};

/// Makes a row-major (C order) view of `rank` dimensions. `rank` must be in
/// [0, kMaxRank]; a larger rank is clamped (and asserts in debug builds).
TensorView makeContiguousView(const void *data, DType dtype,
                              const int64_t *shape, int rank);

/// Convenience overload: `makeContiguousView(ptr, DType::F32, {B, T, H, K})`.
TensorView makeContiguousView(const void *data, DType dtype,
                              std::initializer_list<int64_t> shape);

/// True if the strides are exactly the row-major strides of the shape.
bool isContiguous(const TensorView &view);

/// Renders a shape as "[2, 64, 8]".
std::string formatShape(const int64_t *shape, int rank);

//===----------------------------------------------------------------------===//
// 16-bit floating-point conversions
//===----------------------------------------------------------------------===//

/// Exact value of an IEEE-754 binary16 bit pattern (subnormals, infinities
/// and NaNs included; NaN payloads are not preserved).
double halfBitsToDouble(uint16_t bits);

/// Exact value of a bfloat16 bit pattern (the upper half of an f32).
double bfloat16BitsToDouble(uint16_t bits);

/// Rounds a double to the nearest binary16 value, ties to even, with gradual
/// underflow and overflow to infinity. Rounds once, directly from double.
uint16_t doubleToHalfBits(double value);

/// Rounds a double to the nearest bfloat16 value, ties to even (directly from
/// double, so there is no double rounding through f32).
uint16_t doubleToBfloat16Bits(double value);

/// Reads element `offset` (in elements, relative to `data`) of a buffer of
/// type `dtype` and converts it to double. Integer types convert exactly up
/// to 2^53.
double loadAsDouble(const void *data, DType dtype, int64_t offset);

} // namespace linac

#endif // LINAC_RUNTIME_TENSOR_H
