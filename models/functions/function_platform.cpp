#include "models/functions/function_platform.hpp"

#include <algorithm>
#include <cmath>

#include "models/shared/health.hpp"
#include "models/shared/rpc.hpp"
#include "sim/assert.hpp"

namespace models {
namespace {

constexpr std::size_t kProvisionedList = 0;
constexpr std::size_t kOnDemandList = 1;
constexpr std::int64_t kNsPerMs = 1'000'000;

std::int64_t ceil_ms(sim::Duration d) {
  return (d.ns() + kNsPerMs - 1) / kNsPerMs;
}

// The node's monotonic clock, on which its timers run (a wall-clock step does not move it).
sim::Time monotonic_now(const sim::Node& node) {
  return node.clock().monotonic(node.true_now());
}

}  // namespace

FigureDocs FunctionPlatform::figure_docs() {
  return {
      {"invocations", "requests", Combine::Sum,
       "invocations that ran or began a cold start (Lambda's Invocations: throttles excluded)"},
      {"cold_starts", "requests", Combine::Sum,
       "invocations that created an instance and waited for its cold start"},
      {"cold_start_fraction", "fraction", Combine::Mean, "cold_starts / invocations"},
      {"throttled", "requests", Combine::Sum,
       "invocations answered RateLimited at once: no warm slot and max_instances instances"},
      {"instances_created", "instances", Combine::Sum,
       "on-demand instances created (one per cold start)"},
      {"instances_reclaimed", "instances", Combine::Sum,
       "instances reclaimed after keep_alive idle"},
      {"peak_instances", "instances", Combine::Sum,
       "most instances in existence at once (starting, idle or busy); summed over nodes"},
      {"mean_instances", "instances", Combine::Sum, "time-average of the instances in existence"},
      {"peak_concurrency", "requests", Combine::Sum,
       "most invocations in the platform at once (executing or in a cold start)"},
      {"busy_fraction", "fraction", Combine::Mean,
       "time-average executions / (concurrency x time-average instances): the share of the "
       "instances' slots spent executing"},
      {"billed_seconds", "s", Combine::Sum,
       "billing request: each execution plus its cold start, rounded up to 1 ms, plus "
       "provisioned instances' existence; billing instance: every instance's existence"},
      {"always_on_seconds", "s", Combine::Sum,
       "ceil(peak_concurrency / concurrency) x the measured time: an always-on fleet sized for "
       "the peak"},
      {"cost_ratio", "ratio", Combine::Mean, "billed_seconds / always_on_seconds (0 if none)"},
  };
}

SeriesDocs FunctionPlatform::series_docs() {
  return {
      {"instances", "instances", Combine::Sum, "instances in existence (starting, idle or busy)"},
      {"busy", "requests", Combine::Sum, "executions in progress"},
      {"starting", "instances", Combine::Sum, "instances in their cold start"},
  };
}

std::vector<ConfigProblem> FunctionPlatform::check(const Config& c) {
  std::vector<ConfigProblem> problems;
  if (c.provisioned > max_instances(c))
    problems.push_back({"provisioned", "at most ceil(account_concurrency / concurrency) = " +
                                           std::to_string(max_instances(c)) +
                                           " (provisioned concurrency counts towards the "
                                           "account limit), got " +
                                           std::to_string(c.provisioned)});
  return problems;
}

void FunctionPlatform::Level::set(sim::Time now, double value) {
  // The old value held until now: it counts if some of that time lies in the interval.
  if (now > from_ && now <= to_) peak_ = std::max(peak_, average_.current());
  if (now >= from_ && now <= to_) peak_ = std::max(peak_, value);
  average_.set(now, value);
}

FunctionPlatform::FunctionPlatform(const Config& config, const sim::Node& node,
                                   sim::Time measure_from, sim::Time measure_to)
    : config_(config),
      max_instances_(static_cast<std::size_t>(max_instances(config))),
      cold_start_rng_(node.stream("cold_start")),
      service_rng_(node.stream("service")),
      measure_from_(measure_from),
      measure_to_(measure_to),
      instance_level_(measure_from, measure_to),
      busy_level_(measure_from, measure_to),
      concurrency_level_(measure_from, measure_to),
      provisioned_level_(measure_from, measure_to) {
  DSIM_ASSERT(config.concurrency >= 1, "an instance executes at least one invocation");
  DSIM_ASSERT(
      config.provisioned >= 0 && static_cast<std::size_t>(config.provisioned) <= max_instances_,
      "provisioned instances within the account limit (checked at load)");
}

std::unique_ptr<Model> FunctionPlatform::make(const Config& config, BuildContext& ctx,
                                              std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "function platform replica out of range");
  return std::make_unique<FunctionPlatform>(config, ctx.cluster.node(ctx.nodes[replica]),
                                            ctx.warmup_end, ctx.end);
}

