#include "models/proxies/canary_analysis.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/assert.hpp"
#include "sim/distribution.hpp"

namespace models {

double canary_z(std::uint64_t x_c, std::uint64_t n_c, std::uint64_t x_b, std::uint64_t n_b) {
  DSIM_ASSERT(n_c > 0 && n_b > 0 && x_c <= n_c && x_b <= n_b, "canary_z: counts of requests");
  const double nc = static_cast<double>(n_c), nb = static_cast<double>(n_b);
  const double pooled = static_cast<double>(x_c + x_b) / (nc + nb);
  const double spread = 1 / nc + 1 / nb;
  const double variance = pooled * (1 - pooled) * spread;
  if (!(variance > 0)) return 0;  // no failures at all, or nothing but failures
  const double difference = static_cast<double>(x_c) / nc - static_cast<double>(x_b) / nb;
  return (difference - spread / 2) / std::sqrt(variance);
}

std::int64_t window_p99_ns(std::vector<std::int64_t>& latencies) {
  if (latencies.empty()) return 0;
  // Nearest rank: the value of rank ceil(0.99 n), index ceil(0.99 n) - 1, in integers.
  const std::size_t n = latencies.size();
  const std::size_t rank = (99 * n + 99) / 100;
  const auto nth = latencies.begin() + static_cast<std::ptrdiff_t>(rank - 1);
  std::nth_element(latencies.begin(), nth, latencies.end());
  return *nth;
}

CanaryAnalysis::CanaryAnalysis(const CanaryAnalysisConfig& config)
    : config_(config), critical_z_(sim::standard_normal_quantile(config.confidence)) {}

CanaryVerdict CanaryAnalysis::judge(RouteWindow& baseline, RouteWindow& canary) const {
  CanaryVerdict v;
  const auto min = static_cast<std::uint64_t>(config_.min_requests);
  if (baseline.requests < min || canary.requests < min) return v;  // Inconclusive
  v.z = canary_z(canary.failures, canary.requests, baseline.failures, baseline.requests);
  v.error_rate_failed = v.z > critical_z_;
  if (config_.max_p99_ratio > 0 && !baseline.ok_latency_ns.empty() &&
      !canary.ok_latency_ns.empty()) {
    const auto base_p99 = static_cast<double>(window_p99_ns(baseline.ok_latency_ns));
    const auto canary_p99 = static_cast<double>(window_p99_ns(canary.ok_latency_ns));
    v.p99_ratio = base_p99 > 0 ? canary_p99 / base_p99
                               : (canary_p99 > 0 ? std::numeric_limits<double>::infinity() : 1.0);
    v.latency_failed = v.p99_ratio > config_.max_p99_ratio;
  }
  v.result = v.error_rate_failed || v.latency_failed ? CanaryVerdict::Result::Fail
                                                     : CanaryVerdict::Result::Pass;
  return v;
}

}  // namespace models
