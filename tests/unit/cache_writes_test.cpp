// Cache writes (models/caching/cache.hpp, "Writes"): a write is never answered from the cache
// nor coalesced, goes to the store, and its answer drops the key's value; fetches that a write's
// answer overtook answer their waiters but store nothing, and later misses do not join them; a
// failed or timed-out write invalidates too. Times follow from the store's fixed delay. And
// hot-key clients with writes, a cache and a server allocate nothing per request.
#include <catch2/catch.hpp>

#include "models/caching/cache.hpp"
#include "models/clients/open_loop_client.hpp"
#include "models/services/server.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"
#include "tests/unit/cache_bench.hpp"

using namespace sim;
using models::Outcome;
using test::cache_config;
using Bench = test::CacheBench;

TEST_CASE("cache: a write goes to the store, is answered by it, and drops the key's value") {
  Bench b(cache_config());
  b.send(at_ms(0), 5, 1);     // miss: fetched, fresh from 20ms until 1020ms
  b.send(at_ms(50), 5, 2);    // hit
  b.write(at_ms(100), 5, 3);  // to the store, answered at 120ms: the value is dropped then
  b.send(at_ms(110), 5, 4);   // the write is in flight: the old value still hits
  b.send(at_ms(200), 5, 5);   // a miss: fetched anew, answered at 220ms
  b.send(at_ms(300), 5, 6);   // a hit again
  b.write(at_ms(400), 6, 7);  // a key never cached: nothing to drop
  b.h.run();
  CHECK(b.answer(3).at == at_ms(120));
  CHECK(b.answer(3).outcome == Outcome::Ok);
  CHECK(b.answer(4).at == at_ms(111));
  CHECK(b.answer(5).at == at_ms(220));
  CHECK(b.answer(6).at == at_ms(301));
  CHECK(b.answer(7).at == at_ms(420));
  REQUIRE(b.store->asked.size() == 4);
  const models::RpcRequest& write = b.store->asked[1].request;
  CHECK(write.operation == models::kOpWrite);
  CHECK(write.key == 5);
  CHECK(write.idempotent == 1);
  CHECK(b.store->asked[2].request.operation == models::kOpRead);
  CHECK(b.figure("requests") == 7);
  CHECK(b.figure("writes") == 2);
  CHECK(b.figure("hits") == 3);
  CHECK(b.figure("misses") == 2);
  CHECK(b.figure("fetches") == 2);  // reads' calls only
  CHECK(b.figure("invalidations") == 1);
  CHECK(b.figure("hit_ratio") == Approx(3.0 / 5.0));  // over the reads
  CHECK(b.cache->fetches_in_flight() == 0);
  CHECK(b.cache->requests_waiting() == 0);
}

TEST_CASE("cache: writes are never coalesced, with each other or with reads") {
  auto config = cache_config();
  config.coalesce = true;
  Bench b(config);
  b.send(at_ms(0), 5, 1);   // a fetch in flight until 20ms
  b.write(at_ms(5), 5, 2);  // does not join it
  b.write(at_ms(6), 5, 3);  // nor the other write
  b.send(at_ms(7), 5, 4);   // a read joins the read's fetch
  b.h.run();
  CHECK(b.store->asked_for(5) == 3);
  CHECK(b.figure("coalesced") == 1);
  CHECK(b.answer(2).at == at_ms(25));
  CHECK(b.answer(3).at == at_ms(26));
  CHECK(b.answer(4).at == at_ms(20));
}

