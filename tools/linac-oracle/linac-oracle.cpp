//===- linac-oracle.cpp - Run the float64 oracle on random inputs ---------===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// Draws seeded random inputs for one variant (see RandomProblem.h for the
/// distributions), runs the float64 reference oracle, prints a short summary
/// and, with --out, writes every input and the outputs o and ht as .npy files
/// in the SEMANTICS.md layout, so that other tools can be checked against it.
///
//===----------------------------------------------------------------------===//

#include "linac/runtime/Npy.h"
#include "linac/runtime/Oracle.h"
#include "linac/runtime/RandomProblem.h"
#include "linac/Spec/Spec.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <sys/stat.h>
#include <vector>

using namespace linac;
using namespace linac::oracle;

namespace {

const char *const kUsage = R"(usage: linac-oracle --variant=NAME [options]

Runs the float64 reference oracle on seeded random inputs.

  --spec=FILE          take variant, head dims and counts, options and dtype
                       from a spec (docs/spec.md); later flags override
  --variant=NAME       linear_attn, retention, lightning, simple_gla, gla,
                       rwkv6, delta_rule, gated_delta_rule, kda, dplr
  --B=N --T=N          batch and sequence length (default 1, 256)
  --H=N --HV=N         query/key heads and value heads (default 4, HV = H)
  --K=N --V=N          head dimensions (default 64, 64)
  --feature-map=NAME   identity, elu_plus_one, relu, silu, l2norm, taylor2
  --normalize          the 'sum' normaliser
  --scale=X            default K^-0.5 (K before any taylor2 expansion)
  --seed=N             PRNG seed (default 0)
  --varlen=L1,L2,...   variable-length sequences (B = 1; T defaults to the sum)
  --h0                 also draw an initial state
  --dtype=NAME         f32 (default), f16, bf16 or f64 for q, k, v, beta,
                       a, b and u (g stays f32, h0 is always f32)
  --out=DIR            write q.npy, k.npy, v.npy, the variant's inputs,
                       o.npy and ht.npy (f32) into DIR (created if missing)
  --help               this text
)";

bool fail(const std::string &message) {
  std::fprintf(stderr, "linac-oracle: error: %s\n", message.c_str());
  return false;
}

