// The TTL cache's hit ratio against renewal theory.
//
// Set-up: open-loop Poisson clients at total rate R, keys uniform over K keys, so each key sees
// an independent Poisson stream of rate lambda = R / K (thinning). The cache (infinite capacity:
// capacity >= K, coalescing on) fetches a missing key from a store that answers after exactly d
// (constant service, enough workers that fetches never queue, zero network latency), and keeps
// it for T.
//
// Derivation. Follow one key. A cycle starts with a miss at t0 (the first request after the value
// expired). Its fetch returns at t0 + d; the value is fresh until t0 + d + T. Requests in
// (t0, t0 + d) are misses too (coalesced onto the fetch), requests in (t0 + d, t0 + d + T) are
// hits, and the first request after t0 + d + T starts the next cycle (memoryless arrivals, so it
// comes Exp(lambda) later). Per cycle, then,
//   X = hits   ~ Poisson(lambda T),
//   Z = misses = 1 + Poisson(lambda d),   independent of X (disjoint intervals),
// and the cycles are i.i.d. By the renewal-reward theorem the long-run hit ratio is
//   r = E[X] / E[X + Z] = lambda T / (1 + lambda T + lambda d),
// which for d -> 0 is the classic lambda T / (1 + lambda T) of a TTL cache that refreshes on a
// miss. (Under stationarity, the expected hits in any window are exactly r times the expected
// requests, so measuring after a warm-up adds no bias beyond the ratio estimator's O(1/n).)
//
// Tolerance. The estimate r^ = sum X / sum Y (Y = X + Z) over n cycles has, by the delta method,
//   Var(r^) = Var(X - r Y) / (n E[Y]^2) = ((1 - r)^2 lambda T + r^2 lambda d) / (n E[Y]^2),
// with n E[Y] = N, the requests measured (cycles of different keys are independent too). We
// allow 5 standard errors (a false alarm with probability 6e-7). With ~10^5 requests the
// standard error is 0.1-0.2 % of r, so forgetting d (r = 0.750 instead of 0.732 in the first
// case, ~20 standard errors) or counting the coalesced waiters as hits would fail.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/caching/cache.hpp"
#include "models/clients/open_loop_client.hpp"
#include "models/services/server.hpp"
#include "tests/model_harness.hpp"

using namespace sim;

namespace {

struct Case {
  double rate;  // R, per second, over all keys
  std::int64_t keys;
  Duration ttl, fetch;
};

}  // namespace

TEST_CASE("cache: the hit ratio of a TTL cache matches lambda T / (1 + lambda T + lambda d)") {
  for (const Case c :
       {Case{500, 50, 300_ms, 10_ms}, Case{500, 50, 50_ms, 10_ms}, Case{2000, 20, 20_ms, 2_ms}}) {
    const double lambda = c.rate / static_cast<double>(c.keys);
    const double lt = lambda * c.ttl.seconds(), ld = lambda * c.fetch.seconds();
    const double r = lt / (1 + lt + ld);
    INFO("lambda T " << lt << ", lambda d " << ld << ", theory " << r);

    dsimtest::ModelHarness h(11, Time::zero() + 5_s, Time::zero() + 205_s);
    models::ServerConfig store;
    store.workers = 1000;  // never queues: every fetch takes exactly d
    store.service_time = Distribution::constant(static_cast<double>(c.fetch.ns()));
    h.build<models::Server>("store", 1, store);
    models::CacheConfig cache;
    cache.store.name = "store";
    cache.ttl = c.ttl;
    cache.coalesce = true;
    cache.capacity = c.keys;  // every key fits: no evictions
    models::Cache* model = h.build<models::Cache>("cache", 1, cache).at(0);
    models::OpenLoopClientConfig client;
    client.rate.per_second = c.rate;
    client.call.target.name = "cache";
    client.call.timeout = Duration::zero();
    client.mix.keys = c.keys;
    h.build<models::OpenLoopClient>("client", 1, client);
    h.run();

    const double requests = dsimtest::figure(*model, "requests");
    const double measured = dsimtest::figure(*model, "hit_ratio");
    const double var_cycle = (1 - r) * (1 - r) * lt + r * r * ld;
    const double mean_cycle = 1 + lt + ld;
    const double se = std::sqrt(var_cycle / (requests * mean_cycle));
    INFO("measured " << measured << " over " << requests << " requests, SE " << se);
    CHECK(requests > 90'000);
    CHECK(std::abs(measured - r) < 5 * se);
    CHECK(dsimtest::figure(*model, "evictions") == 0);
    CHECK(dsimtest::figure(*model, "max_concurrent_fetches_per_key") == 1);
    // Every miss but the cycle's first joined a fetch: fetches = misses - coalesced.
    CHECK(dsimtest::figure(*model, "fetches") ==
          dsimtest::figure(*model, "misses") - dsimtest::figure(*model, "coalesced"));
  }
}
