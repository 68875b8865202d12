#include "models/proxies/fault_proxy.hpp"

#include <stdexcept>
#include <utility>

#include "models/shared/health.hpp"
#include "sim/assert.hpp"
#include "sim/node.hpp"

namespace models {

FigureDocs FaultProxy::figure_docs() {
  return {
      {"requests", "requests", Combine::Sum, "requests that reached the proxy"},
      {"delayed", "requests", Combine::Sum, "requests held for `delay`"},
      {"aborted", "requests", Combine::Sum, "requests answered `abort_with`, never forwarded"},
      {"forwarded", "requests", Combine::Sum, "requests forwarded to the target"},
      {"late_responses", "answers", Combine::Sum,
       "target answers after the caller's deadline (the proxy had stopped waiting)"},
  };
}

std::unique_ptr<Model> FaultProxy::make(const Config& config, BuildContext& ctx,
                                        std::size_t replica) {
  std::vector<sim::NodeId> targets = ctx.resolve(config.target);
  if (targets.empty())
    throw std::invalid_argument("target: component '" + config.target.name + "' has no nodes");
  return std::make_unique<FaultProxy>(config, ctx.cluster.node(ctx.nodes.at(replica)),
                                      std::move(targets), ctx.warmup_end, ctx.end);
}

FaultProxy::FaultProxy(const Config& config, sim::Node& node, std::vector<sim::NodeId> targets,
                       sim::Time measure_from, sim::Time measure_to)
    : config_(config),
      targets_(std::move(targets)),
      faults_rng_(node.stream("faults")),
      route_rng_(node.stream("route")),
      measure_from_(measure_from),
      measure_to_(measure_to) {
  DSIM_ASSERT(!targets_.empty(), "a fault proxy needs a target");
}

void FaultProxy::on_start(sim::Node& /*node*/) {
  // Nothing to set up: after a restart on_crash has already emptied the table.
}

bool FaultProxy::measured(const sim::Node& node) const {
  const sim::Time now = node.true_now();
  return now >= measure_from_ && now <= measure_to_;
}

void FaultProxy::on_message(sim::Node& node, const sim::Message& message) {
  if (answer_health_probe(node, message)) return;  // checkable behind a load balancer
  if (message.holds<RpcResponse>()) {
    on_answer(node, message.as<RpcResponse>());
  } else {
    on_request(node, message);
  }
}

void FaultProxy::on_request(sim::Node& node, const sim::Message& message) {
  const RpcRequest request = message.as<RpcRequest>();
  const Id id = pending_.insert({.caller = message.from, .request = request});
  if (request.deadline != sim::Time::max()) {
    // Stop waiting when the caller does (true time: the caller's deadline is in true time).
    const sim::Duration left = std::max(sim::Duration::zero(), request.deadline - node.true_now());
    pending_.find(id)->gave_up = node.set_timer(left, {kCallerGaveUp, id});
  }
  if (measured(node)) ++requests_;
  if (faults_rng_.bernoulli(config_.delay_probability.value)) {
    if (measured(node)) ++delayed_;
    node.set_timer(config_.delay, {kDelayDone, id});
    return;
  }
  after_delay(node, id);
}

void FaultProxy::after_delay(sim::Node& node, Id id) {
  if (faults_rng_.bernoulli(config_.abort_probability.value)) {
    if (measured(node)) ++aborted_;
    answer(node, id, config_.abort_with);
    return;
  }
  RpcRequest forward = pending_.find(id)->request;
  forward.call_id = id;
  ++forward.hops;
  node.send(targets_[route_rng_.below(targets_.size())], forward);
  if (measured(node)) ++forwarded_;
}

void FaultProxy::on_answer(sim::Node& node, const RpcResponse& response) {
  if (pending_.find(response.call_id) == nullptr) {  // the caller gave up, or a duplicate
    if (measured(node)) ++late_;
    return;
  }
  answer(node, response.call_id, response.outcome, response.value);
}

void FaultProxy::answer(sim::Node& node, Id id, Outcome outcome, std::uint64_t value) {
  const Pending p = *pending_.find(id);
  pending_.erase(id);
  if (p.gave_up.serial != 0) node.cancel_timer(p.gave_up);
  node.send(p.caller,
            RpcResponse{.call_id = p.request.call_id, .outcome = outcome, .value = value});
}

void FaultProxy::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (pending_.find(tag.value) == nullptr) return;  // answered, or the caller gave up, meanwhile
  switch (tag.kind) {
    case kDelayDone:
      after_delay(node, tag.value);
      return;
    case kCallerGaveUp:
      pending_.erase(tag.value);  // silently: nobody waits for the answer
      return;
    default:
      DSIM_ASSERT(false, "unknown fault proxy timer");
  }
}

void FaultProxy::on_crash(sim::Node& /*node*/) {
  pending_.clear();  // timers die with the node's incarnation; callers time out
}

void FaultProxy::figures(Figures& out) const {
  out.sum("requests", static_cast<double>(requests_));
  out.sum("delayed", static_cast<double>(delayed_));
  out.sum("aborted", static_cast<double>(aborted_));
  out.sum("forwarded", static_cast<double>(forwarded_));
  out.sum("late_responses", static_cast<double>(late_));
}

}  // namespace models
