// A gateway: a service whose pool of worker threads calls several dependencies, one call per
// request: the service of Nygard's bulkhead story (Release It!, 2nd ed., "Bulkheads" and
// "Blocked Threads"; Netflix Hystrix's "How it Works": an application whose threads call many
// dependencies runs out of threads for all of them when one dependency becomes slow, because
// every thread ends up blocked on the slow one). Bulkheads per dependency (the `bulkhead`
// section of a dependency's caller settings, models/resilience/bulkhead.hpp, resilience4j's
// SemaphoreBulkhead, Hystrix's semaphore isolation) cap the workers one dependency can hold.
//
// Semantics, in the order a request meets them:
// - Routing, on arrival: a request whose operation (RpcRequest.operation: kOpRead 0, kOpWrite
//   1, as clients send with `write_fraction`) is some dependency's `operation` goes to that
//   dependency; the others go to one of the dependencies without an `operation` (-1), drawn
//   with probability weight / (sum of their weights) from the node's stream "route" (a draw
//   only when there are two or more). A request that no dependency takes is answered Error at
//   once (unrouted).
// - Workers: a request takes one of `workers` free workers. When all are busy it waits in a
//   FIFO queue of at most `queue_limit` requests (-1: unbounded; 0: no queue), or, the queue
//   full, is answered Rejected at once. A worker freed takes the request at the head.
// - With `propagate_deadline` (on by default, as the relay's), a request whose deadline
//   (RpcRequest.deadline, true time) has passed when a worker would take it is answered Timeout
//   at once, uncalled (expired_before_call), and the worker takes the next; the dependency's
//   calls for a request never outlive its deadline (each try waits at most until then and
//   carries it; no retry starts after it).
// - The worker makes the call through its dependency's own Caller (models/shared/caller.hpp:
//   `target`, `timeout`, `retry`, `circuit_breaker`, `bulkhead`, `hedge`, as a client's) and
//   is held until that call ends: every try, the waits for a bulkhead permit and the backoffs
//   between retries included (a thread blocked in a synchronous client). A try the bulkhead or
//   the breaker refuses fails at once, so a refused request frees its worker at once: that is
//   how a bulkhead protects the pool.
// - The outcome goes upstream mapped as the relay maps it (relay.hpp): Ok -> Ok, Timeout ->
//   Timeout, anything else -> Error (a 502/503); then the worker takes the next request.
// - The gateway's own work per request is not modelled (zero time): put a server in front of
//   it for that. The gateway answers health probes at once, bypassing the workers.
// - The dependencies' calls are not the run's end-to-end requests: their Callers record nothing
//   into the RequestRecorder (the clients' requests are the report's); figures count them.
// - Several Callers on one node: dependency i's Caller has the call-id space i + 1
//   (Caller::set_call_id_space), so an answer reaches exactly the Caller that sent the attempt;
//   its timers are the kinds kCall + i x Caller::kTimerKinds onwards.
// - A crash loses the queue, the requests being called for (unanswered: the upstream callers
//   time out) and every dependency's retry budget, breaker and bulkhead state. A pause holds
//   everything.
// Randomness: routing from the node's stream "route"; the Callers' replica choices from the
// node's own stream and backoff jitter from "retry" (shared by the dependencies).
//
// Differences from the references: Hystrix isolates each dependency in a thread pool of its own
// (or a semaphore on the caller's thread) and times the command out on a timer thread, freeing
// the caller's thread; here the gateway's workers are one shared pool, held for the whole call,
// and a dependency's share of it is capped by its Caller's semaphore bulkhead (resilience4j's
// SemaphoreBulkhead, whose differences bulkhead.hpp lists). Nygard's story has no numbers; the
// pool, queue and routing are the simplest service that shows it.
//
// Figures (after the warm-up): per dependency i, requests routed to it, those answered with a
// failure (queue full, expired, or the call failed), the workers it held (most at once, time
// average; a worker waiting for a bulkhead permit is held, one given back at the instant it was
// taken -- a refusal -- was never held) and the latency of its Ok answers (arrival to answer:
// queueing for a worker included); for the gateway, requests received, answered Ok and failed,
// rejected, expired, unrouted, busy workers (most and average) and the longest queue; and the
// Callers' figures (caller.hpp) of all the dependencies together (sums; maxima for the maxima;
// hedge_extra_load over all their tries). Series: `busy` workers and `queued` requests.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/shared/caller.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/rpc.hpp"
#include "models/shared/slot_table.hpp"
#include "sim/ring_buffer.hpp"
#include "sim/rng.hpp"

namespace models {

/// One dependency of a gateway: which requests it gets and how it is called.
struct GatewayDependencyConfig {
  std::int64_t operation = -1;
  double weight = 1;
  CallerConfig call;  // target, timeout, retry, circuit_breaker, bulkhead, hedge

