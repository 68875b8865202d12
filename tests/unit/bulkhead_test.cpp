// Bulkhead mechanics (models/resilience/bulkhead.hpp) in the Caller, against a scripted
// responder: fail fast, a wait that ends admitted or rejected, FIFO order of the waiting tries,
// the permit coming back at a timeout and at a crash, hedged copies, the breaker and the retry
// policy seeing a rejection, and the call-id spaces of several Callers on one node.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "models/resilience/bulkhead.hpp"
#include "models/shared/caller.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/caller_owner.hpp"

using namespace sim;
using models::Bulkhead;
using models::BulkheadConfig;
using models::CallerConfig;
using models::Outcome;
using models::RpcRequest;
using models::RpcResponse;

namespace {

// Answers every request Ok after `delay`, or never if `silent`; keeps what it saw and when.
class Responder : public Process {
 public:
  Duration delay = 10_ms;
  bool silent = false;
  std::vector<RpcRequest> seen;
  std::vector<Time> seen_at;

  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    seen.push_back(message.as<RpcRequest>());
    seen_at.push_back(node.true_now());
    from_.push_back(message.from);
    if (!silent) node.set_timer(delay, {1, seen.size() - 1});
  }
  void on_timer(Node& node, TimerTag tag) override {
    node.send(from_[tag.value], RpcResponse{.call_id = seen[tag.value].call_id});
  }

 private:
  std::vector<NodeId> from_;
};

using Owner = test::CallerOwner;

struct Bench {
  explicit Bench(CallerConfig config, std::size_t replicas = 1)
      : h(11, Time::zero(), at_ms(10'000)) {
    std::vector<NodeId> targets;
    for (std::size_t i = 0; i < replicas; ++i) {
      auto r = std::make_unique<Responder>();
      responders.push_back(r.get());
      targets.push_back(h.add_process("server", std::move(r)));
    }
    auto o = std::make_unique<Owner>(config, targets, &h.recorder);
    owner = o.get();
    owner_id = h.add_process("client", std::move(o));
  }
  void call_at(Time t, std::uint64_t key) {
    h.sim.schedule_at(t, test::StartCall{owner, &h.cluster.node(owner_id), key, key});
  }
  double figure(const std::string& name) const {
    models::Figures f;
    owner->caller.figures(f);
    for (const auto& item : f.items())
      if (item.name == name) return item.value;
    FAIL("no figure " << name);
    return 0;
  }
  const models::CallResult& done(std::uint64_t token) const {
    for (const auto& r : owner->done)
      if (r.token == token) return r;
    FAIL("request " << token << " did not end");
    return owner->done.front();
  }
  Responder& server() { return *responders.at(0); }

  dsimtest::ModelHarness h;
  std::vector<Responder*> responders;
  Owner* owner;
  NodeId owner_id;
};

CallerConfig with_bulkhead(std::int64_t max_concurrent, Duration max_wait,
                           Duration timeout = 100_ms) {
  CallerConfig c;
  c.timeout = timeout;
  c.bulkhead.max_concurrent = max_concurrent;
  c.bulkhead.max_wait = max_wait;
  return c;
}

}  // namespace

TEST_CASE("bulkhead part: permits, a FIFO queue, expiry and reset") {
  Bulkhead b(BulkheadConfig{.max_concurrent = 2, .max_wait = 5_ms}, Time::zero());
  CHECK(b.try_acquire(1, true, at_ms(1)) == Bulkhead::Admission::Admitted);
  CHECK(b.try_acquire(2, true, at_ms(1)) == Bulkhead::Admission::Admitted);
  CHECK_FALSE(b.available());
  CHECK(b.try_acquire(3, true, at_ms(1)) == Bulkhead::Admission::Waiting);
  CHECK(b.try_acquire(4, false, at_ms(1)) == Bulkhead::Admission::Rejected);  // may not wait
  CHECK(b.try_acquire(5, true, at_ms(1)) == Bulkhead::Admission::Waiting);
  CHECK(b.waiting() == 2);
  CHECK(b.expire(5));
  CHECK_FALSE(b.expire(5));                                       // gone already
  CHECK(b.release(at_ms(2)) == std::optional<std::uint64_t>(3));  // passes to the oldest waiter
  CHECK(b.in_use() == 2);
  CHECK(b.release(at_ms(3)) == std::nullopt);
  CHECK(b.in_use() == 1);
  CHECK(b.available());
  CHECK(b.max_in_use() == 2);
  b.reset();
  CHECK(b.in_use() == 0);
  CHECK(b.waiting() == 0);
}

