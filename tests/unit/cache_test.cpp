// Cache mechanics: hits, misses and expiry; request coalescing (one fetch for k concurrent
// misses); XFetch early refresh with the probability its formula gives; failed and timed-out
// fetches; LRU capacity and the pinning of keys being fetched; the table's index against a
// reference model; the Zipf key sampler; no allocation per request in steady state.
//
// Statistical checks allow 5 standard errors of a binomial count (a correct implementation fails
// one with probability 6e-7; the seeds are fixed, so a pass is reproducible, not lucky).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <list>
#include <map>
#include <memory>
#include <vector>

#include "models/caching/cache.hpp"
#include "models/caching/cache_table.hpp"
#include "models/clients/open_loop_client.hpp"
#include "models/services/server.hpp"
#include "models/shared/zipf.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"
#include "tests/unit/cache_bench.hpp"

using namespace sim;
using models::Cache;
using models::CacheConfig;
using models::Outcome;

using test::cache_config;
using Bench = test::CacheBench;

TEST_CASE("cache: a miss fetches, a hit answers from the cache, an expired value is fetched anew") {
  Bench b(cache_config());
  b.send(at_ms(0), 5, 1);     // miss: fetched, stored at 20ms until 1020ms
  b.send(at_ms(500), 5, 2);   // hit: answered after hit_time
  b.send(at_ms(500), 6, 3);   // another key: a miss
  b.send(at_ms(1019), 5, 4);  // still fresh
  b.send(at_ms(1020), 5, 5);  // expired exactly now: a miss
  b.h.run();
  CHECK(b.answer(1).at == at_ms(20));
  CHECK(b.answer(2).at == at_ms(501));
  CHECK(b.answer(3).at == at_ms(520));
  CHECK(b.answer(4).at == at_ms(1020));
  CHECK(b.answer(5).at == at_ms(1040));
  for (const auto& r : b.probe->received) CHECK(r.outcome == Outcome::Ok);
  CHECK(b.store->asked.size() == 3);
  CHECK(b.figure("requests") == 5);
  CHECK(b.figure("hits") == 2);
  CHECK(b.figure("misses") == 3);
  CHECK(b.figure("fetches") == 3);
  CHECK(b.figure("hit_ratio") == Approx(0.4));
  CHECK(b.figure("max_concurrent_fetches_per_key") == 1);
  CHECK(b.cache->requests_waiting() == 0);
  CHECK(b.cache->fetches_in_flight() == 0);
}

TEST_CASE("cache: coalescing sends exactly one fetch for k concurrent misses of a key") {
  const std::uint32_t k = 10;
  for (const bool coalesce : {true, false}) {
    INFO("coalesce " << coalesce);
    CacheConfig config = cache_config();
    config.coalesce = coalesce;
    Bench b(config);
    b.send(at_ms(0), 3, 1, k);    // k misses of key 3 at once
    b.send(at_ms(5), 4, 101, 2);  // and 2 of key 4, later
    b.send(at_ms(10), 3, 201);    // one more of key 3 while its fetch is in flight
    b.send(at_ms(100), 3, 301);   // a hit, either way
    b.h.run();
    REQUIRE(b.probe->received.size() == k + 4);
    for (const auto& r : b.probe->received) CHECK(r.outcome == Outcome::Ok);
    if (coalesce) {
      CHECK(b.store->asked_for(3) == 1);
      CHECK(b.store->asked_for(4) == 1);
      CHECK(b.figure("coalesced") == k - 1 + 1 + 1);
      CHECK(b.figure("max_concurrent_fetches_per_key") == 1);
      // Waiters are answered together, when the one fetch returns, in arrival order.
      for (std::uint64_t c = 1; c <= k; ++c) CHECK(b.answer(c).at == at_ms(20));
      CHECK(b.answer(201).at == at_ms(20));
      CHECK(b.probe->received[k].call_id == 201);
    } else {
      CHECK(b.store->asked_for(3) == k + 1);
      CHECK(b.store->asked_for(4) == 2);
      CHECK(b.figure("coalesced") == 0);
      CHECK(b.figure("max_concurrent_fetches_per_key") == k + 1);  // the stampede
      CHECK(b.answer(201).at == at_ms(30));
    }
    CHECK(b.figure("misses") == k + 3);
    CHECK(b.figure("hits") == 1);
    CHECK(b.answer(301).at == at_ms(101));
  }
}

