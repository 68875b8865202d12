// An autoscaler: one node that sizes a worker pool from a queue's backlog or from the workers'
// busy fraction, every `interval`, with the Kubernetes Horizontal Pod Autoscaler's algorithm
// (and KEDA's queue-length metric): the control loop that adds consumers when a queue grows and
// removes them, slowly, when it drains.
//
// Semantics, in the order things happen (protocol: models/queues/queue_protocol.hpp):
// - At start, and again at each restart of its node, it sets the pool to `initial` workers:
//   WorkerScale{initial, epoch} to every node of `workers` (worker replica i serves while
//   i < desired, after its own start-up delay), and forgets its recommendation history.
// - Every `interval` on its clock (the first one interval after the start) it opens a round:
//   QueueStatsQuery to `queue` (metric queue_depth) and WorkerLoadQuery to every node of the
//   pool. The round closes when every reply is in, or `query_timeout` after it opened; a reply
//   after that is ignored (it names an older round).
// - At the close, the metric. queue_depth: total = visible (+ in_flight with `count_in_flight`,
//   as KEDA's SQS scaler counts ApproximateNumberOfMessages + ...NotVisible by default), an
//   AverageValue target of `target` messages per worker. utilization: the busy fraction of the
//   workers that should run (replica i < desired) that answered serving, a Utilization target;
//   those starting (serving 0) or silent are treated as the HPA treats unready and missing pods.
//   The metric is missing when the queue did not answer (queue_depth) or no worker that should
//   run answered serving (utilization): then nothing is decided, the round only resends the
//   current count (same epoch), and `missing_metrics` counts it.
// - Otherwise a decision (models/queues/hpa_algorithm.hpp, step by step there): the raw
//   recommendation (tolerance), stabilized over the scale-up and scale-down windows, limited by
//   the scaling policies per `policy_period` and by [min, max]; then WorkerScale{desired, epoch}
//   to every worker, with the epoch one higher than the last sent, changed or not (a worker that
//   restarted learns the count within one interval). The recommendation and scale-event
//   histories are timestamped with the round's opening on the autoscaler's monotonic clock.
// - A crash loses the round, the histories and the count; the pool keeps the last count it was
//   sent until the restart sends `initial`. The epoch is durable (the HPA writes the scale
//   subresource to the API server, which keeps its version across controller restarts): after a
//   restart the workers accept the new, higher epochs. A pause delays the rounds (timers fire
//   late; the round's timeout fires first).
// - `max` 0 is the pool's size; `min`, `max` and `initial` larger than the pool are capped at it.
//
// Reference: the Kubernetes Horizontal Pod Autoscaler (autoscaling/v2; kubernetes.io, "Horizontal
// Pod Autoscaling", algorithm details; pkg/controller/podautoscaler) with its defaults: sync
// period 15 s, tolerance 0.1, scale-up window 0 s with policies +100 % or +4 pods per 15 s (the
// larger), scale-down window 300 s with a policy of -100 % per 15 s; and KEDA's SQS queue scaler
// for the queue_depth metric (an external metric with an AverageValue target). Differences:
// 1. The HPA reads "current replicas" from the scale subresource and, for AverageValue, divides
//    by status.replicas (pods that exist); here both are the autoscaler's last desired count (the
//    pool starts replicas i < desired at once, so they differ only while workers are crashed).
//    After a restart the HPA reads the current count back; this one sets `initial` again.
// 2. No scale to zero: min >= 1 (KEDA's activation from and to zero replicas is not modelled).
// 3. The metric is read by request/response in each round (query_timeout), not scraped from a
//    metrics pipeline with its own delay (metrics-server's 15 s resolution, CloudWatch's minute):
//    the autoscaler reacts faster than a real one by that delay.
// 4. Readiness: a worker is ready while it reports serving; the HPA's CPU initialization period
//    (5 min) and initial readiness delay (30 s) are not modelled. Unready and missing pods matter
//    for utilization only, as in the HPA (an external metric has no per-pod readiness).
// 5. One metric per autoscaler (the HPA takes the largest recommendation of several); selectPolicy
//    is always Max; one policy period; one tolerance for both directions; percentages in exact
//    integer arithmetic and utilization as an exact fraction (hpa_algorithm.hpp lists these).
// 6. A missing metric skips the round, as the HPA's failed metric fetch does, but the count is
//    resent anyway (the HPA need not: the Deployment's spec keeps it).
// Steady state: no allocation (the histories are sized at construction; each round reuses the
// per-worker table).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "models/queues/hpa_algorithm.hpp"
#include "models/queues/queue_protocol.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"

