//===- Random.h - A small deterministic PRNG --------------------*- C++ -*-===//
//
// Part of the linac project.
//
//===----------------------------------------------------------------------===//
///
/// \file
/// xoshiro256** seeded through splitmix64, plus uniform and normal draws.
/// Unlike the <random> distributions, whose algorithms are left to the
/// standard library, the sequence here is fixed by this file alone, so a seed
/// names the same test inputs on every platform and compiler.
///
//===----------------------------------------------------------------------===//

#ifndef LINAC_RUNTIME_RANDOM_H
#define LINAC_RUNTIME_RANDOM_H

#include <cmath>
#include <cstdint>

namespace linac {

class Rng {
public:
  explicit Rng(uint64_t seed) {
    uint64_t x = seed;
    for (uint64_t &word : state) {
      // splitmix64: spreads any seed, including 0, over the whole state.
      x += 0x9e3779b97f4a7c15ULL;
      uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
      z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
      word = z ^ (z >> 31);
    }
  }

  /// The next 64 random bits.
  uint64_t next() {
    uint64_t result = rotl(state[1] * 5, 7) * 9;
    uint64_t t = state[1] << 17;
    state[2] ^= state[0];
    state[3] ^= state[1];
    state[1] ^= state[2];
    state[0] ^= state[3];
    state[2] ^= t;
    state[3] = rotl(state[3], 45);
    return result;
  }

  /// Uniform in [0, 1), 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  /// Uniform in [lo, hi).
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }

  /// Uniform integer in [0, bound), bound >= 1 (modulo bias is negligible
  /// for the small bounds tests use).
  uint64_t below(uint64_t bound) { return next() % bound; }

  /// Standard normal (Box-Muller; the second value is discarded to keep the
  /// sequence independent of call interleaving).
  double normal() {
    double u1 = 1.0 - uniform(); // in (0, 1], so log is finite
    double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

  double normal(double mean, double stddev) { return mean + stddev * normal(); }

private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t state[4];
};

} // namespace linac

#endif // LINAC_RUNTIME_RANDOM_H
