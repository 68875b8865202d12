// Circuit breaker mechanics: trips on failure rate, slow-call rate and consecutive failures over
// count- and time-based windows with a minimum of calls; the open wait, lazy or automatic; the
// half-open trial and its decision; stale results; the state timeline; no allocation per call.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "models/resilience/circuit_breaker.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"

using namespace sim;
using models::BreakerState;
using models::CircuitBreaker;
using models::CircuitBreakerConfig;
using models::SlidingWindowType;

namespace {

CircuitBreakerConfig count_based(int window, int minimum) {
  CircuitBreakerConfig c;
  c.enabled = true;
  c.sliding_window_type = SlidingWindowType::CountBased;
  c.sliding_window_size = window;
  c.minimum_number_of_calls = minimum;
  c.failure_rate_threshold = 50;
  c.wait_duration_in_open_state = 1'000_ms;
  c.permitted_number_of_calls_in_half_open_state = 2;
  return c;
}

// Makes one call at `t` (true time = local time here) that fails or not and takes `took`.
// Returns false if the breaker refused it.
bool call(CircuitBreaker& b, Time t, bool failed, Duration took = 1_ms) {
  const auto permit = b.try_acquire(t, t);
  if (!permit.granted) return false;
  b.on_result(permit, failed, took, t + took, t + took);
  return true;
}

std::vector<std::string> states(const CircuitBreaker& b) {
  std::vector<std::string> out;
  for (const auto& c : b.timeline().changes()) out.emplace_back(c.state);
  return out;
}

}  // namespace

TEST_CASE("breaker: no trip before the minimum number of calls, then at the threshold") {
  CircuitBreaker b(count_based(10, 4), Time::zero());
  CHECK(call(b, at_ms(1), true));
  CHECK(call(b, at_ms(2), true));
  CHECK(call(b, at_ms(3), true));  // 3 failures of 3, but the minimum is 4
  CHECK(b.state() == BreakerState::Closed);
  CHECK(call(b, at_ms(4), false));  // 3 of 4 = 75 %
  CHECK(b.state() == BreakerState::Open);

  CircuitBreaker at_threshold(count_based(10, 4), Time::zero());
  call(at_threshold, at_ms(1), false);
  call(at_threshold, at_ms(2), false);
  call(at_threshold, at_ms(3), true);
  CHECK(at_threshold.state() == BreakerState::Closed);
  call(at_threshold, at_ms(4), true);  // 2 of 4 = 50 %: at the threshold opens (>=)
  CHECK(at_threshold.state() == BreakerState::Open);
}

TEST_CASE("breaker: a count-based window forgets the oldest results") {
  CircuitBreakerConfig c = count_based(4, 4);
  c.failure_rate_threshold = 75;
  CircuitBreaker b(c, Time::zero());
  // F F S S: 50 %; then S: the window is F S S S (25 %); then F F: S S F F (50 %); F: S F F F.
  for (const bool failed : {true, true, false, false, false, true, true}) call(b, at_ms(1), failed);
  CHECK(b.state() == BreakerState::Closed);
  CHECK(b.window_calls() == 4);
  CHECK(b.window_failures() == 2);
  call(b, at_ms(2), true);
  CHECK(b.state() == BreakerState::Open);
}

TEST_CASE("breaker: count-based minimum is capped by the window size, as in resilience4j") {
  CircuitBreaker b(count_based(3, 100), Time::zero());
  for (int i = 0; i < 3; ++i) call(b, at_ms(i), true);
  CHECK(b.state() == BreakerState::Open);
}

