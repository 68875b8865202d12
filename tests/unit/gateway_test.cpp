// Gateway mechanics (models/isolation/gateway.hpp): routing by operation and by weight, a worker
// held for the whole call, the FIFO queue and its limit, expired requests, the outcome mapping,
// a bulkhead freeing the workers a slow dependency would hold, a crash, and its registration.
#include <catch2/catch.hpp>

#include <cmath>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "models/isolation/gateway.hpp"
#include "models/services/server.hpp"
#include "scenario/model_catalog.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"

using namespace sim;
using models::Gateway;
using models::GatewayConfig;
using models::GatewayDependencyConfig;
using models::Outcome;
using models::RpcRequest;
using models::RpcResponse;

namespace {

// Answers every request Ok after `delay`, or never if `silent`.
class Backend : public Process {
 public:
  Duration delay = 1_ms;
  bool silent = false;
  std::vector<Time> seen_at;
  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    seen_at.push_back(node.true_now());
    requests_.push_back({message.from, message.as<RpcRequest>().call_id});
    if (!silent) node.set_timer(delay, {1, requests_.size() - 1});
  }
  void on_timer(Node& node, TimerTag tag) override {
    const auto [from, call_id] = requests_[tag.value];
    node.send(from, RpcResponse{.call_id = call_id});
  }

 private:
  std::vector<std::pair<NodeId, std::uint64_t>> requests_;
};

struct Send {
  Cluster* cluster;
  NodeId from, to;
  const RpcRequest* request;
  void operator()() const { cluster->node(from).send(to, *request); }
};

GatewayDependencyConfig dependency(const std::string& target, std::int64_t operation,
                                   Duration timeout = 1_s) {
  GatewayDependencyConfig d;
  d.call.target.name = target;
  d.operation = operation;
  d.call.timeout = timeout;
  return d;
}

// A gateway whose operation 0 goes to "fast" (1 ms) and operation 1 to "slow" (100 ms).
struct Bench {
  explicit Bench(GatewayConfig config) : h(7, Time::zero(), at_ms(10'000)) {
    for (const char* name : {"fast", "slow"}) {
      auto b = std::make_unique<Backend>();
      backends.push_back(b.get());
      h.add_process(name, std::move(b));
    }
    slow().delay = 100_ms;
    gateway = h.build<Gateway>("gateway", 1, config).at(0);
    auto p = std::make_unique<dsimtest::ResponseProbe>();
    probe = p.get();
    probe_id = h.add_process("client", std::move(p));
  }
  static GatewayConfig two_dependencies(int workers) {
    GatewayConfig c;
    c.workers = workers;
    c.dependencies = {dependency("fast", 0), dependency("slow", 1)};
    return c;
  }
  /// Sends request `call_id` of `operation` at `t` (deadline: none, or `deadline`).
  void send_at(Time t, std::uint64_t call_id, std::uint8_t operation, Time deadline = Time::max()) {
    requests.push_back(
        RpcRequest{.call_id = call_id, .deadline = deadline, .operation = operation});
    h.sim.schedule_at(t, Send{&h.cluster, probe_id, h.nodes("gateway").at(0), &requests.back()});
  }
  const dsimtest::ResponseProbe::Received& answer(std::uint64_t call_id) const {
    for (const auto& r : probe->received)
      if (r.call_id == call_id) return r;
    FAIL("no answer to " << call_id);
    return probe->received.front();
  }
  double figure(const std::string& name) const { return dsimtest::figure(*gateway, name); }
  Backend& fast() { return *backends[0]; }
  Backend& slow() { return *backends[1]; }

  dsimtest::ModelHarness h;
  std::vector<Backend*> backends;
  std::deque<RpcRequest> requests;  // stable addresses
  Gateway* gateway;
  dsimtest::ResponseProbe* probe;
  NodeId probe_id;
};

}  // namespace

TEST_CASE("gateway: routes by operation and holds a worker until the call ends") {
  Bench b(Bench::two_dependencies(2));
  b.send_at(at_ms(1), 1, /*operation=*/1);  // slow: answered at 101
  b.send_at(at_ms(2), 2, /*operation=*/0);  // fast: answered at 3
  b.h.run();
  CHECK(b.answer(1).outcome == Outcome::Ok);
  CHECK(b.answer(1).at == at_ms(101));
  CHECK(b.answer(2).at == at_ms(3));
  CHECK(b.slow().seen_at.size() == 1);
  CHECK(b.fast().seen_at.size() == 1);
  CHECK(b.figure("dependency_requests[0]") == 1);
  CHECK(b.figure("dependency_requests[1]") == 1);
  CHECK(b.figure("workers_held_max[1]") == 1);
  CHECK(b.figure("busy_max") == 2);
  CHECK(b.figure("dependency_latency_max[1]") == Approx(100));
  CHECK(b.figure("dependency_latency_max[0]") == Approx(1));
  // The slow call held one worker for 100 ms of the 10 s measured.
  CHECK(b.figure("workers_held_mean[1]") == Approx(0.01));
  CHECK(b.gateway->busy() == 0);
}

