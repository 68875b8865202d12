// Relay mechanics: forwarding (at once, or after its service time), the answer and its outcome
// mapping, retries and a breaker of its own, what it propagates (key, origin, request_id, hops,
// idempotency), nothing recorded as an end-to-end request, a crash, and its registration.
#include <catch2/catch.hpp>

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "models/services/relay.hpp"
#include "scenario/model_catalog.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"

using namespace sim;
using models::Outcome;
using models::Relay;
using models::RelayConfig;
using models::RpcRequest;
using models::RpcResponse;

namespace {

// Answers the i-th request it receives with plan[i] (the last entry for any later one) after
// 1ms; Outcome::kCount means never.
class Backend : public Process {
 public:
  std::vector<Outcome> plan{Outcome::Ok};
  std::vector<RpcRequest> seen;
  std::vector<Time> seen_at;
  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    seen.push_back(message.as<RpcRequest>());
    seen_at.push_back(node.true_now());
    from_.push_back(message.from);
    if (outcome(seen.size() - 1) != Outcome::kCount) node.set_timer(1_ms, {1, seen.size() - 1});
  }
  void on_timer(Node& node, TimerTag tag) override {
    node.send(from_[tag.value],
              RpcResponse{.call_id = seen[tag.value].call_id, .outcome = outcome(tag.value)});
  }

 private:
  Outcome outcome(std::size_t i) const { return plan[std::min(i, plan.size() - 1)]; }
  std::vector<NodeId> from_;
};

// An event that sends a whole RpcRequest (kept by the bench: events capture 40 bytes at most).
struct Send {
  Cluster* cluster;
  NodeId from, to;
  const RpcRequest* request;
  void operator()() const { cluster->node(from).send(to, *request); }
};

struct Bench {
  explicit Bench(RelayConfig config) : h(5, Time::zero(), at_ms(10'000)) {
    auto b = std::make_unique<Backend>();
    backend = b.get();
    h.add_process("backend", std::move(b));
    config.call.target.name = "backend";
    relay = h.build<Relay>("relay", 1, config).at(0);
    auto p = std::make_unique<dsimtest::ResponseProbe>();
    probe = p.get();
    probe_id = h.add_process("client", std::move(p));
  }
  void send_at(Time t, RpcRequest request) {
    requests.push_back(request);
    h.sim.schedule_at(t, Send{&h.cluster, probe_id, h.nodes("relay").at(0), &requests.back()});
  }
  double figure(const std::string& name) const { return dsimtest::figure(*relay, name); }

  dsimtest::ModelHarness h;
  std::deque<RpcRequest> requests;  // stable addresses
  Backend* backend;
  Relay* relay;
  dsimtest::ResponseProbe* probe;
  NodeId probe_id;
};

RelayConfig relay_config() {
  RelayConfig c;
  c.call.timeout = 100_ms;
  return c;
}

}  // namespace

TEST_CASE("relay: forwards a request at once and answers with the outcome") {
  Bench b(relay_config());
  b.send_at(at_ms(1), RpcRequest{.call_id = 5, .key = 42});
  b.h.run();
  REQUIRE(b.backend->seen.size() == 1);
  CHECK(b.backend->seen_at[0] == at_ms(1));
  CHECK(b.backend->seen[0].key == 42);
  CHECK(b.backend->seen[0].hops == 1);
  REQUIRE(b.probe->received.size() == 1);
  CHECK(b.probe->received[0].call_id == 5);
  CHECK(b.probe->received[0].outcome == Outcome::Ok);
  CHECK(b.probe->received[0].at == at_ms(2));
  // The relay's calls are not end-to-end requests.
  CHECK(b.h.recorder.totals().requests == 0);
  CHECK(b.h.recorder.windows().at(0).attempts_sent == 0);
  CHECK(b.figure("requests_received") == 1);
  CHECK(b.figure("answered_ok") == 1);
  CHECK(b.figure("attempts") == 1);
  CHECK(b.relay->in_progress() == 0);
}

TEST_CASE("relay: its service time comes before forwarding") {
  RelayConfig c = relay_config();
  c.service_time = Distribution::constant(3e6);
  Bench b(c);
  b.send_at(at_ms(1), RpcRequest{.call_id = 1});
  b.h.run();
  REQUIRE(b.backend->seen.size() == 1);
  CHECK(b.backend->seen_at[0] == at_ms(4));
  REQUIRE(b.probe->received.size() == 1);
  CHECK(b.probe->received[0].at == at_ms(5));
}

TEST_CASE("relay: final outcomes map to Ok, Timeout or Error") {
  CHECK(models::relay_answer(Outcome::Ok) == Outcome::Ok);
  CHECK(models::relay_answer(Outcome::Timeout) == Outcome::Timeout);
  for (const Outcome o : {Outcome::Rejected, Outcome::Error, Outcome::CircuitOpen, Outcome::Dropped,
                          Outcome::RateLimited})
    CHECK(models::relay_answer(o) == Outcome::Error);

  SECTION("a rejection behind the relay is an error in front of it") {
    Bench b(relay_config());
    b.backend->plan = {Outcome::Rejected};
    b.send_at(at_ms(1), RpcRequest{.call_id = 1});
    b.h.run();
    REQUIRE(b.probe->received.size() == 1);
    CHECK(b.probe->received[0].outcome == Outcome::Error);
    CHECK(b.figure("answered_failed") == 1);
  }
  SECTION("a timeout behind the relay is a timeout in front of it") {
    RelayConfig c = relay_config();
    c.call.timeout = 10_ms;
    Bench b(c);
    b.backend->plan = {Outcome::kCount};  // never answers
    b.send_at(at_ms(1), RpcRequest{.call_id = 1});
    b.h.run();
    REQUIRE(b.probe->received.size() == 1);
    CHECK(b.probe->received[0].outcome == Outcome::Timeout);
    CHECK(b.probe->received[0].at == at_ms(11));
  }
}

