#include "models/shared/caller.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "sim/assert.hpp"

namespace models {

Caller::Caller(const CallerConfig& config, std::vector<sim::NodeId> targets,
               std::uint32_t timer_kind, RequestRecorder& recorder, CallerListener& listener,
               std::uint32_t group)
    : Caller(config, std::move(targets), timer_kind, &recorder, recorder.measure_from(), listener,
             group) {}

Caller::Caller(const CallerConfig& config, std::vector<sim::NodeId> targets,
               std::uint32_t timer_kind, RequestRecorder* recorder, sim::Time measure_from,
               CallerListener& listener, std::uint32_t group)
    : Caller(std::make_shared<const CallerConfig>(config),
             std::make_shared<const std::vector<sim::NodeId>>(std::move(targets)), timer_kind,
             recorder, measure_from, listener, group) {}

Caller::Caller(std::shared_ptr<const CallerConfig> shared, CallTargets targets,
               std::uint32_t timer_kind, RequestRecorder* recorder, sim::Time measure_from,
               CallerListener& listener, std::uint32_t group)
    : config_(std::move(shared)),
      targets_(std::move(targets)),
      timer_kind_(timer_kind),
      recorder_(recorder),
      measure_from_(measure_from),
      listener_(listener),
      group_(group),
      retry_(config_->retry) {
  const CallerConfig& config = *config_;
  DSIM_ASSERT(targets_ && !targets_->empty(), "a caller needs at least one target node");
  if (config.hedge.enabled) hedge_ = std::make_unique<HedgePolicy>(config.hedge);
  DSIM_ASSERT(config.timeout >= sim::Duration::zero(), "a timeout cannot be negative");
  DSIM_ASSERT(config.late_answer_window >= sim::Duration::zero(), "a window cannot be negative");
  if (config.circuit_breaker.enabled)
    breaker_ = std::make_unique<CircuitBreaker>(config.circuit_breaker, measure_from);
  if (config.bulkhead.enabled())
    bulkhead_ = std::make_unique<Bulkhead>(config.bulkhead, measure_from);
  if (breaker_ || hedge_ || bulkhead_ || retry_.has_budget())
    parts_counts_ = std::make_unique<PartsCounts>();
}

void Caller::set_call_id_space(std::uint32_t space) {
  DSIM_ASSERT(space >= 1 && space < kCallIdSpaces, "a call-id space is 1 .. 255");
  DSIM_ASSERT(attempts_.size() == 0 && next_request_id_ == 1, "set before the first request");
  id_space_ = static_cast<std::uint64_t>(space) << 24;
}

std::uint64_t Caller::wire_id(AttemptId attempt) const {
  if (id_space_ == 0) return attempt;
  // The slot's high byte carries the space: a caller with a space has fewer than 2^24 attempts
  // tracked at once (in flight or orphaned).
  DSIM_ASSERT((attempt & 0xff000000u) == 0, "at most 2^24 attempts of a caller at once");
  return attempt | id_space_;
}

Caller::AttemptId Caller::attempt_of(std::uint64_t call_id) const {
  return id_space_ == 0 ? call_id : call_id & ~std::uint64_t{0xff000000u};
}

std::vector<sim::NodeId> resolve_target(const CallerConfig& config, BuildContext& ctx) {
  if (config.target.empty())
    throw std::invalid_argument("target: required, the name of the component to call");
  std::vector<sim::NodeId> nodes = ctx.resolve(config.target);
  if (nodes.empty())
    throw std::invalid_argument("target: component '" + config.target.name + "' has no nodes");
  return nodes;
}

CallTargets shared_targets(const CallerConfig& config, BuildContext& ctx) {
  // Resolved for each node (a colocated target resolves to the node's own machine), shared
  // while it comes out the same.
  return ctx.intern(&config.target, resolve_target(config, ctx));
}

std::vector<sim::NodeId> resolve_shards(const CallerConfig& config, std::int64_t replicas,
                                        BuildContext& ctx) {
  std::vector<sim::NodeId> nodes = resolve_target(config, ctx);
  if (replicas < 1 || nodes.size() % static_cast<std::size_t>(replicas) != 0)
    throw std::invalid_argument("replicas: " + std::to_string(replicas) + " does not divide the " +
                                std::to_string(nodes.size()) + " nodes of '" + config.target.name +
                                "'");
  return nodes;
}

sim::Time Caller::local_now(const sim::Node& node) {
  return node.clock().monotonic(node.true_now());
}

void Caller::set_shard_size(std::size_t replicas) {
  DSIM_ASSERT(replicas >= 1 && targets_->size() % replicas == 0,
              "shards of equal size make up the targets");
  set_shard_sizes(std::vector<std::size_t>(targets_->size() / replicas, replicas));
}

void Caller::set_shard_sizes(const std::vector<std::size_t>& sizes) {
  shard_first_ = std::make_unique<std::vector<std::size_t>>(1, 0);
  for (const std::size_t size : sizes) {
    DSIM_ASSERT(size >= 1, "a shard has a replica");
    shard_first_->push_back(shard_first_->back() + size);
  }
  DSIM_ASSERT(shard_first_->back() == targets_->size(), "the shards make up the targets");
}

std::size_t Caller::shard_count() const {
  return shard_first_ ? shard_first_->size() - 1 : 1;
}

std::pair<std::size_t, std::size_t> Caller::shard_span(std::uint32_t shard) const {
  if (shard == kAnyShard || !shard_first_) return {0, targets_->size()};
  const std::vector<std::size_t>& first = *shard_first_;
  DSIM_ASSERT(shard + 1 < first.size(), "a shard of the targets");
  return {first[shard], first[shard + 1] - first[shard]};
}

void Caller::start(sim::Node& node, std::uint64_t key, std::uint64_t token, std::uint32_t shard,
                   std::uint8_t operation, bool poison) {
  DSIM_ASSERT(shard == kAnyShard || shard < shard_count(), "a shard of the targets");
  begin(node, Request{.token = token,
                      .key = key,
                      .shard = shard,
                      .request_id = next_request_id_++,
                      .origin = node.id(),
                      .operation = operation,
                      .idempotent = config_->idempotent,
                      .poison = poison,
                      .tenant = static_cast<std::uint16_t>(group_)});
}

void Caller::forward(sim::Node& node, const RpcRequest& inbound, std::uint64_t token, sim::Time cap,
                     std::uint32_t shard) {
  DSIM_ASSERT(shard == kAnyShard || shard < shard_count(), "a shard of the targets");
  const bool from_client = inbound.origin != sim::kNoNode;
  begin(node,
        Request{.token = token,
                .key = inbound.key,
                .shard = shard,
                .request_id = from_client ? inbound.request_id : next_request_id_++,
                .origin = from_client ? inbound.origin : node.id(),
                .hops = static_cast<std::uint16_t>(inbound.hops + 1),
                .operation = inbound.operation,
                .idempotent = config_->idempotent && inbound.idempotent != 0,
                .poison = inbound.poison != 0,
                .tenant = inbound.tenant},
        cap);
}

void Caller::begin(sim::Node& node, Request request, sim::Time cap) {
  const sim::Time now = node.true_now();
  const sim::Time local = local_now(node);
  forget_old_orphans(now);
  if (!retry_rng_) retry_rng_ = std::make_unique<sim::Rng>(node.stream("retry"));
  request.started = now;
  request.measured = now >= measure_from_;
  if (config_->retry.deadline > sim::Duration::zero())
    request.deadline = local + config_->retry.deadline;
  // A cap in true time becomes an overall deadline on the node's clock: what is left of it now.
  if (cap != sim::Time::max()) request.deadline = std::min(request.deadline, local + (cap - now));
  request.backoff.emplace(retry_.config().backoff);
  const RequestId id = requests_.insert(request);
  ++active_;
  retry_.on_request(local);
  try_once(node, id);  // may end the request before it returns
}

sim::NodeId Caller::pick_target(sim::Node& node, std::uint32_t shard, sim::NodeId avoid) const {
  const auto [first, count] = shard_span(shard);
  if (avoid == sim::kNoNode || count < 2) return (*targets_)[first + node.rng().below(count)];
  // Uniformly among the others: draw among count - 1 and step over the one to avoid.
  std::size_t skip = count;
  for (std::size_t i = 0; i < count; ++i)
    if ((*targets_)[first + i] == avoid) skip = i;
  std::size_t pick = node.rng().below(count - 1);
  if (pick >= skip) ++pick;
  return (*targets_)[first + pick];
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
      if (r.measured) ++parts_counts_->short_circuited;
      attempt_failed(node, id, Outcome::CircuitOpen);
      return;
    }
  }
  r.permit = permit;
  r.try_began = local;
  if (bulkhead_) {
    // The wait: max_wait, cut to what is left of the overall deadline.
    sim::Duration wait = config_->bulkhead.max_wait;
    if (r.deadline != sim::Time::max()) wait = std::min(wait, r.deadline - local);
    switch (bulkhead_->try_acquire(id, wait > sim::Duration::zero(), now)) {
      case Bulkhead::Admission::Admitted:
        break;
      case Bulkhead::Admission::Waiting:
        if (r.measured) ++parts_counts_->bulkhead_waited;
        r.waiting = true;
        r.bulkhead_timer = node.set_timer(wait, {timer_kind_ + 4, id});
        return;
      case Bulkhead::Admission::Rejected:
        bulkhead_refused(node, id);
        return;
    }
  }
  send_try(node, id);
}

