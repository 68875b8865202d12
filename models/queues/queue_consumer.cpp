#include "models/queues/queue_consumer.hpp"

#include <algorithm>

#include "sim/assert.hpp"

namespace models {

QueueConsumer::QueueConsumer(const QueueConsumerConfig& config, std::vector<sim::NodeId> queue,
                             std::size_t first, std::uint32_t timer_kind,
                             ConsumerListener& listener, sim::Time measure_from)
    : config_(config),
      queue_(std::move(queue)),
      next_queue_(first),
      timer_kind_(timer_kind),
      listener_(listener),
      measure_from_(measure_from) {
  DSIM_ASSERT(!queue_.empty(), "a consumer needs a queue");
}

void QueueConsumer::set_slots(sim::Node& node, std::size_t slots) {
  slots_ = slots;
  fill(node);
}

void QueueConsumer::fill(sim::Node& node) {
  if (poll_later_) return;  // the delayed receive will fill
  while (in_hand_ + polls_.size() < slots_) send_receive(node);
}

void QueueConsumer::send_receive(sim::Node& node) {
  const sim::Time now = node.now();
  const auto id = polls_.insert({now, {}});
  Poll& poll = *polls_.find(id);
  poll.timeout =
      node.set_timer(config_.wait + config_.receive_grace, {timer_kind_ + kReceiveTimeout, id});
  const sim::NodeId to = queue_[next_queue_++ % queue_.size()];
  node.send(to, QueueReceive{.call_id = id, .wait = config_.wait});
  if (node.true_now() >= measure_from_) ++receives_;
}

bool QueueConsumer::on_message(sim::Node& node, const sim::Message& message) {
  if (!message.holds<QueueDelivery>()) return false;
  const QueueDelivery d = message.as<QueueDelivery>();
  const bool measured = node.true_now() >= measure_from_;
  Poll* poll = polls_.find(d.call_id);
  if (poll == nullptr) {  // given up on: no slot for it any more
    if (d.receipt != 0) {
      node.send(message.from, QueueNack{d.receipt});
      late_ += measured;
    }
    return true;
  }
  const sim::Time sent = poll->sent;
  node.cancel_timer(poll->timeout);
  polls_.erase(d.call_id);
  if (d.receipt == 0) {
    empty_ += measured;
    const sim::Duration since = node.now() - sent;
    if (since >= config_.min_poll_interval) {
      fill(node);
    } else if (!poll_later_) {
      poll_later_ = true;
      node.set_timer(config_.min_poll_interval - since, {timer_kind_ + kPollLater, 0});
    }
    return true;
  }
  ++in_hand_;
  received_ += measured;
  listener_.on_delivery(node, {message.from, d});
  return true;
}

void QueueConsumer::done(sim::Node& node, const Delivery& delivery, Finish finish) {
  DSIM_ASSERT(in_hand_ > 0, "done with a message the consumer does not hold");
  --in_hand_;
  const bool measured = node.true_now() >= measure_from_;
  switch (finish) {
    case Finish::Ack:
      node.send(delivery.from, QueueAck{delivery.message.receipt});
      acked_ += measured;
      break;
    case Finish::Nack:
      node.send(delivery.from, QueueNack{delivery.message.receipt});
      nacked_ += measured;
      break;
    case Finish::Abandon:
      abandoned_ += measured;
      break;
  }
  fill(node);
}

bool QueueConsumer::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (tag.kind == timer_kind_ + kReceiveTimeout) {
    if (!polls_.erase(tag.value)) return true;  // answered meanwhile
    receive_timeouts_ += node.true_now() >= measure_from_;
    fill(node);
    return true;
  }
  if (tag.kind == timer_kind_ + kPollLater) {
    poll_later_ = false;
    fill(node);
    return true;
  }
  return false;
}

void QueueConsumer::on_crash() {
  polls_.clear();
  in_hand_ = 0;
  poll_later_ = false;
}

FigureDocs QueueConsumer::figure_docs() {
  return {
      {"receives", "receives", Combine::Sum, "receives sent to the queue"},
      {"empty_receives", "receives", Combine::Sum, "receives answered with no message"},
      {"received", "messages", Combine::Sum, "messages delivered to the consumer"},
      {"acked", "messages", Combine::Sum, "messages acknowledged (deleted at the queue)"},
      {"nacked", "messages", Combine::Sum, "messages returned to the queue (visible at once)"},
      {"abandoned", "messages", Combine::Sum,
       "messages left to their visibility timeout (neither acknowledged nor returned)"},
      {"receive_timeouts", "receives", Combine::Sum,
       "receives unanswered after wait + receive_grace, sent again"},
      {"late_deliveries", "messages", Combine::Sum,
       "deliveries for a receive already given up, returned at once"},
  };
}

void QueueConsumer::figures(Figures& out) const {
  out.sum("receives", static_cast<double>(receives_));
  out.sum("empty_receives", static_cast<double>(empty_));
  out.sum("received", static_cast<double>(received_));
  out.sum("acked", static_cast<double>(acked_));
  out.sum("nacked", static_cast<double>(nacked_));
  out.sum("abandoned", static_cast<double>(abandoned_));
  out.sum("receive_timeouts", static_cast<double>(receive_timeouts_));
  out.sum("late_deliveries", static_cast<double>(late_));
}

}  // namespace models
