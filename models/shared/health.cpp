#include "models/shared/health.hpp"

#include "sim/node.hpp"

namespace models {

bool answer_health_probe(sim::Node& node, const sim::Message& message) {
  if (!message.holds<HealthProbe>()) return false;
  // Only an up node runs on_message, so answering at all is being ready (see the header).
  node.send(message.from, HealthReply{.seq = message.as<HealthProbe>().seq, .ready = 1});
  return true;
}

}  // namespace models
