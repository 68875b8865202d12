// The failure-detector parts on their own, fed by hand: the fixed timeout's exact instant; φ's
// formula, its growth with silence, its closed-form crossing instant, the window's warm-up
// (Akka's seeds), the σ floor, the acceptable pause, the interval after a suspicion left out,
// and the tail computed without cancellation; and the detection-quality measures on scripted
// verdicts and crashes.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "models/election/detection_quality.hpp"
#include "models/election/heartbeat_detector.hpp"
#include "models/election/phi_accrual_detector.hpp"
#include "tests/test_time.hpp"

using namespace sim;
using models::HeartbeatDetector;
using models::PhiAccrualConfig;
using models::PhiAccrualDetector;

namespace {

/// φ by the formula, for a silence of `silence_ns` after the last heartbeat.
double formula(double silence_ns, double mean_ns, double std_ns) {
  const double y = (silence_ns - mean_ns) / std_ns;
  return -std::log10(0.5 * std::erfc(y / std::sqrt(2.0)));
}

PhiAccrualConfig phi_config(int window, Duration min_std = 1_ms) {
  return {.threshold = 8,
          .window = window,
          .min_std_deviation = min_std,
          .acceptable_heartbeat_pause = Duration::zero(),
          .first_heartbeat_estimate = 100_ms};
}

}  // namespace

TEST_CASE("heartbeat detector: suspected exactly `timeout` after the last heartbeat") {
  HeartbeatDetector d(500_ms);
  d.reset(at_ms(1000));  // the watch starts: as if a heartbeat had arrived
  CHECK(d.suspicion_time() == at_ms(1500));
  CHECK_FALSE(d.suspected(at_ms(1500) - 1_ns));
  CHECK(d.suspected(at_ms(1500)));
  d.heartbeat(at_ms(1200));
  CHECK(d.suspicion_time() == at_ms(1700));
  CHECK(d.last_heartbeat() == at_ms(1200));
  CHECK_FALSE(d.suspected(at_ms(1699)));
  d.heartbeat(at_ms(1800));  // after a suspicion: trusted again
  CHECK_FALSE(d.suspected(at_ms(1800)));
  CHECK(d.suspicion_time() == at_ms(2300));
}

TEST_CASE("phi: y* of a threshold is the normal quantile of 1 - 10^-threshold") {
  // Φ⁻¹(0.9), Φ⁻¹(0.99), Φ⁻¹(0.999), Φ⁻¹(1 - 1e-8): published quantiles of the normal law.
  CHECK(PhiAccrualDetector::y_for(1) == Approx(1.2815515655446004).epsilon(1e-12));
  CHECK(PhiAccrualDetector::y_for(2) == Approx(2.3263478740408408).epsilon(1e-12));
  CHECK(PhiAccrualDetector::y_for(3) == Approx(3.0902323061678132).epsilon(1e-12));
  CHECK(PhiAccrualDetector::y_for(8) == Approx(5.6120012441747891).epsilon(1e-12));
  // Far in the tail, where 1 - Φ(y) computed as a difference would be 0 (y > 8.3): still exact.
  const double y = PhiAccrualDetector::y_for(100);
  CHECK(PhiAccrualDetector::phi_of(y) >= 100);
  CHECK(PhiAccrualDetector::phi_of(std::nextafter(y, 0.0)) < 100);
  CHECK(y == Approx(21.2735).margin(1e-3));  // -log10(Q(21.2735)) = 100
}

TEST_CASE("phi: the tail is computed without cancellation and capped where it underflows") {
  CHECK(PhiAccrualDetector::phi_of(0) == Approx(std::log10(2.0)).epsilon(1e-15));
  CHECK(PhiAccrualDetector::phi_of(-50) == 0.0);
  CHECK_FALSE(std::signbit(PhiAccrualDetector::phi_of(-50)));
  // Q(10) = 7.6198530241605e-24: φ = 23.118..., while 1 - Φ(10) as a difference is 0.
  CHECK(PhiAccrualDetector::phi_of(10) == Approx(23.118053405486).epsilon(1e-12));
  CHECK(1.0 - 0.5 * std::erfc(-10 / std::sqrt(2.0)) == 0.0);
  CHECK(PhiAccrualDetector::phi_of(37) == Approx(299.2422).margin(1e-3));  // Q = 5.7e-300
  CHECK(PhiAccrualDetector::phi_of(40) == PhiAccrualDetector::kMaxPhi);
  CHECK(PhiAccrualDetector::phi_of(1e300) == PhiAccrualDetector::kMaxPhi);
  // Non-decreasing all the way through the cap.
  double previous = 0;
  for (double x = -10; x < 45; x += 0.01) {
    const double phi = PhiAccrualDetector::phi_of(x);
    CHECK(phi >= previous);
    previous = phi;
  }
}

