//===- main.cpp - a downstream user of the installed linac package --------===//
//
// Uses only the installed headers and linac::runtime: runs the float64
// oracle on one token of linear attention, whose output has a closed form,
// and round-trips it through .npy serialisation.
//
//===----------------------------------------------------------------------===//

#include "linac/runtime/Npy.h"
#include "linac/runtime/Oracle.h"

#include <cmath>
#include <cstdio>

int main() {
  // B = T = H = HV = 1, K = 2, V = 1: o = scale * (k . q) * v.
  const float q[2] = {1.0f, 2.0f}, k[2] = {3.0f, 4.0f}, v[1] = {0.5f};
  linac::oracle::Problem problem;
  problem.variant = linac::oracle::Variant::LinearAttn;
  problem.q = linac::makeContiguousView(q, linac::DType::F32, {1, 1, 1, 2});
  problem.k = linac::makeContiguousView(k, linac::DType::F32, {1, 1, 1, 2});
  problem.v = linac::makeContiguousView(v, linac::DType::F32, {1, 1, 1, 1});
  linac::oracle::Result result;
  std::string error;
  if (!linac::oracle::run(problem, result, error)) {
    std::fprintf(stderr, "oracle: %s\n", error.c_str());
    return 1;
  }
  const double expected = (3.0 + 8.0) * 0.5 / std::sqrt(2.0);
  if (std::fabs(result.o[0] - expected) > 1e-12) {
    std::fprintf(stderr, "o = %.17g, expected %.17g\n", result.o[0], expected);
    return 1;
  }

  linac::NpyArray array = linac::makeNpyArray(linac::DType::F64, {1});
  array.dataAs<double>()[0] = result.o[0];
  std::vector<uint8_t> bytes;
  linac::NpyArray back;
  if (!linac::serializeNpy(array, bytes, error) ||
      !linac::parseNpy(bytes.data(), bytes.size(), back, error) ||
      back.dataAs<double>()[0] != result.o[0]) {
    std::fprintf(stderr, "npy round trip failed: %s\n", error.c_str());
    return 1;
  }
  std::printf("linac package consumer: o = %.6f (expected %.6f) OK\n",
              result.o[0], expected);
  return 0;
}
