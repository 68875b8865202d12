#include "models/services/poison.hpp"

#include "sim/cluster.hpp"

namespace models {

struct PoisonSupervisor::Restart {
  PoisonSupervisor* supervisor;
  sim::Cluster* cluster;
  sim::NodeId node;
  std::uint32_t incarnation;
  std::size_t record;
  void operator()() const { supervisor->restart(*cluster, node, incarnation, record); }
};

void PoisonSupervisor::crash(sim::Node& node) {
  sim::Cluster& cluster = node.cluster();
  const sim::Time now = cluster.sim().now();
  const sim::NodeId id = node.id();
  cluster.crash(id);  // runs the model's on_crash: from here on, `node` is a crashed node
  std::size_t record = kNoRecord;
  if (log_ != nullptr) {
    if (logged_ < kLoggedCrashes) {
      ++logged_;
      record = log_->log().size();
      log_->record({"crash", node.name(), "poison request", now, std::nullopt});
    } else {
      log_->count_unlisted();
    }
  }
  cluster.sim().schedule_after(restart_after_,
                               Restart{this, &cluster, id, node.incarnation(), record});
}

// Restarts the node only if the poison crash is still its current one (as a failure process).
void PoisonSupervisor::restart(sim::Cluster& cluster, sim::NodeId id, std::uint32_t incarnation,
                               std::size_t record) {
  const sim::Node& node = cluster.node(id);
  if (node.state() == sim::NodeState::Crashed && node.incarnation() == incarnation)
    cluster.restart(id);
  if (record != kNoRecord) log_->close_record(record, cluster.sim().now());
}

}  // namespace models
