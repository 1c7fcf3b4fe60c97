//===- TensorTest.cpp - DType helpers, views and 16-bit conversions -------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//

#include "linac/runtime/Tensor.h"
#include "linac/runtime/Random.h"

#include "gtest/gtest.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

using namespace linac;

namespace {

TEST(Tensor, DTypeNamesAndSizes) {
  EXPECT_STREQ(dtypeName(DType::BF16), "bf16");
  EXPECT_EQ(dtypeSize(DType::F16), 2u);
  EXPECT_EQ(dtypeSize(DType::I64), 8u);
  EXPECT_TRUE(isFloatingPoint(DType::BF16));
  EXPECT_FALSE(isFloatingPoint(DType::I32));
}

TEST(Tensor, ContiguousViews) {
  float data[24] = {};
  TensorView view = makeContiguousView(data, DType::F32, {2, 3, 4});
  EXPECT_TRUE(view.present());
  EXPECT_EQ(view.rank, 3);
  EXPECT_EQ(view.strides[0], 12);
  EXPECT_EQ(view.strides[1], 4);
  EXPECT_EQ(view.strides[2], 1);
  EXPECT_TRUE(isContiguous(view));
  view.strides[1] = 5;
  EXPECT_FALSE(isContiguous(view));
  TensorView unit = makeContiguousView(data, DType::F32, {2, 1, 4});
  unit.strides[1] = 99; // never stepped over
  EXPECT_TRUE(isContiguous(unit));
  EXPECT_FALSE(TensorView().present());
  EXPECT_EQ(formatShape(view.shape, 3), "[2, 3, 4]");
  EXPECT_EQ(formatShape(view.shape, 0), "[]");
}

TEST(Tensor, HalfKnownValues) {
  EXPECT_EQ(halfBitsToDouble(0x3c00), 1.0);
  EXPECT_EQ(halfBitsToDouble(0xc000), -2.0);
  EXPECT_EQ(halfBitsToDouble(0x7bff), 65504.0);
  EXPECT_EQ(halfBitsToDouble(0x0001), std::ldexp(1.0, -24));
  EXPECT_EQ(halfBitsToDouble(0x03ff), std::ldexp(1023.0, -24));
  EXPECT_EQ(halfBitsToDouble(0x0400), std::ldexp(1.0, -14));
  EXPECT_EQ(halfBitsToDouble(0x7c00), INFINITY);
  EXPECT_EQ(halfBitsToDouble(0xfc00), -INFINITY);
  EXPECT_TRUE(std::isnan(halfBitsToDouble(0x7e00)));
  EXPECT_TRUE(std::signbit(halfBitsToDouble(0x8000)));

  EXPECT_EQ(doubleToHalfBits(1.0), 0x3c00);
  EXPECT_EQ(doubleToHalfBits(65504.0), 0x7bff);
  EXPECT_EQ(doubleToHalfBits(65519.99), 0x7bff);
  EXPECT_EQ(doubleToHalfBits(65520.0), 0x7c00); // tie rounds to even = inf
  EXPECT_EQ(doubleToHalfBits(1e300), 0x7c00);
  EXPECT_EQ(doubleToHalfBits(-INFINITY), 0xfc00);
  EXPECT_EQ(doubleToHalfBits(std::ldexp(1.0, -24)), 0x0001);
  EXPECT_EQ(doubleToHalfBits(std::ldexp(1.0, -25)), 0x0000); // tie to even
  EXPECT_EQ(doubleToHalfBits(std::ldexp(3.0, -26)), 0x0001);
  EXPECT_EQ(doubleToHalfBits(std::ldexp(3.0, -25)), 0x0002); // 1.5 ulp -> 2
  EXPECT_EQ(doubleToHalfBits(-std::ldexp(1.0, -30)), 0x8000);
  EXPECT_EQ(doubleToHalfBits(std::ldexp(1023.5, -24)), 0x0400);    // to normal
  EXPECT_EQ(doubleToHalfBits(1.0 + std::ldexp(1.0, -11)), 0x3c00); // tie
  EXPECT_EQ(doubleToHalfBits(1.0 + std::ldexp(3.0, -11)), 0x3c02); // tie up
  EXPECT_EQ(doubleToHalfBits(5e-324), 0x0000);
  uint16_t nan = doubleToHalfBits(std::nan(""));
  EXPECT_TRUE(std::isnan(halfBitsToDouble(nan)));
}

TEST(Tensor, BFloat16KnownValues) {
  EXPECT_EQ(bfloat16BitsToDouble(0x3f80), 1.0);
  EXPECT_EQ(bfloat16BitsToDouble(0x7f7f), std::ldexp(255.0, 120));
  EXPECT_EQ(bfloat16BitsToDouble(0x0001), std::ldexp(1.0, -133));
  EXPECT_EQ(bfloat16BitsToDouble(0x7f80), INFINITY);
  EXPECT_TRUE(std::isnan(bfloat16BitsToDouble(0x7fc0)));
  EXPECT_EQ(doubleToBfloat16Bits(1.0), 0x3f80);
  EXPECT_EQ(doubleToBfloat16Bits(1.0 + std::ldexp(1.0, -8)), 0x3f80); // tie
  EXPECT_EQ(doubleToBfloat16Bits(1.0 + std::ldexp(3.0, -8)), 0x3f82);
  // Rounding once from double, not via f32: 1 + 2^-8 + 2^-30 is above the
  // tie, although its f32 rounding (1 + 2^-8) would be exactly on it.
  EXPECT_EQ(
      doubleToBfloat16Bits(1.0 + std::ldexp(1.0, -8) + std::ldexp(1.0, -30)),
      0x3f81);
  EXPECT_EQ(doubleToBfloat16Bits(1e39), 0x7f80);
  EXPECT_EQ(doubleToBfloat16Bits(-std::ldexp(1.0, -133)), 0x8001);
  EXPECT_EQ(doubleToBfloat16Bits(std::ldexp(1.0, -134)), 0x0000);
}

TEST(Tensor, EverySixteenBitPatternRoundTrips) {
  for (uint32_t bits = 0; bits <= 0xffff; ++bits) {
    double half = halfBitsToDouble(uint16_t(bits));
    double bf16 = bfloat16BitsToDouble(uint16_t(bits));
    if (std::isnan(half)) {
      EXPECT_TRUE(std::isnan(halfBitsToDouble(doubleToHalfBits(half))));
    } else {
      ASSERT_EQ(doubleToHalfBits(half), bits) << std::hex << bits;
    }
    if (std::isnan(bf16)) {
      EXPECT_TRUE(std::isnan(bfloat16BitsToDouble(doubleToBfloat16Bits(bf16))));
    } else {
      ASSERT_EQ(doubleToBfloat16Bits(bf16), bits) << std::hex << bits;
    }
    // bf16 is the top half of an f32.
    uint32_t wide = bits << 16;
    float asFloat;
    std::memcpy(&asFloat, &wide, 4);
    if (!std::isnan(asFloat)) {
      ASSERT_EQ(bf16, double(asFloat));
    }
  }
}

/// Nearest-value rounding by brute force over the sorted table of all
/// finite non-negative values of a format, ties to the even bit pattern.
uint16_t nearestByTable(double x, const std::vector<double> &values,
                        uint16_t infBits, uint16_t signBit) {
  double magnitude = std::fabs(x);
  uint16_t sign = std::signbit(x) ? signBit : 0;
  auto upper = std::lower_bound(values.begin(), values.end(), magnitude);
  if (upper == values.end()) {
    // Beyond the largest finite value: overflow once at least half an ulp
    // (the next power of two's spacing) past it.
    double largest = values.back(), ulp = largest - values[values.size() - 2];
    return magnitude >= largest + ulp / 2
               ? uint16_t(sign | infBits)
               : uint16_t(sign | (values.size() - 1));
  }
  size_t hi = upper - values.begin();
  if (*upper == magnitude || hi == 0)
    return uint16_t(sign | hi);
  size_t lo = hi - 1;
  double dLo = magnitude - values[lo], dHi = values[hi] - magnitude;
  size_t pick = dLo < dHi ? lo : dHi < dLo ? hi : (lo % 2 == 0 ? lo : hi);
  return uint16_t(sign | pick);
}

TEST(Tensor, RoundingMatchesBruteForce) {
  std::vector<double> halves, bfloats;
  for (uint32_t bits = 0; bits < 0x7c00; ++bits)
    halves.push_back(halfBitsToDouble(uint16_t(bits)));
  for (uint32_t bits = 0; bits < 0x7f80; ++bits)
    bfloats.push_back(bfloat16BitsToDouble(uint16_t(bits)));
  ASSERT_TRUE(std::is_sorted(halves.begin(), halves.end()));
  Rng rng(99);
  for (int i = 0; i < 20000; ++i) {
    // Log-uniform magnitudes spanning subnormals to overflow, plus exact
    // midpoints between neighbours to exercise ties.
    double h = std::ldexp(rng.uniform(1.0, 2.0), int(rng.below(50)) - 30);
    double b = std::ldexp(rng.uniform(1.0, 2.0), int(rng.below(280)) - 140);
    if (i % 5 == 0) {
      size_t j = rng.below(halves.size() - 1);
      h = (halves[j] + halves[j + 1]) / 2;
      size_t k = rng.below(bfloats.size() - 1);
      b = (bfloats[k] + bfloats[k + 1]) / 2;
    }
    if (i % 2)
      h = -h, b = -b;
    ASSERT_EQ(doubleToHalfBits(h), nearestByTable(h, halves, 0x7c00, 0x8000))
        << h;
    ASSERT_EQ(doubleToBfloat16Bits(b),
              nearestByTable(b, bfloats, 0x7f80, 0x8000))
        << b;
  }
}

TEST(Tensor, LoadAsDouble) {
  int32_t ints[] = {-7, 9};
  int64_t longs[] = {int64_t(1) << 40};
  uint16_t halfs[] = {0x3c00, 0xc400};
  EXPECT_EQ(loadAsDouble(ints, DType::I32, 1), 9.0);
  EXPECT_EQ(loadAsDouble(longs, DType::I64, 0), std::ldexp(1.0, 40));
  EXPECT_EQ(loadAsDouble(halfs, DType::F16, 1), -4.0);
  EXPECT_EQ(loadAsDouble(halfs, DType::BF16, 0),
            halfs[0] == 0x3c00 ? std::ldexp(1.0, -7) : 0.0);
}

TEST(Tensor, RngIsDeterministic) {
  Rng a(42), b(42), c(43);
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.next();
    EXPECT_EQ(x, b.next());
    EXPECT_NE(x, c.next());
  }
  Rng r(0);
  double sum = 0, sumSquares = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    double x = r.normal();
    sum += x;
    sumSquares += x * x;
    double u = r.uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
  }
  EXPECT_NEAR(sum / n, 0.0, 0.05);
  EXPECT_NEAR(sumSquares / n, 1.0, 0.05);
}

} // namespace
