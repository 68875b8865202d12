#include "models/services/server.hpp"

#include "models/services/codel_queue.hpp"
#include "models/services/ordered_queue.hpp"
#include "models/shared/health.hpp"
#include "models/shared/rpc.hpp"
#include "sim/assert.hpp"
#include "sim/node.hpp"

namespace models {
namespace {

// The one place that picks the queue discipline from the configuration.
std::unique_ptr<QueueDiscipline> make_queue(const ServerConfig& config) {
  switch (config.queue) {
    case QueueKind::Fifo:
      return std::make_unique<OrderedQueue>(config.queue_limit, OrderedQueue::Order::Fifo);
    case QueueKind::Lifo:
      return std::make_unique<OrderedQueue>(config.queue_limit, OrderedQueue::Order::Lifo);
    case QueueKind::AdaptiveLifo:
      return std::make_unique<OrderedQueue>(config.queue_limit, OrderedQueue::Order::AdaptiveLifo,
                                            config.lifo_after);
    case QueueKind::Codel:
      return std::make_unique<CodelQueue>(config.queue_limit, config.codel_target,
                                          config.codel_interval);
  }
  DSIM_ASSERT(false, "unknown queue discipline");
  return nullptr;
}

std::optional<TokenBucket> make_limiter(const ServerConfig& config) {
  if (config.rate_limit.per_second <= 0) return std::nullopt;
  return TokenBucket(config.rate_limit.per_second, static_cast<double>(config.burst));
}

void answer(sim::Node& node, const QueuedRequest& request, Outcome outcome) {
  node.send(request.from, RpcResponse{.call_id = request.call_id, .outcome = outcome});
}

}  // namespace

Server::Server(const ServerConfig& config, sim::Rng service_rng, sim::Time measure_from,
               sim::Time measure_to, sim::Rng error_rng)
    : config_(config),
      queue_(make_queue(config)),
      workers_(static_cast<std::size_t>(config.workers)),
      limiter_(make_limiter(config)),
      service_rng_(service_rng),
      error_rng_(error_rng),
      stats_(measure_from, measure_to) {
  DSIM_ASSERT(config.workers >= 1, "a server has at least one worker");
  DSIM_ASSERT(config.contention >= 0, "contention cannot be negative");
  idle_.reserve(workers_.size());
  for (std::size_t w = workers_.size(); w-- > 0;) idle_.push_back(static_cast<std::uint32_t>(w));
}

std::unique_ptr<Model> Server::make(const ServerConfig& config, BuildContext& ctx,
                                    std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "server replica out of range");
  const sim::Node& node = ctx.cluster.node(ctx.nodes[replica]);
  return std::make_unique<Server>(config, node.stream("service"), ctx.warmup_end, ctx.end,
                                  node.stream("errors"));
}

void Server::on_start(sim::Node& node) {
  const sim::Time now = node.true_now();
  if (limiter_) limiter_->refill(now);  // full at start and after a restart
  record_levels(now);
}

void Server::on_message(sim::Node& node, const sim::Message& message) {
  if (answer_health_probe(node, message)) return;  // at once, not queued (models/shared/health.hpp)
  const sim::Time now = node.true_now();
  if (message.holds<RpcCancel>()) {
    if (const auto gone = queue_->cancel(message.from, message.as<RpcCancel>().call_id)) {
      stats_.cancelled(now, gone->arrived);
      record_levels(now);
    }
    return;
  }
  const auto rpc = message.as<RpcRequest>();
  const QueuedRequest request{.from = message.from,
                              .call_id = rpc.call_id,
                              .arrived = now,
                              .deadline = rpc.deadline,
                              .tied = rpc.tied != 0};
  stats_.arrived(now);
  if (limiter_ && !limiter_->try_take(now)) {
    stats_.rate_limited(now);
    answer(node, request, Outcome::RateLimited);
  } else if (idle_.empty()) {
    if (queue_->admit(request, now)) {
      stats_.waited(now);
    } else {
      stats_.rejected(now);
      answer(node, request, Outcome::Rejected);
    }
  } else if (expired(request, now)) {
    stats_.expired(now, request.arrived);
    answer(node, request, Outcome::Dropped);
  } else {
    const std::uint32_t worker = idle_.back();
    idle_.pop_back();
    serve(node, worker, request);
  }
  record_levels(now);
}

void Server::serve(sim::Node& node, std::uint32_t worker, const QueuedRequest& request) {
  // Before marking it busy: the worker is already out of idle_, so busy_workers() counts it.
  const sim::Duration service = service_duration(node);
  workers_[worker] = {request, true};
  if (request.tied) node.send(request.from, RpcStarted{.call_id = request.call_id});
  node.set_timer(service, {kServiceDone, worker});
}

sim::Duration Server::service_duration(const sim::Node& node) {
  double ns = config_.service_time.sample(service_rng_) * node.slowdown();
  if (config_.contention > 0) ns *= contention_factor(config_, busy_workers() + queue_->size());
  return sim::duration_from_ns(ns);
}

void Server::on_timer(sim::Node& node, sim::TimerTag tag) {
  DSIM_ASSERT(tag.kind == kServiceDone, "a server sets only service timers");
  complete(node, static_cast<std::uint32_t>(tag.value));
}

void Server::complete(sim::Node& node, std::uint32_t worker) {
  DSIM_ASSERT(worker < workers_.size() && workers_[worker].busy, "completion of an idle worker");
  const sim::Time now = node.true_now();
  Worker& w = workers_[worker];
  const bool failed =
      config_.error_rate.value > 0 && error_rng_.bernoulli(config_.error_rate.value);
  stats_.completed(now, w.request.arrived, w.request.deadline, failed);
  answer(node, w.request, failed ? Outcome::Error : Outcome::Ok);
  w.busy = false;
  take_next(node, worker, now);
  record_levels(now);
}

void Server::take_next(sim::Node& node, std::uint32_t worker, sim::Time now) {
  // Shed and expired requests cost the worker nothing: it moves on to the next at once.
  while (const auto next = queue_->next(now)) {
    if (next->verdict == Verdict::Shed) {
      stats_.shed(now, next->request.arrived);
      answer(node, next->request, Outcome::Rejected);
    } else if (expired(next->request, now)) {
      stats_.expired(now, next->request.arrived);
      answer(node, next->request, Outcome::Dropped);
    } else {
      serve(node, worker, next->request);
      return;
    }
  }
  idle_.push_back(worker);
}

void Server::on_crash(sim::Node& node) {
  // Pending service timers die with the node's incarnation; what was queued or in service is lost.
  const sim::Time now = node.true_now();
  stats_.lost_in_crash(now, queue_->clear() + busy_workers());
  idle_.clear();
  for (std::size_t w = workers_.size(); w-- > 0;) {
    workers_[w].busy = false;
    idle_.push_back(static_cast<std::uint32_t>(w));
  }
  record_levels(now);
}

void Server::figures(Figures& out) const {
  stats_.add_figures(out, config_.workers);
}

void Server::sample(sim::Time /*now*/, SeriesSample& out) const {
  out.set("queued", static_cast<double>(queued()));
  out.set("busy", static_cast<double>(busy_workers()));
}

}  // namespace models
