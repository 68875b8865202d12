#include "models/isolation/gateway.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "models/services/relay.hpp"
#include "models/shared/health.hpp"
#include "sim/assert.hpp"

namespace models {

namespace {

constexpr std::size_t kOperations = 256;  // RpcRequest.operation is 8 bits

}  // namespace

Wiring Gateway::wiring(const Config& c) {
  Wiring w{.serves = {Protocol::Rpc, Protocol::Health}};
  for (std::size_t i = 0; i < c.dependencies.size(); ++i)
    w.calls.push_back({"dependencies/" + std::to_string(i) + "/target",
                       c.dependencies[i].call.target, c.dependencies[i].call.speaks()});
  return w;
}

std::vector<ConfigProblem> Gateway::check(const Config& c) {
  std::vector<ConfigProblem> problems;
  if (c.dependencies.empty()) return {{"dependencies", "expected at least one dependency"}};
  if (c.dependencies.size() > kMaxDependencies)
    return {
        {"dependencies", "expected at most " + std::to_string(kMaxDependencies) + " dependencies"}};
  std::vector<bool> claimed(kOperations, false);
  bool weighted = false;
  double total = 0;
  for (std::size_t i = 0; i < c.dependencies.size(); ++i) {
    const GatewayDependencyConfig& d = c.dependencies[i];
    if (d.operation < 0) {
      weighted = true;
      total += d.weight;
      continue;
    }
    if (claimed[static_cast<std::size_t>(d.operation)])
      problems.push_back(
          {"dependencies/" + std::to_string(i) + "/operation",
           "another dependency already takes operation " + std::to_string(d.operation)});
    claimed[static_cast<std::size_t>(d.operation)] = true;
  }
  if (weighted && !(total > 0))
    problems.push_back(
        {"dependencies", "the weights of the dependencies without an operation add up to 0"});
  return problems;
}

Gateway::Dependency::Dependency(const GatewayDependencyConfig& config,
                                std::vector<sim::NodeId> targets, std::uint32_t index,
                                sim::Time measure_from, sim::Time measure_to,
                                CallerListener& listener)
    : caller(config.call, std::move(targets), kCall + index * Caller::kTimerKinds,
             /*recorder=*/nullptr, measure_from, listener),
      held_average(measure_from, measure_to) {
  caller.set_call_id_space(index + 1);
}

Gateway::Gateway(const GatewayConfig& config, sim::Node& node,
                 std::vector<std::vector<sim::NodeId>> targets, sim::Time measure_from,
                 sim::Time measure_to)
    : config_(config),
      by_operation_(kOperations, kUnrouted),
      route_rng_(node.stream("route")),
      queue_(16),
      measure_from_(measure_from),
      measure_to_(measure_to),
      busy_average_(measure_from, measure_to) {
  DSIM_ASSERT(check(config).empty(), "a checked gateway configuration");
  DSIM_ASSERT(targets.size() == config.dependencies.size(), "one target list per dependency");
  for (std::uint32_t i = 0; i < targets.size(); ++i) {
    const GatewayDependencyConfig& d = config.dependencies[i];
    CallerListener& listener = *this;  // a private base: converted here, inside the class
    deps_.push_back(std::make_unique<Dependency>(d, std::move(targets[i]), i, measure_from,
                                                 measure_to, listener));
    if (d.operation >= 0) {
      by_operation_[static_cast<std::size_t>(d.operation)] = i;
    } else if (d.weight > 0) {
      weighted_.push_back(i);
      total_weight_ += d.weight;
    }
  }
}

std::unique_ptr<Model> Gateway::make(const GatewayConfig& config, BuildContext& ctx,
                                     std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "gateway replica out of range");
  std::vector<std::vector<sim::NodeId>> targets;
  for (const GatewayDependencyConfig& d : config.dependencies)
    targets.push_back(resolve_target(d.call, ctx));
  return std::make_unique<Gateway>(config, ctx.cluster.node(ctx.nodes[replica]), std::move(targets),
                                   ctx.warmup_end, ctx.end);
}

void Gateway::on_start(sim::Node& /*node*/) {}

std::uint32_t Gateway::route(const RpcRequest& request) {
  const std::uint32_t by_op = by_operation_[request.operation];
  if (by_op != kUnrouted) return by_op;
  if (weighted_.empty()) return kUnrouted;
  if (weighted_.size() == 1) return weighted_.front();
  double draw = route_rng_.uniform01() * total_weight_;
  for (const std::uint32_t i : weighted_) {
    draw -= config_.dependencies[i].weight;
    if (draw < 0) return i;
  }
  return weighted_.back();  // rounding at the very top of the range
}

