#pragma once
/// The corpus tests' stand-in for a fuzzer run in CI: every seed, then `mutations` mutants of
/// each (a flipped bit, a truncation, a spliced seed, an appended byte), from a fixed PRNG seed
/// so a failure reproduces.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_targets.hpp"

namespace certctl::fuzz {

inline void run_seed_mutations(target_fn fn, const std::vector<std::string>& seeds, int mutations) {
  std::mt19937 rng(42);
  for (const auto& s : seeds) {
    fn(reinterpret_cast<const std::uint8_t*>(s.data()), s.size());
    for (int i = 0; i < mutations; ++i) {
      std::string m = s;
      switch (rng() % 4) {
        case 0:
          if (!m.empty()) m[rng() % m.size()] ^= static_cast<char>(1u << (rng() % 8));
          break;
        case 1:
          m.resize(m.empty() ? 0 : rng() % m.size());
          break;
        case 2:
          m.insert(m.empty() ? 0 : rng() % m.size(), seeds[rng() % seeds.size()]);
          break;
        default:
          m.push_back(static_cast<char>(rng() % 256));
          break;
      }
      fn(reinterpret_cast<const std::uint8_t*>(m.data()), m.size());
    }
  }
}

}  // namespace certctl::fuzz
