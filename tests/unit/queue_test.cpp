// Queue (broker) mechanics: publish, receive, ack, long polling, visibility expiry, stale acks,
// nacks, dead letters, capacity, per-key order, crashes, stats, gauges and figures. A scripted
// peer publishes and consumes over the harness's zero-latency network, so times are exact.
#include <catch2/catch.hpp>

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "models/queues/job_ledger.hpp"
#include "models/queues/queue.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"

using namespace sim;
using models::JobLedger;
using models::Outcome;
using models::Queue;
using models::QueueConfig;
using models::QueueDelivery;

namespace {

// A scripted producer and consumer: records what the queue sends back, with arrival times.
class Peer : public Process {
 public:
  struct Delivery {
    QueueDelivery d;
    Time at;
  };
  struct Answer {
    models::RpcResponse r;
    Time at;
  };
  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    if (message.holds<QueueDelivery>()) {
      deliveries.push_back({message.as<QueueDelivery>(), node.true_now()});
    } else if (message.holds<models::QueueStatsReply>()) {
      stats.push_back(message.as<models::QueueStatsReply>());
    } else {
      answers.push_back({message.as<models::RpcResponse>(), node.true_now()});
    }
  }
  std::vector<Delivery> deliveries;  // empty answers included (receipt 0)
  std::vector<Answer> answers;       // to publishes
  std::vector<models::QueueStatsReply> stats;
};

