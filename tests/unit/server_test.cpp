// Server mechanics, with constant service times so that every answer time is known exactly:
// FIFO order, workers in parallel, rejection when the queue is full, slowdown, crash, figures.
#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "models/services/server.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"

using namespace sim;
using models::Outcome;
using models::Server;
using models::ServerConfig;

namespace {

ServerConfig constant_service(Duration service, int workers = 1, std::int64_t queue_limit = -1) {
  ServerConfig config;
  config.workers = workers;
  config.queue_limit = queue_limit;
  config.service_time = Distribution::constant(static_cast<double>(service.ns()));
  return config;
}

// A probe node and a one-node server component, measured over the whole run.
struct Bench {
  explicit Bench(const ServerConfig& config, Time end = at_ms(1000)) : h(7, Time::zero(), end) {
    auto p = std::make_unique<dsimtest::ResponseProbe>();
    probe = p.get();
    probe_id = h.add_process("probe", std::move(p));
    server = h.build<Server>("server", 1, config).at(0);
    server_id = h.nodes("server").at(0);
  }
  void send_at(Time t, std::uint64_t call_id) {
    h.sim.schedule_at(t, dsimtest::SendRequest{&h.cluster, probe_id, server_id, call_id});
  }
  dsimtest::ModelHarness h;
  dsimtest::ResponseProbe* probe;
  Server* server;
  NodeId probe_id, server_id;
};

}  // namespace

TEST_CASE("server: one worker serves requests in arrival order (FIFO)") {
  Bench b(constant_service(10_ms));
  for (std::uint64_t id = 1; id <= 5; ++id) b.send_at(Time::zero(), id);
  b.h.run();
  REQUIRE(b.probe->received.size() == 5);
  for (std::uint64_t i = 0; i < 5; ++i) {
    CHECK(b.probe->received[i].call_id == i + 1);
    CHECK(b.probe->received[i].outcome == Outcome::Ok);
    CHECK(b.probe->received[i].at == at_ms(10 * static_cast<std::int64_t>(i + 1)));
  }
  CHECK(dsimtest::figure(*b.server, "max_queue") == 4);
}

TEST_CASE("server: workers serve in parallel") {
  Bench b(constant_service(10_ms, 3));
  for (std::uint64_t id = 1; id <= 7; ++id) b.send_at(Time::zero(), id);
  b.h.run();
  REQUIRE(b.probe->received.size() == 7);
  for (std::size_t i = 0; i < 7; ++i) {
    // Three at 10ms, three at 20ms, the last at 30ms; within a batch, in arrival order.
    CHECK(b.probe->received[i].at == at_ms(10 * static_cast<std::int64_t>(i / 3 + 1)));
    CHECK(b.probe->received[i].call_id == i + 1);
  }
}

TEST_CASE("server: a full queue rejects at once, the rest are served") {
  Bench b(constant_service(10_ms, 1, 2));
  for (std::uint64_t id = 1; id <= 5; ++id) b.send_at(Time::zero(), id);
  b.h.run();
  REQUIRE(b.probe->received.size() == 5);
  // 1 in service, 2 and 3 wait, 4 and 5 are refused at time 0.
  CHECK(b.probe->received[0].call_id == 4);
  CHECK(b.probe->received[0].outcome == Outcome::Rejected);
  CHECK(b.probe->received[0].at == Time::zero());
  CHECK(b.probe->received[1].call_id == 5);
  CHECK(b.probe->received[1].outcome == Outcome::Rejected);
  for (std::size_t i = 2; i < 5; ++i) {
    CHECK(b.probe->received[i].call_id == i - 1);
    CHECK(b.probe->received[i].outcome == Outcome::Ok);
  }
  CHECK(dsimtest::figure(*b.server, "arrivals") == 5);
  CHECK(dsimtest::figure(*b.server, "rejected") == 2);
  CHECK(dsimtest::figure(*b.server, "completed") == 3);
  CHECK(dsimtest::figure(*b.server, "max_queue") == 2);
}

TEST_CASE("server: queue_limit 0 means no waiting room") {
  Bench b(constant_service(10_ms, 2, 0));
  for (std::uint64_t id = 1; id <= 3; ++id) b.send_at(Time::zero(), id);
  b.h.run();
  REQUIRE(b.probe->received.size() == 3);
  CHECK(b.probe->received[0].call_id == 3);
  CHECK(b.probe->received[0].outcome == Outcome::Rejected);
  CHECK(dsimtest::figure(*b.server, "waited_fraction") == 0);
}

