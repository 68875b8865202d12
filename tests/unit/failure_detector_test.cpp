// The failure-detector monitor's mechanics over a constant-latency network (1 ms each way), so
// that every instant is known: heartbeats are probe replies; the timeout detector suspects
// exactly `timeout` after the last one on the monitor's own (drifting) clock; crashes are
// detected and restarts trusted again; a paused target is a false suspicion; the monitor's own
// pause and crash; stale replies; the probe phase; configuration errors; no allocation.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/election/failure_detector_monitor.hpp"
#include "models/shared/health.hpp"
#include "scenario/scenario.hpp"
#include "scenario/scenario_error.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"

using namespace sim;
using models::DetectorKind;
using models::FailureDetectorConfig;
using models::FailureDetectorMonitor;

namespace {

constexpr Duration kLatency = 1_ms;  // one way

/// A watched node: answers every probe at once, and records when probes arrived (true time).
class Responder : public Process {
 public:
  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    if (record && message.holds<models::HealthProbe>()) probes.push_back(node.true_now());
    models::answer_health_probe(node, message);
  }
  /// The arrival of the last reply sent before `t` (true time): a probe's arrival + latency.
  Time last_reply_before(Time t) const {
    Time last = Time::zero();
    for (const Time p : probes)
      if (p < t) last = p;
    return last + kLatency;
  }
  std::vector<Time> probes;
  bool record = true;
};

FailureDetectorConfig timeout_config(Duration timeout = 350_ms, Duration interval = 100_ms) {
  FailureDetectorConfig c;
  c.target.name = "api";
  c.detector = DetectorKind::Timeout;
  c.interval = interval;
  c.timeout = timeout;
  return c;
}

FailureDetectorConfig phi_config(double threshold = 8) {
  FailureDetectorConfig c = timeout_config();
  c.detector = DetectorKind::Phi;
  c.threshold = threshold;
  c.min_std_deviation = 10_ms;
  return c;
}

/// `n` responders ("api-0" ...) and one monitor ("fd-0").
struct Bench {
  Bench(std::size_t n, const FailureDetectorConfig& config, Time end = at_ms(5000),
        std::uint64_t seed = 3, double monitor_drift_ppm = 0, double duplicate = 0)
      : h(seed, Time::zero(), end) {
    h.cluster.network().set_default_link(
        {.latency = Distribution::constant(static_cast<double>(kLatency.ns())),
         .duplicate = duplicate});
    for (std::size_t i = 0; i < n; ++i) {
      auto r = std::make_unique<Responder>();
      targets.push_back(r.get());
      h.add_process("api", std::move(r));
    }
    fd = h.build<FailureDetectorMonitor>("fd", 1, config).at(0);
    h.node("fd").clock().set_drift_ppm(monitor_drift_ppm, Time::zero());
  }
  NodeId target(std::size_t i) const { return h.nodes("api").at(i); }
  /// The target's timeline as (true time, state).
  std::vector<std::pair<Time, std::string>> timeline(std::uint32_t i) const {
    std::vector<std::pair<Time, std::string>> out;
    for (const auto& c : fd->timeline(i).changes()) out.emplace_back(c.at, c.state);
    return out;
  }

  dsimtest::ModelHarness h;
  std::vector<Responder*> targets;
  FailureDetectorMonitor* fd;
};

using Changes = std::vector<std::pair<Time, std::string>>;

}  // namespace

