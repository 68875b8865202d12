// The fault proxy against probability: independent aborts with probability p leave an
// availability of 1 - p, and a caller that tries k times sees 1 - p^k with 1 + p + ... + p^(k-1)
// attempts per request; a delay of d with probability q adds q d to the mean latency.
//
// Tolerances: with N requests the sampling standard deviation of a proportion a is
// sqrt(a (1 - a) / N), of a mean attempts count sqrt(Var X / N), of a mean latency
// sqrt(d^2 q (1 - q) / N); every check allows 4 of them (a false alarm about once in 16,000
// runs of this fixed seed, i.e. never: the seed is fixed, the margin is what theory allows).
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "scenario/run.hpp"
#include "scenario/scenario.hpp"

namespace {

scenario::RunResult run(const std::string& proxy, int attempts) {
  // 1000 requests/s for 20 s; the server has workers to spare (2 ms each, no queueing).
  const std::string text = R"({
    "name": "faults", "duration": "21s", "warmup": "1s",
    "components": {
      "db": {"model": "server", "workers": 64, "service_time": {"dist": "constant", "value": "2ms"}},
      "proxy": {"model": "fault_proxy", "target": "db", )" +
                           proxy + R"(},
      "client": {"model": "open_loop_client", "rate": "1000/s", "target": "proxy",
                 "timeout": "1s", "retry": {"max_attempts": )" +
                           std::to_string(attempts) + R"(}}
    }
  })";
  const auto file = scenario::load_scenario_text(text, "faults.json");
  return scenario::run_scenario(file.variants.front(), 11);
}

}  // namespace

TEST_CASE("independent aborts: availability 1 - p^k and 1 + p + p^2 attempts for k = 3") {
  const double p = 0.2;
  for (const int k : {1, 3}) {
    const scenario::RunResult r = run(R"("abort_probability": 0.2)", k);
    const auto& t = r.requests.totals();
    const double n = static_cast<double>(t.requests);
    REQUIRE(n > 19'000);
    const double expected = 1 - std::pow(p, k);
    const double availability = static_cast<double>(t.succeeded()) / n;
    INFO("k = " << k);
    CHECK(std::abs(availability - expected) < 4 * std::sqrt(expected * (1 - expected) / n));
    // Attempts per request: X = 1, 2, 3 with probabilities 1-p, p(1-p), p^2 (for k = 3).
    double mean = 0, square = 0;
    for (int i = 1; i <= k; ++i) {
      const double prob = i < k ? std::pow(p, i - 1) * (1 - p) : std::pow(p, k - 1);
      mean += i * prob;
      square += i * i * prob;
    }
    const double per_request = static_cast<double>(t.attempts) / n;
    CHECK(std::abs(per_request - mean) <= 4 * std::sqrt((square - mean * mean) / n) + 1e-12);
  }
}

TEST_CASE("a delay d with probability q adds q d to the mean latency") {
  const double q = 0.3, d_ms = 100, base_ms = 2;
  const scenario::RunResult r = run(R"("delay_probability": 0.3, "delay": "100ms")", 1);
  const auto& latency = r.requests.latency();
  const double n = static_cast<double>(latency.count());
  REQUIRE(n > 19'000);
  const double mean_ms = latency.mean_ns() / 1e6;
  CHECK(std::abs(mean_ms - (base_ms + q * d_ms)) < 4 * std::sqrt(d_ms * d_ms * q * (1 - q) / n));
  // The p50 is undelayed (q < 1/2), the p99 delayed: 2 ms and 102 ms, within the histogram's
  // documented 0.1 % (sim/latency_histogram.hpp).
  CHECK(std::abs(latency.quantile_ns(0.5) - 2e6) < 2e6 * 1e-3);
  CHECK(std::abs(latency.quantile_ns(0.99) - 102e6) < 102e6 * 1e-3);
}
