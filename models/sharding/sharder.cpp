#include "models/sharding/sharder.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "models/services/relay.hpp"
#include "models/shared/health.hpp"
#include "models/shared/true_time_timer.hpp"
#include "sim/assert.hpp"
#include "sim/node.hpp"

namespace models {

FigureDocs Sharder::figure_docs() {
  return FigureDocs{
             {"requests", "requests", Combine::Sum, "requests that reached the sharder"},
             {"answered_ok", "requests", Combine::Sum, "answered upstream Ok"},
             {"answered_failed", "requests", Combine::Sum, "answered upstream with a failure"},
             {"expired_before_forward", "requests", Combine::Sum,
              "answered Timeout unforwarded: their deadline had passed on arrival"},
             {"max_shard_share", "fraction", Combine::Mean,
              "the most loaded shard's share of the routed requests (per sharder, averaged)"},
             {"min_shard_share", "fraction", Combine::Mean,
              "the least loaded shard's share of the routed requests (per sharder, averaged)"},
             {"imbalance", "ratio", Combine::Mean,
              "the most loaded shard's requests over the mean per shard: 1 is even (per "
              "sharder, averaged; over all of the target's shards, active or not)"},
             {"keys_at_steps", "keys", Combine::Sum,
              "tracked keys routed at least once before a reshard step, summed over the steps "
              "in the measured interval (the denominator of keys_moved)"},
             {"keys_moved", "keys", Combine::Sum,
              "of those, the keys whose owner changed at the step"},
             {"requests_to_new_owner", "requests", Combine::Sum,
              "requests for a tracked key routed to another shard than the key's last one (the "
              "first after its move: a cache shard's miss)"},
         } +
         Caller::figure_docs();
}

std::vector<ConfigProblem> Sharder::check(const Config& c) {
  std::vector<ConfigProblem> problems;
  if (c.function == ShardFunctionKind::Range && c.range_splits.empty())
    problems.push_back({"range_splits", "expected split points with function \"range\""});
  if (c.function != ShardFunctionKind::Range && !c.range_splits.empty())
    problems.push_back({"range_splits", "only used with function \"range\""});
  if (c.function == ShardFunctionKind::Range && (!c.reshard.empty() || c.shards != 0))
    problems.push_back({"reshard", "range sharding has a fixed shard count: its split points"});
  for (std::size_t i = 1; i < c.reshard.size(); ++i)
    if (c.reshard[i].at < c.reshard[i - 1].at)
      problems.push_back(
          {"reshard/" + std::to_string(i) + "/at", "expected the steps in time order"});
  for (std::size_t i = 1; i < c.range_splits.size(); ++i)
    if (c.range_splits[i].at <= c.range_splits[i - 1].at)
      problems.push_back({"range_splits/" + std::to_string(i) + "/at",
                          "expected split points in increasing order"});
  return problems;
}

ShardFunction Sharder::shard_function(const Config& config, std::uint32_t shards) {
  std::vector<std::uint64_t> splits;
  splits.reserve(config.range_splits.size());
  for (const RangeSplit& s : config.range_splits)
    splits.push_back(static_cast<std::uint64_t>(s.at));
  return ShardFunction::make(config.function, shards,
                             static_cast<std::uint32_t>(config.virtual_nodes), std::move(splits));
}

std::unique_ptr<Model> Sharder::make(const Config& config, BuildContext& ctx, std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "sharder replica out of range");
  std::vector<sim::NodeId> nodes = resolve_shards(config.call, config.replicas, ctx);
  const auto replicas = static_cast<std::size_t>(config.replicas);
  const auto available = static_cast<std::int64_t>(nodes.size() / replicas);
  const auto too_many = [&](std::int64_t shards, const std::string& where) {
    if (shards > available)
      throw std::invalid_argument(where + ": " + std::to_string(shards) + " shards, but '" +
                                  config.call.target.name + "' has nodes for " +
                                  std::to_string(available));
  };
  too_many(config.shards, "shards");
  for (std::size_t i = 0; i < config.reshard.size(); ++i)
    too_many(config.reshard[i].shards, "reshard/" + std::to_string(i) + "/shards");
  return std::make_unique<Sharder>(config, std::move(nodes), ctx.warmup_end, ctx.end);
}

Sharder::Sharder(const Config& config, std::vector<sim::NodeId> shards, sim::Time measure_from,
                 sim::Time measure_to)
    : config_(config),
      available_(shards.size() / static_cast<std::size_t>(config.replicas)),
      last_owner_(static_cast<std::size_t>(config.keys), kNever),
      caller_(config.call, std::move(shards), kCall, /*recorder=*/nullptr, measure_from, *this),
      measure_from_(measure_from),
      measure_to_(measure_to) {
  const std::size_t available = available_;
  DSIM_ASSERT(config.shards >= 0 && static_cast<std::size_t>(config.shards) <= available,
              "the sharder's start count fits its target");
  const auto initial = config.shards == 0 ? available : static_cast<std::size_t>(config.shards);
  functions_.reserve(config.reshard.size() + 1);
  functions_.push_back(shard_function(config, static_cast<std::uint32_t>(initial)));
  for (const ReshardStep& step : config.reshard) {
    DSIM_ASSERT(step.shards >= 1 && static_cast<std::size_t>(step.shards) <= available,
                "a reshard step fits the sharder's target");
    functions_.push_back(shard_function(config, static_cast<std::uint32_t>(step.shards)));
  }
  shard_requests_.assign(available, 0);
  caller_.set_shard_size(static_cast<std::size_t>(config.replicas));
}