TEST_CASE("cache: XFetch refreshes a valid value early with probability exp(-gap / (delta beta))") {
  // The store answers the first fetch after delta = 20ms (so key 7 is fresh until 1020ms with
  // a recompute time of 20ms) and no other. At 1000ms, n requests find the value valid with
  // gap = expiry - now = 20ms; each refreshes iff -delta beta ln(U) >= gap, i.e. with
  // probability p = exp(-gap / (delta beta)), independently (no coalescing, so the refreshes in
  // flight do not suppress later ones). The count of refreshes is Binomial(n, p).
  const std::uint32_t n = 20'000;
  for (const double beta : {1.0, 2.0, 0.5}) {
    INFO("beta " << beta);
    CacheConfig config = cache_config();
    config.early_refresh = true;
    config.beta = beta;
    config.fetch_timeout = Duration::zero();
    Bench b(config);
    b.store->answer_first = 1;
    b.send(at_ms(0), 7, 1);
    b.send(at_ms(1000), 7, 10, n);
    b.h.run();
    const double p = std::exp(-20.0 / (20.0 * beta));  // e^-1, e^-0.5, e^-2
    const double refreshes = b.figure("early_refreshes");
    CHECK(std::abs(refreshes - n * p) < 5 * std::sqrt(n * p * (1 - p)));
    CHECK(b.store->asked.size() == 1 + static_cast<std::size_t>(refreshes));
    CHECK(b.figure("hits") + refreshes == n);
    // A refreshing request waits for its fetch (never answered here); the others hit.
    CHECK(b.probe->received.size() == 1 + n - static_cast<std::size_t>(refreshes));
  }
}

TEST_CASE(
    "cache: with coalescing, one request refreshes a hot key early, the others hit or "
    "join it") {
  CacheConfig config = cache_config();
  config.early_refresh = true;
  config.coalesce = true;
  Bench b(config, 20_ms);
  b.send(at_ms(0), 1, 1);
  // Key 1 is fresh until 1020ms with delta 20ms: 400 requests at 1019ms refresh with probability
  // e^-0.05 each; with coalescing only the first refresh fetches, the rest hit meanwhile.
  b.send(at_ms(1019), 1, 100, 400);
  b.send(at_ms(1030), 1, 1000);  // after the old expiry: the refresh (done at 1039ms) is pending
  b.send(at_ms(1050), 1, 2000);  // the refreshed value: a hit (fresh until 2039ms)
  b.h.run();
  CHECK(b.figure("early_refreshes") == 1);
  CHECK(b.store->asked.size() == 2);
  CHECK(b.figure("coalesced") == 1);  // the request at 1030ms joined the refresh
  CHECK(b.answer(1000).at == at_ms(1039));
  CHECK(b.answer(2000).at == at_ms(1051));
  CHECK(b.figure("max_concurrent_fetches_per_key") == 1);
}

TEST_CASE("cache: failed and timed-out fetches fail their waiters, a late answer is ignored") {
  SECTION("the store's failure is passed on, and nothing is stored") {
    CacheConfig config = cache_config();
    config.coalesce = true;
    Bench b(config);
    b.store->outcome = Outcome::Rejected;
    b.send(at_ms(0), 2, 1, 3);
    b.send(at_ms(100), 2, 10);
    b.h.run();
    for (const auto& r : b.probe->received) CHECK(r.outcome == Outcome::Rejected);
    CHECK(b.probe->received.size() == 4);
    CHECK(b.store->asked.size() == 2);
    CHECK(b.figure("fetch_failures") == 2);
    CHECK(b.figure("misses") == 4);
  }
  SECTION("a fetch timeout answers Error; the late answer stores nothing") {
    CacheConfig config = cache_config();
    config.fetch_timeout = 50_ms;
    Bench b(config, 80_ms);
    b.send(at_ms(0), 2, 1);
    b.send(at_ms(100), 2, 2);  // a miss again (fetched until 150ms: timed out too)
    b.h.run();
    CHECK(b.answer(1).outcome == Outcome::Error);
    CHECK(b.answer(1).at == at_ms(50));
    CHECK(b.answer(2).outcome == Outcome::Error);
    CHECK(b.figure("late_fetch_answers") == 2);
    CHECK(b.figure("fetch_failures") == 2);
    CHECK(b.cache->fetches_in_flight() == 0);
  }
}