TEST_CASE("phi: the window warms up from Akka's seeds and forgets them once full") {
  PhiAccrualDetector d(phi_config(4));
  d.reset(at_ms(0));
  // Seeds 75 and 125 ms: μ = 100 ms, σ = 25 ms (e / 4).
  CHECK(d.samples() == 2);
  CHECK(d.mean_ns() == 100e6);
  CHECK(d.std_deviation_ns() == 25e6);
  d.heartbeat(at_ms(30));  // the first heartbeat: no interval (nothing arrived at the reset)
  CHECK(d.samples() == 2);
  d.heartbeat(at_ms(130));  // 100
  CHECK(d.samples() == 3);
  d.heartbeat(at_ms(240));  // 110: the window (4) is full
  CHECK(d.samples() == 4);
  CHECK(d.mean_ns() == Approx((75 + 125 + 100 + 110) * 1e6 / 4));
  d.heartbeat(at_ms(360));  // 120: the seed 75 leaves
  d.heartbeat(at_ms(490));  // 130: the seed 125 leaves
  CHECK(d.samples() == 4);
  CHECK(d.mean_ns() == 115e6);
  CHECK(d.std_deviation_ns() == Approx(std::sqrt(125.0) * 1e6).epsilon(1e-12));
}

TEST_CASE("phi: equals -log10(1 - F) with the window's mean and σ, and grows with silence") {
  PhiAccrualDetector d(phi_config(1000));
  d.reset(at_ms(0));
  Time t = at_ms(0);
  const std::vector<std::int64_t> gaps = {95, 101, 108, 99, 97, 103, 100, 92, 110, 96};
  for (int round = 0; round < 20; ++round)
    for (const std::int64_t g : gaps) d.heartbeat(t += Duration::nanoseconds(g * 1'000'000));
  // The window: the seeds and 199 intervals (the first heartbeat added none).
  REQUIRE(d.samples() == 201);
  double sum = 75e6 + 125e6, squares = 75e6 * 75e6 + 125e6 * 125e6;
  for (int i = 0; i < 199; ++i) {
    const double g = static_cast<double>(gaps[static_cast<std::size_t>((i + 1) % 10)]) * 1e6;
    sum += g;
    squares += g * g;
  }
  const double mean = sum / 201, sd = std::sqrt(squares / 201 - mean * mean);
  CHECK(d.mean_ns() == Approx(mean).epsilon(1e-12));
  CHECK(d.std_deviation_ns() == Approx(sd).epsilon(1e-9));
  double previous = -1;
  for (std::int64_t ms = 0; ms <= 200; ms += 5) {
    const double phi = d.phi(t + Duration::nanoseconds(ms * 1'000'000));
    // (A margin for far below the mean, where Q rounds to within an ulp of 1 and φ to ~1e-16.)
    CHECK(phi ==
          Approx(formula(static_cast<double>(ms) * 1e6, mean, sd)).epsilon(1e-9).margin(1e-12));
    if (ms >= 60) CHECK(phi > previous);  // strictly once Q is visibly below 1
    CHECK(phi >= previous);
    previous = phi;
  }
}