TEST_CASE("gateway: with every worker busy requests queue FIFO, and a full queue rejects") {
  GatewayConfig c = Bench::two_dependencies(1);
  c.queue_limit = 1;
  Bench b(c);
  b.send_at(at_ms(1), 1, 1);  // takes the worker until 101
  b.send_at(at_ms(2), 2, 0);  // queues, called at 101
  b.send_at(at_ms(3), 3, 0);  // the queue is full
  b.h.run();
  CHECK(b.answer(3).outcome == Outcome::Rejected);
  CHECK(b.answer(3).at == at_ms(3));
  CHECK(b.fast().seen_at.at(0) == at_ms(101));
  CHECK(b.answer(2).at == at_ms(102));
  CHECK(b.figure("rejected_queue_full") == 1);
  CHECK(b.figure("queued_max") == 1);
  CHECK(b.figure("dependency_failures[0]") == 1);
  CHECK(b.figure("dependency_latency_max[0]") == Approx(100));  // queued 99 ms, called 1 ms
}

TEST_CASE("gateway: a request whose deadline passed in the queue is answered Timeout, uncalled") {
  Bench b(Bench::two_dependencies(1));
  b.send_at(at_ms(1), 1, 1);
  b.send_at(at_ms(2), 2, 0, /*deadline=*/at_ms(50));
  b.send_at(at_ms(3), 3, 0);
  b.h.run();
  CHECK(b.answer(2).outcome == Outcome::Timeout);
  CHECK(b.answer(2).at == at_ms(101));
  CHECK(b.answer(3).at == at_ms(102));  // the worker took the next one at once
  CHECK(b.fast().seen_at.size() == 1);
  CHECK(b.figure("expired_before_call") == 1);
}

TEST_CASE("gateway: a dependency's timeout goes upstream as Timeout, a refusal as Error") {
  GatewayConfig c = Bench::two_dependencies(4);
  c.dependencies[1].call.timeout = 20_ms;
  c.dependencies[1].call.bulkhead.max_concurrent = 1;
  Bench b(c);
  b.send_at(at_ms(1), 1, 1);
  b.send_at(at_ms(2), 2, 1);  // the bulkhead is full
  b.h.run();
  CHECK(b.answer(1).outcome == Outcome::Timeout);
  CHECK(b.answer(1).at == at_ms(21));
  CHECK(b.answer(2).outcome == Outcome::Error);
  CHECK(b.answer(2).at == at_ms(2));
  CHECK(b.figure("bulkhead_rejected") == 1);
  CHECK(b.figure("bulkhead_max_concurrent") == 1);
}

TEST_CASE("gateway: a slow dependency holds every worker unless a bulkhead caps its share") {
  const bool bulkhead = GENERATE(false, true);
  GatewayConfig c = Bench::two_dependencies(3);
  if (bulkhead) c.dependencies[1].call.bulkhead.max_concurrent = 2;
  Bench b(c);
  for (std::uint64_t i = 1; i <= 4; ++i) b.send_at(at_ms(i), i, 1);  // four slow calls
  b.send_at(at_ms(10), 10, 0);                                       // then a fast one
  b.h.run();
  CAPTURE(bulkhead);
  if (bulkhead) {
    CHECK(b.figure("workers_held_max[1]") == 2);
    CHECK(b.answer(3).outcome == Outcome::Error);  // refused at once: its worker is free again
    CHECK(b.answer(4).outcome == Outcome::Error);
    CHECK(b.answer(10).at == at_ms(11));  // a worker was free
  } else {
    CHECK(b.figure("workers_held_max[1]") == 3);
    CHECK(b.answer(4).outcome == Outcome::Ok);  // queued until 101, answered at 201
    CHECK(b.answer(4).at == at_ms(201));
    // Queued behind the fourth slow request, which took the worker freed at 101; the next one
    // is freed at 102.
    CHECK(b.answer(10).at == at_ms(103));
  }
}