void Gateway::on_message(sim::Node& node, const sim::Message& message) {
  if (message.holds<RpcResponse>() || message.holds<RpcStarted>()) {
    const std::uint64_t call_id = message.holds<RpcResponse>() ? message.as<RpcResponse>().call_id
                                                               : message.as<RpcStarted>().call_id;
    const std::uint32_t space = Caller::call_id_space(call_id);
    DSIM_ASSERT(space >= 1 && space <= deps_.size(), "an answer to one of the gateway's calls");
    const bool taken = deps_[space - 1]->caller.on_message(node, message);
    DSIM_ASSERT(taken, "a caller takes the answers of its space");
    return;
  }
  if (answer_health_probe(node, message)) return;
  DSIM_ASSERT(message.holds<RpcRequest>(), "a gateway receives requests and answers");
  const sim::Time now = node.true_now();
  const Inbound in{.from = message.from,
                   .dependency = route(message.as<RpcRequest>()),
                   .arrived = now,
                   .request = message.as<RpcRequest>()};
  if (measured(now)) {
    ++received_;
    if (in.dependency != kUnrouted) ++deps_[in.dependency]->requests;
  }
  if (in.dependency == kUnrouted) {
    answer(node, in, Outcome::Error);
    if (measured(now)) ++unrouted_;
    return;
  }
  const auto workers = static_cast<std::size_t>(config_.workers);
  if (busy_ == workers && config_.queue_limit >= 0 &&
      queue_.size() >= static_cast<std::size_t>(config_.queue_limit)) {
    answer(node, in, Outcome::Rejected);
    if (measured(now)) ++rejected_;
    return;
  }
  // A free worker means an empty queue (fill_workers drains it): this one is taken at once.
  queue_.push_back(in);
  if (busy_ == workers && measured(now)) queued_max_ = std::max(queued_max_, queue_.size());
  fill_workers(node);
}

void Gateway::fill_workers(sim::Node& node) {
  if (filling_) return;  // the loop below is running: it sees the freed worker
  filling_ = true;
  while (busy_ < static_cast<std::size_t>(config_.workers) && !queue_.empty()) {
    const Inbound in = queue_.pop_front();
    const sim::Time now = node.true_now();
    if (config_.propagate_deadline && in.request.deadline <= now) {
      answer(node, in, Outcome::Timeout);  // its caller has given up: calling would be waste
      if (measured(now)) ++expired_;
      continue;
    }
    call(node, in);
  }
  filling_ = false;
}

void Gateway::call(sim::Node& node, const Inbound& in) {
  const sim::Time now = node.true_now();
  Dependency& d = *deps_[in.dependency];
  set_busy(now, busy_ + 1);
  ++d.held;
  d.held_average.set(now, static_cast<double>(d.held));
  const auto token = calling_.insert(in);
  // May end (and free the worker) before it returns: a try refused by the bulkhead or breaker.
  if (config_.propagate_deadline) {
    d.caller.forward(node, in.request, token, in.request.deadline);
  } else {
    d.caller.forward(node, in.request, token);
  }
  // The maxima count workers held for a while: one given back at the same instant (a refusal)
  // was never held.
  if (calling_.find(token) == nullptr || !measured(now)) return;
  busy_max_ = std::max(busy_max_, busy_);
  d.held_max = std::max(d.held_max, d.held);
}

void Gateway::on_call_done(sim::Node& node, const CallResult& result) {
  const Inbound* found = calling_.find(result.token);
  DSIM_ASSERT(found != nullptr, "every call of a gateway serves one request");
  const Inbound in = *found;
  calling_.erase(result.token);
  const sim::Time now = node.true_now();
  Dependency& d = *deps_[in.dependency];
  --d.held;
  d.held_average.set(now, static_cast<double>(d.held));
  set_busy(now, busy_ - 1);
  answer(node, in, relay_answer(result.outcome));
  fill_workers(node);
}

void Gateway::answer(sim::Node& node, const Inbound& in, Outcome outcome) {
  node.send(in.from, RpcResponse{.call_id = in.request.call_id, .outcome = outcome});
  const sim::Time now = node.true_now();
  if (!measured(now)) return;
  ++(outcome == Outcome::Ok ? answered_ok_ : answered_failed_);
  if (in.dependency == kUnrouted) return;
  Dependency& d = *deps_[in.dependency];
  if (outcome != Outcome::Ok) {
    ++d.failures;
    return;
  }
  const double ms = (now - in.arrived).seconds() * 1e3;
  ++d.ok;
  d.latency_sum_ms += ms;
  d.latency_max_ms = std::max(d.latency_max_ms, ms);
}

void Gateway::set_busy(sim::Time now, std::size_t busy) {
  busy_ = busy;
  busy_average_.set(now, static_cast<double>(busy_));
}

void Gateway::on_timer(sim::Node& node, sim::TimerTag tag) {
  DSIM_ASSERT(tag.kind >= kCall, "a gateway's timers are its callers'");
  const std::size_t i = (tag.kind - kCall) / Caller::kTimerKinds;
  DSIM_ASSERT(i < deps_.size(), "a timer of one of the gateway's callers");
  const bool taken = deps_[i]->caller.on_timer(node, tag);
  DSIM_ASSERT(taken, "a caller takes the timers of its kinds");
}

void Gateway::on_crash(sim::Node& node) {
  const sim::Time now = node.true_now();
  for (auto& d : deps_) {
    d->caller.on_crash(node);
    d->held = 0;
    d->held_average.set(now, 0);
  }
  calling_.clear();  // unanswered: the upstream callers time out
  queue_.clear();
  set_busy(now, 0);
}

