// Named hot keys: a key popularity where a few chosen keys take fixed shares of the requests
// ("key 42 gets 30 %") and the rest is spread uniformly over every other key. It is the
// workload of a hot-spot study (one celebrity key, one hot shard) where Zipf's law would make
// the hot share depend on the number of keys and on s.
//
// Semantics, for `keys` keys 0 .. keys - 1 and named keys k_i with shares p_i:
// - P(k_i) = p_i exactly (up to the rounding of the cumulative sums);
// - every other key has probability (1 - sum p_i) / (keys - h), h the number of named keys.
// Each p_i is in (0, 1]; the sum is at most 1. A sum within kShareSlack of 1 counts as 1 (the
// other keys get nothing: decimal shares such as 0.1 do not add up exactly in binary); a sum
// below that needs at least one other key to take the remainder. Named keys are distinct and
// below `keys`; at most kMaxHotKeys of them.
//
// Drawing: one uniform u in [0, 1) decides: the first named key (in the configuration's order)
// whose cumulative share exceeds u, or, when u is beyond them all, the rest, drawn with
// Rng::below(keys - h) and mapped to the r-th key that is not named (a binary search over the
// sorted named keys). One or two draws, no allocation.
#pragma once

#include <cstdint>
#include <vector>

#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "sim/rng.hpp"

namespace models {

/// One named key and the fraction of the requests it gets.
struct HotKey {
  std::int64_t key = 0;
  double share = 0;

  template <class V>
  void describe(V& v) {
    v.field("key", key, "the key, below `keys`", Limits{0, 1e18});
    v.field("share", share, "the fraction of the requests that ask for it, in (0, 1]",
            Limits{0, 1});
  }
};

class HotKeySampler {
 public:
  static constexpr std::size_t kMaxHotKeys = 10'000;
  /// How far from 1 a sum of shares may be and still count as 1.
  static constexpr double kShareSlack = 1e-9;

  HotKeySampler() = default;
  /// Throws std::invalid_argument (naming the field) when check(keys, hot) finds a problem.
  HotKeySampler(std::uint64_t keys, const std::vector<HotKey>& hot);

  /// A key in [0, keys). Consumes one uniform, and one Rng::below for a key that is not named.
  std::uint64_t sample(sim::Rng& rng) const;
  /// P(key), for key in [0, keys).
  double probability(std::uint64_t key) const;
  /// The share of the keys that are not named, together.
  double rest() const { return rest_; }

  /// What is wrong with these named keys, as fields of a client ("hot_keys/1/share").
  static std::vector<ConfigProblem> check(std::uint64_t keys, const std::vector<HotKey>& hot);

 private:
  std::uint64_t keys_ = 0;
  std::vector<std::uint64_t> hot_;   // named keys, in the configuration's order
  std::vector<double> cumulative_;   // cumulative shares, same order; the last is 1 if rest_ is 0
  std::vector<std::uint64_t> skip_;  // sorted named keys k_(i) minus i: others below them
  double rest_ = 0;
};

}  // namespace models