void FunctionPlatform::on_start(sim::Node& node) {
  DSIM_ASSERT(instances_.size() == 0, "a platform starts without instances");
  for (std::int64_t i = 0; i < config_.provisioned; ++i) {
    const Id id = create_instance(/*provisioned=*/true);
    Instance& instance = *instances_.find(id);
    instance.ready = true;
    instance.idle_since = monotonic_now(node);
    relist(id);
  }
  provisioned_ = static_cast<std::size_t>(config_.provisioned);
  record_levels(node.true_now());
}

void FunctionPlatform::on_message(sim::Node& node, const sim::Message& message) {
  if (answer_health_probe(node, message)) return;  // at once (models/shared/health.hpp)
  invoke(node, message);
}

void FunctionPlatform::invoke(sim::Node& node, const sim::Message& message) {
  const sim::Time now = node.true_now();
  const Invocation invocation{.from = message.from, .call_id = message.as<RpcRequest>().call_id};
  if (const Id warm = warm_instance(node); warm != 0) {
    if (measuring(now)) ++invocations_;
    begin(node, warm, invocation, sim::Duration::zero());
  } else if (instances_.size() < max_instances_) {
    if (measuring(now)) {
      ++invocations_;
      ++cold_starts_;
    }
    cold_start(node, invocation);
  } else {
    if (measuring(now)) ++throttled_;
    node.send(invocation.from,
              RpcResponse{.call_id = invocation.call_id, .outcome = Outcome::RateLimited});
  }
  record_levels(now);
}

FunctionPlatform::Id FunctionPlatform::warm_instance(sim::Node& node) {
  if (newest_[kProvisionedList] != 0) return newest_[kProvisionedList];
  const sim::Time local_now = monotonic_now(node);
  while (const Id id = newest_[kOnDemandList]) {
    const Instance& instance = *instances_.find(id);
    // Its keep-alive ran out at this very instant (the expiry may be the next event): gone.
    if (instance.executions == 0 && local_now - instance.idle_since >= config_.keep_alive) {
      reclaim(node, id);
      continue;
    }
    return id;
  }
  return 0;
}

FunctionPlatform::Id FunctionPlatform::create_instance(bool provisioned) {
  Instance instance;
  instance.provisioned = provisioned;
  return instances_.insert(instance);
}

void FunctionPlatform::cold_start(sim::Node& node, const Invocation& invocation) {
  const Id id = create_instance(/*provisioned=*/false);
  Instance& instance = *instances_.find(id);
  instance.first = invocation;
  instance.init = config_.cold_start.sample_duration(cold_start_rng_);
  ++starting_;
  if (measuring(node.true_now())) ++created_;
  node.set_timer(instance.init, {kColdStartDone, id});
}

void FunctionPlatform::cold_start_done(sim::Node& node, Id id) {
  Instance& instance = *instances_.find(id);
  instance.ready = true;
  --starting_;
  const Invocation first = instance.first;
  begin(node, id, first, instance.init);
  record_levels(node.true_now());
}

void FunctionPlatform::begin(sim::Node& node, Id id, const Invocation& invocation,
                             sim::Duration init) {
  Instance& instance = *instances_.find(id);
  if (instance.executions == 0) node.cancel_timer(instance.keep_alive);  // harmless if unset
  ++instance.executions;
  ++busy_;
  relist(id);
  const Id execution = executions_.insert(
      {.invocation = invocation, .instance = id, .began = node.true_now(), .init = init});
  const double ns = config_.service_time.sample(service_rng_) * node.slowdown();
  node.set_timer(sim::duration_from_ns(ns), {kExecutionDone, execution});
}

void FunctionPlatform::complete(sim::Node& node, Id id) {
  const Execution execution = *executions_.find(id);
  executions_.erase(id);
  const sim::Time now = node.true_now();
  node.send(execution.invocation.from,
            RpcResponse{.call_id = execution.invocation.call_id, .outcome = Outcome::Ok});
  if (measuring(now)) billed_ms_ += ceil_ms(execution.init + (now - execution.began));
  Instance& instance = *instances_.find(execution.instance);
  --instance.executions;
  --busy_;
  relist(execution.instance);  // used just now: the most recent of its list
  if (instance.executions == 0) {
    instance.idle_since = monotonic_now(node);
    if (!instance.provisioned)
      instance.keep_alive =
          node.set_timer(config_.keep_alive, {kKeepAliveOver, execution.instance});
  }
  record_levels(now);
}