TEST_CASE("cache: a fetch overtaken by a write's answer is not stored, nor joined afterwards") {
  auto config = cache_config();
  config.coalesce = true;
  Bench b(config);
  b.write(at_ms(0), 5, 1);  // answered at 20ms
  b.send(at_ms(10), 5, 2);  // miss: a fetch until 30ms that may read the value before the write
  b.send(at_ms(15), 5, 3);  // joins it: both overlapped the write
  b.send(at_ms(25), 5, 4);  // after the write's answer: does not join the old fetch
  b.send(at_ms(40), 5, 5);  // joins the fetch of 25ms (until 45ms)
  b.send(at_ms(50), 5, 6);  // a hit: the fetch of 25ms was stored, the one of 10ms was not
  b.h.run();
  CHECK(b.answer(1).at == at_ms(20));
  CHECK(b.answer(2).at == at_ms(30));
  CHECK(b.answer(2).outcome == Outcome::Ok);
  CHECK(b.answer(3).at == at_ms(30));
  CHECK(b.answer(4).at == at_ms(45));
  CHECK(b.answer(5).at == at_ms(45));
  CHECK(b.answer(6).at == at_ms(51));
  CHECK(b.figure("fills_discarded") == 1);
  CHECK(b.figure("coalesced") == 2);
  CHECK(b.figure("invalidations") == 0);  // no value was cached when the write was answered
  CHECK(b.store->asked_for(5) == 3);
}

TEST_CASE("cache: a write that times out is an Error to the writer and still invalidates") {
  auto config = cache_config();
  config.fetch_timeout = 50_ms;
  Bench b(config);
  b.store->answer_first = 1;  // the first fetch only
  b.send(at_ms(0), 5, 1);     // cached at 20ms
  b.write(at_ms(100), 5, 2);  // never answered: Error at 150ms (it may have taken effect)
  b.send(at_ms(120), 5, 3);   // a hit meanwhile
  b.send(at_ms(200), 5, 4);   // a miss: the value was dropped (this fetch times out too)
  b.h.run();
  CHECK(b.answer(2).outcome == Outcome::Error);
  CHECK(b.answer(2).at == at_ms(150));
  CHECK(b.answer(3).at == at_ms(121));
  CHECK(b.answer(4).outcome == Outcome::Error);
  CHECK(b.figure("invalidations") == 1);
  CHECK(b.figure("hits") == 1);
  CHECK(b.figure("misses") == 2);
  CHECK(b.figure("fetch_failures") == 1);  // the read's; the write is not a fetch
}

TEST_CASE("cache: hot-key clients with writes allocate nothing per request in steady state") {
  dsimtest::ModelHarness h(4, at_ms(100), at_ms(4000));
  models::ServerConfig store;
  store.workers = 4;
  store.service_time = Distribution::exponential(1e6);
  h.build<models::Server>("store", 1, store);
  models::CacheConfig config;
  config.store.name = "store";
  config.ttl = 200_ms;
  config.capacity = 64;  // fewer than the keys: evictions too
  config.coalesce = true;
  config.fetch_timeout = 5_ms;  // some fetches and writes time out
  models::Cache* cache = h.build<models::Cache>("cache", 1, config).at(0);
  models::OpenLoopClientConfig client;
  client.rate.per_second = 1000;
  client.call.target.name = "cache";
  client.call.timeout = 20_ms;
  client.mix.keys = 200;
  client.mix.key_popularity = models::KeyPopularity::HotKeys;
  client.mix.hot_keys = {{5, 0.3}, {150, 0.1}};
  client.mix.write_fraction.value = 0.1;
  const auto clients = h.build<models::OpenLoopClient>("client", 2, client);
  h.cluster.start();
  // Warm-up at twice the load, so that the tables have grown beyond the measured peak.
  for (auto* c : clients) c->scale_load(2.0);
  h.sim.run_until(at_ms(1000));
  for (auto* c : clients) c->scale_load(0.5);
  const std::uint64_t before = allocation_count();
  const std::uint64_t events = h.sim.run_until(at_ms(4000));
  CHECK(allocation_count() - before == 0);
  CHECK(events > 25'000);
  for (const char* name : {"hits", "misses", "writes", "invalidations", "evictions"}) {
    INFO(name);
    CHECK(dsimtest::figure(*cache, name) > 0);
  }
}
