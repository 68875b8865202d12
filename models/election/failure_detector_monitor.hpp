// A failure-detector monitor: one node that watches every node of `target` and says, at each
// instant, which of them it trusts and which it suspects of having crashed -- the building block
// of leader election, lease ownership and membership (Chandra and Toueg's unreliable failure
// detectors). It runs one detector part per target: a fixed timeout
// (models/election/heartbeat_detector.hpp) or the φ accrual detector
// (models/election/phi_accrual_detector.hpp), and reports how fast it detected the real crashes
// and how often it suspected a node that had not crashed.
//
// Semantics.
// - Heartbeats over the health protocol (models/shared/health.hpp): every `interval` on the
//   monitor's clock it sends a HealthProbe to each target node; every HealthReply is a heartbeat
//   arrival of that node, timestamped on the monitor's monotonic clock when handled. So any
//   model that answers probes can be watched (they answer at once, bypassing their queues), and
//   a heartbeat measures the round trip: probe and reply latency, loss, a paused target (it
//   answers the held probes in a burst when it resumes). A reply to an older probe than one
//   already answered (reordered, duplicated) is not a heartbeat: it says nothing newer. A reply
//   that says "not ready" is one: the node is alive.
// - The first probes go out at a random phase in [0, interval) after the start (the node's
//   stream "probe"), as a monitor started at an arbitrary moment would; then every `interval`.
// - `detector`: "timeout" suspects a node `timeout` after its last heartbeat; "phi" when
//   φ >= `threshold`, over a window of the last `window` inter-arrival times, with
//   `min_std_deviation`, `acceptable_pause` and a first-heartbeat estimate of one `interval`
//   (Akka's choice). Both parts give the instant of the suspicion in closed form; the monitor
//   arms one timer per target for that instant (re-armed at each heartbeat) instead of polling,
//   so a suspicion starts at the exact nanosecond the detector crosses its threshold.
// - At the start, and again at each restart of the monitor, every target is trusted and its
//   detector starts as if a heartbeat had just arrived: a target that never answers is
//   suspected one timeout (or one φ threshold) later.
// - A crash of the monitor loses its view (volatile); targets are "unmonitored" until it
//   restarts. A pause of the monitor stops its probes and its timers: at the resume a
//   suspicion that fell due meanwhile starts at once, for every target, and ends one round
//   trip later, when the next replies arrive -- the monitor's own stall looks like the
//   silence of everyone.
// - The monitor answers probes itself (a monitor can be watched by another).
//
// Measurement (never behaviour): the verdicts go to one StateTimeline per target, named after
// the target node ("trusted", "suspected", "unmonitored"), in true time; after the run they are
// compared with the target's real crashes from the fault schedule's log (crash to restart) by
// models/election/detection_quality.hpp: crashes detected and the time to detect them, false
// suspicions (of a node up or paused) and their rate per hour of up time, and the suspected
// share of up time. Only crashes applied by the fault schedule are known to the measurement.
//
// Reference: the heartbeat failure detector of Akka Cluster (a request/response heartbeat every
// heartbeat-interval, φ accrual by default, akka.cluster.failure-detector), whose defaults this
// takes where it has them: interval 1s, threshold 8, window (max-sample-size) 1000,
// min_std_deviation 100ms. Differences from Akka's:
// 1. Akka's heartbeats are their own messages between cluster members, each node monitoring a
//    few neighbours; here one monitor probes every target with the health protocol.
// 2. acceptable_pause defaults to 0 (the paper's detector); Akka Cluster's is 3s.
// 3. "timeout" stands for Akka's DeadlineFailureDetector (differences in heartbeat_detector.hpp),
//    which Akka offers as an alternative; its default here, 4s, is Akka's deadline for the
//    cluster defaults (acceptable pause 3s + heartbeat interval 1s).
// 4. Akka Cluster starts watching a node it has not heard from with an artificial first heartbeat
//    expected-response-after (1s) after its first heartbeat request; here the watch starts with
//    the monitor, as if a heartbeat had arrived then.
// 5. Akka Cluster reads the detectors on a reaper tick (unreachable-nodes-reaper-interval, 1s);
//    here the suspicion starts at the instant of the crossing.
// Steady state: no allocation (detectors and the windows are sized at construction).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

#include "models/election/detection_quality.hpp"
#include "models/election/heartbeat_detector.hpp"
#include "models/election/phi_accrual_detector.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/state_timeline.hpp"
#include "sim/rng.hpp"

namespace models {

enum class DetectorKind : std::uint8_t { Timeout, Phi };

inline constexpr std::array<Choice<DetectorKind>, 2> kDetectorChoices{{
    {"timeout", DetectorKind::Timeout, "suspect a node `timeout` after its last heartbeat"},
    {"phi", DetectorKind::Phi,
     "φ accrual (Hayashibara et al.): suspect when φ reaches `threshold`"},
}};

struct FailureDetectorConfig {
  static constexpr const char* kSummary =
      "A failure-detector monitor: probes every node of `target` each `interval` over the health "
      "protocol and treats each reply as a heartbeat; `detector` \"timeout\" suspects a node "
      "`timeout` after its last heartbeat, \"phi\" when the φ accrual level (Hayashibara et al., "
      "as Akka) reaches `threshold`. Measures against the fault schedule: crashes detected, "
      "detection time, false suspicions per hour, suspected share of up time.";

