// Scatter/gather and hedging mechanics, with constant service times over a zero-latency network
// so that every latency is exact: fan-out, the three gather modes, merges, partial answers,
// hedge timing and who wins, the extra-load budget, tied requests and their cancellation.
#include <catch2/catch.hpp>

#include <string>

#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "tests/run_figures.hpp"

namespace {

using dsimtest::figure;

scenario::RunResult run(const std::string& components, const std::string& faults = "[]") {
  const std::string text = R"({"name": "sg", "duration": "10s", "warmup": "0s",
    "components": {)" + components +
                           R"(}, "faults": )" + faults + "}";
  const auto file = scenario::load_scenario_text(text, "sg.json");
  return scenario::run_scenario(file.variants.front(), 3);
}

double ms(std::int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

// Three leaves taking 10, 20 and 30 ms (a 10 ms service slowed x1, x2, x3); one request a second.
const std::string kLeaves = R"(
  "leaves": {"model": "server", "count": 3, "workers": 8,
             "service_time": {"dist": "constant", "value": "10ms"}},
  "clients": {"model": "open_loop_client", "rate": "1/s", "arrivals": "constant",
              "target": "root", "timeout": "0s"},)";
const std::string kSlowdowns = R"([
  {"action": "slow", "target": "leaves[1]", "at": "0s", "factor": 2},
  {"action": "slow", "target": "leaves[2]", "at": "0s", "factor": 3}])";

}  // namespace

TEST_CASE("gather all: the slowest leaf sets the latency, merges add up in turn") {
  auto r = run(kLeaves + R"("root": {"model": "scatter_gather", "target": "leaves"})", kSlowdowns);
  REQUIRE(r.requests.totals().requests >= 9);
  CHECK(r.requests.totals().succeeded() == r.requests.totals().requests);
  CHECK(ms(r.requests.latency().min_ns()) == 30);
  CHECK(ms(r.requests.latency().max_ns()) == 30);
  CHECK(figure(r, "root", "mean_completeness") == 1);
  CHECK(figure(r, "root", "leaf_calls") == 3 * figure(r, "root", "requests"));
  // Answers at 10, 20, 30 ms, each merged for 1 ms: done at 31 ms.
  r = run(kLeaves + R"("root": {"model": "scatter_gather", "target": "leaves",
                                "merge_time": {"dist": "constant", "value": "1ms"}})",
          kSlowdowns);
  CHECK(ms(r.requests.latency().max_ns()) == 31);
}

TEST_CASE("gather quorum: good enough without the slowest leaf") {
  const auto r = run(kLeaves + R"("root": {"model": "scatter_gather", "target": "leaves",
                                           "gather": "quorum", "quorum": 2})",
                     kSlowdowns);
  CHECK(ms(r.requests.latency().max_ns()) == 20);
  CHECK(figure(r, "root", "mean_completeness") == Approx(2.0 / 3));
  CHECK(figure(r, "root", "incomplete_answers") == figure(r, "root", "answered_ok"));
  CHECK(figure(r, "root", "late_leaf_results") > 0);  // the 30 ms leaf, after the answer
}

TEST_CASE("gather deadline: a partial answer at the gather timeout") {
  const auto r = run(kLeaves + R"("root": {"model": "scatter_gather", "target": "leaves",
                                           "gather": "deadline", "gather_timeout": "15ms"})",
                     kSlowdowns);
  CHECK(r.requests.totals().succeeded() == r.requests.totals().requests);
  CHECK(ms(r.requests.latency().max_ns()) == 15);
  CHECK(figure(r, "root", "mean_completeness") == Approx(1.0 / 3));
}

TEST_CASE("gather all with a gather timeout fails with Timeout, a refused validation first") {
  const auto r = run(kLeaves + R"("root": {"model": "scatter_gather", "target": "leaves",
                                           "gather_timeout": "15ms"})",
                     kSlowdowns);
  CHECK(r.requests.totals().succeeded() == 0);
  const auto timeout = static_cast<std::size_t>(models::Outcome::Timeout);
  CHECK(r.requests.totals().by_outcome[timeout] == r.requests.totals().requests);
  CHECK_THROWS(run(kLeaves + R"("root": {"model": "scatter_gather", "target": "leaves",
                                         "gather": "deadline"})"));
}

TEST_CASE("a fan-out smaller than the shards picks that many distinct shards") {
  const auto r = run(kLeaves + R"("root": {"model": "scatter_gather", "target": "leaves",
                                           "fanout": 2})");
  CHECK(figure(r, "root", "leaf_calls") == 2 * figure(r, "root", "requests"));
  CHECK(figure(r, "leaves", "arrivals") == figure(r, "root", "leaf_calls"));
}