void Caller::bulkhead_refused(sim::Node& node, RequestId id) {
  Request& r = *requests_.find(id);
  if (r.measured) ++parts_counts_->bulkhead_rejected;
  breaker_result(node, r.permit, true, local_now(node) - r.try_began);
  attempt_failed(node, id, Outcome::Rejected);
}

void Caller::send_try(sim::Node& node, RequestId id) {
  Request& r = *requests_.find(id);
  const sim::Time now = node.true_now();
  const sim::Time local = local_now(node);
  // The try's timeout: `timeout`, cut to what is left of the overall deadline.
  sim::Duration wait =
      config_->timeout > sim::Duration::zero() ? config_->timeout : sim::Duration::max();
  if (r.deadline != sim::Time::max())
    wait = std::max(sim::Duration::zero(), std::min(wait, r.deadline - local));
  const bool timed = wait != sim::Duration::max();
  r.try_sent = local;
  r.try_deadline = timed ? now + wait : sim::Time::max();
  r.hedged = false;
  r.cancel_sent = false;
  r.current = send_copy(node, id, sim::kNoNode);
  if (bulkhead_) attempts_.find(r.current)->permit = true;             // taken by try_once
  if (timed) r.try_timer = node.set_timeout(wait, {timer_kind_, id});  // most are cancelled
  // Hedging: only idempotent requests, and only where another replica exists.
  const std::size_t replicas = shard_span(r.shard).second;
  if (!hedge_ || !r.idempotent || replicas < 2) return;
  hedge_->on_try();
  if (config_->hedge.tied) {
    send_hedge(node, id);
  } else {
    r.hedge_timer = node.set_timer(hedge_->delay(), {timer_kind_ + 3, id});
  }
}

