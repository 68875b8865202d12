#include "models/balancing/load_balancer.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>
#include <utility>

#include "models/shared/health.hpp"
#include "sim/assert.hpp"
#include "sim/node.hpp"

namespace models {
namespace {

const char* const kInRotation = "in_rotation";
const char* const kUnhealthy = "unhealthy";
const char* const kEjected = "ejected";

void answer(sim::Node& node, sim::NodeId to, std::uint64_t call_id, Outcome outcome,
            std::uint64_t value = 0) {
  node.send(to, RpcResponse{.call_id = call_id, .outcome = outcome, .value = value});
}

}  // namespace

std::vector<ConfigProblem> LoadBalancer::check(const Config& config) {
  std::vector<ConfigProblem> problems;
  const HealthCheckConfig& hc = config.health_check;
  if (hc.timeout > hc.interval)
    problems.push_back({"health_check/timeout",
                        "expected at most the interval (a probe is settled before the next)"});
  const OutlierDetectionConfig& od = config.outlier_detection;
  if (od.max_ejection_time < od.base_ejection_time)
    problems.push_back(
        {"outlier_detection/max_ejection_time", "expected at least base_ejection_time"});
  return problems;
}

std::vector<ConfigProblem> LoadBalancer::check_targets(
    const Config& config, const std::function<std::size_t(const ComponentRef&)>& nodes) {
  const std::size_t backends = nodes(config.backends);
  if (static_cast<std::size_t>(config.shuffle_shard_size) <= backends) return {};
  return {{"shuffle_shard_size", "expected at most the " + std::to_string(backends) +
                                     " nodes of '" + config.backends.name + "', got " +
                                     std::to_string(config.shuffle_shard_size)}};
}

FigureDocs LoadBalancer::figure_docs() {
  return FigureDocs{
             {"forwarded", "requests", Combine::Sum, "requests forwarded to a backend"},
             {"no_healthy_backend", "requests", Combine::Sum,
              "answered Rejected: no backend was in rotation"},
             {"panic_forwarded", "requests", Combine::Sum,
              "forwarded in panic mode (to any backend, healthy or not)"},
             {"forward_timeouts", "requests", Combine::Sum,
              "answered Timeout by the LB's own `timeout`"},
             {"deadline_expired", "requests", Combine::Sum,
              "forwards abandoned silently at the caller's deadline"},
             {"dropped_past_deadline", "requests", Combine::Sum,
              "answered Dropped, unforwarded: their deadline had passed on arrival"},
             {"late_responses", "answers", Combine::Sum,
              "backend answers after the LB stopped waiting"},
             {"shard_exhausted", "requests", Combine::Sum,
              "shuffle sharding: answered Rejected because none of the tenant's backends was in "
              "rotation (while others were; also in no_healthy_backend)"},
             {"shard_fallbacks", "requests", Combine::Sum,
              "shuffle sharding: forwarded outside the tenant's shard, none of which was in "
              "rotation (shuffle_fallback)"},
         } +
         HealthChecker::figure_docs() + OutlierDetector::figure_docs() +
         FigureDocs{
             {"mean_out_of_rotation", "backends", Combine::Mean,
              "backends out of rotation, time-averaged"},
             {"max_backend_share", "fraction", Combine::Max,
              "the busiest backend's share of the forwarded requests (1/n when even)"},
             {"min_backend_share", "fraction", Combine::Mean,
              "the idlest backend's share of the forwarded requests (1/n when even)"},
         };
}

LoadBalancer::LoadBalancer(const LoadBalancerConfig& config, sim::Node& node,
                           std::vector<sim::NodeId> backends,
                           const std::vector<std::string>& backend_names, sim::Time measure_from,
                           sim::Time measure_to, const RequestRecorder* tenants)
    : config_(config),
      backends_(std::move(backends)),
      outstanding_(backends_.size(), 0),
      tenants_(tenants),
      picker_(config.policy, node.stream("lb")),
      checker_(config.health_check, backends_, kHealthTick, kProbeTimeout, *this, measure_from,
               measure_to),
      detector_(config.outlier_detection, backends_.size(), kEjectionEnd, *this, measure_from,
                measure_to),
      measure_from_(measure_from),
      measure_to_(measure_to),
      out_of_rotation_(measure_from, measure_to),
      forwarded_total_(backends_.size(), 0),
      forwarded_measured_(backends_.size(), 0) {
  DSIM_ASSERT(!backends_.empty(), "a load balancer needs at least one backend");
  DSIM_ASSERT(backend_names.size() == backends_.size(), "one name per backend");
  DSIM_ASSERT(config.timeout >= sim::Duration::zero(), "a timeout cannot be negative");
  DSIM_ASSERT(config.shuffle_shard_size >= 0 &&
                  static_cast<std::size_t>(config.shuffle_shard_size) <= backends_.size(),
              "a shuffle shard has at most as many backends as the balancer");
  DSIM_ASSERT(config.shuffle_shard_size == 0 || tenants != nullptr,
              "shuffle sharding needs the run's tenants");
  rotation_.reserve(backends_.size());
  for (std::uint32_t b = 0; b < backends_.size(); ++b) {
    everyone_.push_back(b);
    seeds_.push_back(sim::fnv1a64(backend_names[b]));
  }
  if (config.health_check.enabled || config.outlier_detection.enabled) {
    timelines_.reserve(backends_.size());
    for (const std::string& name : backend_names) timelines_.emplace_back(name, kInRotation);
  }
}

std::unique_ptr<Model> LoadBalancer::make(const LoadBalancerConfig& config, BuildContext& ctx,
                                          std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "load balancer replica out of range");
  const auto problems = check(config);
  if (!problems.empty())
    throw std::invalid_argument(problems.front().field + ": " + problems.front().message);
  std::vector<sim::NodeId> backends = ctx.resolve(config.backends);
  if (backends.empty())
    throw std::invalid_argument("backends: component '" + config.backends.name + "' has no nodes");
  if (static_cast<std::size_t>(config.shuffle_shard_size) > backends.size())
    throw std::invalid_argument("shuffle_shard_size: " + std::to_string(config.shuffle_shard_size) +
                                " backends per tenant, "
                                "but '" +
                                config.backends.name + "' has " + std::to_string(backends.size()));
  std::vector<std::string> names;
  for (const sim::NodeId b : backends) names.push_back(ctx.cluster.node(b).name());
  return std::make_unique<LoadBalancer>(config, ctx.cluster.node(ctx.nodes[replica]),
                                        std::move(backends), names, ctx.warmup_end, ctx.end,
                                        &ctx.recorder);
}