TEST_CASE("phi: the suspicion starts at the closed-form instant where φ reaches the threshold") {
  for (const double threshold : {0.5, 1.0, 3.0, 8.0, 16.0, 50.0}) {
    PhiAccrualConfig c = phi_config(100, 5_ms);
    c.threshold = threshold;
    PhiAccrualDetector d(c);
    d.reset(at_ms(0));
    Time t = at_ms(0);
    for (int i = 0; i < 50; ++i) d.heartbeat(t += (i % 2 ? 90_ms : 110_ms));
    INFO("threshold " << threshold);
    const Time s = d.suspicion_time();
    const double expected =
        d.mean_ns() + d.threshold_y() * std::max(d.std_deviation_ns(), 5e6);  // σ >= the floor
    CHECK(static_cast<double>((s - t).ns()) == Approx(expected).margin(1));
    CHECK(d.phi(s) >= threshold - 1e-9);
    CHECK(d.phi(s - 1_us) < threshold);
    CHECK(d.suspected(s));
    CHECK_FALSE(d.suspected(s - 1_ns));
  }
}

TEST_CASE("phi: min_std_deviation floors σ of perfectly regular heartbeats") {
  PhiAccrualDetector d(phi_config(4, 20_ms));
  d.reset(at_ms(0));
  Time t = at_ms(0);
  for (int i = 0; i < 10; ++i) d.heartbeat(t += 100_ms);  // the seeds are gone: σ = 0
  CHECK(d.std_deviation_ns() == 0.0);
  CHECK(d.phi(t + 100_ms) == Approx(std::log10(2.0)));  // at the mean: Q(0) = 1/2
  CHECK(d.phi(t + 120_ms) == Approx(formula(120e6, 100e6, 20e6)));
  CHECK((d.suspicion_time() - t).ns() ==
        static_cast<std::int64_t>(std::ceil(100e6 + d.threshold_y() * 20e6)));
}

TEST_CASE("phi: an acceptable pause moves the suspicion by exactly the pause") {
  PhiAccrualConfig with = phi_config(10, 10_ms);
  with.acceptable_heartbeat_pause = 3000_ms;
  PhiAccrualDetector plain(phi_config(10, 10_ms)), paused(with);
  plain.reset(at_ms(0));
  paused.reset(at_ms(0));
  Time t = at_ms(0);
  for (int i = 0; i < 20; ++i) {
    t += (i % 3 ? 100_ms : 120_ms);
    plain.heartbeat(t);
    paused.heartbeat(t);
  }
  // (Each instant is rounded up to a nanosecond on its own.)
  CHECK(std::abs((paused.suspicion_time() - plain.suspicion_time() - 3000_ms).ns()) <= 1);
  CHECK(paused.phi(t + 3200_ms) == Approx(plain.phi(t + 200_ms)));
}

TEST_CASE("phi: the interval that ends a suspicion does not enter the window (Akka)") {
  PhiAccrualDetector d(phi_config(100, 10_ms));
  d.reset(at_ms(0));
  Time t = at_ms(0);
  for (int i = 0; i < 10; ++i) d.heartbeat(t += 100_ms);
  const std::size_t n = d.samples();
  const double mean = d.mean_ns();
  t += 5000_ms;  // a long silence: suspected by then
  REQUIRE(d.suspected(t));
  d.heartbeat(t);
  CHECK(d.samples() == n);
  CHECK(d.mean_ns() == mean);
  CHECK_FALSE(d.suspected(t));  // trusted again, the statistics unskewed
  d.heartbeat(t += 100_ms);
  CHECK(d.samples() == n + 1);
}

TEST_CASE("phi: reset forgets the history and starts the watch") {
  PhiAccrualDetector d(phi_config(100, 10_ms));
  d.reset(at_ms(0));
  Time t = at_ms(0);
  for (int i = 0; i < 10; ++i) d.heartbeat(t += 50_ms);
  d.reset(at_ms(5000));
  CHECK(d.samples() == 2);
  CHECK(d.mean_ns() == 100e6);
  CHECK(d.last_heartbeat() == at_ms(5000));
  // Never heard from since: suspected y* σ past the estimate, σ = 25 ms.
  CHECK((d.suspicion_time() - at_ms(5000)).ns() ==
        static_cast<std::int64_t>(std::ceil(100e6 + d.threshold_y() * 25e6)));
}

// ---- detection quality against the truth ----

