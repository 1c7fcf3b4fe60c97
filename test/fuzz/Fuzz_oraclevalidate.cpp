//===- Fuzz_oraclevalidate.cpp - libFuzzer target for tensor checks -------===//
//
// Part of linac, an MLIR-based compiler for linear-attention kernels.
//
//===----------------------------------------------------------------------===//
//
// Builds an oracle problem from fuzzer bytes: variant, options, dimensions
// and, per tensor, presence, dtype, shape and strides (any values, including
// huge, zero and negative). validate() must never crash or overflow. When it
// accepts, every tensor is backed by an allocation exactly as large as the
// span its shape and strides address, and run() must stay inside it (ASan
// catches any read past the span).
//
//===----------------------------------------------------------------------===//

#include "linac/runtime/Oracle.h"

#include <cstdlib>
#include <cstring>
#include <memory>
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
  /// Mostly small values, sometimes anything.
  int64_t dim() {
    uint8_t selector = u8();
    if (selector < 240)
      return selector % 6;
    return i64();
  }

private:
  const uint8_t *data;
  size_t size;
  size_t offset = 0;
};

constexpr int64_t kMaxSpan = 1 << 16;
/// Larger extents are still validated but not run: the oracle's cost grows
/// with their product.
constexpr int64_t kMaxRunExtent = 64;

/// Fills `view` from the bytes; when its addressed span is small, backs it
/// with an exactly sized allocation (owned by `storage`) of finite values.
void makeView(Bytes &bytes, linac::TensorView &view, int rank,
              std::vector<std::unique_ptr<uint8_t[]>> &storage) {
  if (bytes.u8() % 4 == 0)
    return; // absent
  static const linac::DType kTypes[] = {
      linac::DType::F32, linac::DType::F16, linac::DType::BF16,
      linac::DType::F64, linac::DType::I32, linac::DType::I64};
  view.dtype = kTypes[bytes.u8() % 6];
  view.rank = bytes.u8() % 8 == 0 ? bytes.u8() % 5 : rank;
  int64_t low = 0, high = 0;
  bool small = true;
  for (int d = 0; d < view.rank; ++d) {
    view.shape[d] = bytes.dim();
    view.strides[d] = bytes.u8() < 200 ? bytes.u8() % 300 - 50 : bytes.i64();
    if (view.shape[d] <= 0 || view.shape[d] > kMaxRunExtent ||
        view.strides[d] > kMaxSpan || view.strides[d] < -kMaxSpan) {
      small = false;
      continue;
    }
    int64_t reach = (view.shape[d] - 1) * view.strides[d];
    (reach < 0 ? low : high) += reach;
  }
  if (!small || high - low + 1 > kMaxSpan) {
    // Not backed: point at a sentinel byte. validate() must reject it or the
    // run is skipped below.
    static const uint64_t sentinel = 0;
    view.data = &sentinel;
    return;
  }
  size_t elementSize = linac::dtypeSize(view.dtype);
  size_t count = static_cast<size_t>(high - low + 1);
  auto buffer = std::make_unique<uint8_t[]>(count * elementSize);
  // Zeros are valid in every dtype and keep every variant finite.
  std::memset(buffer.get(), 0, count * elementSize);
  view.data = buffer.get() + static_cast<size_t>(-low) * elementSize;
  storage.push_back(std::move(buffer));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Bytes bytes(data, size);
  linac::oracle::Problem problem;
  problem.variant =
      linac::oracle::kAllVariants[bytes.u8() % std::size(linac::oracle::kAllVariants)];
  problem.featureMap = linac::oracle::kAllFeatureMaps
      [bytes.u8() % std::size(linac::oracle::kAllFeatureMaps)];
  problem.normalize = bytes.u8() % 2;
  if (bytes.u8() % 2)
    problem.scale = static_cast<double>(bytes.i64());
  for (int i = bytes.u8() % 6; i > 0; --i)
    problem.decayConstants.push_back((bytes.u8() % 11) / 10.0);

  std::vector<std::unique_ptr<uint8_t[]>> storage;
  bool backed = true;
  linac::TensorView *views[] = {&problem.q,  &problem.k,    &problem.v,
                                &problem.g,  &problem.beta, &problem.a,
                                &problem.b,  &problem.u,    &problem.h0,
                                &problem.cuSeqlens, &problem.stateIndices};
  const int ranks[] = {4, 4, 4, 4, 3, 4, 4, 2, 4, 1, 1};
  for (size_t i = 0; i < std::size(views); ++i) {
    size_t before = storage.size();
    makeView(bytes, *views[i], ranks[i], storage);
    if (views[i]->data && storage.size() == before) {
      // validate() reads the offsets of cu_seqlens and the slots of
      // state_indices, so an unbacked view of them would be the harness's
      // own out-of-bounds read.
      if (views[i] == &problem.cuSeqlens || views[i] == &problem.stateIndices)
        views[i]->data = nullptr;
      else
        backed = false;
    }
  }

  std::string error;
  bool valid = linac::oracle::validate(problem, error);
  if (!valid && error.empty())
    abort();
  if (valid && backed) {
    linac::oracle::Result result;
    if (!linac::oracle::run(problem, result, error))
      abort(); // validate() accepted it, so run() must too.
  }
  return 0;
}
