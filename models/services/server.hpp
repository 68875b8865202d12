// A server: `workers` serve requests concurrently; the others wait in a queue (FIFO by default,
// optionally bounded); each request takes a service time drawn from a distribution and is then
// answered. Overload controls are opt-in; every default keeps the plain queueing server.
//
// Semantics, in the order a request meets them:
// - Rate limit (`rate_limit` > 0): a token bucket of `burst` tokens refilled at `rate_limit`
//   (token_bucket.hpp), full at start and after a restart. An arrival that finds no whole token
//   is answered RateLimited at once and never enters the server.
// - Partitions (`partitions`, models/services/server_partitions.hpp; none by default): the
//   workers are split into bulkheads, each serving only the tenants it names from a queue of its
//   own; a request is served, queued or rejected by its tenant's partition alone, as below. A
//   tenant that no partition serves is answered Rejected at once. Without partitions, the server
//   is one partition serving every tenant.
// - A request that finds a worker free is served at once. One that finds every worker busy waits
//   in the queue, or, if the queue is full (`queue_limit`), is answered Rejected at once.
// - When a worker becomes free, the queue discipline (`queue`) picks the next request: fifo,
//   lifo, adaptive_lifo (FIFO until the queue has not been empty for `lifo_after`, then LIFO) or
//   codel (FIFO that sheds at dequeue when the queueing delay stays above `codel_target` for
//   `codel_interval`; RFC 8289). A request CoDel sheds is answered Rejected ("shed, try later").
// - Expiry (`drop_expired`): a request that would begin service -- on arrival at a free worker
//   or when dequeued -- with at most `expiry_margin` left before its caller's deadline (deadline
//   - now <= margin, true time; margin 0: the deadline has passed) is answered Dropped instead
//   of served, at no cost to the worker. (The answer, not silence: a caller whose clock runs
//   slow or an intermediary that forwards the deadline learns it at once; a caller that has
//   given up counts it as a late answer.) A margin of a few service times also drops what could
//   not finish in time: under sustained overload a FIFO queue starts every request at the very
//   edge of its deadline, and with no margin most of them finish late. Without drop_expired the
//   server finishes work whose caller has given up: the wasted work of a retry storm.
// - A service time is a draw of `service_time` (ns) times the node's slowdown() (gray failure)
//   times the contention factor 1 + contention x max(0, n - contention_knee), where n is the
//   number of requests in the server (in service, this one included, plus waiting) at the moment
//   its service starts: load-dependent service (lock contention, cache thrashing, GC pressure)
//   that makes an overloaded server slower still. Fixed when service starts.
// - Poison (`poison`, models/services/poison.hpp; off by default): a poison request whose
//   service starts crashes the node (restarted `restart_after` later) or stalls its worker for
//   `stall_for` and is then answered Error.
// - When service completes, the answer is Error with probability `error_rate` (the work was done
//   and failed), else Ok: RpcResponse{call_id, outcome} goes back to the sender. A completion at
//   or after the request's deadline is counted as wasted work: nobody waits for that answer.
// - Tied requests (models/resilience/hedging.hpp): when service of a tied copy starts, the
//   server tells its caller (RpcStarted); an RpcCancel removes the named copy from the queue if
//   it is still waiting (counted: cancelled), and is ignored otherwise.
// - A pause (GC, VM stall) stops service: completions and arrivals wait until it resumes.
// - A crash loses every queued and in-service request unanswered (volatile state, the queue
//   discipline's too); a restart begins empty, with a full token bucket.
// Randomness: service draws come from the node's stream "service", error draws from "errors"
// (only when error_rate > 0), so that adding a model elsewhere, changing the clients, or turning
// errors on does not change the service times.
// Figures (server_stats.hpp) count what happened after the warm-up. Series (series.hpp), at
// each report window's end, summed over the replicas: `queued`, the requests waiting for a
// worker, and `busy`, the workers serving a request (a crashed node has neither), over every
// partition. Each partition has figures of its own (partition_*[i], server_partitions.hpp).
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "models/resilience/token_bucket.hpp"
#include "models/services/poison.hpp"
#include "models/services/queue_discipline.hpp"
#include "models/services/server_partitions.hpp"
#include "models/services/server_stats.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "sim/distribution.hpp"

