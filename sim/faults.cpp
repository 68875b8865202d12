#include "sim/faults.hpp"

#include <cstdio>

#include "sim/assert.hpp"

namespace sim {

struct FaultInjector::Planned {
  enum class Kind {
    Crash,
    Pause,
    Partition,
    Cut,
    DegradeLink,
    DegradeNode,
    ClockStep,
    ClockDrift,
    Slow
  };
  Kind kind;
  NodeId node = kNoNode;
  LinkId link = kNoLink;
  bool flag = false;  // one_way (partition), both directions (cut)
  double factor = 1;
  double loss = 0;
  Duration by;
  std::vector<std::vector<NodeId>> groups;
  // Filled when applied, used when undone.
  std::size_t record = 0;
  std::uint32_t handle = 0;
};

struct FaultInjector::Apply {
  FaultInjector* injector;
  std::size_t index;
  void operator()() const { injector->apply(index); }
};

struct FaultInjector::Undo {
  FaultInjector* injector;
  std::size_t index;
  void operator()() const { injector->undo(index); }
};

namespace {
std::string words(const char* format, double a, double b) {
  char buf[96];
  std::snprintf(buf, sizeof buf, format, a, b);
  return buf;
}
}  // namespace

FaultInjector::FaultInjector(Cluster& cluster) : cluster_(cluster) {}
FaultInjector::~FaultInjector() = default;

void FaultInjector::schedule(Time at, std::optional<Duration> lasting, Planned planned) {
  DSIM_ASSERT(!lasting || *lasting >= Duration::zero(), "a fault cannot last a negative time");
  const std::size_t index = planned_.size();
  planned_.push_back(std::move(planned));
  cluster_.sim().schedule_at(at, Apply{this, index});
  if (lasting) cluster_.sim().schedule_at(at + *lasting, Undo{this, index});
}

void FaultInjector::crash(Time at, NodeId node, std::optional<Duration> down_for) {
  schedule(at, down_for, {.kind = Planned::Kind::Crash, .node = node});
}
void FaultInjector::pause(Time at, NodeId node, std::optional<Duration> paused_for) {
  schedule(at, paused_for, {.kind = Planned::Kind::Pause, .node = node});
}
void FaultInjector::partition(Time at, std::vector<std::vector<NodeId>> groups, bool one_way,
                              std::optional<Duration> lasting) {
  schedule(at, lasting,
           {.kind = Planned::Kind::Partition, .flag = one_way, .groups = std::move(groups)});
}
void FaultInjector::cut_link(Time at, LinkId link, bool both_directions,
                             std::optional<Duration> lasting) {
  schedule(at, lasting, {.kind = Planned::Kind::Cut, .link = link, .flag = both_directions});
}
void FaultInjector::degrade_link(Time at, LinkId link, double latency_factor, double extra_loss,
                                 std::optional<Duration> lasting) {
  schedule(at, lasting,
           {.kind = Planned::Kind::DegradeLink,
            .link = link,
            .factor = latency_factor,
            .loss = extra_loss});
}
void FaultInjector::degrade_node(Time at, NodeId node, double latency_factor, double extra_loss,
                                 std::optional<Duration> lasting) {
  schedule(at, lasting,
           {.kind = Planned::Kind::DegradeNode,
            .node = node,
            .factor = latency_factor,
            .loss = extra_loss});
}
void FaultInjector::clock_step(Time at, NodeId node, Duration by) {
  schedule(at, std::nullopt, {.kind = Planned::Kind::ClockStep, .node = node, .by = by});
}
void FaultInjector::clock_drift(Time at, NodeId node, double ppm) {
  schedule(at, std::nullopt, {.kind = Planned::Kind::ClockDrift, .node = node, .factor = ppm});
}
void FaultInjector::slow(Time at, NodeId node, double factor, std::optional<Duration> lasting) {
  schedule(at, lasting, {.kind = Planned::Kind::Slow, .node = node, .factor = factor});
}

void FaultInjector::record(FaultRecord record) {
  log_.push_back(std::move(record));
}

std::string FaultInjector::machine_peers(NodeId node) const {
  std::string peers;
  for (const NodeId n : cluster_.machine_of(node))
    if (n != node) peers += (peers.empty() ? "" : ",") + cluster_.node(n).name();
  return peers.empty() ? peers : peers + " (same machine)";
}

std::string FaultInjector::link_name(LinkId link) const {
  if (link == kNoLink) return "all links";
  const auto [from, to] = cluster_.network().link_ends(link);
  return cluster_.node(from).name() + "->" + cluster_.node(to).name();
}

void FaultInjector::apply(std::size_t index) {
  Planned& p = planned_[index];
  const Time now = cluster_.sim().now();
  Network& net = cluster_.network();
  FaultRecord r{.start = now};
  const std::string node_name = p.node == kNoNode ? "" : cluster_.node(p.node).name();
  switch (p.kind) {
    case Planned::Kind::Crash:
      cluster_.crash(p.node);
      r = {"crash", node_name, "", now, {}};
      break;
    case Planned::Kind::Pause:
      cluster_.pause(p.node);
      r = {"pause", node_name, "", now, {}};
      break;
    case Planned::Kind::Partition: {
      std::string target;
      for (const auto& group : p.groups) {
        target += target.empty() ? "{" : " | {";
        for (std::size_t i = 0; i < group.size(); ++i)
          target += (i ? "," : "") + cluster_.node(group[i]).name();
        target += "}";
      }
      p.handle = net.partition(p.groups, p.flag, now);
      r = {"partition",
           target,
           p.flag ? "one-way: the first group cannot send to the others" : "symmetric",
           now,
           {}};
      break;
    }
    case Planned::Kind::Cut:
      net.cut_link(p.link);
      if (p.flag) net.cut_link(net.reverse_link(p.link));
      r = {"cut", link_name(p.link), p.flag ? "both directions" : "one direction", now, {}};
      break;
    case Planned::Kind::DegradeLink:
      p.handle = net.degrade_link(p.link, p.factor, p.loss);
      r = {"degrade", link_name(p.link), words("latency x%g, loss +%g", p.factor, p.loss), now, {}};
      break;
    case Planned::Kind::DegradeNode:
      p.handle = net.degrade_node(p.node, p.factor, p.loss);
      r = {"degrade", node_name, words("latency x%g, loss +%g", p.factor, p.loss), now, {}};
      break;
    case Planned::Kind::ClockStep:  // one machine, one clock
      for (const NodeId n : cluster_.machine_of(p.node)) cluster_.node(n).clock().step(p.by);
      r = {"clock_step", node_name, "by " + format_duration(p.by), now, now};
      break;
    case Planned::Kind::ClockDrift:
      for (const NodeId n : cluster_.machine_of(p.node))
        cluster_.node(n).clock().set_drift_ppm(p.factor, now);
      r = {"clock_drift", node_name, words("%g ppm", p.factor, 0), now, {}};
      break;
    case Planned::Kind::Slow:
      cluster_.set_slowdown(p.node, p.factor);
      r = {"slow", node_name, words("service x%g", p.factor, 0), now, {}};
      break;
  }
  if (p.node != kNoNode) {  // a fault on a node strikes its machine
    const std::string peers = machine_peers(p.node);
    if (!peers.empty()) r.detail += (r.detail.empty() ? "with " : ", with ") + peers;
  }
  p.record = log_.size();
  log_.push_back(std::move(r));
}

void FaultInjector::undo(std::size_t index) {
  Planned& p = planned_[index];
  Network& net = cluster_.network();
  switch (p.kind) {
    case Planned::Kind::Crash:
      cluster_.restart(p.node);
      break;
    case Planned::Kind::Pause:
      cluster_.resume(p.node);
      break;
    case Planned::Kind::Partition:
      net.heal_partition(p.handle, cluster_.sim().now());
      break;
    case Planned::Kind::Cut:
      net.heal_link(p.link);
      if (p.flag) net.heal_link(net.reverse_link(p.link));
      break;
    case Planned::Kind::DegradeLink:
    case Planned::Kind::DegradeNode:
      net.restore(p.handle);
      break;
    case Planned::Kind::Slow:
      cluster_.set_slowdown(p.node, 1.0);
      break;
    case Planned::Kind::ClockStep:
    case Planned::Kind::ClockDrift:
      return;  // instantaneous: nothing to undo
  }
  log_[p.record].end = cluster_.sim().now();
}

}  // namespace sim
