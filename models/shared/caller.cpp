#include "models/shared/caller.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "sim/assert.hpp"

namespace models {

Caller::Caller(const CallerConfig& config, std::vector<sim::NodeId> targets,
               std::uint32_t timer_kind, RequestRecorder& recorder, CallerListener& listener,
               std::uint32_t group)
    : Caller(config, std::move(targets), timer_kind, &recorder, recorder.measure_from(), listener) {
  group_ = group;
}

Caller::Caller(const CallerConfig& config, std::vector<sim::NodeId> targets,
               std::uint32_t timer_kind, RequestRecorder* recorder, sim::Time measure_from,
               CallerListener& listener)
    : config_(config),
      targets_(std::move(targets)),
      timer_kind_(timer_kind),
      recorder_(recorder),
      measure_from_(measure_from),
      listener_(listener),
      retry_(config.retry) {
  DSIM_ASSERT(!targets_.empty(), "a caller needs at least one target node");
  DSIM_ASSERT(config.timeout >= sim::Duration::zero(), "a timeout cannot be negative");
  DSIM_ASSERT(config.late_answer_window >= sim::Duration::zero(), "a window cannot be negative");
  if (config.circuit_breaker.enabled) breaker_.emplace(config.circuit_breaker, measure_from);
}

std::vector<sim::NodeId> resolve_target(const CallerConfig& config, BuildContext& ctx) {
  if (config.target.empty())
    throw std::invalid_argument("target: required, the name of the component to call");
  std::vector<sim::NodeId> nodes = ctx.resolve(config.target);
  if (nodes.empty())
    throw std::invalid_argument("target: component '" + config.target.name + "' has no nodes");
  return nodes;
}

sim::Time Caller::local_now(const sim::Node& node) {
  return node.clock().monotonic(node.true_now());
}

void Caller::start(sim::Node& node, std::uint64_t key, std::uint64_t token) {
  begin(node, Request{.token = token,
                      .key = key,
                      .request_id = next_request_id_++,
                      .origin = node.id(),
                      .idempotent = config_.idempotent});
}

void Caller::forward(sim::Node& node, const RpcRequest& inbound, std::uint64_t token,
                     sim::Time cap) {
  const bool from_client = inbound.origin != sim::kNoNode;
  begin(node,
        Request{.token = token,
                .key = inbound.key,
                .request_id = from_client ? inbound.request_id : next_request_id_++,
                .origin = from_client ? inbound.origin : node.id(),
                .hops = inbound.hops + 1,
                .operation = inbound.operation,
                .idempotent = config_.idempotent && inbound.idempotent != 0},
        cap);
}

void Caller::begin(sim::Node& node, Request request, sim::Time cap) {
  const sim::Time now = node.true_now();
  const sim::Time local = local_now(node);
  forget_old_orphans(now);
  if (!retry_rng_) retry_rng_.emplace(node.stream("retry"));
  request.started = now;
  request.measured = now >= measure_from_;
  if (config_.retry.deadline > sim::Duration::zero())
    request.deadline = local + config_.retry.deadline;
  // A cap in true time becomes an overall deadline on the node's clock: what is left of it now.
  if (cap != sim::Time::max()) request.deadline = std::min(request.deadline, local + (cap - now));
  request.backoff.emplace(retry_.config().backoff);
  const RequestId id = requests_.insert(request);
  ++active_;
  retry_.on_request(local);
  try_once(node, id);  // may end the request before it returns
}

sim::NodeId Caller::pick_target(sim::Node& node) const {
  return targets_[node.rng().below(targets_.size())];
}

void Caller::try_once(sim::Node& node, RequestId id) {
  Request& r = *requests_.find(id);
  ++r.tries;
  const sim::Time now = node.true_now();
  const sim::Time local = local_now(node);
  CircuitBreaker::Permit permit{.granted = true};
  if (breaker_) {
    permit = breaker_->try_acquire(local, now);
    if (!permit.granted) {
      if (r.measured) ++short_circuited_;
      attempt_failed(node, id, Outcome::CircuitOpen);
      return;
    }
  }
  // The try's timeout: `timeout`, cut to what is left of the overall deadline.
  sim::Duration wait =
      config_.timeout > sim::Duration::zero() ? config_.timeout : sim::Duration::max();
  if (r.deadline != sim::Time::max())
    wait = std::max(sim::Duration::zero(), std::min(wait, r.deadline - local));
  const bool timed = wait != sim::Duration::max();
  const AttemptId attempt =
      attempts_.insert(Attempt{.request = id, .sent = local, .permit = permit});
  r.current = attempt;
  ++r.tracked;
  ++r.sent;
  if (r.measured) ++attempts_sent_;
  const RpcRequest request{.call_id = attempt,
                           .key = r.key,
                           .deadline = timed ? now + wait : sim::Time::max(),
                           .attempt = r.tries,
                           .hops = r.hops,
                           .request_id = r.request_id,
                           .origin = r.origin,
                           .operation = r.operation,
                           .idempotent = static_cast<std::uint8_t>(r.idempotent ? 1 : 0)};
  node.send(pick_target(node), request, static_cast<std::uint32_t>(config_.request_bytes));
  if (recorder_ != nullptr) recorder_->attempt_sent(now);
  if (timed) attempts_.find(attempt)->timeout = node.set_timer(wait, {timer_kind_, attempt});
}

bool Caller::on_message(sim::Node& node, const sim::Message& message) {
  if (!message.holds<RpcResponse>()) return false;
  const auto response = message.as<RpcResponse>();
  forget_old_orphans(node.true_now());
  on_answer(node, response.call_id, response.outcome);
  return true;
}

void Caller::on_answer(sim::Node& node, AttemptId id, Outcome outcome) {
  const Attempt* found = attempts_.find(id);
  if (found == nullptr) {  // an attempt already ended: a late or duplicated answer
    if (node.true_now() >= measure_from_) ++late_responses_;
    return;
  }
  const Attempt attempt = *found;
  Request& r = *requests_.find(attempt.request);
  const bool in_flight = r.current == id;
  if (outcome == Outcome::Ok) took_effect(r);
  if (!in_flight) {  // an orphan: the answer to a try that timed out
    if (node.true_now() >= measure_from_) ++late_responses_;
    forget_attempt(id);
    return;
  }
  r.current = 0;
  if (attempt.timeout.serial != 0) node.cancel_timer(attempt.timeout);
  forget_attempt(id);  // the request is in progress: it stays
  breaker_result(node, attempt.permit, outcome != Outcome::Ok, local_now(node) - attempt.sent);
  if (outcome == Outcome::Ok) {
    finish(node, attempt.request, Outcome::Ok);
  } else {
    attempt_failed(node, attempt.request, outcome);
  }
}

bool Caller::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (tag.kind == timer_kind_) {
    // A timeout cancelled by its answer never fires, so the attempt is still in flight here.
    if (attempts_.find(tag.value) != nullptr) on_timeout(node, tag.value);
    return true;
  }
  if (tag.kind == timer_kind_ + 1) {  // a backoff wait is over: the retry goes
    if (Request* r = requests_.find(tag.value); r != nullptr && !r->finished) {
      r->backoff_timer = {};
      try_once(node, tag.value);
    }
    return true;
  }
  if (tag.kind == timer_kind_ + 2) {
    if (breaker_)
      breaker_->on_wait_over(static_cast<std::uint32_t>(tag.value), local_now(node),
                             node.true_now());
    return true;
  }
  return false;
}