namespace models {

enum class ScaleMetric : std::uint8_t { QueueDepth, Utilization };

inline constexpr std::array<Choice<ScaleMetric>, 2> kScaleMetricChoices{{
    {"queue_depth", ScaleMetric::QueueDepth,
     "messages in `queue` per worker (KEDA's SQS scaler: an AverageValue target)"},
    {"utilization", ScaleMetric::Utilization,
     "mean busy fraction of the serving workers (the HPA's CPU utilization target)"},
}};

struct AutoscalerConfig {
  static constexpr const char* kSummary =
      "An autoscaler with the Kubernetes HPA's algorithm: every `interval` it reads `queue`'s "
      "backlog (metric queue_depth: `target` messages per worker, KEDA's SQS scaler) or the "
      "workers' busy fraction (utilization: `target` busy fraction), recommends ceil(total / "
      "target) or ceil(ratio x ready workers) outside the `tolerance`, keeps the highest "
      "recommendation of the `scale_down_window` (and the lowest of the `scale_up_window`), "
      "limits the change per `policy_period` (+`max_scale_up_percent` % or "
      "+`max_scale_up_pods`, -`max_scale_down_percent` %) and to [`min`, `max`], and sends "
      "the count to every node of `workers` (replica i serves while i < count). A missing "
      "metric changes nothing; unready or silent workers count conservatively.";

  /// The target in force: `target`, or the metric's default.
  double effective_target() const {
    if (target > 0) return target;
    return metric == ScaleMetric::QueueDepth ? 5.0 : 0.8;
  }

