// Sharder options beyond routing: per-shard replica counts, per-shard figures, hot-key salting
// (one sub-key or a fan-out with merged outcomes) and migration after a reshard step (moved keys
// unavailable, or served by their old owner, until copied at a rate).
#include <catch2/catch.hpp>

#include <cmath>
#include <numeric>
#include <string>
#include <vector>

#include "models/sharding/key_salting.hpp"
#include "models/sharding/sharder.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "tests/run_figures.hpp"

namespace {

/// `count` server nodes behind a sharder (`sharder`: extra keys) over a zero-latency network;
/// clients at 300/s for 10 s over `keys` uniform keys.
scenario::RunResult run(int count, const std::string& sharder, int keys,
                        const std::string& server_extra = "", const std::string& faults = "[]") {
  const std::string text =
      R"({"name": "so", "duration": "10s", "warmup": "0s",
    "report": {"per_replica": true},
    "components": {
      "shards": {"model": "server", "count": )" +
      std::to_string(count) + R"(, "workers": 8,
                 "service_time": {"dist": "constant", "value": "1ms"})" +
      server_extra + R"(},
      "router": {"model": "sharder", "target": "shards")" +
      (sharder.find("\"timeout\"") == std::string::npos ? R"(, "timeout": "0s")" : "") + sharder +
      R"(},
      "clients": {"model": "open_loop_client", "rate": "300/s", "target": "router",
                  "timeout": "0s", "keys": )" +
      std::to_string(keys) + R"(}
    },
    "faults": )" +
      faults + "}";
  const auto file = scenario::load_scenario_text(text, "so.json");
  return scenario::run_scenario(file.variants.front(), 7);
}

/// Each shard server's `figure`, in node order.
std::vector<double> per_node(const scenario::RunResult& r, const std::string& figure) {
  std::vector<double> out;
  for (const auto& c : r.components)
    if (c.component == "shards")
      for (const auto& replica : c.per_replica)
        for (const auto& f : replica.figures)
          if (f.name == figure) out.push_back(f.value);
  return out;
}

double router(const scenario::RunResult& r, const std::string& figure) {
  return dsimtest::figure(r, "router", figure);
}

std::string shard(const char* figure, std::size_t i) {
  return models::indexed_name(figure, i);
}

bool has_figure(const scenario::RunResult& r, const std::string& name) {
  for (const auto& c : r.components)
    for (const auto& f : c.figures)
      if (c.component == "router" && f.name == name) return true;
  return false;
}

std::uint32_t owner(std::uint64_t key, std::uint32_t shards) {
  return models::Sharder::shard_function(models::SharderConfig{}, shards).shard_of(key);
}

}  // namespace

TEST_CASE("shard_replicas: a listed shard gets its own replica count, the others `replicas`") {
  // 5 nodes: shard 0 = node 0, shard 1 = nodes 1-3, shard 2 = node 4.
  const auto r = run(5, R"(, "shard_replicas": [{"shard": 1, "replicas": 3}])", 60);
  const auto a = per_node(r, "arrivals");
  REQUIRE(a.size() == 5);
  for (const double x : a) CHECK(x > 0);
  const std::vector<double> by_shard = {a[0], a[1] + a[2] + a[3], a[4]};
  for (std::size_t i = 0; i < 3; ++i) {
    INFO("shard " << i);
    CHECK(router(r, shard("shard_replicas", i)) == (i == 1 ? 3 : 1));
    // The rate is the calls over the 10 s measured; each reached a server of its shard.
    CHECK(router(r, shard("shard_rate_per_s", i)) * 10 == Approx(by_shard[i]).margin(8));
  }
  // Within shard 1 the replicas share the load (uniform picks: each ~1/3 of ~1000 calls, far
  // from 0 and from all of it).
  for (std::size_t node = 1; node <= 3; ++node) {
    CHECK(a[node] > 0.2 * by_shard[1]);
    CHECK(a[node] < 0.5 * by_shard[1]);
  }
}

TEST_CASE("shard_replicas that do not add up to the target, or name no shard, are errors") {
  CHECK_THROWS_WITH(run(5, R"(, "shard_replicas": [{"shard": 1, "replicas": 6}])", 10),
                    Catch::Contains("shard_replicas") && Catch::Contains("do not add up"));
  CHECK_THROWS_WITH(
      run(5, R"(, "replicas": 2, "shard_replicas": [{"shard": 0, "replicas": 2}])", 10),
      Catch::Contains("do not add up"));
  CHECK_THROWS_WITH(run(5, R"(, "shard_replicas": [{"shard": 3, "replicas": 3}])", 10),
                    Catch::Contains("shard_replicas/0/shard") && Catch::Contains("make 3 shards"));
  CHECK_THROWS_WITH(run(5, R"(, "shard_replicas": [{"shard": 1, "replicas": 2},
                                                    {"shard": 1, "replicas": 2}])",
                        10),
                    Catch::Contains("shard_replicas/1/shard"));
}