void Caller::on_timeout(sim::Node& node, AttemptId id) {
  Attempt& attempt = *attempts_.find(id);
  const RequestId request = attempt.request;
  Request& r = *requests_.find(request);
  DSIM_ASSERT(r.current == id, "only the attempt in flight has a live timeout");
  r.current = 0;
  attempt.timeout = {};
  const CircuitBreaker::Permit permit = attempt.permit;
  const sim::Duration took = local_now(node) - attempt.sent;
  if (r.idempotent) {
    forget_attempt(id);
  } else {  // keep listening: a late Ok is an effect (see the header)
    orphans_.push_back({id, node.true_now() + config_.late_answer_window});
  }
  breaker_result(node, permit, true, took);
  attempt_failed(node, request, Outcome::Timeout);
}

void Caller::breaker_result(sim::Node& node, CircuitBreaker::Permit permit, bool failed,
                            sim::Duration duration) {
  if (!breaker_ || !permit.granted) return;
  const bool opened =
      breaker_->on_result(permit, failed, duration, local_now(node), node.true_now());
  if (opened && breaker_->config().automatic_transition)
    node.set_timer(breaker_->config().wait_duration_in_open_state,
                   {timer_kind_ + 2, breaker_->epoch()});
}

void Caller::attempt_failed(sim::Node& node, RequestId id, Outcome outcome) {
  Request& r = *requests_.find(id);
  const RetryDecision decision = decide_after_failure(node, r, outcome);
  if (!decision.retry) {
    finish(node, id, outcome);
  } else if (decision.wait > sim::Duration::zero()) {
    r.backoff_timer = node.set_timer(decision.wait, {timer_kind_ + 1, id});
  } else {
    try_once(node, id);
  }
}

