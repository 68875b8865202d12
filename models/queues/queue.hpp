// A message queue (a broker): producers publish messages to it, consumers receive them one at a
// time, process them and acknowledge them; a message whose consumer goes quiet comes back after
// a visibility timeout, and one that keeps coming back is dead-lettered. Amazon SQS's standard
// queue, with FIFO queues' message groups as an option (per-key order) and a redrive policy
// (maxReceiveCount). The protocol is models/queues/queue_protocol.hpp.
//
// Semantics, in the order a message meets them:
// - Publish: an RpcRequest stores the message {id = request_id, key, published = now (true time),
//   receives = 0} at the back of the publish order and is answered RpcResponse{call_id, Ok};
//   when `capacity` messages are stored (visible + in flight) it is answered Rejected and not
//   stored (the producer retries or fails it: it is not the queue's). A request whose deadline
//   has passed is stored all the same (SQS knows no deadlines; the Ok reaches nobody, and a
//   producer's retry will store a duplicate).
// - Receive: QueueReceive{call_id, wait} is answered at once with the oldest visible message
//   (with ordered_by_key: the oldest one whose key has no message in flight): QueueDelivery with
//   a fresh receipt (never 0), its receives plus one and its publish time; the message becomes
//   in flight (invisible) for `visibility_timeout` on the queue's clock, and the delivery is an
//   attempt of its job (JobLedger::delivered). With nothing deliverable the receive is held for
//   min(wait, max_wait) (long polling); held receives are served longest-waiting first as soon as
//   a message becomes deliverable, and one whose wait runs out is answered with receipt 0. A
//   receive with no wait, or arriving when `max_waiting_receives` are held, is answered receipt 0
//   at once.
// - Ack: QueueAck{receipt} deletes the message if `receipt` is its latest delivery and it is
//   still in flight; any other ack (a receipt of an earlier delivery, an ack after the visibility
//   timeout, a deleted message) is ignored and counted (stale_acks). Finishing the message in
//   the ledger is the consumer's business, not the queue's.
// - Nack: QueueNack{receipt} (same test as an ack, stale ones counted in stale_acks too) makes the
//   message visible again at once (SQS's ChangeMessageVisibility to 0). The nacked delivery
//   counted in its receives.
// - Visibility expiry: a delivery neither acked nor nacked within visibility_timeout makes the
//   message visible again at its original place in publish order (the front if it is the
//   oldest); a late ack of that delivery is then stale.
// - Dead letters: a message that would become visible again (expiry, nack or restart) after
//   `max_receives` deliveries (0: no limit) is dead-lettered instead: it leaves the queue, is
//   counted in the dead-letter store (never delivered again), and its message finishes in the run's
//   JobLedger with Outcome::Error (its job fails).
// - Ordered by key (`ordered_by_key`, SQS FIFO message groups keyed by the message's key): the
//   messages of one key are delivered in publish order, at most one of a key in flight at a time;
//   a key with a message in flight blocks only its own later messages (they stay visible and
//   counted). Other keys go on; among deliverable messages the oldest goes first.
// - Stats: QueueStatsQuery{call_id} -> QueueStatsReply{call_id, visible, in_flight, oldest_age
//   (true-time age of the oldest visible message, 0 when none)}, at once.
// - Health probes are answered at once (models/shared/health.hpp).
// - A pause holds everything: timers fire late, messages wait.
// - A crash loses the held receives (their consumers time out or poll again). With `durable`
//   (the default: a replicated store) the stored messages survive: every in-flight message is
//   visible again from the crash on, receives kept (or dead-lettered, as above), and the
//   receipts of the old deliveries are stale. Without it every stored message and the
//   dead-letter store are lost: each lost message finishes in the ledger with Outcome::Error
//   (counted: lost).
// Measuring: figures count what happens after the warm-up (true time); the depth is the number
// of visible messages, its time-average over the measured interval is depth_mean, and
// queue_wait_mean_ms is the mean time a delivered message had been visible (since it was
// published or came back), so that depth_mean = publish rate x queue_wait_mean (Little's law)
// when nothing comes back.
// Memory: about 100 bytes per stored message (about 200 with ordered_by_key when every message
// has a key of its own), so `capacity` is at most 4,000,000 (about 0.8 GB); held receives
// about 80 bytes each, at most max_waiting_receives.
//
// Differences from Amazon SQS:
// - SQS is distributed and its order is best effort: a standard queue may deliver a message
//   twice while it is in flight, out of order, and a short-polling receive (wait 0) samples some
//   servers and may answer empty although messages wait. Here one broker node holds the whole
//   queue, receives are exact, the order is strictly oldest first and a message is delivered
//   again only after its visibility timeout, a nack or a restart (duplicates then come from
//   producers' retries and late acks, as they do with SQS too).
// - SQS deletes a message for the latest receipt handle even after its visibility timeout (if it
//   was not received again), and sometimes for an older one; here only the latest delivery's
//   receipt while in flight deletes, so an ack after the timeout is stale and the message is
//   processed again.
// - SQS moves a dead letter to a separate queue (the redrive target), consumable like any queue;
//   here the dead-letter store is a count: nothing can receive from it or redrive it.
// - SQS checks maxReceiveCount when a receive would deliver the message once more; here when it
//   comes back, which dead-letters it earlier (at the nack or expiry) but after as many receives.
// - SQS FIFO queues also deduplicate publishes (a 5-minute deduplication id), deliver a group's
//   messages in batches, and block a group for the whole batch; here there is no
//   deduplication, one message per receive, and FIFO semantics are an option of one queue type.
// - SQS answers a receive with up to 10 messages; here one (a consumer keeps several receives
//   outstanding instead). SQS caps a wait at 20 s (max_wait's default) and rejects longer ones;
//   here they are capped. Message size, delay queues, message timers, retention periods (SQS
//   deletes messages after 4 days by default) and per-message visibility changes other than a
//   nack are not modelled; `capacity` is a limit of the model (an SQS queue stores any
//   number of messages, but at most 120,000 in flight, 20,000 for FIFO queues).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/queues/job_ledger.hpp"
#include "models/queues/message_groups.hpp"
#include "models/queues/publish_order_heap.hpp"
#include "models/queues/queue_protocol.hpp"
#include "models/queues/waiting_receives.hpp"
#include "models/shared/model.hpp"
#include "models/shared/params.hpp"
#include "models/shared/rpc.hpp"

