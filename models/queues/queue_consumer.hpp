// The part of every model that takes messages from a queue (models/queues/queue.hpp): a worker,
// a pipeline stage. It keeps one long-polling receive outstanding per free slot, hands each
// delivery to its owner, and acknowledges or returns the message when the owner is done: SQS's
// consumer loop (ReceiveMessage with WaitTimeSeconds, then DeleteMessage or
// ChangeMessageVisibility to 0), one message per receive.
//
// Semantics:
// - `slots` is how many messages the consumer handles at once. While it has fewer messages in
//   hand plus receives outstanding than slots, it sends a QueueReceive{wait} to a node of the
//   queue (round robin from its replica index, when the queue has several nodes).
// - A receive not answered within wait + `receive_grace` (on the consumer's clock) is given up
//   (lost by the network, or the queue crashed) and a new one is sent. A delivery for a receive
//   given up is returned at once (QueueNack: counted late_deliveries): the consumer no longer
//   has a slot for it.
// - An empty answer (the wait ran out) is followed by a new receive after what is left of
//   `min_poll_interval` since the empty receive was sent: at once after a long poll, later when
//   the queue answered empty at once (no busy loop at one instant).
// - The owner is told of each delivery (ConsumerListener) and calls done(): Ack deletes the
//   message at the queue that delivered it, Nack makes it visible again at once, Abandon sends
//   nothing (the message reappears when its visibility timeout at the queue runs out, as when a
//   consumer crashes): at-least-once delivery.
// - set_slots(n) changes the slots: more start receiving at once; fewer are drained (messages
//   in hand are finished, no new receive is sent until below n).
// - A crash forgets everything (messages in hand reappear at the queue later).
//
// Timers: kTimerKinds consecutive kinds from the owner's base: base (a receive's time-out),
// base + 1 (the delayed next receive).
#pragma once

#include <cstdint>
#include <vector>

#include "models/queues/queue_protocol.hpp"
#include "models/shared/figures.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/slot_table.hpp"
#include "sim/node.hpp"

namespace models {

struct QueueConsumerConfig {
  ComponentRef queue;
  sim::Duration wait = sim::Duration::nanoseconds(20'000'000'000);
  sim::Duration receive_grace = sim::Duration::nanoseconds(1'000'000'000);
  sim::Duration min_poll_interval = sim::Duration::nanoseconds(100'000'000);

  template <class V>
  void describe(V& v) {
    v.field("queue", queue, "the queue it consumes (required)");
    v.field("wait", wait, "long polling: how long a receive may wait at the queue for a message",
            Limits{0});
    v.field("receive_grace", receive_grace,
            "a receive unanswered after wait + this is given up and sent again", Limits{1});
    v.field("min_poll_interval", min_poll_interval,
            "after an empty answer, the next receive goes at least this long after the last",
            Limits{1});
  }
};

/// One message in the consumer's hands.
struct Delivery {
  sim::NodeId from = sim::kNoNode;  // the queue node that delivered it (acks go there)
  QueueDelivery message;
};

/// Implemented by the model that owns a QueueConsumer.
class ConsumerListener {
 public:
  virtual void on_delivery(sim::Node& node, const Delivery& delivery) = 0;

 protected:
  ~ConsumerListener() = default;
};

class QueueConsumer {
 public:
  static constexpr std::uint32_t kTimerKinds = 2;

  /// `queue`: the queue's nodes (not empty); `first`: the replica index (where round robin
  /// starts); `timer_kind`: the first of kTimerKinds kinds.
  QueueConsumer(const QueueConsumerConfig& config, std::vector<sim::NodeId> queue,
                std::size_t first, std::uint32_t timer_kind, ConsumerListener& listener,
                sim::Time measure_from);

  /// How many messages it handles at once; receives start or drain accordingly.
  void set_slots(sim::Node& node, std::size_t slots);
  enum class Finish : std::uint8_t { Ack, Nack, Abandon };
  /// The owner is done with `delivery`; its slot is free again.
  void done(sim::Node& node, const Delivery& delivery, Finish finish);

  bool on_message(sim::Node& node, const sim::Message& message);
  bool on_timer(sim::Node& node, sim::TimerTag tag);
  void on_crash();

  std::size_t slots() const { return slots_; }
  std::size_t in_hand() const { return in_hand_; }
  std::size_t receiving() const { return polls_.size(); }

  void figures(Figures& out) const;
  static FigureDocs figure_docs();

 private:
  struct Poll {
    sim::Time sent;  // on the node's clock
    sim::TimerId timeout;
  };
  enum : std::uint32_t { kReceiveTimeout = 0, kPollLater = 1 };

  /// Sends receives while slots are free (none while a delayed receive is pending).
  void fill(sim::Node& node);
  void send_receive(sim::Node& node);

  QueueConsumerConfig config_;
  std::vector<sim::NodeId> queue_;
  std::size_t next_queue_;
  std::uint32_t timer_kind_;
  ConsumerListener& listener_;
  sim::Time measure_from_;
  std::size_t slots_ = 0, in_hand_ = 0;
  SlotTable<Poll> polls_;    // outstanding receives, by call id
  bool poll_later_ = false;  // a delayed receive is pending
  std::uint64_t receives_ = 0, empty_ = 0, received_ = 0, late_ = 0, acked_ = 0, nacked_ = 0,
                abandoned_ = 0, receive_timeouts_ = 0;
};

}  // namespace models
