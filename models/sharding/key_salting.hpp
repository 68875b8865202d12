// Hot-key salting: one hot key split into `ways` sub-keys that hash to (most likely) different
// shards, so that its load spreads (Vitillo, "Understanding Distributed Systems", Partitioning:
// a hot key is split by adding a random suffix; DynamoDB's "write sharding" guidance). One kind
// of operation goes to one sub-key, the other must touch all of them:
// - spread "writes" (the salted counter): a write goes to one sub-key drawn at random; a read
//   fans out to every sub-key and merges their parts.
// - spread "reads" (a replicated hot value): a read goes to one sub-key drawn at random; a write
//   goes to every sub-key, to keep the copies equal.
// Sub-key j (0 .. ways - 1) of key K is K | (j + 1) << 56: distinct from every unsalted key
// below 2^56 (the salted keys must be), and hashed like any key by the sharding function.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "models/shared/params.hpp"

namespace models {

enum class SaltSpread : std::uint8_t { Writes, Reads };

inline constexpr std::array<Choice<SaltSpread>, 2> kSaltSpreadChoices{{
    {"writes", SaltSpread::Writes,
     "a write goes to one random sub-key, a read fans out to all (a salted counter)"},
    {"reads", SaltSpread::Reads,
     "a read goes to one random sub-key, a write fans out to all (a replicated hot value)"},
}};

/// One salted key.
struct SaltedKey {
  std::int64_t key = 0;
  std::int64_t ways = 2;

  template <class V>
  void describe(V& v) {
    v.field("key", key, "the hot key (below 2^56)", Limits{0, 7.2e16});
    v.field("ways", ways, "the sub-keys it is split into", Limits{2, 1024});
  }
};

inline constexpr int kSaltShift = 56;

/// Sub-key `j` of `key`.
constexpr std::uint64_t salted_key(std::uint64_t key, std::uint32_t j) {
  return key | (static_cast<std::uint64_t>(j) + 1) << kSaltShift;
}

/// The salted keys of a configuration, for lookups while routing (no allocation).
class KeySalting {
 public:
  KeySalting() = default;
  explicit KeySalting(const std::vector<SaltedKey>& keys) {
    for (const SaltedKey& k : keys)
      ways_.push_back({static_cast<std::uint64_t>(k.key), static_cast<std::uint32_t>(k.ways)});
    std::sort(ways_.begin(), ways_.end());
  }
  /// The ways `key` is split into; 1 when it is not salted.
  std::uint32_t ways(std::uint64_t key) const {
    const auto it = std::lower_bound(ways_.begin(), ways_.end(), Entry{key, 0});
    return it != ways_.end() && it->key == key ? it->ways : 1;
  }
  bool empty() const { return ways_.empty(); }

 private:
  struct Entry {
    std::uint64_t key;
    std::uint32_t ways;
    auto operator<=>(const Entry&) const = default;
  };
  std::vector<Entry> ways_;
};

}  // namespace models
