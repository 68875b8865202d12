#include "sim/node.hpp"

#include "sim/cluster.hpp"

namespace sim {

const char* to_string(NodeState state) {
  switch (state) {
    case NodeState::Up:
      return "up";
    case NodeState::Crashed:
      return "crashed";
    case NodeState::Paused:
      return "paused";
  }
  return "?";
}

Node::Node(Cluster& cluster, NodeId id)
    : cluster_(cluster), id_(id), rng_(cluster.sim().rng("node:" + name())) {}

const std::string& Node::name() const {
  return cluster_.network().node_name(id_);
}

Time Node::true_now() const {
  return cluster_.sim().now();
}
Time Node::now() const {
  return clock_.wall(true_now());
}

Duration Node::time_crashed(Time now) const {
  if (state_ != NodeState::Crashed) return crashed_before_;
  DSIM_ASSERT(now >= crashed_at_, "crashed time asked for before the crash");
  return crashed_before_ + (now - crashed_at_);
}

Message& Node::prepare_message(NodeId to, std::uint32_t size_bytes) {
  DSIM_ASSERT(state_ == NodeState::Up, "only an up node can send");
  DSIM_ASSERT(to < cluster_.size(), "message to an unknown node");
  const std::uint32_t slot = cluster_.acquire_slot();
  Message& m = cluster_.pool_[slot];
  m.from = id_;
  m.to = to;
  m.size_bytes = size_bytes;
  m.id = cluster_.next_message_id_++;
  m.sent_at = true_now();
  return m;
}

void Node::dispatch_message(Message& message) {
  ++cluster_.counters_.messages_sent;
  const auto slot = static_cast<std::uint32_t>(&message - cluster_.pool_.data());
  cluster_.forward(slot, id_);
}

TimerId Node::set_timer(Duration local_delay, TimerTag tag) {
  return schedule_timer(clock_.true_delay_for(local_delay), tag);
}

TimerId Node::set_timeout(Duration local_delay, TimerTag tag) {
  return schedule_timer(clock_.true_delay_for(local_delay), tag, true);
}

TimerId Node::set_timer_at(Time wall_time, TimerTag tag) {
  return schedule_timer(clock_.true_time_at_wall(wall_time, true_now()) - true_now(), tag);
}

TimerId Node::schedule_timer(Duration true_delay, TimerTag tag, bool timeout) {
  DSIM_ASSERT(state_ != NodeState::Crashed, "a crashed node sets no timers");
  const std::uint64_t serial = next_timer_serial_++;
  return {cluster_.schedule_timer(*this, true_delay, tag, serial, timeout), serial};
}

bool Node::cancel_timer(TimerId id) {
  if (cluster_.sim().cancel(id.event)) return true;
  if (id.serial == 0) return false;  // never set (0 also marks cancelled held timers)
  // It may have fired while the node was paused and be waiting in the held queue.
  for (auto& d : deferred_) {
    if (d.is_timer && d.timer_serial == id.serial) {
      d.timer_serial = 0;  // marks it cancelled; skipped on resume
      return true;
    }
  }
  return false;
}

}  // namespace sim