Caller::AttemptId Caller::send_copy(sim::Node& node, RequestId id, sim::NodeId avoid) {
  Request& r = *requests_.find(id);
  const sim::NodeId target = pick_target(node, r.shard, avoid);
  const AttemptId attempt =
      attempts_.insert(Attempt{.request = id, .target = target, .permit = false});
  ++r.tracked;
  ++r.sent;
  if (r.measured) ++attempts_sent_;
  const bool tied = hedge_ && config_->hedge.tied && r.idempotent;
  const RpcRequest request{.call_id = wire_id(attempt),
                           .key = r.key,
                           .deadline = r.try_deadline,
                           .attempt = r.tries,
                           .hops = r.hops,
                           .tenant = r.tenant,
                           .request_id = r.request_id,
                           .origin = r.origin,
                           .operation = r.operation,
                           .idempotent = static_cast<std::uint8_t>(r.idempotent ? 1 : 0),
                           .tied = static_cast<std::uint8_t>(tied ? 1 : 0),
                           .poison = static_cast<std::uint8_t>(r.poison ? 1 : 0)};
  node.send(target, request, static_cast<std::uint32_t>(config_->request_bytes));
  if (recorder_ != nullptr) recorder_->attempt_sent(node.true_now());
  return attempt;
}

void Caller::send_hedge(sim::Node& node, RequestId id) {
  Request& r = *requests_.find(id);
  r.hedged = true;
  // A second copy in flight needs a permit of its own, at once (it never waits for one).
  if (bulkhead_ && !bulkhead_->available()) {
    if (r.measured) ++parts_counts_->hedges_denied_by_bulkhead;
    return;
  }
  if (!hedge_->try_spend()) {
    if (r.measured) ++parts_counts_->hedges_denied;
    return;
  }
  r.hedge = send_copy(node, id, attempts_.find(r.current)->target);
  if (bulkhead_) {
    bulkhead_->acquire_now(node.true_now());
    attempts_.find(r.hedge)->permit = true;
  }
  if (r.measured) ++parts_counts_->hedges;
}

