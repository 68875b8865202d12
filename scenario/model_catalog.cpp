// The catalog: one line per model. A model's description, parameters, protocols and figures
// live with the model (models/<family>/<model>.hpp).
#include "scenario/model_catalog.hpp"

#include <algorithm>

#include "models/balancing/load_balancer.hpp"
#include "models/caching/cache.hpp"
#include "models/clients/closed_loop_client.hpp"
#include "models/clients/open_loop_client.hpp"
#include "models/contention/occ_client.hpp"
#include "models/contention/occ_store.hpp"
#include "models/election/failure_detector_monitor.hpp"
#include "models/election/fenced_store.hpp"
#include "models/election/leader_crasher.hpp"
#include "models/election/lease_owner.hpp"
#include "models/election/lock_service.hpp"
#include "models/election/raft_node.hpp"
#include "models/functions/function_platform.hpp"
#include "models/isolation/cell_router.hpp"
#include "models/isolation/gateway.hpp"
#include "models/pipelines/copier.hpp"
#include "models/pipelines/filter.hpp"
#include "models/pipelines/join.hpp"
#include "models/pipelines/merger.hpp"
#include "models/pipelines/queue_sharder.hpp"
#include "models/pipelines/reduce.hpp"
#include "models/pipelines/splitter.hpp"
#include "models/proxies/ambassador.hpp"
#include "models/proxies/fault_proxy.hpp"
#include "models/queues/autoscaler.hpp"
#include "models/queues/queue.hpp"
#include "models/queues/worker_pool.hpp"
#include "models/replication/leader_follower_store.hpp"
#include "models/replication/quorum_store.hpp"
#include "models/scatter/scatter_gather.hpp"
#include "models/services/relay.hpp"
#include "models/services/server.hpp"
#include "models/sharding/sharder.hpp"

namespace scenario {
namespace {

std::vector<ModelBinding> all_models() {
  using namespace models;
  std::vector<ModelBinding> all = {
      bind_model<Server>("server"),
      bind_model<Relay>("relay"),
      bind_model<OpenLoopClient>("open_loop_client"),
      bind_model<ClosedLoopClient>("closed_loop_client"),
      bind_model<LoadBalancer>("load_balancer"),
      bind_model<Cache>("cache"),
      bind_model<OccStore>("occ_store"),
      bind_model<OccClient>("occ_client"),
      bind_model<FaultProxy>("fault_proxy"),
      bind_model<Ambassador>("ambassador"),
      bind_model<ScatterGather>("scatter_gather"),
      bind_model<Sharder>("sharder"),
      bind_model<CellRouter>("cell_router"),
      bind_model<LockService>("lock_service"),
      bind_model<LeaseOwner>("lease_owner"),
      bind_model<FencedStore>("fenced_store"),
      bind_model<FailureDetectorMonitor>("failure_detector"),
      bind_model<RaftNode>("raft_node"),
      bind_model<LeaderCrasher>("leader_crasher"),
      bind_model<LeaderFollowerStore>("leader_follower_store"),
      bind_model<QuorumStore>("quorum_store"),
      bind_model<WorkerPool>("worker_pool"),
      bind_model<Queue>("queue"),
      bind_model<Autoscaler>("autoscaler"),
      bind_model<FunctionPlatform>("function"),
      bind_model<Copier>("copier"),
      bind_model<Filter>("filter"),
      bind_model<Splitter>("splitter"),
      bind_model<QueueSharder>("queue_sharder"),
      bind_model<Merger>("merger"),
      bind_model<Join>("join"),
      bind_model<Reduce>("reduce"),
      bind_model<Gateway>("gateway"),
  };
  std::sort(all.begin(), all.end(),
            [](const ModelBinding& a, const ModelBinding& b) { return a.name < b.name; });
  return all;
}

}  // namespace

const models::FigureDoc* ModelBinding::figure(std::string_view figure_name) const {
  for (const auto& f : figures)
    if (models::names_figure(f.name, figure_name)) return &f;
  return nullptr;
}

const std::vector<ModelBinding>& model_catalog() {
  static const std::vector<ModelBinding> catalog = all_models();
  return catalog;
}

const ModelBinding* find_model(std::string_view name) {
  for (const auto& m : model_catalog())
    if (m.name == name) return &m;
  return nullptr;
}

}  // namespace scenario