TEST_CASE("per-shard figures: shares add up to 1, latency is the shard's, idle shards have none") {
  // Three shards, two active: shard 2 gets nothing. Constant 1 ms service, no network delay,
  // 8 workers at 150/s per shard (never queueing more than a few): p99 and mean are ~1 ms, to
  // the histogram's 2^-7 resolution.
  const auto r = run(3, R"(, "shards": 2)", 100);
  double shares = 0;
  for (std::size_t i = 0; i < 3; ++i) shares += router(r, shard("shard_share", i));
  CHECK(shares == Approx(1));
  CHECK(router(r, shard("shard_share", 2)) == 0);
  for (std::size_t i = 0; i < 2; ++i) {
    CHECK(router(r, shard("shard_p99_ms", i)) == Approx(1).epsilon(0.01));
    CHECK(router(r, shard("shard_mean_ms", i)) == Approx(1).epsilon(0.01));
  }
  CHECK(std::isnan(router(r, shard("shard_p99_ms", 2))));
  CHECK(std::isnan(router(r, shard("shard_mean_ms", 2))));
  // per_shard false: none of them.
  const auto off = run(3, R"(, "per_shard": false)", 100);
  CHECK_FALSE(has_figure(off, shard("shard_share", 0)));
  CHECK(has_figure(off, "imbalance"));
  CHECK_THROWS_WITH(run(257, "", 10), Catch::Contains("per_shard") && Catch::Contains("256"));
}

TEST_CASE("salting spread over reads: each read goes to one sub-key's shard") {
  // Every request is for key 0, a read, salted 4 ways: the reads land on the owners of the four
  // sub-keys only, and nothing fans out.
  const auto r = run(6, R"(, "salt": [{"key": 0, "ways": 4}], "salt_spread": "reads")", 1);
  std::vector<bool> sub_owner(6, false);
  for (std::uint32_t j = 0; j < 4; ++j) sub_owner[owner(models::salted_key(0, j), 6)] = true;
  const auto a = per_node(r, "arrivals");
  const double total = std::accumulate(a.begin(), a.end(), 0.0);
  for (std::size_t node = 0; node < 6; ++node) {
    INFO("node " << node);
    CHECK((a[node] > 0) == sub_owner[node]);
  }
  CHECK(router(r, "salted_requests") == router(r, "requests"));
  CHECK(router(r, "fanned_out_requests") == 0);
  CHECK(total == Approx(router(r, "requests")).margin(3));  // the last may be in service
}

TEST_CASE("salting spread over writes: a read fans out to every sub-key and needs all of them") {
  // Reads of a key salted 4 ways for writes: each read is 4 calls. With every server failing
  // half of its requests, a read succeeds only if all 4 parts do: 1/16 of them. Over ~3000
  // requests the binomial standard deviation is sqrt(3000 / 16 * 15 / 16) = 13; 5 of them is
  // 66 requests, 2.2 % of the total.
  const auto r = run(6, R"(, "salt": [{"key": 0, "ways": 4}])", 1, R"(, "error_rate": 0.5)");
  const double requests = router(r, "requests");
  REQUIRE(requests > 2800);
  CHECK(router(r, "fanned_out_requests") == requests);
  const auto a = per_node(r, "arrivals");
  CHECK(std::accumulate(a.begin(), a.end(), 0.0) == Approx(4 * requests).margin(12));
  CHECK(router(r, "answered_ok") / requests == Approx(1.0 / 16).margin(0.022));
  CHECK(r.requests.totals().succeeded() == router(r, "answered_ok"));
}

TEST_CASE("salting configuration errors are scenario errors") {
  CHECK_THROWS_WITH(run(3, R"(, "salt": [{"key": 0, "ways": 1}])", 10), Catch::Contains("ways"));
  CHECK_THROWS_WITH(run(3, R"(, "salt": [{"key": 4, "ways": 2}, {"key": 4, "ways": 3}])", 10),
                    Catch::Contains("salt/1/key"));
  CHECK_THROWS_WITH(run(3, R"(, "function": "range", "range_splits": [{"at": 3}, {"at": 6}],
                              "salt": [{"key": 4, "ways": 2}])",
                        10),
                    Catch::Contains("salt"));
}

namespace {

/// Keys 0 .. 99 whose owner differs between 2 and 3 shards (consistent hashing, the default).
double moved_keys() {
  double moved = 0;
  for (std::uint64_t key = 0; key < 100; ++key) moved += owner(key, 2) != owner(key, 3);
  return moved;
}

}  // namespace

TEST_CASE("migration unavailable: a moved key is refused until it is copied") {
  // Keys 0 .. 99 at 300/s (3/s each); the third shard joins at 5 s and the M moved keys are
  // copied at 10 keys/s, the j-th at 5 + j/10 s. A moved key is refused until then: on average
  // 3/s x sum_j j/10 s = 0.15 M (M + 1) requests (Poisson: standard deviation the square root,
  // ~13 for M ~ 33; the check allows 5 of them).
  const double m = moved_keys();
  REQUIRE(m > 10);
  const auto r = run(3, R"(, "shards": 2, "reshard": [{"at": "5s", "shards": 3}], "keys": 100,
                            "migration": "unavailable", "migration_rate": "10/s")",
                     100);
  CHECK(router(r, "keys_to_migrate") == m);
  CHECK(router(r, "migration_end_s") == Approx(5 + m / 10));
  const double expected = 0.15 * m * (m + 1);
  CHECK(router(r, "refused_moving") == Approx(expected).margin(5 * std::sqrt(expected)));
  CHECK(router(r, "served_by_old_owner") == 0);
  CHECK(router(r, "requests_to_new_owner") == 0);  // the data was copied, not missed
  const auto totals = r.requests.totals();
  CHECK(totals.requests - totals.succeeded() == router(r, "refused_moving"));
}

