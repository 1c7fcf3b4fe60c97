//===- NpyTest.cpp - The .npy codec ---------------------------------------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//

#include "linac/runtime/Npy.h"
#include "linac/runtime/Random.h"

#include "gtest/gtest.h"

#include <cstdio>
#include <cstring>
#include <string>

using namespace linac;

namespace {

/// A .npy image with a hand-written header, padded NumPy-style.
std::vector<uint8_t> image(const std::string &dict, int major,
                           const std::vector<uint8_t> &payload,
                           bool pad = true) {
  std::string header = dict;
  size_t preamble = major == 1 ? 10 : 12;
  if (pad) {
    size_t total = preamble + header.size() + 1;
    header.append((64 - total % 64) % 64, ' ');
    header += '\n';
  }
  std::vector<uint8_t> out = {
      0x93, 'N', 'U', 'M', 'P', 'Y', static_cast<uint8_t>(major), 0};
  for (size_t i = 0; i < preamble - 8; ++i)
    out.push_back(static_cast<uint8_t>(header.size() >> (8 * i)));
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

std::vector<uint8_t> floats(std::initializer_list<float> values) {
  std::vector<uint8_t> bytes(values.size() * 4);
  std::memcpy(bytes.data(), values.begin(), bytes.size());
  return bytes;
}

bool parse(const std::vector<uint8_t> &bytes, NpyArray &array,
           std::string &error) {
  return parseNpy(bytes.data(), bytes.size(), array, error);
}

void expectRejected(const std::vector<uint8_t> &bytes,
                    const std::string &fragment) {
  NpyArray array;
  std::string error;
  EXPECT_FALSE(parse(bytes, array, error));
  EXPECT_NE(error.find(fragment), std::string::npos)
      << "message: " << error << "\nexpected: " << fragment;
}

TEST(Npy, RoundTripEveryDTypeThroughAFile) {
  Rng rng(7);
  const std::vector<std::vector<int64_t>> shapes = {
      {}, {0}, {5}, {2, 3}, {2, 1, 4}, {3, 2, 2, 2}, {1, 1, 1, 1, 3}};
  int index = 0;
  for (DType dtype : {DType::F32, DType::F16, DType::BF16, DType::F64,
                      DType::I32, DType::I64})
    for (const auto &shape : shapes) {
      NpyArray array = makeNpyArray(dtype, shape);
      for (uint8_t &byte : array.bytes)
        byte = static_cast<uint8_t>(rng.next());
      std::string path = ::testing::TempDir() + "linac_npy_roundtrip_" +
                         std::to_string(index++) + ".npy";
      std::string error;
      ASSERT_TRUE(writeNpyFile(path, array, error)) << error;
      NpyArray back;
      ASSERT_TRUE(readNpyFile(path, back, error)) << error;
      EXPECT_EQ(back.dtype, dtype);
      EXPECT_EQ(back.shape, shape);
      EXPECT_EQ(back.bytes, array.bytes);
      std::remove(path.c_str());
    }
}

TEST(Npy, WriterProducesNumpyHeader) {
  NpyArray array = makeNpyArray(DType::F32, {2, 3});
  std::vector<uint8_t> bytes;
  std::string error;
  ASSERT_TRUE(serializeNpy(array, bytes, error)) << error;
  ASSERT_GE(bytes.size(), 10u);
  EXPECT_EQ(bytes[6], 1);
  EXPECT_EQ(bytes[7], 0);
  size_t headerLength = bytes[8] | (bytes[9] << 8);
  EXPECT_EQ((10 + headerLength) % 64, 0u) << "data must be 64-byte aligned";
  std::string header(bytes.begin() + 10, bytes.begin() + 10 + headerLength);
  EXPECT_EQ(header.rfind("{'descr': '<f4', 'fortran_order': False, "
                         "'shape': (2, 3), }",
                         0),
            0u);
  EXPECT_EQ(header.back(), '\n');
  // One-dimensional shapes need the trailing comma of a Python 1-tuple.
  NpyArray vector = makeNpyArray(DType::I64, {4});
  ASSERT_TRUE(serializeNpy(vector, bytes, error));
  std::string text(bytes.begin(), bytes.end());
  EXPECT_NE(text.find("'shape': (4,)"), std::string::npos);
  EXPECT_NE(text.find("'<i8'"), std::string::npos);
  NpyArray bf16 = makeNpyArray(DType::BF16, {1});
  ASSERT_TRUE(serializeNpy(bf16, bytes, error));
  text.assign(bytes.begin(), bytes.end());
  EXPECT_NE(text.find("'<u2'"), std::string::npos);
}

TEST(Npy, ParsesVersionsOneTwoThree) {
  for (int major : {1, 2, 3}) {
    NpyArray array;
    std::string error;
    ASSERT_TRUE(parse(image("{'descr': '<f4', 'fortran_order': False, "
                            "'shape': (3,), }",
                            major, floats({1.5f, -2.0f, 0.25f})),
                      array, error))
        << error;
    EXPECT_EQ(array.dtype, DType::F32);
    EXPECT_EQ(array.shape, std::vector<int64_t>({3}));
    EXPECT_EQ(array.dataAs<float>()[1], -2.0f);
  }
}

TEST(Npy, AcceptsHeaderVariations) {
  const char *dicts[] = {
      // Key order, double quotes, no trailing comma, odd spacing.
      "{\"shape\": (2,1), \"descr\": \"<f4\", \"fortran_order\": False}",
      "{ 'fortran_order':False,'shape':( 2 , 1 , ),'descr':'<f4' , }",
      // Python 2 long literals.
      "{'descr': '<f4', 'fortran_order': False, 'shape': (2L, 1L), }",
  };
  for (const char *dict : dicts) {
    NpyArray array;
    std::string error;
    EXPECT_TRUE(parse(image(dict, 1, floats({1, 2})), array, error))
        << dict << ": " << error;
    EXPECT_EQ(array.shape, std::vector<int64_t>({2, 1}));
  }
  // Scalars and empty arrays.
  NpyArray array;
  std::string error;
  EXPECT_TRUE(parse(image("{'descr': '<f8', 'fortran_order': False, "
                          "'shape': (), }",
                          1, std::vector<uint8_t>(8)),
                    array, error))
      << error;
  EXPECT_TRUE(array.shape.empty());
  EXPECT_TRUE(parse(image("{'descr': '<i4', 'fortran_order': False, "
                          "'shape': (0, 5), }",
                          1, {}),
                    array, error))
      << error;
  EXPECT_EQ(array.numElements(), 0);
}

TEST(Npy, RejectsFortranOrder) {
  expectRejected(image("{'descr': '<f4', 'fortran_order': True, "
                       "'shape': (2, 1), }",
                       1, floats({1, 2})),
                 "fortran_order True is not supported");
}

TEST(Npy, RejectsUnsupportedDTypes) {
  expectRejected(image("{'descr': '>f4', 'fortran_order': False, "
                       "'shape': (1,), }",
                       1, floats({1})),
                 "big-endian");
  expectRejected(image("{'descr': '<c8', 'fortran_order': False, "
                       "'shape': (1,), }",
                       1, std::vector<uint8_t>(8)),
                 "unsupported .npy dtype '<c8'");
  expectRejected(image("{'descr': '|b1', 'fortran_order': False, "
                       "'shape': (1,), }",
                       1, std::vector<uint8_t>(1)),
                 "unsupported");
}

TEST(Npy, RejectsMalformedHeaders) {
  struct {
    const char *dict;
    const char *fragment;
  } cases[] = {
      {"{'descr': '<f4', 'shape': (1,), }", "missing key 'fortran_order'"},
      {"{'descr': '<f4', 'fortran_order': False, }", "missing key 'shape'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,), "
       "'extra': 1}",
       "unexpected key 'extra'"},
      {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
       "'shape': (1,)}",
       "duplicate key 'descr'"},
      {"{'descr': '<f4', 'fortran_order': false, 'shape': (1,)}",
       "True or False"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1)}",
       "trailing comma"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}",
       "non-negative"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1 2,)}",
       "expected ',' or ')'"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': [1]}",
       "expected '('"},
      {"{'descr': '<f\\4', 'fortran_order': False, 'shape': (1,)}",
       "unsupported character"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': (1,)} x",
       "after the dict"},
      {"{'descr': '<f4' 'fortran_order': False, 'shape': (1,)}",
       "expected ',' or '}'"},
      {"'descr': '<f4'", "expected '{'"},
      {"{'descr: '<f4', 'fortran_order': False, 'shape': (1,)}",
       "invalid .npy header"},
      {"{'descr': '<f4', 'fortran_order': False, 'shape': "
       "(99999999999999999999,)}",
       "64 bits"},
  };
  for (const auto &c : cases) {
    SCOPED_TRACE(c.dict);
    expectRejected(image(c.dict, 1, floats({1})), c.fragment);
  }
}

