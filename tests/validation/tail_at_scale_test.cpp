// Scatter/gather against "The Tail at Scale" (Dean and Barroso, CACM 2013), order statistics
// and Burns' per-leaf overhead optimum.
//
// Set-up shared by the tests: a root fans each request out to n leaf servers with workers to
// spare (no queueing) over a zero-latency network, so a root request takes exactly the slowest
// of its n leaf service times (plus the root's merges, where said).
//
// Tolerances: a fraction estimated from N requests has standard deviation sqrt(f (1 - f) / N);
// an empirical q-quantile of N samples of a density g has standard deviation
// sqrt(q (1 - q) / N) / g(x_q). Every check allows 4 standard deviations (fixed seeds: the margin
// is what the sampling error allows, not a retry budget).
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "tests/run_figures.hpp"

namespace {

using dsimtest::figure;

struct Leaf {
  std::string service;  // the leaves' service_time distribution (JSON)
};

scenario::RunResult run(int fanout, const std::string& service, double rate_per_s, double seconds,
                        const std::string& root_extra = "", const std::string& leaf_extra = "",
                        std::uint64_t seed = 5) {
  const std::string text = R"({"name": "tail", "duration": ")" + std::to_string(seconds + 1) +
                           R"(s", "warmup": "1s",
    "components": {
      "leaves": {"model": "server", "count": )" +
                           std::to_string(fanout) + R"(, "workers": 256, "service_time": )" +
                           service + leaf_extra + R"(},
      "root": {"model": "scatter_gather", "target": "leaves", "timeout": "0s")" +
                           root_extra +
                           R"(},
      "clients": {"model": "open_loop_client", "rate": ")" +
                           std::to_string(rate_per_s) +
                           R"(/s", "target": "root", "timeout": "0s"}
    }})";
  const auto file = scenario::load_scenario_text(text, "tail.json");
  return scenario::run_scenario(file.variants.front(), seed);
}

// The share of the succeeded requests slower than `ms`.
double fraction_slower(const scenario::RunResult& r, double ms) {
  const auto& h = r.requests.latency();
  std::uint64_t slow = 0;
  for (const auto& b : h.buckets(h.precision_bits()))
    if (static_cast<double>(b.low_ns) / 1e6 > ms) slow += b.count;
  return static_cast<double>(slow) / static_cast<double>(h.count());
}

const std::string kStraggler1s =
    R"({"dist": "mixture", "parts": [{"weight": 0.99, "dist": "constant", "value": "10ms"},
                                     {"weight": 0.01, "dist": "constant", "value": "1s"}]})";

}  // namespace

TEST_CASE("a leaf slow 1 % of the time makes 1 - 0.99^n of the root requests slow") {
  // The paper: "if a user request must collect responses from 100 such servers in parallel,
  // then 63% of user requests will take more than one second".
  for (const int n : {1, 10, 100}) {
    const auto r = run(n, kStraggler1s, 50, 100);
    const double expected = 1 - std::pow(0.99, n);
    const double requests = static_cast<double>(r.requests.latency().count());
    INFO("fan-out " << n << ": " << fraction_slower(r, 500) << " vs " << expected);
    REQUIRE(requests > 4'500);
    CHECK(std::abs(fraction_slower(r, 500) - expected) <=
          4 * std::sqrt(expected * (1 - expected) / requests));
  }
}

TEST_CASE("one request in 10,000 slow at 2,000 leaves slows almost one in five root requests") {
  // The paper's second example: 1 - (1 - 1e-4)^2000 = 18.1 %.
  const std::string service =
      R"({"dist": "mixture", "parts": [{"weight": 0.9999, "dist": "constant", "value": "10ms"},
                                       {"weight": 0.0001, "dist": "constant", "value": "1s"}]})";
  const auto r = run(2000, service, 20, 60);
  const double expected = 1 - std::pow(1 - 1e-4, 2000);
  const double requests = static_cast<double>(r.requests.latency().count());
  REQUIRE(requests > 1'000);
  CHECK(std::abs(fraction_slower(r, 500) - expected) <=
        4 * std::sqrt(expected * (1 - expected) / requests));
}

