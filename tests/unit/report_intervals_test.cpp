// The report's 95 % intervals: availability's stays inside [0, 1] (Wilson score with the
// design-effect sample size) and agrees with Student's t away from the bounds.
#include <catch2/catch.hpp>

#include <cmath>
#include <vector>

#include "scenario/report.hpp"
#include "scenario/report_summary.hpp"

using scenario::Json;

namespace {

Json seed(double availability, double requests) {
  return {{"availability", availability}, {"requests", requests}};
}

std::pair<double, double> availability_ci(const std::vector<Json>& seeds) {
  const Json ci = scenario::ci95_summary(seeds).at("availability");
  REQUIRE(ci.is_array());
  return {ci[0].get<double>(), ci[1].get<double>()};
}

}  // namespace

TEST_CASE("an availability interval near 100 % stays inside [0, 1] and holds the mean") {
  // Two seeds, 99.99 % and 98.56 % (mean 99.277 %): Student t gave 99.277 +- 9.1, up to 108 %.
  const auto [lo, hi] = availability_ci({seed(0.9999, 40'000), seed(0.9856, 40'000)});
  CHECK(hi <= 1.0);
  CHECK(lo >= 0.0);
  CHECK(lo < 0.99277);
  CHECK(hi > 0.99277);
}

TEST_CASE("every seed at 100 % gives the binomial interval of all requests, not a point") {
  const auto [lo, hi] = availability_ci({seed(1, 500), seed(1, 500), seed(1, 500)});
  CHECK(hi == Approx(1.0).epsilon(1e-12));
  // Wilson at p = 1, n = 1500, z = t(2) = 4.303: lower bound n / (n + z^2) = 0.98780.
  CHECK(lo == Approx(1500 / (1500 + 4.303 * 4.303)).epsilon(1e-9));
}

TEST_CASE("away from 0 and 1 the availability interval is Student's t interval") {
  const std::vector<Json> seeds = {seed(0.48, 20'000), seed(0.50, 20'000), seed(0.52, 20'000),
                                   seed(0.49, 20'000)};
  const auto [lo, hi] = availability_ci(seeds);
  // Mean 0.4975, s = 0.017078, t(3) = 3.182: half-width 0.027172. Wilson with n_eff = p(1-p) /
  // (s^2/R) = 3428 shifts the centre by z^2/(2 n_eff) ~ 1e-5 and widens by a factor 1 + O(1e-3).
  const double half = 3.182 * 0.0170783 / 2;
  CHECK((hi - lo) / 2 == Approx(half).epsilon(5e-3));
  CHECK((hi + lo) / 2 == Approx(0.4975).margin(5e-4));
}

TEST_CASE("a latency interval is Student's t") {
  std::vector<Json> seeds;
  for (double p99 : {10.0, 12.0, 14.0})
    seeds.push_back({{"availability", 1.0}, {"requests", 10}, {"latency_ms", {{"p99", p99}}}});
  const Json ci = scenario::ci95_summary(seeds).at("latency_ms").at("p99");
  CHECK(ci[0].get<double>() == Approx(12 - 4.303 * 2 / std::sqrt(3.0)));
  CHECK(ci[1].get<double>() == Approx(12 + 4.303 * 2 / std::sqrt(3.0)));
}
