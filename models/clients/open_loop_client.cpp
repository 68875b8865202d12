#include "models/clients/open_loop_client.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>
#include <utility>

#include "models/shared/true_time_timer.hpp"
#include "sim/assert.hpp"

namespace models {

OpenLoopClient::OpenLoopClient(std::shared_ptr<const OpenLoopClientConfig> shared,
                               std::shared_ptr<const KeyPicker> keys, sim::Node& node,
                               CallTargets targets, RequestRecorder& recorder,
                               sim::Time measure_from, sim::Time measure_to, std::uint32_t group,
                               JobLedger* ledger)
    : config_(std::move(shared)),
      node_(node),
      recorder_(recorder),
      group_(group),
      ledger_(ledger),
      // A job's publishes are not the run's requests: the job is (recorded by the ledger).
      caller_(std::shared_ptr<const CallerConfig>(config_, &config_->call), std::move(targets),
              kCallTimeout, config_->jobs ? nullptr : &recorder, measure_from, *this, group),
      arrivals_(config_->arrivals, node.stream("arrivals")),
      key_rng_(node.stream("keys")),
      key_picker_(std::move(keys)),
      operation_rng_(config_->mix.stream_for_operations(node)),
      poison_rng_(config_->tenancy.stream_for_poison(node)),
      measure_from_(measure_from),
      measure_to_(measure_to) {
  const OpenLoopClientConfig& config = *config_;
  DSIM_ASSERT(config.rate.per_second >= 0, "a rate cannot be negative");
  DSIM_ASSERT(config.mix.keys >= 1, "at least one key");
  DSIM_ASSERT(!config.jobs || ledger != nullptr, "a job producer needs the run's job ledger");
  DSIM_ASSERT(std::is_sorted(config.schedule.begin(), config.schedule.end(),
                             [](const RateStep& a, const RateStep& b) { return a.at < b.at; }),
              "rate steps in time order");
}

std::unique_ptr<Model> OpenLoopClient::make(const OpenLoopClientConfig& config, BuildContext& ctx,
                                            std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "client replica out of range");
  DSIM_ASSERT(check(config, ctx.nodes.size()).empty(), "the loader checked the configuration");
  const std::uint32_t group = config.tenancy.group_of(ctx, replica);
  return std::make_unique<OpenLoopClient>(
      ctx.shared_config(config), config.mix.shared_picker(ctx),
      ctx.cluster.node(ctx.nodes[replica]), shared_targets(config.call, ctx), ctx.recorder,
      ctx.warmup_end, ctx.end, group, config.jobs ? &JobLedger::of(ctx) : nullptr);
}

double OpenLoopClient::offered_rate(const Config& c) {
  double most = c.rate.per_second;
  for (const RateStep& step : c.schedule) most = std::max(most, step.rate.per_second);
  return most;
}

std::vector<ConfigProblem> OpenLoopClient::check(const Config& c, std::size_t count) {
  std::vector<ConfigProblem> problems = c.mix.check();
  for (ConfigProblem& p : c.tenancy.check(count)) problems.push_back(std::move(p));
  for (std::size_t i = 1; i < c.schedule.size(); ++i)
    if (c.schedule[i].at < c.schedule[i - 1].at)
      problems.push_back(
          {"schedule/" + std::to_string(i) + "/at", "expected the steps in time order"});
  return problems;
}

FigureDocs OpenLoopClient::figure_docs() {
  return FigureDocs{
             {"requests_sent", "requests", Combine::Sum, "logical requests started"},
             {"writes_sent", "requests", Combine::Sum,
              "logical requests started as writes (write_fraction)"},
             {"in_flight_max", "requests", Combine::Max,
              "the most requests one client node had in progress at once"},
             {"jobs_unfinished", "jobs", Combine::Sum,
              "jobs (`jobs` true) started in the measured interval and not ended by the end of "
              "the run: queued, in progress or stuck; latency and availability leave them out"},
         } +
         Caller::figure_docs();
}

double OpenLoopClient::scheduled_rate() const {
  return step_ == 0 ? config_->rate.per_second : config_->schedule[step_ - 1].rate.per_second;
}

void OpenLoopClient::on_start(sim::Node& node) {
  // Also after a restart: resume at whatever the schedule says for now.
  const sim::Time now = node.true_now();
  step_ = 0;
  while (step_ < config_->schedule.size() && sim::Time::zero() + config_->schedule[step_].at <= now)
    ++step_;
  arrivals_.start(now, current_rate());
  arrival_timer_ = {};
  arm_arrival(node);
  arm_next_step(node);
}

