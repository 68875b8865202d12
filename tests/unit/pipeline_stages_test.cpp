// Pipeline stages against scripted queues: which outputs and keys each stage publishes, the input
// acknowledged only once every publish is stored, a failed publish returning the input and
// discarding its part, filters finishing what they drop, the barrier of join and reduce
// (distinct parts, duplicates, timeouts), and crashes.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "models/pipelines/copier.hpp"
#include "models/pipelines/filter.hpp"
#include "models/pipelines/join.hpp"
#include "models/pipelines/merger.hpp"
#include "models/pipelines/queue_sharder.hpp"
#include "models/pipelines/reduce.hpp"
#include "models/pipelines/splitter.hpp"
#include "models/sharding/shard_function.hpp"
#include "tests/fake_queue.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"

using namespace sim;
using models::Outcome;

namespace {

// A scripted output queue: records every publish and answers it with `answer` at once, or holds
// the answers until answer_held() when `hold` is set.
class FakeOutput : public sim::Process {
 public:
  struct Publish {
    std::uint64_t key, id;
    sim::NodeId from;
    std::uint64_t call_id;
  };
  void on_start(sim::Node& node) override { node_ = &node; }
  void on_message(sim::Node& node, const sim::Message& message) override {
    const auto r = message.as<models::RpcRequest>();
    got.push_back({r.key, r.request_id, message.from, r.call_id});
    if (!hold)
      node.send(message.from, models::RpcResponse{.call_id = r.call_id, .outcome = answer});
  }
  void answer_held() {
    for (const auto& p : got) node_->send(p.from, models::RpcResponse{.call_id = p.call_id});
  }
  std::vector<std::uint64_t> keys() const {
    std::vector<std::uint64_t> k;
    for (const auto& p : got) k.push_back(p.key);
    return k;
  }
  std::vector<Publish> got;
  Outcome answer = Outcome::Ok;
  bool hold = false;

