#include "models/queues/queue.hpp"

#include <algorithm>

#include "models/shared/health.hpp"
#include "sim/assert.hpp"
#include "sim/node.hpp"

namespace models {

FigureDocs Queue::figure_docs() {
  return {
      {"published", "messages", Combine::Sum, "publishes stored"},
      {"rejected", "messages", Combine::Sum, "publishes refused: `capacity` messages stored"},
      {"delivered", "deliveries", Combine::Sum, "messages delivered to a receive"},
      {"redelivered", "deliveries", Combine::Sum,
       "deliveries of a message delivered before (receives > 1)"},
      {"acked", "messages", Combine::Sum, "messages deleted by an ack of their latest delivery"},
      {"stale_acks", "acks", Combine::Sum,
       "acks and nacks ignored: not the message's latest delivery, or no longer in flight"},
      {"nacked", "messages", Combine::Sum, "deliveries nacked (the message visible again at once)"},
      {"visibility_expired", "deliveries", Combine::Sum,
       "deliveries neither acked nor nacked within `visibility_timeout`"},
      {"dead_lettered", "messages", Combine::Sum,
       "messages dead-lettered after `max_receives` deliveries (their jobs fail)"},
      {"lost", "messages", Combine::Sum,
       "messages lost in crashes of a queue that is not `durable` (their jobs fail)"},
      {"depth_mean", "messages", Combine::Sum,
       "time-average of the visible messages over the measured interval"},
      {"depth_max", "messages", Combine::Max, "most visible messages during the measured interval"},
      {"visible_at_end", "messages", Combine::Sum, "visible messages at the end of the run"},
      {"in_flight_at_end", "messages", Combine::Sum, "in-flight messages at the end of the run"},
      {"oldest_age_at_end_s", "s", Combine::Max,
       "age of the oldest visible message at the end of the run (0: none)"},
      {"queue_wait_mean_ms", "ms", Combine::Mean,
       "mean time a delivered message had been visible (since published or back), for "
       "Little's law: depth_mean = publish rate x queue_wait_mean"},
  };
}

SeriesDocs Queue::series_docs() {
  return {
      {"visible", "messages", Combine::Sum, "messages waiting to be received"},
      {"in_flight", "messages", Combine::Sum, "messages received, not yet acked"},
      {"oldest_age_s", "s", Combine::Max, "age of the oldest visible message (0: none)"},
      {"dead_letters", "messages", Combine::Sum, "messages in the dead-letter store"},
      {"lag", "messages", Combine::Sum, "messages published, not yet acked: visible + in flight"},
  };
}

std::unique_ptr<Model> Queue::make(const Config& config, BuildContext& ctx,
                                   std::size_t /*replica*/) {
  return std::make_unique<Queue>(config, JobLedger::of(ctx), ctx.recorder, ctx.warmup_end, ctx.end);
}

Queue::Queue(const Config& config, JobLedger& ledger, RequestRecorder& recorder,
             sim::Time measure_from, sim::Time measure_to)
    : config_(config),
      ledger_(ledger),
      recorder_(recorder),
      measure_from_(measure_from),
      measure_to_(measure_to),
      depth_(measure_from, measure_to) {
  DSIM_ASSERT(config_.capacity >= 1 && config_.capacity <= Config::kMaxCapacity &&
                  config_.capacity < (std::int64_t{1} << kSlotBits),
              "the queue's capacity is checked at load");
}

void Queue::on_start(sim::Node& /*node*/) {
  // Nothing to set up: on_crash has already made the stored messages what a restart finds.
}

void Queue::on_message(sim::Node& node, const sim::Message& message) {
  if (answer_health_probe(node, message)) return;
  if (message.holds<QueueReceive>()) {
    receive(node, message.from, message.as<QueueReceive>());
  } else if (message.holds<QueueAck>()) {
    ack(node, message.as<QueueAck>().receipt);
  } else if (message.holds<QueueNack>()) {
    nack(node, message.as<QueueNack>().receipt);
  } else if (message.holds<QueueStatsQuery>()) {
    node.send(message.from, QueueStatsReply{.call_id = message.as<QueueStatsQuery>().call_id,
                                            .visible = visible_.size(),
                                            .in_flight = in_flight_,
                                            .oldest_age = oldest_age(node.true_now())});
  } else {
    publish(node, message);
  }
}

void Queue::on_timer(sim::Node& node, sim::TimerTag tag) {
  switch (tag.kind) {
    case kVisibilityOver:
      visibility_over(node, tag.value);
      return;
    case kWaitOver:
      wait_over(node, tag.value);
      return;
    default:
      DSIM_ASSERT(false, "unknown queue timer");
  }
}

void Queue::publish(sim::Node& node, const sim::Message& message) {
  const RpcRequest request = message.as<RpcRequest>();
  const sim::Time now = node.true_now();
  if (visible_.size() + in_flight_ >= static_cast<std::size_t>(config_.capacity)) {
    if (measured(now)) ++rejected_;
    node.send(message.from, RpcResponse{.call_id = request.call_id, .outcome = Outcome::Rejected});
    return;
  }
  std::uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<std::uint32_t>(messages_.size());
    messages_.emplace_back();
  }
  Stored& m = messages_[slot];
  m = {.id = request.request_id,
       .key = request.key,
       .sequence = next_sequence_++,
       .published = now,
       .visible_since = now,
       .state = State::Visible};
  visible_.push(m.sequence, slot);
  if (config_.ordered_by_key && groups_.append(m.key, slot)) ready_.push(m.sequence, slot);
  set_depth(now);
  if (measured(now)) ++published_;
  node.send(message.from, RpcResponse{.call_id = request.call_id, .outcome = Outcome::Ok});
  serve_waiting(node);
}