TEST_CASE("bulkhead part: with max_wait 0 nobody waits, and a waiter is never overtaken") {
  Bulkhead fail_fast(BulkheadConfig{.max_concurrent = 1}, Time::zero());
  CHECK(fail_fast.try_acquire(1, true, at_ms(1)) == Bulkhead::Admission::Admitted);
  CHECK(fail_fast.try_acquire(2, true, at_ms(1)) == Bulkhead::Admission::Rejected);
  CHECK(fail_fast.waiting() == 0);

  Bulkhead fair(BulkheadConfig{.max_concurrent = 1, .max_wait = 1_s}, Time::zero());
  CHECK(fair.try_acquire(1, true, at_ms(1)) == Bulkhead::Admission::Admitted);
  CHECK(fair.try_acquire(2, true, at_ms(1)) == Bulkhead::Admission::Waiting);
  CHECK(fair.release(at_ms(2)) == std::optional<std::uint64_t>(2));
  // The permit went to the waiter at the release: a newcomer at that instant waits behind.
  CHECK(fair.try_acquire(3, true, at_ms(2)) == Bulkhead::Admission::Waiting);
}

TEST_CASE("bulkhead: fail fast -- a try beyond max_concurrent fails Rejected at once, unsent") {
  Bench b(with_bulkhead(2, Duration::zero()));
  for (std::uint64_t key = 1; key <= 3; ++key) b.call_at(at_ms(1), key);
  b.call_at(at_ms(12), 4);  // after the first two answers (at 11 ms): a permit is free
  b.h.run();
  CHECK(b.done(3).outcome == Outcome::Rejected);
  CHECK(b.done(3).ended == at_ms(1));
  CHECK(b.done(3).attempts == 0);  // never sent
  CHECK(b.done(1).outcome == Outcome::Ok);
  CHECK(b.done(2).outcome == Outcome::Ok);
  CHECK(b.done(4).outcome == Outcome::Ok);
  REQUIRE(b.server().seen.size() == 3);
  CHECK(b.figure("bulkhead_rejected") == 1);
  CHECK(b.figure("bulkhead_waited") == 0);
  CHECK(b.figure("bulkhead_max_concurrent") == 2);
  CHECK(b.owner->caller.bulkhead()->in_use() == 0);
}

TEST_CASE("bulkhead: a waiting try is sent when a permit comes back, its timeout from then") {
  Bench b(with_bulkhead(1, 20_ms, 15_ms));
  b.call_at(at_ms(1), 1);  // sent at 1, answered at 11
  b.call_at(at_ms(2), 2);  // waits from 2 to 11
  b.h.run();
  REQUIRE(b.server().seen_at.size() == 2);
  CHECK(b.server().seen_at[1] == at_ms(11));
  CHECK(b.server().seen[1].deadline == at_ms(26));  // 11 + the 15 ms timeout
  CHECK(b.done(2).outcome == Outcome::Ok);
  CHECK(b.done(2).ended == at_ms(21));
  CHECK(b.figure("bulkhead_waited") == 1);
  CHECK(b.figure("bulkhead_rejected") == 0);
  CHECK(b.figure("bulkhead_max_concurrent") == 1);
}