 private:
  sim::Node* node_ = nullptr;
};

// One stage replica "s" between scripted input queues "in<i>" and outputs "o<i>".
template <class Stage>
struct Bench {
  Bench(const typename Stage::Config& config, std::size_t inputs, std::size_t outputs)
      : h(5, Time::zero(), at_ms(100'000)) {
    for (std::size_t i = 0; i < inputs; ++i) {
      auto q = std::make_unique<dsimtest::FakeQueue>();
      in.push_back(q.get());
      h.add_process("in" + std::to_string(i), std::move(q));
    }
    for (std::size_t i = 0; i < outputs; ++i) {
      auto o = std::make_unique<FakeOutput>();
      out.push_back(o.get());
      h.add_process("o" + std::to_string(i), std::move(o));
    }
    stage = h.build<Stage>("s", 1, config).front();
    h.cluster.start();
  }
  models::JobLedger& ledger() {
    return h.invariants.ghost<models::JobLedger>(models::JobLedger::kGhostKey);
  }
  // At `at`, input queue `q` delivers `message` with `key` under `receipt`.
  void deliver(Time at, std::size_t q, std::uint64_t message, std::uint64_t key,
               std::uint64_t receipt) {
    dsimtest::FakeQueue* queue = in[q];
    h.sim.schedule_at(at, [=] { queue->deliver(message, key, receipt); });
  }
  void run_to(Time t) { h.sim.run_until(t); }
  double figure(const std::string& name) const { return dsimtest::figure(*stage, name); }

  dsimtest::ModelHarness h;
  std::vector<dsimtest::FakeQueue*> in;
  std::vector<FakeOutput*> out;
  Stage* stage = nullptr;
};

std::vector<models::StageOutput> outputs(std::size_t n) {
  std::vector<models::StageOutput> o;
  for (std::size_t i = 0; i < n; ++i) o.push_back({{"o" + std::to_string(i)}});
  return o;
}

models::QueueConsumerConfig input(const std::string& name) {
  models::QueueConsumerConfig c;
  c.queue.name = name;
  return c;
}

using Keys = std::vector<std::uint64_t>;

}  // namespace

TEST_CASE("copier: each input to every output with its key, acked once all are stored",
          "[pipeline]") {
  models::CopierConfig c;
  c.input = input("in0");
  c.outputs = outputs(3);
  Bench<models::Copier> b(c, 1, 3);
  b.out[2]->hold = true;
  const auto job = b.ledger().open_job(at_ms(0), 0);
  b.deliver(at_ms(10), 0, job, 42, 7);
  b.run_to(at_ms(20));
  for (std::size_t i = 0; i < 3; ++i) {
    REQUIRE(b.out[i]->got.size() == 1);
    CHECK(b.out[i]->got[0].key == 42);
    CHECK(b.ledger().job_of(b.out[i]->got[0].id) == job);  // a part of the input's job
  }
  CHECK(b.in[0]->acks.empty());  // output 2 has not answered
  CHECK_FALSE(b.ledger().finished(job));
  b.h.sim.schedule_at(at_ms(30), [&] { b.out[2]->answer_held(); });
  b.run_to(at_ms(40));
  REQUIRE(b.in[0]->acks.size() == 1);
  CHECK(b.in[0]->acks[0].receipt == 7);
  CHECK(b.in[0]->acks[0].at == at_ms(30));
  CHECK(b.ledger().finished(job));
  CHECK(b.h.recorder.totals().requests == 0);  // its copies are still unfinished
  CHECK(b.figure("published") == 3);
  CHECK(b.figure("finished") == 1);
}

TEST_CASE("copier: a failed publish returns the input and discards its part", "[pipeline]") {
  models::CopierConfig c;
  c.input = input("in0");
  c.outputs = outputs(2);
  c.stage.publish.retry.max_attempts = 2;
  Bench<models::Copier> b(c, 1, 2);
  b.out[1]->answer = Outcome::Rejected;  // the queue is full
  const auto job = b.ledger().open_job(at_ms(0), 0);
  b.deliver(at_ms(10), 0, job, 5, 3);
  b.run_to(at_ms(5000));
  CHECK(b.out[1]->got.size() == 2);  // tried twice
  REQUIRE(b.in[0]->nacks.size() == 1);
  CHECK(b.in[0]->nacks[0].receipt == 3);
  CHECK(b.in[0]->acks.empty());
  CHECK_FALSE(b.ledger().finished(job));
  CHECK(b.ledger().finished(b.out[1]->got[0].id));  // discarded: it never existed
  CHECK(b.figure("publish_failures") == 1);
  CHECK(b.figure("returned") == 1);
  CHECK(b.figure("republished") == 1);  // output 0's copy will be published again
  // Delivered again, with output 1 accepting now: a second copy to output 0 (a duplicate
  // downstream), and the job goes on: finishing the two stored copies ends it, Ok.
  b.out[1]->answer = Outcome::Ok;
  b.deliver(at_ms(6000), 0, job, 5, 4);
  b.run_to(at_ms(6100));
  REQUIRE(b.in[0]->acks.size() == 1);
  CHECK(b.out[0]->got.size() == 2);
  for (const auto& p : b.out[0]->got)
    b.ledger().finish(p.id, at_ms(7000), Outcome::Ok, b.h.recorder);
  CHECK(b.h.recorder.totals().requests == 0);
  b.ledger().finish(b.out[1]->got[2].id, at_ms(7000), Outcome::Ok, b.h.recorder);
  CHECK(b.h.recorder.totals().succeeded() == 1);
}

TEST_CASE("filter: passing inputs go on, dropped ones are finished and acked", "[pipeline]") {
  models::FilterConfig c;
  c.input = input("in0");
  c.output.name = "o0";
  c.keep_keys_below = 10;
  Bench<models::Filter> b(c, 1, 1);
  const auto kept = b.ledger().open_job(at_ms(0), 0);
  const auto dropped = b.ledger().open_job(at_ms(0), 0);
  b.deliver(at_ms(10), 0, kept, 9, 1);
  b.deliver(at_ms(20), 0, dropped, 10, 2);
  b.run_to(at_ms(30));
  CHECK(b.out[0]->keys() == Keys{9});
  REQUIRE(b.in[0]->acks.size() == 2);
  CHECK(b.in[0]->acks[1].at == at_ms(20));
  // The dropped job ended at the filter (its only message); the kept one goes on.
  CHECK(b.h.recorder.totals().requests == 1);
  CHECK(b.h.recorder.latency().max_ns() == 20'000'000);
  CHECK(b.figure("kept") == 1);
  CHECK(b.figure("dropped") == 1);
}

TEST_CASE("filter: keep_probability 0 drops what the key rule keeps (the rules combine by AND)",
          "[pipeline]") {
  models::FilterConfig c;
  c.input = input("in0");
  c.output.name = "o0";
  c.keep_probability = {0};
  Bench<models::Filter> b(c, 1, 1);
  for (std::uint64_t i = 0; i < 5; ++i)
    b.deliver(at_ms(10), 0, b.ledger().open_job(at_ms(0), 0), i, i + 1);
  b.run_to(at_ms(30));
  CHECK(b.out[0]->got.empty());
  CHECK(b.in[0]->acks.size() == 5);
  CHECK(b.figure("dropped") == 5);
}

TEST_CASE("splitter: an input becomes parts k*parts + i, round robin over the outputs",
          "[pipeline]") {
  models::SplitterConfig c;
  c.input = input("in0");
  c.outputs = outputs(2);
  c.parts = 3;
  Bench<models::Splitter> b(c, 1, 2);
  b.deliver(at_ms(10), 0, b.ledger().open_job(at_ms(0), 0), 7, 1);
  b.run_to(at_ms(20));
  CHECK(b.out[0]->keys() == Keys{21, 23});  // parts 0 and 2
  CHECK(b.out[1]->keys() == Keys{22});      // part 1
  CHECK(b.in[0]->acks.size() == 1);
}

TEST_CASE("queue sharder: an input goes to output key_hash(key) mod outputs", "[pipeline]") {
  models::QueueSharderConfig c;
  c.input = input("in0");
  c.outputs = outputs(3);
  Bench<models::QueueSharder> b(c, 1, 3);
  for (std::uint64_t k = 0; k < 12; ++k)
    b.deliver(at_ms(10), 0, b.ledger().open_job(at_ms(0), 0), k, k + 1);
  b.run_to(at_ms(20));
  const auto modulo = models::ShardFunction::modulo(3);
  std::vector<Keys> expected(3);
  for (std::uint64_t k = 0; k < 12; ++k) expected[modulo.shard_of(k)].push_back(k);
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(b.out[i]->keys() == expected[i]);
    CHECK(b.figure("routed[" + std::to_string(i) + "]") == static_cast<double>(expected[i].size()));
  }
  CHECK(b.in[0]->acks.size() == 12);
}

