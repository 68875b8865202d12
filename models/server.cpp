#include "models/server.hpp"

#include "models/fifo_queue.hpp"
#include "models/rpc.hpp"
#include "sim/assert.hpp"
#include "sim/node.hpp"

namespace models {
namespace {

// The one place that picks the queue discipline from the configuration (FIFO for now).
std::unique_ptr<QueueDiscipline> make_queue(const ServerConfig& config) {
  return std::make_unique<FifoQueue>(config.queue_limit);
}

void answer(sim::Node& node, const QueuedRequest& request, Outcome outcome) {
  node.send(request.from, RpcResponse{.call_id = request.call_id, .outcome = outcome});
}

}  // namespace

Server::Server(const ServerConfig& config, sim::Rng service_rng, sim::Time measure_from,
               sim::Time measure_to)
    : config_(config),
      queue_(make_queue(config)),
      workers_(static_cast<std::size_t>(config.workers)),
      service_rng_(service_rng),
      stats_(measure_from, measure_to) {
  DSIM_ASSERT(config.workers >= 1, "a server has at least one worker");
  idle_.reserve(workers_.size());
  for (std::size_t w = workers_.size(); w-- > 0;) idle_.push_back(static_cast<std::uint32_t>(w));
}

std::unique_ptr<Model> Server::make(const ServerConfig& config, BuildContext& ctx,
                                    std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "server replica out of range");
  const sim::Node& node = ctx.cluster.node(ctx.nodes[replica]);
  return std::make_unique<Server>(config, node.stream("service"), ctx.warmup_end, ctx.end);
}

void Server::on_start(sim::Node& node) {
  record_levels(node.true_now());
}

void Server::on_message(sim::Node& node, const sim::Message& message) {
  const auto rpc = message.as<RpcRequest>();
  const sim::Time now = node.true_now();
  const QueuedRequest request{
      .from = message.from, .call_id = rpc.call_id, .arrived = now, .deadline = rpc.deadline};
  stats_.arrived(now);
  if (!idle_.empty()) {
    const std::uint32_t worker = idle_.back();
    idle_.pop_back();
    serve(node, worker, request);
  } else if (queue_->admit(request, now)) {
    stats_.waited(now);
  } else {
    stats_.rejected(now);
    answer(node, request, Outcome::Rejected);
  }
  record_levels(now);
}

void Server::serve(sim::Node& node, std::uint32_t worker, const QueuedRequest& request) {
  workers_[worker] = {request, true};
  node.set_timer(service_duration(node), {kServiceDone, worker});
}

sim::Duration Server::service_duration(const sim::Node& node) {
  return sim::duration_from_ns(config_.service_time.sample(service_rng_) * node.slowdown());
}

void Server::on_timer(sim::Node& node, sim::TimerTag tag) {
  DSIM_ASSERT(tag.kind == kServiceDone, "a server sets only service timers");
  complete(node, static_cast<std::uint32_t>(tag.value));
}

void Server::complete(sim::Node& node, std::uint32_t worker) {
  DSIM_ASSERT(worker < workers_.size() && workers_[worker].busy, "completion of an idle worker");
  const sim::Time now = node.true_now();
  Worker& w = workers_[worker];
  stats_.completed(now, w.request.arrived);
  answer(node, w.request, Outcome::Ok);
  w.busy = false;
  // The worker takes the next waiting request at once, or goes idle.
  if (const auto next = queue_->next(now)) {
    serve(node, worker, *next);
  } else {
    idle_.push_back(worker);
  }
  record_levels(now);
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

}  // namespace models