std::vector<const StateTimeline*> Gateway::state_timelines() const {
  std::vector<const StateTimeline*> all;
  for (const auto& d : deps_)
    for (const StateTimeline* t : d->caller.state_timelines()) all.push_back(t);
  return all;
}

void Gateway::sample(sim::Time /*now*/, SeriesSample& out) const {
  out.set("queued", static_cast<double>(queue_.size()));
  out.set("busy", static_cast<double>(busy_));
}

FigureDocs Gateway::figure_docs() {
  return FigureDocs{
             {"requests_received", "requests", Combine::Sum, "requests that reached the gateway"},
             {"answered_ok", "requests", Combine::Sum, "answered upstream Ok"},
             {"answered_failed", "requests", Combine::Sum,
              "answered upstream with a failure (of every kind below, or of the call)"},
             {"rejected_queue_full", "requests", Combine::Sum,
              "answered Rejected on arrival: every worker busy and the queue full"},
             {"expired_before_call", "requests", Combine::Sum,
              "answered Timeout uncalled: their deadline passed while they queued "
              "(propagate_deadline)"},
             {"unrouted", "requests", Combine::Sum,
              "answered Error: no dependency takes their operation"},
             {"busy_max", "workers", Combine::Max, "the most workers held at once"},
             {"busy_mean", "workers", Combine::Mean, "workers held, time average"},
             {"queued_max", "requests", Combine::Max, "the longest queue for a worker"},
             {"dependency_requests[i]", "requests", Combine::Sum,
              "requests routed to dependency i"},
             {"dependency_failures[i]", "requests", Combine::Sum,
              "requests routed to dependency i answered with a failure (queue full, expired, "
              "or its call failed)"},
             {"workers_held_max[i]", "workers", Combine::Max,
              "the most workers held at once by dependency i's calls (waits for a bulkhead "
              "permit included; a refusal at once holds none)"},
             {"workers_held_mean[i]", "workers", Combine::Mean,
              "workers held by dependency i's calls, time average"},
             {"dependency_latency_mean[i]", "ms", Combine::Mean,
              "mean time from arrival to an Ok answer of dependency i's requests (queueing for "
              "a worker included)"},
             {"dependency_latency_max[i]", "ms", Combine::Max,
              "the longest time from arrival to an Ok answer of dependency i's requests"},
         } +
         Caller::figure_docs();
}

void Gateway::figures(Figures& out) const {
  out.sum("requests_received", static_cast<double>(received_));
  out.sum("answered_ok", static_cast<double>(answered_ok_));
  out.sum("answered_failed", static_cast<double>(answered_failed_));
  out.sum("rejected_queue_full", static_cast<double>(rejected_));
  out.sum("expired_before_call", static_cast<double>(expired_));
  out.sum("unrouted", static_cast<double>(unrouted_));
  out.max("busy_max", static_cast<double>(busy_max_));
  out.mean("busy_mean", busy_average_.average());
  out.max("queued_max", static_cast<double>(queued_max_));
  for (std::size_t i = 0; i < deps_.size(); ++i) {
    const Dependency& d = *deps_[i];
    out.sum(indexed_name("dependency_requests", i), static_cast<double>(d.requests));
    out.sum(indexed_name("dependency_failures", i), static_cast<double>(d.failures));
    out.max(indexed_name("workers_held_max", i), static_cast<double>(d.held_max));
    out.mean(indexed_name("workers_held_mean", i), d.held_average.average());
    out.mean(indexed_name("dependency_latency_mean", i),
             d.ok > 0 ? d.latency_sum_ms / static_cast<double>(d.ok) : 0.0);
    out.max(indexed_name("dependency_latency_max", i), d.latency_max_ms);
  }
  // The Callers' figures, all dependencies together: each emits the same names in one order.
  std::vector<Figure> all;
  for (const auto& d : deps_) {
    Figures one;
    d->caller.figures(one);
    if (all.empty()) {
      all = one.items();
      continue;
    }
    for (std::size_t k = 0; k < all.size(); ++k) {
      const Figure& f = one.items()[k];
      DSIM_ASSERT(f.name == all[k].name, "callers emit their figures in one order");
      all[k].value =
          f.combine == Combine::Max ? std::max(all[k].value, f.value) : all[k].value + f.value;
    }
  }
  double attempts = 0, hedges = 0;
  for (const Figure& f : all) {
    if (f.name == "attempts") attempts = f.value;
    if (f.name == "hedges") hedges = f.value;
  }
  for (const Figure& f : all) {
    if (f.name == "hedge_extra_load") {  // the one mean: hedges over tries, of all callers
      out.mean(f.name, attempts > hedges ? hedges / (attempts - hedges) : 0.0);
      continue;
    }
    DSIM_ASSERT(f.combine != Combine::Mean, "a caller's means are recomputed, not summed");
    if (f.combine == Combine::Max) {
      out.max(f.name, f.value);
    } else {
      out.sum(f.name, f.value);
    }
  }
}

}  // namespace models