TEST_CASE("timeout detector: suspects exactly `timeout` after the last heartbeat, on its clock") {
  // The monitor's clock runs 5 % fast, exact, or 5 % slow: the suspicion comes `timeout` after
  // the last heartbeat as the monitor's clock counts, so 333.3, 350 or 368.4 ms of true time.
  for (const double ppm : {50'000.0, 0.0, -50'000.0}) {
    INFO("drift " << ppm << " ppm");
    Bench b(1, timeout_config(), at_ms(3000), 3, ppm);
    b.h.faults.crash(at_ms(1234), b.target(0));
    b.h.run();
    const Changes changes = b.timeline(0);
    REQUIRE(changes.size() == 2);
    CHECK(changes[1].second == "suspected");
    const Time suspected = changes[1].first;
    const Time heartbeat = b.targets[0]->last_reply_before(at_ms(1234));
    const NodeClock& clock = b.h.node("fd").clock();
    CHECK(b.fd->timeout_detector(0)->last_heartbeat() == clock.monotonic(heartbeat));
    // On the monitor's clock: exactly the timeout (to the nanosecond the timer rounds up to).
    const Duration local = clock.monotonic(suspected) - clock.monotonic(heartbeat);
    CHECK(local >= 350_ms);
    CHECK(local <= 350_ms + 1_ns);
    // ... and within a nanosecond of the first true instant at which it reads that (a slow clock
    // reads the same nanosecond at two consecutive true ones).
    Time first = suspected;
    while (clock.monotonic(first - 1_ns) - clock.monotonic(heartbeat) >= 350_ms)
      first = first - 1_ns;
    CHECK(suspected - first <= 1_ns);
    // In true time: timeout / (1 + drift).
    const double true_ms = static_cast<double>((suspected - heartbeat).ns()) / 1e6;
    CHECK(true_ms == Approx(350.0 / (1 + ppm * 1e-6)).margin(1e-5));
  }
}

TEST_CASE("a crashed target is detected, and trusted again once it answers after its restart") {
  for (const DetectorKind kind : {DetectorKind::Timeout, DetectorKind::Phi}) {
    INFO((kind == DetectorKind::Timeout ? "timeout" : "phi"));
    Bench b(2, kind == DetectorKind::Timeout ? timeout_config() : phi_config());
    b.h.faults.crash(at_ms(1000), b.target(0), 1000_ms);
    b.h.cluster.start();
    b.h.sim.run_until(at_ms(1002));  // the last reply sent before the crash has arrived
    // The instant each detector names for the suspicion (the monitor's clock is true time).
    Time expected;
    if (kind == DetectorKind::Timeout) {
      expected = b.fd->timeout_detector(0)->suspicion_time();
    } else {
      const auto* d = b.fd->phi_detector(0);
      expected = d->suspicion_time();
      const double offset = d->mean_ns() + d->threshold_y() * std::max(d->std_deviation_ns(), 10e6);
      CHECK((expected - d->last_heartbeat()).ns() == static_cast<std::int64_t>(std::ceil(offset)));
    }
    b.h.sim.run_until(at_ms(5000));
    const Changes changes = b.timeline(0);
    REQUIRE(changes.size() == 3);
    CHECK(changes[1] == std::pair<Time, std::string>{expected, "suspected"});
    CHECK(changes[2].second == "trusted");
    const Time heartbeat = b.targets[0]->last_reply_before(at_ms(1000));
    if (kind == DetectorKind::Timeout) CHECK(expected - heartbeat == 350_ms);
    // Trusted again at the first reply of the restarted node: its first probe + 1 ms.
    const auto after = std::find_if(b.targets[0]->probes.begin(), b.targets[0]->probes.end(),
                                    [](Time t) { return t >= at_ms(2000); });
    REQUIRE(after != b.targets[0]->probes.end());
    CHECK(changes[2].first == *after + kLatency);
    CHECK(b.timeline(1).size() == 1);  // the other target: trusted throughout
    const models::DetectionQuality q = b.fd->quality();
    CHECK(q.crashes == 1);
    CHECK(q.detections == 1);
    CHECK(q.detection_sum == changes[1].first - at_ms(1000));
    CHECK(q.false_suspicions == 0);
    // Up but still suspected: from the restart to the first reply (of 9 s of up time).
    CHECK(q.suspected_up_time == changes[2].first - at_ms(2000));
    CHECK(q.suspected_fraction() == Approx((changes[2].first - at_ms(2000)).seconds() / 9));
    CHECK(dsimtest::figure(*b.fd, "detections") == 1);
    CHECK(dsimtest::figure(*b.fd, "mean_detection_ms") ==
          Approx((changes[1].first - at_ms(1000)).millis()));
    CHECK(dsimtest::figure(*b.fd, "false_suspicions_per_hour") == 0);
  }
}

