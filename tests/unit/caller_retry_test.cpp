// Caller with retries and a circuit breaker, against scripted responders: attempts and their
// timing, retry_on, max_attempts, the overall deadline, the budget, short-circuited calls and
// the breaker's timeline, exact counting of duplicate effects, a caller without a recorder, a
// crash, and no allocation per request in a steady state with everything turned on.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "models/clients/open_loop_client.hpp"
#include "models/services/server.hpp"
#include "models/shared/caller.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"
#include "tests/unit/caller_owner.hpp"

using namespace sim;
using models::BackoffKind;
using models::CallerConfig;
using models::CallResult;
using models::Jitter;
using models::Outcome;
using models::RpcRequest;
using models::RpcResponse;

namespace {

// Answers the i-th request it receives as plan[i] says (the last entry for any later one).
class Scripted : public Process {
 public:
  struct Reply {
    Duration delay = 1_ms;
    Outcome outcome = Outcome::Ok;
    int copies = 1;  // 0: never answered
  };
  std::vector<Reply> plan{Reply{}};
  std::vector<RpcRequest> seen;
  std::vector<Time> seen_at;

  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    seen.push_back(message.as<RpcRequest>());
    seen_at.push_back(node.true_now());
    senders_.push_back(message.from);
    const Reply& r = reply(seen.size() - 1);
    if (r.copies > 0) node.set_timer(r.delay, {1, seen.size() - 1});
  }
  void on_timer(Node& node, TimerTag tag) override {
    const Reply& r = reply(tag.value);
    for (int i = 0; i < r.copies; ++i)
      node.send(senders_[tag.value],
                RpcResponse{.call_id = seen[tag.value].call_id, .outcome = r.outcome});
  }

 private:
  const Reply& reply(std::size_t i) const { return plan[std::min(i, plan.size() - 1)]; }
  std::vector<NodeId> senders_;
};

using Owner = test::CallerOwner;
using test::StartCall;

CallerConfig retrying(int max_attempts, Duration backoff, Duration timeout = 100_ms) {
  CallerConfig c;
  c.timeout = timeout;
  c.retry.max_attempts = max_attempts;
  c.retry.backoff.kind = backoff == Duration::zero() ? BackoffKind::None : BackoffKind::Constant;
  c.retry.backoff.base = backoff;
  c.retry.backoff.jitter = Jitter::None;
  return c;
}

struct Bench {
  explicit Bench(const CallerConfig& config, bool record = true)
      : h(3, Time::zero(), at_ms(20'000)) {
    auto s = std::make_unique<Scripted>();
    server = s.get();
    const NodeId target = h.add_process("server", std::move(s));
    auto o = std::make_unique<Owner>(config, std::vector<NodeId>{target},
                                     record ? &h.recorder : nullptr);
    owner = o.get();
    owner_id = h.add_process("client", std::move(o));
  }
  void call_at(Time t, std::uint64_t token = 0) {
    h.sim.schedule_at(t, StartCall{owner, &h.cluster.node(owner_id), 7, token});
  }
  double figure(const std::string& name) const {
    models::Figures f;
    owner->caller.figures(f);
    for (const auto& item : f.items())
      if (item.name == name) return item.value;
    FAIL("no figure " << name);
    return 0;
  }
  dsimtest::ModelHarness h;
  Scripted* server;
  Owner* owner;
  NodeId owner_id;
};

using Reply = Scripted::Reply;

}  // namespace