namespace models {

enum class QueueKind : std::uint8_t { Fifo, Lifo, AdaptiveLifo, Codel };

inline constexpr std::array<Choice<QueueKind>, 4> kQueueChoices{{
    {"fifo", QueueKind::Fifo, "first come, first served"},
    {"lifo", QueueKind::Lifo,
     "newest first: under overload serves the requests whose clients still wait"},
    {"adaptive_lifo", QueueKind::AdaptiveLifo,
     "FIFO, but LIFO once the queue has not been empty for `lifo_after` (Facebook)"},
    {"codel", QueueKind::Codel,
     "FIFO that sheds (Rejected) at dequeue when the queueing delay stays above `codel_target` "
     "for `codel_interval` (CoDel, RFC 8289)"},
}};

struct ServerConfig {
  static constexpr const char* kSummary =
      "A queueing server: `workers` serve requests concurrently from a queue of at most "
      "`queue_limit` waiting requests (full: Rejected at once), in `queue` order: fifo, lifo, "
      "adaptive_lifo or codel (sheds at dequeue, Rejected, when the queueing delay stays above "
      "`codel_target` for `codel_interval`). Overload controls: a token bucket (`rate_limit`, "
      "`burst`: RateLimited at once), `drop_expired` (answers Dropped instead of serving a "
      "request whose deadline passed, or is less than `expiry_margin` away). Each request takes "
      "a draw of `service_time`, times the node's slowdown (gray failure), times 1 + "
      "`contention` x max(0, in_system - `contention_knee`); it fails with probability "
      "`error_rate`. Completions after their deadline are counted as wasted work. A crash loses "
      "the queue and the requests in service. `partitions` split the workers into bulkheads, "
      "each serving only the tenants (client groups) it names from its own queue; `poison` says "
      "what a poison request does when its service starts: crash the node (restarted after "
      "`restart_after`) or stall its worker for `stall_for`.";

  int workers = 1;
  std::int64_t queue_limit = -1;
  sim::Distribution service_time = sim::Distribution::exponential(1e6);
  QueueKind queue = QueueKind::Fifo;
  sim::Duration codel_target = sim::Duration::nanoseconds(5'000'000);
  sim::Duration codel_interval = sim::Duration::nanoseconds(100'000'000);
  sim::Duration lifo_after = sim::Duration::nanoseconds(100'000'000);
  bool drop_expired = false;
  sim::Duration expiry_margin = sim::Duration::zero();
  Rate rate_limit{0};
  std::int64_t burst = 1;
  double contention = 0;
  std::int64_t contention_knee = 1;
  Probability error_rate{0};
  std::vector<ServerPartitionConfig> partitions;
  PoisonConfig poison;

  template <class V>
  void describe(V& v) {
    v.field("workers", workers, "requests served concurrently", Limits{1, 1e6});
    v.field("queue_limit", queue_limit,
            "requests that may wait for a worker; -1: unbounded, 0: none (busy means rejected)",
            Limits{-1, 1e9});
    v.field("service_time", service_time,
            "time to serve one request, before the node's slowdown and the contention factor",
            Limits{0});
    v.field("queue", queue, "the order in which free workers take waiting requests", kQueueChoices);
    v.field("codel_target", codel_target,
            "codel: the acceptable standing queueing delay (RFC 8289's TARGET)", Limits{1});
    v.field("codel_interval", codel_interval,
            "codel: how long the delay must stay above target before shedding, and the base of "
            "the drop spacing interval/sqrt(count)",
            Limits{1});
    v.field("lifo_after", lifo_after,
            "adaptive_lifo: LIFO once the queue has not been empty for this long", Limits{1});
    v.field("drop_expired", drop_expired,
            "answer Dropped, unserved, a request whose deadline has passed when it would begin "
            "service; false: serve it anyway (wasted work)");
    v.field("expiry_margin", expiry_margin,
            "drop_expired: drop when less than this remains before the deadline (now + margin >= "
            "deadline); 0: only once the deadline has passed",
            Limits{0});
    v.field("rate_limit", rate_limit,
            "token bucket refill rate; a request finding no token is answered RateLimited; "
            "0: no limit",
            Limits{0});
    v.field("burst", burst, "token bucket size (tokens), full at start", Limits{1, 1e12});
    v.field("contention", contention,
            "service time x (1 + contention x max(0, in_system - contention_knee)), in_system "
            "counted when service starts (this request included); 0: no contention",
            Limits{0, 1e6});
    v.field("contention_knee", contention_knee,
            "requests in the server up to which service does not slow down", Limits{0, 1e9});
    v.field("error_rate", error_rate,
            "probability that a served request is answered Error (after its full service time)");
    v.list("partitions", partitions,
           "bulkheads: each partition serves only the groups (tenants) it names, with its own "
           "workers and queue ({\"groups\": [\"a\"], \"workers\": 2}); at most one names no "
           "group (the catch-all); their workers add up to `workers`; none: one pool");
    v.section("poison", poison, "what a poison request (clients' poison_fraction) does");
  }
};

/// The contention factor of a service starting with `in_system` requests in the server.
inline double contention_factor(const ServerConfig& config, std::size_t in_system) {
  const double excess =
      static_cast<double>(in_system) - static_cast<double>(config.contention_knee);
  return 1.0 + config.contention * (excess > 0 ? excess : 0.0);
}

class Server final : public Model {
 public:
  using Config = ServerConfig;
  static Wiring wiring(const Config&) {
    return {.serves = {Protocol::Rpc, Protocol::Health, Protocol::Cancel}};
  }
  static FigureDocs figure_docs();
  static std::vector<ConfigProblem> check(const Config& config) {
    return check_partitions(config.partitions, config.workers);
  }
  static SeriesDocs series_docs() {
    return {{"queued", "requests", Combine::Sum, "requests waiting for a worker"},
            {"busy", "workers", Combine::Sum, "workers serving a request"}};
  }

