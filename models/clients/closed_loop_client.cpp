#include "models/clients/closed_loop_client.hpp"

#include <utility>

#include "sim/assert.hpp"

namespace models {

ClosedLoopClient::ClosedLoopClient(const ClosedLoopClientConfig& config,
                                   std::shared_ptr<const KeyPicker> keys, sim::Node& node,
                                   std::vector<sim::NodeId> targets, RequestRecorder& recorder,
                                   sim::Time measure_from, sim::Time measure_to,
                                   std::uint32_t group)
    : config_(config),
      caller_(config.call, std::move(targets), kCallTimeout, recorder, *this, group),
      think_rng_(node.stream("think")),
      key_rng_(node.stream("keys")),
      key_picker_(std::move(keys)),
      operation_rng_(config.mix.stream_for_operations(node)),
      poison_rng_(config.tenancy.stream_for_poison(node)),
      measure_from_(measure_from),
      measure_to_(measure_to) {
  DSIM_ASSERT(config.users >= 1, "at least one user");
  DSIM_ASSERT(config.mix.keys >= 1, "at least one key");
}

std::unique_ptr<Model> ClosedLoopClient::make(const ClosedLoopClientConfig& config,
                                              BuildContext& ctx, std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "client replica out of range");
  DSIM_ASSERT(check(config, ctx.nodes.size()).empty(), "the loader checked the configuration");
  const std::uint32_t group = config.tenancy.group_of(ctx, replica);
  return std::make_unique<ClosedLoopClient>(
      config, config.mix.shared_picker(ctx), ctx.cluster.node(ctx.nodes[replica]),
      resolve_target(config.call, ctx), ctx.recorder, ctx.warmup_end, ctx.end, group);
}

double ClosedLoopClient::offered_rate(const Config& c) {
  const double think_s = c.think_time.mean() * 1e-9;  // distributions of durations are in ns
  return think_s > 0 ? c.users / think_s : 0;
}

std::vector<ConfigProblem> ClosedLoopClient::check(const Config& c, std::size_t count) {
  std::vector<ConfigProblem> problems = c.mix.check();
  for (ConfigProblem& p : c.tenancy.check(count)) problems.push_back(std::move(p));
  // Each user keeps up to a few events pending (its think timer, or its request, the caller's
  // timeout and the server's work): a tenth of the kernel's limit leaves room for the rest.
  const double users = static_cast<double>(c.users) * static_cast<double>(count);
  if (users > kMaxUsers)
    problems.push_back(
        {"users", "expected at most " + std::to_string(static_cast<std::int64_t>(kMaxUsers)) +
                      " users in all (users x count: a tenth of the simulator's " +
                      std::to_string(sim::Simulator::kMaxPendingEvents) + " pending events), got " +
                      std::to_string(c.users) + " x " + std::to_string(count)});
  return problems;
}

FigureDocs ClosedLoopClient::figure_docs() {
  return FigureDocs{
             {"requests_sent", "requests", Combine::Sum, "logical requests started"},
             {"writes_sent", "requests", Combine::Sum,
              "logical requests started as writes (write_fraction)"},
         } +
         Caller::figure_docs();
}

void ClosedLoopClient::on_start(sim::Node& node) {
  for (int user = 0; user < config_.users; ++user) think(node, static_cast<std::uint64_t>(user));
}

void ClosedLoopClient::think(sim::Node& node, std::uint64_t user) {
  node.set_timer(config_.think_time.sample_duration(think_rng_), {kThinkDone, user});
}

void ClosedLoopClient::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (caller_.on_timer(node, tag)) return;
  DSIM_ASSERT(tag.kind == kThinkDone, "unknown closed-loop client timer");
  const sim::Time now = node.true_now();
  // Uniform keys are key_rng_.below(keys), as before the other popularities existed.
  const std::uint64_t key = key_picker_->pick(key_rng_);
  const std::uint8_t operation = config_.mix.operation(operation_rng_.get());
  const bool write = operation == kOpWrite;
  if (now >= measure_from_ && now <= measure_to_) {
    ++requests_sent_;
    if (write) ++writes_sent_;
  }
  caller_.start(node, key, tag.value, Caller::kAnyShard, operation,
                config_.tenancy.poison(poison_rng_.get()));
}

void ClosedLoopClient::on_call_done(sim::Node& node, const CallResult& result) {
  think(node, result.token);  // whatever the outcome: the user moves on
}

void ClosedLoopClient::on_message(sim::Node& node, const sim::Message& message) {
  const bool handled = caller_.on_message(node, message);
  DSIM_ASSERT(handled, "a closed-loop client receives only responses");
}

void ClosedLoopClient::on_crash(sim::Node& node) {
  caller_.on_crash(node);
}

void ClosedLoopClient::figures(Figures& out) const {
  out.sum("requests_sent", static_cast<double>(requests_sent_));
  out.sum("writes_sent", static_cast<double>(writes_sent_));
  caller_.figures(out);
}

}  // namespace models
