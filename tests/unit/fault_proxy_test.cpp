// Fault injector mechanics: delay, abort, forward and relay; the caller's deadline; a crash.
#include <catch2/catch.hpp>

#include <deque>
#include <memory>

#include "models/proxies/fault_proxy.hpp"
#include "models/services/server.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"

using namespace sim;
using models::FaultProxy;
using models::FaultProxyConfig;
using models::Outcome;
using models::RpcRequest;

namespace {

// A proxy in front of one server that answers after exactly 2 ms, and a probe that sends.
struct Bench {
  explicit Bench(FaultProxyConfig config) : h(3, Time::zero(), at_ms(10'000)) {
    models::ServerConfig server;
    server.service_time = Distribution::constant(2e6);
    h.build<models::Server>("db", 1, server);
    config.target.name = "db";
    proxy = h.build<FaultProxy>("proxy", 1, config)[0];
    auto p = std::make_unique<dsimtest::ResponseProbe>();
    probe = p.get();
    probe_id = h.add_process("probe", std::move(p));
  }
  // Sends request `call_id` at `at` with an optional deadline.
  void send(std::uint64_t call_id, Time at, Time deadline = Time::max()) {
    requests.push_back({.call_id = call_id, .deadline = deadline});
    h.sim.schedule_at(at, Send{&h.cluster, probe_id, h.nodes("proxy")[0], &requests.back()});
  }
  struct Send {
    Cluster* cluster;
    NodeId from, to;
    const RpcRequest* request;
    void operator()() const { cluster->node(from).send(to, *request); }
  };
  dsimtest::ModelHarness h;
  FaultProxy* proxy = nullptr;
  dsimtest::ResponseProbe* probe = nullptr;
  NodeId probe_id = kNoNode;
  std::deque<RpcRequest> requests;
};

}  // namespace

TEST_CASE("fault proxy: with no faults it forwards and relays the answer") {
  Bench b({});
  b.send(7, at_ms(10));
  b.h.run();
  REQUIRE(b.probe->received.size() == 1);
  CHECK(b.probe->received[0].call_id == 7);
  CHECK(b.probe->received[0].outcome == Outcome::Ok);
  CHECK(b.probe->received[0].at == at_ms(12));  // the server's 2 ms, zero-latency network
  CHECK(dsimtest::figure(*b.proxy, "forwarded") == 1);
  CHECK(b.proxy->in_progress() == 0);
}

TEST_CASE("fault proxy: a delayed request is held, then forwarded") {
  FaultProxyConfig c;
  c.delay_probability.value = 1;
  c.delay = 50_ms;
  Bench b(c);
  b.send(1, at_ms(10));
  b.h.run();
  REQUIRE(b.probe->received.size() == 1);
  CHECK(b.probe->received[0].at == at_ms(62));
  CHECK(dsimtest::figure(*b.proxy, "delayed") == 1);
}

TEST_CASE("fault proxy: an aborted request is answered at once and never forwarded") {
  FaultProxyConfig c;
  c.abort_probability.value = 1;
  c.abort_with = Outcome::Rejected;
  Bench b(c);
  b.send(1, at_ms(10));
  b.h.run();
  REQUIRE(b.probe->received.size() == 1);
  CHECK(b.probe->received[0].outcome == Outcome::Rejected);
  CHECK(b.probe->received[0].at == at_ms(10));
  CHECK(dsimtest::figure(*b.proxy, "forwarded") == 0);
  CHECK(dsimtest::figure(*b.proxy, "aborted") == 1);
}

TEST_CASE("fault proxy: the delay comes before the abort, as in Envoy") {
  FaultProxyConfig c;
  c.delay_probability.value = 1;
  c.delay = 30_ms;
  c.abort_probability.value = 1;
  Bench b(c);
  b.send(1, at_ms(10));
  b.h.run();
  REQUIRE(b.probe->received.size() == 1);
  CHECK(b.probe->received[0].outcome == Outcome::Error);
  CHECK(b.probe->received[0].at == at_ms(40));
}

TEST_CASE("fault proxy: it stops waiting at the caller's deadline, the answer is late") {
  FaultProxyConfig c;
  c.delay_probability.value = 1;
  c.delay = 5_ms;
  Bench b(c);
  b.send(1, at_ms(10), /*deadline=*/at_ms(16));  // held to 15, answered at 17: after 16
  b.h.run();
  CHECK(b.probe->received.empty());
  CHECK(b.proxy->in_progress() == 0);
  CHECK(dsimtest::figure(*b.proxy, "late_responses") == 1);
}

TEST_CASE("fault proxy: a crash loses what it holds") {
  FaultProxyConfig c;
  c.delay_probability.value = 1;
  c.delay = 50_ms;
  Bench b(c);
  b.send(1, at_ms(10));
  b.h.faults.crash(at_ms(20), b.h.nodes("proxy")[0], 10_ms);
  b.h.run();
  CHECK(b.probe->received.empty());
  CHECK(b.proxy->in_progress() == 0);
}
