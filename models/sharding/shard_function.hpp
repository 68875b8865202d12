// Sharding functions: which of S shards owns a key. Written once, as a part, so that a sharder,
// a sharded cache and replication can share them (DESIGN.md: "a hash ring ... is written once as
// a part and composed").
//
// The key hash. Every function but `range` places a key by key_hash(key) =
// sim::splitmix64_mix(key), the SplitMix64 finalizer (Steele, Lea and Flood 2014; sim/rng.hpp):
// a fixed bijection of 64-bit integers with full avalanche, identical on every platform and
// standard library (std::hash is not: it is the identity for integers in libstdc++), so a
// placement is reproducible and can be computed by hand. Derived hashes below mix with the same
// finalizer.
//
// The functions, for S shards numbered 0 .. S-1:
// - modulo: key_hash(key) mod S. Growing S to S+1 moves a key unless its hash gives the same
//   remainder for both, which holds for S of every S(S+1) hash values: S/(S+1) of the keys move.
// - consistent_hash (Karger et al., "Consistent Hashing and Random Trees", STOC 1997): a ring of
//   the 2^64 hash values with `virtual_nodes` points per shard, point v of shard s at
//   ring_point(s, v) = splitmix64_mix(splitmix64_mix(s + 1) ^ v). A key goes to the shard of the
//   first point clockwise from its hash: the smallest point >= key_hash(key), wrapping around to
//   the smallest point of all past the last one. Points depend only on (s, v), so adding shard S
//   leaves every other point in place and moves only the keys the new points capture. Equal
//   points (probability ~ (Sk)^2 / 2^65) are ordered by shard, then by v. The ring is built once
//   (S x virtual_nodes points, sorted); a lookup is a binary search (no allocation).
// - rendezvous (Thaler and Ravishankar, "Using Name-Based Mappings to Increase Hit Rates",
//   IEEE/ACM ToN 1998; tech. report 1996): highest random weight: the shard s maximizing
//   weight(key, s) = splitmix64_mix(key_hash(key) ^ splitmix64_mix(s + 1)); ties (probability
//   ~ S^2 / 2^65) go to the smaller s. O(S) per lookup.
// - jump (Lamping and Veach, "A Fast, Minimal Memory, Consistent Hash Algorithm", 2014):
//   jump_consistent_hash(key_hash(key), S), their algorithm exactly (their 64-bit LCG,
//   multiplier 2862933555777941757, increment 1, and their double arithmetic). O(log S).
//   Lamping and Veach apply it to a key that is already a 64-bit hash; so does this.
// - range: explicit split points over the raw key (not hashed: range partitioning keeps the keys'
//   order, so that a range of keys lives on one shard -- and sequential keys make hot shards).
//   With splits p_0 < p_1 < ... < p_{S-2}, shard i owns [p_{i-1}, p_i), shard 0 owns [0, p_0)
//   and shard S-1 owns [p_{S-2}, 2^64). A lookup is a binary search.
// Over a subset (ShardFunction::over: the shards left when some are ejected, as ketama clients
// and twemproxy's auto_eject_hosts drop a dead server): modulo and jump pick an index among the
// n members (in increasing order) and map it to the member -- so removing a shard other than the
// last renumbers the rest and moves most keys, jump's documented limitation; consistent_hash
// keeps only the members' points and rendezvous maximizes over the members -- so only the
// removed shard's keys move.
// Preference lists (replication: the shards that hold a key's copies, as Dynamo's preference
// list): preference_list(key, out) lists the first distinct shards for a key, the owner first:
// consistent_hash walks the ring clockwise from the key's hash and skips the shards already
// listed (Dynamo's "first N distinct nodes clockwise"); rendezvous lists the shards by decreasing
// weight (ties: the smaller shard first, as shard_of); modulo, jump and range list the owner and
// then the next shards by number (over members: the next members), wrapping around.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "models/shared/params.hpp"