bool Caller::on_message(sim::Node& node, const sim::Message& message) {
  // Space 0 takes every answer; a space takes only its own.
  const auto mine = [this](std::uint64_t call_id) {
    return id_space_ == 0 || (call_id & 0xff000000u) == id_space_;
  };
  if (message.holds<RpcStarted>()) {
    const std::uint64_t call_id = message.as<RpcStarted>().call_id;
    if (!mine(call_id)) return false;
    on_started(node, attempt_of(call_id));
    return true;
  }
  if (!message.holds<RpcResponse>() || !mine(message.as<RpcResponse>().call_id)) return false;
  const auto response = message.as<RpcResponse>();
  forget_old_orphans(node.true_now());
  on_answer(node, attempt_of(response.call_id), response.outcome);
  return true;
}

void Caller::on_answer(sim::Node& node, AttemptId id, Outcome outcome) {
  const Attempt* found = attempts_.find(id);
  if (found == nullptr) {  // an attempt already ended: a late or duplicated answer
    if (node.true_now() >= measure_from_) ++late_responses_;
    return;
  }
  const RequestId request = found->request;
  Request& r = *requests_.find(request);
  const bool in_flight = r.current == id || r.hedge == id;
  if (outcome == Outcome::Ok) took_effect(r);
  if (!in_flight) {  // an orphan: the answer to a try that timed out
    if (node.true_now() >= measure_from_) ++late_responses_;
    forget_attempt(id);
    return;
  }
  const AttemptId other = r.current == id ? r.hedge : r.current;
  if (outcome != Outcome::Ok && other != 0) {  // the other copy may still succeed
    release_permit(node, id);
    forget_attempt(id);
    r.current = other;
    r.hedge = 0;
    return;
  }
  if (outcome == Outcome::Ok && id == r.hedge && r.measured) ++parts_counts_->hedges_won;
  end_try(node, r);
  if (other != 0) drop_copy(node, r, other);
  r.current = 0;
  r.hedge = 0;
  release_permit(node, id);  // may send a waiting try (of another request) at once
  forget_attempt(id);        // the request is in progress: it stays
  const sim::Time local = local_now(node);
  const sim::Duration took = local - r.try_sent;  // the call itself, for the hedge delay
  // The breaker wraps the bulkhead: its duration includes the wait for a permit.
  breaker_result(node, r.permit, outcome != Outcome::Ok, local - r.try_began);
  if (outcome == Outcome::Ok) {
    if (hedge_) hedge_->observed(took);
    finish(node, request, Outcome::Ok);
  } else {
    attempt_failed(node, request, outcome);
  }
}

