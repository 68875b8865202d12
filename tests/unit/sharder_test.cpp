// Sharder mechanics, through the scenario loader over a zero-latency network: each key reaches
// only its shard's replicas, the load figures agree with what the shard servers counted, the
// outcome goes upstream as a relay's, and the configuration is checked.
#include <catch2/catch.hpp>

#include <algorithm>
#include <numeric>
#include <string>
#include <utility>
#include <vector>

#include "models/sharding/sharder.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "scenario/scenario_error.hpp"

namespace {

scenario::RunResult run(const std::string& sharder, const std::string& client_extra,
                        const std::string& server_extra = "") {
  const std::string text = R"({"name": "sh", "duration": "10s", "warmup": "0s",
    "report": {"per_replica": true},
    "components": {
      "shards": {"model": "server", "count": 6, "workers": 8,
                 "service_time": {"dist": "constant", "value": "1ms"})" +
                           server_extra + R"(},
      "router": {"model": "sharder", "target": "shards", "replicas": 2, "timeout": "0s")" +
                           sharder + R"(},
      "clients": {"model": "open_loop_client", "rate": "300/s", "target": "router",
                  "timeout": "0s")" +
                           client_extra + R"(}
    }})";
  const auto file = scenario::load_scenario_text(text, "sh.json");
  return scenario::run_scenario(file.variants.front(), 11);
}

const scenario::ComponentFigures& component(const scenario::RunResult& r, const std::string& name) {
  for (const auto& c : r.components)
    if (c.component == name) return c;
  FAIL("no component " << name);
  return r.components.front();
}

double value(const std::vector<models::Figure>& figures, const std::string& name) {
  for (const auto& f : figures)
    if (f.name == name) return f.value;
  FAIL("no figure " << name);
  return 0;
}

/// Each shard server's arrivals, in node order.
std::vector<double> arrivals(const scenario::RunResult& r) {
  std::vector<double> out;
  for (const auto& replica : component(r, "shards").per_replica)
    out.push_back(value(replica.figures, "arrivals"));
  return out;
}

}  // namespace

TEST_CASE("a key goes to its shard's replicas only") {
  // One key (0): its owner under each function, from the shared part, gets everything, spread
  // over both of its replicas; the other shards get nothing.
  for (const std::string function : {"modulo", "consistent_hash", "rendezvous", "jump"}) {
    INFO(function);
    const auto r = run(R"(, "function": ")" + function + R"(")", R"(, "keys": 1)");
    models::SharderConfig config;
    config.function = function == "modulo"            ? models::ShardFunctionKind::Modulo
                      : function == "consistent_hash" ? models::ShardFunctionKind::ConsistentHash
                      : function == "rendezvous"      ? models::ShardFunctionKind::Rendezvous
                                                      : models::ShardFunctionKind::Jump;
    const std::uint32_t owner = models::Sharder::shard_function(config, 3).shard_of(0);
    const auto a = arrivals(r);
    REQUIRE(a.size() == 6);
    for (std::uint32_t node = 0; node < 6; ++node) {
      INFO("node " << node << " of shard " << node / 2 << ", owner " << owner);
      if (node / 2 == owner) {
        CHECK(a[node] > 500);  // ~1500 each of 3000
      } else {
        CHECK(a[node] == 0);
      }
    }
    CHECK(value(component(r, "router").figures, "max_shard_share") == 1);
    CHECK(value(component(r, "router").figures, "min_shard_share") == 0);
    CHECK(value(component(r, "router").figures, "imbalance") == 3);
  }
}

TEST_CASE("range: keys below the first split on shard 0, the rest by their ranges") {
  // Keys 0 .. 29 uniformly; splits 10 and 25: shard 0 gets keys 0-9, shard 1 10-24, shard 2
  // 25-29, and each request reaches one of its shard's two replicas.
  const auto r =
      run(R"(, "function": "range", "range_splits": [{"at": 10}, {"at": 25}])", R"(, "keys": 30)");
  const auto a = arrivals(r);
  REQUIRE(a.size() == 6);
  const double total = std::accumulate(a.begin(), a.end(), 0.0);
  const std::vector<double> shard = {a[0] + a[1], a[2] + a[3], a[4] + a[5]};
  for (const double x : a) CHECK(x > 0);
  // The figures are the shards' shares of what the router routed, which the servers received.
  const auto& router = component(r, "router").figures;
  CHECK(value(router, "requests") == total);
  CHECK(value(router, "max_shard_share") ==
        Approx(*std::max_element(shard.begin(), shard.end()) / total));
  CHECK(value(router, "min_shard_share") ==
        Approx(*std::min_element(shard.begin(), shard.end()) / total));
  CHECK(value(router, "imbalance") ==
        Approx(*std::max_element(shard.begin(), shard.end()) / (total / 3)));
  // Shard 1 holds half the keys, shard 2 a sixth: the largest and smallest shares.
  CHECK(shard[1] > shard[0]);
  CHECK(shard[0] > shard[2]);
  // Every completed request was answered Ok at once (zero latency); the last ones were still in
  // service when the run ended.
  double completed = 0;
  for (const auto& replica : component(r, "shards").per_replica)
    completed += value(replica.figures, "completed");
  CHECK(value(router, "answered_ok") == completed);
}

