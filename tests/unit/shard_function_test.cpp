// Sharding functions: placements of known keys, checked against values computed by hand (an
// independent Python transcription of the documented formulas, see each case) or published
// reference vectors; the ring's wrap-around; range split points.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "models/sharding/shard_function.hpp"

using models::ShardFunction;

TEST_CASE("the key hash is SplitMix64's finalizer") {
  // SplitMix64 seeded with 0 outputs mix(0x9e3779b97f4a7c15) = 0xe220a8397b1dcdaf first
  // (Steele, Lea and Flood; the reference sequence of Vigna's splitmix64.c).
  CHECK(models::key_hash(0x9e3779b97f4a7c15ull) == 0xe220a8397b1dcdafull);
  CHECK(models::key_hash(1) == 0x5692161d100b05e5ull);
  CHECK(models::key_hash(42) == 0xa759ea27d4727622ull);
}

TEST_CASE("modulo: the hash mod S") {
  // 0x5692161d100b05e5 mod 10 = 9, 0xdbd238973a2b148a mod 10 = 0, 0x1e535eede31428f0 mod 10 =
  // 6, 0xa759ea27d4727622 mod 10 = 2, 0xc1936642eba4ead7 mod 10 = 1.
  const auto f = ShardFunction::modulo(10);
  CHECK(f.shards() == 10);
  CHECK(f.shard_of(1) == 9);
  CHECK(f.shard_of(2) == 0);
  CHECK(f.shard_of(3) == 6);
  CHECK(f.shard_of(42) == 2);
  CHECK(f.shard_of(1000) == 1);
}

