// What a model attaches to a node: a few callbacks (OMNeT++'s initialize / handleMessage).
//
// Lifecycle contract, enforced by the Cluster:
// - on_start runs when the run starts and again after every restart.
// - on_message and on_timer run only while the node is up. While it is paused they wait and
//   run, in the order they arrived, when it resumes (timers therefore fire late).
// - On a crash, on_crash runs; then every pending timer of the node and every message that
//   arrives while it is down are lost. A model drops its volatile state in on_crash and keeps
//   what it declares durable (a log on disk); on_start then rebuilds from the durable part.
#pragma once

#include <cstdint>

#include "sim/message.hpp"

namespace sim {

class Node;

/// Names a timer for the model that set it: what it is for, and one value (a request id).
struct TimerTag {
  std::uint32_t kind = 0;
  std::uint64_t value = 0;
};

class Process {
 public:
  virtual ~Process() = default;
  virtual void on_start(Node& node) = 0;
  virtual void on_message(Node& node, const Message& message) = 0;
  virtual void on_timer(Node& /*node*/, TimerTag /*tag*/) {}
  virtual void on_crash(Node& /*node*/) {}
};

}  // namespace sim