void Caller::on_started(sim::Node& node, AttemptId id) {
  // A server began a tied copy: the other copy's server may drop it if it has not started it.
  // Both copies stay in flight: if both had started, the first answer still wins.
  const Attempt* found = attempts_.find(id);
  if (found == nullptr) return;
  Request& r = *requests_.find(found->request);
  if (r.current != id && r.hedge != id) return;
  const AttemptId other = r.current == id ? r.hedge : r.current;
  if (other != 0) cancel_copy(node, r, other);
}

void Caller::cancel_copy(sim::Node& node, Request& r, AttemptId copy) {
  if (!config_->hedge.tied || r.cancel_sent) return;
  r.cancel_sent = true;
  node.send(attempts_.find(copy)->target, RpcCancel{.call_id = wire_id(copy)});
  if (r.measured) ++parts_counts_->cancels;
}

void Caller::drop_copy(sim::Node& node, Request& r, AttemptId copy) {
  cancel_copy(node, r, copy);  // tied: its server need not start it
  release_permit(node, copy);
  forget_attempt(copy);  // hedged requests are idempotent: its answer is only a late one
}

void Caller::release_permit(sim::Node& node, AttemptId copy) {
  Attempt* a = attempts_.find(copy);
  if (!bulkhead_ || a == nullptr || !a->permit) return;
  a->permit = false;
  const std::optional<std::uint64_t> next = bulkhead_->release(node.true_now());
  if (!next) return;
  // The longest-waiting try takes the permit now. It belongs to another request (a request has
  // one try at a time, and this one's copy was in flight), so the caller's state is unchanged.
  Request& w = *requests_.find(*next);
  DSIM_ASSERT(w.waiting, "only a waiting try is queued at the bulkhead");
  w.waiting = false;
  node.cancel_timer(w.bulkhead_timer);
  w.bulkhead_timer = {};
  send_try(node, *next);
}

void Caller::end_try(sim::Node& node, Request& r) {
  if (r.try_timer.serial != 0) node.cancel_timer(r.try_timer);
  if (r.hedge_timer.serial != 0) node.cancel_timer(r.hedge_timer);
  r.try_timer = {};
  r.hedge_timer = {};
}

bool Caller::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (tag.kind == timer_kind_) {
    // A timeout cancelled by its answer never fires, so the try is still in flight here.
    on_timeout(node, tag.value);
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
  if (tag.kind == timer_kind_ + 3) {  // the hedge delay is over, the try still unanswered
    Request& r = *requests_.find(tag.value);
    r.hedge_timer = {};
    if (!r.hedged && r.current != 0) send_hedge(node, tag.value);
    return true;
  }
  if (tag.kind == timer_kind_ + 4) {  // the try's wait for a bulkhead permit is over: refused
    // An admitted try's timer was cancelled, so the try still waits here.
    Request& r = *requests_.find(tag.value);
    const bool was_waiting = r.waiting && bulkhead_->expire(tag.value);
    DSIM_ASSERT(was_waiting, "only a waiting try has a wait timer");
    r.waiting = false;
    r.bulkhead_timer = {};
    bulkhead_refused(node, tag.value);
    return true;
  }
  return false;
}