TEST_CASE("relay: retries of its own, and its breaker's timeline") {
  RelayConfig c = relay_config();
  c.call.retry.max_attempts = 3;
  c.call.retry.backoff.kind = models::BackoffKind::None;
  c.call.circuit_breaker.enabled = true;
  c.call.circuit_breaker.sliding_window_size = 2;
  c.call.circuit_breaker.minimum_number_of_calls = 2;
  Bench b(c);
  b.backend->plan = {Outcome::Error, Outcome::Ok};
  b.send_at(at_ms(1), RpcRequest{.call_id = 1});
  b.h.run();
  REQUIRE(b.probe->received.size() == 1);
  CHECK(b.probe->received[0].outcome == Outcome::Ok);
  CHECK(b.probe->received[0].at == at_ms(3));
  REQUIRE(b.backend->seen.size() == 2);
  CHECK(b.backend->seen[1].attempt == 2);
  CHECK(b.figure("retries") == 1);
  const auto timelines = b.relay->state_timelines();
  REQUIRE(timelines.size() == 1);
  CHECK(timelines[0]->name() == "circuit_breaker");
}

TEST_CASE("relay: propagates the client's request identity, one more hop, and idempotency") {
  Bench b(relay_config());
  const NodeId client = b.probe_id;
  b.send_at(at_ms(1), RpcRequest{.call_id = 9,
                                 .key = 42,
                                 .hops = 2,
                                 .request_id = 77,
                                 .origin = client,
                                 .operation = 3,
                                 .idempotent = 0});
  b.h.run();
  REQUIRE(b.backend->seen.size() == 1);
  const RpcRequest& out = b.backend->seen[0];
  CHECK(out.key == 42);
  CHECK(out.hops == 3);
  CHECK(out.request_id == 77);
  CHECK(out.origin == client);
  CHECK(out.operation == 3);
  CHECK(out.idempotent == 0);
  CHECK(out.call_id != 9);  // the relay's own attempt id
}

TEST_CASE("relay: a crash loses the requests in progress") {
  RelayConfig c = relay_config();
  c.service_time = Distribution::constant(5e6);
  Bench b(c);
  b.send_at(at_ms(1), RpcRequest{.call_id = 1});
  b.send_at(at_ms(20), RpcRequest{.call_id = 2});
  b.h.faults.crash(at_ms(3), b.h.nodes("relay").at(0), 5_ms);
  b.h.run();
  CHECK(b.backend->seen.size() == 1);  // only the request after the restart
  REQUIRE(b.probe->received.size() == 1);
  CHECK(b.probe->received[0].call_id == 2);
  CHECK(b.relay->in_progress() == 0);
}

TEST_CASE("relay: its response overhead delays the answer, and a crash meanwhile loses it") {
  // A sidecar's cost on both ways: 3 ms in (service_time), 2 ms out (response_overhead), scaled
  // by the node's slowdown like the service time.
  RelayConfig c = relay_config();
  c.service_time = Distribution::constant(3e6);
  c.response_overhead = Distribution::constant(2e6);
  Bench b(c);
  b.send_at(at_ms(1), RpcRequest{.call_id = 1, .key = 7});
  b.send_at(at_ms(20), RpcRequest{.call_id = 2});
  b.h.faults.crash(at_ms(25), b.h.nodes("relay").at(0), 1_ms);  // 2 answered at 24: on its way out
  b.send_at(at_ms(40), RpcRequest{.call_id = 3});
  b.h.faults.slow(at_ms(39), b.h.nodes("relay").at(0), 2);
  b.h.run();
  REQUIRE(b.backend->seen.size() == 3);
  CHECK(b.backend->seen_at[0] == at_ms(4));  // 1 + 3 ms in
  REQUIRE(b.probe->received.size() == 2);
  CHECK(b.probe->received[0].call_id == 1);
  CHECK(b.probe->received[0].at == at_ms(7));  // backend answers at 5, + 2 ms out
  CHECK(b.probe->received[1].call_id == 3);
  CHECK(b.probe->received[1].at == at_ms(40 + 6 + 1 + 4));  // both ways twice as slow
  CHECK(b.figure("answered_ok") == 2);
  CHECK(b.relay->in_progress() == 0);
}

TEST_CASE("relay: registered in the model catalog with the caller's sections") {
  const scenario::ModelBinding* relay = scenario::find_model("relay");
  REQUIRE(relay != nullptr);
  std::vector<std::string> names;
  for (const auto& doc : relay->docs()) names.push_back(doc.name);
  for (const char* expected :
       {"service_time", "target", "timeout", "idempotent", "retry.max_attempts", "retry.base",
        "retry.jitter", "retry.deadline", "retry.retry_on.timeout", "retry.budget.ratio",
        "circuit_breaker.enabled", "circuit_breaker.sliding_window_type"})
    CHECK(std::find(names.begin(), names.end(), expected) != names.end());
}