TEST_CASE("the root's latency quantiles are the order statistics of the leaves'") {
  // Leaves exponential with mean 1 ms: the root takes the maximum of n, whose CDF is F(x)^n, so
  // its q-quantile is -ln(1 - q^(1/n)) ms and its density there n F^(n-1) f.
  for (const int n : {1, 10, 100}) {
    const auto r = run(n, R"({"dist": "exponential", "mean": "1ms"})", 200, 60);
    const double count = static_cast<double>(r.requests.latency().count());
    REQUIRE(count > 11'000);
    for (const double q : {0.5, 0.99}) {
      const double x = -std::log(1 - std::pow(q, 1.0 / n));  // ms
      const double F = 1 - std::exp(-x);
      const double density = n * std::pow(F, n - 1) * std::exp(-x);
      const double sd = std::sqrt(q * (1 - q) / count) / density;
      const double got = static_cast<double>(r.requests.latency().quantile_ns(q)) / 1e6;
      INFO("n = " << n << ", q = " << q << ": " << got << " vs " << x);
      CHECK(std::abs(got - x) <= 4 * sd + x * 1e-3);  // + the histogram's 0.1 %
    }
  }
}

TEST_CASE("hedging after the p95 costs about 5 % more leaf calls and cuts the p99.9") {
  // Leaves: 1 % stragglers of 200 ms. Hedging a try once it outlives the p95 of recent tries:
  // at the fixed point the hedge delay d is the p95 of the leaf latency itself (a hedged try's
  // survival at d is the unhedged one's), so 5 % of tries are hedged. Sampling: 20,000 tries at
  // sd sqrt(0.05 x 0.95 / 20000) = 0.0015, plus the p95 estimate over a window of 1,000 at about
  // the same again: 4 x sqrt(2) x 0.0015 = 0.0087.
  const std::string service =
      R"({"dist": "mixture", "parts": [{"weight": 0.99, "dist": "exponential", "mean": "1ms"},
                                       {"weight": 0.01, "dist": "constant", "value": "200ms"}]})";
  const std::string hedge =
      R"(, "replicas": 2, "hedge": {"enabled": true, "percentile": 95, "max_extra_load": 0.2})";
  const auto plain = run(10, service, 200, 20, R"(, "replicas": 2)", "", 7);
  const auto hedged = run(10, service, 200, 20, hedge, "", 7);
  const double extra = figure(hedged, "root", "hedge_extra_load");
  CHECK(std::abs(extra - 0.05) <= 0.0087);
  const double p999_plain = static_cast<double>(plain.requests.latency().quantile_ns(0.999)) / 1e6;
  const double p999_hedged =
      static_cast<double>(hedged.requests.latency().quantile_ns(0.999)) / 1e6;
  // Without hedging 1 - 0.99^5 = 4.9 % of the root requests meet a straggler: p99.9 = 200 ms.
  CHECK(p999_plain >= 200);
  // With it a straggling try is overtaken by its hedge a few ms later; only both copies
  // straggling (1e-4 per leaf, 5e-4 per request) stays slow: rarer than the 1e-3 the p99.9 sees.
  CHECK(p999_hedged < 20);
  CHECK(figure(hedged, "root", "hedges_won") > 0.5 * figure(hedged, "root", "hedges"));
}

TEST_CASE("with a merge cost per leaf, latency against the number of leaves has an optimum") {
  // Burns: the work W = 100 ms splits over n leaves (each takes W/n), but the root merges each
  // answer for m = 1 ms, in turn: latency W/n + n m, smallest at n = sqrt(W/m) = 10.
  auto latency_ms = [](int n) {
    const std::string leaf =
        R"({"dist": "constant", "value": ")" + std::to_string(100.0 / n) + R"(ms"})";
    const auto r = run(n, leaf, 5, 10, R"(, "merge_time": {"dist": "constant", "value": "1ms"})");
    return r.requests.latency().mean_ns() / 1e6;
  };
  const double at5 = latency_ms(5), at10 = latency_ms(10), at20 = latency_ms(20);
  CHECK(at5 == Approx(20 + 5).epsilon(1e-6));
  CHECK(at10 == Approx(10 + 10).epsilon(1e-6));
  CHECK(at20 == Approx(5 + 20).epsilon(1e-6));
  CHECK(at10 < at5);
  CHECK(at10 < at20);
}
