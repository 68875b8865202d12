// What one network path does to a message: delay, loss, duplication, bandwidth, order.
#pragma once

#include "sim/distribution.hpp"

namespace sim {

struct LinkSpec {
  /// One-way propagation delay in nanoseconds, drawn per message.
  Distribution latency = Distribution::constant(0);
  /// Probability that a message is lost on this link, in [0, 1].
  double loss = 0;
  /// Probability that a message is delivered twice (the copy draws its own latency), in [0, 1].
  double duplicate = 0;
  /// Bits per second; 0 means unlimited (no serialization delay). When set, a message occupies
  /// the link for size*8/bandwidth and queues behind the messages sent before it.
  double bandwidth_bps = 0;
  /// Deliver in send order (a TCP-like stream): a message never overtakes an earlier one.
  bool fifo = false;
};

}  // namespace sim
