// Canary analysis: does the canary (the new version) fail more often, or answer more slowly,
// than the baseline (the version it would replace)? One analysis compares the two over one
// window of requests and returns Pass, Fail or Inconclusive. The ambassador
// (models/proxies/ambassador.hpp) runs one every `interval` and rolls back on the first Fail.
//
// Semantics of one analysis, on the requests ended since the last conclusive analysis:
// 1. Minimum sample: fewer than `min_requests` on either route -> Inconclusive; the window is
//    kept and grows until the next analysis (a low-traffic canary is judged on enough data).
// 2. Error rate: a one-sided two-proportion z-test of H0 "canary error rate <= baseline's"
//    against H1 "canary's is higher", with the pooled variance and Yates's continuity correction:
//      z = (x_c/n_c - x_b/n_b - (1/n_c + 1/n_b)/2) / sqrt(p (1 - p) (1/n_c + 1/n_b)),
//      p = (x_c + x_b) / (n_c + n_b);
//    Fail when z > z_(confidence), the standard normal quantile (confidence 0.99: z > 2.326).
//    The false-failure rate per analysis on two identical versions is then about 1 - confidence
//    or less: computed exactly (summing the binomial probabilities of every outcome) for windows
//    of 100 to 1000 canary requests beside 9 times as many baseline ones and error rates of
//    0.5 % to 5 %, it is 0.66 to 1.08 times the level at confidence 0.99 and 0.50 to 0.91 times
//    it at 0.95. Without the correction the test is anti-conservative at the small error rates
//    of real services: 1.2 to 2.8 times the level at 0.99 over the same grid. No failures on
//    either route (p = 0), or all failures: nothing to tell apart -> the error rate passes.
// 3. Latency (when `max_p99_ratio` > 0): Fail when the canary's p99 exceeds max_p99_ratio times
//    the baseline's, each the nearest-rank p99 of the route's successful requests in the window
//    (latency of failures is not compared: their rate is step 2's; a route without a success in
//    the window is not compared). A ratio threshold, not a test: the p99 of a few hundred
//    requests is noisy, so thresholds below about 1.5 fail identical versions now and then.
// 4. Fail if either fails, else Pass.
// Expected detection time: the z-test's sample-size argument. A window of n_c canary and n_b
// baseline requests detects a canary error rate e against b with probability 1 - beta when
//   (e - b) - (1/n_c + 1/n_b)/2 >= z_alpha s0 + z_beta s1,
//   s0 = sqrt(q (1 - q) (1/n_c + 1/n_b)), q = (n_c e + n_b b)/(n_c + n_b)  (the pooled rate),
//   s1 = sqrt(e (1 - e)/n_c + b (1 - b)/n_b)                               (the true spread);
// solved for beta at the window an interval holds, one analysis fails the canary with
// probability (the test's power) pi = Phi(((e - b) - (1/n_c + 1/n_b)/2 - z_alpha s0) / s1).
// Windows are disjoint, so analyses are independent trials: the first failure comes after a
// geometric number of analyses, interval / pi after the canary's start on average
// (tests/validation/canary_test.cpp).
//
// Reference: Kayenta (Spinnaker's automated canary analysis), Flagger and Argo Rollouts
// analysis. Differences:
// - Kayenta compares metric time series of canary and baseline with a Mann-Whitney U test per
//   metric and scores the share of metrics that pass (a canary score out of 100 against
//   marginal and pass thresholds); here two fixed metrics, the z-test above for errors and a
//   ratio threshold for p99, and no score.
// - Flagger and Argo compare each metric with a fixed threshold (error rate < 1 %, p99 < 500ms),
//   not with the baseline, and roll back after `threshold` (Flagger) or `failureLimit` (Argo)
//   failed checks; here the canary is compared with the baseline running at the same time (as
//   Kayenta does), and the first failed analysis decides.
// - Those query a metrics store (Prometheus) over a time window ending now; here the analysis
//   sees the requests its own ambassador forwarded, in disjoint windows (no overlap: the
//   analyses are independent, so the false-failure rate per analysis is the test's level).
// - No promotion: the canary's share never grows (Flagger's stepWeight, Argo's setWeight steps).
#pragma once

#include <cstdint>
#include <vector>

#include "models/shared/params.hpp"
#include "sim/time.hpp"

namespace models {

struct CanaryAnalysisConfig {
  sim::Duration interval = sim::Duration::zero();
  double confidence = 0.99;
  std::int64_t min_requests = 100;
  double max_p99_ratio = 0;
  bool rollback = true;

  template <class V>
  void describe(V& v) {
    v.field("interval", interval,
            "how often the canary is compared with the baseline, from the canary's start, on the "
            "ambassador's clock; 0: never (no analysis, no rollback)",
            Limits{0});
    v.field(
        "confidence", confidence,
        "the error-rate test's confidence: a canary fails when its error rate is higher at "
        "this confidence (one-sided z-test); 1 - confidence bounds, about, the false-failure rate "
        "per analysis",
        Limits{0.5, 0.999999});
    v.field("min_requests", min_requests,
            "requests each route needs in a window for a conclusive analysis (fewer: the window "
            "grows until the next one)",
            Limits{1, 1e9});
    v.field("max_p99_ratio", max_p99_ratio,
            "the canary fails when its p99 (successful requests) exceeds this times the "
            "baseline's; 0: latency is not compared",
            Limits{0, 1e6});
    v.field("rollback", rollback,
            "on the first failed analysis, send all traffic to the baseline from then on "
            "(Flagger's automated rollback); false: only record it");
  }
};

/// One route's requests in an analysis window.
struct RouteWindow {
  std::uint64_t requests = 0;
  std::uint64_t failures = 0;
  std::vector<std::int64_t> ok_latency_ns;  // successful requests only

  void add(bool failed, sim::Duration latency) {
    ++requests;
    if (failed)
      ++failures;
    else
      ok_latency_ns.push_back(latency.ns());
  }
  /// Empties the window, keeping its memory (no allocation once at its peak).
  void clear() {
    requests = failures = 0;
    ok_latency_ns.clear();
  }
};

struct CanaryVerdict {
  enum class Result { Inconclusive, Pass, Fail };
  Result result = Result::Inconclusive;
  double z = 0;                    // the error-rate statistic (0 when not computed)
  double p99_ratio = 0;            // canary p99 / baseline p99 (0 when not compared)
  bool error_rate_failed = false;  // step 2 failed
  bool latency_failed = false;     // step 3 failed
};

/// The one-sided, continuity-corrected two-proportion z statistic of canary failures x_c of n_c
/// against baseline x_b of n_b (0 when the pooled rate is 0 or 1). n_c, n_b > 0.
double canary_z(std::uint64_t x_c, std::uint64_t n_c, std::uint64_t x_b, std::uint64_t n_b);

/// The nearest-rank p99 of `latencies` (reordered in place); 0 when empty.
std::int64_t window_p99_ns(std::vector<std::int64_t>& latencies);

class CanaryAnalysis {
 public:
  explicit CanaryAnalysis(const CanaryAnalysisConfig& config);

  /// Judges the canary's window against the baseline's. Reorders their latencies.
  CanaryVerdict judge(RouteWindow& baseline, RouteWindow& canary) const;
  /// The z above which the error rate fails.
  double critical_z() const { return critical_z_; }

 private:
  CanaryAnalysisConfig config_;
  double critical_z_;
};

}  // namespace models
