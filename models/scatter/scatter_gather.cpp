#include "models/scatter/scatter_gather.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "models/shared/health.hpp"
#include "sim/assert.hpp"
#include "sim/node.hpp"

namespace models {

FigureDocs ScatterGather::figure_docs() {
  return FigureDocs{
             {"requests", "requests", Combine::Sum, "requests that reached the root"},
             {"answered_ok", "requests", Combine::Sum, "answered Ok (complete or partial)"},
             {"answered_failed", "requests", Combine::Sum, "answered with a failure"},
             {"leaf_calls", "calls", Combine::Sum, "leaf calls made (one per shard reached)"},
             {"late_leaf_results", "calls", Combine::Sum,
              "leaf calls that ended after the root had answered"},
             {"mean_completeness", "fraction", Combine::Mean,
              "the share of the fan-out in each answer, averaged over the answers"},
             {"incomplete_answers", "requests", Combine::Sum,
              "answers without every leaf's result (quorum, deadline, failures)"},
             {"leaf_p50_ms", "ms", Combine::Mean, "median leaf call latency, as the root saw it"},
             {"leaf_p99_ms", "ms", Combine::Mean, "99th percentile of the leaf call latency"},
             {"leaf_p999_ms", "ms", Combine::Mean, "99.9th percentile of the leaf call latency"},
         } +
         Caller::figure_docs();
}

std::vector<ConfigProblem> ScatterGather::check(const Config& c) {
  std::vector<ConfigProblem> problems;
  if (c.gather == GatherMode::Deadline && c.gather_timeout <= sim::Duration::zero())
    problems.push_back({"gather_timeout", "expected a positive duration with gather \"deadline\""});
  if (c.gather == GatherMode::Quorum && c.quorum == 0 && c.fraction.value <= 0)
    problems.push_back({"fraction", "expected a positive share of the fan-out for the quorum"});
  return problems;
}

std::vector<ConfigProblem> ScatterGather::check_targets(
    const Config& config, const std::function<std::size_t(const ComponentRef&)>& nodes) {
  const std::size_t count = nodes(config.call.target);
  const auto replicas = static_cast<std::size_t>(config.replicas);
  if (count % replicas != 0)
    return {{"replicas", "expected a divisor of the " + std::to_string(count) + " nodes of '" +
                             config.call.target.name + "' (shards are equal), got " +
                             std::to_string(replicas)}};
  const std::size_t shards = count / replicas;
  const auto fanout = static_cast<std::size_t>(config.fanout);
  if (fanout > shards)
    return {{"fanout", "expected at most the " + std::to_string(shards) + " shards of '" +
                           config.call.target.name + "', got " + std::to_string(fanout)}};
  const std::size_t reached = fanout > 0 ? fanout : shards;
  if (static_cast<std::size_t>(config.quorum) > reached)
    return {{"quorum", "expected at most the " + std::to_string(reached) +
                           " shards each request reaches (the fan-out), got " +
                           std::to_string(config.quorum)}};
  return {};
}

std::unique_ptr<Model> ScatterGather::make(const Config& config, BuildContext& ctx,
                                           std::size_t replica) {
  std::vector<sim::NodeId> leaves = resolve_shards(config.call, config.replicas, ctx);
  const auto replicas = static_cast<std::size_t>(config.replicas);
  const std::size_t shards = leaves.size() / replicas;
  if (static_cast<std::size_t>(config.fanout) > shards)
    throw std::invalid_argument("fanout: " + std::to_string(config.fanout) + " is more than the " +
                                std::to_string(shards) + " shards of '" + config.call.target.name +
                                "'");
  if (static_cast<std::size_t>(config.quorum) >
      (config.fanout > 0 ? static_cast<std::size_t>(config.fanout) : shards))
    throw std::invalid_argument("quorum: more than the fan-out");
  return std::make_unique<ScatterGather>(config, ctx.cluster.node(ctx.nodes.at(replica)),
                                         std::move(leaves), ctx.warmup_end, ctx.end);
}

ScatterGather::ScatterGather(const Config& config, sim::Node& node, std::vector<sim::NodeId> leaves,
                             sim::Time measure_from, sim::Time measure_to)
    : config_(config),
      shards_(
          static_cast<std::uint32_t>(leaves.size() / static_cast<std::size_t>(config.replicas))),
      caller_(config.call, std::move(leaves), kCall, /*recorder=*/nullptr, measure_from, *this),
      fanout_rng_(node.stream("fanout")),
      merge_rng_(node.stream("merge")),
      measure_from_(measure_from),
      measure_to_(measure_to) {
  DSIM_ASSERT(shards_ >= 1, "a root needs at least one leaf shard");
  caller_.set_shard_size(static_cast<std::size_t>(config.replicas));
  shard_order_.resize(shards_);
}

void ScatterGather::on_start(sim::Node& /*node*/) {
  // Nothing to set up: after a restart on_crash has already emptied the tables.
}

bool ScatterGather::measured(const sim::Node& node) const {
  const sim::Time now = node.true_now();
  return now >= measure_from_ && now <= measure_to_;
}

void ScatterGather::on_message(sim::Node& node, const sim::Message& message) {
  if (caller_.on_message(node, message)) return;   // a leaf's answer
  if (answer_health_probe(node, message)) return;  // checkable behind a load balancer
  on_request(node, message);
}

void ScatterGather::choose_shards(std::uint32_t fanout) {
  // The first `fanout` entries of a partial Fisher-Yates shuffle: distinct, uniform.
  for (std::uint32_t s = 0; s < shards_; ++s) shard_order_[s] = s;
  if (fanout == shards_) return;
  for (std::uint32_t i = 0; i < fanout; ++i)
    std::swap(shard_order_[i], shard_order_[i + fanout_rng_.below(shards_ - i)]);
}

void ScatterGather::on_request(sim::Node& node, const sim::Message& message) {
  const RpcRequest request = message.as<RpcRequest>();
  const sim::Time now = node.true_now();
  const auto fanout = config_.fanout > 0 ? static_cast<std::uint32_t>(config_.fanout) : shards_;
  std::uint32_t needed = fanout;
  if (config_.gather == GatherMode::Quorum)
    needed =
        config_.quorum > 0
            ? static_cast<std::uint32_t>(config_.quorum)
            : std::max<std::uint32_t>(
                  1, static_cast<std::uint32_t>(std::ceil(config_.fraction.value * fanout - 1e-9)));
  const Id id = gathers_.insert(Gather{.from = message.from,
                                       .call_id = request.call_id,
                                       .arrived = now,
                                       .fanout = fanout,
                                       .needed = needed,
                                       .merged = now});
  if (measured(node)) {
    ++requests_;
    leaf_calls_ += fanout;
  }
  if (config_.gather_timeout > sim::Duration::zero())
    gathers_.find(id)->timeout = node.set_timer(config_.gather_timeout, {kGatherTimeout, id});
  choose_shards(fanout);
  for (std::uint32_t i = 0; i < fanout; ++i) {
    // A leaf answer may complete the gather at once (a breaker refusing): stop scattering then.
    const Gather* g = gathers_.find(id);
    if (g == nullptr || g->complete) break;
    caller_.forward(node, request, id, request.deadline, shard_order_[i]);
  }
}

void ScatterGather::on_call_done(sim::Node& node, const CallResult& result) {
  if (measured(node)) leaf_latency_.record(result.ended - result.started);
  Gather* g = gathers_.find(result.token);
  if (g == nullptr || g->complete) {  // the root has answered (or is merging) already
    if (measured(node)) ++late_leaf_results_;
    return;
  }
  const sim::Time now = node.true_now();
  if (result.outcome == Outcome::Ok) {
    ++g->ok;
    g->merged = std::max(g->merged, now) + config_.merge_time.sample_duration(merge_rng_);
  } else {
    ++g->failed;
  }
  const bool all_in = g->ok + g->failed == g->fanout;
  switch (config_.gather) {
    case GatherMode::All:
      if (all_in) complete(node, result.token, g->failed == 0 ? Outcome::Ok : Outcome::Error);
      return;
    case GatherMode::Quorum:
      if (g->ok >= g->needed) {
        complete(node, result.token, Outcome::Ok);
      } else if (g->failed > g->fanout - g->needed) {
        complete(node, result.token, Outcome::Error);
      }
      return;
    case GatherMode::Deadline:
      if (all_in) complete(node, result.token, g->ok > 0 ? Outcome::Ok : Outcome::Error);
      return;
  }
}

void ScatterGather::complete(sim::Node& node, Id id, Outcome outcome) {
  Gather& g = *gathers_.find(id);
  g.complete = true;
  g.outcome = outcome;
  if (g.timeout.serial != 0) node.cancel_timer(g.timeout);
  g.timeout = {};
  const sim::Time now = node.true_now();
  if (outcome == Outcome::Ok && g.merged > now) {
    node.set_timer(g.merged - now, {kMergeDone, id});
    return;
  }
  answer(node, id);
}

void ScatterGather::answer(sim::Node& node, Id id) {
  const Gather g = *gathers_.find(id);
  gathers_.erase(id);
  node.send(g.from, RpcResponse{.call_id = g.call_id, .outcome = g.outcome});
  if (!measured(node)) return;
  ++(g.outcome == Outcome::Ok ? answered_ok_ : answered_failed_);
  ++answered_;
  const double completeness = static_cast<double>(g.ok) / static_cast<double>(g.fanout);
  completeness_sum_ += completeness;
  if (g.ok < g.fanout) ++incomplete_;
}

void ScatterGather::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (caller_.on_timer(node, tag)) return;
  Gather* g = gathers_.find(tag.value);
  if (g == nullptr) return;
  switch (tag.kind) {
    case kGatherTimeout:
      g->timeout = {};
      // The gather time is up: a partial result if anything came (deadline mode), else Timeout.
      complete(
          node, tag.value,
          config_.gather == GatherMode::Deadline && g->ok > 0 ? Outcome::Ok : Outcome::Timeout);
      return;
    case kMergeDone:
      answer(node, tag.value);
      return;
    default:
      DSIM_ASSERT(false, "unknown scatter/gather timer");
  }
}

void ScatterGather::on_crash(sim::Node& node) {
  caller_.on_crash(node);
  gathers_.clear();  // unanswered: the upstream callers time out
}

void ScatterGather::figures(Figures& out) const {
  const auto ms = [this](double p) {
    return leaf_latency_.empty() ? 0.0 : static_cast<double>(leaf_latency_.quantile_ns(p)) / 1e6;
  };
  out.sum("requests", static_cast<double>(requests_));
  out.sum("answered_ok", static_cast<double>(answered_ok_));
  out.sum("answered_failed", static_cast<double>(answered_failed_));
  out.sum("leaf_calls", static_cast<double>(leaf_calls_));
  out.sum("late_leaf_results", static_cast<double>(late_leaf_results_));
  out.mean("mean_completeness",
           answered_ > 0 ? completeness_sum_ / static_cast<double>(answered_) : 0.0);
  out.sum("incomplete_answers", static_cast<double>(incomplete_));
  out.mean("leaf_p50_ms", ms(0.5));
  out.mean("leaf_p99_ms", ms(0.99));
  out.mean("leaf_p999_ms", ms(0.999));
  caller_.figures(out);
}

}  // namespace models
