#include "models/sharding/key_migration.hpp"

#include <algorithm>
#include <cmath>

#include "sim/assert.hpp"
#include "sim/rng.hpp"

namespace models {

KeyMigration::KeyMigration(std::size_t keys, double rate_per_s, const ShardFunction& initial)
    : rate_(rate_per_s), location_(keys), arrives_at_(keys, sim::Time::max()) {
  DSIM_ASSERT(rate_per_s > 0, "a migration rate is positive");
  order_.reserve(keys);
  for (std::size_t key = 0; key < keys; ++key) location_[key] = initial.shard_of(key);
}

std::size_t KeyMigration::reshard(sim::Time now, const ShardFunction& before,
                                  const ShardFunction& after) {
  order_.clear();
  for (std::size_t key = 0; key < location_.size(); ++key) {
    if (arrives_at_[key] <= now) location_[key] = before.shard_of(key);
    arrives_at_[key] = sim::Time::max();
    if (location_[key] != after.shard_of(key))
      order_.emplace_back(sim::splitmix64_mix(key), static_cast<std::uint32_t>(key));
  }
  std::sort(order_.begin(), order_.end());
  const double ns_per_key = 1e9 / rate_;
  for (std::size_t j = 0; j < order_.size(); ++j) {
    // Capped at ~127 years, far past any run, so that a tiny rate cannot overflow the clock.
    const double after_ns = std::min(std::ceil(static_cast<double>(j + 1) * ns_per_key), 4e18);
    arrives_at_[order_[j].second] =
        now + sim::Duration::nanoseconds(static_cast<std::int64_t>(after_ns));
  }
  if (!order_.empty()) done_at_ = arrives_at_[order_.back().second];
  return order_.size();
}

KeyMigration::Route KeyMigration::route(std::uint64_t key, std::uint32_t owner, sim::Time now) {
  if (key >= location_.size()) return {owner, false};
  const auto k = static_cast<std::size_t>(key);
  if (arrives_at_[k] == sim::Time::max()) return {owner, false};
  if (now < arrives_at_[k]) return {location_[k], true};
  location_[k] = owner;
  arrives_at_[k] = sim::Time::max();
  return {owner, false};
}

}  // namespace models
