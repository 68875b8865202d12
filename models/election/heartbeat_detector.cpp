#include "models/election/heartbeat_detector.hpp"

#include "sim/assert.hpp"

namespace models {

HeartbeatDetector::HeartbeatDetector(sim::Duration timeout) : timeout_(timeout) {
  DSIM_ASSERT(timeout > sim::Duration::zero(), "a heartbeat timeout is positive");
}

void HeartbeatDetector::reset(sim::Time now) {
  last_ = now;
}

void HeartbeatDetector::heartbeat(sim::Time now) {
  DSIM_ASSERT(now >= last_, "heartbeats arrive in local-time order");
  last_ = now;
}

}  // namespace models