TEST_CASE("cache: capacity evicts the least recently used key") {
  CacheConfig config = cache_config();
  config.ttl = 10_s;
  config.capacity = 2;
  Bench b(config, 10_ms);
  b.send(at_ms(0), 1, 1);    // miss: {1}
  b.send(at_ms(100), 2, 2);  // miss: {1, 2}
  b.send(at_ms(200), 1, 3);  // hit: 2 is now the least recently used
  b.send(at_ms(300), 3, 4);  // miss: evicts 2 -> {1, 3}
  b.send(at_ms(400), 1, 5);  // hit: 3 least recent
  b.send(at_ms(500), 2, 6);  // miss: evicts 3 -> {1, 2}
  b.send(at_ms(600), 3, 7);  // miss: evicts 1 -> {2, 3}
  b.send(at_ms(700), 2, 8);  // hit
  b.h.run();
  CHECK(b.figure("hits") == 3);
  CHECK(b.figure("misses") == 5);
  CHECK(b.figure("evictions") == 3);
  CHECK(b.answer(8).at == at_ms(701));
  CHECK(b.cache->entries() == 2);
}

TEST_CASE("cache: a key with a fetch in flight is never evicted") {
  CacheConfig config = cache_config();
  config.capacity = 1;
  config.coalesce = true;
  Bench b(config, 50_ms);
  b.send(at_ms(0), 1, 1);    // key 1 takes the only entry, pinned until 50ms
  b.send(at_ms(10), 2, 2);   // no room: fetched without an entry
  b.send(at_ms(20), 2, 3);   // still no room: cannot be coalesced, fetched again
  b.send(at_ms(30), 1, 4);   // coalesced with key 1's fetch
  b.send(at_ms(100), 2, 5);  // key 2's first fetch (at 60ms) evicted key 1: a hit
  b.send(at_ms(200), 1, 6);  // key 1 was evicted: a miss
  b.h.run();
  CHECK(b.store->asked_for(1) == 2);
  CHECK(b.store->asked_for(2) == 2);
  CHECK(b.figure("coalesced") == 1);
  CHECK(b.answer(4).at == at_ms(50));
  CHECK(b.answer(5).at == at_ms(101));
  CHECK(b.answer(6).at == at_ms(250));
  CHECK(b.figure("evictions") == 2);  // key 1 at 60ms; key 2 at 250ms
}

TEST_CASE("cache: a crash loses the entries and the waiting requests, a restart is cold") {
  Bench b(cache_config());
  b.send(at_ms(0), 1, 1);
  b.send(at_ms(100), 1, 2, 3);  // the store answers after the crash: ignored
  b.h.faults.crash(at_ms(110), b.h.nodes("cache").at(0), 100_ms);
  b.send(at_ms(300), 1, 10);  // cold again: a miss
  b.h.run();
  CHECK(b.answer(1).at == at_ms(20));
  CHECK(b.answer(10).at == at_ms(320));
  CHECK(b.probe->received.size() == 5);  // 3 hits answered at 101ms, before the crash
  CHECK(b.cache->requests_waiting() == 0);
}

TEST_CASE("cache table: the open-addressing index and the LRU order agree with a reference") {
  // Random acquire / find / touch over 40 keys in a table of 16: keys collide in the index and
  // are evicted (backward-shift deletion) all the time. The reference: a list, most recent first.
  models::CacheTable table(16);
  std::list<std::uint64_t> lru;
  Rng rng(42);
  for (int op = 0; op < 200'000; ++op) {
    const std::uint64_t key = rng.below(40) * 0x9e3779b97f4a7c15ull;  // spread-out keys
    const auto in_ref = std::find(lru.begin(), lru.end(), key);
    models::CacheEntry* found = table.find(key);
    REQUIRE((found != nullptr) == (in_ref != lru.end()));
    if (rng.bernoulli(0.3)) {
      if (found != nullptr) {
        table.touch(*found);
        lru.erase(in_ref);
        lru.push_front(key);
      }
      continue;
    }
    bool evicted = false;
    models::CacheEntry* e = table.acquire(key, evicted);
    REQUIRE(e != nullptr);
    REQUIRE(e->key == key);
    const bool full_and_new = in_ref == lru.end() && lru.size() == 16;
    REQUIRE(evicted == full_and_new);  // every entry holds a value here
    if (in_ref != lru.end()) {
      lru.erase(in_ref);
    } else if (full_and_new) {
      REQUIRE(table.find(lru.back()) == nullptr);  // the reference's LRU key went
      lru.pop_back();
    }
    lru.push_front(key);
    e->has_value = true;
  }
  CHECK(table.size() == lru.size());
}

TEST_CASE("cache table: eviction skips pinned entries and reports whether a value was lost") {
  models::CacheTable table(2);
  bool evicted = false;
  table.acquire(1, evicted)->in_flight = 1;  // pinned
  table.acquire(2, evicted)->has_value = true;
  models::CacheEntry* e = table.acquire(3, evicted);  // key 1 is older, but pinned: 2 goes
  REQUIRE(e != nullptr);
  CHECK(evicted);
  CHECK(table.find(1) != nullptr);
  CHECK(table.find(2) == nullptr);
  e->in_flight = 1;
  CHECK(table.acquire(4, evicted) == nullptr);  // everything pinned
  table.clear();
  CHECK(table.size() == 0);
  CHECK(table.find(1) == nullptr);
}

