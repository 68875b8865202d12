#include "models/shared/zipf.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "sim/assert.hpp"

namespace models {

double ZipfSampler::harmonic(std::uint64_t n, double s) {
  // Summed from the smallest term up, so that rounding does not swallow the tail.
  double sum = 0;
  for (std::uint64_t i = n; i >= 1; --i) sum += std::pow(static_cast<double>(i), -s);
  return sum;
}

ZipfSampler::ZipfSampler(std::uint64_t n, double s) {
  if (n < 1 || n > kMaxKeys)
    throw std::invalid_argument("keys: between 1 and " + std::to_string(kMaxKeys) +
                                " with zipf key popularity (a table of keys entries), got " +
                                std::to_string(n));
  if (!(s >= 0) || !std::isfinite(s))
    throw std::invalid_argument("zipf_s: expected a finite exponent >= 0");
  const double h = harmonic(n, s);
  cumulative_.resize(n);
  double running = 0;
  for (std::uint64_t k = 0; k < n; ++k) {
    running += std::pow(static_cast<double>(k + 1), -s) / h;
    cumulative_[k] = running;
  }
  cumulative_.back() = 1.0;  // a uniform in [0, 1) always finds a key
}

std::uint64_t ZipfSampler::sample(sim::Rng& rng) const {
  DSIM_ASSERT(!cumulative_.empty(), "a Zipf sampler with no keys");
  const double u = rng.uniform01();
  // The first key whose cumulative probability exceeds u: P(key = k) = cumulative_[k] - [k-1].
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), u);
  return static_cast<std::uint64_t>(it - cumulative_.begin());
}

double ZipfSampler::probability(std::uint64_t key) const {
  DSIM_ASSERT(key < cumulative_.size(), "a key beyond the sampler's");
  return key == 0 ? cumulative_[0] : cumulative_[key] - cumulative_[key - 1];
}

KeyPicker::KeyPicker(KeyPopularity popularity, std::int64_t keys, double s,
                     const std::vector<HotKey>& hot)
    : popularity_(popularity), keys_(static_cast<std::uint64_t>(keys)) {
  DSIM_ASSERT(keys >= 1, "at least one key");
  if (popularity == KeyPopularity::Zipf) zipf_ = ZipfSampler(keys_, s);
  if (popularity == KeyPopularity::HotKeys) hot_ = HotKeySampler(keys_, hot);
}

std::vector<ConfigProblem> KeyPicker::check(KeyPopularity popularity, std::int64_t keys,
                                            const std::vector<HotKey>& hot) {
  if (keys < 1) return {};  // describe()'s limits report it
  if (popularity == KeyPopularity::Zipf && static_cast<std::uint64_t>(keys) > ZipfSampler::kMaxKeys)
    return {
        {"keys", "expected at most 1e7 keys with zipf popularity (its table is built up front)"}};
  if (popularity == KeyPopularity::HotKeys)
    return HotKeySampler::check(static_cast<std::uint64_t>(keys), hot);
  if (!hot.empty()) return {{"hot_keys", R"(only with "key_popularity": "hot_keys")"}};
  return {};
}

}  // namespace models
