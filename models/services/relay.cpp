#include "models/services/relay.hpp"

#include <algorithm>
#include <utility>

#include "models/shared/expired_request.hpp"
#include "models/shared/health.hpp"
#include "sim/assert.hpp"

namespace models {

Outcome relay_answer(Outcome outcome) {
  switch (outcome) {
    case Outcome::Ok:
      return Outcome::Ok;
    case Outcome::Timeout:
      return Outcome::Timeout;
    default:
      return Outcome::Error;
  }
}

Relay::Relay(const RelayConfig& config, sim::Node& node, std::vector<sim::NodeId> targets,
             sim::Time measure_from, sim::Time measure_to)
    : config_(config),
      caller_(config.call, std::move(targets), kCall, /*recorder=*/nullptr, measure_from, *this),
      service_rng_(node.stream("service")),
      response_rng_(node.stream("response")),
      measure_from_(measure_from),
      measure_to_(measure_to) {}

std::unique_ptr<Model> Relay::make(const RelayConfig& config, BuildContext& ctx,
                                   std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "relay replica out of range");
  return std::make_unique<Relay>(config, ctx.cluster.node(ctx.nodes[replica]),
                                 resolve_target(config.call, ctx), ctx.warmup_end, ctx.end);
}

void Relay::on_start(sim::Node& /*node*/) {}

void Relay::on_message(sim::Node& node, const sim::Message& message) {
  if (caller_.on_message(node, message)) return;   // an answer to the relay's own call
  if (answer_health_probe(node, message)) return;  // behind a load balancer, like a server
  DSIM_ASSERT(message.holds<RpcRequest>(), "a relay receives requests and answers");
  const sim::Time now = node.true_now();
  const auto id = inbound_.insert({message.from, message.as<RpcRequest>()});
  if (measured(now)) {
    ++received_;
    in_progress_max_ = std::max(in_progress_max_, inbound_.size());
  }
  const double work_ns = config_.service_time.sample(service_rng_) * node.slowdown();
  if (work_ns > 0) {
    node.set_timer(sim::duration_from_ns(work_ns), {kServiceDone, id});
  } else {
    forward(node, id);
  }
}

void Relay::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (caller_.on_timer(node, tag)) return;
  DSIM_ASSERT(tag.kind == kServiceDone || tag.kind == kResponseDone, "unknown relay timer");
  if (inbound_.find(tag.value) == nullptr) return;
  if (tag.kind == kServiceDone)
    forward(node, tag.value);
  else
    answer(node, tag.value);
}

void Relay::forward(sim::Node& node, SlotTable<Inbound>::Id id) {
  const Inbound in = *inbound_.find(id);
  const sim::Time now = node.true_now();
  if (!config_.propagate_deadline) {
    caller_.forward(node, in.request, id);  // may end (and answer) before it returns
    return;
  }
  if (answer_if_expired(node, in.from, in.request, now)) {
    inbound_.erase(id);
    if (measured(now)) ++expired_;
    return;
  }
  caller_.forward(node, in.request, id, in.request.deadline);
}

void Relay::on_call_done(sim::Node& node, const CallResult& result) {
  Inbound* in = inbound_.find(result.token);
  DSIM_ASSERT(in != nullptr, "every call of a relay answers one request");
  in->answer = relay_answer(result.outcome);
  const double work_ns = config_.response_overhead.sample(response_rng_) * node.slowdown();
  if (work_ns > 0)
    node.set_timer(sim::duration_from_ns(work_ns), {kResponseDone, result.token});
  else
    answer(node, result.token);
}

void Relay::answer(sim::Node& node, SlotTable<Inbound>::Id id) {
  const Inbound in = *inbound_.find(id);
  node.send(in.from, RpcResponse{.call_id = in.request.call_id, .outcome = in.answer});
  inbound_.erase(id);
  if (measured(node.true_now())) ++(in.answer == Outcome::Ok ? answered_ok_ : answered_failed_);
}

void Relay::on_crash(sim::Node& node) {
  caller_.on_crash(node);
  inbound_.clear();  // unanswered: the upstream callers time out
}

FigureDocs Relay::figure_docs() {
  return FigureDocs{
             {"requests_received", "requests", Combine::Sum, "requests that reached the relay"},
             {"answered_ok", "requests", Combine::Sum, "answered upstream Ok"},
             {"answered_failed", "requests", Combine::Sum, "answered upstream with a failure"},
             {"expired_before_forward", "requests", Combine::Sum,
              "answered Timeout uncalled: their deadline had passed (propagate_deadline)"},
             {"in_progress_max", "requests", Combine::Max,
              "the most requests the relay held at once"},
         } +
         Caller::figure_docs();
}

void Relay::figures(Figures& out) const {
  out.sum("requests_received", static_cast<double>(received_));
  out.sum("answered_ok", static_cast<double>(answered_ok_));
  out.sum("answered_failed", static_cast<double>(answered_failed_));
  out.sum("expired_before_forward", static_cast<double>(expired_));
  out.max("in_progress_max", static_cast<double>(in_progress_max_));
  caller_.figures(out);
}

}  // namespace models