void Queue::receive(sim::Node& node, sim::NodeId from, const QueueReceive& request) {
  const std::uint32_t slot = next_deliverable();
  if (slot != kNone) {
    deliver(node, slot, from, request.call_id);
    return;
  }
  const sim::Duration wait = std::min(request.wait, config_.max_wait);
  if (wait <= sim::Duration::zero() ||
      waiting_.size() >= static_cast<std::size_t>(config_.max_waiting_receives)) {
    node.send(from, QueueDelivery{.call_id = request.call_id});  // empty, at once
    return;
  }
  const WaitingReceives::Id id = waiting_.push_back({.caller = from, .call_id = request.call_id});
  waiting_.set_timer(id, node.set_timer(wait, {kWaitOver, id}));
}

void Queue::wait_over(sim::Node& node, WaitingReceives::Id id) {
  const auto held = waiting_.remove(id);
  if (!held) return;  // served meanwhile (its timer was cancelled, but be safe)
  node.send(held->caller, QueueDelivery{.call_id = held->call_id});
}

std::uint32_t Queue::next_deliverable() const {
  const PublishOrderHeap& candidates = config_.ordered_by_key ? ready_ : visible_;
  return candidates.empty() ? kNone : candidates.top_slot();
}

void Queue::serve_waiting(sim::Node& node) {
  while (!waiting_.empty()) {
    const std::uint32_t slot = next_deliverable();
    if (slot == kNone) return;
    const auto held = waiting_.pop_front();
    node.cancel_timer(held->wait_over);
    deliver(node, slot, held->caller, held->call_id);
  }
}

void Queue::deliver(sim::Node& node, std::uint32_t slot, sim::NodeId to, std::uint64_t call_id) {
  Stored& m = messages_[slot];
  DSIM_ASSERT(m.state == State::Visible, "only a visible message is delivered");
  visible_.erase(slot);
  if (config_.ordered_by_key) {
    ready_.erase(slot);
    groups_.deliver_head(m.key, slot);
  }
  m.state = State::InFlight;
  ++m.receives;
  ++in_flight_;
  m.receipt = (++deliveries_ << kSlotBits) | slot;
  m.visibility = node.set_timer(config_.visibility_timeout, {kVisibilityOver, m.receipt});
  const sim::Time now = node.true_now();
  if (measured(now)) {
    ++delivered_;
    if (m.receives > 1) ++redelivered_;
    wait_sum_s_ += (now - m.visible_since).seconds();
  }
  set_depth(now);
  ledger_.delivered(m.id);
  node.send(to, QueueDelivery{.call_id = call_id,
                              .receipt = m.receipt,
                              .message = m.id,
                              .key = m.key,
                              .receives = m.receives,
                              .published = m.published});
}

std::uint32_t Queue::in_flight_slot(std::uint64_t receipt) const {
  const auto slot = static_cast<std::uint32_t>(receipt & ((std::uint64_t{1} << kSlotBits) - 1));
  if (slot >= messages_.size()) return kNone;
  const Stored& m = messages_[slot];
  return m.state == State::InFlight && m.receipt == receipt ? slot : kNone;
}

void Queue::ack(sim::Node& node, std::uint64_t receipt) {
  const std::uint32_t slot = in_flight_slot(receipt);
  const bool measure = measured(node.true_now());
  if (slot == kNone) {
    if (measure) ++stale_acks_;
    return;
  }
  if (measure) ++acked_;
  node.cancel_timer(messages_[slot].visibility);
  remove_in_flight(slot);
  serve_waiting(node);  // the next message of its key may be deliverable now
}

void Queue::nack(sim::Node& node, std::uint64_t receipt) {
  const std::uint32_t slot = in_flight_slot(receipt);
  const bool measure = measured(node.true_now());
  if (slot == kNone) {
    if (measure) ++stale_acks_;
    return;
  }
  if (measure) ++nacked_;
  node.cancel_timer(messages_[slot].visibility);
  come_back(node, slot);
  serve_waiting(node);
}