TEST(Npy, RejectsBadPreamble) {
  expectRejected({}, "shorter than the 10-byte preamble");
  expectRejected({0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0, 0}, "preamble");
  std::vector<uint8_t> bytes =
      image("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", 1,
            floats({1}));
  std::vector<uint8_t> badMagic = bytes;
  badMagic[1] = 'X';
  expectRejected(badMagic, "bad magic");
  std::vector<uint8_t> badVersion = bytes;
  badVersion[6] = 4;
  expectRejected(badVersion, "version 4.0");
  badVersion[6] = 1;
  badVersion[7] = 1;
  expectRejected(badVersion, "version 1.1");
  // A version 2 file whose preamble is cut inside the 4-byte length.
  expectRejected({0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, 0x10, 0},
                 "incomplete header length");
  // A header length beyond the limit, and beyond the file.
  std::vector<uint8_t> huge = {0x93, 'N', 'U',  'M',  'P',  'Y',
                               2,    0,   0xff, 0xff, 0xff, 0xff};
  expectRejected(huge, "exceeds the limit");
  std::vector<uint8_t> longer = {0x93, 'N', 'U',  'M',  'P', 'Y',
                                 1,    0,   0x00, 0x01, '{'};
  expectRejected(longer, "header needs 256 bytes");
}

