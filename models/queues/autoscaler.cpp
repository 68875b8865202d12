#include "models/queues/autoscaler.hpp"

#include <algorithm>
#include <span>
#include <string>
#include <utility>

#include "sim/assert.hpp"
#include "sim/node.hpp"

namespace models {
namespace {

sim::Time local_now(const sim::Node& node) {
  return node.clock().monotonic(node.true_now());
}

hpa::Behavior behavior_of(const AutoscalerConfig& c, std::size_t pool) {
  const auto nodes = static_cast<std::int64_t>(pool);
  const std::int64_t max = c.max == 0 ? nodes : std::min(c.max, nodes);
  return {.up_window = c.scale_up_window,
          .down_window = c.scale_down_window,
          .up_percent = c.max_scale_up_percent,
          .up_pods = c.max_scale_up_pods,
          .down_percent = c.max_scale_down_percent,
          .policy_period = c.policy_period,
          .min = std::min(c.min, max),
          .max = max};
}

/// How many rounds the longest window or policy period spans.
std::size_t rounds_per_window(const AutoscalerConfig& c) {
  const sim::Duration longest = std::max({c.scale_up_window, c.scale_down_window, c.policy_period});
  return static_cast<std::size_t>(longest.ns() / c.interval.ns()) + 1;
}

}  // namespace

FigureDocs Autoscaler::figure_docs() {
  return {
      {"decisions", "rounds", Combine::Sum,
       "rounds with a metric: a count computed and sent with a new epoch (changed or not)"},
      {"scale_ups", "rounds", Combine::Sum, "decisions that raised the count"},
      {"scale_downs", "rounds", Combine::Sum, "decisions that lowered the count"},
      {"desired_mean", "workers", Combine::Mean, "time-average of the count set"},
      {"desired_max", "workers", Combine::Max, "the largest count set (or in force at the start)"},
      {"desired_min", "workers", Combine::Mean,
       "the smallest count set (or in force at the start)"},
      {"missing_metrics", "rounds", Combine::Sum,
       "rounds without a metric (the queue did not answer; utilization: no worker that should run "
       "answered serving): nothing decided"},
  };
}

SeriesDocs Autoscaler::series_docs() {
  return {
      {"desired", "workers", Combine::Sum, "the count set (the last one sent)"},
      {"serving", "workers", Combine::Sum,
       "workers of the pool that answered serving in the last closed round"},
      {"metric", "value", Combine::Mean,
       "the last metric compared with the target: messages per worker (queue_depth) or the "
       "ready workers' mean busy fraction (utilization)"},
  };
}

std::vector<ConfigProblem> Autoscaler::check(const Config& c, std::size_t count) {
  std::vector<ConfigProblem> problems;
  if (count != 1)
    problems.push_back({"count",
                        "expected one autoscaler node (two would fight over the pool), "
                        "got " +
                            std::to_string(count)});
  if (c.metric == ScaleMetric::Utilization && c.target > 1)
    problems.push_back(
        {"target", "expected a busy fraction in (0, 1], got " + std::to_string(c.target)});
  if (c.metric == ScaleMetric::Utilization && !c.queue.empty())
    problems.push_back({"queue", "only read with metric queue_depth"});
  if (c.max > 0 && c.min > c.max)
    problems.push_back({"min", "expected at most max (" + std::to_string(c.max) + ")"});
  if (c.initial > 0 && (c.initial < c.min || (c.max > 0 && c.initial > c.max)))
    problems.push_back({"initial", "expected a count in [min, max] (or 0: min)"});
  if (c.query_timeout >= c.interval)
    problems.push_back({"query_timeout", "expected less than the interval (" +
                                             sim::format_duration(c.interval) + ")"});
  return problems;
}

std::unique_ptr<Model> Autoscaler::make(const Config& config, BuildContext& ctx,
                                        std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "autoscaler replica out of range");
  std::vector<sim::NodeId> workers = ctx.resolve(config.workers);
  std::optional<sim::NodeId> queue;
  if (config.metric == ScaleMetric::QueueDepth) {
    const std::vector<sim::NodeId> queue_nodes = ctx.resolve(config.queue);
    DSIM_ASSERT(!queue_nodes.empty(), "the loader requires the queue");
    queue = queue_nodes.front();  // a queue component is one broker node
  }
  return std::make_unique<Autoscaler>(config, std::move(workers), queue, ctx.warmup_end, ctx.end);
}

