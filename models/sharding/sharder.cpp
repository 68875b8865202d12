#include "models/sharding/sharder.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "models/services/relay.hpp"
#include "models/shared/health.hpp"
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
              "sharder, averaged)"},
         } +
         Caller::figure_docs();
}

std::vector<ConfigProblem> Sharder::check(const Config& c) {
  std::vector<ConfigProblem> problems;
  if (c.function == ShardFunctionKind::Range && c.range_splits.empty())
    problems.push_back({"range_splits", "expected split points with function \"range\""});
  if (c.function != ShardFunctionKind::Range && !c.range_splits.empty())
    problems.push_back({"range_splits", "only used with function \"range\""});
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
  std::vector<sim::NodeId> nodes = resolve_target(config.call, ctx);
  const auto replicas = static_cast<std::size_t>(config.replicas);
  if (nodes.size() % replicas != 0)
    throw std::invalid_argument("replicas: " + std::to_string(replicas) + " does not divide the " +
                                std::to_string(nodes.size()) + " nodes of '" +
                                config.call.target.name + "'");
  return std::make_unique<Sharder>(config, std::move(nodes), ctx.warmup_end, ctx.end);
}

Sharder::Sharder(const Config& config, std::vector<sim::NodeId> shards, sim::Time measure_from,
                 sim::Time measure_to)
    : config_(config),
      function_(shard_function(
          config,
          static_cast<std::uint32_t>(shards.size() / static_cast<std::size_t>(config.replicas)))),
      caller_(config.call, std::move(shards), kCall, /*recorder=*/nullptr, measure_from, *this),
      shard_requests_(function_.shards(), 0),
      measure_from_(measure_from),
      measure_to_(measure_to) {
  caller_.set_shard_size(static_cast<std::size_t>(config.replicas));
}

void Sharder::on_start(sim::Node& /*node*/) {
  // Nothing to set up: after a restart on_crash has already emptied the table.
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
  const std::uint32_t shard = function_.shard_of(request.key);
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
  const bool handled = caller_.on_timer(node, tag);
  DSIM_ASSERT(handled, "a sharder has only its caller's timers");
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
  caller_.figures(out);
}

}  // namespace models
