// Caller mechanics against scripted responders: the request it sends, the outcome it reports,
// the per-try timeout, late and duplicated answers, a crash, and the uniform choice of replica.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <vector>

#include "models/shared/caller.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/caller_owner.hpp"

using namespace sim;
using models::CallerConfig;
using models::CallResult;
using models::Outcome;
using models::RpcRequest;
using models::RpcResponse;

namespace {

// Answers every request `copies` times after `delay` with `outcome`, or never if `silent`.
class Responder : public Process {
 public:
  Duration delay = 5_ms;
  Outcome outcome = Outcome::Ok;
  int copies = 1;
  bool silent = false;
  std::vector<RpcRequest> seen;
  std::vector<NodeId> senders;

  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    seen.push_back(message.as<RpcRequest>());
    senders.push_back(message.from);
    if (!silent) node.set_timer(delay, {1, seen.size() - 1});
  }
  void on_timer(Node& node, TimerTag tag) override {
    for (int i = 0; i < copies; ++i)
      node.send(senders[tag.value],
                RpcResponse{.call_id = seen[tag.value].call_id, .outcome = outcome});
  }
};

using Owner = test::CallerOwner;
using test::StartCall;

struct Bench {
  explicit Bench(Duration timeout, std::size_t replicas = 1) : h(3, Time::zero(), at_ms(10'000)) {
    std::vector<NodeId> targets;
    for (std::size_t i = 0; i < replicas; ++i) {
      auto r = std::make_unique<Responder>();
      responders.push_back(r.get());
      targets.push_back(h.add_process("server", std::move(r)));
    }
    CallerConfig config;
    config.timeout = timeout;
    auto o = std::make_unique<Owner>(config, targets, &h.recorder);
    owner = o.get();
    owner_id = h.add_process("client", std::move(o));
  }
  void call_at(Time t, std::uint64_t key, std::uint64_t token) {
    h.sim.schedule_at(t, StartCall{owner, &h.cluster.node(owner_id), key, token});
  }
  dsimtest::ModelHarness h;
  std::vector<Responder*> responders;
  Owner* owner;
  NodeId owner_id;
};

double late_responses(const models::Caller& caller) {
  models::Figures f;
  caller.figures(f);
  return f.items().at(0).value;
}

}  // namespace

TEST_CASE("caller: an answered request ends Ok, recorded with its true start and end") {
  Bench b(100_ms);
  b.call_at(at_ms(1), 42, 7);
  b.h.run();
  REQUIRE(b.owner->done.size() == 1);
  const CallResult& r = b.owner->done[0];
  CHECK(r.token == 7);
  CHECK(r.outcome == Outcome::Ok);
  CHECK(r.started == at_ms(1));
  CHECK(r.ended == at_ms(6));
  CHECK(r.attempts == 1);

  REQUIRE(b.responders[0]->seen.size() == 1);
  const RpcRequest& sent = b.responders[0]->seen[0];
  CHECK(sent.key == 42);
  CHECK(sent.deadline == at_ms(101));  // now + timeout, true time
  CHECK(sent.attempt == 1);
  CHECK(sent.origin == b.owner_id);

  CHECK(b.h.recorder.totals().requests == 1);
  CHECK(b.h.recorder.totals().succeeded() == 1);
  CHECK(b.h.recorder.totals().attempts == 1);
  CHECK(b.h.recorder.latency().max_ns() == (5_ms).ns());
  CHECK(b.h.recorder.windows().at(0).attempts_sent == 1);
  CHECK(b.owner->caller.in_flight() == 0);
}

TEST_CASE("caller: the per-try timeout fires and the late answer is ignored") {
  Bench b(10_ms);
  b.responders[0]->delay = 30_ms;
  b.call_at(at_ms(1), 1, 1);
  b.h.run();
  REQUIRE(b.owner->done.size() == 1);  // the answer at 31ms does not end it a second time
  CHECK(b.owner->done[0].outcome == Outcome::Timeout);
  CHECK(b.owner->done[0].ended == at_ms(11));
  CHECK(late_responses(b.owner->caller) == 1);
  CHECK(b.h.recorder.totals().by_outcome[static_cast<int>(Outcome::Timeout)] == 1);
  CHECK(b.h.recorder.latency().empty());  // latency percentiles are over successes only
}

