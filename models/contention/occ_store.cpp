#include "models/contention/occ_store.hpp"

#include <algorithm>

#include "sim/assert.hpp"
#include "sim/node.hpp"

namespace models {

OccStore::OccStore(const OccStoreConfig& config, sim::Rng service_rng, sim::Time measure_from,
                   sim::Time measure_to)
    : config_(config),
      versions_(static_cast<std::size_t>(config.keys), 0),
      service_rng_(service_rng),
      measure_from_(measure_from),
      measure_to_(measure_to) {
  DSIM_ASSERT(config.keys >= 1, "an OCC store holds at least one key");
}

std::unique_ptr<Model> OccStore::make(const OccStoreConfig& config, BuildContext& ctx,
                                      std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "store replica out of range");
  const sim::Node& node = ctx.cluster.node(ctx.nodes[replica]);
  return std::make_unique<OccStore>(config, node.stream("service"), ctx.warmup_end, ctx.end);
}

void OccStore::on_start(sim::Node& /*node*/) {
  // Also after a restart: the versions survived, the queue did not (on_crash emptied it).
  DSIM_ASSERT(queue_.empty() && !busy_, "a store starts with an empty queue");
}

void OccStore::on_message(sim::Node& node, const sim::Message& message) {
  Pending p;
  if (message.holds<OccRequest>()) {
    const auto request = message.as<OccRequest>();
    p = {.from = message.from,
         .call_id = request.rpc.call_id,
         .key = request.rpc.key,
         .expected_version = request.expected_version,
         .operation = request.rpc.operation};
  } else {
    const auto rpc = message.as<RpcRequest>();  // a generic client's request: a read
    p = {.from = message.from, .call_id = rpc.call_id, .key = rpc.key, .operation = kOccRead};
  }
  queue_.push_back(p);
  if (!busy_) serve_next(node);
  queue_max_ = std::max(queue_max_, queue_.size() - 1);  // the front one is in service
}

void OccStore::serve_next(sim::Node& node) {
  DSIM_ASSERT(!busy_ && !queue_.empty(), "serve_next with a request in service or none waiting");
  busy_ = true;
  const double ns = config_.service_time.sample(service_rng_) * node.slowdown();
  node.set_timer(sim::duration_from_ns(ns), {kServiceDone, 0});
}

void OccStore::on_timer(sim::Node& node, sim::TimerTag tag) {
  DSIM_ASSERT(tag.kind == kServiceDone && busy_ && !queue_.empty(),
              "a store sets only service timers, one at a time");
  const sim::Time now = node.true_now();
  const Pending request = queue_.pop_front();
  busy_ = false;
  node.send(request.from, apply(request, now >= measure_from_ && now <= measure_to_));
  if (!queue_.empty()) serve_next(node);
}

RpcResponse OccStore::apply(const Pending& request, bool counted) {
  RpcResponse response{.call_id = request.call_id, .outcome = Outcome::Error};
  const bool known_op = request.operation == kOccRead || request.operation == kOccWrite;
  if (!known_op || request.key >= versions_.size()) {
    if (counted) ++errors_;
    return response;
  }
  std::uint64_t& version = versions_[request.key];
  if (request.operation == kOccRead) {
    if (counted) ++reads_;
    response.outcome = Outcome::Ok;
  } else {
    if (counted) ++writes_;
    if (request.expected_version == version) {
      ++version;
      response.outcome = Outcome::Ok;
    } else {
      if (counted) ++conflicts_;
      response.outcome = Outcome::Rejected;
    }
  }
  response.value = version;
  return response;
}

void OccStore::on_crash(sim::Node& /*node*/) {
  // The service timer dies with the incarnation; waiting requests are lost, versions are not.
  queue_.clear();
  busy_ = false;
}

FigureDocs OccStore::figure_docs() {
  return {
      {"reads", "requests", Combine::Sum, "reads served"},
      {"writes", "requests", Combine::Sum, "conditional writes served"},
      {"conflicts", "requests", Combine::Sum,
       "conditional writes rejected: the version had changed since the read"},
      {"errors", "requests", Combine::Sum, "requests for an unknown key or operation"},
      {"queue_max", "requests", Combine::Max, "the longest wait line seen"},
  };
}

void OccStore::figures(Figures& out) const {
  out.sum("reads", static_cast<double>(reads_));
  out.sum("writes", static_cast<double>(writes_));
  out.sum("conflicts", static_cast<double>(conflicts_));
  out.sum("errors", static_cast<double>(errors_));
  out.max("queue_max", static_cast<double>(queue_max_));
}

}  // namespace models