TEST(Npy, RejectsPayloadSizeMismatch) {
  const char *dict = "{'descr': '<f4', 'fortran_order': False, "
                     "'shape': (2, 2), }";
  expectRejected(image(dict, 1, floats({1, 2, 3})), "data size mismatch");
  expectRejected(image(dict, 1, floats({1, 2, 3, 4, 5})), "data size mismatch");
}

TEST(Npy, HugeShapesFailWithoutAllocating) {
  // The element count overflows, or is merely far larger than the payload;
  // neither may allocate (a 2^62-byte allocation would abort the test).
  expectRejected(image("{'descr': '<f8', 'fortran_order': False, "
                       "'shape': (4294967296, 4294967296), }",
                       1, floats({1})),
                 "more elements than fit in 64 bits");
  expectRejected(image("{'descr': '<f8', 'fortran_order': False, "
                       "'shape': (2305843009213693952,), }",
                       1, floats({1})),
                 "more bytes than fit in 64 bits");
  expectRejected(image("{'descr': '<f8', 'fortran_order': False, "
                       "'shape': (1000000000, 1000), }",
                       1, floats({1})),
                 "data size mismatch");
  // Too many dimensions.
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (";
  for (int i = 0; i < 40; ++i)
    dict += "1, ";
  dict += "), }";
  expectRejected(image(dict, 1, floats({1})), "more than 32 dimensions");
}

TEST(Npy, EveryTruncationIsRejected) {
  NpyArray array = makeNpyArray(DType::F32, {3, 5});
  std::vector<uint8_t> bytes;
  std::string error;
  ASSERT_TRUE(serializeNpy(array, bytes, error));
  for (size_t length = 0; length < bytes.size(); ++length) {
    // A fresh heap copy of exactly `length` bytes, so that sanitizers catch
    // any read past the end.
    std::vector<uint8_t> prefix(bytes.begin(), bytes.begin() + length);
    NpyArray out;
    EXPECT_FALSE(parseNpy(prefix.data(), prefix.size(), out, error))
        << "accepted a file cut to " << length << " bytes";
  }
}

TEST(Npy, GarbageNeverCrashes) {
  Rng rng(1234);
  NpyArray valid = makeNpyArray(DType::F64, {2, 3});
  std::vector<uint8_t> seed;
  std::string error;
  ASSERT_TRUE(serializeNpy(valid, seed, error));
  int accepted = 0;
  for (int trial = 0; trial < 3000; ++trial) {
    std::vector<uint8_t> bytes;
    if (trial % 2 == 0) {
      // Pure noise of random length, sometimes with a valid magic.
      bytes.resize(rng.below(300));
      for (uint8_t &b : bytes)
        b = static_cast<uint8_t>(rng.next());
      if (trial % 4 == 0 && bytes.size() >= 8)
        std::memcpy(bytes.data(), "\x93NUMPY\x01\x00", 8);
    } else {
      // A valid file with a few bytes flipped.
      bytes = seed;
      for (int flips = 1 + int(rng.below(4)); flips > 0; --flips)
        bytes[rng.below(bytes.size())] = static_cast<uint8_t>(rng.next());
    }
    NpyArray out;
    if (parseNpy(bytes.data(), bytes.size(), out, error)) {
      ++accepted;
      // Anything accepted must be self-consistent.
      EXPECT_EQ(static_cast<uint64_t>(out.numElements()) * dtypeSize(out.dtype),
                out.bytes.size());
    } else {
      EXPECT_FALSE(error.empty());
    }
  }
  EXPECT_LT(accepted, 3000);
}

TEST(Npy, ReadErrorsNameThePath) {
  NpyArray array;
  std::string error;
  std::string path = ::testing::TempDir() + "linac_npy_does_not_exist.npy";
  EXPECT_FALSE(readNpyFile(path, array, error));
  EXPECT_NE(error.find(path), std::string::npos);
  array = makeNpyArray(DType::F32, {2});
  EXPECT_FALSE(writeNpyFile("/nonexistent-dir/x.npy", array, error));
  EXPECT_NE(error.find("/nonexistent-dir/x.npy"), std::string::npos);
}

TEST(Npy, WriterRejectsInconsistentArrays) {
  NpyArray array = makeNpyArray(DType::F32, {2, 2});
  array.bytes.pop_back();
  std::vector<uint8_t> bytes;
  std::string error;
  EXPECT_FALSE(serializeNpy(array, bytes, error));
  EXPECT_NE(error.find("do not match"), std::string::npos);
  array.shape = {-1};
  EXPECT_FALSE(serializeNpy(array, bytes, error));
}

TEST(Npy, TensorViewOfArray) {
  NpyArray array = makeNpyArray(DType::I32, {2, 3, 4});
  TensorView view;
  std::string error;
  ASSERT_TRUE(getTensorView(array, view, error)) << error;
  EXPECT_EQ(view.rank, 3);
  EXPECT_EQ(view.dtype, DType::I32);
  EXPECT_EQ(view.strides[0], 12);
  EXPECT_EQ(view.strides[1], 4);
  EXPECT_EQ(view.strides[2], 1);
  EXPECT_EQ(view.data, array.bytes.data());
  NpyArray deep = makeNpyArray(DType::F32, {1, 1, 1, 1, 2});
  EXPECT_FALSE(getTensorView(deep, view, error));
  EXPECT_NE(error.find("rank 5"), std::string::npos);
}

} // namespace
