// Compiles examples/gla.toml (H = 16, K = V = 128, f32) at run time with
// linac_compile, runs gla_prefill on seeded random inputs, checks it against
// the runtime's float64 oracle, then compiles again: the second call is a
// cache hit. Also shows what a spec error looks like.
#include "linac/runtime/Oracle.h"
#include "linac/runtime/RandomProblem.h"
#include "linac/runtime/linac_jit.h"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {
linac_tensor view(linac::NpyArray &array) {
  linac_tensor t{};
  t.data = array.bytes.data();
  t.dtype = LINAC_F32;
  t.rank = static_cast<int32_t>(array.shape.size());
  int64_t stride = 1;
  for (int d = t.rank - 1; d >= 0; --d) {
    t.shape[d] = array.shape[d];
    t.strides[d] = stride;
    stride *= array.shape[d];
  }
  return t;
}
} // namespace

int main() {
  std::ifstream file(LINAC_EXAMPLE_SPEC);
  std::stringstream text;
  text << file.rdbuf();
  const std::string spec = text.str();

  linac_compile_options options{};
  options.source_name = LINAC_EXAMPLE_SPEC; // kernels gla_prefill, gla_decode
  options.cache_dir = LINAC_EXAMPLE_CACHE;
  linac_compile_info info;
  linac_error err{};
  linac_module *module =
      linac_compile(spec.data(), spec.size(), &options, &info, &err);
  if (!module) {
    std::fprintf(stderr, "linac_compile: %s\n", err.message);
    return 1;
  }
  std::printf("%s %s in %.0f ms\n", info.compiled ? "compiled" : "loaded",
              info.path, info.milliseconds);
  linac_kernel *kernel = linac_module_kernel(module, "gla_prefill", &err);
  if (!kernel) {
    std::fprintf(stderr, "%s\n", err.message);
    return 1;
  }

  // Seeded inputs; the kernel's tensors are q, k, v, g, h0, o, ht.
  linac::oracle::RandomProblemOptions shape;
  shape.variant = linac::oracle::Variant::Gla;
  shape.B = 2;
  shape.T = 300;
  shape.H = shape.HV = 16;
  shape.K = shape.V = 128;
  shape.initialState = true;
  shape.seed = 11;
  linac::oracle::RandomProblem problem;
  std::string error;
  if (!linac::oracle::makeRandomProblem(shape, problem, error)) {
    std::fprintf(stderr, "%s\n", error.c_str());
    return 1;
  }
  linac::NpyArray o = linac::makeNpyArray(linac::DType::F32, {2, 300, 16, 128});
  linac::NpyArray ht =
      linac::makeNpyArray(linac::DType::F32, {2, 16, 128, 128});
  linac_tensor tensors[] = {view(problem.q), view(problem.k),  view(problem.v),
                            view(problem.g), view(problem.h0), view(o),
                            view(ht)};
  const linac_tensor *list[] = {&tensors[0], &tensors[1], &tensors[2],
                                &tensors[3], &tensors[4], &tensors[5],
                                &tensors[6]};
  linac_pool *pool = linac_pool_create(0, &err);
  if (!pool || linac_kernel_launch(kernel, list, 7, pool, &err) != LINAC_OK) {
    std::fprintf(stderr, "gla_prefill: %s\n", err.message);
    return 1;
  }
  linac_pool_destroy(pool);

  linac::oracle::Result reference;
  if (!linac::oracle::run(problem.problem, reference, error)) {
    std::fprintf(stderr, "oracle: %s\n", error.c_str());
    return 1;
  }
  std::vector<double> got(o.numElements());
  for (size_t i = 0; i < got.size(); ++i)
    got[i] = o.dataAs<float>()[i];
  double rel = linac::oracle::relativeRmsError(got, reference.o);
  std::printf("gla_prefill vs float64 oracle: relative RMS error %.3g "
              "(tolerance 1e-5)\n",
              rel);
  linac_module_unload(module);
  if (!(rel <= 1e-5))
    return 1;

  // Compiled once: the second call loads the cached artifact.
  module = linac_compile(spec.data(), spec.size(), &options, &info, &err);
  if (!module || info.compiled) {
    std::fprintf(stderr, "expected a cache hit: %s\n", err.message);
    return 1;
  }
  linac_module_unload(module);

  // A spec error comes back as a value, with its place in the text.
  const std::string bad = "[attention]\nvariant = \"glaa\"\n";
  options.source_name = "inline.toml";
  if (linac_compile(bad.data(), bad.size(), &options, &info, &err) ||
      err.code != LINAC_ERROR_SPEC) {
    std::fprintf(stderr, "expected a spec error\n");
    return 1;
  }
  std::printf("a bad spec: %s\n", err.message);
  return 0;
}