bool parseInt(const std::string &text, int64_t &value) {
  if (text.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  long long parsed = std::strtoll(text.c_str(), &end, 10);
  if (errno != 0 || *end != '\0')
    return false;
  value = parsed;
  return true;
}

bool parseDouble(const std::string &text, double &value) {
  if (text.empty())
    return false;
  char *end = nullptr;
  errno = 0;
  value = std::strtod(text.c_str(), &end);
  return errno == 0 && *end == '\0';
}

struct Options {
  RandomProblemOptions problem;
  /// lightning's per-head decays from a spec (else drawn at random).
  std::vector<double> decayConstants;
  std::string outDir;
  bool explicitT = false, explicitHV = false, help = false;
};

bool parseArgs(int argc, char **argv, Options &options) {
  RandomProblemOptions &p = options.problem;
  bool haveVariant = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0)
      return fail("unexpected argument '" + arg + "' (see --help)");
    std::string name = arg.substr(2), value;
    bool hasValue = false;
    size_t equals = name.find('=');
    if (equals != std::string::npos) {
      value = name.substr(equals + 1);
      name = name.substr(0, equals);
      hasValue = true;
    }
    auto needValue = [&]() {
      if (!hasValue)
        return fail("--" + name + " needs a value, as in --" + name + "=...");
      return true;
    };
    auto intOption = [&](int64_t &target) {
      if (!needValue())
        return false;
      if (!parseInt(value, target))
        return fail("--" + name + ": '" + value + "' is not an integer");
      return true;
    };

    if (name == "help") {
      options.help = true;
    } else if (name == "spec") {
      // The spec fixes the variant, head dims, head counts, options and
      // dtype; later flags may still override any of them.
      if (!needValue())
        return false;
      std::vector<linac::spec::Diagnostic> diagnostics;
      std::optional<linac::spec::AttentionSpec> spec =
          linac::spec::parseSpecFile(value, diagnostics);
      for (const linac::spec::Diagnostic &diagnostic : diagnostics)
        std::fprintf(stderr, "%s\n", diagnostic.str().c_str());
      if (!spec)
        return false;
      p.variant = spec->variant;
      p.K = spec->headDimK;
      p.V = spec->headDimV;
      if (spec->numHeads)
        p.H = *spec->numHeads;
      if (spec->valueHeads()) {
        p.HV = *spec->valueHeads();
        options.explicitHV = true;
      }
      p.featureMap = spec->featureMap;
      p.normalize = spec->normalize;
      p.scale = spec->scale;
      p.dtype = spec->dtype;
      options.decayConstants = spec->decay;
      haveVariant = true;
    } else if (name == "normalize" || name == "h0") {
      if (hasValue)
        return fail("--" + name + " takes no value");
      (name == "normalize" ? p.normalize : p.initialState) = true;
    } else if (name == "variant") {
      if (!needValue())
        return false;
      std::optional<Variant> variant = parseVariant(value);
      if (!variant)
        return fail("unknown variant '" + value + "' (see --help)");
      p.variant = *variant;
      haveVariant = true;
    } else if (name == "feature-map") {
      if (!needValue())
        return false;
      std::optional<FeatureMap> map = parseFeatureMap(value);
      if (!map)
        return fail("unknown feature map '" + value + "' (see --help)");
      p.featureMap = *map;
    } else if (name == "dtype") {
      if (!needValue())
        return false;
      if (value == "f32")
        p.dtype = DType::F32;
      else if (value == "f16")
        p.dtype = DType::F16;
      else if (value == "bf16")
        p.dtype = DType::BF16;
      else if (value == "f64")
        p.dtype = DType::F64;
      else
        return fail("unknown dtype '" + value + "' (f32, f16, bf16, f64)");
    } else if (name == "B") {
      if (!intOption(p.B))
        return false;
    } else if (name == "T") {
      if (!intOption(p.T))
        return false;
      options.explicitT = true;
    } else if (name == "H") {
      if (!intOption(p.H))
        return false;
    } else if (name == "HV") {
      if (!intOption(p.HV))
        return false;
      options.explicitHV = true;
    } else if (name == "K") {
      if (!intOption(p.K))
        return false;
    } else if (name == "V") {
      if (!intOption(p.V))
        return false;
    } else if (name == "seed") {
      int64_t seed;
      if (!intOption(seed))
        return false;
      p.seed = static_cast<uint64_t>(seed);
    } else if (name == "scale") {
      double scale;
      if (!needValue())
        return false;
      if (!parseDouble(value, scale))
        return fail("--scale: '" + value + "' is not a number");
      p.scale = scale;
    } else if (name == "varlen") {
      if (!needValue())
        return false;
      p.seqLens.clear();
      size_t start = 0;
      for (;;) {
        size_t comma = value.find(',', start);
        std::string item = value.substr(start, comma - start);
        int64_t length;
        if (!parseInt(item, length) || length < 0)
          return fail("--varlen: '" + item + "' is not a non-negative integer");
        p.seqLens.push_back(length);
        if (comma == std::string::npos)
          break;
        start = comma + 1;
      }
    } else if (name == "out") {
      if (!needValue())
        return false;
      options.outDir = value;
    } else {
      return fail("unknown option '--" + name + "' (see --help)");
    }
  }
  if (options.help)
    return true;
  if (!haveVariant)
    return fail("--variant is required (see --help)");
  if (!options.explicitHV)
    p.HV = p.H;
  if (!p.seqLens.empty() && !options.explicitT) {
    int64_t total = 0;
    for (int64_t length : p.seqLens)
      if (__builtin_add_overflow(total, length, &total))
        return fail("--varlen: lengths overflow");
    p.T = total;
  }
  return true;
}

