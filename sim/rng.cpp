#include "sim/rng.hpp"

namespace sim {

Rng::Rng(std::uint64_t seed) : key_(seed) {
  std::uint64_t x = seed;
  for (auto& word : s_) {
    x += 0x9e3779b97f4a7c15ull;
    word = splitmix64_mix(x);
  }
}

Rng Rng::stream(std::uint64_t root_seed, std::string_view name) {
  return Rng(splitmix64_mix(root_seed) ^ fnv1a64(name));
}

Rng Rng::child(std::string_view name) const {
  return stream(key_, name);
}

std::uint64_t Rng::below(std::uint64_t n) {
  // Lemire, "Fast Random Integer Generation in an Interval" (2019).
  unsigned __int128 m = static_cast<unsigned __int128>(next_u64()) * n;
  auto low = static_cast<std::uint64_t>(m);
  if (low < n) {
    const std::uint64_t threshold = (0 - n) % n;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(next_u64()) * n;
      low = static_cast<std::uint64_t>(m);
    }
  }
  return static_cast<std::uint64_t>(m >> 64);
}

}  // namespace sim
