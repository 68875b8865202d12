#include "models/services/server.hpp"

#include "models/services/codel_queue.hpp"
#include "models/services/ordered_queue.hpp"
#include "models/shared/health.hpp"
#include "models/shared/rpc.hpp"
#include "sim/assert.hpp"
#include "sim/node.hpp"

namespace models {
namespace {

// The one place that picks the queue discipline from the configuration: a queue of at most
// `limit` waiting requests (a partition's, or the server's).
std::unique_ptr<QueueDiscipline> make_queue(const ServerConfig& config, std::int64_t limit) {
  switch (config.queue) {
    case QueueKind::Fifo:
      return std::make_unique<OrderedQueue>(limit, OrderedQueue::Order::Fifo);
    case QueueKind::Lifo:
      return std::make_unique<OrderedQueue>(limit, OrderedQueue::Order::Lifo);
    case QueueKind::AdaptiveLifo:
      return std::make_unique<OrderedQueue>(limit, OrderedQueue::Order::AdaptiveLifo,
                                            config.lifo_after);
    case QueueKind::Codel:
      return std::make_unique<CodelQueue>(limit, config.codel_target, config.codel_interval);
  }
  DSIM_ASSERT(false, "unknown queue discipline");
  return nullptr;
}

std::unique_ptr<TokenBucket> make_limiter(const ServerConfig& config) {
  if (config.rate_limit.per_second <= 0) return nullptr;
  return std::make_unique<TokenBucket>(config.rate_limit.per_second,
                                       static_cast<double>(config.burst));
}

void answer(sim::Node& node, const QueuedRequest& request, Outcome outcome) {
  node.send(request.from, RpcResponse{.call_id = request.call_id, .outcome = outcome});
}

}  // namespace

Server::Server(std::shared_ptr<const ServerConfig> shared, sim::Rng service_rng,
               sim::Time measure_from, sim::Time measure_to, sim::Rng error_rng,
               TenantRouting routing, sim::FaultInjector* fault_log)
    : config_(std::move(shared)),
      routing_(config_->partitions.empty() ? nullptr
                                           : std::make_unique<TenantRouting>(std::move(routing))),
      workers_(static_cast<std::size_t>(config_->workers)),
      limiter_(make_limiter(*config_)),
      service_rng_(service_rng),
      error_rng_(config_->error_rate.value > 0 ? std::make_unique<sim::Rng>(error_rng) : nullptr),
      supervisor_(config_->poison.restart_after, fault_log),
      stats_(measure_from, measure_to) {
  const ServerConfig& config = *config_;
  DSIM_ASSERT(config.workers >= 1, "a server has at least one worker");
  DSIM_ASSERT(config.contention >= 0, "contention cannot be negative");
  DSIM_ASSERT(check_partitions(config.partitions, config.workers).empty(),
              "a server's partitions are checked by the loader");
  // Without partitions, one partition of every worker with the server's queue.
  std::vector<ServerPartitionConfig> parts = config.partitions;
  if (parts.empty()) parts.push_back({.groups = {}, .workers = config.workers});
  std::uint32_t first = 0;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const std::int64_t limit = parts[i].queue_limit == ServerPartitionConfig::kServerQueueLimit
                                   ? config.queue_limit
                                   : parts[i].queue_limit;
    Partition p{.queue = make_queue(config, limit),
                .idle = {},
                .first_worker = first,
                .workers = static_cast<std::uint32_t>(parts[i].workers),
                .stats = config.partitions.empty()
                             ? nullptr
                             : std::make_unique<PartitionStats>(measure_from, measure_to)};
    p.idle.reserve(p.workers);
    for (std::uint32_t w = p.workers; w-- > 0;) make_idle(p, first + w);  // lowest on top
    first += p.workers;
    partitions_.push_back(std::move(p));
  }
}

std::unique_ptr<Model> Server::make(const ServerConfig& config, BuildContext& ctx,
                                    std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "server replica out of range");
  const sim::Node& node = ctx.cluster.node(ctx.nodes[replica]);
  TenantRouting routing;
  if (!config.partitions.empty())
    routing = TenantRouting(config.partitions,
                            [&ctx](const std::string& name) { return ctx.recorder.group(name); });
  return std::make_unique<Server>(ctx.shared_config(config), node.stream("service"), ctx.warmup_end,
                                  ctx.end, node.stream("errors"), std::move(routing), &ctx.faults);
}