namespace models {

struct QueueConfig {
  static constexpr const char* kSummary =
      "A message queue (broker; Amazon SQS): a publish (rpc request) stores a message, Rejected "
      "when `capacity` messages are stored. A receive gets the oldest visible message at once, or "
      "waits up to min(its wait, `max_wait`) for one (long polling); the message is then "
      "invisible for `visibility_timeout` until acked (deleted) or nacked (visible again), and "
      "comes back at its place in publish order if the timeout passes first. After "
      "`max_receives` deliveries a returning message is dead-lettered (its job fails). "
      "`ordered_by_key`: one message of a key in flight at a time, in publish order (SQS FIFO "
      "message groups). A crash keeps the messages if `durable`, else loses them (jobs fail).";
  static constexpr std::int64_t kMaxCapacity = 4'000'000;

  std::int64_t capacity = 1'000'000;
  sim::Duration visibility_timeout = sim::Duration::nanoseconds(30'000'000'000);
  std::int64_t max_receives = 0;
  sim::Duration max_wait = sim::Duration::nanoseconds(20'000'000'000);
  std::int64_t max_waiting_receives = 10'000;
  bool ordered_by_key = false;
  bool durable = true;

  template <class V>
  void describe(V& v) {
    v.field("capacity", capacity,
            "messages the queue stores at most (visible + in flight); a publish beyond is "
            "Rejected. About 100 bytes each",
            Limits{1, static_cast<double>(kMaxCapacity)});
    v.field("visibility_timeout", visibility_timeout,
            "how long a delivered message stays invisible unless acked or nacked, on the queue's "
            "clock (SQS: up to 12 hours, default 30 s)",
            Limits{1, 43'200e9});
    v.field("max_receives", max_receives,
            "deliveries after which a message that comes back is dead-lettered (SQS's "
            "maxReceiveCount); 0: never",
            Limits{0, 1e6});
    v.field("max_wait", max_wait,
            "the longest a receive is held waiting for a message; longer waits are cut to it "
            "(SQS: 20 s)",
            Limits{0, 3'600e9});
    v.field("max_waiting_receives", max_waiting_receives,
            "receives held at most; beyond, a receive is answered empty at once", Limits{0, 1e6});
    v.field("ordered_by_key", ordered_by_key,
            "deliver the messages of each key in publish order, one at a time (SQS FIFO message "
            "groups); false: any visible message, oldest first");
    v.field("durable", durable,
            "stored messages survive a crash (in-flight ones become visible); false: a crash "
            "loses them all and their jobs fail");
  }
};

class Queue final : public Model {
 public:
  using Config = QueueConfig;
  enum TimerKind : std::uint32_t { kVisibilityOver = 1, kWaitOver = 2 };

  static Wiring wiring(const Config&) {
    return {.serves = {Protocol::Rpc, Protocol::Queue, Protocol::Health}};
  }
  static FigureDocs figure_docs();
  static SeriesDocs series_docs();
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);

  /// Figures count over [measure_from, measure_to]; dead letters and lost messages finish in
  /// `ledger`, whose jobs are recorded in `recorder`.
  Queue(const Config& config, JobLedger& ledger, RequestRecorder& recorder, sim::Time measure_from,
        sim::Time measure_to);

  void on_start(sim::Node& node) override;
  void on_message(sim::Node& node, const sim::Message& message) override;
  void on_timer(sim::Node& node, sim::TimerTag tag) override;
  void on_crash(sim::Node& node) override;
  void figures(Figures& out) const override;
  void sample(sim::Time now, SeriesSample& out) const override;

  std::size_t visible() const { return visible_.size(); }
  std::size_t in_flight() const { return in_flight_; }
  std::size_t waiting_receives() const { return waiting_.size(); }
  std::uint64_t dead_letters() const { return dead_letters_; }
  /// True-time age of the oldest visible message at `now` (0 when none).
  sim::Duration oldest_age(sim::Time now) const;

 private:
  enum class State : std::uint8_t { Free, Visible, InFlight };
  struct Stored {
    std::uint64_t id = 0;  // the ledger's message id (RpcRequest.request_id)
    std::uint64_t key = 0;
    std::uint64_t sequence = 0;  // publish order
    std::uint64_t receipt = 0;   // the latest delivery's
    sim::Time published;         // true time
    sim::Time visible_since;     // true time it was published or came back
    sim::TimerId visibility;     // the latest delivery's timeout
    std::uint32_t receives = 0;
    State state = State::Free;
  };
  static_assert(sizeof(Stored) <= 80, "the header states about 100 bytes per stored message");

  void publish(sim::Node& node, const sim::Message& message);
  void receive(sim::Node& node, sim::NodeId from, const QueueReceive& request);
  void ack(sim::Node& node, std::uint64_t receipt);
  void nack(sim::Node& node, std::uint64_t receipt);
  void visibility_over(sim::Node& node, std::uint64_t receipt);
  void wait_over(sim::Node& node, WaitingReceives::Id id);

  /// The slot of the message delivered by `receipt` if that delivery is in flight, else kNone.
  std::uint32_t in_flight_slot(std::uint64_t receipt) const;
  /// The message a receive would get now, or kNone.
  std::uint32_t next_deliverable() const;
  void deliver(sim::Node& node, std::uint32_t slot, sim::NodeId to, std::uint64_t call_id);
  /// Serves held receives while there is something to deliver.
  void serve_waiting(sim::Node& node);
  void make_visible(sim::Node& node, std::uint32_t slot);
  /// An in-flight message comes back: visible again, or dead-lettered after max_receives.
  void come_back(sim::Node& node, std::uint32_t slot);
  /// Deletes an in-flight message (acked or dead-lettered).
  void remove_in_flight(std::uint32_t slot);
  void set_depth(sim::Time now);
  bool measured(sim::Time now) const { return now >= measure_from_ && now <= measure_to_; }

  static constexpr std::uint32_t kNone = PublishOrderHeap::kAbsent;
  static constexpr int kSlotBits = 24;  // receipt = delivery serial << kSlotBits | slot

  Config config_;
  JobLedger& ledger_;
  RequestRecorder& recorder_;
  sim::Time measure_from_, measure_to_;

  std::vector<Stored> messages_;           // by slot
  std::vector<std::uint32_t> free_slots_;  // of messages_
  PublishOrderHeap visible_;               // every visible message
  PublishOrderHeap ready_;                 // ordered_by_key: the deliverable heads of groups
  MessageGroups groups_;                   // ordered_by_key
  WaitingReceives waiting_;
  std::size_t in_flight_ = 0;
  std::uint64_t next_sequence_ = 1, deliveries_ = 0;  // deliveries_: the serial in receipts
  std::uint64_t dead_letters_ = 0;

  TimeAverage depth_;
  double depth_max_ = 0;
  std::uint64_t published_ = 0, rejected_ = 0, delivered_ = 0, redelivered_ = 0, acked_ = 0,
                stale_acks_ = 0, nacked_ = 0, expired_ = 0, dead_lettered_ = 0, lost_ = 0;
  double wait_sum_s_ = 0;
};

}  // namespace models