TEST_CASE("bulkhead: a try still waiting after max_wait fails Rejected, unsent") {
  Bench b(with_bulkhead(1, 5_ms));
  b.call_at(at_ms(1), 1);
  b.call_at(at_ms(2), 2);
  b.h.run();
  CHECK(b.done(2).outcome == Outcome::Rejected);
  CHECK(b.done(2).ended == at_ms(7));
  CHECK(b.done(2).attempts == 0);
  CHECK(b.server().seen.size() == 1);
  CHECK(b.figure("bulkhead_waited") == 1);
  CHECK(b.figure("bulkhead_rejected") == 1);
}

namespace {

// An event that forwards `inbound` through the owner's caller, capped at `cap` (a relay's call).
struct ForwardCall {
  test::CallerOwner* owner;
  Node* node;
  const RpcRequest* inbound;
  Time cap;
  void operator()() const { owner->caller.forward(*node, *inbound, inbound->key, cap); }
};

}  // namespace

TEST_CASE("bulkhead: the wait is cut to what is left of the request's deadline") {
  Bench b(with_bulkhead(1, 50_ms));
  b.server().delay = 20_ms;
  b.call_at(at_ms(1), 1);  // holds the permit until 21
  const RpcRequest inbound{.key = 2};
  b.h.sim.schedule_at(at_ms(2),
                      ForwardCall{b.owner, &b.h.cluster.node(b.owner_id), &inbound, at_ms(12)});
  b.h.run();
  CHECK(b.done(2).outcome == Outcome::Rejected);
  CHECK(b.done(2).ended == at_ms(12));  // its deadline, not max_wait
  CHECK(b.server().seen.size() == 1);
}

TEST_CASE("bulkhead: waiting tries are served in the order they began to wait") {
  Bench b(with_bulkhead(1, 1_s));
  for (std::uint64_t key = 1; key <= 5; ++key) b.call_at(at_ms(key), key);
  // At 11 ms, the instant the first answer frees the permit: it has gone to the waiter (key 2)
  // already, so this newcomer queues behind keys 3, 4 and 5.
  b.call_at(at_ms(11), 6);
  b.h.run();
  REQUIRE(b.server().seen.size() == 6);
  for (std::uint64_t i = 0; i < 6; ++i) {
    CHECK(b.server().seen[i].key == i + 1);
    CHECK(b.server().seen_at[i] == at_ms(1 + 10 * static_cast<std::int64_t>(i)));
  }
  CHECK(b.figure("bulkhead_waited") == 5);
  CHECK(b.figure("bulkhead_max_concurrent") == 1);
}

TEST_CASE("bulkhead: a timed-out try gives its permit back at its timeout") {
  Bench b(with_bulkhead(1, 10_ms, 5_ms));
  b.server().silent = true;
  b.call_at(at_ms(1), 1);  // times out at 6
  b.call_at(at_ms(2), 2);  // waits, sent at 6, times out at 11
  b.h.run();
  CHECK(b.done(1).outcome == Outcome::Timeout);
  CHECK(b.done(1).ended == at_ms(6));
  REQUIRE(b.server().seen_at.size() == 2);
  CHECK(b.server().seen_at[1] == at_ms(6));
  CHECK(b.done(2).outcome == Outcome::Timeout);
  CHECK(b.done(2).ended == at_ms(11));
  CHECK(b.owner->caller.bulkhead()->in_use() == 0);
}

TEST_CASE("bulkhead: a non-idempotent try gives its permit back at its timeout too") {
  CallerConfig c = with_bulkhead(1, Duration::zero(), 5_ms);
  c.idempotent = false;  // the timed-out attempt stays tracked as an orphan
  Bench b(c);
  b.server().delay = 20_ms;
  b.call_at(at_ms(1), 1);
  b.call_at(at_ms(7), 2);  // after the timeout at 6: admitted though 1's answer is pending
  b.h.run();
  CHECK(b.done(1).outcome == Outcome::Timeout);
  REQUIRE(b.server().seen_at.size() == 2);
  CHECK(b.server().seen_at[1] == at_ms(7));
  CHECK(b.figure("bulkhead_rejected") == 0);
}