FigureDocs Server::figure_docs() {
  return ServerStats::figure_docs() +
         FigureDocs{
             {"unpartitioned", "requests", Combine::Sum,
              "answered Rejected at once: no partition serves their tenant (also in rejected)"},
             {"poison_crashes", "requests", Combine::Sum,
              "poison requests whose service crashed the node (poison effect crash)"},
             {"poison_stalls", "requests", Combine::Sum,
              "poison requests that stalled their worker (poison effect stall)"},
         } +
         PartitionStats::figure_docs();
}

std::size_t Server::queued() const {
  std::size_t total = 0;
  for (const Partition& p : partitions_) total += p.queue->size();
  return total;
}

const PartitionStats& Server::partition_stats(std::size_t i) const {
  DSIM_ASSERT(!config_->partitions.empty(), "partition figures: the server has no partitions");
  return *partitions_.at(i).stats;
}

std::size_t Server::busy_workers() const {
  std::size_t busy = 0;
  for (const Partition& p : partitions_) busy += p.workers - p.idle.size();
  return busy;
}

std::size_t Server::partition_busy(std::size_t i) const {
  const Partition& p = partitions_.at(i);
  return p.workers - p.idle.size();
}

void Server::record_levels(sim::Time now, Partition& p) {
  const std::size_t busy = p.workers - p.idle.size();
  const std::size_t waiting = p.queue->size();
  busy_seen_ = busy_seen_ - p.busy_seen + busy;
  queued_seen_ = queued_seen_ - p.queued_seen + waiting;
  p.busy_seen = busy;
  p.queued_seen = waiting;
  if (p.stats) p.stats->levels(now, busy, waiting);
  stats_.levels(now, busy_seen_, queued_seen_);
}

void Server::record_all_levels(sim::Time now) {
  for (Partition& p : partitions_) record_levels(now, p);
}

void Server::on_start(sim::Node& node) {
  const sim::Time now = node.true_now();
  if (limiter_) limiter_->refill(now);  // full at start and after a restart
  record_all_levels(now);
}

void Server::on_message(sim::Node& node, const sim::Message& message) {
  if (answer_health_probe(node, message)) return;  // at once, not queued (models/shared/health.hpp)
  const sim::Time now = node.true_now();
  if (message.holds<RpcCancel>()) {
    // The copy waits in its tenant's partition, which the cancel does not name: ask each.
    for (Partition& p : partitions_) {
      if (const auto gone = p.queue->cancel(message.from, message.as<RpcCancel>().call_id)) {
        stats_.cancelled(now, gone->arrived);
        record_levels(now, p);
        return;
      }
    }
    return;
  }
  const auto rpc = message.as<RpcRequest>();
  const QueuedRequest request{.from = message.from,
                              .call_id = rpc.call_id,
                              .arrived = now,
                              .deadline = rpc.deadline,
                              .tied = rpc.tied != 0,
                              .poison = rpc.poison != 0};
  stats_.arrived(now);
  if (limiter_ && !limiter_->try_take(now)) {
    stats_.rate_limited(now);
    answer(node, request, Outcome::RateLimited);
    return;
  }
  const std::uint16_t part = routing_ ? routing_->partition_of(rpc.tenant) : 0;  // 0: the pool
  if (part == TenantRouting::kRefused) {
    stats_.rejected(now);
    unpartitioned_ += stats_.measuring(now);
    answer(node, request, Outcome::Rejected);
    return;
  }
  Partition& p = partitions_[part];
  if (p.stats) p.stats->arrived(now);
  if (p.idle.empty()) {
    if (p.queue->admit(request, now)) {
      stats_.waited(now);
    } else {
      stats_.rejected(now);
      if (p.stats) p.stats->rejected(now);
      answer(node, request, Outcome::Rejected);
    }
  } else if (expired(request, now)) {
    stats_.expired(now, request.arrived);
    answer(node, request, Outcome::Dropped);
  } else {
    serve(node, take_idle(p), request);  // may crash the node (poison): levels are then zero
  }
  record_levels(now, p);
}

