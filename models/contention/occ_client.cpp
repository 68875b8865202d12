#include "models/contention/occ_client.hpp"

#include <stdexcept>
#include <utility>

#include "sim/assert.hpp"

namespace models {

static_assert(sim::Payload<OccRequest>, "an OccRequest travels inline in a message");

OccClient::OccClient(const OccClientConfig& config, sim::Node& node,
                     std::vector<sim::NodeId> stores, RequestRecorder& recorder,
                     sim::Time measure_from, sim::Time measure_to, std::uint32_t group)
    : config_(config),
      stores_(std::move(stores)),
      recorder_(recorder),
      group_(group),
      start_rng_(node.stream("start")),
      key_rng_(node.stream("keys")),
      backoff_rng_(node.stream("backoff")),
      backoff_(config_.retry.backoff),
      measure_from_(measure_from),
      measure_to_(measure_to) {
  DSIM_ASSERT(!stores_.empty(), "an OCC client needs a store");
  DSIM_ASSERT(config.writes >= 1 && config.keys >= 1, "at least one write and one key");
  DSIM_ASSERT(config.retry.max_attempts >= 0, "max_attempts cannot be negative");
}

std::unique_ptr<Model> OccClient::make(const OccClientConfig& config, BuildContext& ctx,
                                       std::size_t replica) {
  DSIM_ASSERT(replica < ctx.nodes.size(), "client replica out of range");
  if (config.target.empty())
    throw std::invalid_argument("target: required, the name of the occ_store component");
  std::vector<sim::NodeId> stores = ctx.resolve(config.target);
  if (stores.empty())
    throw std::invalid_argument("target: component '" + config.target.name + "' has no nodes");
  const std::uint32_t group = ctx.group(config.group);
  return std::make_unique<OccClient>(config, ctx.cluster.node(ctx.nodes[replica]),
                                     std::move(stores), ctx.recorder, ctx.warmup_end, ctx.end,
                                     group);
}

void OccClient::on_start(sim::Node& node) {
  // Also after a restart: go on with the writes not yet done.
  phase_ = Phase::Idle;
  timeout_timer_ = {};
  if (writes_done_ + writes_failed_ >= config_.writes) {
    phase_ = Phase::Done;
    return;
  }
  if (node.incarnation() == 0 && config_.start_spread > sim::Duration::zero()) {
    const double offset = static_cast<double>(config_.start_spread.ns()) * start_rng_.uniform01();
    node.set_timer(sim::duration_from_ns(offset), {kStart, 0});
    return;
  }
  begin_write(node);
}

void OccClient::begin_write(sim::Node& node) {
  key_ = key_rng_.below(static_cast<std::uint64_t>(config_.keys));
  started_ = node.true_now();
  attempts_ = 0;
  backoff_ = Backoff(config_.retry.backoff);
  send_read(node);
}

void OccClient::send_read(sim::Node& node) {
  ++attempts_;
  recorder_.attempt_sent(node.true_now());
  phase_ = Phase::Reading;
  send_call(node, kOccRead, 0);
}

void OccClient::send_call(sim::Node& node, std::uint8_t operation, std::uint64_t expected_version) {
  const sim::Time now = node.true_now();
  const bool timed = config_.timeout > sim::Duration::zero();
  ++call_id_;
  const OccRequest request{.rpc = {.call_id = call_id_,
                                   .key = key_,
                                   .deadline = timed ? now + config_.timeout : sim::Time::max(),
                                   .attempt = attempts_,
                                   .origin = node.id(),
                                   .operation = operation,
                                   .idempotent = operation == kOccRead},
                           .expected_version = expected_version};
  node.send(stores_[key_ % stores_.size()], request);
  if (measuring(now)) {
    ++calls_;
    if (operation == kOccWrite) ++write_calls_;
  }
  timeout_timer_ = timed ? node.set_timer(config_.timeout, {kTimeout, call_id_}) : sim::TimerId{};
}

void OccClient::on_message(sim::Node& node, const sim::Message& message) {
  const auto response = message.as<RpcResponse>();
  const bool awaited =
      (phase_ == Phase::Reading || phase_ == Phase::Writing) && response.call_id == call_id_;
  if (!awaited) {  // after its timeout, or duplicated by the network
    if (measuring(node.true_now())) ++late_;
    return;
  }
  if (timeout_timer_.serial != 0) node.cancel_timer(timeout_timer_);
  timeout_timer_ = {};
  answered(node, response);
}

void OccClient::answered(sim::Node& node, const RpcResponse& response) {
  if (response.outcome == Outcome::Error) return finish(node, Outcome::Error);
  if (phase_ == Phase::Reading) {
    if (response.outcome != Outcome::Ok) return attempt_failed(node, response.outcome);
    phase_ = Phase::Writing;
    return send_call(node, kOccWrite, response.value);
  }
  if (response.outcome == Outcome::Ok) return finish(node, Outcome::Ok);
  if (response.outcome == Outcome::Rejected && measuring(node.true_now())) ++conflicts_;
  attempt_failed(node, response.outcome);
}

void OccClient::on_timer(sim::Node& node, sim::TimerTag tag) {
  switch (tag.kind) {
    case kStart:
      DSIM_ASSERT(phase_ == Phase::Idle, "start timer of a client already started");
      return begin_write(node);
    case kRetry:
      DSIM_ASSERT(phase_ == Phase::BackingOff, "retry timer while not backing off");
      return send_read(node);
    case kTimeout:
      // A timeout cancelled by its answer never fires: this call is still awaited.
      DSIM_ASSERT(tag.value == call_id_ && (phase_ == Phase::Reading || phase_ == Phase::Writing),
                  "timeout of a call no longer awaited");
      timeout_timer_ = {};
      if (measuring(node.true_now())) ++timeouts_;
      return attempt_failed(node, Outcome::Timeout);
    default:
      DSIM_ASSERT(false, "unknown OCC client timer");
  }
}

void OccClient::attempt_failed(sim::Node& node, Outcome outcome) {
  const auto limit = static_cast<std::uint64_t>(config_.retry.max_attempts);
  if (limit > 0 && attempts_ >= limit) return finish(node, outcome);
  // Retry number n (1 for the first retry) follows n failed attempts.
  const sim::Duration wait = backoff_.next(attempts_, backoff_rng_);
  if (wait <= sim::Duration::zero()) return send_read(node);
  phase_ = Phase::BackingOff;
  node.set_timer(wait, {kRetry, 0});
}

void OccClient::finish(sim::Node& node, Outcome outcome) {
  const sim::Time now = node.true_now();
  recorder_.record(started_, now, outcome, attempts_, group_);
  if (outcome == Outcome::Ok) {
    ++writes_done_;
  } else {
    ++writes_failed_;
  }
  if (writes_done_ + writes_failed_ < config_.writes) return begin_write(node);
  phase_ = Phase::Done;
  finished_at_ = now;
}

void OccClient::on_crash(sim::Node& /*node*/) {
  // Timers die with the incarnation; answers to the old calls will not match a new call id.
  if (phase_ == Phase::Reading || phase_ == Phase::Writing || phase_ == Phase::BackingOff)
    recorder_.abandoned(started_);
  if (phase_ != Phase::Done) phase_ = Phase::Idle;
  timeout_timer_ = {};
}

FigureDocs OccClient::figure_docs() {
  return {
      {"calls", "calls", Combine::Sum, "reads and conditional writes sent"},
      {"write_calls", "calls", Combine::Sum, "conditional writes sent (the AWS study's calls)"},
      {"conflicts", "calls", Combine::Sum, "conditional writes rejected as conflicts"},
      {"timeouts", "calls", Combine::Sum, "calls with no answer within `timeout`"},
      {"late_responses", "answers", Combine::Sum, "answers after their call timed out"},
      {"writes_done", "writes", Combine::Sum, "logical writes completed"},
      {"writes_failed", "writes", Combine::Sum, "logical writes given up"},
      {"unfinished_clients", "clients", Combine::Sum, "clients with writes left at the end"},
      {"completion_time_ms", "ms", Combine::Max,
       "when the last client finished its last write, from the start of the run"},
  };
}

void OccClient::figures(Figures& out) const {
  out.sum("calls", static_cast<double>(calls_));
  out.sum("write_calls", static_cast<double>(write_calls_));
  out.sum("conflicts", static_cast<double>(conflicts_));
  out.sum("timeouts", static_cast<double>(timeouts_));
  out.sum("late_responses", static_cast<double>(late_));
  out.sum("writes_done", static_cast<double>(writes_done_));
  out.sum("writes_failed", static_cast<double>(writes_failed_));
  const bool finished = phase_ == Phase::Done;
  out.sum("unfinished_clients", finished ? 0.0 : 1.0);
  out.max("completion_time_ms", finished ? (finished_at_ - sim::Time::zero()).millis() : 0.0);
}

}  // namespace models
