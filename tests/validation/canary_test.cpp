// The ambassador's canary split and its analysis against theory (models/proxies/ambassador.hpp,
// canary_analysis.hpp): the canary's share of requests is canary_percent, the analysis fails
// two identical versions at most at its significance level, and it catches a worse canary
// after as many analyses as the z-test's power predicts.
//
// Set-up: 1000 requests/s from one client (Poisson arrivals) to an ambassador in front of two
// servers with spare workers that answer in 1 ms and fail independently with probability b
// (baseline) and e (canary); no retries, so a route's failures are Bernoulli(b) or (e) per
// request. Analyses every second with `rollback` off, so that every window is judged: the
// windows are disjoint, so the analyses of a run are independent trials.
//
// Tolerances: a proportion p estimated from N independent trials has standard deviation
// sqrt(p (1 - p) / N); the mean of S geometric counts with success probability pi has standard
// deviation sqrt(1 - pi) / (pi sqrt(S)). Every check allows 4 of them.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "models/proxies/canary_analysis.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "sim/distribution.hpp"
#include "tests/run_figures.hpp"

namespace {

struct Totals {
  double analyses = 0, failed = 0, canary = 0, baseline = 0;
  std::vector<double> first_failure;  // per seed, seconds from the canary's start (NaN: none)
};

// `seeds` runs of 20.5 s (20 analyses each) with the given error rates, share and confidence.
Totals run(double baseline_errors, double canary_errors, double percent, double confidence,
           int seeds) {
  const std::string text = R"({
    "name": "canary", "duration": "20.5s",
    "components": {
      "v1": {"model": "server", "workers": 1000, "service_time": "1ms", "error_rate": )" +
                           std::to_string(baseline_errors) + R"(},
      "v2": {"model": "server", "workers": 1000, "service_time": "1ms", "error_rate": )" +
                           std::to_string(canary_errors) + R"(},
      "amb": {"model": "ambassador", "target": "v1", "canary": "v2", "timeout": "1s",
              "canary_percent": )" +
                           std::to_string(percent) + R"(,
              "analysis": {"interval": "1s", "min_requests": 20, "rollback": false,
                           "confidence": )" +
                           std::to_string(confidence) + R"(}},
      "client": {"model": "open_loop_client", "rate": "1000/s", "target": "amb", "timeout": "2s"}
    }
  })";
  const auto file = scenario::load_scenario_text(text, "canary.json");
  Totals t;
  for (int seed = 1; seed <= seeds; ++seed) {
    const scenario::RunResult r =
        scenario::run_scenario(file.variants.front(), static_cast<std::uint64_t>(seed));
    t.analyses += dsimtest::figure(r, "amb", "analyses");
    t.failed += dsimtest::figure(r, "amb", "analyses_failed");
    t.canary += dsimtest::figure(r, "amb", "canary_requests");
    t.baseline += dsimtest::figure(r, "amb", "baseline_requests");
    t.first_failure.push_back(dsimtest::figure(r, "amb", "canary_failed_at"));
  }
  return t;
}

// The binomial probability mass function, through logarithms (n up to thousands).
double binomial_pmf(int n, int k, double p) {
  return std::exp(std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0) +
                  k * std::log(p) + (n - k) * std::log1p(-p));
}

// The exact probability that the analysis fails a window of n_c canary and n_b baseline
// requests that all fail independently with probability p: the sum, over every outcome
// (x_c, x_b), of its probability where the model's own statistic exceeds the critical z.
double exact_false_failure(int n_c, int n_b, double p, double confidence) {
  models::CanaryAnalysisConfig config;
  config.confidence = confidence;
  const double critical = models::CanaryAnalysis(config).critical_z();
  std::vector<double> pmf_b(static_cast<std::size_t>(n_b) + 1);
  for (int x = 0; x <= n_b; ++x) pmf_b[static_cast<std::size_t>(x)] = binomial_pmf(n_b, x, p);
  double size = 0;
  for (int x_c = 0; x_c <= n_c; ++x_c) {
    const double p_c = binomial_pmf(n_c, x_c, p);
    if (p_c < 1e-300) continue;
    for (int x_b = 0; x_b <= n_b; ++x_b)
      if (models::canary_z(static_cast<std::uint64_t>(x_c), static_cast<std::uint64_t>(n_c),
                           static_cast<std::uint64_t>(x_b),
                           static_cast<std::uint64_t>(n_b)) > critical)
        size += p_c * pmf_b[static_cast<std::size_t>(x_b)];
  }
  return size;
}

}  // namespace

