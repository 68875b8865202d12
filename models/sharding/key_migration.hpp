// Key migration after a reshard step: where each key's data lives while a rebalancer copies the
// moved keys to their new owners at a fixed rate (Vitillo, "Understanding Distributed Systems",
// Partitioning: rebalancing; Burns' sharded services leave the copy to the operator).
//
// Semantics, over the tracked keys 0 .. keys - 1 (a key beyond them is always at its owner):
// - At the start every key's data is at its owner under the initial function.
// - At a step from function `before` to `after` (true time t): first the keys whose migration
//   has completed by t are at their `before` owner. Then every key whose data is not on its
//   `after` owner is *moving*; the moving keys are copied one at a time, in the order of their
//   key hash (sim::splitmix64_mix, unrelated to popularity: a rebalancer walks hash ranges, not
//   hot keys first), at `rate` keys per second: the j-th (j = 1, 2, ...) has arrived at
//   t + j / rate. A key that is already on its new owner does not move. A step during a
//   migration restarts it from the step's time, with the keys still where they were.
// - route() tells, for a key and its owner now, whether it is still moving and where its data
//   is (its old shard) -- the sharder then refuses it (`unavailable`) or sends it there
//   (`old_owner`).
// The tables (12 bytes per key and the sort scratch of 12 more) are allocated up front; a step
// sorts the moving keys (O(k log k), no allocation); a route is O(1).
// Differences from real rebalancers: keys move one at a time at a constant rate (no batches, no
// bandwidth shared with the requests, no failed copies); writes during the copy are not tracked
// (the copy is taken to be consistent when it completes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "models/sharding/shard_function.hpp"
#include "sim/time.hpp"

namespace models {

class KeyMigration {
 public:
  KeyMigration() = default;
  /// Tracks `keys` keys, each at its owner under `initial`; copies `rate_per_s` (> 0) keys/s.
  KeyMigration(std::size_t keys, double rate_per_s, const ShardFunction& initial);

  /// A reshard step at true time `now`: returns the keys that must move.
  std::size_t reshard(sim::Time now, const ShardFunction& before, const ShardFunction& after);

  struct Route {
    std::uint32_t shard;  // where the key's data is now
    bool moving;          // not yet on its owner
  };
  /// Where the data of `key`, owned by `owner` now, is at true time `now`.
  Route route(std::uint64_t key, std::uint32_t owner, sim::Time now);

  /// When the last migration completes (Time::zero() before any step).
  sim::Time done_at() const { return done_at_; }
  bool tracks(std::uint64_t key) const { return key < location_.size(); }

 private:
  double rate_ = 1;
  std::vector<std::uint32_t> location_;  // the shard holding each key's data
  std::vector<sim::Time> arrives_at_;    // when a moving key reaches its owner; max() if not moving
  std::vector<std::pair<std::uint64_t, std::uint32_t>> order_;  // scratch: (hash, key)
  sim::Time done_at_ = sim::Time::zero();
};

}  // namespace models