  template <class V>
  void describe(V& v) {
    v.field("operation", operation,
            "the requests of this operation (0: reads, 1: writes) go to this dependency; -1: it "
            "shares the others by `weight`",
            Limits{-1, 255});
    v.field("weight", weight,
            "operation -1: its share of the requests no operation claims is weight / (sum of "
            "the weights)",
            Limits{0, 1e9});
    call.describe(v);
  }
};

struct GatewayConfig {
  static constexpr const char* kSummary =
      "A service whose `workers` call its `dependencies`: each request takes a worker (FIFO "
      "queue of `queue_limit` when all are busy; full: Rejected), is routed to one dependency "
      "(by `operation`, else drawn by `weight`) and holds its worker until that dependency's "
      "call ends (its own timeout, retry, circuit_breaker, bulkhead); the outcome goes "
      "upstream (Ok; a timeout as Timeout; any other failure as Error). A slow dependency holds "
      "every worker unless a bulkhead caps its share (Release It!, Hystrix).";

  int workers = 10;
  std::int64_t queue_limit = -1;
  bool propagate_deadline = true;
  std::vector<GatewayDependencyConfig> dependencies{GatewayDependencyConfig{}};

  template <class V>
  void describe(V& v) {
    v.field("workers", workers, "requests called for concurrently (threads)", Limits{1, 1e6});
    v.field("queue_limit", queue_limit,
            "requests that may wait for a worker; -1: unbounded, 0: none (busy means rejected)",
            Limits{-1, 1e9});
    v.field("propagate_deadline", propagate_deadline,
            "cap the calls at the incoming request's deadline, and answer Timeout uncalled a "
            "request whose deadline passed before a worker took it");
    v.list("dependencies", dependencies,
           "the dependencies called, [{\"target\": name, \"weight\": 1, \"timeout\": ..., "
           "\"bulkhead\": {...}}, ...]; at most 255");
  }
};

class Gateway final : public Model, private CallerListener {
 public:
  using Config = GatewayConfig;
  static Wiring wiring(const Config& c);
  static std::vector<ConfigProblem> check(const Config& c);
  static FigureDocs figure_docs();
  static SeriesDocs series_docs() {
    return {{"queued", "requests", Combine::Sum, "requests waiting for a worker"},
            {"busy", "workers", Combine::Sum, "workers held by a request (its call)"}};
  }

  /// Dependency i's Caller uses the kinds kCall + i x Caller::kTimerKinds onwards.
  static constexpr std::uint32_t kCall = 1;
  static constexpr std::size_t kMaxDependencies = Caller::kCallIdSpaces - 1;

  Gateway(const GatewayConfig& config, sim::Node& node,
          std::vector<std::vector<sim::NodeId>> targets, sim::Time measure_from,
          sim::Time measure_to);

  /// The instance for ctx.nodes[replica]. Throws std::invalid_argument if a target has no
  /// nodes. Does not attach it.
  static std::unique_ptr<Model> make(const GatewayConfig& config, BuildContext& ctx,
                                     std::size_t replica);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;
  void sample(sim::Time now, SeriesSample& out) const override;
  std::vector<const StateTimeline*> state_timelines() const override;

  std::size_t busy() const { return busy_; }
  std::size_t queued() const { return queue_.size(); }
  /// Workers held now by dependency i's calls.
  std::size_t held(std::size_t i) const { return deps_.at(i)->held; }
  const Caller& caller(std::size_t i) const { return deps_.at(i)->caller; }

 private:
  static constexpr std::uint32_t kUnrouted = 0xffffffffu;

  struct Inbound {
    sim::NodeId from = sim::kNoNode;
    std::uint32_t dependency = 0;
    sim::Time arrived;  // true time
    RpcRequest request;
  };
  struct Dependency {
    Dependency(const GatewayDependencyConfig& config, std::vector<sim::NodeId> targets,
               std::uint32_t index, sim::Time measure_from, sim::Time measure_to,
               CallerListener& listener);
    Caller caller;
    std::size_t held = 0;  // workers held by its calls now
    TimeAverage held_average;
    std::size_t held_max = 0;
    std::uint64_t requests = 0, failures = 0, ok = 0;
    double latency_sum_ms = 0, latency_max_ms = 0;  // of the Ok answers
  };

  std::uint32_t route(const RpcRequest& request);
  /// Free workers take queued requests, in order, until either runs out. Not re-entered: a call
  /// that ends at once frees its worker for this same loop.
  void fill_workers(sim::Node& node);
  void call(sim::Node& node, const Inbound& in);
  void on_call_done(sim::Node& node, const CallResult& result) override;
  /// Answers `in` upstream with `outcome` and counts it.
  void answer(sim::Node& node, const Inbound& in, Outcome outcome);
  void set_busy(sim::Time now, std::size_t busy);
  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }

  GatewayConfig config_;
  std::vector<std::unique_ptr<Dependency>> deps_;
  std::vector<std::uint32_t> by_operation_;  // dependency of each operation, or kUnrouted
  std::vector<std::uint32_t> weighted_;      // the dependencies without an operation, weight > 0
  double total_weight_ = 0;
  sim::Rng route_rng_;
  SlotTable<Inbound> calling_;  // requests whose worker is calling; the token of their call
  sim::RingBuffer<Inbound> queue_;
  std::size_t busy_ = 0;
  bool filling_ = false;
  sim::Time measure_from_, measure_to_;
  TimeAverage busy_average_;
  std::size_t busy_max_ = 0, queued_max_ = 0;
  std::uint64_t received_ = 0, answered_ok_ = 0, answered_failed_ = 0;
  std::uint64_t rejected_ = 0, expired_ = 0, unrouted_ = 0;
};

}  // namespace models
