// Worker pool and queue consumer mechanics against a scripted queue: receives and long polls,
// acks and the job's end-to-end record, failures and poison messages, duplicates, scaling with
// a start-up delay and draining, load replies, crashes, gauges.
#include <catch2/catch.hpp>

#include <memory>

#include "models/queues/job_ledger.hpp"
#include "models/queues/worker_pool.hpp"
#include "tests/fake_queue.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"

using namespace sim;
using models::WorkerPool;
using models::WorkerPoolConfig;

namespace {

struct Bench {
  explicit Bench(WorkerPoolConfig config, std::size_t workers = 1)
      : h(5, Time::zero(), at_ms(100'000)) {
    auto q = std::make_unique<dsimtest::FakeQueue>();
    queue = q.get();
    queue_id = h.add_process("q", std::move(q));
    config.consumer.queue.name = "q";
    pool = h.build<WorkerPool>("w", workers, config);
    h.cluster.start();
  }
  models::JobLedger& ledger() {
    return h.invariants.ghost<models::JobLedger>(models::JobLedger::kGhostKey);
  }
  void run_to(Time t) { h.sim.run_until(t); }
  // At `at`, the fake queue answers its oldest held receive with `message`.
  void deliver_at(Time at, std::uint64_t message, std::uint64_t key, std::uint64_t receipt) {
    h.sim.schedule_at(at, Deliver{queue, message, key, receipt});
  }
  struct Deliver {
    dsimtest::FakeQueue* q;
    std::uint64_t message, key, receipt;
    void operator()() const { q->deliver(message, key, receipt); }
  };
  template <class T>
  void send_at(Time at, std::size_t worker, T payload) {
    const NodeId to = h.nodes("w")[worker];
    h.sim.schedule_at(at, [this, to, payload] { h.cluster.node(queue_id).send(to, payload); });
  }

  dsimtest::ModelHarness h;
  dsimtest::FakeQueue* queue = nullptr;
  NodeId queue_id = kNoNode;
  std::vector<WorkerPool*> pool;
};

WorkerPoolConfig constant_service(double ms) {
  WorkerPoolConfig c;
  c.service_time = Distribution::constant(ms * 1e6);
  return c;
}

}  // namespace

TEST_CASE("worker pool: a worker keeps one receive per slot and acks after the service time",
          "[worker_pool]") {
  WorkerPoolConfig c = constant_service(5);
  c.concurrency = 2;
  Bench b(c);
  const std::uint64_t job = b.ledger().open_job(at_ms(0), 0);
  b.deliver_at(at_ms(10), job, 42, 7);
  b.run_to(at_ms(50));
  // Two receives at start, a third once the first message is done (slot free again).
  REQUIRE(b.queue->receives.size() == 3);
  CHECK(b.queue->receives[0].at == at_ms(0));
  CHECK(b.queue->receives[0].wait == Duration::nanoseconds(20'000'000'000));
  CHECK(b.queue->receives[2].at == at_ms(15));
  REQUIRE(b.queue->acks.size() == 1);
  CHECK(b.queue->acks[0].receipt == 7);
  CHECK(b.queue->acks[0].at == at_ms(15));
  // The job ended with the ack: recorded, its latency from the producer's start.
  CHECK(b.h.recorder.totals().requests == 1);
  CHECK(b.h.recorder.totals().succeeded() == 1);
  CHECK(b.h.recorder.latency().max_ns() == 15'000'000);
  CHECK(dsimtest::figure(*b.pool[0], "processed") == 1);
}

TEST_CASE("worker pool: an empty answer at once waits min_poll_interval, after a long poll none",
          "[worker_pool]") {
  Bench b(constant_service(5));
  b.h.sim.schedule_at(at_ms(30), [&] { b.queue->answer_empty(); });
  b.run_to(at_ms(1000));
  REQUIRE(b.queue->receives.size() == 2);
  CHECK(b.queue->receives[1].at == at_ms(100));  // sent at 0, empty at 30: next at 0 + 100 ms
  b.h.sim.schedule_at(at_ms(1500), [&] { b.queue->answer_empty(); });
  b.run_to(at_ms(2000));
  REQUIRE(b.queue->receives.size() == 3);
  CHECK(b.queue->receives[2].at == at_ms(1500));  // 1.4 s after it was sent: at once
}

TEST_CASE(
    "worker pool: an unanswered receive is given up after wait + grace, a late delivery "
    "is returned",
    "[worker_pool]") {
  WorkerPoolConfig c = constant_service(5);
  c.consumer.wait = Duration::nanoseconds(1'000'000'000);
  c.consumer.receive_grace = Duration::nanoseconds(500'000'000);
  Bench b(c);
  b.run_to(at_ms(1600));
  REQUIRE(b.queue->receives.size() == 2);
  CHECK(b.queue->receives[1].at == at_ms(1500));
  b.h.sim.schedule_at(at_ms(1600), [&] { b.queue->deliver(1, 1, 99); });  // the given-up one
  b.run_to(at_ms(1700));
  REQUIRE(b.queue->nacks.size() == 1);
  CHECK(b.queue->nacks[0].receipt == 99);
  CHECK(dsimtest::figure(*b.pool[0], "late_deliveries") == 1);
  CHECK(dsimtest::figure(*b.pool[0], "receive_timeouts") == 1);
}

TEST_CASE("worker pool: a poison message is returned, or abandoned, and never ends its job",
          "[worker_pool]") {
  for (const auto action : {models::FailureAction::Nack, models::FailureAction::Abandon}) {
    WorkerPoolConfig c = constant_service(5);
    c.poison_keys = 10;
    c.on_failure = action;
    Bench b(c);
    const std::uint64_t job = b.ledger().open_job(at_ms(0), 0);
    b.deliver_at(at_ms(10), job, 3, 5);
    b.run_to(at_ms(50));
    CHECK(b.queue->acks.empty());
    CHECK(b.queue->nacks.size() == (action == models::FailureAction::Nack ? 1u : 0u));
    CHECK(b.queue->receives.size() == 2);  // the slot is free again either way
    CHECK(b.h.recorder.totals().requests == 0);
    CHECK(dsimtest::figure(*b.pool[0], "poison") == 1);
  }
}

TEST_CASE("worker pool: a message handled twice is a duplicate, an effect if not idempotent",
          "[worker_pool]") {
  for (const bool idempotent : {true, false}) {
    WorkerPoolConfig c = constant_service(5);
    c.idempotent = idempotent;
    Bench b(c);
    const std::uint64_t job = b.ledger().open_job(at_ms(0), 0);
    b.deliver_at(at_ms(10), job, 1, 1);
    b.deliver_at(at_ms(20), job, 1, 2);  // redelivered (its visibility ran out, say)
    b.run_to(at_ms(50));
    CHECK(b.queue->acks.size() == 2);
    CHECK(b.h.recorder.totals().requests == 1);  // the job is recorded once
    CHECK(dsimtest::figure(*b.pool[0], "duplicates") == 1);
    CHECK(dsimtest::figure(*b.pool[0], "duplicate_effects") == (idempotent ? 0 : 1));
    CHECK(b.h.recorder.duplicate_effects() == (idempotent ? 0u : 1u));
  }
}

TEST_CASE("worker pool: scaling up waits the start-up delay, scaling down drains",
          "[worker_pool]") {
  WorkerPoolConfig c = constant_service(50);
  c.initial_workers = 1;
  c.startup_delay = Distribution::constant(30e6);
  Bench b(c, 3);
  b.run_to(at_ms(10));
  REQUIRE(b.queue->receives.size() == 1);  // only worker 0 serves
  b.send_at(at_ms(10), 0, models::WorkerScale{.desired = 3, .epoch = 1});
  b.send_at(at_ms(10), 1, models::WorkerScale{.desired = 3, .epoch = 1});
  b.send_at(at_ms(10), 2, models::WorkerScale{.desired = 3, .epoch = 1});
  b.run_to(at_ms(39));
  CHECK(b.queue->receives.size() == 1);
  CHECK(b.pool[1]->starting());
  b.run_to(at_ms(40));
  REQUIRE(b.queue->receives.size() == 3);
  CHECK(b.queue->receives[1].at == at_ms(40));
  // Worker 2 holds a message when it is scaled down: it finishes it and receives no more.
  b.deliver_at(at_ms(50), b.ledger().open_job(at_ms(0), 0), 1, 11);  // oldest held: worker 0's
  b.deliver_at(at_ms(50), b.ledger().open_job(at_ms(0), 0), 1, 12);  // worker 1's
  b.deliver_at(at_ms(50), b.ledger().open_job(at_ms(0), 0), 1, 13);  // worker 2's
  b.send_at(at_ms(60), 2, models::WorkerScale{.desired = 2, .epoch = 2});
  b.send_at(at_ms(61), 2, models::WorkerScale{.desired = 3, .epoch = 1});  // stale: ignored
  b.run_to(at_ms(200));
  CHECK(b.queue->acks.size() == 3);
  CHECK_FALSE(b.pool[2]->serving());
  std::size_t from_worker_2 = 0;
  for (const auto& r : b.queue->receives) from_worker_2 += r.from == b.h.nodes("w")[2];
  CHECK(from_worker_2 == 1);  // its first receive only
  CHECK(dsimtest::figure(*b.pool[2], "scale_downs") == 1);
}

TEST_CASE("worker pool: a load query gets the busy share since the last one", "[worker_pool]") {
  WorkerPoolConfig c = constant_service(30);
  c.concurrency = 2;
  Bench b(c);
  struct Reply : sim::Process {
    void on_start(sim::Node&) override {}
    void on_message(sim::Node&, const sim::Message& m) override {
      replies.push_back(m.as<models::WorkerLoadReply>());
    }
    std::vector<models::WorkerLoadReply> replies;
  };
  auto r = std::make_unique<Reply>();
  Reply* reply = r.get();
  const NodeId scaler = b.h.add_process("scaler", std::move(r));
  reply->on_start(b.h.cluster.node(scaler));
  const NodeId worker = b.h.nodes("w")[0];
  b.h.sim.schedule_at(at_ms(0), [&] {
    b.h.cluster.node(scaler).send(worker, models::WorkerLoadQuery{.call_id = 1});
  });
  b.deliver_at(at_ms(10), b.ledger().open_job(at_ms(0), 0), 1, 1);
  b.h.sim.schedule_at(at_ms(100), [&] {
    b.h.cluster.node(scaler).send(worker, models::WorkerLoadQuery{.call_id = 2});
  });
  b.run_to(at_ms(200));
  REQUIRE(reply->replies.size() == 2);
  // One slot of two busy for 30 ms of the 100 ms between the queries.
  CHECK(reply->replies[1].busy == Approx(0.15).margin(1e-12));
  CHECK(reply->replies[1].serving == 1);
}

TEST_CASE("worker pool: a crash loses the message in hand, a restart serves after its delay",
          "[worker_pool]") {
  WorkerPoolConfig c = constant_service(50);
  c.startup_delay = Distribution::constant(20e6);
  Bench b(c);
  b.deliver_at(at_ms(30), b.ledger().open_job(at_ms(0), 0), 1, 1);
  b.h.sim.schedule_at(at_ms(40), [&] { b.h.cluster.crash(b.h.nodes("w")[0]); });
  b.h.sim.schedule_at(at_ms(100), [&] { b.h.cluster.restart(b.h.nodes("w")[0]); });
  b.run_to(at_ms(300));
  CHECK(b.queue->acks.empty());
  REQUIRE(b.queue->receives.size() == 2);
  CHECK(b.queue->receives[0].at == at_ms(0));    // serving from the start
  CHECK(b.queue->receives[1].at == at_ms(120));  // restarted at 100, then its 20 ms start-up
  CHECK(b.h.recorder.totals().requests == 0);
}

TEST_CASE("worker pool: gauges and cost", "[worker_pool]") {
  WorkerPoolConfig c = constant_service(40);
  c.initial_workers = 1;
  Bench b(c, 2);
  b.deliver_at(at_ms(10), b.ledger().open_job(at_ms(0), 0), 1, 1);
  b.run_to(at_ms(20));
  models::SeriesSample s;
  b.pool[0]->sample(b.h.sim.now(), s);
  b.pool[1]->sample(b.h.sim.now(), s);
  REQUIRE(s.items().size() == 6);
  CHECK(s.items()[0].value == 1);  // worker 0 serving
  CHECK(s.items()[2].value == 1);  // busy with one message
  CHECK(s.items()[3].value == 0);  // worker 1 not serving
  b.run_to(at_ms(100'000));
  CHECK(dsimtest::figure(*b.pool[0], "worker_seconds") == Approx(100.0));
  CHECK(dsimtest::figure(*b.pool[1], "worker_seconds") == 0);
  CHECK(dsimtest::figure(*b.pool[0], "utilization") == Approx(0.04 / 100.0));
}
