#include "models/election/failure_detector_monitor.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "models/shared/health.hpp"
#include "sim/assert.hpp"
#include "sim/node.hpp"

namespace models {
namespace {

const char* const kTrusted = "trusted";
const char* const kSuspected = "suspected";
const char* const kUnmonitored = "unmonitored";

PhiAccrualConfig phi_config(const FailureDetectorConfig& c) {
  return {.threshold = c.threshold,
          .window = c.window,
          .min_std_deviation = c.min_std_deviation,
          .acceptable_heartbeat_pause = c.acceptable_pause,
          .first_heartbeat_estimate = c.interval};
}

}  // namespace

std::vector<ConfigProblem> FailureDetectorMonitor::check(const Config& config) {
  std::vector<ConfigProblem> problems;
  if (config.detector == DetectorKind::Timeout && config.timeout <= config.interval)
    problems.push_back(
        {"timeout", "expected more than the interval (" + sim::format_duration(config.interval) +
                        "): a shorter timeout suspects every node between two heartbeats"});
  return problems;
}

FigureDocs FailureDetectorMonitor::figure_docs() {
  return {
      {"probes", "probes", Combine::Sum, "health probes sent (heartbeat requests)"},
      {"heartbeats", "replies", Combine::Sum,
       "replies taken as heartbeats (not older than one already answered)"},
      {"crashes", "crashes", Combine::Sum,
       "crashes of watched nodes that began in the measured interval (fault schedule)"},
      {"detections", "crashes", Combine::Sum,
       "of those, crashes the monitor suspected until the node restarted (or the run ended)"},
      {"mean_detection_ms", "ms", Combine::Mean,
       "mean time from a crash to the start of the final suspicion (0 for a node suspected "
       "already; no value without a detection)"},
      {"max_detection_ms", "ms", Combine::Max,
       "longest detection time (no value without a detection)"},
      {"false_suspicions", "suspicions", Combine::Sum,
       "suspicions that began while the node had not crashed (up, or paused)"},
      {"false_suspicions_per_hour", "1/h", Combine::Mean,
       "false suspicions per hour of a watched node's up time (mistake rate)"},
      {"suspected_fraction", "fraction", Combine::Mean,
       "share of the watched nodes' up time during which they were suspected"},
      {"false_suspicions[i]", "suspicions", Combine::Sum,
       "false suspicions of the i-th node of the target"},
  };
}

FailureDetectorMonitor::FailureDetectorMonitor(const Config& config, sim::Node& node,
                                               std::vector<sim::NodeId> targets,
                                               std::vector<std::string> names,
                                               const sim::FaultInjector& faults,
                                               sim::Time measure_from, sim::Time measure_to)
    : config_(config),
      names_(std::move(names)),
      faults_(faults),
      phase_rng_(node.stream("probe")),
      measure_from_(measure_from),
      measure_to_(measure_to) {
  DSIM_ASSERT(!targets.empty(), "a monitor watches at least one node");
  DSIM_ASSERT(names_.size() == targets.size(), "one name per target");
  DSIM_ASSERT(config.interval > sim::Duration::zero(), "a probe interval is positive");
  sim::NodeId top = 0;
  for (const sim::NodeId n : targets) top = std::max(top, n);
  index_of_node_.assign(top + 1, -1);
  targets_.reserve(targets.size());
  timelines_.reserve(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) {
    index_of_node_[targets[i]] = static_cast<std::int32_t>(i);
    if (config.detector == DetectorKind::Phi)
      targets_.push_back({.node = targets[i],
                          .detector = std::variant<HeartbeatDetector, PhiAccrualDetector>(
                              std::in_place_type<PhiAccrualDetector>, phi_config(config))});
    else
      targets_.push_back({.node = targets[i],
                          .detector = std::variant<HeartbeatDetector, PhiAccrualDetector>(
                              std::in_place_type<HeartbeatDetector>, config.timeout)});
    timelines_.emplace_back(names_[i], kTrusted);
  }
}

std::unique_ptr<Model> FailureDetectorMonitor::make(const Config& config, BuildContext& ctx,
                                                    std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "failure detector replica out of range");
  const auto problems = check(config);
  if (!problems.empty())
    throw std::invalid_argument(problems.front().field + ": " + problems.front().message);
  std::vector<sim::NodeId> targets = ctx.resolve(config.target);
  if (targets.empty())
    throw std::invalid_argument("target: component '" + config.target.name + "' has no nodes");
  std::vector<std::string> names;
  for (const sim::NodeId t : targets) names.push_back(ctx.cluster.node(t).name());
  return std::make_unique<FailureDetectorMonitor>(config, ctx.cluster.node(ctx.nodes[replica]),
                                                  std::move(targets), std::move(names), ctx.faults,
                                                  ctx.warmup_end, ctx.end);
}

sim::Time FailureDetectorMonitor::local_now(const sim::Node& node) {
  return node.clock().monotonic(node.true_now());
}

