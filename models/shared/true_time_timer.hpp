// A node timer that fires at a given true time, for schedules the scenario states in true time
// (offered load, rate steps): a drifting client clock must not change the load it offers.
// The delay is converted to the node's monotonic clock (exact to a nanosecond, as long as the
// drift does not change meanwhile), so the timer still dies with the node's incarnation.
#pragma once

#include <algorithm>

#include "sim/node.hpp"

namespace models {

inline sim::TimerId set_timer_at_true_time(sim::Node& node, sim::Time at, sim::TimerTag tag) {
  const sim::Time now = node.true_now();
  const sim::Time when = std::max(at, now);
  return node.set_timer(node.clock().monotonic(when) - node.clock().monotonic(now), tag);
}

}  // namespace models