TEST_CASE("gateway: requests no operation claims are shared by weight") {
  GatewayConfig c;
  c.workers = 1000;
  c.dependencies = {dependency("fast", -1), dependency("slow", -1)};
  c.dependencies[0].weight = 3;
  c.dependencies[1].weight = 1;
  Bench b(c);
  b.slow().delay = 1_ms;
  const int n = 4000;
  for (int i = 0; i < n; ++i) b.send_at(at_ms(1 + i), static_cast<std::uint64_t>(i + 1), 0);
  b.h.run();
  // Binomial(4000, 0.25): sd = sqrt(4000 x 0.25 x 0.75) = 27.4; 4.5 sd = 123.
  CHECK(std::abs(b.figure("dependency_requests[1]") - 1000) <= 123);
  CHECK(b.figure("dependency_requests[0]") + b.figure("dependency_requests[1]") == n);
}

TEST_CASE("gateway: a request no dependency takes is answered Error") {
  GatewayConfig c;
  c.dependencies = {dependency("fast", 0)};
  Bench b(c);
  b.send_at(at_ms(1), 1, 1);
  b.h.run();
  CHECK(b.answer(1).outcome == Outcome::Error);
  CHECK(b.figure("unrouted") == 1);
}

TEST_CASE("gateway: a crash loses the queue and the calls in progress") {
  Bench b(Bench::two_dependencies(1));
  b.send_at(at_ms(1), 1, 1);
  b.send_at(at_ms(2), 2, 0);
  b.h.faults.crash(at_ms(5), b.h.nodes("gateway").at(0), 1_ms);
  b.send_at(at_ms(10), 3, 0);
  b.h.run();
  REQUIRE(b.probe->received.size() == 1);  // 1 and 2 were lost
  CHECK(b.answer(3).at == at_ms(11));
  CHECK(b.gateway->busy() == 0);
  CHECK(b.gateway->queued() == 0);
}

TEST_CASE("gateway: checks its dependencies and is registered") {
  GatewayConfig c;
  c.dependencies = {dependency("a", 1), dependency("b", 1)};
  auto problems = Gateway::check(c);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].field == "dependencies/1/operation");
  c.dependencies = {dependency("a", -1)};
  c.dependencies[0].weight = 0;
  CHECK(Gateway::check(c).size() == 1);
  c.dependencies.clear();
  CHECK(Gateway::check(c).size() == 1);
  CHECK(scenario::find_model("gateway") != nullptr);
  const models::Wiring w = Gateway::wiring(Bench::two_dependencies(2));
  REQUIRE(w.calls.size() == 2);
  CHECK(w.calls[1].field == "dependencies/1/target");
}

TEST_CASE("gateway: the steady state allocates nothing per request, bulkhead waits included") {
  dsimtest::ModelHarness h(9, Time::zero(), at_ms(2000));
  models::ServerConfig fast, slow;
  fast.workers = 4;
  fast.service_time = Distribution::constant(1e6);
  slow.workers = 100;
  slow.service_time = Distribution::constant(30e6);
  h.build<models::Server>("fast", 1, fast);
  h.build<models::Server>("slow", 1, slow);
  GatewayConfig c = Bench::two_dependencies(8);
  c.dependencies[1].call.timeout = 20_ms;  // every slow call times out: timers, late answers
  c.dependencies[1].call.retry.max_attempts = 2;
  c.dependencies[1].call.bulkhead.max_concurrent = 2;
  c.dependencies[1].call.bulkhead.max_wait = 5_ms;
  const Gateway* gateway = h.build<Gateway>("gateway", 1, c).at(0);
  auto p = std::make_unique<dsimtest::ResponseProbe>();
  dsimtest::ResponseProbe& probe = *p;
  probe.received.reserve(10000);
  const NodeId from = h.add_process("client", std::move(p));
  struct Source {  // a request every 0.5 ms, reads and writes in turn, deadline 100 ms
    Simulator* sim;
    Cluster* cluster;
    NodeId from, to;
    std::uint8_t operation;
    void operator()() const {
      cluster->node(from).send(
          to, RpcRequest{.call_id = 1, .deadline = sim->now() + 100_ms, .operation = operation});
      sim->schedule_after(500_us,
                          Source{sim, cluster, from, to, static_cast<std::uint8_t>(1 - operation)});
    }
  };
  h.cluster.start();
  h.sim.schedule_at(Time::zero(), Source{&h.sim, &h.cluster, from, h.nodes("gateway").at(0), 0});
  h.sim.run_until(at_ms(300));
  const std::uint64_t before = allocation_count();
  h.sim.run_until(at_ms(1500));
  CHECK(allocation_count() - before == 0);
  CHECK(probe.received.size() > 2000);
  CHECK(dsimtest::figure(*gateway, "bulkhead_waited") > 0);
  CHECK(dsimtest::figure(*gateway, "bulkhead_rejected") > 0);
  CHECK(dsimtest::figure(*gateway, "retries") > 0);
}
