//===- Tensor.cpp - Element types and strided tensor views ----------------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//

#include "linac/runtime/Tensor.h"

#include <cassert>
#include <cmath>
#include <cstring>
#include <limits>

using namespace linac;

const char *linac::dtypeName(DType dtype) {
  switch (dtype) {
  case DType::F32:
    return "f32";
  case DType::F16:
    return "f16";
  case DType::BF16:
    return "bf16";
  case DType::F64:
    return "f64";
  case DType::I32:
    return "i32";
  case DType::I64:
    return "i64";
  }
  return "<invalid dtype>";
}

size_t linac::dtypeSize(DType dtype) {
  switch (dtype) {
  case DType::F16:
  case DType::BF16:
    return 2;
  case DType::F32:
  case DType::I32:
    return 4;
  case DType::F64:
  case DType::I64:
    return 8;
  }
  return 0;
}

bool linac::isFloatingPoint(DType dtype) {
  return dtype == DType::F32 || dtype == DType::F16 || dtype == DType::BF16 ||
         dtype == DType::F64;
}

TensorView linac::makeContiguousView(const void *data, DType dtype,
                                     const int64_t *shape, int rank) {
  assert(rank >= 0 && rank <= kMaxRank && "rank out of range");
  if (rank < 0)
    rank = 0;
  if (rank > kMaxRank)
    rank = kMaxRank;
  TensorView view;
  view.data = data;
  view.dtype = dtype;
  view.rank = rank;
  int64_t stride = 1;
  for (int d = rank - 1; d >= 0; --d) {
    view.shape[d] = shape[d];
    view.strides[d] = stride;
    stride *= shape[d];
  }
  return view;
}

TensorView linac::makeContiguousView(const void *data, DType dtype,
                                     std::initializer_list<int64_t> shape) {
  return makeContiguousView(data, dtype, shape.begin(),
                            static_cast<int>(shape.size()));
}

bool linac::isContiguous(const TensorView &view) {
  int64_t stride = 1;
  for (int d = view.rank - 1; d >= 0; --d) {
    // A dimension of extent 1 is never stepped over, so its stride is moot.
    if (view.shape[d] != 1 && view.strides[d] != stride)
      return false;
    stride *= view.shape[d];
  }
  return true;
}

std::string linac::formatShape(const int64_t *shape, int rank) {
  std::string text = "[";
  for (int d = 0; d < rank; ++d) {
    if (d)
      text += ", ";
    text += std::to_string(shape[d]);
  }
  text += "]";
  return text;
}

//===----------------------------------------------------------------------===//
// 16-bit floating-point conversions
//===----------------------------------------------------------------------===//