TEST_CASE("the shard's failure goes upstream as a relay's: Error") {
  const auto r = run("", R"(, "keys": 100)", R"(, "error_rate": 1)");
  CHECK(r.requests.totals().requests > 2000);
  CHECK(r.requests.totals().succeeded() == 0);
  const auto& router = component(r, "router").figures;
  double completed = 0;
  for (const auto& replica : component(r, "shards").per_replica)
    completed += value(replica.figures, "completed");
  CHECK(value(router, "answered_failed") == completed);
  CHECK(value(router, "answered_ok") == 0);
}

namespace {

// Loads and runs 4 server shards behind a sharder configured with `sharder` (extra keys).
scenario::RunResult load_four_shards(const std::string& sharder) {
  const std::string text = R"({"name": "sh", "duration": "1s",
    "components": {
      "shards": {"model": "server", "count": 4},
      "router": {"model": "sharder", "target": "shards")" +
                           sharder + R"(},
      "clients": {"model": "open_loop_client", "rate": "10/s", "target": "router"}}})";
  const auto file = scenario::load_scenario_text(text, "sh.json");
  return scenario::run_scenario(file.variants.front(), 1);
}

}  // namespace

TEST_CASE("sharder configuration errors are scenario errors") {
  using scenario::ScenarioError;
  CHECK_THROWS_AS(load_four_shards(R"(, "function": "range")"), ScenarioError);  // no splits
  CHECK_THROWS_AS(load_four_shards(R"(, "function": "range", "range_splits": [{"at": 5}, {"at": 5},
                                                                             {"at": 6}])"),
                  ScenarioError);
  CHECK_THROWS_AS(load_four_shards(R"(, "range_splits": [{"at": 5}])"), ScenarioError);
  CHECK_NOTHROW(load_four_shards(
      R"(, "function": "range", "range_splits": [{"at": 5}, {"at": 6}, {"at": 7}])"));
}

TEST_CASE("a sharder that does not fit its target's nodes is refused at load, field by field") {
  // Each needs the target's node count, so the loader asks the model once the wiring is known;
  // a throw from the run instead would be an internal error (exit 1).
  const auto error_of = [](const std::string& sharder) -> std::string {
    try {
      load_four_shards(sharder);
    } catch (const scenario::ScenarioError& e) {
      return e.what();
    }
    return "";
  };
  CHECK_THAT(error_of(R"(, "replicas": 3)"),
             Catch::Contains("/components/router/replicas: expected a divisor of the 4 nodes "
                             "of 'shards', got 3"));
  CHECK_THAT(error_of(R"(, "function": "range", "range_splits": [{"at": 5}])"),
             Catch::Contains("/components/router/range_splits: expected one split point fewer "
                             "than the shards (the 4 nodes of 'shards' make 4 shards), got 1"));
  CHECK_THAT(error_of(R"(, "shards": 5)"),
             Catch::Contains("/components/router/shards: expected at most 4 shards"));
  CHECK_THAT(error_of(R"(, "reshard": [{"at": "1s", "shards": 6}])"),
             Catch::Contains("/components/router/reshard/0/shards: expected at most 4 shards"));
}

namespace {

/// Three shards of one server each, two active at the start; uniform keys 0 .. 99 at 300/s, so
/// every key is routed many times before and after a step.
scenario::RunResult run_resharding(const std::string& sharder, const std::string& faults = "[]") {
  const std::string text = R"({"name": "rs", "duration": "10s", "warmup": "0s",
    "report": {"per_replica": true},
    "components": {
      "shards": {"model": "server", "count": 3, "workers": 8,
                 "service_time": {"dist": "constant", "value": "1ms"}},
      "router": {"model": "sharder", "target": "shards", "timeout": "0s", "keys": 100)" +
                           sharder + R"(},
      "clients": {"model": "open_loop_client", "rate": "300/s", "target": "router",
                  "timeout": "0s", "keys": 100}
    },
    "faults": )" + faults + "}";
  const auto file = scenario::load_scenario_text(text, "rs.json");
  return scenario::run_scenario(file.variants.front(), 5);
}

/// Keys 0 .. 99 whose owner differs between `from` and `to` shards under `function`.
double moved_keys(models::ShardFunctionKind function, std::uint32_t from, std::uint32_t to) {
  models::SharderConfig config;
  config.function = function;
  const auto a = models::Sharder::shard_function(config, from);
  const auto b = models::Sharder::shard_function(config, to);
  double moved = 0;
  for (std::uint64_t key = 0; key < 100; ++key) moved += a.shard_of(key) != b.shard_of(key);
  return moved;
}

}  // namespace