void Queue::visibility_over(sim::Node& node, std::uint64_t receipt) {
  const std::uint32_t slot = in_flight_slot(receipt);
  if (slot == kNone) return;  // acked or nacked at the very instant (timer already cancelled)
  if (measured(node.true_now())) ++expired_;
  come_back(node, slot);
  serve_waiting(node);
}

void Queue::come_back(sim::Node& node, std::uint32_t slot) {
  Stored& m = messages_[slot];
  DSIM_ASSERT(m.state == State::InFlight, "only an in-flight message comes back");
  const sim::Time now = node.true_now();
  if (config_.max_receives > 0 && m.receives >= config_.max_receives) {
    ++dead_letters_;
    if (measured(now)) ++dead_lettered_;
    ledger_.finish(m.id, now, Outcome::Error, recorder_);
    remove_in_flight(slot);
    return;
  }
  --in_flight_;
  m.state = State::Visible;
  m.visible_since = now;
  visible_.push(m.sequence, slot);  // its original place in publish order
  if (config_.ordered_by_key) {
    groups_.return_head(m.key, slot);
    ready_.push(m.sequence, slot);
  }
  set_depth(now);
}

void Queue::remove_in_flight(std::uint32_t slot) {
  Stored& m = messages_[slot];
  DSIM_ASSERT(m.state == State::InFlight, "only an in-flight message is deleted");
  if (config_.ordered_by_key) {
    const std::uint32_t next = groups_.remove_head(m.key, slot);
    if (next != MessageGroups::kNone) ready_.push(messages_[next].sequence, next);
  }
  m.state = State::Free;
  free_slots_.push_back(slot);
  --in_flight_;
}

void Queue::on_crash(sim::Node& node) {
  waiting_.clear();  // their timers die with the incarnation; the consumers poll again
  const sim::Time now = node.true_now();
  if (config_.durable) {
    // The store survives; the deliveries do not: each comes back as if its timeout had passed.
    for (std::uint32_t slot = 0; slot < messages_.size(); ++slot)
      if (messages_[slot].state == State::InFlight) come_back(node, slot);
    return;
  }
  for (const Stored& m : messages_) {
    if (m.state == State::Free) continue;
    if (measured(now)) ++lost_;
    ledger_.finish(m.id, now, Outcome::Error, recorder_);
  }
  messages_.clear();  // keeps its capacity: the store grows to its peak once
  free_slots_.clear();
  visible_.clear();
  ready_.clear();
  groups_.clear();
  in_flight_ = 0;
  dead_letters_ = 0;
  set_depth(now);
}

sim::Duration Queue::oldest_age(sim::Time now) const {
  if (visible_.empty()) return sim::Duration::zero();
  return now - messages_[visible_.top_slot()].published;
}

void Queue::set_depth(sim::Time now) {
  const double before = depth_.current();
  const auto depth = static_cast<double>(visible_.size());
  depth_.set(now, depth);
  // The value held since the last change counts too if it was still held after the warm-up.
  if (measured(now)) depth_max_ = std::max({depth_max_, before, depth});
}

void Queue::figures(Figures& out) const {
  out.sum("published", static_cast<double>(published_));
  out.sum("rejected", static_cast<double>(rejected_));
  out.sum("delivered", static_cast<double>(delivered_));
  out.sum("redelivered", static_cast<double>(redelivered_));
  out.sum("acked", static_cast<double>(acked_));
  out.sum("stale_acks", static_cast<double>(stale_acks_));
  out.sum("nacked", static_cast<double>(nacked_));
  out.sum("visibility_expired", static_cast<double>(expired_));
  out.sum("dead_lettered", static_cast<double>(dead_lettered_));
  out.sum("lost", static_cast<double>(lost_));
  out.sum("depth_mean", depth_.average());
  out.max("depth_max", std::max(depth_max_, static_cast<double>(visible_.size())));
  out.sum("visible_at_end", static_cast<double>(visible_.size()));
  out.sum("in_flight_at_end", static_cast<double>(in_flight_));
  out.max("oldest_age_at_end_s", oldest_age(measure_to_).seconds());
  out.mean("queue_wait_mean_ms",
           delivered_ == 0 ? 0.0 : wait_sum_s_ / static_cast<double>(delivered_) * 1e3);
}

void Queue::sample(sim::Time now, SeriesSample& out) const {
  out.set("visible", static_cast<double>(visible_.size()));
  out.set("in_flight", static_cast<double>(in_flight_));
  out.set("oldest_age_s", oldest_age(now).seconds());
  out.set("dead_letters", static_cast<double>(dead_letters_));
  out.set("lag", static_cast<double>(visible_.size() + in_flight_));
}

}  // namespace models
