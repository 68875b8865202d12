#include "models/caller.hpp"

#include <stdexcept>
#include <utility>

#include "sim/assert.hpp"

namespace models {

Caller::Caller(const CallerConfig& config, std::vector<sim::NodeId> targets,
               std::uint32_t timer_kind, RequestRecorder& recorder, CallerListener& listener)
    : config_(config),
      targets_(std::move(targets)),
      timer_kind_(timer_kind),
      recorder_(recorder),
      listener_(listener) {
  DSIM_ASSERT(!targets_.empty(), "a caller needs at least one target node");
  DSIM_ASSERT(config.timeout >= sim::Duration::zero(), "a timeout cannot be negative");
}

std::vector<sim::NodeId> resolve_target(const CallerConfig& config, BuildContext& ctx) {
  if (config.target.empty())
    throw std::invalid_argument("target: required, the name of the component to call");
  std::vector<sim::NodeId> nodes = ctx.resolve(config.target);
  if (nodes.empty())
    throw std::invalid_argument("target: component '" + config.target.name + "' has no nodes");
  return nodes;
}

void Caller::start(sim::Node& node, std::uint64_t key, std::uint64_t token) {
  const auto id = pending_.insert(Pending{
      .token = token, .key = key, .request_id = next_request_id_++, .started = node.true_now()});
  send_attempt(node, id);
}

sim::NodeId Caller::pick_target(sim::Node& node) const {
  return targets_[node.rng().below(targets_.size())];
}

void Caller::send_attempt(sim::Node& node, SlotTable<Pending>::Id id) {
  Pending& p = *pending_.find(id);
  ++p.attempts;
  const sim::Time now = node.true_now();
  const bool timed = config_.timeout > sim::Duration::zero();
  const RpcRequest request{.call_id = id,
                           .key = p.key,
                           .deadline = timed ? now + config_.timeout : sim::Time::max(),
                           .attempt = p.attempts,
                           .request_id = p.request_id,
                           .origin = node.id()};
  node.send(pick_target(node), request, static_cast<std::uint32_t>(config_.request_bytes));
  recorder_.attempt_sent(now);
  if (timed) p.timeout = node.set_timer(config_.timeout, {timer_kind_, id});
}

bool Caller::on_message(sim::Node& node, const sim::Message& message) {
  if (!message.holds<RpcResponse>()) return false;
  const auto response = message.as<RpcResponse>();
  Pending* p = pending_.find(response.call_id);
  if (p == nullptr) {  // the attempt already ended: a late or duplicated answer
    if (node.true_now() >= recorder_.measure_from()) ++late_responses_;
    return true;
  }
  if (p->timeout.serial != 0) node.cancel_timer(p->timeout);
  if (response.outcome == Outcome::Ok) {
    finish(node, response.call_id, Outcome::Ok);
  } else {
    attempt_failed(node, response.call_id, response.outcome);
  }
  return true;
}

bool Caller::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (tag.kind != timer_kind_) return false;
  // A timeout cancelled by its answer never fires, so the attempt is still pending here.
  if (pending_.find(tag.value) != nullptr) attempt_failed(node, tag.value, Outcome::Timeout);
  return true;
}

void Caller::attempt_failed(sim::Node& node, SlotTable<Pending>::Id id, Outcome outcome) {
  switch (decide_after_failure(*pending_.find(id), outcome)) {
    case AfterFailure::GiveUp:
      finish(node, id, outcome);
      return;
  }
}

Caller::AfterFailure Caller::decide_after_failure(const Pending& /*pending*/,
                                                  Outcome /*outcome*/) const {
  // A single attempt for now. A retry policy (attempts, backoff with jitter, budget) and a
  // circuit breaker decide here; a retry re-inserts the request under a new call id, so that a
  // late answer to the old attempt is recognised as late.
  return AfterFailure::GiveUp;
}

void Caller::finish(sim::Node& node, SlotTable<Pending>::Id id, Outcome outcome) {
  const Pending p = *pending_.find(id);
  pending_.erase(id);
  const sim::Time now = node.true_now();
  recorder_.record(p.started, now, outcome, p.attempts);
  // Last: the listener may start the next request at once (a closed-loop user).
  listener_.on_call_done(node, CallResult{.token = p.token,
                                          .outcome = outcome,
                                          .started = p.started,
                                          .ended = now,
                                          .attempts = p.attempts});
}

void Caller::on_crash(sim::Node& /*node*/) {
  // Timeout timers die with the node's incarnation; the requests end without an outcome.
  pending_.for_each(
      [&](SlotTable<Pending>::Id, const Pending& p) { recorder_.abandoned(p.started); });
  pending_.clear();
}

void Caller::figures(Figures& out) const {
  out.sum("late_responses", static_cast<double>(late_responses_));
}

}  // namespace models