void FailureDetectorMonitor::on_start(sim::Node& node) {
  const sim::Time local = local_now(node);
  for (std::uint32_t i = 0; i < targets_.size(); ++i) {
    Target& t = targets_[i];
    std::visit([&](auto& d) { d.reset(local); }, t.detector);
    t.suspected = false;
    timelines_[i].set(node.true_now(), kTrusted);
    arm(node, i, local);
  }
  // The first round at a random phase, as a monitor started at an arbitrary moment.
  const double phase = phase_rng_.uniform01() * static_cast<double>(config_.interval.ns());
  node.set_timer(sim::Duration::nanoseconds(static_cast<std::int64_t>(phase)), {kProbeTick, 0});
}

void FailureDetectorMonitor::probe_all(sim::Node& node) {
  ++seq_;
  for (const Target& t : targets_) node.send(t.node, HealthProbe{.seq = seq_});
  if (measured(node.true_now())) probes_ += targets_.size();
  node.set_timer(config_.interval, {kProbeTick, 0});
}

void FailureDetectorMonitor::on_message(sim::Node& node, const sim::Message& message) {
  if (answer_health_probe(node, message)) return;  // a monitor can be watched too
  DSIM_ASSERT(message.holds<HealthReply>(), "a monitor receives only health probes and replies");
  const std::int32_t index =
      message.from < index_of_node_.size() ? index_of_node_[message.from] : -1;
  if (index < 0) return;  // not a node we watch
  const auto target = static_cast<std::uint32_t>(index);
  const std::uint64_t seq = message.as<HealthReply>().seq;
  if (seq <= targets_[target].answered) return;  // reordered or duplicated: nothing newer
  targets_[target].answered = seq;
  on_heartbeat(node, target);
}

void FailureDetectorMonitor::on_heartbeat(sim::Node& node, std::uint32_t target) {
  Target& t = targets_[target];
  const sim::Time local = local_now(node);
  if (measured(node.true_now())) ++heartbeats_;
  std::visit([&](auto& d) { d.heartbeat(local); }, t.detector);
  if (t.suspected) {
    t.suspected = false;
    timelines_[target].set(node.true_now(), kTrusted);
  }
  node.cancel_timer(t.timer);
  arm(node, target, local);
}

void FailureDetectorMonitor::arm(sim::Node& node, std::uint32_t target, sim::Time local) {
  Target& t = targets_[target];
  const sim::Time at = std::visit([](const auto& d) { return d.suspicion_time(); }, t.detector);
  t.timer = node.set_timer(std::max(at - local, sim::Duration::zero()), {kSuspicion, target});
}

void FailureDetectorMonitor::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (tag.kind == kProbeTick) {
    probe_all(node);
    return;
  }
  DSIM_ASSERT(tag.kind == kSuspicion && tag.value < targets_.size(), "unknown monitor timer");
  const auto target = static_cast<std::uint32_t>(tag.value);
  Target& t = targets_[target];
  const sim::Time local = local_now(node);
  // A heartbeat cancels the timer, so it fires at the detector's instant -- unless the clock's
  // drift changed meanwhile (the delay was converted at the old rate): then wait for the rest.
  if (!std::visit([&](const auto& d) { return d.suspected(local); }, t.detector)) {
    arm(node, target, local);
    return;
  }
  if (!t.suspected) {
    t.suspected = true;
    timelines_[target].set(node.true_now(), kSuspected);
  }
}

void FailureDetectorMonitor::on_crash(sim::Node& node) {
  // Timers die with the incarnation; the view is rebuilt by on_start.
  for (std::uint32_t i = 0; i < targets_.size(); ++i) {
    targets_[i].suspected = false;
    targets_[i].timer = {};
    timelines_[i].set(node.true_now(), kUnmonitored);
  }
}

std::vector<const StateTimeline*> FailureDetectorMonitor::state_timelines() const {
  std::vector<const StateTimeline*> out;
  for (const StateTimeline& t : timelines_) out.push_back(&t);
  return out;
}

DetectionQuality FailureDetectorMonitor::quality(std::uint32_t target) const {
  return measure_detection(timelines_[target].changes(), kSuspected,
                           crash_intervals(faults_.log(), names_[target]), measure_from_,
                           measure_to_);
}

DetectionQuality FailureDetectorMonitor::quality() const {
  DetectionQuality total;
  for (std::uint32_t i = 0; i < targets_.size(); ++i) total.add(quality(i));
  return total;
}

void FailureDetectorMonitor::figures(Figures& out) const {
  std::vector<DetectionQuality> each;
  DetectionQuality total;
  for (std::uint32_t i = 0; i < targets_.size(); ++i) {
    each.push_back(quality(i));
    total.add(each.back());
  }
  out.sum("probes", static_cast<double>(probes_));
  out.sum("heartbeats", static_cast<double>(heartbeats_));
  out.sum("crashes", static_cast<double>(total.crashes));
  out.sum("detections", static_cast<double>(total.detections));
  out.mean("mean_detection_ms", total.mean_detection_ms());
  out.max("max_detection_ms", total.max_detection_ms());
  out.sum("false_suspicions", static_cast<double>(total.false_suspicions));
  out.mean("false_suspicions_per_hour", total.false_suspicions_per_hour());
  out.mean("suspected_fraction", total.suspected_fraction());
  for (std::size_t i = 0; i < each.size(); ++i)
    out.sum(indexed_name("false_suspicions", i), static_cast<double>(each[i].false_suspicions));
}

}  // namespace models
