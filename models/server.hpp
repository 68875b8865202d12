// A server: `workers` serve requests concurrently; the others wait in a queue (FIFO, optionally
// bounded); each request takes a service time drawn from a distribution and is then answered.
//
// Semantics:
// - A request that finds a worker free is served at once. One that finds every worker busy waits
//   in the queue, or, if the queue is full (`queue_limit`), is answered Rejected at once.
// - A service time is a draw of `service_time` (ns) multiplied by the node's slowdown() at the
//   moment service starts (gray failure: a slowed node serves everything slower).
// - The answer, RpcResponse{call_id, Ok}, goes back to the sender when service completes.
//   The server does not look at deadlines: it finishes work whose caller has given up.
// - A pause (GC, VM stall) stops service: completions and arrivals wait until it resumes.
// - A crash loses every queued and in-service request unanswered (volatile state); a restart
//   begins empty. Service draws come from the node's stream "service", so that adding a model
//   elsewhere, or changing the clients, does not change the service times.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/model.hpp"
#include "models/params.hpp"
#include "models/queue_discipline.hpp"
#include "models/server_stats.hpp"
#include "sim/distribution.hpp"

namespace models {

struct ServerConfig {
  int workers = 1;
  std::int64_t queue_limit = -1;
  sim::Distribution service_time = sim::Distribution::exponential(1e6);

  template <class V>
  void describe(V& v) {
    v.field("workers", workers, "requests served concurrently", Limits{1, 1e6});
    v.field("queue_limit", queue_limit,
            "requests that may wait for a worker; -1: unbounded, 0: none (busy means rejected)",
            Limits{-1, 1e9});
    v.field("service_time", service_time,
            "time to serve one request, before the node's slowdown is applied", Limits{0});
  }
};

class Server final : public Model {
 public:
  /// The timer kind of a service completion (its value is the worker's index).
  static constexpr std::uint32_t kServiceDone = 1;

  /// Measures its figures over [measure_from, measure_to]; draws service times from `service_rng`.
  Server(const ServerConfig& config, sim::Rng service_rng, sim::Time measure_from,
         sim::Time measure_to);

  /// The instance for the replica-th node of ctx.nodes. Does not attach it: the caller does
  /// (ctx.cluster.attach(ctx.nodes[replica], ...)), keeping a Model* for figures.
  static std::unique_ptr<Model> make(const ServerConfig& config, BuildContext& ctx,
                                     std::size_t replica);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;

  std::size_t busy_workers() const { return workers_.size() - idle_.size(); }
  std::size_t queued() const { return queue_->size(); }

 private:
  struct Worker {
    QueuedRequest request;
    bool busy = false;
  };

  void serve(sim::Node& node, std::uint32_t worker, const QueuedRequest& request);
  void complete(sim::Node& node, std::uint32_t worker);
  /// Time to serve one request now: the hook for service times that depend on the load.
  sim::Duration service_duration(const sim::Node& node);
  void record_levels(sim::Time now) { stats_.levels(now, busy_workers(), queue_->size()); }

  ServerConfig config_;
  std::unique_ptr<QueueDiscipline> queue_;
  std::vector<Worker> workers_;
  std::vector<std::uint32_t> idle_;  // a stack of idle workers' indices
  sim::Rng service_rng_;
  ServerStats stats_;
};

}  // namespace models