TEST_CASE("caller retry: failed tries are retried after the backoff until one succeeds") {
  Bench b(retrying(4, 5_ms));
  b.server->plan = {Reply{1_ms, Outcome::Error}, Reply{1_ms, Outcome::Error},
                    Reply{1_ms, Outcome::Ok}};
  b.call_at(at_ms(1), 9);
  b.h.run();
  REQUIRE(b.owner->done.size() == 1);
  const CallResult& r = b.owner->done[0];
  CHECK(r.token == 9);
  CHECK(r.outcome == Outcome::Ok);
  CHECK(r.attempts == 3);
  CHECK(r.started == at_ms(1));
  CHECK(r.ended == at_ms(14));  // tries at 1, 7, 13 ms; each answered 1ms later
  REQUIRE(b.server->seen.size() == 3);
  CHECK(b.server->seen_at == std::vector<Time>{at_ms(1), at_ms(7), at_ms(13)});
  for (std::uint32_t i = 0; i < 3; ++i) {
    CHECK(b.server->seen[i].attempt == i + 1);
    CHECK(b.server->seen[i].request_id == b.server->seen[0].request_id);
    CHECK(b.server->seen[i].origin == b.owner_id);
  }
  CHECK(b.server->seen[0].call_id != b.server->seen[1].call_id);
  CHECK(b.figure("attempts") == 3);
  CHECK(b.figure("retries") == 2);
  CHECK(b.h.recorder.totals().requests == 1);
  CHECK(b.h.recorder.totals().attempts == 3);
  CHECK(b.h.recorder.windows().at(0).attempts_sent == 3);
  CHECK(b.owner->caller.in_flight() == 0);
  CHECK(b.h.sim.pending_events() == 0);
}

TEST_CASE("caller retry: after max_attempts the request ends with the last failure") {
  SECTION("answers") {
    Bench b(retrying(3, Duration::zero()));
    b.server->plan = {Reply{1_ms, Outcome::Error}, Reply{1_ms, Outcome::Rejected}};
    b.call_at(at_ms(1));
    b.h.run();
    REQUIRE(b.owner->done.size() == 1);
    CHECK(b.owner->done[0].outcome == Outcome::Rejected);
    CHECK(b.owner->done[0].attempts == 3);
    CHECK(b.owner->done[0].ended == at_ms(4));  // no backoff: each retry at once
  }
  SECTION("timeouts") {
    Bench b(retrying(3, Duration::zero(), 10_ms));
    b.server->plan = {Reply{1_ms, Outcome::Ok, 0}};
    b.call_at(at_ms(1));
    b.h.run();
    REQUIRE(b.owner->done.size() == 1);
    CHECK(b.owner->done[0].outcome == Outcome::Timeout);
    CHECK(b.owner->done[0].ended == at_ms(31));
    CHECK(b.server->seen_at == std::vector<Time>{at_ms(1), at_ms(11), at_ms(21)});
  }
}

TEST_CASE("caller retry: retry_on filters the outcomes retried") {
  CallerConfig c = retrying(5, 1_ms);
  c.retry.retry_on.rejected = false;
  Bench b(c);
  b.server->plan = {Reply{1_ms, Outcome::Error}, Reply{1_ms, Outcome::Rejected}};
  b.call_at(at_ms(1));
  b.h.run();
  REQUIRE(b.owner->done.size() == 1);
  CHECK(b.owner->done[0].outcome == Outcome::Rejected);  // the error was retried, not this
  CHECK(b.owner->done[0].attempts == 2);
}

TEST_CASE("caller retry: the overall deadline stops retries and cuts the last try short") {
  SECTION("no retry that would start after the deadline") {
    CallerConfig c = retrying(10, 5_ms, 30_ms);
    c.retry.deadline = 70_ms;  // until 71ms
    Bench b(c);
    b.server->plan = {Reply{1_ms, Outcome::Ok, 0}};  // silent
    b.call_at(at_ms(1));
    b.h.run();
    REQUIRE(b.owner->done.size() == 1);
    // Tries at 1 and 36 ms time out at 31 and 66; a retry at 71 would be at the deadline.
    CHECK(b.owner->done[0].outcome == Outcome::Timeout);
    CHECK(b.owner->done[0].ended == at_ms(66));
    CHECK(b.owner->done[0].attempts == 2);
    CHECK(b.figure("retries_stopped_by_deadline") == 1);
  }
  SECTION("the try's timeout ends at the deadline") {
    CallerConfig c = retrying(10, 5_ms, 30_ms);
    c.retry.deadline = 60_ms;  // until 61ms
    Bench b(c);
    b.server->plan = {Reply{1_ms, Outcome::Ok, 0}};
    b.call_at(at_ms(1));
    b.h.run();
    REQUIRE(b.owner->done.size() == 1);
    CHECK(b.owner->done[0].ended == at_ms(61));  // the second try had 25ms, not 30
    CHECK(b.server->seen.at(1).deadline == at_ms(61));
    CHECK(b.owner->done[0].attempts == 2);
  }
  SECTION("with timeout 0 the deadline is the only limit") {
    CallerConfig c = retrying(10, 5_ms, Duration::zero());
    c.retry.deadline = 50_ms;
    Bench b(c);
    b.server->plan = {Reply{1_ms, Outcome::Ok, 0}};
    b.call_at(at_ms(1));
    b.h.run();
    REQUIRE(b.owner->done.size() == 1);
    CHECK(b.owner->done[0].ended == at_ms(51));
    CHECK(b.server->seen.at(0).deadline == at_ms(51));
  }
}