TEST_CASE("jump: Lamping and Veach's algorithm on the reference vectors") {
  // Vectors generated from the paper's C++ code (published with dgryski/go-jump's tests): the
  // bucket of each key for 1, 2, ... buckets.
  struct Vector {
    std::uint64_t key;
    std::vector<std::int32_t> buckets;
  };
  const std::vector<Vector> vectors = {
      {0, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
      {1, {0, 0, 0, 0, 0, 0, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 6, 17, 17}},
      {0xdeadbeef, {0, 1, 2, 3, 3, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 16, 16, 16}},
      {0x0ddc0ffeebadf00d, {0, 1, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 15, 15, 15, 15}},
  };
  for (const auto& v : vectors)
    for (std::size_t i = 0; i < v.buckets.size(); ++i) {
      INFO("key " << v.key << ", " << i + 1 << " buckets");
      CHECK(models::jump_consistent_hash(v.key, static_cast<std::int32_t>(i + 1)) == v.buckets[i]);
    }
  // By hand, key 1 and 7 buckets: b = 0, key = 1 * 2862933555777941757 + 1, key >> 33 =
  // 333289331, j = floor(1 * 2^31 / 333289332) = 6; b = 6, key = key * 2862933555777941757 + 1
  // (mod 2^64), key >> 33 = 875494160, j = floor(7 * 2^31 / 875494161) = 17 >= 7: bucket 6.
  CHECK(models::jump_consistent_hash(1, 7) == 6);
  // The sharder applies it to the key hash:
  const auto f = ShardFunction::jump(19);
  for (const std::uint64_t key : {0ull, 1ull, 2ull, 42ull, 1000ull})
    CHECK(f.shard_of(key) ==
          static_cast<std::uint32_t>(models::jump_consistent_hash(models::key_hash(key), 19)));
}

TEST_CASE("consistent hash: the first point clockwise, wrapping around past the last") {
  // 3 shards x 2 virtual nodes; points mix(mix(s + 1) ^ v), sorted:
  //   0x3ec2d42f3a45cc6e shard 1, 0x52ead7e36ea7fea8 shard 1, 0x7ab40e090f363a7d shard 0,
  //   0x83ec686c1600460a shard 0, 0xb29a3bd06eedafe8 shard 2, 0xd7f030fc3e74beda shard 2.
  const auto f = ShardFunction::consistent_hash(3, 2);
  REQUIRE(f.ring().size() == 6);
  CHECK(f.ring().front().position == 0x3ec2d42f3a45cc6eull);
  CHECK(f.ring().back().position == 0xd7f030fc3e74bedaull);
  for (std::size_t i = 1; i < f.ring().size(); ++i)
    CHECK(f.ring()[i - 1].position <= f.ring()[i].position);
  CHECK(f.shard_of(1) == 0);     // 0x5692... -> 0x7ab4... (shard 0)
  CHECK(f.shard_of(3) == 1);     // 0x1e53... -> 0x3ec2... (shard 1): before the first point
  CHECK(f.shard_of(42) == 2);    // 0xa759... -> 0xb29a... (shard 2)
  CHECK(f.shard_of(1000) == 2);  // 0xc193... -> 0xd7f0... (shard 2)
  // Key 2 hashes to 0xdbd238973a2b148a, past the last point: it wraps to the first (shard 1).
  REQUIRE(models::key_hash(2) > f.ring().back().position);
  CHECK(f.shard_of(2) == f.ring().front().shard);
  CHECK(f.shard_of(2) == 1);
}

TEST_CASE("consistent hash: adding a shard only captures keys for the new shard") {
  const auto before = ShardFunction::consistent_hash(5, 20);
  const auto after = ShardFunction::consistent_hash(6, 20);
  int moved = 0;
  for (std::uint64_t key = 0; key < 10'000; ++key) {
    if (before.shard_of(key) == after.shard_of(key)) continue;
    ++moved;
    CHECK(after.shard_of(key) == 5);
  }
  CHECK(moved > 0);
}

TEST_CASE("rendezvous: the shard of highest weight") {
  // weight(key, s) = mix(mix(key) ^ mix(s + 1)); by hand over 5 shards: key 1 -> 4, 2 -> 2,
  // 3 -> 1, 42 -> 1, 1000 -> 4.
  const auto f = ShardFunction::rendezvous(5);
  CHECK(f.shard_of(1) == 4);
  CHECK(f.shard_of(2) == 2);
  CHECK(f.shard_of(3) == 1);
  CHECK(f.shard_of(42) == 1);
  CHECK(f.shard_of(1000) == 4);
  for (std::uint64_t key = 0; key < 1000; ++key)
    for (std::uint32_t s = 0; s < 5; ++s)
      CHECK(models::rendezvous_weight(key, s) <= models::rendezvous_weight(key, f.shard_of(key)));
}

TEST_CASE("range: shard i owns the keys from split i-1 up to split i") {
  const auto f = ShardFunction::range({10, 20, 30});
  CHECK(f.shards() == 4);
  CHECK(f.shard_of(0) == 0);
  CHECK(f.shard_of(9) == 0);
  CHECK(f.shard_of(10) == 1);
  CHECK(f.shard_of(19) == 1);
  CHECK(f.shard_of(20) == 2);
  CHECK(f.shard_of(29) == 2);
  CHECK(f.shard_of(30) == 3);
  CHECK(f.shard_of(std::numeric_limits<std::uint64_t>::max()) == 3);
  CHECK(ShardFunction::range({}).shard_of(12345) == 0);
  CHECK_THROWS_AS(ShardFunction::range({10, 10}), std::invalid_argument);
  CHECK_THROWS_AS(ShardFunction::make(models::ShardFunctionKind::Range, 3, 1, {10}),
                  std::invalid_argument);
}

TEST_CASE("every function places every key on one of its shards") {
  using K = models::ShardFunctionKind;
  for (const K kind : {K::Modulo, K::ConsistentHash, K::Rendezvous, K::Jump})
    for (const std::uint32_t shards : {1u, 2u, 7u}) {
      const auto f = ShardFunction::make(kind, shards, 3, {});
      for (std::uint64_t key = 0; key < 1000; ++key) CHECK(f.shard_of(key) < shards);
    }
}

TEST_CASE(
    "over a subset: removing a shard moves only its keys under consistent hash and "
    "rendezvous, most keys under modulo and jump") {
  using models::ShardFunctionKind;
  constexpr std::uint64_t kKeys = 20000;
  for (const auto kind : {ShardFunctionKind::Modulo, ShardFunctionKind::ConsistentHash,
                          ShardFunctionKind::Rendezvous, ShardFunctionKind::Jump}) {
    INFO("function " << static_cast<int>(kind));
    const auto all = ShardFunction::make(kind, 5, 100, {});
    // Over every shard it is the same function.
    const auto same = ShardFunction::over(kind, {0, 1, 2, 3, 4}, 100);
    for (std::uint64_t key = 0; key < 1000; ++key) CHECK(same.shard_of(key) == all.shard_of(key));
    // Without shard 2 (not the last): no key goes to 2; count the keys that move.
    const auto without = ShardFunction::over(kind, {0, 1, 3, 4}, 100);
    CHECK(without.shards() == 4);
    std::uint64_t on_two = 0, moved_elsewhere = 0;
    for (std::uint64_t key = 0; key < kKeys; ++key) {
      const auto before = all.shard_of(key), after = without.shard_of(key);
      CHECK(after != 2);
      if (before == 2)
        ++on_two;
      else if (before != after)
        ++moved_elsewhere;
    }
    const bool minimal =
        kind == ShardFunctionKind::ConsistentHash || kind == ShardFunctionKind::Rendezvous;
    if (minimal) {
      CHECK(moved_elsewhere == 0);  // only shard 2's keys moved
    } else {
      // Renumbering: a key of shard 3 or 4 now maps by index among 4; under modulo a key stays
      // only if hash mod 5 and mod 4 pick the same member, ~1/4 of the others (so ~3/5 of all
      // move); jump keeps more but far from all. Either way much more than shard 2's fifth.
      CHECK(moved_elsewhere > on_two);
    }
  }
  // Jump: dropping the last shard moves only its keys (Lamping and Veach's design).
  const auto five = ShardFunction::jump(5);
  const auto four = ShardFunction::over(ShardFunctionKind::Jump, {0, 1, 2, 3}, 1);
  for (std::uint64_t key = 0; key < kKeys; ++key)
    if (five.shard_of(key) != 4) CHECK(four.shard_of(key) == five.shard_of(key));
}

TEST_CASE("preference lists: the first distinct shards for a key, the owner first") {
  // Consistent hash: a brute-force walk of the ring from the key's hash, keeping first sightings.
  const auto ring = ShardFunction::consistent_hash(7, 16);
  for (std::uint64_t key = 0; key < 200; ++key) {
    std::vector<std::uint32_t> expected;
    const std::uint64_t h = models::key_hash(key);
    std::size_t start = 0;
    while (start < ring.ring().size() && ring.ring()[start].position < h) ++start;
    for (std::size_t i = 0; i < ring.ring().size() && expected.size() < 4; ++i) {
      const std::uint32_t s = ring.ring()[(start + i) % ring.ring().size()].shard;
      if (std::find(expected.begin(), expected.end(), s) == expected.end()) expected.push_back(s);
    }
    std::uint32_t out[4];
    REQUIRE(ring.preference_list(key, out) == 4);
    CHECK(std::vector<std::uint32_t>(out, out + 4) == expected);
    CHECK(out[0] == ring.shard_of(key));
  }
  // Every function: distinct shards, min(n, S) of them, the owner first; the whole list of S
  // shards is a permutation.
  const std::vector<ShardFunction> all = {
      ShardFunction::modulo(5), ShardFunction::consistent_hash(5, 8), ShardFunction::rendezvous(5),
      ShardFunction::jump(5), ShardFunction::range({10, 20, 30, 40})};
  for (const ShardFunction& f : all) {
    for (std::uint64_t key = 0; key < 100; ++key) {
      std::uint32_t out[8];
      REQUIRE(f.preference_list(key, out) == 5);
      CHECK(out[0] == f.shard_of(key));
      std::vector<std::uint32_t> sorted(out, out + 5);
      std::sort(sorted.begin(), sorted.end());
      CHECK(sorted == std::vector<std::uint32_t>{0, 1, 2, 3, 4});
    }
  }
  // Rendezvous: decreasing weights. Modulo: the owner, then the next shards by number.
  const auto hrw = ShardFunction::rendezvous(6);
  std::uint32_t out[3];
  REQUIRE(hrw.preference_list(99, out) == 3);
  CHECK(models::rendezvous_weight(99, out[0]) > models::rendezvous_weight(99, out[1]));
  CHECK(models::rendezvous_weight(99, out[1]) > models::rendezvous_weight(99, out[2]));
  const auto mod = ShardFunction::modulo(10);  // key 1 -> 9 (above)
  REQUIRE(mod.preference_list(1, out) == 3);
  CHECK(std::vector<std::uint32_t>(out, out + 3) == std::vector<std::uint32_t>{9, 0, 1});
  // Over members: only members, the next members after the owner.
  const auto some = ShardFunction::over(models::ShardFunctionKind::Modulo, {1, 4, 6}, 1);
  REQUIRE(some.preference_list(1, out) == 3);  // 0x5692161d100b05e5 mod 3 = 1 -> member 4
  CHECK(std::vector<std::uint32_t>(out, out + 3) == std::vector<std::uint32_t>{4, 6, 1});
}