void LoadBalancer::on_start(sim::Node& node) {
  if (config_.shuffle_shard_size > 0 && shards_.empty()) {
    // Every client has named its group by now (they are built before the run starts). The
    // shards are configuration: a restart keeps them.
    std::vector<std::string> names;
    for (const GroupStats& g : tenants_->groups()) names.push_back(g.name);
    shards_ = ShuffleShards(names, static_cast<std::uint64_t>(config_.shuffle_seed),
                            static_cast<std::uint32_t>(backends_.size()),
                            static_cast<std::uint32_t>(config_.shuffle_shard_size));
    shard_candidates_.reserve(shards_.size());
    shard_turns_.assign(shards_.tenants() + 1, 0);
  }
  checker_.start(node);
  rotation_changed(node);
}

void LoadBalancer::on_message(sim::Node& node, const sim::Message& message) {
  if (answer_health_probe(node, message)) return;
  if (checker_.on_message(node, message)) return;
  if (message.holds<RpcRequest>()) {
    forward(node, message);
  } else {
    relay(node, message);
  }
}

void LoadBalancer::forward(sim::Node& node, const sim::Message& message) {
  RpcRequest request = message.as<RpcRequest>();
  const sim::Time now = node.true_now();
  const bool counted = measured(now);
  if (request.deadline <= now) {  // the caller has given up already
    dropped_ += counted;
    answer(node, message.from, request.call_id, Outcome::Dropped);
    return;
  }
  bool fallback = false;
  const std::span<const std::uint32_t> choice = candidates(request.tenant, fallback);
  if (choice.empty()) {
    no_healthy_ += counted;
    shard_exhausted_ += counted && !shards_.empty() && !rotation_.empty();
    answer(node, message.from, request.call_id, Outcome::Rejected);
    return;
  }
  const std::uint32_t backend =
      shards_.empty() || fallback
          ? picker_.pick(choice, outstanding_, seeds_, request.key)
          : picker_.pick(choice, outstanding_, seeds_, request.key,
                         shard_turns_[std::min<std::size_t>(request.tenant, shards_.tenants())]);
  const auto id = forwards_.insert(
      Forward{.caller = message.from, .call_id = request.call_id, .backend = backend});
  Forward& f = *forwards_.find(id);
  // Wait for the answer until our timeout or the caller's deadline, whichever comes first.
  sim::Duration wait =
      config_.timeout > sim::Duration::zero() ? config_.timeout : sim::Duration::max();
  if (request.deadline != sim::Time::max() && request.deadline - now < wait) {
    wait = request.deadline - now;
    f.expires_at_deadline = true;
  }
  if (wait != sim::Duration::max())
    f.timer = node.set_timeout(wait, {kForwardTimeout, id});  // most are cancelled

  request.call_id = id;
  ++request.hops;
  node.send(backends_[backend], request, message.size_bytes);
  ++outstanding_[backend];
  ++forwarded_total_[backend];
  if (counted) {
    ++forwarded_;
    ++forwarded_measured_[backend];
    panic_forwarded_ += panic_;
    shard_fallbacks_ += fallback;
  }
}