void Sharder::on_start(sim::Node& node) {
  // After a restart on_crash has already emptied the table of requests; the steps that came due
  // while the node was down apply now (step_ and the key table survive the crash).
  apply_due_steps(node);
}

void Sharder::apply_due_steps(sim::Node& node) {
  const sim::Time now = node.true_now();
  while (step_ < config_.reshard.size() && sim::Time::zero() + config_.reshard[step_].at <= now) {
    const ShardFunction& before = functions_[step_];
    const ShardFunction& after = functions_[step_ + 1];
    ++step_;
    if (last_owner_.empty() || !measured(now)) continue;
    for (std::size_t key = 0; key < last_owner_.size(); ++key) {
      if (last_owner_[key] == kNever) continue;
      ++keys_at_steps_;
      if (before.shard_of(key) != after.shard_of(key)) ++keys_moved_;
    }
  }
  if (step_ < config_.reshard.size())
    set_timer_at_true_time(node, sim::Time::zero() + config_.reshard[step_].at, {kReshard, step_});
}

void Sharder::track(std::uint64_t key, std::uint32_t shard, bool counted) {
  if (key >= last_owner_.size()) return;
  std::uint32_t& last = last_owner_[static_cast<std::size_t>(key)];
  if (last != kNever && last != shard && counted) ++to_new_owner_;
  last = shard;
}

void Sharder::on_message(sim::Node& node, const sim::Message& message) {
  if (caller_.on_message(node, message)) return;   // a shard's answer
  if (answer_health_probe(node, message)) return;  // checkable behind a load balancer
  on_request(node, message);
}

void Sharder::on_request(sim::Node& node, const sim::Message& message) {
  DSIM_ASSERT(message.holds<RpcRequest>(), "a sharder receives requests and answers");
  const RpcRequest request = message.as<RpcRequest>();
  const sim::Time now = node.true_now();
  const bool counted = measured(now);
  if (counted) ++requests_;
  if (request.deadline <= now) {  // its caller has given up: forwarding would be wasted work
    node.send(message.from, RpcResponse{.call_id = request.call_id, .outcome = Outcome::Timeout});
    if (counted) ++expired_;
    return;
  }
  const std::uint32_t shard = functions_[step_].shard_of(request.key);
  track(request.key, shard, counted);
  if (counted) {
    ++shard_requests_[shard];
    ++routed_;
  }
  const auto id = inbound_.insert({message.from, request.call_id});
  caller_.forward(node, request, id, request.deadline, shard);  // may end before it returns
}

void Sharder::on_call_done(sim::Node& node, const CallResult& result) {
  const Inbound* in = inbound_.find(result.token);
  DSIM_ASSERT(in != nullptr, "every call of a sharder answers one request");
  const Outcome answer = relay_answer(result.outcome);
  node.send(in->from, RpcResponse{.call_id = in->call_id, .outcome = answer});
  inbound_.erase(result.token);
  if (measured(node.true_now())) ++(answer == Outcome::Ok ? answered_ok_ : answered_failed_);
}

void Sharder::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (caller_.on_timer(node, tag)) return;
  DSIM_ASSERT(tag.kind == kReshard, "unknown sharder timer");
  apply_due_steps(node);
}

void Sharder::on_crash(sim::Node& node) {
  caller_.on_crash(node);
  inbound_.clear();  // unanswered: the upstream callers time out
}

void Sharder::figures(Figures& out) const {
  const std::uint64_t most = *std::max_element(shard_requests_.begin(), shard_requests_.end());
  const std::uint64_t least = *std::min_element(shard_requests_.begin(), shard_requests_.end());
  const double routed = static_cast<double>(routed_);
  const double mean = routed / static_cast<double>(shard_requests_.size());
  out.sum("requests", static_cast<double>(requests_));
  out.sum("answered_ok", static_cast<double>(answered_ok_));
  out.sum("answered_failed", static_cast<double>(answered_failed_));
  out.sum("expired_before_forward", static_cast<double>(expired_));
  out.mean("max_shard_share", routed > 0 ? static_cast<double>(most) / routed : 0.0);
  out.mean("min_shard_share", routed > 0 ? static_cast<double>(least) / routed : 0.0);
  out.mean("imbalance", routed > 0 ? static_cast<double>(most) / mean : 0.0);
  out.sum("keys_at_steps", static_cast<double>(keys_at_steps_));
  out.sum("keys_moved", static_cast<double>(keys_moved_));
  out.sum("requests_to_new_owner", static_cast<double>(to_new_owner_));
  caller_.figures(out);
}

}  // namespace models