namespace models {

enum class ShardFunctionKind : std::uint8_t { Modulo, ConsistentHash, Rendezvous, Jump, Range };

inline constexpr std::array<Choice<ShardFunctionKind>, 5> kShardFunctionChoices{{
    {"modulo", ShardFunctionKind::Modulo, "hash(key) mod S: most keys move when S changes"},
    {"consistent_hash", ShardFunctionKind::ConsistentHash,
     "a ring with `virtual_nodes` points per shard; the first point clockwise (Karger et al.)"},
    {"rendezvous", ShardFunctionKind::Rendezvous,
     "highest random weight: the shard maximizing hash(key, shard) (Thaler and Ravishankar)"},
    {"jump", ShardFunctionKind::Jump, "Lamping and Veach's jump consistent hash"},
    {"range", ShardFunctionKind::Range,
     "explicit split points over the (unhashed) key: shard i owns [split i-1, split i)"},
}};

/// The documented key hash: the SplitMix64 finalizer of the key.
std::uint64_t key_hash(std::uint64_t key);

/// Lamping and Veach's jump consistent hash, exactly as published: a bucket in [0, buckets)
/// for a 64-bit key. buckets >= 1.
std::int32_t jump_consistent_hash(std::uint64_t key, std::int32_t buckets);

/// Point v of shard s on the consistent-hash ring.
std::uint64_t ring_point(std::uint32_t shard, std::uint32_t virtual_node);

/// Shard s's rendezvous weight for a key.
std::uint64_t rendezvous_weight(std::uint64_t key, std::uint32_t shard);

/// One configured sharding function over a fixed number of shards. Built once; shard_of()
/// never allocates.
class ShardFunction {
 public:
  static ShardFunction modulo(std::uint32_t shards);
  static ShardFunction consistent_hash(std::uint32_t shards, std::uint32_t virtual_nodes);
  static ShardFunction rendezvous(std::uint32_t shards);
  static ShardFunction jump(std::uint32_t shards);
  /// S - 1 strictly increasing split points give S shards. Throws std::invalid_argument
  /// when they are not strictly increasing.
  static ShardFunction range(std::vector<std::uint64_t> splits);
  /// The function `kind` over `shards` shards (`virtual_nodes` for consistent_hash; `splits`,
  /// shards - 1 of them, for range).
  static ShardFunction make(ShardFunctionKind kind, std::uint32_t shards,
                            std::uint32_t virtual_nodes, std::vector<std::uint64_t> splits);
  /// The function `kind` (not range) over the shards `members` (increasing, not empty): it
  /// returns only those.
  static ShardFunction over(ShardFunctionKind kind, std::vector<std::uint32_t> members,
                            std::uint32_t virtual_nodes);

  /// The shard that owns `key`: in [0, shards()), or one of the members.
  std::uint32_t shard_of(std::uint64_t key) const;
  /// The first min(out.size(), shards()) distinct shards for `key` in preference order (the
  /// header says which order), written to out[0 ..]; returns how many. out[0] is shard_of(key).
  /// Allocates nothing.
  std::uint32_t preference_list(std::uint64_t key, std::span<std::uint32_t> out) const;
  /// How many shards it routes over.
  std::uint32_t shards() const { return shards_; }
  ShardFunctionKind kind() const { return kind_; }

  struct RingPoint {
    std::uint64_t position;
    std::uint32_t shard;
  };
  /// The consistent-hash ring, sorted by position (empty for the other functions).
  const std::vector<RingPoint>& ring() const { return ring_; }

 private:
  ShardFunction(ShardFunctionKind kind, std::uint32_t shards) : kind_(kind), shards_(shards) {}
  void sort_ring();
  std::uint32_t member(std::uint32_t index) const {
    return members_.empty() ? index : members_[index];
  }

  ShardFunctionKind kind_;
  std::uint32_t shards_;
  std::vector<RingPoint> ring_;         // consistent_hash
  std::vector<std::uint64_t> splits_;   // range
  std::vector<std::uint32_t> members_;  // over(): index -> shard (empty: the identity)
};

}  // namespace models