TEST_CASE("breaker: a time-based window counts the last buckets only") {
  CircuitBreakerConfig c = count_based(3, 4);
  c.sliding_window_type = SlidingWindowType::TimeBased;
  c.bucket_duration = 100_ms;  // the window: the current bucket and the two before
  CircuitBreaker b(c, Time::zero());
  call(b, at_ms(10), true);
  call(b, at_ms(20), true);
  call(b, at_ms(30), true);
  CHECK(b.window_calls() == 3);
  // At 300ms the bucket of 0-100ms has left: one call in the window, under the minimum.
  call(b, at_ms(300), true);
  CHECK(b.window_calls() == 1);
  CHECK(b.state() == BreakerState::Closed);
  call(b, at_ms(310), false);
  call(b, at_ms(420), false);
  CHECK(b.window_calls() == 3);
  call(b, at_ms(499), true);  // buckets 3, 4: F S S F = 50 % of 4
  CHECK(b.state() == BreakerState::Open);

  CircuitBreaker quiet(c, Time::zero());
  for (int i = 0; i < 3; ++i) call(quiet, at_ms(i), true);
  call(quiet, at_ms(10'000), true);  // long after: only this call counts
  CHECK(quiet.window_calls() == 1);
  CHECK(quiet.state() == BreakerState::Closed);
}

TEST_CASE("breaker: slow calls open it at the slow-call rate, failed or not") {
  CircuitBreakerConfig c = count_based(4, 4);
  c.slow_call_duration_threshold = 50_ms;
  c.slow_call_rate_threshold = 75;
  CircuitBreaker b(c, Time::zero());
  call(b, at_ms(0), false, 60_ms);
  call(b, at_ms(0), false, 50_ms);  // not longer than the threshold: not slow
  call(b, at_ms(0), true, 70_ms);   // a slow failure counts in both rates
  CHECK(b.window_slow() == 2);
  CHECK(b.window_failures() == 1);
  CHECK(b.state() == BreakerState::Closed);
  call(b, at_ms(0), false, 80_ms);  // 3 slow of 4 = 75 %; 1 failure of 4 = 25 %
  CHECK(b.state() == BreakerState::Open);
}

TEST_CASE("breaker: consecutive failures open it, a success resets the count") {
  CircuitBreakerConfig c = count_based(100, 100);
  c.consecutive_failures = 3;
  CircuitBreaker b(c, Time::zero());
  call(b, at_ms(0), true);
  call(b, at_ms(0), true);
  call(b, at_ms(0), false);
  call(b, at_ms(0), true);
  call(b, at_ms(0), true);
  CHECK(b.state() == BreakerState::Closed);
  call(b, at_ms(0), true);
  CHECK(b.state() == BreakerState::Open);
}

TEST_CASE("breaker: open refuses, then half-open permits a few trial calls") {
  CircuitBreaker b(count_based(2, 2), Time::zero());
  call(b, at_ms(0), true);
  call(b, at_ms(0), true);
  REQUIRE(b.state() == BreakerState::Open);  // opened at 1ms (when the result came)
  CHECK_FALSE(call(b, at_ms(500), false));
  CHECK_FALSE(call(b, at_ms(1'000), false));
  CHECK(b.not_permitted() == 2);
  // Lazily: the state changes when a call asks, once the wait is over.
  const auto p1 = b.try_acquire(at_ms(1'001), at_ms(1'001));
  CHECK(p1.granted);
  CHECK(b.state() == BreakerState::HalfOpen);
  const auto p2 = b.try_acquire(at_ms(1'002), at_ms(1'002));
  CHECK(p2.granted);
  CHECK_FALSE(b.try_acquire(at_ms(1'003), at_ms(1'003)).granted);  // only 2 permitted
  CHECK(b.not_permitted() == 3);

  SECTION("all trial calls succeed: closed") {
    b.on_result(p1, false, 1_ms, at_ms(1'010), at_ms(1'010));
    CHECK(b.state() == BreakerState::HalfOpen);  // waits for every permitted call
    b.on_result(p2, false, 1_ms, at_ms(1'011), at_ms(1'011));
    CHECK(b.state() == BreakerState::Closed);
    CHECK(b.window_calls() == 0);  // a fresh window
  }
  SECTION("failure rate at the threshold: open again") {
    b.on_result(p1, false, 1_ms, at_ms(1'010), at_ms(1'010));
    CHECK(b.on_result(p2, true, 1_ms, at_ms(1'011), at_ms(1'011)));  // 1 of 2 = 50 %
    CHECK(b.state() == BreakerState::Open);
    CHECK(b.opened() == 2);
    CHECK_FALSE(b.try_acquire(at_ms(2'010), at_ms(2'010)).granted);  // a new full wait
    CHECK(b.try_acquire(at_ms(2'011), at_ms(2'011)).granted);
  }
  SECTION("failure rate under the threshold: closed") {
    CircuitBreakerConfig c = count_based(2, 2);
    c.permitted_number_of_calls_in_half_open_state = 3;
    CircuitBreaker three(c, Time::zero());
    call(three, at_ms(0), true);
    call(three, at_ms(0), true);
    CHECK(call(three, at_ms(1'001), true));
    CHECK(call(three, at_ms(1'002), false));
    CHECK(call(three, at_ms(1'003), false));  // 1 of 3 < 50 %
    CHECK(three.state() == BreakerState::Closed);
  }
}

TEST_CASE("breaker: results of calls permitted before a transition are ignored") {
  CircuitBreaker b(count_based(2, 2), Time::zero());
  const auto old = b.try_acquire(at_ms(0), at_ms(0));  // permitted while closed
  call(b, at_ms(1), true);
  call(b, at_ms(2), true);
  REQUIRE(b.state() == BreakerState::Open);
  CHECK_FALSE(b.on_result(old, true, 1_ms, at_ms(3), at_ms(3)));
  const auto trial = b.try_acquire(at_ms(2'000), at_ms(2'000));
  REQUIRE(b.state() == BreakerState::HalfOpen);
  b.on_result(old, false, 1_ms, at_ms(2'001), at_ms(2'001));  // not a trial call
  CHECK(b.state() == BreakerState::HalfOpen);
  b.on_result(trial, false, 1_ms, at_ms(2'002), at_ms(2'002));
  CHECK(b.state() == BreakerState::HalfOpen);  // still one trial to come
}

TEST_CASE("breaker: automatic transition at the end of the wait, and the timeline") {
  CircuitBreakerConfig c = count_based(2, 2);
  c.automatic_transition = true;
  CircuitBreaker b(c, Time::zero());
  call(b, at_ms(10), true);
  const auto p = b.try_acquire(at_ms(20), at_ms(20));
  CHECK(b.on_result(p, true, 1_ms, at_ms(21), at_ms(21)));  // opened: the owner arms a timer
  const std::uint32_t epoch = b.epoch();
  b.on_wait_over(epoch + 7, at_ms(1'021), at_ms(1'021));  // a stale timer does nothing
  CHECK(b.state() == BreakerState::Open);
  b.on_wait_over(epoch, at_ms(1'021), at_ms(1'021));
  CHECK(b.state() == BreakerState::HalfOpen);
  call(b, at_ms(1'500), false);
  call(b, at_ms(1'600), false);
  CHECK(b.state() == BreakerState::Closed);
  b.reset(at_ms(2'000));  // already closed: no new change
  CHECK(states(b) == std::vector<std::string>{"closed", "open", "half_open", "closed"});
  const auto& changes = b.timeline().changes();
  CHECK(changes[1].at == at_ms(21));
  CHECK(changes[2].at == at_ms(1'021));
  CHECK(changes[3].at == at_ms(1'601));
  CHECK(b.timeline().name() == "circuit_breaker");
}

TEST_CASE("breaker: counts start at measure_from, reset closes it") {
  CircuitBreaker b(count_based(2, 2), at_ms(100));
  call(b, at_ms(0), true);
  call(b, at_ms(0), true);
  CHECK_FALSE(call(b, at_ms(50), false));
  CHECK(b.opened() == 0);
  CHECK(b.not_permitted() == 0);
  CHECK_FALSE(call(b, at_ms(150), false));
  CHECK(b.not_permitted() == 1);
  b.reset(at_ms(200));
  CHECK(b.state() == BreakerState::Closed);
  CHECK(call(b, at_ms(201), false));
}

TEST_CASE("breaker: calls allocate nothing, whatever the window") {
  for (const auto type : {SlidingWindowType::CountBased, SlidingWindowType::TimeBased}) {
    CircuitBreakerConfig c = count_based(50, 20);  // time-based: 50 buckets of one call
    c.sliding_window_type = type;
    c.bucket_duration = 1_ms;
    c.failure_rate_threshold = 60;  // a third failing never opens it, four trials close it
    c.permitted_number_of_calls_in_half_open_state = 4;
    c.wait_duration_in_open_state = 5_ms;
    CircuitBreaker b(c, Time::zero());
    for (int i = 0; i < 200; ++i) call(b, at_ms(i), i % 3 == 0);
    const std::uint64_t before = allocation_count();
    // A third fail (closed stays closed), and one outage of 50 calls: open, refusals, half-open
    // trials that fail, then close. (The timeline holds its first 64 changes without growing.)
    for (int i = 200; i < 20'000; ++i) call(b, at_ms(i), i % 3 == 0 || (i >= 10'000 && i < 10'050));
    CHECK(b.opened() >= 2);
    CHECK(b.state() == BreakerState::Closed);
    CHECK(allocation_count() - before == 0);
  }
}