  ComponentRef target;
  DetectorKind detector = DetectorKind::Timeout;
  sim::Duration interval = sim::Duration::nanoseconds(1'000'000'000);
  sim::Duration timeout = sim::Duration::nanoseconds(4'000'000'000);
  double threshold = 8;
  int window = 1000;
  sim::Duration min_std_deviation = sim::Duration::nanoseconds(100'000'000);
  sim::Duration acceptable_pause = sim::Duration::zero();

  template <class V>
  void describe(V& v) {
    v.field("target", target, "the component whose nodes are watched (required)");
    v.field("detector", detector, "how silence becomes suspicion", kDetectorChoices);
    v.field("interval", interval,
            "time between two probes of each node, on the monitor's clock (the first round at a "
            "random phase)",
            Limits{1});
    v.field("timeout", timeout,
            "detector timeout: suspect a node this long after its last heartbeat (more than the "
            "interval), on the monitor's clock",
            Limits{1});
    v.field("threshold", threshold,
            "detector phi: suspect when φ = -log10(P(a heartbeat comes this late)) reaches this",
            Limits{1e-3, PhiAccrualDetector::kMaxThreshold});
    v.field("window", window, "detector phi: inter-arrival times kept for μ and σ", Limits{1, 1e6});
    v.field("min_std_deviation", min_std_deviation,
            "detector phi: floor of σ (regular heartbeats would otherwise make φ jump)", Limits{1});
    v.field("acceptable_pause", acceptable_pause,
            "detector phi: added to the expected interval μ (Akka's acceptable-heartbeat-pause)",
            Limits{0});
  }
};

class FailureDetectorMonitor final : public Model {
 public:
  using Config = FailureDetectorConfig;
  enum TimerKind : std::uint32_t { kProbeTick = 1, kSuspicion = 2 };

  static Wiring wiring(const Config& c) {
    return {.serves = {Protocol::Health}, .calls = {{"target", c.target, {Protocol::Health}}}};
  }
  static FigureDocs figure_docs();
  /// Problems of a configuration that describe() cannot express.
  static std::vector<ConfigProblem> check(const Config& config);
  /// The instance for ctx.nodes[replica]; throws std::invalid_argument (a scenario error) when
  /// the configuration is inconsistent or the target has no nodes.
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);

  /// `names`: the targets' node names (timelines, and their crashes in `faults`' log).
  /// Figures count over [measure_from, measure_to].
  FailureDetectorMonitor(const Config& config, sim::Node& node, std::vector<sim::NodeId> targets,
                         std::vector<std::string> names, const sim::FaultInjector& faults,
                         sim::Time measure_from, sim::Time measure_to);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;
  std::vector<const StateTimeline*> state_timelines() const override;

  // For tests: the monitor's current view, and its measures so far.
  std::size_t target_count() const { return targets_.size(); }
  bool suspected(std::uint32_t target) const { return targets_[target].suspected; }
  /// The target's detector (by kind).
  const HeartbeatDetector* timeout_detector(std::uint32_t target) const {
    return std::get_if<HeartbeatDetector>(&targets_[target].detector);
  }
  const PhiAccrualDetector* phi_detector(std::uint32_t target) const {
    return std::get_if<PhiAccrualDetector>(&targets_[target].detector);
  }
  const StateTimeline& timeline(std::uint32_t target) const { return timelines_[target]; }
  /// Measured against the fault log so far, one target or all of them.
  DetectionQuality quality(std::uint32_t target) const;
  DetectionQuality quality() const;

 private:
  struct Target {
    sim::NodeId node = sim::kNoNode;
    std::uint64_t answered = 0;  // the newest probe answered so far
    bool suspected = false;
    sim::TimerId timer;
    std::variant<HeartbeatDetector, PhiAccrualDetector> detector;
  };

  void probe_all(sim::Node& node);
  void on_heartbeat(sim::Node& node, std::uint32_t target);
  /// Arms the target's suspicion timer for the instant its detector names.
  void arm(sim::Node& node, std::uint32_t target, sim::Time local_now);
  static sim::Time local_now(const sim::Node& node);
  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }

  Config config_;
  std::vector<Target> targets_;
  std::vector<std::string> names_;
  std::vector<std::int32_t> index_of_node_;  // NodeId -> target index, -1: not a target
  std::vector<StateTimeline> timelines_;
  const sim::FaultInjector& faults_;
  sim::Rng phase_rng_;
  sim::Time measure_from_, measure_to_;
  std::uint64_t seq_ = 0;  // probes rounds sent, across restarts
  std::uint64_t probes_ = 0, heartbeats_ = 0;
};

}  // namespace models
