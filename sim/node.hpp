// A node: its lifecycle state, its clock, and the handle through which its Process acts
// (send, timers, randomness). Owned by the Cluster; a Process receives a Node& in every callback.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sim/clock.hpp"
#include "sim/ids.hpp"
#include "sim/message.hpp"
#include "sim/process.hpp"
#include "sim/rng.hpp"
#include "sim/simulator.hpp"

namespace sim {

class Cluster;

enum class NodeState : std::uint8_t { Up, Crashed, Paused };
const char* to_string(NodeState state);

/// Names a timer to cancel it. Harmless after the timer fired or was lost in a crash.
struct TimerId {
  EventId event;
  std::uint64_t serial = 0;
};

class Node {
 public:
  /// Node `id` of `cluster`, whose network already knows its name.
  Node(Cluster& cluster, NodeId id);

  NodeId id() const { return id_; }
  const std::string& name() const;
  NodeState state() const { return state_; }
  bool is_up() const { return state_ == NodeState::Up; }
  /// Incremented by every crash: a restarted node is a new incarnation.
  std::uint32_t incarnation() const { return incarnation_; }
  /// Ground truth for availability figures: how long the node has been crashed, in total,
  /// from the start of the run until `now` (true time, >= the last crash or restart).
  Duration time_crashed(Time now) const;

  /// This node's wall clock (offset, drift and steps included): what the model believes.
  Time now() const;
  /// True simulation time. For measuring (metrics), never for the model's decisions.
  Time true_now() const;
  NodeClock& clock() { return clock_; }
  const NodeClock& clock() const { return clock_; }

  /// Sends `payload` to `to`, `size_bytes` on the wire (for bandwidth). Only while up.
  template <Payload T>
  void send(NodeId to, const T& payload, std::uint32_t size_bytes = 0) {
    Message& m = prepare_message(to, size_bytes);
    m.set(payload);
    dispatch_message(m);
  }

  /// A timer that fires after `local_delay` on this node's monotonic clock.
  TimerId set_timer(Duration local_delay, TimerTag tag);
  /// As set_timer, for a timer that is usually cancelled before it fires (a try's timeout):
  /// cheaper to set and cancel (Simulator::schedule_timeout).
  TimerId set_timeout(Duration local_delay, TimerTag tag);
  /// A timer that fires when this node's wall clock reads `wall_time` (computed now: a later
  /// clock step does not move it).
  TimerId set_timer_at(Time wall_time, TimerTag tag);
  /// True if the timer was pending (it will not fire now).
  bool cancel_timer(TimerId id);

  /// This node's random stream ("node:<name>"), for the model's decisions.
  Rng& rng() { return rng_; }
  /// A further named stream of this node ("node:<name>/<part>").
  Rng stream(std::string_view part) const { return rng_.child(part); }

  /// Gray failure: how many times slower than normal this node works (>= 1). Server models
  /// multiply their service times by it.
  double slowdown() const { return slowdown_; }

  Process* process() { return process_.get(); }
  Cluster& cluster() { return cluster_; }

 private:
  friend class Cluster;
  struct Deferred {  // an event that reached the node while it was paused
    bool is_timer;
    TimerTag tag;
    std::uint64_t timer_serial;
    std::uint32_t message_slot;
  };

  Message& prepare_message(NodeId to, std::uint32_t size_bytes);
  void dispatch_message(Message& message);
  TimerId schedule_timer(Duration true_delay, TimerTag tag, bool timeout = false);

  Cluster& cluster_;
  NodeId id_;
  NodeState state_ = NodeState::Up;
  std::uint32_t incarnation_ = 0;
  Duration crashed_before_;  // crashed time up to the last restart
  Time crashed_at_;          // the last crash, while crashed
  NodeClock clock_;
  Rng rng_;
  double slowdown_ = 1.0;
  std::unique_ptr<Process> process_;
  std::vector<Deferred> deferred_;
  std::uint64_t next_timer_serial_ = 1;
  bool start_on_resume_ = false;  // paused when the cluster started: on_start runs on resume
};

}  // namespace sim
