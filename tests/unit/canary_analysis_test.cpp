// Canary analysis on constructed windows (models/proxies/canary_analysis.hpp): the z statistic's
// value, the minimum sample, the one-sided decision, the p99 ratio, and the nearest-rank p99.
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "models/proxies/canary_analysis.hpp"

using models::CanaryAnalysis;
using models::CanaryAnalysisConfig;
using models::CanaryVerdict;
using models::RouteWindow;
using Result = CanaryVerdict::Result;

namespace {

// `requests` requests, the first `failures` failed, the successes taking 1, 2, 3, ... ms times
// `scale`.
RouteWindow window(std::uint64_t requests, std::uint64_t failures, double scale = 1) {
  RouteWindow w;
  for (std::uint64_t i = 0; i < requests; ++i)
    w.add(i < failures, sim::duration_from_ns(static_cast<double>(i + 1) * 1e6 * scale));
  return w;
}

CanaryAnalysisConfig config(double confidence = 0.99, std::int64_t min_requests = 100,
                            double max_p99_ratio = 0) {
  CanaryAnalysisConfig c;
  c.interval = sim::Duration::nanoseconds(1'000'000'000);
  c.confidence = confidence;
  c.min_requests = min_requests;
  c.max_p99_ratio = max_p99_ratio;
  return c;
}

}  // namespace

TEST_CASE("canary analysis: the continuity-corrected two-proportion z") {
  // 20/200 against 90/1800: pooled 0.055; (0.1 - 0.05 - (1/200 + 1/1800)/2) / sqrt(0.055 x
  // 0.945 x (1/200 + 1/1800)) = 2.77898 (computed by hand, in doubles).
  CHECK(models::canary_z(20, 200, 90, 1800) == Approx(2.7789800188).epsilon(1e-9));
  CHECK(models::canary_z(9, 200, 90, 1800) == Approx(-0.4810753706).epsilon(1e-9));
  CHECK(models::canary_z(0, 100, 0, 100) == 0);      // no failures: nothing to compare
  CHECK(models::canary_z(100, 100, 100, 100) == 0);  // all failures: neither
  CHECK(CanaryAnalysis(config(0.99)).critical_z() == Approx(2.3263478740).epsilon(1e-9));
  CHECK(CanaryAnalysis(config(0.95)).critical_z() == Approx(1.6448536270).epsilon(1e-9));
}

TEST_CASE("canary analysis: fewer than min_requests on either route is inconclusive") {
  const CanaryAnalysis analysis(config(0.99, 100));
  RouteWindow baseline = window(1000, 0), canary = window(99, 99);
  CHECK(analysis.judge(baseline, canary).result == Result::Inconclusive);
  baseline = window(99, 0);
  canary = window(1000, 1000);
  CHECK(analysis.judge(baseline, canary).result == Result::Inconclusive);
  baseline = window(100, 0);
  canary = window(100, 100);
  CHECK(analysis.judge(baseline, canary).result == Result::Fail);
}

TEST_CASE("canary analysis: the error rate fails only when higher at the confidence") {
  SECTION("higher, significantly: z 2.78 > 2.33") {
    RouteWindow baseline = window(1800, 90), canary = window(200, 20);
    const CanaryVerdict v = CanaryAnalysis(config(0.99)).judge(baseline, canary);
    CHECK(v.result == Result::Fail);
    CHECK(v.error_rate_failed);
    CHECK(v.z == Approx(2.7789800188));
  }
  SECTION("the same data at confidence 0.999 (z > 3.09) passes") {
    RouteWindow baseline = window(1800, 90), canary = window(200, 20);
    CHECK(CanaryAnalysis(config(0.999)).judge(baseline, canary).result == Result::Pass);
  }
  SECTION("lower or equal: one-sided, a better canary passes") {
    RouteWindow baseline = window(1800, 180), canary = window(200, 2);
    CHECK(CanaryAnalysis(config(0.5)).judge(baseline, canary).result == Result::Pass);
    baseline = window(1000, 50);
    canary = window(1000, 50);
    const CanaryVerdict v = CanaryAnalysis(config(0.5)).judge(baseline, canary);
    CHECK(v.result == Result::Pass);  // z = -correction / sd < 0
    CHECK(v.z < 0);
  }
}

TEST_CASE("canary analysis: the p99 ratio of the successful requests") {
  // Successes take 1..n ms (times 2 on the canary): failures are left out of the p99.
  SECTION("twice as slow fails a 1.5 ratio, passes a 2.5 one") {
    RouteWindow baseline = window(1000, 10), canary = window(1000, 10, 2.0);
    const CanaryVerdict v = CanaryAnalysis(config(0.99, 100, 1.5)).judge(baseline, canary);
    CHECK(v.result == Result::Fail);
    CHECK(v.latency_failed);
    CHECK_FALSE(v.error_rate_failed);
    CHECK(v.p99_ratio == Approx(2.0));
    baseline = window(1000, 10);
    canary = window(1000, 10, 2.0);
    CHECK(CanaryAnalysis(config(0.99, 100, 2.5)).judge(baseline, canary).result == Result::Pass);
  }
  SECTION("not compared when max_p99_ratio is 0") {
    RouteWindow baseline = window(1000, 10), canary = window(1000, 10, 10.0);
    const CanaryVerdict v = CanaryAnalysis(config(0.99, 100, 0)).judge(baseline, canary);
    CHECK(v.result == Result::Pass);
    CHECK(v.p99_ratio == 0);
  }
  SECTION("not compared without a success on a route") {
    RouteWindow baseline = window(1000, 0), canary = window(100, 100);
    const CanaryVerdict v = CanaryAnalysis(config(0.99, 100, 1.5)).judge(baseline, canary);
    CHECK(v.p99_ratio == 0);
    CHECK_FALSE(v.latency_failed);
    CHECK(v.error_rate_failed);
  }
}

TEST_CASE("canary analysis: the window p99 is the nearest rank, and clear keeps the memory") {
  std::vector<std::int64_t> values;
  for (std::int64_t v = 100; v >= 1; --v) values.push_back(v);  // any order
  CHECK(models::window_p99_ns(values) == 99);                   // rank ceil(0.99 x 100)
  values.push_back(101);
  CHECK(models::window_p99_ns(values) == 100);  // 101 values: rank ceil(99.99) = 100
  std::vector<std::int64_t> one{7};
  CHECK(models::window_p99_ns(one) == 7);
  std::vector<std::int64_t> none;
  CHECK(models::window_p99_ns(none) == 0);

  RouteWindow w = window(500, 5);
  const auto capacity = w.ok_latency_ns.capacity();
  w.clear();
  CHECK(w.requests == 0);
  CHECK(w.failures == 0);
  CHECK(w.ok_latency_ns.empty());
  CHECK(w.ok_latency_ns.capacity() == capacity);
}