TEST_CASE("server: a slowed node multiplies its service times") {
  Bench b(constant_service(10_ms));
  b.h.faults.slow(Time::zero(), b.server_id, 3.0, 100_ms);
  b.send_at(Time::zero() + 1_ms, 1);    // slowed: 30ms
  b.send_at(Time::zero() + 200_ms, 2);  // back to normal: 10ms
  b.h.run();
  REQUIRE(b.probe->received.size() == 2);
  CHECK(b.probe->received[0].at == at_ms(31));
  CHECK(b.probe->received[1].at == at_ms(210));
}

TEST_CASE("server: a crash loses the queue and the requests in service, restart starts empty") {
  Bench b(constant_service(10_ms, 2));
  for (std::uint64_t id = 1; id <= 5; ++id) b.send_at(Time::zero(), id);
  b.h.faults.crash(Time::zero() + 5_ms, b.server_id, 10_ms);  // back up at 15ms
  b.send_at(at_ms(20), 6);
  b.h.run();
  REQUIRE(b.probe->received.size() == 1);  // nothing of the first five is ever answered
  CHECK(b.probe->received[0].call_id == 6);
  CHECK(b.probe->received[0].at == at_ms(30));
  CHECK(dsimtest::figure(*b.server, "lost_in_crash") == 5);
  CHECK(dsimtest::figure(*b.server, "completed") == 1);
  CHECK(b.server->queued() == 0);
  CHECK(b.server->busy_workers() == 0);
}

TEST_CASE("server: figures of a deterministic half-loaded run") {
  // One request every 20ms, served in 10ms, over [0, 1s]: busy half the time, never waits.
  Bench b(constant_service(10_ms), at_ms(1000));
  for (std::int64_t k = 0; k < 50; ++k) b.send_at(at_ms(20 * k), static_cast<std::uint64_t>(k + 1));
  b.h.run();
  const auto& s = *b.server;
  CHECK(dsimtest::figure(s, "arrivals") == 50);
  CHECK(dsimtest::figure(s, "completed") == 50);
  CHECK(dsimtest::figure(s, "utilization") == Approx(0.5));
  CHECK(dsimtest::figure(s, "mean_in_system") == Approx(0.5));
  CHECK(dsimtest::figure(s, "mean_in_queue") == 0);
  CHECK(dsimtest::figure(s, "mean_sojourn_ms") == Approx(10.0));
  CHECK(dsimtest::figure(s, "throughput_per_s") == Approx(50.0));
  CHECK(dsimtest::figure(s, "little_lambda_w") == Approx(0.5));
  CHECK(dsimtest::figure(s, "waited_fraction") == 0);
}

TEST_CASE("server: figures count only the measured interval") {
  dsimtest::ModelHarness h(7, at_ms(100), at_ms(200));
  auto p = std::make_unique<dsimtest::ResponseProbe>();
  const NodeId probe = h.add_process("probe", std::move(p));
  Server* server = h.build<Server>("server", 1, constant_service(10_ms)).at(0);
  const NodeId server_id = h.nodes("server").at(0);
  // Two before the warm-up ends, one straddling it (arrives 95ms, done 105ms), two inside.
  for (std::int64_t t : {10, 50, 95, 120, 150})
    h.sim.schedule_at(at_ms(t), dsimtest::SendRequest{&h.cluster, probe, server_id, 1});
  h.run();
  CHECK(dsimtest::figure(*server, "arrivals") == 2);
  CHECK(dsimtest::figure(*server, "completed") == 3);  // the straddler completes inside ...
  CHECK(dsimtest::figure(*server, "mean_sojourn_ms") == Approx(10.0));  // ... but is no W sample
  CHECK(dsimtest::figure(*server, "utilization") == Approx(0.25));      // 5 + 10 + 10 ms of 100
}

TEST_CASE("server: the steady state allocates nothing per request") {
  Bench b(constant_service(1_ms, 2), at_ms(2000));
  b.h.cluster.start();
  struct Source {  // a request every 0.7ms, forever
    Simulator* sim;
    Cluster* cluster;
    NodeId from, to;
    void operator()() const {
      cluster->node(from).send(to, models::RpcRequest{.call_id = 1});
      sim->schedule_after(700_us, *this);
    }
  };
  b.h.sim.schedule_at(Time::zero(), Source{&b.h.sim, &b.h.cluster, b.probe_id, b.server_id});
  b.probe->received.reserve(4000);
  b.h.sim.run_until(at_ms(100));
  const std::uint64_t before = allocation_count();
  b.h.sim.run_until(at_ms(1000));
  CHECK(allocation_count() - before == 0);
  CHECK(b.probe->received.size() > 1000);
}