std::span<const std::uint32_t> LoadBalancer::candidates(std::uint16_t tenant, bool& fallback) {
  const std::vector<std::uint32_t>& all = panic_ ? everyone_ : rotation_;
  if (shards_.empty()) return all;
  shard_candidates_.clear();  // keeps its capacity (k): no allocation
  for (const std::uint32_t b : shards_.of(tenant))
    if (panic_ || in_rotation(b)) shard_candidates_.push_back(b);
  if (shard_candidates_.empty() && config_.shuffle_fallback) {
    fallback = !all.empty();
    return all;
  }
  return shard_candidates_;
}

void LoadBalancer::relay(sim::Node& node, const sim::Message& message) {
  const auto response = message.as<RpcResponse>();
  if (forwards_.find(response.call_id) == nullptr) {  // after our timeout, or duplicated
    late_ += measured(node.true_now());
    return;
  }
  const Forward f = settle(node, response.call_id, response.outcome);
  if (f.timer.serial != 0) node.cancel_timer(f.timer);
  answer(node, f.caller, f.call_id, response.outcome, response.value);
}

void LoadBalancer::forward_expired(sim::Node& node, SlotTable<Forward>::Id id) {
  const Forward f = settle(node, id, Outcome::Timeout);
  const bool counted = measured(node.true_now());
  if (f.expires_at_deadline) {
    deadline_expired_ += counted;  // nobody waits for an answer any more
    return;
  }
  timeouts_ += counted;
  answer(node, f.caller, f.call_id, Outcome::Timeout);
}

LoadBalancer::Forward LoadBalancer::settle(sim::Node& node, SlotTable<Forward>::Id id,
                                           Outcome outcome) {
  const Forward f = *forwards_.find(id);
  forwards_.erase(id);
  DSIM_ASSERT(outstanding_[f.backend] > 0, "outstanding count of a backend underflows");
  --outstanding_[f.backend];
  detector_.record(node, f.backend, outcome);  // may eject: rotation_changed
  return f;
}