TEST_CASE("merger: every input queue's messages go to the output, acks to their own queue",
          "[pipeline]") {
  models::MergerConfig c;
  c.inputs = {input("in0"), input("in1")};
  c.output.name = "o0";
  c.stage.concurrency = 2;
  Bench<models::Merger> b(c, 2, 1);
  b.run_to(at_ms(1));
  CHECK(b.in[0]->receives.size() == 2);  // concurrency slots per input
  CHECK(b.in[1]->receives.size() == 2);
  // Both consumers number their receives alike: routing by sender keeps them apart.
  CHECK(b.in[0]->receives[0].call_id == b.in[1]->receives[0].call_id);
  b.deliver(at_ms(10), 0, b.ledger().open_job(at_ms(0), 0), 1, 11);
  b.deliver(at_ms(10), 1, b.ledger().open_job(at_ms(0), 0), 2, 21);
  b.deliver(at_ms(10), 1, b.ledger().open_job(at_ms(0), 0), 3, 22);
  b.run_to(at_ms(20));
  CHECK(b.out[0]->keys() == Keys{1, 2, 3});
  REQUIRE(b.in[0]->acks.size() == 1);
  CHECK(b.in[0]->acks[0].receipt == 11);
  REQUIRE(b.in[1]->acks.size() == 2);
  CHECK(b.in[1]->acks[1].receipt == 22);
  CHECK(b.figure("merged[0]") == 1);
  CHECK(b.figure("merged[1]") == 2);
  CHECK(b.figure("received") == 3);  // the consumers' figures, summed
}

TEST_CASE("join: released on the last distinct part, not on a part delivered again", "[pipeline]") {
  models::JoinConfig c;
  c.input = input("in0");
  c.output.name = "o0";
  c.stage.concurrency = 8;
  c.barrier.parts = 3;
  Bench<models::Join> b(c, 1, 1);
  auto& l = b.ledger();
  const auto job = l.open_job(at_ms(0), 0);
  const auto p1 = l.open_part(job), p2 = l.open_part(job), p3 = l.open_part(job);
  l.finish(job, at_ms(1), Outcome::Ok, b.h.recorder);  // the splitter emitted the parts
  b.deliver(at_ms(10), 0, p1, 100, 1);
  b.deliver(at_ms(20), 0, p2, 200, 2);
  b.deliver(at_ms(30), 0, p1, 100, 3);  // p1 again (its visibility timeout ran out)
  b.run_to(at_ms(35));
  CHECK(b.out[0]->got.empty());
  CHECK(b.stage->held() == 2);
  CHECK(b.figure("duplicate_parts") == 1);
  b.deliver(at_ms(40), 0, p3, 300, 4);
  b.run_to(at_ms(50));
  REQUIRE(b.out[0]->got.size() == 1);
  CHECK(b.out[0]->got[0].key == 100);  // the first part's key
  CHECK(l.job_of(b.out[0]->got[0].id) == job);
  REQUIRE(b.in[0]->acks.size() == 3);
  Keys receipts;
  for (const auto& a : b.in[0]->acks) receipts.push_back(a.receipt);
  CHECK(receipts == Keys{3, 2, 4});  // p1's latest delivery, not its stale one
  CHECK(l.finished(p1));
  CHECK(l.finished(p2));
  CHECK(l.finished(p3));
  CHECK(b.stage->held() == 0);
  CHECK(b.figure("complete_batches") == 1);
  // The merged message is the job's last: finishing it ends the job at its time.
  l.finish(b.out[0]->got[0].id, at_ms(60), Outcome::Ok, b.h.recorder);
  CHECK(b.h.recorder.totals().succeeded() == 1);
  CHECK(b.h.recorder.latency().max_ns() == 60'000'000);
}

