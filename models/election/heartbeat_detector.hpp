// A fixed-timeout heartbeat failure detector: a monitored process is suspected when no heartbeat
// from it has arrived for `timeout` on the monitor's own clock. A part, without model glue: its
// owner (a monitor, a Raft follower, a lease holder, a load balancer) feeds it heartbeat arrivals
// and asks it when the suspicion would start; it sends nothing and sets no timer itself.
//
// Semantics. All times are readings of the owner's monotonic clock (local time): a drifting
// clock stretches or shrinks the timeout in true time exactly as it would on a real host.
// - reset(now): start watching at `now`, as if a heartbeat had just arrived;
// - heartbeat(now): a heartbeat arrived at `now`;
// - suspicion_time() = last heartbeat (or reset) + timeout: the instant the suspicion starts if
//   nothing more arrives (closed form, so the owner arms one timer instead of polling);
// - suspected(now) = now >= suspicion_time(); a later heartbeat ends the suspicion.
// So the suspicion starts exactly `timeout` after the last heartbeat, local time.
//
// Reference: the timeout-based detector that Chen, Toueg and Aguilera ("On the quality of service
// of failure detectors", IEEE Trans. Computers 51(5), 2002) take as the simple algorithm, and
// Akka's DeadlineFailureDetector (akka.remote.DeadlineFailureDetector), whose isAvailable is
// `now < last heartbeat + deadline`: the same boundary as here. Differences from Akka's:
// 1. Akka's deadline is acceptable-heartbeat-pause + heartbeat-interval; here one `timeout`.
// 2. Akka treats a process never heard from as available (no suspicion before the first
//    heartbeat); here reset() counts as a heartbeat, so a process dead from the start is
//    suspected `timeout` after the watch began.
// Nothing allocates; copying is cheap.
#pragma once

#include "sim/time.hpp"

namespace models {

class HeartbeatDetector {
 public:
  /// `timeout` > 0.
  explicit HeartbeatDetector(sim::Duration timeout);

  /// Starts watching at local time `now`, as if a heartbeat had just arrived.
  void reset(sim::Time now);
  /// A heartbeat arrived at local time `now` (never earlier than the previous one).
  void heartbeat(sim::Time now);

  /// The local time at which the suspicion starts if no heartbeat arrives before it.
  sim::Time suspicion_time() const { return last_ + timeout_; }
  bool suspected(sim::Time now) const { return now >= suspicion_time(); }

  sim::Time last_heartbeat() const { return last_; }
  sim::Duration timeout() const { return timeout_; }

 private:
  sim::Duration timeout_;
  sim::Time last_ = sim::Time::zero();
};

}  // namespace models