  /// The timer kind of a service completion (its value is the worker's index).
  static constexpr std::uint32_t kServiceDone = 1;

  /// Measures its figures over [measure_from, measure_to]; draws service times from
  /// `service_rng` and errors (if error_rate > 0) from `error_rng`; sends each tenant to the
  /// partition `routing` gives (config.partitions, or the one pool); records poison crashes in
  /// `fault_log` if not null.
  Server(std::shared_ptr<const ServerConfig> config, sim::Rng service_rng, sim::Time measure_from,
         sim::Time measure_to, sim::Rng error_rng = sim::Rng(0), TenantRouting routing = {},
         sim::FaultInjector* fault_log = nullptr);
  /// The same with a copy of `config` of its own.
  Server(const ServerConfig& config, sim::Rng service_rng, sim::Time measure_from,
         sim::Time measure_to, sim::Rng error_rng = sim::Rng(0), TenantRouting routing = {},
         sim::FaultInjector* fault_log = nullptr)
      : Server(std::make_shared<const ServerConfig>(config), service_rng, measure_from, measure_to,
               error_rng, std::move(routing), fault_log) {}

  /// The instance for the replica-th node of ctx.nodes. Does not attach it: the caller does
  /// (ctx.cluster.attach(ctx.nodes[replica], ...)), keeping a Model* for figures.
  static std::unique_ptr<Model> make(const ServerConfig& config, BuildContext& ctx,
                                     std::size_t replica);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;
  void sample(sim::Time now, SeriesSample& out) const override;

  std::size_t busy_workers() const;
  std::size_t queued() const;
  /// Partitions: config.partitions' count, or 1 (the pool) without partitions.
  std::size_t partition_count() const { return partitions_.size(); }
  std::size_t partition_busy(std::size_t i) const;
  std::size_t partition_queued(std::size_t i) const { return partitions_.at(i).queue->size(); }
  /// Partition i's figures: only with config.partitions (the pool's are the server's own).
  const PartitionStats& partition_stats(std::size_t i) const;

 private:
  struct Worker {
    QueuedRequest request;
    bool busy = false;
    bool stalled = false;  // a poison request's stall: answered Error when it ends
  };
  struct Partition {
    std::unique_ptr<QueueDiscipline> queue;
    std::vector<std::uint32_t> idle;  // a stack of its idle workers' indices
    std::uint32_t first_worker = 0;
    std::uint32_t workers = 0;
    std::size_t busy_seen = 0, queued_seen = 0;  // its levels at the last record_levels
    std::unique_ptr<PartitionStats> stats;       // only with config.partitions: memory per node
  };

  /// Worker `worker` (taken from its partition's idle stack) starts on `request`. With a poison
  /// request that crashes the node, the node is crashed on return: the caller must stop.
  void serve(sim::Node& node, std::uint32_t worker, const QueuedRequest& request);
  void complete(sim::Node& node, std::uint32_t worker);
  /// The free `worker` takes the next request its partition's queue gives it (answering those
  /// shed or expired on the way), or goes idle.
  void take_next(sim::Node& node, std::uint32_t worker, sim::Time now);
  Partition& partition_of_worker(std::uint32_t worker) {
    // Partitions hold consecutive ranges of workers, in order.
    return *std::partition_point(partitions_.begin(), partitions_.end(), [&](const Partition& p) {
      return p.first_worker + p.workers <= worker;
    });
  }
  static void make_idle(Partition& p, std::uint32_t worker) { p.idle.push_back(worker); }
  static std::uint32_t take_idle(Partition& p) {
    const std::uint32_t worker = p.idle.back();
    p.idle.pop_back();
    return worker;
  }
  /// drop_expired is on and at most expiry_margin is left before the request's deadline.
  bool expired(const QueuedRequest& request, sim::Time now) const {
    return config_->drop_expired && request.deadline - now <= config_->expiry_margin;
  }
  /// Time to serve one request starting now: draw x slowdown x contention factor.
  sim::Duration service_duration(const sim::Node& node);
  /// After every change to partition `p`: its levels and the server's.
  void record_levels(sim::Time now, Partition& p);
  void record_all_levels(sim::Time now);

  std::shared_ptr<const ServerConfig> config_;  // shared by the component's nodes
  std::vector<Partition> partitions_;
  std::unique_ptr<TenantRouting> routing_;  // only with config.partitions
  std::vector<Worker> workers_;
  std::size_t busy_seen_ = 0, queued_seen_ = 0;  // the server's levels, summed over partitions
  // Only when configured: a node's memory counts (10^6-node scenarios).
  std::unique_ptr<TokenBucket> limiter_;
  sim::Rng service_rng_;
  std::unique_ptr<sim::Rng> error_rng_;
  PoisonSupervisor supervisor_;
  ServerStats stats_;
  std::uint64_t unpartitioned_ = 0, poison_crashes_ = 0, poison_stalls_ = 0;
};

}  // namespace models
