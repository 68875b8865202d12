#include "models/sharding/sharder.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>

#include "models/services/relay.hpp"
#include "models/shared/expired_request.hpp"
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
              "the most loaded shard's share of the calls to shards (per sharder, averaged)"},
             {"min_shard_share", "fraction", Combine::Mean,
              "the least loaded shard's share of the calls to shards (per sharder, averaged)"},
             {"imbalance", "ratio", Combine::Mean,
              "the most loaded shard's calls over the mean per shard: 1 is even (per sharder, "
              "averaged; over all of the target's shards, active or not)"},
             {"keys_at_steps", "keys", Combine::Sum,
              "tracked keys routed at least once before a change of the map (a reshard step, an "
              "ejection, a return), summed over the changes in the measured interval (the "
              "denominator of keys_moved)"},
             {"keys_moved", "keys", Combine::Sum,
              "of those, the keys whose owner changed at the change"},
             {"requests_to_new_owner", "requests", Combine::Sum,
              "requests for a tracked key routed to another shard than the key's last one (the "
              "first after its move: a cache shard's miss); 0 with a migration (data copied)"},
             {"keys_to_migrate", "keys", Combine::Sum,
              "tracked keys whose data had to be copied at the steps in the measured interval "
              "(with a migration)"},
             {"refused_moving", "requests", Combine::Sum,
              "calls refused because their key was still being copied (migration unavailable)"},
             {"served_by_old_owner", "requests", Combine::Sum,
              "calls sent to the old owner because their key was still being copied (migration "
              "old_owner)"},
             {"migration_end_s", "s", Combine::Max,
              "when the last migration's copy completed, from the start of the run (0: none)"},
             {"ejections", "shards", Combine::Sum,
              "shards ejected from the map after eject_after failed calls"},
             {"salted_requests", "requests", Combine::Sum, "requests for a salted key"},
             {"fanned_out_requests", "requests", Combine::Sum,
              "of those, the requests sent to every sub-key"},
             {"shard_rate_per_s[i]", "requests/s", Combine::Sum,
              "calls to shard i per second (per_shard)"},
             {"shard_share[i]", "fraction", Combine::Mean,
              "shard i's share of the calls to shards (per_shard)"},
             {"shard_replicas[i]", "nodes", Combine::Max, "shard i's replicas (per_shard)"},
             {"shard_p99_ms[i]", "ms", Combine::Max,
              "p99 of the sharder's calls to shard i, retries included (per_shard; the worst "
              "sharder replica's; null without calls)"},
             {"shard_mean_ms[i]", "ms", Combine::Mean,
              "mean of the sharder's calls to shard i (per_shard; null without calls)"},
         } +
         Caller::figure_docs();
}