TEST_CASE("zipf: P(rank 1) is 1 / H(n, s), within binomial error") {
  // H(100, 1) = 5.18737751763962 (the 100th harmonic number).
  CHECK(models::ZipfSampler::harmonic(100, 1.0) == Approx(5.18737751763962).epsilon(1e-13));
  for (const double s : {1.0, 0.8, 1.5}) {
    INFO("s " << s);
    const std::uint64_t keys = 100;
    const models::ZipfSampler zipf(keys, s);
    const double h = models::ZipfSampler::harmonic(keys, s);
    CHECK(zipf.probability(0) == Approx(1 / h).epsilon(1e-12));
    CHECK(zipf.probability(9) == Approx(std::pow(10.0, -s) / h).epsilon(1e-9));
    // n draws: the count of rank 1 is Binomial(n, p1), standard deviation sqrt(n p1 (1 - p1))
    // (176 draws for s = 1); 5 of them is a false alarm with probability 6e-7. The count of rank
    // 10 likewise.
    const std::uint32_t n = 200'000;
    Rng rng(7);
    std::vector<std::uint32_t> counts(keys);
    for (std::uint32_t i = 0; i < n; ++i) ++counts.at(zipf.sample(rng));
    for (const std::uint64_t k : {0u, 9u}) {
      const double p = zipf.probability(k);
      CHECK(std::abs(counts[k] - n * p) < 5 * std::sqrt(n * p * (1 - p)));
    }
    CHECK(std::is_sorted(counts.begin(), counts.begin() + 3, std::greater<>()));
  }
}

TEST_CASE("zipf: s = 0 is uniform, uniform popularity draws what Rng::below draws") {
  const models::ZipfSampler flat(50, 0.0);
  for (std::uint64_t k = 0; k < 50; ++k) CHECK(flat.probability(k) == Approx(0.02));
  const models::KeyPicker uniform(models::KeyPopularity::Uniform, 1000, 1.0);
  Rng a(3), b(3);
  for (int i = 0; i < 100; ++i) CHECK(uniform.pick(a) == b.below(1000));
  CHECK_THROWS_AS(models::ZipfSampler(models::ZipfSampler::kMaxKeys + 1, 1.0),
                  std::invalid_argument);
  CHECK_THROWS_AS(models::ZipfSampler(10, -1.0), std::invalid_argument);
}

TEST_CASE(
    "cache: zipf clients, a cache and a server allocate nothing per request in steady "
    "state") {
  dsimtest::ModelHarness h(4, at_ms(100), at_ms(4000));
  models::ServerConfig store;
  store.workers = 4;
  store.service_time = Distribution::exponential(1e6);
  h.build<models::Server>("store", 1, store);
  CacheConfig config;
  config.store.name = "store";
  config.ttl = 200_ms;
  config.capacity = 64;  // fewer than the keys: evictions too
  config.coalesce = true;
  config.early_refresh = true;
  config.fetch_timeout = 5_ms;  // some fetches time out
  Cache* cache = h.build<Cache>("cache", 1, config).at(0);
  models::OpenLoopClientConfig client;
  client.rate.per_second = 1000;
  client.call.target.name = "cache";
  client.call.timeout = 20_ms;
  client.mix.keys = 200;
  client.mix.key_popularity = models::KeyPopularity::Zipf;
  const auto clients = h.build<models::OpenLoopClient>("client", 2, client);
  h.cluster.start();
  // Warm-up at twice the load, so that every table (waiting requests, fetches, the clients' calls)
  // has grown beyond the peak the measured interval needs: growing to a new peak is not a
  // per-request allocation, but would make the count depend on luck.
  for (auto* c : clients) c->scale_load(2.0);
  h.sim.run_until(at_ms(1000));
  for (auto* c : clients) c->scale_load(0.5);
  const std::uint64_t before = allocation_count();
  const std::uint64_t events = h.sim.run_until(at_ms(4000));
  CHECK(allocation_count() - before == 0);
  CHECK(events > 25'000);
  for (const char* name :
       {"hits", "misses", "coalesced", "early_refreshes", "evictions", "fetch_failures"}) {
    INFO(name);
    CHECK(dsimtest::figure(*cache, name) > 0);
  }
}
