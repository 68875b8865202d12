// A join's latency is the maximum of its branches': jobs copied into k parallel branches whose
// handling takes an exponential time of mean m, then joined, end after max(X_1, ..., X_k), so
// P(latency <= t) = (1 - e^(-t/m))^k and the q-quantile is t_q = -m ln(1 - q^(1/k)).
//
// The pipeline: src -> copier -> k branch queues -> k branch stages (a filter that keeps
// everything, service_time exponential of mean m, concurrency far above the jobs in service: no
// queueing) -> one join queue -> join (parts k) -> sink queue -> a worker pool with no service
// time, whose acknowledgement ends the job. The queues are scripted (InstantQueue: FIFO, long
// polls, no visibility timeout) and the network has no latency, so the branches' draws are the
// only delay. Jobs arrive every 10 ms; their branches' draws are independent.
//
// Tolerance: the estimated quantile of n independent samples has the standard error
// sqrt(q(1-q)/n) / f(t_q) (Bahadur), with f the density of the maximum,
// f(t) = k (1 - e^(-t/m))^(k-1) e^(-t/m) / m; statistical_tolerance.hpp allows 4.5 of them, plus
// the latency histogram's relative error.
#include <catch2/catch.hpp>

#include <cmath>
#include <deque>
#include <memory>
#include <string>

#include "models/pipelines/copier.hpp"
#include "models/pipelines/filter.hpp"
#include "models/pipelines/join.hpp"
#include "models/queues/worker_pool.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"
#include "tests/validation/statistical_tolerance.hpp"

using namespace sim;

namespace {

// A minimal queue: publishes are stored (answered Ok), receives wait until a message comes.
// Nothing is ever redelivered (no consumer here gives a message back).
class InstantQueue : public sim::Process {
 public:
  void on_start(sim::Node& node) override { node_ = &node; }
  void on_message(sim::Node& node, const sim::Message& message) override {
    if (message.holds<models::RpcRequest>()) {
      const auto r = message.as<models::RpcRequest>();
      node.send(message.from, models::RpcResponse{.call_id = r.call_id});
      store(r.request_id, r.key);
    } else if (message.holds<models::QueueReceive>()) {
      waiting_.push_back({message.from, message.as<models::QueueReceive>().call_id});
      serve();
    }  // acks: nothing to do; nacks never come in this pipeline
  }
  void store(std::uint64_t id, std::uint64_t key) {
    messages_.push_back({id, key});
    serve();
  }

 private:
  void serve() {
    while (!messages_.empty() && !waiting_.empty()) {
      const auto [id, key] = messages_.front();
      const auto [to, call] = waiting_.front();
      messages_.pop_front();
      waiting_.pop_front();
      node_->send(to, models::QueueDelivery{.call_id = call,
                                            .receipt = ++receipts_,
                                            .message = id,
                                            .key = key,
                                            .receives = 1,
                                            .published = node_->true_now()});
    }
  }
  sim::Node* node_ = nullptr;
  std::deque<std::pair<std::uint64_t, std::uint64_t>> messages_;
  std::deque<std::pair<sim::NodeId, std::uint64_t>> waiting_;
  std::uint64_t receipts_ = 0;
};

models::QueueConsumerConfig consume(const std::string& queue) {
  models::QueueConsumerConfig c;
  c.queue.name = queue;
  c.wait = Duration::nanoseconds(10'000'000'000'000);  // longer than the run: never runs out
  return c;
}

}  // namespace

TEST_CASE("join: the end-to-end latency of k parallel branches is the max of their times",
          "[pipeline][validation]") {
  constexpr int k = 3;
  constexpr double mean_ms = 10;
  constexpr int jobs = 20'000;
  const Time end = at_ms(jobs * 10 + 2'000);  // the last job has 2 s (200 means) to end
  dsimtest::ModelHarness h(11, Time::zero(), end);
  auto add_queue = [&](const std::string& name) {
    auto q = std::make_unique<InstantQueue>();
    InstantQueue* raw = q.get();
    h.add_process(name, std::move(q));
    return raw;
  };
  InstantQueue* src = add_queue("src");
  models::CopierConfig copier;
  copier.input = consume("src");
  copier.outputs.clear();
  for (int i = 0; i < k; ++i) {
    const std::string branch = "b" + std::to_string(i);
    add_queue(branch);
    copier.outputs.push_back({{branch}});
  }
  add_queue("joinq");
  add_queue("sink");
  for (int i = 0; i < k; ++i) {
    models::FilterConfig branch;  // keeps everything: a stage that only takes its time
    branch.input = consume("b" + std::to_string(i));
    branch.output.name = "joinq";
    branch.stage.service_time = Distribution::exponential(mean_ms * 1e6);
    branch.stage.concurrency = 1'000;
    h.build<models::Filter>("branch" + std::to_string(i), 1, branch);
  }
  models::JoinConfig join;
  join.input = consume("joinq");
  join.output.name = "sink";
  join.barrier.parts = k;
  h.build<models::Join>("join", 1, join);
  h.build<models::Copier>("copier", 1, copier);
  models::WorkerPoolConfig pool;
  pool.consumer = consume("sink");
  pool.concurrency = 1'000;
  pool.service_time = Distribution::constant(0);
  h.build<models::WorkerPool>("pool", 1, pool);

  auto& ledger = h.invariants.ghost<models::JobLedger>(models::JobLedger::kGhostKey);
  for (int i = 0; i < jobs; ++i)
    h.sim.schedule_at(at_ms(i * 10),
                      [&ledger, src, &h] { src->store(ledger.open_job(h.sim.now(), 0), 1); });
  h.run();

  const auto& latency = h.recorder.latency();
  REQUIRE(h.recorder.totals().succeeded() == static_cast<std::uint64_t>(jobs));
  const double m = mean_ms * 1e6;
  for (const double q : {0.1, 0.5, 0.9, 0.99}) {
    const double t = -m * std::log(1 - std::pow(q, 1.0 / k));
    const double density =
        k * std::pow(1 - std::exp(-t / m), k - 1) * std::exp(-t / m) / m;  // per ns
    const double tolerance = queueing::quantile_tolerance(q * (1 - q), density, jobs, t);
    INFO("q = " << q << ": expected " << t << " ns, got " << latency.quantile_ns(q));
    CHECK(std::abs(static_cast<double>(latency.quantile_ns(q)) - t) <= tolerance);
  }
}