void OpenLoopClient::arm_arrival(sim::Node& node) {
  if (arrival_timer_.serial != 0) node.cancel_timer(arrival_timer_);
  arrival_timer_ = {};
  const sim::Time next = arrivals_.next();
  if (next != sim::Time::max()) arrival_timer_ = set_timer_at_true_time(node, next, {kArrival, 0});
}

void OpenLoopClient::arm_next_step(sim::Node& node) {
  if (step_ >= config_->schedule.size()) return;
  set_timer_at_true_time(node, sim::Time::zero() + config_->schedule[step_].at, {kRateStep, step_});
}

void OpenLoopClient::rate_changed(sim::Node& node) {
  arrivals_.set_rate(node.true_now(), current_rate());
  arm_arrival(node);
}

void OpenLoopClient::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (caller_.on_timer(node, tag)) return;
  switch (tag.kind) {
    case kArrival:
      arrival_timer_ = {};  // it fired: nothing to cancel
      arrivals_.arrived(node.true_now());
      send_request(node);
      arm_arrival(node);
      return;
    case kRateStep:
      while (step_ < config_->schedule.size() &&
             sim::Time::zero() + config_->schedule[step_].at <= node.true_now())
        ++step_;
      rate_changed(node);
      arm_next_step(node);
      return;
    default:
      DSIM_ASSERT(false, "unknown open-loop client timer");
  }
}

void OpenLoopClient::send_request(sim::Node& node) {
  const sim::Time now = node.true_now();
  const auto key = key_picker_->pick(key_rng_);
  const std::uint8_t operation = config_->mix.operation(operation_rng_.get());
  const bool write = operation == kOpWrite;
  if (ledger_ != nullptr) {
    // The job's first message is published under its ledger id (forwarded as is by the Caller).
    const std::uint64_t job =
        ledger_->open_job(now, group_, node.id(), now >= measure_from_ && now <= measure_to_);
    caller_.forward(node,
                    RpcRequest{.key = key,
                               .tenant = static_cast<std::uint16_t>(group_),
                               .request_id = job,
                               .origin = node.id(),
                               .operation = operation,
                               .idempotent = static_cast<std::uint8_t>(config_->call.idempotent),
                               .poison = static_cast<std::uint8_t>(
                                   config_->tenancy.poison(poison_rng_.get()) ? 1 : 0)},
                    job);
  } else {
    caller_.start(node, key, 0, Caller::kAnyShard, operation,
                  config_->tenancy.poison(poison_rng_.get()));
  }
  if (now >= measure_from_ && now <= measure_to_) {
    ++requests_sent_;
    if (write) ++writes_sent_;
    in_flight_max_ = std::max(in_flight_max_, caller_.in_flight());
  }
}

void OpenLoopClient::on_message(sim::Node& node, const sim::Message& message) {
  const bool handled = caller_.on_message(node, message);
  DSIM_ASSERT(handled, "an open-loop client receives only responses");
}

void OpenLoopClient::on_call_done(sim::Node& node, const CallResult& result) {
  // Open loop: the next arrival does not wait for this outcome. A job whose publish failed
  // ends here; a published one ends when its last message is done.
  if (ledger_ != nullptr && result.outcome != Outcome::Ok)
    ledger_->finish(result.token, node.true_now(), result.outcome, recorder_);
}

void OpenLoopClient::on_crash(sim::Node& node) {
  caller_.on_crash(node);
  arrival_timer_ = {};  // lost with the node's other timers
}

bool OpenLoopClient::scale_load(double factor) {
  DSIM_ASSERT(factor > 0 && std::isfinite(factor), "a load factor is finite and > 0");
  load_factor_ *= factor;
  // A crashed client picks the new rate up when it restarts (on_start).
  if (node_.state() != sim::NodeState::Crashed) rate_changed(node_);
  return true;
}

void OpenLoopClient::figures(Figures& out) const {
  out.sum("requests_sent", static_cast<double>(requests_sent_));
  out.sum("writes_sent", static_cast<double>(writes_sent_));
  out.max("in_flight_max", static_cast<double>(in_flight_max_));
  out.sum("jobs_unfinished",
          ledger_ != nullptr ? static_cast<double>(ledger_->unfinished(node_.id())) : 0.0);
  caller_.figures(out);
}

}  // namespace models
