// Runs the gla_prefill kernel that linacc generated from examples/gla.toml
// (H = 16, K = V = 128, f32) on seeded random inputs, checks it against the
// runtime's float64 oracle, and shows a validation error on a bad tensor.
#include "gla.h"

#include "linac/runtime/Oracle.h"

#include <cmath>
#include <cstdio>
#include <random>
#include <vector>

namespace {
linac_tensor view(std::vector<float> &data, std::initializer_list<int64_t> shape) {
  linac_tensor t{};
  t.data = data.data();
  t.dtype = LINAC_F32;
  t.rank = static_cast<int32_t>(shape.size());
  int d = 0;
  for (int64_t size : shape)
    t.shape[d++] = size;
  int64_t stride = 1;
  for (d = t.rank - 1; d >= 0; --d) {
    t.strides[d] = stride;
    stride *= t.shape[d];
  }
  return t;
}
} // namespace

int main() {
  const int64_t B = 2, T = 300, H = 16, K = 128, V = 128;
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  std::vector<float> q(B * T * H * K), k(q.size()), v(B * T * H * V),
      g(B * T * H * K), h0(B * H * K * V), o(B * T * H * V), ht(h0.size());
  for (auto *buffer : {&q, &k, &v, &h0})
    for (float &x : *buffer)
      x = 0.5f * normal(rng);
  for (float &x : g) // log-sigmoid gates, g <= 0
    x = -std::log1p(std::exp(-2.0f - normal(rng)));

  linac_tensor tq = view(q, {B, T, H, K}), tk = view(k, {B, T, H, K}),
               tv = view(v, {B, T, H, V}), tg = view(g, {B, T, H, K}),
               th0 = view(h0, {B, H, K, V}), to = view(o, {B, T, H, V}),
               tht = view(ht, {B, H, K, V});
  linac_error err{};
  linac_pool *pool = linac_pool_create(0, &err);
  if (!pool || gla_prefill(&tq, &tk, &tv, &tg, &th0, &to, &tht, pool, &err)) {
    std::fprintf(stderr, "gla_prefill: %s\n", err.message);
    return 1;
  }

  // The float64 oracle on the same inputs.
  linac::oracle::Problem problem;
  problem.variant = linac::oracle::Variant::Gla;
  auto asView = [](const linac_tensor &t) {
    linac::TensorView view;
    view.data = t.data;
    view.dtype = linac::DType::F32;
    view.rank = t.rank;
    for (int d = 0; d < t.rank; ++d) {
      view.shape[d] = t.shape[d];
      view.strides[d] = t.strides[d];
    }
    return view;
  };
  problem.q = asView(tq);
  problem.k = asView(tk);
  problem.v = asView(tv);
  problem.g = asView(tg);
  problem.h0 = asView(th0);
  linac::oracle::Result reference;
  std::string error;
  if (!linac::oracle::run(problem, reference, error)) {
    std::fprintf(stderr, "oracle: %s\n", error.c_str());
    return 1;
  }
  std::vector<double> got(o.begin(), o.end());
  double rel = linac::oracle::relativeRmsError(got, reference.o);
  std::printf("gla_prefill B=%lld T=%lld: relative RMS error vs float64 "
              "oracle %.2e (tolerance 1e-5) %s\n",
              (long long)B, (long long)T, rel, rel <= 1e-5 ? "PASS" : "FAIL");

  // A tensor of the wrong shape is an error value, not a crash.
  linac_tensor bad = view(v, {B, T, H, 64});
  int32_t status = gla_prefill(&tq, &tk, &bad, &tg, &th0, &to, &tht, pool, &err);
  std::printf("bad v: status %d: %s\n", status, err.message);
  linac_pool_destroy(pool);
  return rel <= 1e-5 && status == LINAC_ERROR_INVALID_ARGUMENT ? 0 : 1;
}