std::vector<ConfigProblem> Sharder::check(const Config& c) {
  std::vector<ConfigProblem> problems;
  const bool range = c.function == ShardFunctionKind::Range;
  if (range && c.range_splits.empty())
    problems.push_back({"range_splits", "expected split points with function \"range\""});
  if (!range && !c.range_splits.empty())
    problems.push_back({"range_splits", "only used with function \"range\""});
  if (range && (!c.reshard.empty() || c.shards != 0))
    problems.push_back({"reshard", "range sharding has a fixed shard count: its split points"});
  for (std::size_t i = 1; i < c.reshard.size(); ++i)
    if (c.reshard[i].at < c.reshard[i - 1].at)
      problems.push_back(
          {"reshard/" + std::to_string(i) + "/at", "expected the steps in time order"});
  for (std::size_t i = 1; i < c.range_splits.size(); ++i)
    if (c.range_splits[i].at <= c.range_splits[i - 1].at)
      problems.push_back({"range_splits/" + std::to_string(i) + "/at",
                          "expected split points in increasing order"});
  for (std::size_t i = 0; i < c.shard_replicas.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (c.shard_replicas[j].shard == c.shard_replicas[i].shard)
        problems.push_back({"shard_replicas/" + std::to_string(i) + "/shard",
                            "shard " + std::to_string(c.shard_replicas[i].shard) +
                                " is already listed at shard_replicas/" + std::to_string(j)});
  if (c.migration != MigrationMode::Instant) {
    if (c.keys == 0)
      problems.push_back({"keys",
                          "expected the tracked key count with a migration (the keys "
                          "0 .. keys - 1 whose data moves)"});
    if (c.keys > 10'000'000)
      problems.push_back({"keys", "expected at most 1e7 keys with a migration (28 bytes each)"});
  }
  if (c.eject_after > 0 && range)
    problems.push_back({"eject_after", "range sharding cannot route around a shard"});
  if (c.eject_after > 0 && c.migration != MigrationMode::Instant)
    problems.push_back({"eject_after",
                        "ejection is for shards that lose their keys (caches): "
                        "expected migration \"instant\""});
  if (range && !c.salt.empty())
    problems.push_back({"salt", "salting spreads a key by hashing its sub-keys: not with range"});
  for (std::size_t i = 0; i < c.salt.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (c.salt[j].key == c.salt[i].key)
        problems.push_back({"salt/" + std::to_string(i) + "/key",
                            "key " + std::to_string(c.salt[i].key) + " is already salted at salt/" +
                                std::to_string(j)});
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

std::vector<ConfigProblem> Sharder::check_targets(
    const Config& config, const std::function<std::size_t(const ComponentRef&)>& nodes) {
  const std::size_t count = nodes(config.call.target);
  const std::string of_target =
      std::to_string(count) + " nodes of '" + config.call.target.name + "'";
  const auto replicas = static_cast<std::size_t>(config.replicas);
  std::size_t listed = 0;
  for (const ShardReplicas& s : config.shard_replicas)
    listed += static_cast<std::size_t>(s.replicas);
  if (listed > count || (count - listed) % replicas != 0) {
    if (config.shard_replicas.empty())
      return {{"replicas",
               "expected a divisor of the " + of_target + ", got " + std::to_string(replicas)}};
    return {{"shard_replicas", std::to_string(listed) + " replicas for the listed shards and " +
                                   std::to_string(replicas) +
                                   " for each other do not add up to the " + of_target}};
  }
  std::vector<ConfigProblem> problems;
  const std::size_t shards = config.shard_replicas.size() + (count - listed) / replicas;
  const std::string make = "the " + of_target + " make " + std::to_string(shards) + " shards";
  for (std::size_t i = 0; i < config.shard_replicas.size(); ++i)
    if (static_cast<std::size_t>(config.shard_replicas[i].shard) >= shards)
      problems.push_back(
          {"shard_replicas/" + std::to_string(i) + "/shard",
           "shard " + std::to_string(config.shard_replicas[i].shard) + ", but " + make});
  const auto too_many = [&](std::int64_t wanted, const std::string& field) {
    if (static_cast<std::size_t>(wanted) > shards)
      problems.push_back({field, "expected at most " + std::to_string(shards) + " shards (" + make +
                                     "), got " + std::to_string(wanted)});
  };
  too_many(config.shards, "shards");
  for (std::size_t i = 0; i < config.reshard.size(); ++i)
    too_many(config.reshard[i].shards, "reshard/" + std::to_string(i) + "/shards");
  if (config.per_shard && shards > static_cast<std::size_t>(Config::kMaxPerShard))
    problems.push_back({"per_shard", std::to_string(shards) +
                                         " shards, but per-shard figures go up to " +
                                         std::to_string(Config::kMaxPerShard) + " (set it false)"});
  if (config.function == ShardFunctionKind::Range && !config.range_splits.empty() &&
      config.range_splits.size() + 1 != shards)
    problems.push_back({"range_splits", "expected one split point fewer than the shards (" + make +
                                            "), got " +
                                            std::to_string(config.range_splits.size())});
  return problems;
}

std::vector<std::size_t> Sharder::shard_sizes(const Config& config, std::size_t nodes) {
  const auto replicas = static_cast<std::size_t>(config.replicas);
  std::size_t listed = 0;
  for (const ShardReplicas& s : config.shard_replicas)
    listed += static_cast<std::size_t>(s.replicas);
  DSIM_ASSERT(listed <= nodes && (nodes - listed) % replicas == 0, "checked by check_targets");
  std::vector<std::size_t> sizes(config.shard_replicas.size() + (nodes - listed) / replicas,
                                 replicas);
  for (const ShardReplicas& s : config.shard_replicas)
    sizes.at(static_cast<std::size_t>(s.shard)) = static_cast<std::size_t>(s.replicas);
  return sizes;
}

std::unique_ptr<Model> Sharder::make(const Config& config, BuildContext& ctx, std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "sharder replica out of range");
  std::vector<sim::NodeId> nodes = resolve_target(config.call, ctx);
  const std::vector<std::size_t> sizes = shard_sizes(config, nodes.size());
  return std::make_unique<Sharder>(config, std::move(nodes), sizes, ctx.warmup_end, ctx.end);
}

Sharder::Sharder(const Config& config, std::vector<sim::NodeId> targets,
                 const std::vector<std::size_t>& sizes, sim::Time measure_from,
                 sim::Time measure_to)
    : config_(config),
      last_owner_(static_cast<std::size_t>(config.keys), kNever),
      salting_(config.salt),
      failures_(sizes.size(), 0),
      out_(sizes.size(), false),
      caller_(config.call, std::move(targets), kCall, /*recorder=*/nullptr, measure_from, *this),
      shard_replicas_(sizes),
      shard_calls_(sizes.size(), 0),
      measure_from_(measure_from),
      measure_to_(measure_to) {
  const std::size_t available = sizes.size();
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
  if (config.migration != MigrationMode::Instant)
    migration_.emplace(static_cast<std::size_t>(config.keys), config.migration_rate.per_second,
                       functions_.front());
  if (config.per_shard)
    shard_latency_.assign(available, sim::LatencyHistogram(kShardHistogramBits));
  caller_.set_shard_sizes(sizes);
}

void Sharder::on_start(sim::Node& node) {
  // After a restart on_crash has already emptied the table of requests; the steps that came due
  // while the node was down apply now (step_ and the key tables survive the crash).
  apply_due_steps(node);
}

void Sharder::apply_due_steps(sim::Node& node) {
  const sim::Time now = node.true_now();
  while (step_ < config_.reshard.size() && sim::Time::zero() + config_.reshard[step_].at <= now) {
    const ShardFunction before = function();  // a copy: rebuild_map replaces an ejected map
    ++step_;
    if (migration_) {
      const std::size_t moving = migration_->reshard(now, before, functions_[step_]);
      if (measured(now)) keys_to_migrate_ += moving;
    }
    if (ejected_ > 0) rebuild_map();
    count_moves(before, now);
  }
  if (step_ < config_.reshard.size())
    set_timer_at_true_time(node, sim::Time::zero() + config_.reshard[step_].at, {kReshard, step_});
}

void Sharder::count_moves(const ShardFunction& before, sim::Time now) {
  if (last_owner_.empty() || !measured(now)) return;
  const ShardFunction& after = function();
  for (std::size_t key = 0; key < last_owner_.size(); ++key) {
    if (last_owner_[key] == kNever) continue;
    ++keys_at_steps_;
    if (before.shard_of(key) != after.shard_of(key)) ++keys_moved_;
  }
}

void Sharder::rebuild_map() {
  std::vector<std::uint32_t> members;
  for (std::uint32_t s = 0; s < functions_[step_].shards(); ++s)
    if (!out_[s]) members.push_back(s);
  // Shards beyond the active count may be out too: then the map is the step's own.
  if (members.size() == functions_[step_].shards() || members.empty()) {
    ejected_map_.reset();
    return;
  }
  ejected_map_ = ShardFunction::over(config_.function, std::move(members),
                                     static_cast<std::uint32_t>(config_.virtual_nodes));
}

void Sharder::on_shard_outcome(sim::Node& node, std::uint32_t shard, Outcome outcome) {
  if (config_.eject_after == 0) return;
  if (outcome == Outcome::Ok) {
    failures_[shard] = 0;
    return;
  }
  if (++failures_[shard] < static_cast<std::uint64_t>(config_.eject_after) || out_[shard]) return;
  if (function().shards() < 2) return;  // the last shard stays: nowhere else to send its keys
  const ShardFunction before = function();
  out_[shard] = true;
  ++ejected_;
  rebuild_map();
  const sim::Time now = node.true_now();
  if (measured(now)) ++ejections_;
  count_moves(before, now);
  node.set_timer(config_.eject_for, {kReturn, shard});
}

void Sharder::track(std::uint64_t key, std::uint32_t shard, bool counted) {
  if (key >= last_owner_.size()) return;
  std::uint32_t& last = last_owner_[static_cast<std::size_t>(key)];
  if (last != kNever && last != shard && counted && !migration_) ++to_new_owner_;
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
  if (answer_if_expired(node, message.from, request, now)) {
    if (counted) ++expired_;
    return;
  }
  const std::uint32_t ways = salting_.ways(request.key);
  const auto spread = config_.salt_spread == SaltSpread::Writes ? kOpWrite : kOpRead;
  const bool fan_out = ways > 1 && request.operation != spread;
  if (counted && ways > 1) ++salted_, fanned_out_ += fan_out ? 1 : 0;
  // One hold on the request while its parts go out: a part may end before send_part returns.
  const std::uint64_t id = inbound_.insert({message.from, request.call_id, 1, Outcome::Ok});
  if (ways == 1) {
    send_part(node, request, request.key, id, counted);
  } else if (!fan_out) {
    send_part(node, request, salted_key(request.key, node.rng().below(ways)), id, counted);
  } else {
    for (std::uint32_t j = 0; j < ways; ++j)
      send_part(node, request, salted_key(request.key, j), id, counted);
  }
  end_part(node, id, Outcome::Ok);  // the hold
}

void Sharder::send_part(sim::Node& node, const RpcRequest& request, std::uint64_t key,
                        std::uint64_t id, bool counted) {
  ++inbound_.find(id)->pending;
  const std::uint32_t owner = function().shard_of(key);
  std::uint32_t shard = owner;
  if (migration_) {
    const KeyMigration::Route where = migration_->route(key, owner, node.true_now());
    if (where.moving && config_.migration == MigrationMode::Unavailable) {
      if (counted) ++refused_moving_;
      end_part(node, id, Outcome::Error);
      return;
    }
    if (where.moving && counted) ++served_by_old_owner_;
    shard = where.shard;
  }
  track(key, shard, counted);
  if (counted) ++shard_calls_[shard], ++routed_;
  RpcRequest part = request;
  part.key = key;
  const auto token = parts_.insert({id, shard});
  caller_.forward(node, part, token, request.deadline, shard);  // may end before it returns
}

void Sharder::end_part(sim::Node& node, std::uint64_t id, Outcome outcome) {
  Inbound* in = inbound_.find(id);
  DSIM_ASSERT(in != nullptr && in->pending > 0, "a part of a request being answered");
  if (outcome != Outcome::Ok && in->outcome == Outcome::Ok) in->outcome = relay_answer(outcome);
  if (--in->pending > 0) return;
  node.send(in->from, RpcResponse{.call_id = in->call_id, .outcome = in->outcome});
  if (measured(node.true_now())) ++(in->outcome == Outcome::Ok ? answered_ok_ : answered_failed_);
  inbound_.erase(id);
}

void Sharder::on_call_done(sim::Node& node, const CallResult& result) {
  const Part* part = parts_.find(result.token);
  DSIM_ASSERT(part != nullptr, "every call of a sharder is a part of one request");
  const Part done = *part;
  parts_.erase(result.token);
  if (!shard_latency_.empty() && measured(result.started))
    shard_latency_[done.shard].record(result.ended - result.started);
  on_shard_outcome(node, done.shard, result.outcome);
  end_part(node, done.inbound, result.outcome);
}

void Sharder::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (caller_.on_timer(node, tag)) return;
  if (tag.kind == kReturn) {  // an ejected shard is back
    const auto shard = static_cast<std::size_t>(tag.value);
    DSIM_ASSERT(shard < out_.size() && out_[shard], "an ejected shard returns");
    const ShardFunction before = function();
    out_[shard] = false;
    --ejected_;
    failures_[shard] = 0;
    rebuild_map();
    count_moves(before, node.true_now());
    return;
  }
  DSIM_ASSERT(tag.kind == kReshard, "unknown sharder timer");
  apply_due_steps(node);
}

void Sharder::on_crash(sim::Node& node) {
  caller_.on_crash(node);
  inbound_.clear();  // unanswered: the upstream callers time out
  parts_.clear();
  std::fill(failures_.begin(), failures_.end(), 0);  // the ejections are its memory
  std::fill(out_.begin(), out_.end(), false);
  ejected_ = 0;
  ejected_map_.reset();
}

void Sharder::figures(Figures& out) const {
  const std::uint64_t most = *std::max_element(shard_calls_.begin(), shard_calls_.end());
  const std::uint64_t least = *std::min_element(shard_calls_.begin(), shard_calls_.end());
  const double routed = static_cast<double>(routed_);
  const double mean = routed / static_cast<double>(shard_calls_.size());
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
  out.sum("keys_to_migrate", static_cast<double>(keys_to_migrate_));
  out.sum("refused_moving", static_cast<double>(refused_moving_));
  out.sum("served_by_old_owner", static_cast<double>(served_by_old_owner_));
  out.max("migration_end_s", migration_ ? migration_->done_at().seconds() : 0.0);
  out.sum("ejections", static_cast<double>(ejections_));
  out.sum("salted_requests", static_cast<double>(salted_));
  out.sum("fanned_out_requests", static_cast<double>(fanned_out_));
  const double seconds = (measure_to_ - measure_from_).seconds();
  const double none = std::numeric_limits<double>::quiet_NaN();
  for (std::size_t i = 0; i < shard_latency_.size(); ++i) {
    const auto calls = static_cast<double>(shard_calls_[i]);
    const sim::LatencyHistogram& latency = shard_latency_[i];
    out.sum(indexed_name("shard_rate_per_s", i), seconds > 0 ? calls / seconds : 0.0);
    out.mean(indexed_name("shard_share", i), routed > 0 ? calls / routed : 0.0);
    out.max(indexed_name("shard_replicas", i), static_cast<double>(shard_replicas_[i]));
    out.max(indexed_name("shard_p99_ms", i),
            latency.empty() ? none : static_cast<double>(latency.quantile_ns(0.99)) / 1e6);
    out.mean(indexed_name("shard_mean_ms", i), latency.empty() ? none : latency.mean_ns() / 1e6);
  }
  caller_.figures(out);
}

}  // namespace models