TEST_CASE("bulkhead: a crash frees every permit and forgets the waiting tries") {
  Bench b(with_bulkhead(1, 1_s));
  b.server().silent = true;
  b.call_at(at_ms(1), 1);                        // holds the permit
  b.call_at(at_ms(2), 2);                        // waits
  b.h.faults.crash(at_ms(3), b.owner_id, 1_ms);  // up again at 4
  b.call_at(at_ms(5), 3);                        // the restarted caller has its permit free
  b.h.run();
  REQUIRE(b.server().seen.size() == 2);
  CHECK(b.server().seen[1].key == 3);
  CHECK(b.server().seen_at[1] == at_ms(5));
  CHECK(b.owner->done.size() == 1);  // 1 and 2 were abandoned; 3 times out at 105
  CHECK(b.done(3).outcome == Outcome::Timeout);
  CHECK(b.h.recorder.abandoned_requests() == 2);
}

TEST_CASE("bulkhead: a rejection is retried by the retry policy and counts for the breaker") {
  CallerConfig c = with_bulkhead(1, Duration::zero());
  c.retry.max_attempts = 2;
  c.retry.backoff.kind = models::BackoffKind::Constant;
  c.retry.backoff.base = 15_ms;
  c.retry.backoff.jitter = models::Jitter::None;
  c.circuit_breaker.enabled = true;
  c.circuit_breaker.consecutive_failures = 2;
  Bench b(c);
  b.call_at(at_ms(1), 1);  // holds the permit until 11
  b.call_at(at_ms(2), 2);  // rejected at 2 (a failure for the breaker), retried at 17
  b.call_at(at_ms(3), 3);  // rejected at 3: two failures in a row open the breaker
  b.h.run();
  CHECK(b.done(2).outcome == Outcome::CircuitOpen);  // its retry at 17 finds the breaker open
  CHECK(b.done(3).outcome == Outcome::CircuitOpen);
  CHECK(b.figure("bulkhead_rejected") == 2);
  CHECK(b.figure("retries") == 2);
  CHECK(b.figure("circuit_opened") == 1);
}

TEST_CASE("bulkhead: a hedged copy needs a permit of its own and never waits for one") {
  CallerConfig c = with_bulkhead(1, 1_s);
  c.hedge.enabled = true;
  c.hedge.delay = 2_ms;
  c.hedge.max_extra_load = models::Probability{1};
  SECTION("no permit free: the hedge is not sent") {
    Bench b(c, 2);
    b.call_at(at_ms(1), 1);
    b.h.run();
    CHECK(b.figure("hedges") == 0);
    CHECK(b.figure("hedges_denied_by_bulkhead") == 1);
    CHECK(b.done(1).outcome == Outcome::Ok);
    CHECK(b.done(1).ended == at_ms(11));
  }
  SECTION("a permit free: the hedge takes it, and gives it back when the try ends") {
    c.bulkhead.max_concurrent = 2;
    Bench b(c, 2);
    b.call_at(at_ms(1), 1);  // first copy at 1, hedge at 3, the first answers at 11
    b.call_at(at_ms(4), 2);  // both permits held: waits until 11, then hedges at 13 too
    b.h.run();
    CHECK(b.figure("bulkhead_waited") == 1);
    CHECK(b.figure("hedges") == 2);
    CHECK(b.figure("hedges_denied_by_bulkhead") == 0);
    CHECK(b.figure("bulkhead_max_concurrent") == 2);
    CHECK(b.done(2).ended == at_ms(21));
    CHECK(b.owner->caller.bulkhead()->in_use() == 0);
  }
}