struct Bench {
  explicit Bench(const QueueConfig& config, Time warmup_end = Time::zero(),
                 Time end = at_ms(100'000))
      : h(5, warmup_end, end) {
    queue = h.build<Queue>("queue", 1, config)[0];
    auto p = std::make_unique<Peer>();
    peer = p.get();
    peer_id = h.add_process("peer", std::move(p));
    queue_id = h.nodes("queue")[0];
  }

  template <class Payload>
  void send_at(Time at, Payload payload) {
    h.sim.schedule_at(at, [this, payload] {
      Node& node = h.cluster.node(peer_id);
      if (node.is_up()) node.send(queue_id, payload);
    });
  }
  // Publishes message `id` (its ledger id, and the publish's call id) with `key`.
  void publish(Time at, std::uint64_t id, std::uint64_t key = 0) {
    requests.push_back({.call_id = id, .key = key, .request_id = id});
    const models::RpcRequest* request = &requests.back();
    h.sim.schedule_at(at, [this, request] { h.cluster.node(peer_id).send(queue_id, *request); });
  }
  void receive(Time at, std::uint64_t call_id, Duration wait = Duration::zero()) {
    send_at(at, models::QueueReceive{.call_id = call_id, .wait = wait});
  }
  // Acks (or nacks) the receipt of the peer's delivery number `index` (known only by then).
  void ack(Time at, std::size_t index, bool nack = false) {
    h.sim.schedule_at(at, [this, index, nack] {
      REQUIRE(index < peer->deliveries.size());
      const std::uint64_t receipt = peer->deliveries[index].d.receipt;
      if (nack)
        h.cluster.node(peer_id).send(queue_id, models::QueueNack{receipt});
      else
        h.cluster.node(peer_id).send(queue_id, models::QueueAck{receipt});
    });
  }
  void nack(Time at, std::size_t index) { ack(at, index, true); }
  // Runs up to `t` (starting the cluster the first time).
  void run_until(Time t) {
    if (!started) h.cluster.start();
    started = true;
    h.sim.run_until(t);
  }
  double figure(const char* name) const { return dsimtest::figure(*queue, name); }
  const QueueDelivery& delivery(std::size_t i) const { return peer->deliveries.at(i).d; }
  Time delivered_at(std::size_t i) const { return peer->deliveries.at(i).at; }

  dsimtest::ModelHarness h;
  Queue* queue = nullptr;
  Peer* peer = nullptr;
  NodeId peer_id = kNoNode, queue_id = kNoNode;
  std::deque<models::RpcRequest> requests;
  bool started = false;
};

QueueConfig with_visibility(Duration timeout) {
  QueueConfig c;
  c.visibility_timeout = timeout;
  return c;
}

}  // namespace

TEST_CASE("queue: publish, receive and ack", "[queue]") {
  Bench b({});
  b.publish(at_ms(10), 1, 42);
  b.receive(at_ms(20), 7);
  b.ack(at_ms(30), 0);
  b.run_until(at_ms(100'000));  // long past the 30 s visibility timeout: never redelivered
  REQUIRE(b.peer->answers.size() == 1);
  CHECK(b.peer->answers[0].r.call_id == 1);
  CHECK(b.peer->answers[0].r.outcome == Outcome::Ok);
  CHECK(b.peer->answers[0].at == at_ms(10));
  REQUIRE(b.peer->deliveries.size() == 1);
  const QueueDelivery& d = b.delivery(0);
  CHECK(b.delivered_at(0) == at_ms(20));
  CHECK(d.call_id == 7);
  CHECK(d.receipt != 0);
  CHECK(d.message == 1);
  CHECK(d.key == 42);
  CHECK(d.receives == 1);
  CHECK(d.published == at_ms(10));
  CHECK(b.queue->visible() == 0);
  CHECK(b.queue->in_flight() == 0);
  CHECK(b.figure("published") == 1);
  CHECK(b.figure("delivered") == 1);
  CHECK(b.figure("acked") == 1);
  CHECK(b.figure("redelivered") == 0);
  CHECK(b.figure("visibility_expired") == 0);
  CHECK(b.figure("queue_wait_mean_ms") == Approx(10));
}

TEST_CASE("queue: messages are delivered oldest first", "[queue]") {
  Bench b({});
  for (std::uint64_t id = 1; id <= 3; ++id) b.publish(at_ms(id), id);
  for (std::uint64_t call = 1; call <= 3; ++call) b.receive(at_ms(10), call);
  b.run_until(at_ms(20));
  REQUIRE(b.peer->deliveries.size() == 3);
  for (std::size_t i = 0; i < 3; ++i) CHECK(b.delivery(i).message == i + 1);
}

TEST_CASE("queue: a receive on an empty queue waits and a publish wakes it", "[queue]") {
  Bench b({});
  b.receive(at_ms(10), 1, 5'000_ms);
  b.receive(at_ms(20), 2, 5'000_ms);
  b.publish(at_ms(1'000), 9);
  b.run_until(at_ms(2'000));
  REQUIRE(b.peer->deliveries.size() == 1);
  CHECK(b.delivery(0).call_id == 1);  // the longest-waiting receive first
  CHECK(b.delivery(0).message == 9);
  CHECK(b.delivered_at(0) == at_ms(1'000));
  CHECK(b.queue->waiting_receives() == 1);
  b.run_until(at_ms(10'000));
  REQUIRE(b.peer->deliveries.size() == 2);  // the other one's wait ran out at 5.02 s
  CHECK(b.delivery(1).call_id == 2);
  CHECK(b.delivery(1).receipt == 0);
  CHECK(b.delivered_at(1) == at_ms(5'020));
  CHECK(b.figure("queue_wait_mean_ms") == 0);  // delivered the instant it was published
}

TEST_CASE("queue: a wait that runs out answers empty, capped by max_wait", "[queue]") {
  QueueConfig c;
  c.max_wait = 1'000_ms;
  c.max_waiting_receives = 2;
  Bench b(c);
  b.receive(at_ms(10), 1, 500_ms);
  b.receive(at_ms(10), 2, 60'000_ms);  // cut to max_wait
  b.receive(at_ms(10), 3, 500_ms);     // two are held already: empty at once
  b.receive(at_ms(20), 4);             // no wait: empty at once
  b.run_until(at_ms(5'000));
  REQUIRE(b.peer->deliveries.size() == 4);
  for (const auto& got : b.peer->deliveries) CHECK(got.d.receipt == 0);
  CHECK(b.delivery(0).call_id == 3);
  CHECK(b.delivered_at(0) == at_ms(10));
  CHECK(b.delivery(1).call_id == 4);
  CHECK(b.delivered_at(1) == at_ms(20));
  CHECK(b.delivery(2).call_id == 1);
  CHECK(b.delivered_at(2) == at_ms(510));
  CHECK(b.delivery(3).call_id == 2);
  CHECK(b.delivered_at(3) == at_ms(1'010));
  CHECK(b.queue->waiting_receives() == 0);
}

TEST_CASE("queue: visibility expiry redelivers with a new receipt, a stale ack is ignored",
          "[queue]") {
  Bench b(with_visibility(1'000_ms));
  b.publish(at_ms(0), 1);
  b.receive(at_ms(10), 1);
  b.receive(at_ms(20), 2, 5'000_ms);  // held: nothing visible until the timeout
  b.ack(at_ms(1'100), 0);             // the first delivery's receipt: stale
  b.run_until(at_ms(1'500));
  REQUIRE(b.peer->deliveries.size() == 2);
  CHECK(b.delivered_at(1) == at_ms(1'010));
  CHECK(b.delivery(1).call_id == 2);
  CHECK(b.delivery(1).message == 1);
  CHECK(b.delivery(1).receives == 2);
  CHECK(b.delivery(1).receipt != 0);
  CHECK(b.delivery(1).receipt != b.delivery(0).receipt);
  CHECK(b.delivery(1).published == at_ms(0));
  CHECK(b.figure("stale_acks") == 1);
  CHECK(b.figure("acked") == 0);
  CHECK(b.queue->in_flight() == 1);  // the stale ack left it in flight
  CHECK(b.figure("visibility_expired") == 1);
  CHECK(b.figure("redelivered") == 1);
  // Its wait after coming back counts from 1.01 s: (10 + 0) / 2 ms.
  CHECK(b.figure("queue_wait_mean_ms") == Approx(5));
  b.ack(at_ms(1'600), 1);
  b.run_until(at_ms(10'000));
  CHECK(b.queue->in_flight() == 0);
  CHECK(b.queue->visible() == 0);
  CHECK(b.figure("acked") == 1);
  CHECK(b.peer->deliveries.size() == 2);
}

TEST_CASE("queue: a made-up or repeated receipt is a stale ack", "[queue]") {
  Bench b({});
  b.publish(at_ms(0), 1);
  b.receive(at_ms(10), 1);
  b.send_at(at_ms(20), models::QueueAck{0});
  b.send_at(at_ms(20), models::QueueAck{12345});
  b.ack(at_ms(30), 0);
  b.ack(at_ms(40), 0);  // again: deleted already
  b.run_until(at_ms(100));
  CHECK(b.figure("stale_acks") == 3);
  CHECK(b.figure("acked") == 1);
  CHECK(b.queue->in_flight() == 0);
}

TEST_CASE("queue: a nack makes the message visible again at once", "[queue]") {
  Bench b({});
  b.publish(at_ms(0), 1);
  b.publish(at_ms(1), 2);
  b.receive(at_ms(10), 1);
  b.nack(at_ms(50), 0);
  b.receive(at_ms(60), 2);
  b.run_until(at_ms(100));
  REQUIRE(b.peer->deliveries.size() == 2);
  CHECK(b.delivery(1).message == 1);  // back at its place: before message 2
  CHECK(b.delivery(1).receives == 2);
  CHECK(b.delivered_at(1) == at_ms(60));
  CHECK(b.figure("nacked") == 1);
  CHECK(b.figure("redelivered") == 1);
}

TEST_CASE("queue: max_receives dead-letters and the job fails", "[queue]") {
  QueueConfig c = with_visibility(1'000_ms);
  c.max_receives = 2;
  Bench b(c);
  JobLedger& ledger = b.h.invariants.ghost<JobLedger>(JobLedger::kGhostKey);
  const std::uint64_t id = ledger.open_job(Time::zero(), 0);
  b.publish(at_ms(0), id);
  b.receive(at_ms(10), 1);     // first delivery: expires at 1.01 s
  b.receive(at_ms(1'020), 2);  // second delivery
  b.nack(at_ms(1'030), 1);     // at max_receives: dead-lettered, not visible again
  b.receive(at_ms(1'040), 3);  // nothing left
  b.run_until(at_ms(10'000));
  REQUIRE(b.peer->deliveries.size() == 3);
  CHECK(b.delivery(1).receives == 2);
  CHECK(b.delivery(2).receipt == 0);
  CHECK(b.queue->dead_letters() == 1);
  CHECK(b.queue->visible() == 0);
  CHECK(b.queue->in_flight() == 0);
  CHECK(b.figure("dead_lettered") == 1);
  CHECK(b.figure("visibility_expired") == 1);
  CHECK(b.figure("nacked") == 1);
  CHECK(ledger.finished(id));
  const auto& totals = b.h.recorder.totals();
  CHECK(totals.requests == 1);
  CHECK(totals.by_outcome[static_cast<std::size_t>(Outcome::Error)] == 1);
  CHECK(totals.attempts == 2);  // both deliveries
}

TEST_CASE("queue: visibility expiry at max_receives dead-letters too", "[queue]") {
  QueueConfig c = with_visibility(1'000_ms);
  c.max_receives = 1;
  Bench b(c);
  b.publish(at_ms(0), 1);
  b.receive(at_ms(10), 1);
  b.receive(at_ms(20), 2, 5'000_ms);  // never gets it
  b.run_until(at_ms(10'000));
  REQUIRE(b.peer->deliveries.size() == 2);
  CHECK(b.delivery(1).receipt == 0);
  CHECK(b.delivered_at(1) == at_ms(5'020));
  CHECK(b.queue->dead_letters() == 1);
  CHECK(b.figure("visibility_expired") == 1);
}

TEST_CASE("queue: a full queue rejects publishes, in-flight messages count", "[queue]") {
  QueueConfig c;
  c.capacity = 2;
  Bench b(c);
  b.publish(at_ms(0), 1);
  b.publish(at_ms(1), 2);
  b.receive(at_ms(2), 1);  // message 1 in flight: still stored
  b.publish(at_ms(3), 3);  // rejected
  b.ack(at_ms(4), 0);
  b.publish(at_ms(5), 4);  // room again
  b.run_until(at_ms(100));
  REQUIRE(b.peer->answers.size() == 4);
  CHECK(b.peer->answers[0].r.outcome == Outcome::Ok);
  CHECK(b.peer->answers[1].r.outcome == Outcome::Ok);
  CHECK(b.peer->answers[2].r.outcome == Outcome::Rejected);
  CHECK(b.peer->answers[2].r.call_id == 3);
  CHECK(b.peer->answers[2].at == at_ms(3));
  CHECK(b.peer->answers[3].r.outcome == Outcome::Ok);
  CHECK(b.figure("rejected") == 1);
  CHECK(b.figure("published") == 3);
  CHECK(b.queue->visible() == 2);
}

TEST_CASE("queue: ordered_by_key keeps each key's order and blocks only the key in flight",
          "[queue]") {
  QueueConfig c = with_visibility(1'000_ms);
  c.ordered_by_key = true;
  Bench b(c);
  b.publish(at_ms(0), 1, /*key=*/7);
  b.publish(at_ms(1), 2, 7);
  b.publish(at_ms(2), 3, 8);
  b.publish(at_ms(3), 4, 7);
  b.receive(at_ms(10), 1);            // 1 (key 7)
  b.receive(at_ms(11), 2);            // 3: key 7 is blocked by 1, key 8 is not
  b.receive(at_ms(12), 3, 5'000_ms);  // held: 2 and 4 wait behind 1
  b.run_until(at_ms(15));
  REQUIRE(b.peer->deliveries.size() == 2);
  CHECK(b.delivery(0).message == 1);
  CHECK(b.delivery(1).message == 3);
  CHECK(b.queue->visible() == 2);  // blocked messages are visible, not deliverable
  CHECK(b.queue->waiting_receives() == 1);
  b.ack(at_ms(20), 0);  // key 7 unblocked: the held receive gets 2
  b.run_until(at_ms(25));
  REQUIRE(b.peer->deliveries.size() == 3);
  CHECK(b.delivery(2).message == 2);
  CHECK(b.delivered_at(2) == at_ms(20));
  // 2 times out at 1.02 s and comes back ahead of 4; 3 times out too (1.011 s).
  b.receive(at_ms(1'100), 4);
  b.receive(at_ms(1'100), 5);
  b.receive(at_ms(1'100), 6);
  b.run_until(at_ms(1'200));
  REQUIRE(b.peer->deliveries.size() == 6);
  CHECK(b.delivery(3).message == 2);
  CHECK(b.delivery(3).receives == 2);
  CHECK(b.delivery(4).message == 3);
  CHECK(b.delivery(5).receipt == 0);  // 4 is blocked behind 2
  b.ack(at_ms(1'300), 3);
  b.receive(at_ms(1'300), 7);
  b.run_until(at_ms(1'400));
  REQUIRE(b.peer->deliveries.size() == 7);
  CHECK(b.delivery(6).message == 4);
}

TEST_CASE("queue: without ordered_by_key a key does not block", "[queue]") {
  Bench b({});
  b.publish(at_ms(0), 1, 7);
  b.publish(at_ms(1), 2, 7);
  b.receive(at_ms(10), 1);
  b.receive(at_ms(11), 2);
  b.run_until(at_ms(20));
  REQUIRE(b.peer->deliveries.size() == 2);
  CHECK(b.delivery(1).message == 2);
}

TEST_CASE("queue: a durable queue keeps its messages across a crash", "[queue]") {
  Bench b({});
  b.publish(at_ms(0), 1);
  b.publish(at_ms(1), 2);
  b.receive(at_ms(10), 1);             // 1 in flight
  b.receive(at_ms(20), 2);             // 2 in flight
  b.receive(at_ms(30), 3, 60'000_ms);  // held: lost in the crash
  b.h.faults.crash(at_ms(100), b.queue_id, 100_ms);
  b.run_until(at_ms(250));
  CHECK(b.queue->visible() == 2);
  CHECK(b.queue->in_flight() == 0);
  CHECK(b.queue->waiting_receives() == 0);
  b.ack(at_ms(300), 0);  // a receipt from before the crash: stale
  b.receive(at_ms(310), 4);
  b.run_until(at_ms(100'000));
  REQUIRE(b.peer->deliveries.size() == 3);  // the held receive was never answered
  CHECK(b.delivery(2).call_id == 4);
  CHECK(b.delivery(2).message == 1);
  CHECK(b.delivery(2).receives == 2);
  CHECK(b.figure("stale_acks") == 1);
  CHECK(b.figure("lost") == 0);
}

TEST_CASE("queue: a volatile queue loses its messages in a crash and their jobs fail", "[queue]") {
  QueueConfig c;
  c.durable = false;
  Bench b(c);
  JobLedger& ledger = b.h.invariants.ghost<JobLedger>(JobLedger::kGhostKey);
  const std::uint64_t first = ledger.open_job(Time::zero(), 0);
  const std::uint64_t second = ledger.open_job(Time::zero(), 0);
  b.publish(at_ms(0), first);
  b.publish(at_ms(1), second);
  b.receive(at_ms(10), 1);
  b.h.faults.crash(at_ms(100), b.queue_id, 100_ms);
  b.receive(at_ms(300), 2);
  b.run_until(at_ms(1'000));
  REQUIRE(b.peer->deliveries.size() == 2);
  CHECK(b.delivery(1).receipt == 0);
  CHECK(b.queue->visible() == 0);
  CHECK(b.queue->in_flight() == 0);
  CHECK(b.figure("lost") == 2);
  CHECK(b.h.recorder.totals().by_outcome[static_cast<std::size_t>(Outcome::Error)] == 2);
  // The queue starts over: a new publish is stored and delivered.
  b.publish(at_ms(1'100), 3);
  b.receive(at_ms(1'200), 3);
  b.run_until(at_ms(2'000));
  REQUIRE(b.peer->deliveries.size() == 3);
  CHECK(b.delivery(2).message == 3);
}

TEST_CASE("queue: a stats query reports the backlog", "[queue]") {
  Bench b({});
  b.publish(at_ms(0), 1);
  b.publish(at_ms(100), 2);
  b.publish(at_ms(150), 3);
  b.receive(at_ms(200), 1);  // 1 in flight: the oldest visible is 2
  b.send_at(at_ms(400), models::QueueStatsQuery{.call_id = 77});
  b.run_until(at_ms(500));
  REQUIRE(b.peer->stats.size() == 1);
  CHECK(b.peer->stats[0].call_id == 77);
  CHECK(b.peer->stats[0].visible == 2);
  CHECK(b.peer->stats[0].in_flight == 1);
  CHECK(b.peer->stats[0].oldest_age == 300_ms);
}

TEST_CASE("queue: sample gives the gauges", "[queue]") {
  QueueConfig c = with_visibility(1'000_ms);
  c.max_receives = 1;
  Bench b(c);
  b.publish(at_ms(0), 1);
  b.publish(at_ms(100), 2);
  b.publish(at_ms(200), 3);
  b.receive(at_ms(300), 1);    // 1 in flight, dead-lettered at 1.3 s
  b.receive(at_ms(1'400), 2);  // 2 in flight
  b.run_until(at_ms(1'500));
  models::SeriesSample s;
  b.queue->sample(at_ms(1'500), s);
  std::map<std::string, double> got;
  for (const auto& item : s.items()) got[item.name] = item.value;
  CHECK(got.size() == Queue::series_docs().size());
  for (const auto& doc : Queue::series_docs()) CHECK(got.count(doc.name) == 1);
  CHECK(got["visible"] == 1);
  CHECK(got["in_flight"] == 1);
  CHECK(got["oldest_age_s"] == Approx(1.3));  // message 3, published at 0.2 s
  CHECK(got["dead_letters"] == 1);
  CHECK(got["lag"] == 2);
}

TEST_CASE("queue: figures count after the warm-up, depth is time-averaged", "[queue]") {
  Bench b({}, /*warmup_end=*/at_ms(1'000), /*end=*/at_ms(11'000));
  b.publish(at_ms(500), 1);  // before the warm-up: not counted as published
  b.publish(at_ms(2'000), 2);
  b.receive(at_ms(6'000), 1);  // waited 5.5 s
  b.receive(at_ms(8'000), 2);  // waited 6 s
  b.ack(at_ms(8'500), 0);
  b.run_until(at_ms(11'000));
  CHECK(b.figure("published") == 1);
  CHECK(b.figure("delivered") == 2);
  CHECK(b.figure("acked") == 1);
  // Visible: 1 over [1, 2] s, 2 over [2, 6], 1 over [6, 8], 0 after: 11 message-seconds / 10 s.
  CHECK(b.figure("depth_mean") == Approx(1.1));
  CHECK(b.figure("depth_max") == 2);
  CHECK(b.figure("queue_wait_mean_ms") == Approx(5'750));
  CHECK(b.figure("visible_at_end") == 0);
  CHECK(b.figure("in_flight_at_end") == 1);
  CHECK(b.figure("oldest_age_at_end_s") == 0);
  models::Figures all;
  b.queue->figures(all);
  CHECK(all.items().size() == Queue::figure_docs().size());
}

namespace {

// A producer and a consumer on one node, for the steady state: publishes every 2 ms (keys
// drawn from 16); consumes one message at a time, working 1 ms on each, then acks it -- or nacks
// it (10 %), or forgets it (5 %: its visibility timeout runs out).
class SteadyPeer : public Process {
 public:
  explicit SteadyPeer(NodeId queue) : queue_(queue) {}
  void on_start(Node& node) override {
    rng_ = node.stream("choices");
    // A burst first: the storage grows past anything the steady state will need.
    for (int i = 0; i < 256; ++i) publish(node);
    node.set_timer(2_ms, {kPublish, 0});
    ask(node);
  }
  void on_message(Node& node, const Message& message) override {
    if (!message.holds<QueueDelivery>()) return;  // a publish's answer
    const QueueDelivery d = message.as<QueueDelivery>();
    const double u = rng_.uniform01();
    if (d.receipt == 0 || u < 0.05) {
      ask(node);
      return;
    }
    node.set_timer(1_ms, {u < 0.15 ? kNack : kAck, d.receipt});
  }
  void on_timer(Node& node, TimerTag tag) override {
    if (tag.kind == kPublish) {
      publish(node);
      node.set_timer(2_ms, {kPublish, 0});
      return;
    }
    if (tag.kind == kAck)
      node.send(queue_, models::QueueAck{tag.value});
    else
      node.send(queue_, models::QueueNack{tag.value});
    ask(node);
  }

 private:
  enum : std::uint32_t { kPublish = 1, kAck = 2, kNack = 3 };
  void ask(Node& node) { node.send(queue_, models::QueueReceive{.call_id = 1, .wait = 1'000_ms}); }
  void publish(Node& node) {
    node.send(queue_, models::RpcRequest{.call_id = 1, .key = rng_.below(16)});
  }
  NodeId queue_;
  Rng rng_{0};
};

}  // namespace

TEST_CASE("queue: the steady state allocates nothing", "[queue]") {
  const bool ordered = GENERATE(false, true);
  QueueConfig c = with_visibility(50_ms);
  c.max_receives = 3;
  c.ordered_by_key = ordered;
  Bench b(c, Time::zero(), at_ms(100'000));
  b.h.add_process("steady", std::make_unique<SteadyPeer>(b.queue_id));
  b.run_until(at_ms(5'000));  // storage grows to its working size
  const std::uint64_t before = allocation_count();
  b.run_until(at_ms(60'000));
  const std::uint64_t allocations = allocation_count() - before;
  INFO("ordered_by_key " << ordered);
  CHECK(allocations == 0);
  CHECK(b.figure("acked") > 25'000);  // every path ran: acks, nacks, expiries, dead letters
  CHECK(b.figure("nacked") > 2'000);
  CHECK(b.figure("visibility_expired") > 1'000);
  CHECK(b.figure("dead_lettered") > 50);
}