TEST_CASE("phi grows with the silence of a crashed target until it crosses the threshold") {
  Bench b(1, phi_config(3), at_ms(1400));
  b.h.faults.crash(at_ms(1000), b.target(0));
  b.h.cluster.start();
  b.h.sim.run_until(at_ms(1002));
  const auto* d = b.fd->phi_detector(0);
  REQUIRE(d != nullptr);
  double previous = -1;
  for (std::int64_t ms = 1003; ms <= 1400; ms += 3) {
    b.h.sim.run_until(at_ms(ms));
    const double phi = d->phi(at_ms(ms));  // the monitor's clock is true time here
    CHECK(phi >= previous);
    previous = phi;
    CHECK(b.fd->suspected(0) == d->suspected(at_ms(ms)));
    if (b.fd->suspected(0))
      CHECK(phi >= 3 - 1e-9);
    else
      CHECK(phi < 3);
  }
  CHECK(b.fd->suspected(0));
  CHECK(previous > 10);
}

TEST_CASE("a paused target is a false suspicion, trusted again when it resumes") {
  Bench b(2, timeout_config());
  b.h.faults.pause(at_ms(1000), b.target(1), 1000_ms);
  b.h.run();
  const Changes changes = b.timeline(1);
  REQUIRE(changes.size() == 3);
  CHECK(changes[1].first == b.targets[1]->last_reply_before(at_ms(1000)) + 350_ms);
  // At the resume the held probes are answered in a burst: the first reply 1 ms later.
  CHECK(changes[2] == std::pair<Time, std::string>{at_ms(2001), "trusted"});
  const models::DetectionQuality q = b.fd->quality(1);
  CHECK(q.crashes == 0);
  CHECK(q.false_suspicions == 1);
  CHECK(q.suspected_up_time == at_ms(2001) - changes[1].first);
  CHECK(b.fd->quality(0).false_suspicions == 0);
  // Per hour of the two targets' up time (2 × 5 s): 1 / (10 / 3600) = 360.
  CHECK(dsimtest::figure(*b.fd, "false_suspicions_per_hour") == Approx(360));
  CHECK(dsimtest::figure(*b.fd, "false_suspicions[1]") == 1);
  CHECK(dsimtest::figure(*b.fd, "false_suspicions[0]") == 0);
  CHECK(std::isnan(dsimtest::figure(*b.fd, "mean_detection_ms")));  // nothing to detect
  CHECK(dsimtest::figure(*b.fd, "suspected_fraction") ==
        Approx((at_ms(2001) - changes[1].first).seconds() / 10));
}

TEST_CASE("a pause of the monitor: a long one looks like everyone's silence, a short one not") {
  // The monitor pauses 50 ms after a probe round, when no reply is in flight (one would be
  // handled at the resume, as a heartbeat). The rounds' phase: the same seed, the same draw.
  Bench first(3, timeout_config(), at_ms(200));
  first.h.run();
  const Time round = first.targets[0]->probes.at(0) - kLatency + 1000_ms;
  for (const std::int64_t pause_ms : {100, 1000}) {
    INFO("pause " << pause_ms << " ms");
    Bench b(3, timeout_config());
    const Duration pause = Duration::nanoseconds(pause_ms * 1'000'000);
    b.h.faults.pause(round + 50_ms, b.h.nodes("fd").at(0), pause);
    b.h.run();
    const Time resume = round + 50_ms + pause;
    for (std::uint32_t i = 0; i < 3; ++i) {
      REQUIRE(b.targets[i]->last_reply_before(round + 50_ms) == round + kLatency * 2);
      const Changes changes = b.timeline(i);
      if (pause_ms == 100) {
        CHECK(changes.size() == 1);  // the next replies came before the timeout
        continue;
      }
      // The held probe tick and the due suspicion timer run at the resume, in that order: the
      // suspicion starts at once and ends with the replies to the probes just sent.
      REQUIRE(changes.size() == 3);
      CHECK(changes[1] == std::pair<Time, std::string>{resume, "suspected"});
      CHECK(changes[2] == std::pair<Time, std::string>{resume + kLatency * 2, "trusted"});
    }
    CHECK(b.fd->quality().false_suspicions == (pause_ms == 100 ? 0u : 3u));
  }
}