namespace {

// Two Callers on one node, in the call-id spaces 1 and 2; each takes only its own answers.
class TwoCallers : public Process, public models::CallerListener {
 public:
  TwoCallers(const CallerConfig& config, std::vector<NodeId> a, std::vector<NodeId> b)
      : first(config, std::move(a), 1, nullptr, Time::zero(), *this),
        second(config, std::move(b), 1 + models::Caller::kTimerKinds, nullptr, Time::zero(),
               *this) {
    first.set_call_id_space(1);
    second.set_call_id_space(2);
  }
  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    const std::uint64_t id = message.as<RpcResponse>().call_id;
    REQUIRE(models::Caller::call_id_space(id) >= 1);
    models::Caller& own = models::Caller::call_id_space(id) == 1 ? first : second;
    models::Caller& other = &own == &first ? second : first;
    CHECK_FALSE(other.on_message(node, message));
    REQUIRE(own.on_message(node, message));
  }
  void on_timer(Node& node, TimerTag tag) override {
    REQUIRE((first.on_timer(node, tag) || second.on_timer(node, tag)));
  }
  void on_call_done(Node& /*node*/, const models::CallResult& result) override {
    done.push_back(result);
  }
  models::Caller first, second;
  std::vector<models::CallResult> done;
};

struct StartOn {
  models::Caller* caller;
  Node* node;
  std::uint64_t token;
  void operator()() const { caller->start(*node, token, token); }
};

}  // namespace

TEST_CASE("caller: call-id spaces route each answer to the Caller that sent the attempt") {
  dsimtest::ModelHarness h(3, Time::zero(), at_ms(1000));
  auto fast = std::make_unique<Responder>();
  auto slow = std::make_unique<Responder>();
  fast->delay = 1_ms;
  slow->delay = 30_ms;
  Responder& fast_ref = *fast;
  const NodeId a = h.add_process("fast", std::move(fast));
  const NodeId b = h.add_process("slow", std::move(slow));
  CallerConfig config;
  config.timeout = 20_ms;  // the slow one's answers come after it
  auto owner = std::make_unique<TwoCallers>(config, std::vector<NodeId>{a}, std::vector<NodeId>{b});
  TwoCallers& o = *owner;
  const NodeId id = h.add_process("owner", std::move(owner));
  for (std::uint64_t k = 0; k < 3; ++k) {
    h.sim.schedule_at(at_ms(1 + static_cast<std::int64_t>(k)),
                      StartOn{&o.first, &h.cluster.node(id), 10 + k});
    h.sim.schedule_at(at_ms(1 + static_cast<std::int64_t>(k)),
                      StartOn{&o.second, &h.cluster.node(id), 20 + k});
  }
  h.run();
  REQUIRE(o.done.size() == 6);
  for (const auto& r : o.done) CHECK(r.outcome == (r.token < 20 ? Outcome::Ok : Outcome::Timeout));
  for (const auto& seen : fast_ref.seen) CHECK(models::Caller::call_id_space(seen.call_id) == 1);
  models::Figures f;
  o.second.figures(f);
  CHECK(f.items().at(0).value == 3);  // late_responses: the slow answers reached their caller
}

TEST_CASE("bulkhead: the breaker measures a try's duration with its wait for a permit") {
  CallerConfig c = with_bulkhead(1, 1_s);
  c.circuit_breaker.enabled = true;
  c.circuit_breaker.sliding_window_size = 1;
  c.circuit_breaker.minimum_number_of_calls = 1;
  c.circuit_breaker.slow_call_duration_threshold = 15_ms;
  Bench b(c);
  b.call_at(at_ms(1), 1);   // 10 ms: not slow
  b.call_at(at_ms(2), 2);   // waits 9 ms, then 10 ms: 19 ms, slow: the breaker opens at 21
  b.call_at(at_ms(30), 3);  // refused by the open breaker
  b.h.run();
  CHECK(b.done(1).outcome == Outcome::Ok);
  CHECK(b.done(2).outcome == Outcome::Ok);
  CHECK(b.done(3).outcome == Outcome::CircuitOpen);
  CHECK(b.figure("circuit_opened") == 1);
}