Autoscaler::Autoscaler(const Config& config, std::vector<sim::NodeId> workers,
                       std::optional<sim::NodeId> queue, sim::Time measure_from,
                       sim::Time measure_to)
    : config_(config),
      workers_(std::move(workers)),
      queue_(queue),
      behavior_(behavior_of(config, workers_.size())),
      initial_(std::clamp(config.initial == 0 ? config.min : config.initial, behavior_.min,
                          behavior_.max)),
      governor_(behavior_, rounds_per_window(config)),
      measure_from_(measure_from),
      measure_to_(measure_to),
      loads_(workers_.size()),
      desired_average_(measure_from, measure_to) {
  DSIM_ASSERT(!workers_.empty(), "an autoscaler sizes a pool of at least one node");
  DSIM_ASSERT(config.metric != ScaleMetric::QueueDepth || queue_.has_value(),
              "queue_depth reads a queue");
  DSIM_ASSERT(config.query_timeout < config.interval, "a round closes before the next opens");
  sim::NodeId top = 0;
  for (const sim::NodeId n : workers_) top = std::max(top, n);
  index_of_node_.assign(top + 1, -1);
  for (std::size_t i = 0; i < workers_.size(); ++i)
    index_of_node_[workers_[i]] = static_cast<std::int32_t>(i);
}

void Autoscaler::on_start(sim::Node& node) {
  round_open_ = false;
  governor_.reset(local_now(node), initial_);
  set_desired(node.true_now(), initial_);
  ++epoch_;
  broadcast(node);
  node.set_timer(config_.interval, {kRound, 0});
}

void Autoscaler::open_round(sim::Node& node) {
  if (round_open_) close_round(node);  // a pause delayed both timers: close the late one first
  ++round_;
  round_open_ = true;
  round_opened_ = local_now(node);
  std::fill(loads_.begin(), loads_.end(), hpa::WorkerLoad{});
  worker_answers_ = 0;
  queue_answered_ = false;
  if (queue_) node.send(*queue_, QueueStatsQuery{.call_id = round_});
  for (const sim::NodeId w : workers_) node.send(w, WorkerLoadQuery{.call_id = round_});
  round_timeout_ = node.set_timer(config_.query_timeout, {kRoundTimeout, round_});
  node.set_timer(config_.interval, {kRound, 0});
}

void Autoscaler::on_message(sim::Node& node, const sim::Message& message) {
  if (message.holds<QueueStatsReply>()) {
    const QueueStatsReply& reply = message.as<QueueStatsReply>();
    if (!round_open_ || reply.call_id != round_ || queue_answered_) return;  // late or duplicate
    queue_stats_ = reply;
    queue_answered_ = true;
  } else {
    const WorkerLoadReply& reply = message.as<WorkerLoadReply>();
    if (!round_open_ || reply.call_id != round_) return;  // a late answer to an older round
    const std::int32_t index =
        message.from < index_of_node_.size() ? index_of_node_[message.from] : -1;
    if (index < 0) return;  // not a worker of the pool
    hpa::WorkerLoad& load = loads_[static_cast<std::size_t>(index)];
    if (load.answered) return;  // duplicated
    load = {
        .answered = true, .serving = reply.serving != 0, .busy = std::clamp(reply.busy, 0.0, 1.0)};
    ++worker_answers_;
  }
  if (worker_answers_ == workers_.size() && (queue_answered_ || !queue_)) {
    node.cancel_timer(round_timeout_);
    close_round(node);
  }
}

