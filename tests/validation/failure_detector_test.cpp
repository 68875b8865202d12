// Failure detectors against theory.
//
// 1. The φ accrual part computes the paper's φ = -log10(1 - Φ((t - μ) / σ)): fed inter-arrival
//    times drawn from N(μ, σ²), its φ equals the formula with the window's sample mean and
//    standard deviation (to rounding), and the formula with the true μ and σ within the
//    sampling error of those estimates; and a heartbeat is later than the suspicion instant of
//    threshold φ with probability 10^-φ under the fitted law (and, under the true law, with the
//    probability that instant's quantile gives, as the draws confirm).
// 2. The timeout detector in a run: on a constant-latency network (L = 1 ms each way), probes
//    every I = 100 ms at a random phase, a crash at c is detected at h + T, h the arrival of the
//    last reply sent before c. With U = c - (send time of the last probe answered) - L uniform
//    on (0, I], c - h = U - L, so the detection time T - (c - h) = T + L - U is uniform on
//    [T + L - I, T + L): mean T + L - I/2 = 451 ms and variance I²/12 for T = 500 ms. (With
//    L -> 0 this is the textbook "timeout minus the time since the last heartbeat", uniform over
//    [T - I, T].) The φ detector with perfectly regular heartbeats is the same with T replaced
//    by its constant offset μ + y* σ_min.
//
// Tolerances: every comparison allows 4.5 standard errors of the estimate (a correct model fails
// one with probability 7e-6; the seeds are fixed, so the margin is what theory allows, never a
// value loosened to pass): the sample mean of n normal draws has SE σ/√n, the sample standard
// deviation σ/√(2n); the mean of n uniform draws over a width I has SE I/√(12 n), their sample
// variance SE I² √((1/80 - 1/144) / n) (the fourth central moment of a uniform is I⁴/80); a
// binomial proportion p of n trials has SE √(p (1 - p) / n).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "models/election/phi_accrual_detector.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "sim/distribution.hpp"
#include "sim/rng.hpp"

using namespace sim;
using models::PhiAccrualConfig;
using models::PhiAccrualDetector;

namespace {

constexpr double kStandardErrors = 4.5;

double formula(double silence, double mean, double sd) {
  return -std::log10(0.5 * std::erfc((silence - mean) / sd / std::sqrt(2.0)));
}

}  // namespace

TEST_CASE("phi of normal inter-arrival times is -log10(1 - Φ((t - μ) / σ))") {
  const double mu = 100e6, sigma = 10e6;  // ns
  const std::size_t n = 1000;
  PhiAccrualConfig config{.threshold = 8,
                          .window = static_cast<int>(n),
                          .min_std_deviation = Duration::nanoseconds(1000),  // never binding
                          .acceptable_heartbeat_pause = Duration::zero(),
                          .first_heartbeat_estimate = Duration::nanoseconds(100'000'000)};
  PhiAccrualDetector d(config);
  Rng rng = Rng::stream(20040301, "phi-validation");
  const Distribution normal = Distribution::normal(mu, sigma);
  std::vector<double> intervals;
  Time t = Time::zero();
  d.reset(t);
  d.heartbeat(t);  // the first heartbeat: no interval
  for (int i = 0; i < 5000; ++i) {
    const Duration gap = normal.sample_duration(rng);
    t += gap;
    REQUIRE_FALSE(d.suspected(t));  // 5.6 σ late: probability 1e-8 per draw; every draw counts
    d.heartbeat(t);
    intervals.push_back(static_cast<double>(gap.ns()));
  }
  // The window: the last 1000 intervals (the seeds long gone). Two-pass mean and σ (by n).
  REQUIRE(d.samples() == n);
  double m = 0, ss = 0;
  for (std::size_t i = intervals.size() - n; i < intervals.size(); ++i) m += intervals[i];
  m /= static_cast<double>(n);
  for (std::size_t i = intervals.size() - n; i < intervals.size(); ++i)
    ss += (intervals[i] - m) * (intervals[i] - m);
  const double s = std::sqrt(ss / static_cast<double>(n));
  CHECK(d.mean_ns() == Approx(m).epsilon(1e-12));
  CHECK(d.std_deviation_ns() == Approx(s).epsilon(1e-9));

  // The estimates are within their sampling error of the truth.
  const double a = kStandardErrors * sigma / std::sqrt(static_cast<double>(n));
  const double b = kStandardErrors * sigma / std::sqrt(2.0 * static_cast<double>(n));
  CHECK(std::abs(m - mu) < a);
  CHECK(std::abs(s - sigma) < b);

  for (const double k : {-2.0, -1.0, 0.0, 0.5, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 8.0}) {
    const double silence = mu + k * sigma;
    INFO("silence μ + " << k << " σ");
    const double phi = d.phi(t + Duration::nanoseconds(static_cast<std::int64_t>(silence)));
    // With the window's own μ and σ: the same number (silence rounded to a ns: 1e-7 σ).
    CHECK(phi == Approx(formula(std::round(silence), m, s)).epsilon(1e-9).margin(1e-12));
    // With the true μ and σ: within what (μ, σ) anywhere in the box of their sampling errors
    // gives. φ is monotone in μ and in σ, so the box's extremes are at its corners.
    double lo = INFINITY, hi = -INFINITY;
    for (const double dm : {-a, a})
      for (const double ds : {-b, b}) {
        lo = std::min(lo, formula(silence, mu + dm, sigma + ds));
        hi = std::max(hi, formula(silence, mu + dm, sigma + ds));
      }
    CHECK(phi >= lo);
    CHECK(phi <= hi);
  }

  // What φ means: a heartbeat comes later than the instant where φ reaches `threshold` with
  // probability 10^-threshold, under the fitted normal law. Fresh draws from the true law are
  // later with probability Q((offset - μ) / σ) exactly; check that against the drawn fraction.
  for (const double threshold : {1.0, 2.0}) {
    INFO("threshold " << threshold);
    const double y = PhiAccrualDetector::y_for(threshold);
    const double offset = m + y * s;
    CHECK(formula(offset, m, s) == Approx(threshold).epsilon(1e-12));
    // The true lateness probability of that instant: Q(z), z = (m + y s - μ) / σ, which is y
    // give or take the estimates' errors: SE(z) = √((1 + y²/2) / n).
    const auto q = [](double x) { return 0.5 * std::erfc(x / std::sqrt(2.0)); };
    const double p = q((offset - mu) / sigma);
    const double dz = kStandardErrors * std::sqrt((1 + y * y / 2) / static_cast<double>(n));
    CHECK(p > q(y + dz));
    CHECK(p < q(y - dz));
    const int draws = 200'000;
    int later = 0;
    for (int i = 0; i < draws; ++i) later += normal.sample(rng) > offset;
    const double fraction = static_cast<double>(later) / draws;
    CHECK(std::abs(fraction - p) < kStandardErrors * std::sqrt(p * (1 - p) / draws));
  }
}