TEST_CASE("canary: the split fraction and the false failures of two identical versions") {
  // 10 % canary, both versions failing 0.5 % of requests, confidence 0.95 (alpha 0.05): a
  // window holds about 100 canary and 900 baseline requests.
  const double alpha = 0.05, p = 0.005;
  const Totals t = run(p, p, 10, 1 - alpha, 20);

  // The canary's share of ~400,000 requests: 10 % within 4 binomial sd (0.0019 points).
  const double n = t.canary + t.baseline;
  REQUIRE(n > 390'000);
  CHECK(std::abs(t.canary / n - 0.10) < 4 * std::sqrt(0.1 * 0.9 / n));

  // The exact false-failure probability of one analysis at the mean window: 0.025, half the
  // level (the continuity correction is conservative here; the uncorrected z-test's is 0.073,
  // above the level, which is why the analysis corrects).
  const double exact = exact_false_failure(100, 900, p, 1 - alpha);
  CHECK(exact == Approx(0.0251).margin(0.001));
  CHECK(exact <= alpha);

  // Measured over 400 analyses: at most the level, and close to the exact figure (the window's
  // counts vary around 100 and 900, which moves it little).
  REQUIRE(t.analyses == 400);
  const double rate = t.failed / t.analyses;
  CHECK(rate <= alpha + 4 * std::sqrt(alpha * (1 - alpha) / t.analyses));
  CHECK(std::abs(rate - exact) < 4 * std::sqrt(exact * (1 - exact) / t.analyses));
}

TEST_CASE("canary: a worse canary is caught after as many analyses as the test's power says") {
  // 20 % canary failing e = 4 % against a baseline failing b = 1 %, confidence 0.99: windows of
  // n_c = 200 and n_b = 800 requests. The z-test's power (its sample-size argument, solved for
  // the probability of detection at a given window, continuity correction included):
  //   pi = 1 - Phi((z_alpha s0 + (1/n_c + 1/n_b)/2 - (e - b)) / s1),
  //   s0 = sqrt(q (1 - q) (1/n_c + 1/n_b)), q = (n_c e + n_b b) / (n_c + n_b),
  //   s1 = sqrt(e (1 - e) / n_c + b (1 - b) / n_b);
  // here pi = 0.605. The first failure comes after a geometric number of analyses, 1/pi = 1.65
  // on average: a detection time of 1.65 s after the canary starts. (A Monte Carlo of the test
  // with Poisson window sizes gives 0.606: the normal approximation holds at these counts.)
  const double b = 0.01, e = 0.04, n_c = 200, n_b = 800, confidence = 0.99;
  const double z_alpha = sim::standard_normal_quantile(confidence);
  const double q = (n_c * e + n_b * b) / (n_c + n_b);
  const double spread = 1 / n_c + 1 / n_b;
  const double s0 = std::sqrt(q * (1 - q) * spread);
  const double s1 = std::sqrt(e * (1 - e) / n_c + b * (1 - b) / n_b);
  const double power =
      1 - 0.5 * std::erfc(-((z_alpha * s0 + spread / 2 - (e - b)) / s1) / std::sqrt(2.0));
  REQUIRE(power == Approx(0.605).margin(0.001));

  const int seeds = 30;
  const Totals t = run(b, e, 20, confidence, seeds);
  // Every analysis is a trial: 600 of them, detection rate pi within 4 sd (0.08).
  REQUIRE(t.analyses == 600);
  CHECK(std::abs(t.failed / t.analyses - power) < 4 * std::sqrt(power * (1 - power) / 600));
  // The first failure of each run: the mean number of analyses until it is 1/pi, within 4 sd of
  // the mean of 30 geometric counts (0.69 analyses).
  double mean_k = 0;
  for (const double at : t.first_failure) {
    REQUIRE_FALSE(std::isnan(at));  // undetected in 20 analyses: probability 0.395^20, never
    mean_k += at / 1.0 / seeds;     // analyses every 1 s from the start
  }
  CHECK(std::abs(mean_k - 1 / power) < 4 * std::sqrt(1 - power) / (power * std::sqrt(seeds)));
}