namespace {

uint64_t doubleBits(double value) {
  uint64_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

/// Shifts `m` right by `shift` bits, rounding to nearest with ties to even.
/// Shifts of 64 or more give 0, which is correct for every caller because
/// `m < 2^53` is then below half a unit of the result.
uint64_t shiftRightRoundEven(uint64_t m, int shift) {
  if (shift <= 0)
    return m;
  if (shift >= 64)
    return 0;
  uint64_t quotient = m >> shift;
  uint64_t remainder = m & ((uint64_t(1) << shift) - 1);
  uint64_t half = uint64_t(1) << (shift - 1);
  if (remainder > half || (remainder == half && (quotient & 1)))
    ++quotient;
  return quotient;
}

/// Rounds `value` to a binary format with `expBits` exponent bits and
/// `mantBits` stored mantissa bits (binary16: 5/10, bfloat16: 8/7), ties to
/// even, and returns the bit pattern.
uint16_t roundToSmallFloat(double value, int expBits, int mantBits) {
  const int bias = (1 << (expBits - 1)) - 1;
  const int minExp = 1 - bias;
  const int maxExp = bias;
  const uint32_t expAllOnes = (1u << expBits) - 1;
  const uint32_t mantMask = (1u << mantBits) - 1;

  uint64_t bits = doubleBits(value);
  uint32_t sign = static_cast<uint32_t>(bits >> 63) << (expBits + mantBits);
  int biasedExp = static_cast<int>((bits >> 52) & 0x7ff);
  uint64_t fraction = bits & ((uint64_t(1) << 52) - 1);
  uint32_t infinity = sign | (expAllOnes << mantBits);

  if (biasedExp == 0x7ff) {
    if (fraction != 0) // NaN: a quiet NaN of the same sign.
      return static_cast<uint16_t>(infinity | (1u << (mantBits - 1)));
    return static_cast<uint16_t>(infinity);
  }
  // Zero and double subnormals (< 2^-1022) are far below half the smallest
  // subnormal of either 16-bit format, so they round to a signed zero.
  if (biasedExp == 0)
    return static_cast<uint16_t>(sign);

  int exponent = biasedExp - 1023;
  uint64_t mantissa = (uint64_t(1) << 52) | fraction; // value = m * 2^(e-52)
  if (exponent > maxExp)
    return static_cast<uint16_t>(infinity);

  if (exponent >= minExp) {
    uint64_t rounded = shiftRightRoundEven(mantissa, 52 - mantBits);
    if (rounded == (uint64_t(1) << (mantBits + 1))) {
      // Rounding carried into the next binade.
      rounded >>= 1;
      ++exponent;
      if (exponent > maxExp)
        return static_cast<uint16_t>(infinity);
    }
    return static_cast<uint16_t>(
        sign | (static_cast<uint32_t>(exponent + bias) << mantBits) |
        (static_cast<uint32_t>(rounded) & mantMask));
  }

  // Subnormal result: count units of 2^(minExp - mantBits). A carry up to
  // 2^mantBits lands exactly on the encoding of the smallest normal number.
  uint64_t units =
      shiftRightRoundEven(mantissa, 52 - mantBits + (minExp - exponent));
  return static_cast<uint16_t>(sign | static_cast<uint32_t>(units));
}

double smallFloatToDouble(uint16_t bits, int expBits, int mantBits) {
  const int bias = (1 << (expBits - 1)) - 1;
  const uint32_t expAllOnes = (1u << expBits) - 1;
  bool negative = (bits >> (expBits + mantBits)) & 1;
  uint32_t exponent = (bits >> mantBits) & expAllOnes;
  uint32_t mantissa = bits & ((1u << mantBits) - 1);
  double magnitude;
  if (exponent == expAllOnes)
    magnitude = mantissa ? std::numeric_limits<double>::quiet_NaN()
                         : std::numeric_limits<double>::infinity();
  else if (exponent == 0)
    magnitude = std::ldexp(static_cast<double>(mantissa), 1 - bias - mantBits);
  else
    magnitude = std::ldexp(static_cast<double>(mantissa | (1u << mantBits)),
                           static_cast<int>(exponent) - bias - mantBits);
  return negative ? -magnitude : magnitude;
}

} // namespace

double linac::halfBitsToDouble(uint16_t bits) {
  return smallFloatToDouble(bits, 5, 10);
}

double linac::bfloat16BitsToDouble(uint16_t bits) {
  return smallFloatToDouble(bits, 8, 7);
}

uint16_t linac::doubleToHalfBits(double value) {
  return roundToSmallFloat(value, 5, 10);
}

uint16_t linac::doubleToBfloat16Bits(double value) {
  return roundToSmallFloat(value, 8, 7);
}

double linac::loadAsDouble(const void *data, DType dtype, int64_t offset) {
  const char *base = static_cast<const char *>(data);
  switch (dtype) {
  case DType::F32: {
    float value;
    std::memcpy(&value, base + offset * 4, 4);
    return value;
  }
  case DType::F16: {
    uint16_t value;
    std::memcpy(&value, base + offset * 2, 2);
    return halfBitsToDouble(value);
  }
  case DType::BF16: {
    uint16_t value;
    std::memcpy(&value, base + offset * 2, 2);
    return bfloat16BitsToDouble(value);
  }
  case DType::F64: {
    double value;
    std::memcpy(&value, base + offset * 8, 8);
    return value;
  }
  case DType::I32: {
    int32_t value;
    std::memcpy(&value, base + offset * 4, 4);
    return value;
  }
  case DType::I64: {
    int64_t value;
    std::memcpy(&value, base + offset * 8, 8);
    return static_cast<double>(value);
  }
  }
  return std::numeric_limits<double>::quiet_NaN();
}
