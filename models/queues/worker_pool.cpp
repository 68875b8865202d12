#include "models/queues/worker_pool.hpp"

#include <algorithm>

#include "sim/assert.hpp"

namespace models {

WorkerPool::WorkerPool(const Config& config, sim::Node& node, std::vector<sim::NodeId> queue,
                       std::size_t replica, std::size_t workers, JobLedger& ledger,
                       RequestRecorder& recorder, sim::Time measure_from, sim::Time measure_to)
    : config_(config),
      consumer_(config.consumer, std::move(queue), replica, kConsumer, *this, measure_from),
      replica_(replica),
      ledger_(ledger),
      recorder_(recorder),
      service_rng_(node.stream("service")),
      failure_rng_(node.stream("failures")),
      startup_rng_(node.stream("startup")),
      measure_from_(measure_from),
      measure_to_(measure_to),
      desired_(static_cast<std::uint32_t>(config.initial_workers == 0
                                              ? workers
                                              : static_cast<std::size_t>(config.initial_workers))) {
}

std::unique_ptr<Model> WorkerPool::make(const Config& config, BuildContext& ctx,
                                        std::size_t replica) {
  const std::vector<sim::NodeId> queue = ctx.resolve(config.consumer.queue);
  DSIM_ASSERT(!queue.empty(), "the loader checked that the queue exists");
  return std::make_unique<WorkerPool>(config, ctx.cluster.node(ctx.nodes[replica]), queue, replica,
                                      ctx.nodes.size(), JobLedger::of(ctx), ctx.recorder,
                                      ctx.warmup_end, ctx.end);
}

void WorkerPool::accumulate(sim::Time now) {
  if (now <= integrated_to_) return;
  const double busy = static_cast<double>(consumer_.in_hand());
  busy_area_ += busy * (now - integrated_to_).seconds();
  const sim::Time from = std::max(integrated_to_, measure_from_);
  const sim::Time to = std::min(now, measure_to_);
  if (to > from) {
    measured_busy_area_ += busy * (to - from).seconds();
    if (state_ == State::Serving) measured_serving_area_ += (to - from).seconds();
  }
  integrated_to_ = now;
}

void WorkerPool::on_start(sim::Node& node) {
  accumulate(node.true_now());
  state_ = State::Off;
  query_at_ = node.true_now();
  query_busy_area_ = busy_area_;
  if (!started_before_ && replica_ < desired_) {
    set_state(node, State::Serving);  // the run starts with the pool already running
  } else {
    apply_desired(node);  // a restarted worker starts up again
  }
  started_before_ = true;
}

void WorkerPool::apply_desired(sim::Node& node) {
  const bool wanted = replica_ < desired_;
  if (wanted && state_ == State::Off) {
    set_state(node, State::Starting);
    const sim::Duration delay = config_.startup_delay.sample_duration(startup_rng_);
    startup_timer_ = node.set_timer(delay, {kStarted, 0});
  } else if (!wanted && state_ != State::Off) {
    if (state_ == State::Starting) node.cancel_timer(startup_timer_);
    set_state(node, State::Off);
  }
}

void WorkerPool::set_state(sim::Node& node, State state) {
  accumulate(node.true_now());
  const bool measured = node.true_now() >= measure_from_;
  if (state == State::Serving) scaled_up_ += measured;
  if (state_ == State::Serving && state == State::Off) scaled_down_ += measured;
  state_ = state;
  consumer_.set_slots(node,
                      state == State::Serving ? static_cast<std::size_t>(config_.concurrency) : 0);
}

void WorkerPool::on_message(sim::Node& node, const sim::Message& message) {
  accumulate(node.true_now());
  if (consumer_.on_message(node, message)) return;
  if (message.holds<WorkerScale>()) {
    const WorkerScale scale = message.as<WorkerScale>();
    if (scale.epoch < epoch_) return;  // an older decision, overtaken
    epoch_ = scale.epoch;
    desired_ = scale.desired;
    apply_desired(node);
    return;
  }
  const auto query = message.as<WorkerLoadQuery>();
  const sim::Time now = node.true_now();
  const double span = (now - query_at_).seconds();
  const double busy =
      span > 0 ? (busy_area_ - query_busy_area_) / (span * static_cast<double>(config_.concurrency))
               : 0.0;
  query_at_ = now;
  query_busy_area_ = busy_area_;
  node.send(message.from, WorkerLoadReply{.call_id = query.call_id,
                                          .busy = std::clamp(busy, 0.0, 1.0),
                                          .serving = static_cast<std::uint8_t>(serving())});
}

void WorkerPool::on_delivery(sim::Node& node, const Delivery& delivery) {
  accumulate(node.true_now());
  const auto id = held_.insert(delivery);
  const double ns = config_.service_time.sample(service_rng_) * node.slowdown();
  node.set_timer(sim::duration_from_ns(ns), {kProcessed, id});
}

void WorkerPool::processed(sim::Node& node, std::uint64_t id) {
  const Delivery* found = held_.find(id);
  if (found == nullptr) return;
  const Delivery delivery = *found;
  held_.erase(id);
  const sim::Time now = node.true_now();
  const bool measured = now >= measure_from_;
  const bool poison = static_cast<std::int64_t>(delivery.message.key) < config_.poison_keys;
  const bool failed = poison || (config_.failure_probability.value > 0 &&
                                 failure_rng_.bernoulli(config_.failure_probability.value));
  if (failed) {
    failed_ += measured;
    poison_ += measured && poison;
    consumer_.done(node, delivery,
                   config_.on_failure == FailureAction::Nack ? QueueConsumer::Finish::Nack
                                                             : QueueConsumer::Finish::Abandon);
    return;
  }
  processed_ += measured;
  if (!ledger_.finish(delivery.message.message, now, Outcome::Ok, recorder_)) {
    duplicates_ += measured;
    if (!config_.idempotent) {
      recorder_.duplicate_effect(ledger_.born(delivery.message.message));
      duplicate_effects_ += measured;
    }
  }
  consumer_.done(node, delivery, QueueConsumer::Finish::Ack);
}

void WorkerPool::on_timer(sim::Node& node, sim::TimerTag tag) {
  accumulate(node.true_now());
  if (consumer_.on_timer(node, tag)) return;
  switch (tag.kind) {
    case kProcessed:
      processed(node, tag.value);
      return;
    case kStarted:
      startup_timer_ = {};
      if (state_ == State::Starting) set_state(node, State::Serving);
      return;
    default:
      DSIM_ASSERT(false, "unknown worker pool timer");
  }
}

void WorkerPool::on_crash(sim::Node& node) {
  accumulate(node.true_now());
  consumer_.on_crash();
  held_.clear();
  state_ = State::Off;
  startup_timer_ = {};
}

FigureDocs WorkerPool::figure_docs() {
  return FigureDocs{
             {"processed", "messages", Combine::Sum,
              "messages handled successfully (acknowledged)"},
             {"failed", "messages", Combine::Sum, "messages whose handling failed"},
             {"poison", "messages", Combine::Sum,
              "failures of poison messages (key below poison_keys)"},
             {"duplicates", "messages", Combine::Sum,
              "messages handled successfully that had been handled before (at-least-once)"},
             {"duplicate_effects", "messages", Combine::Sum,
              "duplicates handled by a non-idempotent worker (idempotent false)"},
             {"worker_seconds", "s", Combine::Sum,
              "time workers spent serving over the measured interval (the pool's cost)"},
             {"utilization", "fraction", Combine::Mean,
              "busy slot-seconds over serving slot-seconds, per worker (0 if it never served)"},
             {"scale_ups", "workers", Combine::Sum, "times a worker began serving"},
             {"scale_downs", "workers", Combine::Sum, "times a serving worker stopped"},
         } +
         QueueConsumer::figure_docs();
}

SeriesDocs WorkerPool::series_docs() {
  return {
      {"serving", "workers", Combine::Sum, "workers taking messages"},
      {"starting", "workers", Combine::Sum, "workers scaled up, still in their start-up delay"},
      {"busy", "messages", Combine::Sum, "messages being handled"},
  };
}

void WorkerPool::sample(sim::Time /*now*/, SeriesSample& out) const {
  out.set("serving", serving() ? 1 : 0);
  out.set("starting", starting() ? 1 : 0);
  out.set("busy", static_cast<double>(consumer_.in_hand()));
}

void WorkerPool::figures(Figures& out) const {
  // The areas run to the last event; the state since then lasts to the end of the interval.
  const sim::Time from = std::max(integrated_to_, measure_from_);
  const double tail = measure_to_ > from ? (measure_to_ - from).seconds() : 0.0;
  const double serving_area = measured_serving_area_ + (serving() ? tail : 0.0);
  const double busy_area = measured_busy_area_ + static_cast<double>(consumer_.in_hand()) * tail;
  out.sum("processed", static_cast<double>(processed_));
  out.sum("failed", static_cast<double>(failed_));
  out.sum("poison", static_cast<double>(poison_));
  out.sum("duplicates", static_cast<double>(duplicates_));
  out.sum("duplicate_effects", static_cast<double>(duplicate_effects_));
  out.sum("worker_seconds", serving_area);
  const double slots = serving_area * static_cast<double>(config_.concurrency);
  out.mean("utilization", slots > 0 ? busy_area / slots : 0.0);
  out.sum("scale_ups", static_cast<double>(scaled_up_));
  out.sum("scale_downs", static_cast<double>(scaled_down_));
  consumer_.figures(out);
}

}  // namespace models
