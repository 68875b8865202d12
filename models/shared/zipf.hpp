// Key popularity: which keys the clients ask for. Uniform (every key alike), named hot keys with
// fixed shares (models/shared/hot_keys.hpp), or Zipf: the key of rank r (r = 1 .. n; key r - 1) is
// asked for with probability (1 / r^s) / H(n, s), where H(n, s) = sum_{i=1..n} 1 / i^s is the
// generalized harmonic number. s = 1 is the classic "hot keys" law of web caches; s = 0 is uniform;
// larger s concentrates the load further.
//
// ZipfSampler draws by inversion: a cumulative table of the n probabilities is built once
// (set-up time: n doubles), and each draw is one uniform and a binary search (O(log n), no
// allocation). KeyPicker is what a client holds: uniform draws are Rng::below(n), exactly as
// before the other popularities existed, so scenarios with uniform keys keep their random draws.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "models/shared/hot_keys.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "sim/rng.hpp"

namespace models {

class ZipfSampler {
 public:
  /// The most keys a sampler tabulates (8 bytes each).
  static constexpr std::uint64_t kMaxKeys = 10'000'000;

  ZipfSampler() = default;
  /// n >= 1 keys, exponent s >= 0. Throws std::invalid_argument (a scenario error, naming
  /// `keys` or `zipf_s`) when n is beyond kMaxKeys or s is negative or not finite.
  ZipfSampler(std::uint64_t n, double s);

  /// A key in [0, n): key 0 (rank 1) is the most popular. Consumes one uniform.
  std::uint64_t sample(sim::Rng& rng) const;
  /// P(key), for key in [0, n).
  double probability(std::uint64_t key) const;
  std::uint64_t keys() const { return cumulative_.size(); }

  /// H(n, s) = sum_{i=1..n} 1 / i^s.
  static double harmonic(std::uint64_t n, double s);

 private:
  std::vector<double> cumulative_;  // cumulative_[k] = P(key <= k); the last is exactly 1
};

enum class KeyPopularity : std::uint8_t { Uniform, Zipf, HotKeys };

inline constexpr std::array<Choice<KeyPopularity>, 3> kKeyPopularityChoices{{
    {"uniform", KeyPopularity::Uniform, "every key equally likely"},
    {"zipf", KeyPopularity::Zipf,
     "key r - 1 (rank r) with probability proportional to 1 / r^zipf_s: a few hot keys"},
    {"hot_keys", KeyPopularity::HotKeys,
     "each key of `hot_keys` gets exactly its share; the rest is uniform over the other keys"},
}};

/// Draws request keys in [0, keys) with the configured popularity.
class KeyPicker {
 public:
  /// `s` is used only for Zipf, `hot` only for HotKeys. Throws std::invalid_argument as
  /// ZipfSampler and HotKeySampler do.
  KeyPicker(KeyPopularity popularity, std::int64_t keys, double s,
            const std::vector<HotKey>& hot = {});

  std::uint64_t pick(sim::Rng& rng) const {
    switch (popularity_) {
      case KeyPopularity::Zipf:
        return zipf_.sample(rng);
      case KeyPopularity::HotKeys:
        return hot_.sample(rng);
      default:
        return rng.below(keys_);
    }
  }

  /// A client's key options that describe()'s limits cannot check: the size of a Zipf table,
  /// and `hot_keys`, required by that popularity and refused with the others.
  static std::vector<ConfigProblem> check(KeyPopularity popularity, std::int64_t keys,
                                          const std::vector<HotKey>& hot);

 private:
  KeyPopularity popularity_;
  std::uint64_t keys_;
  ZipfSampler zipf_;   // empty unless popularity_ is Zipf
  HotKeySampler hot_;  // empty unless popularity_ is HotKeys
};

}  // namespace models