namespace {

/// Detection times (ms) of `monitors` independent monitors (each its own probe phase) watching
/// one server that crashes at 1.5 s, over seeds 1..seeds: one sample per monitor and seed.
std::vector<double> detection_times(const std::string& detector, int monitors, int seeds) {
  const std::string text = R"({"name": "fd", "duration": "3s", "warmup": "0s",
    "network": {"latency": "1ms"},
    "report": {"per_replica": true},
    "components": {
      "api": {"model": "server"},
      "fd": {"model": "failure_detector", "target": "api", "count": )" +
                           std::to_string(monitors) + R"(, "interval": "100ms", )" + detector +
                           R"(}
    },
    "faults": [{"action": "crash", "target": "api", "at": "1.5s"}]})";
  const auto file = scenario::load_scenario_text(text, "fd.json");
  std::vector<double> out;
  for (int seed = 1; seed <= seeds; ++seed) {
    const auto run =
        scenario::run_scenario(file.variants.front(), static_cast<std::uint64_t>(seed));
    for (const auto& c : run.components)
      if (c.component == "fd")
        for (const auto& replica : c.per_replica)
          for (const auto& f : replica.figures)
            if (f.name == "mean_detection_ms") out.push_back(f.value);
  }
  return out;
}

/// Checks that `samples` are uniform over [low, low + width): bounds, mean and variance.
void check_uniform(const std::vector<double>& samples, double low, double width) {
  const auto n = static_cast<double>(samples.size());
  double mean = 0, var = 0;
  for (const double x : samples) {
    CHECK(x >= low - 1e-6);
    CHECK(x <= low + width + 1e-6);
    mean += x;
  }
  mean /= n;
  for (const double x : samples) var += (x - mean) * (x - mean);
  var /= n - 1;
  INFO("mean " << mean << " ms, variance " << var << " ms²");
  CHECK(std::abs(mean - (low + width / 2)) < kStandardErrors * width / std::sqrt(12 * n));
  CHECK(std::abs(var - width * width / 12) <
        kStandardErrors * width * width * std::sqrt((1.0 / 80 - 1.0 / 144) / n));
}

}  // namespace

TEST_CASE(
    "timeout detector: detection time is uniform from T + L - I up to T + L, mean T + L - I/2") {
  const double timeout = 500, latency = 1, interval = 100;  // ms
  const std::vector<double> times =
      detection_times(R"("detector": "timeout", "timeout": "500ms")", 20, 50);
  REQUIRE(times.size() == 1000);  // every crash detected, by every monitor
  check_uniform(times, timeout + latency - interval, interval);
}

TEST_CASE("phi detector on regular heartbeats: detection time uniform, offset μ + y* σ_min") {
  // A window of 4 holds only 100 ms intervals by the crash: μ = 100 ms, σ = 0, floored at 20 ms.
  const double offset = 100 + PhiAccrualDetector::y_for(8) * 20;  // 212.24 ms
  const std::vector<double> times = detection_times(
      R"("detector": "phi", "threshold": 8, "window": 4, "min_std_deviation": "20ms")", 20, 50);
  REQUIRE(times.size() == 1000);
  check_uniform(times, offset + 1 - 100, 100);
}