void Autoscaler::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (tag.kind == kRound) {
    open_round(node);
    return;
  }
  DSIM_ASSERT(tag.kind == kRoundTimeout, "unknown autoscaler timer");
  if (round_open_ && tag.value == round_) close_round(node);
}

std::optional<std::int64_t> Autoscaler::recommend() {
  if (config_.metric == ScaleMetric::QueueDepth) {
    if (!queue_answered_) return std::nullopt;
    const double total =
        static_cast<double>(queue_stats_.visible) +
        (config_.count_in_flight ? static_cast<double>(queue_stats_.in_flight) : 0);
    metric_ = total / static_cast<double>(desired_);
    return hpa::average_value_replicas(total, config_.effective_target(), desired_,
                                       config_.tolerance);
  }
  // The pods are the workers that should run: replicas below the count.
  const std::span<const hpa::WorkerLoad> pods(loads_.data(), static_cast<std::size_t>(desired_));
  const double utilization = hpa::ready_utilization(pods);
  if (utilization < 0) return std::nullopt;
  metric_ = utilization;
  return hpa::utilization_replicas(pods, config_.effective_target(), desired_, config_.tolerance);
}

void Autoscaler::close_round(sim::Node& node) {
  round_open_ = false;
  serving_ = std::count_if(loads_.begin(), loads_.end(),
                           [](const hpa::WorkerLoad& l) { return l.answered && l.serving; });
  const sim::Time now = node.true_now();
  const std::optional<std::int64_t> raw = recommend();
  if (!raw) {
    if (measured(now)) ++missing_metrics_;
    broadcast(node);  // the same count and epoch: a restarted worker learns it
    return;
  }
  const std::int64_t next = governor_.decide(round_opened_, desired_, *raw);
  if (measured(now)) {
    ++decisions_;
    scale_ups_ += next > desired_ ? 1 : 0;
    scale_downs_ += next < desired_ ? 1 : 0;
  }
  set_desired(now, next);
  ++epoch_;
  broadcast(node);
}

void Autoscaler::broadcast(sim::Node& node) {
  const WorkerScale scale{.desired = static_cast<std::uint32_t>(desired_), .epoch = epoch_};
  for (const sim::NodeId w : workers_) node.send(w, scale);
}

void Autoscaler::set_desired(sim::Time now, std::int64_t desired) {
  desired_ = desired;
  desired_average_.set(now, static_cast<double>(desired));
  if (now < measure_from_) {
    desired_at_warmup_end_ = desired;  // in force when the measurement starts, unless replaced
  } else if (now <= measure_to_) {
    desired_max_ = desired_seen_ ? std::max(desired_max_, desired) : desired;
    desired_min_ = desired_seen_ ? std::min(desired_min_, desired) : desired;
    desired_seen_ = true;
  }
}

void Autoscaler::on_crash(sim::Node& /*node*/) {
  round_open_ = false;  // its timers died with the incarnation; the pool keeps the last count
}

void Autoscaler::figures(Figures& out) const {
  std::int64_t low = desired_min_, high = desired_max_;
  if (desired_at_warmup_end_) {
    low = desired_seen_ ? std::min(low, *desired_at_warmup_end_) : *desired_at_warmup_end_;
    high = desired_seen_ ? std::max(high, *desired_at_warmup_end_) : *desired_at_warmup_end_;
  }
  out.sum("decisions", static_cast<double>(decisions_));
  out.sum("scale_ups", static_cast<double>(scale_ups_));
  out.sum("scale_downs", static_cast<double>(scale_downs_));
  out.mean("desired_mean", desired_average_.average());
  out.max("desired_max", static_cast<double>(high));
  out.mean("desired_min", static_cast<double>(low));
  out.sum("missing_metrics", static_cast<double>(missing_metrics_));
}

void Autoscaler::sample(sim::Time /*now*/, SeriesSample& out) const {
  out.set("desired", static_cast<double>(desired_));
  out.set("serving", static_cast<double>(serving_));
  out.set("metric", metric_);
}

}  // namespace models
