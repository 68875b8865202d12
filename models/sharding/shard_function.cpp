#include "models/sharding/shard_function.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "sim/assert.hpp"
#include "sim/rng.hpp"

namespace models {

std::uint64_t key_hash(std::uint64_t key) {
  return sim::splitmix64_mix(key);
}

std::int32_t jump_consistent_hash(std::uint64_t key, std::int32_t buckets) {
  // Lamping and Veach (2014), figure 1, verbatim but for the names of the types.
  std::int64_t b = -1, j = 0;
  while (j < buckets) {
    b = j;
    key = key * 2862933555777941757ULL + 1;
    j = static_cast<std::int64_t>(
        static_cast<double>(b + 1) *
        (static_cast<double>(1LL << 31) / static_cast<double>((key >> 33) + 1)));
  }
  return static_cast<std::int32_t>(b);
}

std::uint64_t ring_point(std::uint32_t shard, std::uint32_t virtual_node) {
  return sim::splitmix64_mix(sim::splitmix64_mix(std::uint64_t{shard} + 1) ^ virtual_node);
}

std::uint64_t rendezvous_weight(std::uint64_t key, std::uint32_t shard) {
  return sim::splitmix64_mix(key_hash(key) ^ sim::splitmix64_mix(std::uint64_t{shard} + 1));
}

ShardFunction ShardFunction::modulo(std::uint32_t shards) {
  DSIM_ASSERT(shards >= 1, "sharding needs a shard");
  return ShardFunction(ShardFunctionKind::Modulo, shards);
}

ShardFunction ShardFunction::consistent_hash(std::uint32_t shards, std::uint32_t virtual_nodes) {
  DSIM_ASSERT(shards >= 1 && virtual_nodes >= 1, "a ring needs points");
  ShardFunction f(ShardFunctionKind::ConsistentHash, shards);
  f.ring_.reserve(std::size_t{shards} * virtual_nodes);
  for (std::uint32_t s = 0; s < shards; ++s)
    for (std::uint32_t v = 0; v < virtual_nodes; ++v) f.ring_.push_back({ring_point(s, v), s});
  f.sort_ring();
  return f;
}

ShardFunction ShardFunction::over(ShardFunctionKind kind, std::vector<std::uint32_t> members,
                                  std::uint32_t virtual_nodes) {
  DSIM_ASSERT(!members.empty() && std::is_sorted(members.begin(), members.end()) &&
                  kind != ShardFunctionKind::Range,
              "a hash function over some shards");
  ShardFunction f(kind, static_cast<std::uint32_t>(members.size()));
  if (kind == ShardFunctionKind::ConsistentHash) {
    f.ring_.reserve(members.size() * virtual_nodes);
    for (const std::uint32_t s : members)
      for (std::uint32_t v = 0; v < virtual_nodes; ++v) f.ring_.push_back({ring_point(s, v), s});
    f.sort_ring();
  } else {
    f.members_ = std::move(members);
  }
  return f;
}

void ShardFunction::sort_ring() {
  // Stable: equal positions keep the order of insertion (shard, then virtual node).
  std::stable_sort(ring_.begin(), ring_.end(),
                   [](const RingPoint& a, const RingPoint& b) { return a.position < b.position; });
}

ShardFunction ShardFunction::rendezvous(std::uint32_t shards) {
  DSIM_ASSERT(shards >= 1, "sharding needs a shard");
  return ShardFunction(ShardFunctionKind::Rendezvous, shards);
}

ShardFunction ShardFunction::jump(std::uint32_t shards) {
  DSIM_ASSERT(shards >= 1 && shards <= 0x7fffffffu, "jump hash takes 1 .. 2^31 - 1 buckets");
  return ShardFunction(ShardFunctionKind::Jump, shards);
}

ShardFunction ShardFunction::range(std::vector<std::uint64_t> splits) {
  for (std::size_t i = 1; i < splits.size(); ++i)
    if (splits[i] <= splits[i - 1])
      throw std::invalid_argument("range splits: expected strictly increasing split points");
  ShardFunction f(ShardFunctionKind::Range, static_cast<std::uint32_t>(splits.size() + 1));
  f.splits_ = std::move(splits);
  return f;
}

ShardFunction ShardFunction::make(ShardFunctionKind kind, std::uint32_t shards,
                                  std::uint32_t virtual_nodes, std::vector<std::uint64_t> splits) {
  switch (kind) {
    case ShardFunctionKind::Modulo:
      return modulo(shards);
    case ShardFunctionKind::ConsistentHash:
      return consistent_hash(shards, virtual_nodes);
    case ShardFunctionKind::Rendezvous:
      return rendezvous(shards);
    case ShardFunctionKind::Jump:
      return jump(shards);
    case ShardFunctionKind::Range:
      if (splits.size() + 1 != shards)
        throw std::invalid_argument("range splits: " + std::to_string(splits.size()) +
                                    " split points for " + std::to_string(shards) +
                                    " shards; expected one fewer than the shards");
      return range(std::move(splits));
  }
  DSIM_ASSERT(false, "unknown sharding function");
  return modulo(shards);
}

std::uint32_t ShardFunction::shard_of(std::uint64_t key) const {
  switch (kind_) {
    case ShardFunctionKind::Modulo:
      return member(static_cast<std::uint32_t>(key_hash(key) % shards_));
    case ShardFunctionKind::ConsistentHash: {
      const std::uint64_t h = key_hash(key);
      const auto it = std::lower_bound(
          ring_.begin(), ring_.end(), h,
          [](const RingPoint& p, std::uint64_t value) { return p.position < value; });
      return it == ring_.end() ? ring_.front().shard : it->shard;  // past the last: wrap around
    }
    case ShardFunctionKind::Rendezvous: {
      std::uint32_t best = member(0);
      std::uint64_t best_weight = rendezvous_weight(key, best);
      for (std::uint32_t i = 1; i < shards_; ++i) {
        const std::uint64_t w = rendezvous_weight(key, member(i));
        if (w > best_weight) {
          best_weight = w;
          best = member(i);
        }
      }
      return best;
    }
    case ShardFunctionKind::Jump:
      return member(static_cast<std::uint32_t>(
          jump_consistent_hash(key_hash(key), static_cast<std::int32_t>(shards_))));
    case ShardFunctionKind::Range:
      return static_cast<std::uint32_t>(std::upper_bound(splits_.begin(), splits_.end(), key) -
                                        splits_.begin());
  }
  DSIM_ASSERT(false, "unknown sharding function");
  return 0;
}

std::uint32_t ShardFunction::preference_list(std::uint64_t key,
                                             std::span<std::uint32_t> out) const {
  const auto n = static_cast<std::uint32_t>(std::min<std::size_t>(out.size(), shards_));
  if (n == 0) return 0;
  const auto listed = [&](std::uint32_t count, std::uint32_t shard) {
    return std::find(out.begin(), out.begin() + count, shard) != out.begin() + count;
  };
  switch (kind_) {
    case ShardFunctionKind::ConsistentHash: {
      const std::uint64_t h = key_hash(key);
      const auto first = std::lower_bound(
          ring_.begin(), ring_.end(), h,
          [](const RingPoint& p, std::uint64_t value) { return p.position < value; });
      std::size_t at = static_cast<std::size_t>(first - ring_.begin());
      std::uint32_t count = 0;
      for (std::size_t step = 0; step < ring_.size() && count < n; ++step, ++at) {
        const std::uint32_t shard = ring_[at % ring_.size()].shard;
        if (!listed(count, shard)) out[count++] = shard;
      }
      DSIM_ASSERT(count == n, "every shard has a point on the ring");
      return n;
    }
    case ShardFunctionKind::Rendezvous:
      for (std::uint32_t count = 0; count < n; ++count) {
        bool found = false;
        std::uint32_t best = 0;
        std::uint64_t best_weight = 0;
        for (std::uint32_t i = 0; i < shards_; ++i) {
          const std::uint32_t shard = member(i);
          if (listed(count, shard)) continue;
          const std::uint64_t w = rendezvous_weight(key, shard);
          if (!found || w > best_weight) {
            found = true;
            best = shard;
            best_weight = w;
          }
        }
        out[count] = best;
      }
      return n;
    case ShardFunctionKind::Modulo:
    case ShardFunctionKind::Jump:
    case ShardFunctionKind::Range: {
      const std::uint32_t owner = shard_of(key);
      // The owner's index among the members (the identity without members).
      std::uint32_t index = owner;
      if (!members_.empty())
        index = static_cast<std::uint32_t>(
            std::lower_bound(members_.begin(), members_.end(), owner) - members_.begin());
      for (std::uint32_t i = 0; i < n; ++i) out[i] = member((index + i) % shards_);
      return n;
    }
  }
  DSIM_ASSERT(false, "unknown sharding function");
  return 0;
}

}  // namespace models
