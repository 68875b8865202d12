// Random numbers: xoshiro256** (Blackman & Vigna), seeded through splitmix64.
//
// Every component draws from its own stream, derived from (root seed, stream name):
//   key   = splitmix64_mix(root_seed) XOR fnv1a64(name)
//   state = four successive outputs of splitmix64 started at key
// so adding a component (a new name) leaves every other stream's draws unchanged, and two
// variants of a scenario see the same arrivals ("common random numbers").
// Nothing here uses <random>: its distributions differ between standard libraries.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace sim {

/// FNV-1a, 64-bit: the documented hash of stream names.
constexpr std::uint64_t fnv1a64(std::string_view text) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

/// The splitmix64 finalizer: a bijective 64-bit mix.
constexpr std::uint64_t splitmix64_mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

class Rng {
 public:
  /// A generator seeded directly (state from splitmix64 started at `seed`).
  explicit Rng(std::uint64_t seed = 0);

  /// The stream named `name` under `root_seed` (see the header comment).
  static Rng stream(std::uint64_t root_seed, std::string_view name);

  /// A sub-stream of this one, by name: stream(key of this stream, name). Lets a component
  /// hand each of its parts (replica 3's service times) a stream of its own.
  Rng child(std::string_view name) const;

  std::uint64_t next_u64() {
    const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const std::uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  /// Uniform in [0, 1), 53 random bits.
  double uniform01() { return static_cast<double>(next_u64() >> 11) * 0x1.0p-53; }

  /// Uniform in (0, 1]: safe to take the log of.
  double uniform01_open_low() { return static_cast<double>((next_u64() >> 11) + 1) * 0x1.0p-53; }

  /// Uniform integer in [0, n), unbiased (Lemire's multiply-and-reject). n > 0.
  std::uint64_t below(std::uint64_t n);

  /// True with probability p.
  bool bernoulli(double p) { return uniform01() < p; }

  std::uint64_t key() const { return key_; }

 private:
  static constexpr std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<std::uint64_t, 4> s_{};
  std::uint64_t key_ = 0;
};

}  // namespace sim