/// Creates `path` and its missing parents.
bool makeDirectories(const std::string &path) {
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/')
      continue;
    std::string prefix = path.substr(0, pos);
    if (::mkdir(prefix.c_str(), 0777) != 0 && errno != EEXIST)
      return fail("cannot create directory '" + prefix +
                  "': " + std::strerror(errno));
  }
  struct stat info;
  if (::stat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode))
    return fail("'" + path + "' is not a directory");
  return true;
}

bool writeFloat32(const std::string &path, const std::vector<double> &values,
                  std::vector<int64_t> shape) {
  NpyArray array = makeNpyArray(DType::F32, std::move(shape));
  float *data = array.dataAs<float>();
  for (size_t i = 0; i < values.size(); ++i)
    data[i] = static_cast<float>(values[i]);
  std::string error;
  if (!writeNpyFile(path, array, error))
    return fail(error);
  return true;
}

bool writeOutputs(const Options &options, const RandomProblem &random,
                  const Result &result) {
  const std::string &dir = options.outDir;
  if (!makeDirectories(dir))
    return false;
  std::string error;
  for (const auto &[name, array] : random.inputs())
    if (!writeNpyFile(dir + "/" + name + ".npy", *array, error))
      return fail(error);
  if (!random.problem.decayConstants.empty() &&
      !writeFloat32(dir + "/lambda.npy", random.problem.decayConstants,
                    {result.HV}))
    return false;
  return writeFloat32(dir + "/o.npy", result.o,
                      {result.B, result.T, result.HV, result.V}) &&
         writeFloat32(dir + "/ht.npy", result.ht,
                      {result.N, result.HV, result.featureK, result.V});
}

int runMain(int argc, char **argv) {
  Options options;
  if (!parseArgs(argc, argv, options))
    return 1;
  if (options.help) {
    std::fputs(kUsage, stdout);
    return 0;
  }

  RandomProblem random;
  std::string error;
  if (!makeRandomProblem(options.problem, random, error)) {
    fail(error);
    return 1;
  }
  if (!options.decayConstants.empty())
    random.problem.decayConstants = options.decayConstants;

  Result result;
  auto start = std::chrono::steady_clock::now();
  if (!run(random.problem, result, error)) {
    fail(error);
    return 1;
  }
  double ms = std::chrono::duration<double, std::milli>(
                  std::chrono::steady_clock::now() - start)
                  .count();

  const RandomProblemOptions &p = options.problem;
  double tokens = static_cast<double>(result.B * result.T);
  std::printf("variant=%s feature_map=%s normalize=%s dtype=%s seed=%llu\n",
              variantName(p.variant), featureMapName(p.featureMap),
              p.normalize ? "sum" : "none", dtypeName(p.dtype),
              static_cast<unsigned long long>(p.seed));
  std::printf("B=%lld T=%lld H=%lld HV=%lld K=%lld K'=%lld V=%lld N=%lld%s\n",
              (long long)result.B, (long long)result.T, (long long)result.H,
              (long long)result.HV, (long long)result.K,
              (long long)result.featureK, (long long)result.V,
              (long long)result.N, p.seqLens.empty() ? "" : " (varlen)");
  std::printf("o  [%lld, %lld, %lld, %lld] rms=%.6e\n", (long long)result.B,
              (long long)result.T, (long long)result.HV, (long long)result.V,
              rms(result.o.data(), result.o.size()));
  std::printf("ht [%lld, %lld, %lld, %lld] rms=%.6e\n", (long long)result.N,
              (long long)result.HV, (long long)result.featureK,
              (long long)result.V, rms(result.ht.data(), result.ht.size()));
  std::printf("time %.3f ms, %.0f tokens/s\n", ms,
              ms > 0 ? tokens / (ms * 1e-3) : 0.0);

  if (!options.outDir.empty()) {
    if (!writeOutputs(options, random, result))
      return 1;
    std::printf("wrote %s\n", options.outDir.c_str());
  }
  return 0;
}

} // namespace

int main(int argc, char **argv) { return runMain(argc, argv); }