TEST_CASE("caller: an answer cancels its timeout") {
  Bench b(10_ms);
  b.responders[0]->delay = 9_ms;
  b.call_at(at_ms(1), 1, 1);
  b.h.run();
  REQUIRE(b.owner->done.size() == 1);
  CHECK(b.owner->done[0].outcome == Outcome::Ok);
  CHECK(b.h.sim.pending_events() == 0);
}

TEST_CASE("caller: a duplicated answer is ignored") {
  Bench b(100_ms);
  b.responders[0]->copies = 2;
  b.call_at(at_ms(1), 1, 1);
  b.h.run();
  CHECK(b.owner->done.size() == 1);
  CHECK(late_responses(b.owner->caller) == 1);
}

TEST_CASE("caller: a refusal ends the request with the server's outcome") {
  Bench b(100_ms);
  b.responders[0]->outcome = Outcome::Rejected;
  b.call_at(at_ms(1), 1, 1);
  b.h.run();
  REQUIRE(b.owner->done.size() == 1);
  CHECK(b.owner->done[0].outcome == Outcome::Rejected);
  CHECK(b.h.recorder.totals().by_outcome[static_cast<int>(Outcome::Rejected)] == 1);
}

TEST_CASE("caller: timeout 0 waits forever and sends no deadline") {
  Bench b(Duration::zero());
  b.responders[0]->delay = 5'000_ms;
  b.call_at(at_ms(1), 1, 1);
  b.h.run();
  REQUIRE(b.owner->done.size() == 1);
  CHECK(b.owner->done[0].outcome == Outcome::Ok);
  CHECK(b.owner->done[0].ended == at_ms(5001));
  CHECK(b.responders[0]->seen.at(0).deadline == Time::max());
}

TEST_CASE("caller: a crash abandons the pending requests, their answers come back late") {
  Bench b(10_ms);
  for (std::uint64_t k = 0; k < 3; ++k) b.call_at(at_ms(1), k, k);
  b.h.faults.crash(at_ms(2), b.owner_id, 1_ms);  // up again at 3ms, answers arrive at 6ms
  b.h.run();
  CHECK(b.owner->done.empty());  // neither an answer nor the old incarnation's timeouts
  CHECK(b.owner->caller.in_flight() == 0);
  CHECK(b.h.recorder.abandoned_requests() == 3);
  CHECK(b.h.recorder.totals().requests == 0);
  CHECK(late_responses(b.owner->caller) == 3);
}

TEST_CASE("caller: each attempt goes to a replica drawn uniformly") {
  Bench b(100_ms, 3);
  constexpr int kCalls = 30'000;
  for (int k = 0; k < kCalls; ++k) b.call_at(Time::zero() + Duration::nanoseconds(k * 1000), 0, 0);
  b.h.run();
  CHECK(b.owner->done.size() == static_cast<std::size_t>(kCalls));
  // Binomial(30,000, 1/3) per replica: 5 standard errors (5 x 81.6) around 10,000.
  const double se = std::sqrt(kCalls * (1.0 / 3) * (2.0 / 3));
  for (const Responder* r : b.responders)
    CHECK(std::abs(static_cast<double>(r->seen.size()) - kCalls / 3.0) < 5 * se);
}

TEST_CASE("caller: other timers and messages are the owner's") {
  Bench b(10_ms);
  b.h.cluster.start();
  Node& node = b.h.cluster.node(b.owner_id);
  CHECK_FALSE(
      b.owner->caller.on_timer(node, {Owner::kCallerTimer + models::Caller::kTimerKinds, 0}));
  Message m;
  m.set(RpcRequest{});
  CHECK_FALSE(b.owner->caller.on_message(node, m));
}

TEST_CASE("caller: a missing target is a scenario error") {
  dsimtest::ModelHarness h(1, Time::zero(), at_ms(10));
  models::BuildContext ctx{
      .cluster = h.cluster,
      .faults = h.faults,
      .recorder = h.recorder,
      .component = "client",
      .nodes = {},
      .warmup_end = Time::zero(),
      .end = at_ms(10),
      .resolve = [](const models::ComponentRef&) { return std::vector<NodeId>{}; }};
  CallerConfig config;
  CHECK_THROWS_AS(models::resolve_target(config, ctx), std::invalid_argument);
  config.target.name = "nowhere";
  CHECK_THROWS_AS(models::resolve_target(config, ctx), std::invalid_argument);
}