void LoadBalancer::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (checker_.on_timer(node, tag)) return;
  if (detector_.on_timer(node, tag)) return;
  DSIM_ASSERT(tag.kind == kForwardTimeout, "unknown load balancer timer");
  // An answered forward cancels its timer, so the entry is normally still here.
  if (forwards_.find(tag.value) != nullptr) forward_expired(node, tag.value);
}

void LoadBalancer::on_crash(sim::Node& node) {
  // Timers die with the incarnation; the forwarded requests and the view of health are lost.
  forwards_.clear();
  std::fill(outstanding_.begin(), outstanding_.end(), 0);
  checker_.on_crash();
  detector_.on_crash();
  rotation_.clear();
  panic_ = false;
  out_of_rotation_.set(node.true_now(), 0);  // the LB is down; its view is not counted
}

void LoadBalancer::on_health_changed(sim::Node& node, std::uint32_t /*backend*/, bool /*healthy*/) {
  rotation_changed(node);
}

void LoadBalancer::on_ejection_changed(sim::Node& node, std::uint32_t /*backend*/,
                                       bool /*ejected*/) {
  rotation_changed(node);
}

bool LoadBalancer::in_rotation(std::uint32_t backend) const {
  return checker_.healthy(backend) && !detector_.ejected(backend);
}

void LoadBalancer::rotation_changed(sim::Node& node) {
  rotation_.clear();  // keeps its capacity: no allocation
  for (std::uint32_t b = 0; b < backends_.size(); ++b)
    if (in_rotation(b)) rotation_.push_back(b);
  const double in_percent =
      100.0 * static_cast<double>(rotation_.size()) / static_cast<double>(backends_.size());
  panic_ = config_.panic_threshold > 0 && in_percent < config_.panic_threshold;
  const sim::Time now = node.true_now();
  out_of_rotation_.set(now, static_cast<double>(backends_.size() - rotation_.size()));
  for (std::uint32_t b = 0; b < timelines_.size(); ++b)
    timelines_[b].set(now, in_rotation(b)         ? kInRotation
                           : !checker_.healthy(b) ? kUnhealthy
                                                  : kEjected);
}

std::vector<const StateTimeline*> LoadBalancer::state_timelines() const {
  std::vector<const StateTimeline*> out;
  for (const StateTimeline& t : timelines_) out.push_back(&t);
  return out;
}

void LoadBalancer::figures(Figures& out) const {
  out.sum("forwarded", static_cast<double>(forwarded_));
  out.sum("no_healthy_backend", static_cast<double>(no_healthy_));
  out.sum("panic_forwarded", static_cast<double>(panic_forwarded_));
  out.sum("forward_timeouts", static_cast<double>(timeouts_));
  out.sum("deadline_expired", static_cast<double>(deadline_expired_));
  out.sum("dropped_past_deadline", static_cast<double>(dropped_));
  out.sum("late_responses", static_cast<double>(late_));
  out.sum("shard_exhausted", static_cast<double>(shard_exhausted_));
  out.sum("shard_fallbacks", static_cast<double>(shard_fallbacks_));
  checker_.figures(out);
  detector_.figures(out);
  out.mean("mean_out_of_rotation", out_of_rotation_.average());
  // Shares of the forwarded requests: the most and least loaded backends (1/n each if even).
  // Several LB nodes: the largest max share, and the mean of their min shares.
  double max_share = 0, min_share = 0;
  if (forwarded_ > 0) {
    const auto [lo, hi] =
        std::minmax_element(forwarded_measured_.begin(), forwarded_measured_.end());
    max_share = static_cast<double>(*hi) / static_cast<double>(forwarded_);
    min_share = static_cast<double>(*lo) / static_cast<double>(forwarded_);
  }
  out.max("max_backend_share", max_share);
  out.mean("min_backend_share", min_share);
}

}  // namespace models