TEST_CASE("migration old_owner: a moved key is served by its old owner until it is copied") {
  const double m = moved_keys();
  const auto r = run(3, R"(, "shards": 2, "reshard": [{"at": "5s", "shards": 3}], "keys": 100,
                            "migration": "old_owner", "migration_rate": "10/s")",
                     100);
  const double expected = 0.15 * m * (m + 1);  // as above
  CHECK(router(r, "served_by_old_owner") == Approx(expected).margin(5 * std::sqrt(expected)));
  CHECK(router(r, "refused_moving") == 0);
  CHECK(r.requests.totals().succeeded() == r.requests.totals().requests);
  // The new shard gets only the keys that have arrived: it served fewer than with an instant
  // switch, by the requests the old owners kept.
  const auto instant = run(3, R"(, "shards": 2, "reshard": [{"at": "5s", "shards": 3}])", 100);
  const double kept = per_node(instant, "arrivals")[2] - per_node(r, "arrivals")[2];
  CHECK(kept == Approx(router(r, "served_by_old_owner")).margin(5 * std::sqrt(expected)));
}

TEST_CASE("migration configuration errors are scenario errors") {
  CHECK_THROWS_WITH(run(3, R"(, "migration": "unavailable")", 10), Catch::Contains("keys"));
  CHECK_THROWS_WITH(run(3, R"(, "migration": "unavailable", "keys": 20000000)", 10),
                    Catch::Contains("1e7"));
  CHECK_THROWS_WITH(run(3, R"(, "migration": "sometimes", "keys": 10)", 10),
                    Catch::Contains("migration"));
}

namespace {

/// Keys 0 .. 99 owned by shard 1 of 4 under consistent hashing.
double keys_of_shard_one() {
  double keys = 0;
  for (std::uint64_t key = 0; key < 100; ++key) keys += owner(key, 4) == 1;
  return keys;
}

}  // namespace

TEST_CASE("ejection: a shard that keeps failing leaves the map for eject_for, its keys move") {
  // Shard 1 (node 1) is down from 3 s to 7 s. After 3 failed calls (100 ms timeouts) it is
  // ejected for 2 s: back at ~5 s, still down, ejected again, back for good after 7 s. Each
  // change of the map moves exactly shard 1's keys under consistent hashing.
  const std::string crash = R"([{"action": "crash", "target": "shards[1]", "at": "3s",
                                 "for": "4s"}])";
  const std::string sharder = R"(, "timeout": "100ms", "keys": 100, "eject_after": 3,
                                  "eject_for": "2s")";
  const auto r = run(4, sharder, 100, "", crash);
  CHECK(router(r, "ejections") == 2);
  const double k = keys_of_shard_one();
  REQUIRE(k > 10);
  CHECK(router(r, "keys_moved") == 4 * k);  // out, back, out, back
  CHECK(router(r, "keys_at_steps") == 4 * 100);
  // Only the calls in flight to shard 1 when it failed were lost: its keys get 75 requests/s, so
  // about 10 per ejection (100 ms of timeouts), against 300 in the 4 s without ejection.
  const auto totals = r.requests.totals();
  const double failed = static_cast<double>(totals.requests - totals.succeeded());
  CHECK(failed > 0);
  CHECK(failed < 60);
  const auto stuck = run(4, R"(, "timeout": "100ms", "keys": 100)", 100, "", crash);
  const auto stuck_totals = stuck.requests.totals();
  CHECK(static_cast<double>(stuck_totals.requests - stuck_totals.succeeded()) > 200);
  CHECK(router(stuck, "ejections") == 0);
  // Modulo renumbers the shards left: far more keys move at each change.
  const auto modulo = run(4, sharder + R"(, "function": "modulo")", 100, "", crash);
  CHECK(router(modulo, "keys_moved") > 2 * router(modulo, "ejections") * 2 * k);
}

TEST_CASE("ejection configuration errors are scenario errors") {
  CHECK_THROWS_WITH(run(3, R"(, "eject_after": 2, "migration": "old_owner", "keys": 10)", 10),
                    Catch::Contains("eject_after"));
  CHECK_THROWS_WITH(run(3, R"(, "eject_after": 2, "function": "range",
                              "range_splits": [{"at": 3}, {"at": 6}])",
                        10),
                    Catch::Contains("eject_after"));
  CHECK_THROWS_WITH(run(3, R"(, "eject_after": 2, "eject_for": "0s")", 10),
                    Catch::Contains("eject_for"));
}