TEST_CASE("join: at its timeout a batch is released incomplete, or fails its job", "[pipeline]") {
  for (const auto action : {models::BarrierTimeout::Release, models::BarrierTimeout::Fail}) {
    models::JoinConfig c;
    c.input = input("in0");
    c.output.name = "o0";
    c.stage.concurrency = 8;
    c.barrier.parts = 2;
    c.barrier.timeout = Duration::nanoseconds(100'000'000);
    c.barrier.on_timeout = action;
    Bench<models::Join> b(c, 1, 1);
    auto& l = b.ledger();
    const auto job = l.open_job(at_ms(0), 0);
    const auto p1 = l.open_part(job);
    l.open_part(job);  // never arrives
    l.finish(job, at_ms(1), Outcome::Ok, b.h.recorder);
    b.deliver(at_ms(10), 0, p1, 5, 1);
    b.run_to(at_ms(109));
    CHECK(b.in[0]->acks.empty());
    b.run_to(at_ms(120));
    REQUIRE(b.in[0]->acks.size() == 1);
    CHECK(b.in[0]->acks[0].at == at_ms(110));
    CHECK(l.finished(p1));
    if (action == models::BarrierTimeout::Release) {
      CHECK(b.out[0]->keys() == Keys{5});
      CHECK(b.figure("incomplete_batches") == 1);
    } else {
      CHECK(b.out[0]->got.empty());
      CHECK(b.figure("failed_batches") == 1);
    }
  }
}

TEST_CASE("join: a crash loses the held parts unacknowledged, they start again", "[pipeline]") {
  models::JoinConfig c;
  c.input = input("in0");
  c.output.name = "o0";
  c.stage.concurrency = 2;
  Bench<models::Join> b(c, 1, 1);
  auto& l = b.ledger();
  const auto job = l.open_job(at_ms(0), 0);
  const auto p1 = l.open_part(job), p2 = l.open_part(job);
  b.deliver(at_ms(10), 0, p1, 1, 1);
  b.h.faults.crash(at_ms(20), b.h.nodes("s")[0], Duration::nanoseconds(10'000'000));
  b.run_to(at_ms(40));
  CHECK(b.stage->held() == 0);
  CHECK(b.in[0]->acks.empty());
  CHECK(b.in[0]->nacks.empty());  // the queue redelivers after its visibility timeout
  REQUIRE(b.in[0]->held.size() == 3);
  b.in[0]->held.pop_front();  // the receive sent before the crash: nobody waits for it
  b.deliver(at_ms(50), 0, p2, 2, 2);
  b.run_to(at_ms(60));
  CHECK(b.out[0]->got.empty());  // p1 was forgotten: the batch has one part
  b.deliver(at_ms(70), 0, p1, 1, 3);
  b.run_to(at_ms(80));
  CHECK(b.out[0]->keys() == Keys{2});
  CHECK(b.in[0]->acks.size() == 2);
}

TEST_CASE("reduce: count, sum and histogram of a batch", "[pipeline]") {
  struct Case {
    models::ReduceOperation op;
    Keys expected;
  };
  for (const Case& k : {Case{models::ReduceOperation::Count, {4}},
                        Case{models::ReduceOperation::Sum, {3 + 15 + 17 + 2000}},
                        Case{models::ReduceOperation::Histogram, {0, 1, 9}}}) {
    models::ReduceConfig c;
    c.stage.concurrency = 8;
    c.input = input("in0");
    c.output.name = "o0";
    c.barrier.parts = 4;
    c.operation = k.op;
    c.buckets = 10;
    c.max_key = 100;  // buckets of width 10; 2000 goes to the last
    Bench<models::Reduce> b(c, 1, 1);
    auto& l = b.ledger();
    const auto job = l.open_job(at_ms(0), 0);
    std::uint64_t receipt = 1;
    for (const std::uint64_t key : {3, 15, 17, 2000})
      b.deliver(at_ms(10), 0, l.open_part(job), key, receipt++);
    b.run_to(at_ms(20));
    CHECK(b.out[0]->keys() == k.expected);
    CHECK(b.in[0]->acks.size() == 4);
    CHECK(b.figure("reduced_batches") == 1);
    CHECK(b.figure("keys_reduced") == 4);
    CHECK(b.figure("sum_total") == 2035);
    if (k.op == models::ReduceOperation::Histogram) {
      CHECK(b.figure("histogram[0]") == 1);
      CHECK(b.figure("histogram[1]") == 2);
      CHECK(b.figure("histogram[9]") == 1);
      CHECK(b.figure("histogram[5]") == 0);
    }
  }
}