TEST_CASE("a crash of the monitor: targets unmonitored, then watched afresh after its restart") {
  Bench b(2, timeout_config());
  b.h.faults.crash(at_ms(1000), b.h.nodes("fd").at(0), 500_ms);
  b.h.faults.crash(at_ms(1200), b.target(0));  // while nobody watches
  b.h.run();
  const Changes changes = b.timeline(0);
  REQUIRE(changes.size() == 4);
  CHECK(changes[1] == std::pair<Time, std::string>{at_ms(1000), "unmonitored"});
  CHECK(changes[2] == std::pair<Time, std::string>{at_ms(1500), "trusted"});
  // Never heard from since the restart: suspected one timeout after the watch began.
  CHECK(changes[3] == std::pair<Time, std::string>{at_ms(1850), "suspected"});
  CHECK(b.timeline(1).size() == 3);  // unmonitored, then trusted again
  const models::DetectionQuality q = b.fd->quality(0);
  CHECK(q.detections == 1);
  CHECK(q.detection_sum == 650_ms);
}

TEST_CASE("a target dead from the start is suspected once the first timeout runs out") {
  for (const DetectorKind kind : {DetectorKind::Timeout, DetectorKind::Phi}) {
    Bench b(1, kind == DetectorKind::Timeout ? timeout_config() : phi_config(), at_ms(1000));
    b.h.faults.crash(at_ms(0), b.target(0));
    b.h.run();
    const Changes changes = b.timeline(0);
    REQUIRE(changes.size() == 2);
    // Timeout: 350 ms. φ: the seeds' μ = 100 ms (the interval), σ = 25 ms, y* = 5.612.
    const Duration expected = kind == DetectorKind::Timeout
                                  ? 350_ms
                                  : Duration::nanoseconds(static_cast<std::int64_t>(std::ceil(
                                        100e6 + models::PhiAccrualDetector::y_for(8) * 25e6)));
    CHECK(changes[1].first == Time::zero() + expected);
    CHECK(b.fd->quality().detection_sum == expected);
  }
}

TEST_CASE("stale and duplicated replies are not heartbeats, probes start at a random phase") {
  // Every message is delivered twice: each probe is answered twice, each answer arrives twice.
  Bench b(2, timeout_config(), at_ms(3000), 3, 0, 1.0);
  b.h.run();
  const double probes = dsimtest::figure(*b.fd, "probes");
  const double heartbeats = dsimtest::figure(*b.fd, "heartbeats");
  const auto rounds = static_cast<std::size_t>(probes / 2);
  const std::size_t received = b.targets[0]->probes.size();  // the last round may be on the way
  CHECK((received == 2 * rounds || received == 2 * (rounds - 1)));
  CHECK(heartbeats <= probes);
  CHECK(heartbeats >= probes - 2);  // the last round's replies may still be on the way
  // Rounds every 100 ms exactly, from a phase in [0, 100 ms) that the seed draws.
  std::vector<Time> first_probe;
  for (const std::uint64_t seed : {1, 2, 3, 4}) {
    Bench s(1, timeout_config(), at_ms(1000), seed);
    s.h.run();
    const auto& p = s.targets[0]->probes;
    REQUIRE(p.size() >= 9);
    for (std::size_t i = 1; i < p.size(); ++i) CHECK(p[i] - p[i - 1] == 100_ms);
    CHECK(p[0] >= Time::zero() + kLatency);
    CHECK(p[0] < at_ms(100) + kLatency);
    first_probe.push_back(p[0]);
  }
  std::sort(first_probe.begin(), first_probe.end());
  CHECK(std::unique(first_probe.begin(), first_probe.end()) == first_probe.end());
}