void FunctionPlatform::on_timer(sim::Node& node, sim::TimerTag tag) {
  switch (tag.kind) {
    case kColdStartDone:
      cold_start_done(node, tag.value);
      return;
    case kExecutionDone:
      complete(node, tag.value);
      return;
    case kKeepAliveOver:
      // Cancelled when an execution begins; may find the instance reclaimed at an arrival.
      if (const Instance* instance = instances_.find(tag.value);
          instance != nullptr && instance->executions == 0 && !instance->provisioned) {
        reclaim(node, tag.value);
        record_levels(node.true_now());
      }
      return;
    default:
      DSIM_ASSERT(false, "unknown function platform timer");
  }
}

void FunctionPlatform::reclaim(sim::Node& node, Id id) {
  const Instance& instance = *instances_.find(id);
  DSIM_ASSERT(instance.ready && instance.executions == 0 && !instance.provisioned,
              "only idle on-demand instances are reclaimed");
  node.cancel_timer(instance.keep_alive);  // when reclaimed at an arrival, before it fired
  unlist(id);
  instances_.erase(id);
  if (measuring(node.true_now())) ++reclaimed_;
}

void FunctionPlatform::relist(Id id) {
  unlist(id);
  Instance& instance = *instances_.find(id);
  if (!instance.ready || instance.executions >= config_.concurrency) return;
  Id& head = newest_[instance.provisioned ? kProvisionedList : kOnDemandList];
  instance.newer = 0;
  instance.older = head;
  if (head != 0) instances_.find(head)->newer = id;
  head = id;
  instance.listed = true;
}

void FunctionPlatform::unlist(Id id) {
  Instance& instance = *instances_.find(id);
  if (!instance.listed) return;
  Id& head = newest_[instance.provisioned ? kProvisionedList : kOnDemandList];
  if (instance.newer != 0)
    instances_.find(instance.newer)->older = instance.older;
  else
    head = instance.older;
  if (instance.older != 0) instances_.find(instance.older)->newer = instance.newer;
  instance.newer = instance.older = 0;
  instance.listed = false;
}

void FunctionPlatform::record_levels(sim::Time now) {
  instance_level_.set(now, static_cast<double>(instances_.size()));
  busy_level_.set(now, static_cast<double>(busy_));
  concurrency_level_.set(now, static_cast<double>(busy_ + starting_));
  provisioned_level_.set(now, static_cast<double>(provisioned_));
}

void FunctionPlatform::on_crash(sim::Node& node) {
  // Every timer died with the node's incarnation; callers of the invocations in flight time out.
  instances_.clear();
  executions_.clear();
  newest_ = {};
  busy_ = starting_ = provisioned_ = 0;
  record_levels(node.true_now());
}

void FunctionPlatform::figures(Figures& out) const {
  const double span = (measure_to_ - measure_from_).seconds();
  const double c = static_cast<double>(config_.concurrency);
  const double billed =
      config_.billing == Billing::Request
          ? static_cast<double>(billed_ms_) / 1e3 + provisioned_level_.average() * span
          : instance_level_.average() * span;
  const double always_on = std::ceil(concurrency_level_.peak() / c) * span;
  const double mean_instances = instance_level_.average();
  out.sum("invocations", static_cast<double>(invocations_));
  out.sum("cold_starts", static_cast<double>(cold_starts_));
  out.mean("cold_start_fraction",
           invocations_ > 0 ? static_cast<double>(cold_starts_) / invocations_ : 0.0);
  out.sum("throttled", static_cast<double>(throttled_));
  out.sum("instances_created", static_cast<double>(created_));
  out.sum("instances_reclaimed", static_cast<double>(reclaimed_));
  out.sum("peak_instances", instance_level_.peak());
  out.sum("mean_instances", mean_instances);
  out.sum("peak_concurrency", concurrency_level_.peak());
  out.mean("busy_fraction", mean_instances > 0 ? busy_level_.average() / (c * mean_instances) : 0);
  out.sum("billed_seconds", billed);
  out.sum("always_on_seconds", always_on);
  out.mean("cost_ratio", always_on > 0 ? billed / always_on : 0.0);
}

void FunctionPlatform::sample(sim::Time /*now*/, SeriesSample& out) const {
  out.set("instances", static_cast<double>(instances_.size()));
  out.set("busy", static_cast<double>(busy_));
  out.set("starting", static_cast<double>(starting_));
}

}  // namespace models