TEST_CASE("caller retry: the budget denies retries beyond ratio x requests") {
  CallerConfig c = retrying(2, 1_ms);
  c.retry.budget = {.enabled = true, .ratio = 0.5, .min_retries_per_s = 0, .ttl = 10'000_ms};
  Bench b(c);
  b.server->plan = {Reply{1_ms, Outcome::Error}};
  for (int i = 0; i < 4; ++i) b.call_at(at_ms(1), static_cast<std::uint64_t>(i));
  b.h.run();
  REQUIRE(b.owner->done.size() == 4);
  CHECK(b.figure("retries") == 2);  // 4 requests x 0.5
  CHECK(b.figure("retries_denied_by_budget") == 2);
  CHECK(b.figure("attempts") == 6);
  CHECK(b.server->seen.size() == 6);
}

TEST_CASE("caller retry: an open breaker short-circuits calls without sending them") {
  CallerConfig c = retrying(1, Duration::zero());
  c.circuit_breaker.enabled = true;
  c.circuit_breaker.sliding_window_size = 2;
  c.circuit_breaker.minimum_number_of_calls = 2;
  c.circuit_breaker.wait_duration_in_open_state = 1'000_ms;
  c.circuit_breaker.permitted_number_of_calls_in_half_open_state = 1;

  SECTION("refused at once with CircuitOpen") {
    Bench b(c);
    b.server->plan = {Reply{1_ms, Outcome::Error}};
    b.call_at(at_ms(1), 1);
    b.call_at(at_ms(2), 2);  // answered at 3ms: the breaker opens
    b.call_at(at_ms(10), 3);
    b.h.run();
    REQUIRE(b.owner->done.size() == 3);
    const CallResult& refused = b.owner->done[2];
    CHECK(refused.token == 3);
    CHECK(refused.outcome == Outcome::CircuitOpen);
    CHECK(refused.attempts == 0);
    CHECK(refused.ended == at_ms(10));
    CHECK(b.server->seen.size() == 2);
    CHECK(b.figure("short_circuited") == 1);
    CHECK(b.figure("circuit_opened") == 1);
    CHECK(b.h.recorder.totals().by_outcome[static_cast<int>(Outcome::CircuitOpen)] == 1);
    const auto timelines = b.owner->caller.state_timelines();
    REQUIRE(timelines.size() == 1);
    CHECK(timelines[0]->name() == "circuit_breaker");
    REQUIRE(timelines[0]->changes().size() == 2);
    CHECK(timelines[0]->changes()[1].at == at_ms(3));
    CHECK(std::string(timelines[0]->changes()[1].state) == "open");
  }
  SECTION("retried per retry_on.circuit_open, after the backoff") {
    c.retry = retrying(3, 600_ms).retry;
    c.retry.retry_on.circuit_open = true;
    c.retry.retry_on.error = false;
    Bench b(c);
    b.server->plan = {Reply{1_ms, Outcome::Error}};
    b.call_at(at_ms(1), 1);
    b.call_at(at_ms(2), 2);
    b.call_at(at_ms(10), 3);
    b.h.run();
    REQUIRE(b.owner->done.size() == 3);
    // Refused at 10 and 610; at 1210 the wait (opened at 3) is over: half-open lets it through.
    CHECK(b.server->seen_at.back() == at_ms(1'210));
    CHECK(b.server->seen.back().attempt == 3);
    CHECK(b.owner->done[2].outcome == Outcome::Error);
    CHECK(b.owner->done[2].attempts == 1);
    CHECK(b.figure("short_circuited") == 2);
    CHECK(b.owner->caller.breaker()->state() == models::BreakerState::Open);  // failed trial
  }
  SECTION("automatic transition on the caller's timer") {
    c.circuit_breaker.automatic_transition = true;
    c.circuit_breaker.wait_duration_in_open_state = 100_ms;
    Bench b(c);
    b.server->plan = {Reply{1_ms, Outcome::Error}};
    b.call_at(at_ms(1));
    b.call_at(at_ms(2));
    b.h.run();
    const auto& changes = b.owner->caller.breaker()->timeline().changes();
    REQUIRE(changes.size() == 3);
    CHECK(changes[2].at == at_ms(103));
    CHECK(std::string(changes[2].state) == "half_open");
  }
}

TEST_CASE("caller retry: duplicate effects of non-idempotent requests are counted exactly") {
  CallerConfig c = retrying(2, Duration::zero(), 10_ms);
  c.idempotent = false;
  // The first try is answered Ok at 31ms (after its timeout at 11ms), the retry at 12ms.
  const std::vector<Reply> late_first = {Reply{30_ms, Outcome::Ok}, Reply{1_ms, Outcome::Ok}};

  SECTION("a late Ok of an earlier try after the retry's Ok: one duplicate") {
    Bench b(c);
    b.server->plan = late_first;
    b.call_at(at_ms(1));
    b.h.run();
    REQUIRE(b.owner->done.size() == 1);
    CHECK(b.owner->done[0].outcome == Outcome::Ok);
    CHECK(b.owner->done[0].ended == at_ms(12));
    CHECK(b.server->seen.at(0).idempotent == 0);
    CHECK(b.figure("duplicate_effects") == 1);
    CHECK(b.h.recorder.duplicate_effects() == 1);
    CHECK(b.figure("late_responses") == 1);
    CHECK(b.owner->caller.in_flight() == 0);
  }
  SECTION("idempotent requests have no duplicate effects") {
    c.idempotent = true;
    Bench b(c);
    b.server->plan = late_first;
    b.call_at(at_ms(1));
    b.h.run();
    CHECK(b.figure("duplicate_effects") == 0);
    CHECK(b.h.recorder.duplicate_effects() == 0);
    CHECK(b.figure("late_responses") == 1);
  }
  SECTION("a duplicated answer is one effect") {
    Bench b(c);
    b.server->plan = {Reply{30_ms, Outcome::Ok, 0}, Reply{1_ms, Outcome::Ok, 2}};
    b.call_at(at_ms(1));
    b.h.run();
    CHECK(b.owner->done.at(0).outcome == Outcome::Ok);
    CHECK(b.figure("duplicate_effects") == 0);
    CHECK(b.figure("late_responses") == 1);
  }
  SECTION("a late failure is no effect") {
    Bench b(c);
    b.server->plan = {Reply{30_ms, Outcome::Rejected}, Reply{1_ms, Outcome::Ok}};
    b.call_at(at_ms(1));
    b.h.run();
    CHECK(b.figure("duplicate_effects") == 0);
  }
  SECTION("both tries time out, both Oks come late: a failed request with two effects") {
    Bench b(c);
    b.server->plan = {Reply{30_ms, Outcome::Ok}};
    b.call_at(at_ms(1));
    b.h.run();
    REQUIRE(b.owner->done.size() == 1);
    CHECK(b.owner->done[0].outcome == Outcome::Timeout);
    CHECK(b.figure("duplicate_effects") == 1);
    CHECK(b.figure("late_responses") == 2);
  }
  SECTION("three effects are one request with duplicates") {
    c.retry.max_attempts = 3;
    Bench b(c);
    b.server->plan = {Reply{30_ms, Outcome::Ok}, Reply{25_ms, Outcome::Ok},
                      Reply{1_ms, Outcome::Ok}};
    b.call_at(at_ms(1));
    b.h.run();
    CHECK(b.owner->done.at(0).outcome == Outcome::Ok);
    CHECK(b.figure("duplicate_effects") == 1);
    CHECK(b.h.recorder.duplicate_effects() == 1);
  }
  SECTION("an answer later than late_answer_window is not attributed") {
    c.late_answer_window = 15_ms;  // the first try's orphan is forgotten at 26ms
    Bench b(c);
    b.server->plan = late_first;
    b.call_at(at_ms(1));
    b.h.run();
    CHECK(b.figure("duplicate_effects") == 0);
    CHECK(b.figure("late_responses") == 1);
  }
}

TEST_CASE("caller retry: a caller without a recorder records nothing but counts its figures") {
  Bench b(retrying(2, 1_ms), /*record=*/false);
  b.server->plan = {Reply{1_ms, Outcome::Error}, Reply{1_ms, Outcome::Ok}};
  b.call_at(at_ms(1));
  b.h.run();
  REQUIRE(b.owner->done.size() == 1);
  CHECK(b.owner->done[0].outcome == Outcome::Ok);
  CHECK(b.h.recorder.totals().requests == 0);
  CHECK(b.h.recorder.windows().at(0).attempts_sent == 0);
  CHECK(b.figure("attempts") == 2);
  CHECK(b.figure("retries") == 1);
}

TEST_CASE("caller retry: a crash abandons requests waiting for a retry and resets the breaker") {
  CallerConfig c = retrying(3, 50_ms);
  c.circuit_breaker.enabled = true;
  c.circuit_breaker.sliding_window_size = 1;
  c.circuit_breaker.minimum_number_of_calls = 1;
  Bench b(c);
  b.server->plan = {Reply{1_ms, Outcome::Error}};
  b.call_at(at_ms(1));
  b.h.faults.crash(at_ms(10), b.owner_id, 5_ms);  // during the backoff wait
  b.h.run();
  CHECK(b.owner->done.empty());
  CHECK(b.h.recorder.abandoned_requests() == 1);
  CHECK(b.server->seen.size() == 1);  // the backoff timer died with the node
  const auto& changes = b.owner->caller.breaker()->timeline().changes();
  REQUIRE(changes.size() == 3);
  CHECK(std::string(changes[1].state) == "open");
  CHECK(changes[2].at == at_ms(10));
  CHECK(std::string(changes[2].state) == "closed");
}

TEST_CASE("caller retry: the steady state with retries, budget and breaker allocates nothing") {
  dsimtest::ModelHarness h(11, at_ms(100), at_ms(3'000));
  models::ServerConfig server;
  server.workers = 2;
  server.error_rate.value = 0.2;
  h.build<models::Server>("server", 2, server);
  models::OpenLoopClientConfig client;
  client.rate.per_second = 1000;
  client.call.target.name = "server";
  client.call.timeout = 3_ms;      // some time out
  client.call.idempotent = false;  // orphans are kept
  client.call.late_answer_window = 50_ms;
  client.call.retry.max_attempts = 3;
  client.call.retry.backoff.base = 1_ms;
  client.call.retry.budget.enabled = true;
  client.call.retry.budget.ttl = 1'000_ms;
  client.call.circuit_breaker.enabled = true;
  client.call.circuit_breaker.sliding_window_size = 20;
  client.call.circuit_breaker.minimum_number_of_calls = 10;
  client.call.circuit_breaker.failure_rate_threshold = 90;
  h.build<models::OpenLoopClient>("client", 2, client);
  h.cluster.start();
  h.sim.run_until(at_ms(1'000));
  const std::uint64_t before = allocation_count();
  const std::uint64_t events = h.sim.run_until(at_ms(3'000));
  CHECK(allocation_count() - before == 0);
  CHECK(events > 10'000);
  CHECK(h.recorder.totals().attempts > h.recorder.totals().requests);  // retries happened
}
