#include "sim/failure_process.hpp"

#include <algorithm>

#include "sim/assert.hpp"

namespace sim {

struct FailureProcess::Fail {
  FailureProcess* process;
  std::uint32_t node;
  void operator()() const { process->fail(node); }
};
struct FailureProcess::Repair {
  FailureProcess* process;
  std::uint32_t node;
  void operator()() const { process->repair(node); }
};
struct FailureProcess::Stop {
  FailureProcess* process;
  void operator()() const { process->stop(); }
};
struct FailureProcess::Look {
  FailureProcess* process;
  void operator()() const { process->look(); }
};

namespace {

// A drawn time, at least kMinDraw; none if it would pass the end of representable time.
std::optional<Time> after(Time from, const Distribution& d, Rng& rng) {
  const Duration drawn = std::max(d.sample_duration(rng), FailureProcess::kMinDraw);
  if (drawn >= Time::max() - from) return std::nullopt;
  return from + drawn;
}

}  // namespace

FailureProcess::FailureProcess(Cluster& cluster, FaultInjector& faults, std::vector<NodeId> nodes,
                               Options options)
    : cluster_(cluster), faults_(faults), options_(std::move(options)) {
  DSIM_ASSERT(!options_.stop || *options_.stop > options_.start,
              "a failure process stops after it starts");
  DSIM_ASSERT(options_.start >= cluster_.sim().now(), "a failure process starts in the future");
  nodes_.reserve(nodes.size());
  for (const NodeId id : nodes) {
    const Node& node = cluster_.node(id);
    nodes_.push_back({.id = id,
                      .failure_rng = node.stream(options_.name + "/time_to_failure"),
                      .repair_rng = node.stream(options_.name + "/time_to_repair")});
  }
  for (std::uint32_t i = 0; i < nodes_.size(); ++i) schedule_failure(i, options_.start);
  if (options_.stop) cluster_.sim().schedule_at(*options_.stop, Stop{this});
}

void FailureProcess::measure(Time from, Time to) {
  DSIM_ASSERT(from < to, "a measured interval is not empty");
  from_ = from;
  to_ = to;
  if (from <= cluster_.sim().now())
    look();
  else
    cluster_.sim().schedule_at(from, Look{this});
}

void FailureProcess::look() {
  for (PerNode& n : nodes_)
    n.crashed_before_from = cluster_.node(n.id).time_crashed(cluster_.sim().now());
}

void FailureProcess::schedule_failure(std::uint32_t i, Time from) {
  PerNode& n = nodes_[i];
  const auto at = after(from, options_.time_to_failure, n.failure_rng);
  if (!at || (options_.stop && *at >= *options_.stop)) return;  // never, for this process
  n.next = cluster_.sim().schedule_at(*at, Fail{this, i});
}

void FailureProcess::fail(std::uint32_t i) {
  PerNode& n = nodes_[i];
  const Time now = cluster_.sim().now();
  if (cluster_.node(n.id).state() == NodeState::Crashed) {  // rule (a): down already
    if (measured(now)) ++n.skipped;
    schedule_failure(i, now);
    return;
  }
  cluster_.crash(n.id);
  n.down = true;
  n.incarnation = cluster_.node(n.id).incarnation();
  if (measured(now)) ++n.failures;
  if (logged_ < options_.logged_crashes) {
    ++logged_;
    n.record = faults_.log().size();
    faults_.record({"crash", cluster_.node(n.id).name(), options_.label, now, std::nullopt});
  } else {
    faults_.count_unlisted();
  }
  const auto at = after(now, options_.time_to_repair, n.repair_rng);
  if (!at || (options_.stop && *at >= *options_.stop)) return;  // the stop restarts it, or never
  n.next = cluster_.sim().schedule_at(*at, Repair{this, i});
}

void FailureProcess::repair(std::uint32_t i) {
  end_crash(nodes_[i]);
  schedule_failure(i, cluster_.sim().now());
}

// Rule (b): restart the node only if the process's crash is still its current one.
void FailureProcess::end_crash(PerNode& n) {
  if (!n.down) return;
  n.down = false;
  const Node& node = cluster_.node(n.id);
  if (node.state() == NodeState::Crashed && node.incarnation() == n.incarnation)
    cluster_.restart(n.id);
  if (n.record != kNoRecord) faults_.close_record(n.record, cluster_.sim().now());
  n.record = kNoRecord;
}

void FailureProcess::stop() {
  for (PerNode& n : nodes_) {
    cluster_.sim().cancel(n.next);
    end_crash(n);
  }
}

std::vector<FailureProcess::NodeFigures> FailureProcess::figures() const {
  DSIM_ASSERT(to_ == Time::max() || cluster_.sim().now() == to_,
              "failure process figures are read when the measured interval ends");
  const Time to = std::min(to_, cluster_.sim().now());
  const double length = static_cast<double>((to - from_).ns());
  std::vector<NodeFigures> out;
  for (const PerNode& n : nodes_) {
    const Duration crashed = cluster_.node(n.id).time_crashed(to) - n.crashed_before_from;
    out.push_back({.node = n.id,
                   .up_fraction = length > 0 ? 1 - static_cast<double>(crashed.ns()) / length : 1,
                   .failures = n.failures,
                   .skipped = n.skipped});
  }
  return out;
}

double FailureProcess::expected_up_fraction() const {
  const double up = options_.time_to_failure.mean();
  return up / (up + options_.time_to_repair.mean());
}

}  // namespace sim