  ComponentRef workers;
  ComponentRef queue;
  ScaleMetric metric = ScaleMetric::QueueDepth;
  double target = 0;
  bool count_in_flight = true;
  sim::Duration interval = sim::Duration::nanoseconds(15'000'000'000);
  sim::Duration query_timeout = sim::Duration::nanoseconds(1'000'000'000);
  double tolerance = 0.1;
  std::int64_t min = 1;
  std::int64_t max = 0;
  std::int64_t initial = 0;
  sim::Duration scale_up_window = sim::Duration::zero();
  sim::Duration scale_down_window = sim::Duration::nanoseconds(300'000'000'000);
  std::int64_t max_scale_up_percent = 100;
  std::int64_t max_scale_up_pods = 4;
  std::int64_t max_scale_down_percent = 100;
  sim::Duration policy_period = sim::Duration::nanoseconds(15'000'000'000);

  template <class V>
  void describe(V& v) {
    v.field("workers", workers, "the worker pool it sizes (required; the scale protocol)");
    v.field("queue", queue,
            "the queue whose backlog it reads (required with metric queue_depth; the queue "
            "protocol's stats)");
    v.field("metric", metric, "what it scales on", kScaleMetricChoices);
    v.field("target", target,
            "the metric's target: messages per worker (queue_depth), or a busy fraction in "
            "(0, 1] (utilization); 0: the metric's default, 5 messages (KEDA's SQS queueLength) "
            "or 0.8 (autoscaling/v1's targetCPUUtilizationPercentage)",
            Limits{0, 1e12});
    v.field("count_in_flight", count_in_flight,
            "queue_depth: count received, unacknowledged messages with the visible ones (KEDA's "
            "SQS scaleOnInFlight, on by default)");
    v.field("interval", interval,
            "time between two rounds, on the autoscaler's clock (the HPA's sync period)",
            Limits{1e8, 3.6e12});
    v.field("query_timeout", query_timeout,
            "how long a round waits for the replies (less than the interval); the missing ones "
            "count as missing metrics",
            Limits{1, 3.6e12});
    v.field("tolerance", tolerance,
            "no change while |1 - metric / target| is at most this (the HPA's 0.1)",
            Limits{0, 100});
    v.field("min", min, "the fewest workers it sets", Limits{1, 1e5});
    v.field("max", max,
            "the most workers it sets; 0: the pool's size (never more than the pool's nodes)",
            Limits{0, 1e5});
    v.field("initial", initial, "the workers it sets at start and after a restart; 0: min",
            Limits{0, 1e5});
    v.field("scale_up_window", scale_up_window,
            "scale-up stabilization: up to the lowest recommendation of this long (0: none)",
            Limits{0, 3.6e12});
    v.field("scale_down_window", scale_down_window,
            "scale-down stabilization: down to the highest recommendation of this long",
            Limits{0, 3.6e12});
    v.field("max_scale_up_percent", max_scale_up_percent,
            "scale-up policy: +this % of the count at the start of the policy period (the larger "
            "of the two up policies applies; 0 turns this one off)",
            Limits{0, 1e5});
    v.field("max_scale_up_pods", max_scale_up_pods,
            "scale-up policy: +this many workers per policy period (0 turns this one off)",
            Limits{0, 1e5});
    v.field("max_scale_down_percent", max_scale_down_percent,
            "scale-down policy: -this % of the count at the start of the policy period (0: never "
            "scale down)",
            Limits{0, 100});
    v.field("policy_period", policy_period,
            "the period over which the scaling policies limit the change (the HPA's "
            "periodSeconds)",
            Limits{1, 1.8e12});
  }
};

class Autoscaler final : public Model {
 public:
  using Config = AutoscalerConfig;
  enum TimerKind : std::uint32_t { kRound = 1, kRoundTimeout = 2 };

  static Wiring wiring(const Config& c) {
    Wiring w{.calls = {{"workers", c.workers, {Protocol::Scale}}}};
    if (c.metric == ScaleMetric::QueueDepth || !c.queue.empty())
      w.calls.push_back({"queue", c.queue, {Protocol::Queue}, "metric is queue_depth"});
    return w;
  }
  static FigureDocs figure_docs();
  static SeriesDocs series_docs();
  /// Problems describe() cannot express; `count`: the component's nodes (one autoscaler).
  static std::vector<ConfigProblem> check(const Config& config, std::size_t count);
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);

  /// `workers`: the pool's nodes in replica order; `queue`: the watched queue's node, if any.
  Autoscaler(const Config& config, std::vector<sim::NodeId> workers,
             std::optional<sim::NodeId> queue, sim::Time measure_from, sim::Time measure_to);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;
  void sample(sim::Time now, SeriesSample& out) const override;

  // For tests.
  std::int64_t desired() const { return desired_; }
  std::uint64_t epoch() const { return epoch_; }
  std::int64_t min_workers() const { return behavior_.min; }
  std::int64_t max_workers() const { return behavior_.max; }

 private:
  void open_round(sim::Node& node);
  void close_round(sim::Node& node);
  /// The raw recommendation of the closed round, or nullopt when its metric is missing.
  std::optional<std::int64_t> recommend();
  void broadcast(sim::Node& node);
  void set_desired(sim::Time now, std::int64_t desired);
  bool measured(sim::Time t) const { return t >= measure_from_ && t <= measure_to_; }

  Config config_;
  std::vector<sim::NodeId> workers_;
  std::optional<sim::NodeId> queue_;
  std::vector<std::int32_t> index_of_node_;  // NodeId -> worker index, -1: not a worker
  hpa::Behavior behavior_;
  std::int64_t initial_;
  hpa::ScaleGovernor governor_;
  sim::Time measure_from_, measure_to_;

  // The round (volatile).
  std::uint64_t round_ = 0;  // the id of the latest round; never reused, across restarts
  bool round_open_ = false;
  sim::Time round_opened_;  // on the monotonic clock
  sim::TimerId round_timeout_;
  std::vector<hpa::WorkerLoad> loads_;
  std::size_t worker_answers_ = 0;
  bool queue_answered_ = false;
  QueueStatsReply queue_stats_;

  std::int64_t desired_ = 0;
  std::uint64_t epoch_ = 0;  // durable: survives a crash
  std::int64_t serving_ = 0;
  double metric_ = 0;

  // Figures, over [measure_from, measure_to].
  TimeAverage desired_average_;
  std::optional<std::int64_t> desired_at_warmup_end_;
  std::int64_t desired_max_ = 0, desired_min_ = 0;
  bool desired_seen_ = false;
  std::uint64_t decisions_ = 0, scale_ups_ = 0, scale_downs_ = 0, missing_metrics_ = 0;
};

}  // namespace models