namespace {

using models::CrashInterval;
using models::StateTimeline;

StateTimeline verdicts(std::vector<std::pair<std::int64_t, const char*>> changes) {
  StateTimeline t("api-0", "trusted");
  for (const auto& [ms, state] : changes) t.set(at_ms(ms), state);
  return t;
}

const char* const kSuspected = "suspected";
const char* const kTrusted = "trusted";

}  // namespace

TEST_CASE("detection quality: crashes from the fault log, merged, restarts as their ends") {
  std::vector<FaultRecord> log = {
      {"crash", "api-0", "", at_ms(1000), at_ms(2000)},
      {"pause", "api-0", "", at_ms(3000), at_ms(3500)},
      {"crash", "api-1", "", at_ms(1500), std::nullopt},
      {"crash", "api-0", "", at_ms(1800), at_ms(2500)},  // a crash of a crashed node: merged
      {"crash", "api-0", "", at_ms(4000), std::nullopt},
  };
  const auto c = models::crash_intervals(log, "api-0");
  REQUIRE(c.size() == 2);
  CHECK(c[0].start == at_ms(1000));
  CHECK(c[0].end == at_ms(2500));
  CHECK(c[1].start == at_ms(4000));
  CHECK(c[1].end == Time::max());
  CHECK(models::crash_intervals(log, "api-2").empty());
}

TEST_CASE("detection quality: detection time is to the final suspicion, mistakes while up") {
  const std::vector<CrashInterval> crashes = {{at_ms(1000), at_ms(3000)},
                                              {at_ms(5000), at_ms(5200)}};
  SECTION("suspected 400 ms after the crash, trusted after the restart") {
    const auto t = verdicts({{1400, kSuspected}, {3050, kTrusted}});
    const auto q =
        models::measure_detection(t.changes(), kSuspected, crashes, at_ms(0), at_ms(10'000));
    CHECK(q.crashes == 2);
    CHECK(q.detections == 1);  // the second crash ended before anyone noticed
    CHECK(q.detection_sum == 400_ms);
    CHECK(q.false_suspicions == 0);
    CHECK(q.up_time == 10'000_ms - 2000_ms - 200_ms);
    CHECK(q.suspected_up_time == 50_ms);  // from the restart to the trust
    CHECK(q.mean_detection_ms() == 400);
  }
  SECTION("a late heartbeat ends the first suspicion: the final one counts") {
    const auto t = verdicts({{1300, kSuspected}, {1310, kTrusted}, {1700, kSuspected}});
    const auto q =
        models::measure_detection(t.changes(), kSuspected, crashes, at_ms(0), at_ms(10'000));
    CHECK(q.detections == 2);  // the second crash: still suspected since 1700 ms
    CHECK(q.detection_sum == 700_ms + 0_ms);
    CHECK(q.detection_max == 700_ms);
    CHECK(q.false_suspicions == 0);
  }
  SECTION("a false suspicion that lasts into a crash detects it at once") {
    const auto t = verdicts({{800, kSuspected}, {3100, kTrusted}, {6000, kSuspected}});
    const auto q =
        models::measure_detection(t.changes(), kSuspected, crashes, at_ms(0), at_ms(10'000));
    CHECK(q.detections == 1);
    CHECK(q.detection_sum == 0_ms);
    CHECK(q.false_suspicions == 2);  // at 800 ms (up) and at 6000 ms (up again)
    CHECK(q.suspected_up_time == 200_ms + 100_ms + 4000_ms);
    CHECK(q.false_suspicions_per_hour() == Approx(2 / (q.up_time.seconds() / 3600)).epsilon(1e-12));
  }
  SECTION("only what begins in the measured interval counts") {
    const auto t = verdicts({{800, kSuspected}, {900, kTrusted}, {1400, kSuspected}});
    const auto q =
        models::measure_detection(t.changes(), kSuspected, crashes, at_ms(1200), at_ms(4000));
    CHECK(q.crashes == 0);  // the crash at 1000 ms began in the warm-up
    CHECK(q.false_suspicions == 0);
    CHECK(q.up_time == 1000_ms);
    CHECK(q.suspected_up_time == 1000_ms);  // still suspected after the restart
    CHECK(std::isnan(q.mean_detection_ms()));
  }
}