void Server::serve(sim::Node& node, std::uint32_t worker, const QueuedRequest& request) {
  const sim::Time now = node.true_now();
  if (const auto& stats = partition_of_worker(worker).stats) stats->started(now, request.arrived);
  if (request.poison && config_->poison.effect == PoisonEffect::Crash) {
    poison_crashes_ += stats_.measuring(now);
    supervisor_.crash(node);  // on_crash has run: the request is lost with the others
    return;
  }
  if (request.poison && config_->poison.effect == PoisonEffect::Stall) {
    poison_stalls_ += stats_.measuring(now);
    workers_[worker] = {request, true, true};
    if (request.tied) node.send(request.from, RpcStarted{.call_id = request.call_id});
    node.set_timer(config_->poison.stall_for, {kServiceDone, worker});
    return;
  }
  // Before marking it busy: the worker is already out of its idle stack, so busy_workers()
  // counts it.
  const sim::Duration service = service_duration(node);
  workers_[worker] = {request, true, false};
  if (request.tied) node.send(request.from, RpcStarted{.call_id = request.call_id});
  node.set_timer(service, {kServiceDone, worker});
}

sim::Duration Server::service_duration(const sim::Node& node) {
  double ns = config_->service_time.sample(service_rng_) * node.slowdown();
  if (config_->contention > 0) ns *= contention_factor(*config_, busy_workers() + queued());
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
  // A stall ends in Error without a draw: the error draws of served requests stay as they were.
  const bool failed = w.stalled || (config_->error_rate.value > 0 &&
                                    error_rng_->bernoulli(config_->error_rate.value));
  stats_.completed(now, w.request.arrived, w.request.deadline, failed);
  answer(node, w.request, failed ? Outcome::Error : Outcome::Ok);
  w.busy = false;
  w.stalled = false;
  take_next(node, worker, now);
  record_levels(now, partition_of_worker(worker));
}

void Server::take_next(sim::Node& node, std::uint32_t worker, sim::Time now) {
  Partition& p = partition_of_worker(worker);
  // Shed and expired requests cost the worker nothing: it moves on to the next at once.
  while (const auto next = p.queue->next(now)) {
    if (next->verdict == Verdict::Shed) {
      stats_.shed(now, next->request.arrived);
      answer(node, next->request, Outcome::Rejected);
    } else if (expired(next->request, now)) {
      stats_.expired(now, next->request.arrived);
      answer(node, next->request, Outcome::Dropped);
    } else {
      serve(node, worker, next->request);  // may crash the node (poison)
      return;
    }
  }
  make_idle(p, worker);
}

void Server::on_crash(sim::Node& node) {
  // Pending service timers die with the node's incarnation; what was queued or in service is lost.
  const sim::Time now = node.true_now();
  std::size_t lost = busy_workers();
  for (Partition& p : partitions_) {
    lost += p.queue->clear();
    p.idle.clear();
    for (std::uint32_t w = p.workers; w-- > 0;) make_idle(p, p.first_worker + w);
  }
  stats_.lost_in_crash(now, lost);
  for (Worker& w : workers_) w = {};
  record_all_levels(now);
}

void Server::figures(Figures& out) const {
  stats_.add_figures(out, config_->workers);
  out.sum("unpartitioned", static_cast<double>(unpartitioned_));
  out.sum("poison_crashes", static_cast<double>(poison_crashes_));
  out.sum("poison_stalls", static_cast<double>(poison_stalls_));
  if (config_->partitions.empty()) return;  // the pool's figures are the server's own
  for (std::size_t i = 0; i < partitions_.size(); ++i)
    partitions_[i].stats->add_figures(out, i, static_cast<int>(partitions_[i].workers));
}

void Server::sample(sim::Time /*now*/, SeriesSample& out) const {
  out.set("queued", static_cast<double>(queued()));
  out.set("busy", static_cast<double>(busy_workers()));
}

}  // namespace models