TEST_CASE("resharding: a step activates a shard and counts the keys that moved") {
  for (const auto& [name, kind] :
       {std::pair{"modulo", models::ShardFunctionKind::Modulo},
        std::pair{"consistent_hash", models::ShardFunctionKind::ConsistentHash},
        std::pair{"jump", models::ShardFunctionKind::Jump}}) {
    INFO(name);
    const auto r = run_resharding(std::string(R"(, "function": ")") + name +
                                  R"(", "shards": 2, "reshard": [{"at": "5s", "shards": 3}])");
    const auto a = arrivals(r);
    REQUIRE(a.size() == 3);
    CHECK(a[0] > 0);
    CHECK(a[1] > 0);
    CHECK(a[2] > 0);  // active from 5 s on
    const auto& router = component(r, "router").figures;
    // ~1500 requests over 100 keys before the step: every key was routed (the chance that one
    // was not is 100 (1 - 1/100)^1500 < 1e-4), and after it every moved key is asked again.
    const double expected = moved_keys(kind, 2, 3);
    CHECK(expected > 0);
    CHECK(value(router, "keys_at_steps") == 100);
    CHECK(value(router, "keys_moved") == expected);
    CHECK(value(router, "requests_to_new_owner") == expected);
  }
}

TEST_CASE("resharding: shards beyond the active count get no requests") {
  const auto never = run_resharding(R"(, "shards": 2)");
  CHECK(arrivals(never)[2] == 0);
  CHECK(value(component(never, "router").figures, "keys_at_steps") == 0);
  CHECK(value(component(never, "router").figures, "requests_to_new_owner") == 0);
  // Scaling in from 3 to 1 at 5 s: everything goes to shard 0 from then on, and the keys of
  // shards 1 and 2 moved (to shard 0).
  const auto in = run_resharding(R"(, "function": "jump", "reshard": [{"at": "5s", "shards": 1}])");
  const auto& router = component(in, "router").figures;
  const double moved = moved_keys(models::ShardFunctionKind::Jump, 3, 1);
  CHECK(value(router, "keys_moved") == moved);
  CHECK(value(router, "requests_to_new_owner") == moved);
  const auto a = arrivals(in);
  CHECK(a[0] > a[1] + a[2]);  // shards 1 and 2 served only the first half
}

TEST_CASE("resharding: without `keys` nothing is tracked, keys beyond it are not counted") {
  const auto r =
      run_resharding(R"(, "keys": 0, "shards": 2, "reshard": [{"at": "5s", "shards": 3}])");
  CHECK(arrivals(r)[2] > 0);
  const auto& router = component(r, "router").figures;
  CHECK(value(router, "keys_at_steps") == 0);
  CHECK(value(router, "keys_moved") == 0);
  CHECK(value(router, "requests_to_new_owner") == 0);
  const auto half = run_resharding(
      R"(, "keys": 50, "function": "modulo", "shards": 2, "reshard": [{"at": "5s", "shards": 3}])");
  CHECK(value(component(half, "router").figures, "keys_at_steps") == 50);
}

TEST_CASE("resharding: after a restart the step in force applies, and the key table survives") {
  // The router is down from 3 s to 7 s, across the step at 5 s: it restarts over 3 shards, and
  // the keys it routed before the crash are compared at the step it applies on restart.
  const auto r = run_resharding(R"(, "function": "modulo", "shards": 2,
                                    "reshard": [{"at": "5s", "shards": 3}])",
                                R"([{"action": "crash", "target": "router", "at": "3s",
                                     "for": "4s"}])");
  CHECK(arrivals(r)[2] > 0);
  const auto& router = component(r, "router").figures;
  const double expected = moved_keys(models::ShardFunctionKind::Modulo, 2, 3);
  CHECK(value(router, "keys_at_steps") == 100);
  CHECK(value(router, "keys_moved") == expected);
  CHECK(value(router, "requests_to_new_owner") == expected);
}

TEST_CASE("resharding configuration errors are scenario errors") {
  CHECK_THROWS(load_four_shards(R"(, "shards": 5)"));                             // only 4
  CHECK_THROWS(load_four_shards(R"(, "reshard": [{"at": "1s", "shards": 5}])"));  // only 4
  CHECK_THROWS(load_four_shards(R"(, "reshard": [{"at": "1s", "shards": 0}])"));  // at least 1
  CHECK_THROWS(load_four_shards(R"(, "replicas": 2, "shards": 3)"));              // 2 shards of 2
  CHECK_THROWS(
      load_four_shards(R"(, "reshard": [{"at": "2s", "shards": 2}, {"at": "1s", "shards": 3}])"));
  CHECK_THROWS(
      load_four_shards(R"(, "function": "range", "range_splits": [{"at": 5}, {"at": 6}, {"at": 7}],
                        "reshard": [{"at": "1s", "shards": 3}])"));
  CHECK_THROWS(load_four_shards(R"(, "keys": -1)"));
  CHECK_NOTHROW(
      load_four_shards(R"(, "shards": 2, "keys": 10, "reshard": [{"at": "0s", "shards": 3},
                         {"at": "0.5s", "shards": 4}])"));
}