TEST_CASE("failure detector: configuration errors are scenario errors with their JSON path") {
  FailureDetectorConfig c = timeout_config(100_ms, 100_ms);
  auto problems = FailureDetectorMonitor::check(c);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].field == "timeout");
  c.detector = DetectorKind::Phi;  // the timeout is not used
  CHECK(FailureDetectorMonitor::check(c).empty());

  const auto path_of = [](const std::string& fd) {
    const std::string text = R"({"name": "fd", "duration": "2s",
      "components": {
        "api": {"model": "server", "count": 2},
        "client": {"model": "open_loop_client", "rate": "10/s", "target": "api"},
        "fd": {"model": "failure_detector", )" +
                             fd + R"(}}})";
    try {
      scenario::load_scenario_text(text, "fd.json");
    } catch (const scenario::ScenarioError& e) {
      REQUIRE(e.problems().size() == 1);
      return e.problems()[0].path + ": " + e.problems()[0].message;
    }
    return std::string("no error");
  };
  CHECK(path_of(R"("target": "api", "detector": "phi")") == "no error");
  CHECK_THAT(path_of(R"("target": "api", "timeout": "1s", "interval": "1s")"),
             Catch::StartsWith("/components/fd/timeout: expected more than the interval (1s)"));
  CHECK_THAT(path_of(R"("target": "api", "detector": "phy")"),
             Catch::StartsWith("/components/fd/detector: "));
  CHECK_THAT(path_of(R"("target": "api", "threshold": 0)"),
             Catch::StartsWith("/components/fd/threshold: "));
  CHECK_THAT(path_of(R"("target": "api", "threshold": 301)"),
             Catch::StartsWith("/components/fd/threshold: "));
  CHECK_THAT(path_of(R"("target": "api", "window": 0)"),
             Catch::StartsWith("/components/fd/window: "));
  CHECK_THAT(path_of(R"("target": "api", "min_std_deviation": "0")"),
             Catch::StartsWith("/components/fd/min_std_deviation: "));
  CHECK_THAT(path_of(R"("target": "api", "interval": "0")"),
             Catch::StartsWith("/components/fd/interval: "));
  CHECK_THAT(path_of(R"("detector": "phi")"), Catch::StartsWith("/components/fd/target: "));
  // A client does not answer probes: the wiring is refused before anything runs.
  CHECK_THAT(path_of(R"("target": "client")"),
             Catch::StartsWith("/components/fd/target: ") && Catch::Contains("health"));
}

TEST_CASE("failure detector: the steady state allocates nothing per heartbeat") {
  // Ten targets, both detectors; verdicts change during the warm-up (a pause), not after.
  for (const DetectorKind kind : {DetectorKind::Timeout, DetectorKind::Phi}) {
    FailureDetectorConfig config = kind == DetectorKind::Timeout ? timeout_config() : phi_config();
    Bench b(10, config, at_ms(20'000));
    b.h.faults.pause(at_ms(200), b.target(3), 500_ms);
    for (Responder* r : b.targets) r->record = false;  // the test's own vectors would grow
    b.h.cluster.start();
    b.h.sim.run_until(at_ms(2000));
    const std::uint64_t before = allocation_count();
    b.h.sim.run_until(at_ms(20'000));
    CHECK(allocation_count() - before == 0);
    CHECK(dsimtest::figure(*b.fd, "heartbeats") > 1800);
  }
}
