// KeyMigration mechanics: which keys move at a step, when each arrives (hash order, at the
// rate), where a key's data is meanwhile, and a step that interrupts a migration.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "models/sharding/key_migration.hpp"
#include "sim/rng.hpp"

namespace {

using models::KeyMigration;
using models::ShardFunction;

constexpr std::size_t kKeys = 1000;

sim::Time at_s(double s) {
  return sim::Time::from_ns(static_cast<std::int64_t>(s * 1e9));
}

std::vector<std::uint64_t> changed(const ShardFunction& a, const ShardFunction& b) {
  std::vector<std::uint64_t> out;
  for (std::uint64_t key = 0; key < kKeys; ++key)
    if (a.shard_of(key) != b.shard_of(key)) out.push_back(key);
  return out;
}

}  // namespace

TEST_CASE("a step moves exactly the keys whose owner changed, one per 1/rate in hash order") {
  const auto two = ShardFunction::jump(2), three = ShardFunction::jump(3);
  KeyMigration migration(kKeys, 100.0, two);
  const auto moved = changed(two, three);
  REQUIRE(moved.size() > 200);  // about a third
  CHECK(migration.reshard(at_s(10), two, three) == moved.size());
  // The j-th key by hash arrives at 10 s + j / 100 s.
  std::vector<std::uint64_t> by_hash = moved;
  std::sort(by_hash.begin(), by_hash.end(), [](std::uint64_t a, std::uint64_t b) {
    return sim::splitmix64_mix(a) < sim::splitmix64_mix(b);
  });
  CHECK(migration.done_at() == at_s(10 + static_cast<double>(moved.size()) / 100));
  for (std::size_t j = 0; j < by_hash.size(); j += 37) {
    const std::uint64_t key = by_hash[j];
    const sim::Time arrives = at_s(10 + static_cast<double>(j + 1) / 100);
    INFO("key " << key << ", " << j << "th by hash");
    const auto before =
        migration.route(key, three.shard_of(key), arrives - sim::Duration::nanoseconds(1));
    CHECK(before.moving);
    CHECK(before.shard == two.shard_of(key));  // its data is still on the old owner
    const auto after = migration.route(key, three.shard_of(key), arrives);
    CHECK_FALSE(after.moving);
    CHECK(after.shard == three.shard_of(key));
  }
  // A key that did not move is on its owner throughout.
  for (std::uint64_t key = 0; key < kKeys; ++key)
    if (two.shard_of(key) == three.shard_of(key)) {
      CHECK_FALSE(migration.route(key, three.shard_of(key), at_s(10)).moving);
      break;
    }
  // Keys beyond the tracked ones are always at their owner.
  CHECK_FALSE(migration.tracks(kKeys));
  CHECK(migration.route(kKeys, 1, at_s(10)).shard == 1);
}

TEST_CASE("a step during a migration restarts it with the keys still where they were") {
  const auto one = ShardFunction::consistent_hash(1, 50);
  const auto two = ShardFunction::consistent_hash(2, 50);
  const auto three = ShardFunction::consistent_hash(3, 50);
  KeyMigration migration(kKeys, 10.0, one);
  const std::size_t first = migration.reshard(at_s(1), one, two);
  REQUIRE(first > 100);
  // At 11 s, 100 keys have arrived on shard 1; the rest are still on shard 0. The step to three
  // shards moves every key not on its new owner: those still on 0 but owned by 1 or 2, the
  // arrived ones now owned by 2, and none of the others.
  std::size_t expected = 0;
  std::vector<std::uint64_t> by_hash = changed(one, two);
  std::sort(by_hash.begin(), by_hash.end(), [](std::uint64_t a, std::uint64_t b) {
    return sim::splitmix64_mix(a) < sim::splitmix64_mix(b);
  });
  std::vector<std::uint32_t> location(kKeys, 0);
  for (std::size_t j = 0; j < 100; ++j) location[by_hash[j]] = 1;  // arrived by 11 s (j + 1 <= 100)
  for (std::uint64_t key = 0; key < kKeys; ++key) expected += location[key] != three.shard_of(key);
  CHECK(migration.reshard(at_s(11), two, three) == expected);
  // A key that was still moving to shard 1 and belongs to shard 1 under three shards is copied
  // anew: its data is on shard 0 until then.
  for (std::size_t j = 100; j < by_hash.size(); ++j)
    if (three.shard_of(by_hash[j]) == 1) {
      const auto r = migration.route(by_hash[j], 1, at_s(11));
      CHECK(r.moving);
      CHECK(r.shard == 0);
      break;
    }
}
