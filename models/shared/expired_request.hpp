// The first check a forwarding model (relay, sharder, cell router) makes on a request: one whose
// caller's deadline has already passed is answered Timeout at once, since forwarding it would
// only be wasted work downstream.
#pragma once

#include "models/shared/rpc.hpp"
#include "sim/node.hpp"

namespace models {

/// If `request` (from `from`) has expired by `now`, answers it Timeout and returns true.
inline bool answer_if_expired(sim::Node& node, sim::NodeId from, const RpcRequest& request,
                              sim::Time now) {
  if (request.deadline > now) return false;
  node.send(from, RpcResponse{.call_id = request.call_id, .outcome = Outcome::Timeout});
  return true;
}

}  // namespace models