RetryDecision Caller::decide_after_failure(sim::Node& node, Request& r, Outcome outcome) {
  const RetryDecision d =
      retry_.decide(outcome, r.tries, local_now(node), r.deadline, *r.backoff, *retry_rng_);
  if (r.measured) {
    if (d.retry) ++retries_;
    if (!d.retry && d.reason == GiveUpReason::Budget) ++denied_by_budget_;
    if (!d.retry && d.reason == GiveUpReason::Deadline) ++stopped_by_deadline_;
  }
  return d;
}

void Caller::took_effect(Request& r) {
  ++r.effects;
  if (r.effects != 2 || r.idempotent) return;  // counted once per request
  if (recorder_ != nullptr) recorder_->duplicate_effect(r.started);
  if (r.measured) ++duplicate_effects_;
}

void Caller::finish(sim::Node& node, RequestId id, Outcome outcome) {
  Request& r = *requests_.find(id);
  DSIM_ASSERT(!r.finished && r.current == 0, "a request ends once, with no attempt in flight");
  r.finished = true;
  --active_;
  const CallResult result{.token = r.token,
                          .outcome = outcome,
                          .started = r.started,
                          .ended = node.true_now(),
                          .attempts = r.sent};
  release_if_done(id);
  if (recorder_ != nullptr)
    recorder_->record(result.started, result.ended, outcome, result.attempts, group_);
  // Last: the listener may start the next request at once (a closed-loop user).
  listener_.on_call_done(node, result);
}

void Caller::forget_attempt(AttemptId id) {
  const RequestId request = attempts_.find(id)->request;
  attempts_.erase(id);
  --requests_.find(request)->tracked;
  release_if_done(request);
}

void Caller::release_if_done(RequestId id) {
  const Request* r = requests_.find(id);
  if (r != nullptr && r->finished && r->tracked == 0) requests_.erase(id);
}

void Caller::forget_old_orphans(sim::Time true_now) {
  while (!orphans_.empty() && orphans_.front().forget_at <= true_now) {
    const Orphan orphan = orphans_.pop_front();
    // Already answered (its entry is gone, or the slot holds a newer attempt): nothing to do.
    if (attempts_.find(orphan.attempt) != nullptr) forget_attempt(orphan.attempt);
  }
}

void Caller::on_crash(sim::Node& node) {
  // Timers die with the node's incarnation; the requests end without an outcome.
  requests_.for_each([&](RequestId, const Request& r) {
    if (!r.finished && recorder_ != nullptr) recorder_->abandoned(r.started);
  });
  requests_.clear();
  attempts_.clear();
  orphans_.clear();
  active_ = 0;
  retry_.reset();
  if (breaker_) breaker_->reset(node.true_now());
}

std::vector<const StateTimeline*> Caller::state_timelines() const {
  if (!breaker_) return {};
  return {&breaker_->timeline()};
}

FigureDocs Caller::figure_docs() {
  return {
      {"late_responses", "answers", Combine::Sum,
       "answers that came after their try had timed out (or duplicated): work nobody used"},
      {"attempts", "attempts", Combine::Sum, "tries sent, retries included"},
      {"retries", "attempts", Combine::Sum, "retries made"},
      {"retries_denied_by_budget", "requests", Combine::Sum,
       "failed requests that the retry budget kept from retrying"},
      {"retries_stopped_by_deadline", "requests", Combine::Sum,
       "failed requests whose deadline left no time for another try"},
      {"short_circuited", "attempts", Combine::Sum, "tries refused by the open circuit breaker"},
      {"duplicate_effects", "requests", Combine::Sum,
       "non-idempotent requests that took effect twice (a retry after a lost success)"},
      {"circuit_opened", "transitions", Combine::Sum, "times the circuit breaker opened"},
  };
}

void Caller::figures(Figures& out) const {
  out.sum("late_responses", static_cast<double>(late_responses_));  // first: tests rely on it
  out.sum("attempts", static_cast<double>(attempts_sent_));
  out.sum("retries", static_cast<double>(retries_));
  out.sum("retries_denied_by_budget", static_cast<double>(denied_by_budget_));
  out.sum("retries_stopped_by_deadline", static_cast<double>(stopped_by_deadline_));
  out.sum("short_circuited", static_cast<double>(short_circuited_));
  out.sum("duplicate_effects", static_cast<double>(duplicate_effects_));
  out.sum("circuit_opened", breaker_ ? static_cast<double>(breaker_->opened()) : 0.0);
}

}  // namespace models