void Caller::on_timeout(sim::Node& node, RequestId id) {
  Request& r = *requests_.find(id);
  DSIM_ASSERT(r.current != 0, "only a try in flight has a live timeout");
  r.try_timer = {};
  end_try(node, r);
  for (const AttemptId copy : {r.current, r.hedge}) {
    if (copy == 0) continue;
    release_permit(node, copy);  // the caller stops waiting: its permit comes back
    if (r.idempotent) {
      forget_attempt(copy);
    } else {  // keep listening: a late Ok is an effect (see the header)
      if (!orphans_) orphans_ = std::make_unique<sim::RingBuffer<Orphan>>();
      orphans_->push_back({copy, node.true_now() + config_->late_answer_window});
    }
  }
  r.current = 0;
  r.hedge = 0;
  breaker_result(node, r.permit, true, local_now(node) - r.try_began);
  attempt_failed(node, id, Outcome::Timeout);
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
    if (!d.retry && d.reason == GiveUpReason::Budget) ++parts_counts_->denied_by_budget;
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
  if (!orphans_) return;
  while (!orphans_->empty() && orphans_->front().forget_at <= true_now) {
    const Orphan orphan = orphans_->pop_front();
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
  if (orphans_) orphans_->clear();
  active_ = 0;
  retry_.reset();
  if (breaker_) breaker_->reset(node.true_now());
  if (bulkhead_) bulkhead_->reset();
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
      {"hedges", "attempts", Combine::Sum, "second copies sent by hedging (or tied requests)"},
      {"hedges_won", "attempts", Combine::Sum, "hedges whose Ok answer came first"},
      {"hedges_denied_by_budget", "tries", Combine::Sum,
       "tries that would have hedged but the extra-load budget was empty"},
      {"hedge_extra_load", "fraction", Combine::Mean,
       "hedges / tries: the extra load hedging adds"},
      {"cancels_sent", "messages", Combine::Sum, "tied copies cancelled at their server"},
      {"bulkhead_rejected", "attempts", Combine::Sum,
       "tries refused by the bulkhead (full, or no permit within max_wait): never sent"},
      {"bulkhead_waited", "attempts", Combine::Sum,
       "tries that waited for a bulkhead permit (admitted or not)"},
      {"bulkhead_max_concurrent", "attempts", Combine::Max,
       "the most bulkhead permits held at once: calls in flight (0: no bulkhead)"},
      {"hedges_denied_by_bulkhead", "tries", Combine::Sum,
       "tries whose second copy was not sent: no bulkhead permit was free"},
  };
}

void Caller::figures(Figures& out) const {
  const PartsCounts parts = parts_counts_ ? *parts_counts_ : PartsCounts{};
  const double tries = static_cast<double>(attempts_sent_ - parts.hedges);
  out.sum("late_responses", static_cast<double>(late_responses_));  // first: tests rely on it
  out.sum("attempts", static_cast<double>(attempts_sent_));
  out.sum("retries", static_cast<double>(retries_));
  out.sum("retries_denied_by_budget", static_cast<double>(parts.denied_by_budget));
  out.sum("retries_stopped_by_deadline", static_cast<double>(stopped_by_deadline_));
  out.sum("short_circuited", static_cast<double>(parts.short_circuited));
  out.sum("duplicate_effects", static_cast<double>(duplicate_effects_));
  out.sum("circuit_opened", breaker_ ? static_cast<double>(breaker_->opened()) : 0.0);
  out.sum("hedges", static_cast<double>(parts.hedges));
  out.sum("hedges_won", static_cast<double>(parts.hedges_won));
  out.sum("hedges_denied_by_budget", static_cast<double>(parts.hedges_denied));
  out.mean("hedge_extra_load", tries > 0 ? static_cast<double>(parts.hedges) / tries : 0.0);
  out.sum("cancels_sent", static_cast<double>(parts.cancels));
  out.sum("bulkhead_rejected", static_cast<double>(parts.bulkhead_rejected));
  out.sum("bulkhead_waited", static_cast<double>(parts.bulkhead_waited));
  out.max("bulkhead_max_concurrent",
          bulkhead_ ? static_cast<double>(bulkhead_->max_in_use()) : 0.0);
  out.sum("hedges_denied_by_bulkhead", static_cast<double>(parts.hedges_denied_by_bulkhead));
}

}  // namespace models
