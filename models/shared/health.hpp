// The health-check protocol between a checker (a load balancer) and the nodes it checks.
//
// A checker sends HealthProbe{seq}; a node that is up answers HealthReply{seq, ready} at once,
// bypassing its request queue: a probe measures whether the node is alive and reachable, not
// how loaded it is (like a Kubernetes readiness probe served by a separate thread).
//
// Readiness is, for now, the same thing as answering: a crashed node loses the probe, a paused
// one holds it until it resumes (by then the checker has usually counted it as timed out), and
// a node that is up answers ready = 1. No server configuration declares itself "not ready";
// `ready = 0` is in the protocol for models that will (a cache warming up), and checkers count
// it as a failed probe. A slowed node (gray failure) answers probes as fast as ever, which is
// why active health checks do not see gray failures.
#pragma once

#include <cstdint>

#include "sim/message.hpp"

namespace sim {
class Node;
}

namespace models {

struct HealthProbe {
  std::uint64_t seq = 0;  // the checker's number for this probe, echoed in the reply
};

struct HealthReply {
  std::uint64_t seq = 0;
  std::uint8_t ready = 1;  // 0: alive but not ready for traffic (a failed probe)
};

/// If `message` is a HealthProbe, answers it from `node` (ready) and returns true; otherwise
/// returns false and leaves the message to the caller. For any model that can be checked.
bool answer_health_probe(sim::Node& node, const sim::Message& message);

}  // namespace models