TEST_CASE("a hedge goes after its delay to the other replica, and the first answer wins") {
  // Two replicas of one shard: replica 0 takes 100 ms, replica 1 10 ms; hedge after 20 ms. A try
  // that went to the fast one ends at 10 ms unhedged; one that went to the slow one is hedged at
  // 20 ms to the fast one, which answers at 30 ms. Never 100 ms.
  const std::string components = R"(
    "api": {"model": "server", "count": 2, "workers": 8,
            "service_time": {"dist": "constant", "value": "10ms"}},
    "clients": {"model": "open_loop_client", "rate": "20/s", "target": "api", "timeout": "1s",
                "hedge": {"enabled": true, "delay": "20ms", "max_extra_load": 1}})";
  const auto r = run(components, R"([{"action": "slow", "target": "api[0]", "at": "0s",
                                      "factor": 10}])");
  const auto& h = r.requests.latency();
  CHECK(ms(h.min_ns()) == 10);
  CHECK(ms(h.max_ns()) == 30);
  const double hedges = figure(r, "clients", "hedges");
  CHECK(hedges > 50);
  CHECK(figure(r, "clients", "hedges_won") == hedges);
  // Hedges are a random half of the tries (the first replica is drawn uniformly).
  const double tries = figure(r, "clients", "attempts") - hedges;
  CHECK(figure(r, "clients", "hedge_extra_load") == Approx(hedges / tries));
  CHECK(std::abs(hedges / tries - 0.5) < 4 * std::sqrt(0.25 / tries));
}

TEST_CASE("the extra-load budget caps the hedges") {
  const std::string components = R"(
    "api": {"model": "server", "count": 2, "workers": 8,
            "service_time": {"dist": "constant", "value": "10ms"}},
    "clients": {"model": "open_loop_client", "rate": "50/s", "target": "api", "timeout": "1s",
                "hedge": {"enabled": true, "delay": "5ms", "max_extra_load": 0.1}})";
  const auto r = run(components);  // every try outlives 5 ms: all would hedge
  const double hedges = figure(r, "clients", "hedges");
  const double tries = figure(r, "clients", "attempts") - hedges;
  CHECK(hedges <= 0.1 * tries + 1);
  CHECK(hedges >= 0.1 * tries - 1);
  CHECK(figure(r, "clients", "hedges_denied_by_budget") == Approx(tries - hedges).margin(1));
}

TEST_CASE("tied requests: the copy that starts first cancels the queued one") {
  // Two single-worker replicas kept half busy by background traffic: a tied copy often waits
  // in one queue while the other replica starts its twin at once; that twin's RpcStarted makes
  // the caller cancel the waiting copy, which its server removes unserved.
  const std::string components = R"(
    "api": {"model": "server", "count": 2, "workers": 1,
            "service_time": {"dist": "constant", "value": "10ms"}},
    "hog": {"model": "open_loop_client", "rate": "100/s", "target": "api", "timeout": "0s"},
    "clients": {"model": "open_loop_client", "rate": "5/s", "target": "api", "timeout": "1s",
                "hedge": {"enabled": true, "tied": true, "max_extra_load": 1}})";
  const auto r = run(components);
  CHECK(figure(r, "clients", "hedges") > 0);
  CHECK(figure(r, "clients", "cancels_sent") > 0);
  CHECK(figure(r, "api", "cancelled") > 0);
  CHECK(figure(r, "api", "cancelled") <= figure(r, "clients", "cancels_sent"));
}

TEST_CASE("tied requests need targets that serve cancel") {
  CHECK_THROWS_WITH(run(R"("c": {"model": "cache", "store": "api"}, "api": {"model": "server"},
             "clients": {"model": "open_loop_client", "target": "c",
                         "hedge": {"enabled": true, "tied": true}})"),
                    Catch::Contains("does not serve cancel"));
}

TEST_CASE("a two-level tree by composition: root, mid-tier roots, leaves") {
  // 2 mid-tier roots each fan out to the 6 leaves as 3 shards of 2 (fanout 3 = all); the root
  // fans out to both mid-tier roots. Leaves take 10 ms: every request takes 10 ms, and each
  // reaches 2 x 3 = 6 leaf calls.
  const auto r = run(R"(
    "leaves": {"model": "server", "count": 6, "workers": 8,
               "service_time": {"dist": "constant", "value": "10ms"}},
    "mid": {"model": "scatter_gather", "count": 2, "target": "leaves", "replicas": 2},
    "root": {"model": "scatter_gather", "target": "mid"},
    "clients": {"model": "open_loop_client", "rate": "5/s", "target": "root", "timeout": "0s"})");
  REQUIRE(r.requests.totals().requests > 40);
  CHECK(r.requests.totals().succeeded() == r.requests.totals().requests);
  CHECK(ms(r.requests.latency().max_ns()) == 10);
  CHECK(figure(r, "root", "leaf_calls") == 2 * figure(r, "root", "requests"));
  CHECK(figure(r, "mid", "leaf_calls") == 6 * figure(r, "root", "requests"));
  CHECK(figure(r, "leaves", "arrivals") == figure(r, "mid", "leaf_calls"));
}
