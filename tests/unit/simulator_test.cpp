#include <catch2/catch.hpp>

#include <utility>
#include <vector>

#include "sim/assert.hpp"
#include "sim/simulator.hpp"

using namespace sim;

TEST_CASE("events run in time order, equal times in scheduling order") {
  Simulator s;
  std::vector<int> order;
  s.schedule_at(Time::zero() + 3_ms, [&order] { order.push_back(3); });
  s.schedule_at(Time::zero() + 1_ms, [&order] { order.push_back(1); });
  for (int i = 10; i < 20; ++i)
    s.schedule_at(Time::zero() + 2_ms, [&order, i] { order.push_back(i); });
  s.schedule_at(Time::zero() + 1_ms, [&order] { order.push_back(2); });
  CHECK(s.run() == 13);
  CHECK(order == std::vector<int>{1, 2, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 3});
  CHECK(s.now() == Time::zero() + 3_ms);
}

TEST_CASE("an event scheduled for now runs after those already due now") {
  Simulator s;
  std::vector<int> order;
  s.schedule_after(1_ms, [&] {
    order.push_back(1);
    s.schedule_after(0_ms, [&] { order.push_back(3); });
  });
  s.schedule_after(1_ms, [&] { order.push_back(2); });
  s.run();
  CHECK(order == std::vector<int>{1, 2, 3});
}

TEST_CASE("cancel: before running, from inside an event, twice, and then reschedule") {
  Simulator s;
  int fired = 0;
  const EventId a = s.schedule_after(5_ms, [&] { fired += 1; });
  CHECK(s.is_pending(a));
  CHECK(s.cancel(a));
  CHECK_FALSE(s.cancel(a));  // already cancelled
  CHECK_FALSE(s.is_pending(a));

  EventId victim = s.schedule_after(10_ms, [&] { fired += 100; });
  s.schedule_after(2_ms, [&] { CHECK(s.cancel(victim)); });  // cancelled from inside an event
  // Cancel then reschedule: the new event reuses the freed slot but is a different event.
  const EventId b = s.schedule_after(3_ms, [&] { fired += 10; });
  CHECK(s.cancel(b));
  const EventId c = s.schedule_after(3_ms, [&] { fired += 1000; });
  CHECK(c.slot == b.slot);
  CHECK_FALSE(c == b);
  CHECK_FALSE(s.cancel(b));  // the stale id cannot cancel its successor
  s.run();
  CHECK(fired == 1000);
  CHECK(s.pending_events() == 0);
}

TEST_CASE("an event cannot cancel itself after it started, and its id is no longer pending") {
  Simulator s;
  EventId self;
  bool was_pending = true;
  self = s.schedule_after(1_ms, [&] { was_pending = s.is_pending(self) || s.cancel(self); });
  s.run();
  CHECK_FALSE(was_pending);
}

TEST_CASE("run_until stops at the limit and advances the clock to it") {
  Simulator s;
  int fired = 0;
  for (int i = 1; i <= 10; ++i)
    s.schedule_at(Time::zero() + Duration::nanoseconds(i * 1'000'000), [&] { ++fired; });
  CHECK(s.run_until(Time::zero() + 5_ms) == 5);  // the event at exactly 5ms runs
  CHECK(s.now() == Time::zero() + 5_ms);
  CHECK(s.run_until(Time::zero() + 5500_us) == 0);
  CHECK(s.now() == Time::zero() + 5500_us);
  CHECK(s.run() == 5);
  CHECK(fired == 10);
}

TEST_CASE("run_until with an event budget runs the same events in slices") {
  // Events that schedule more events: a chain per start time, so order matters.
  const auto trace_of = [](auto run) {
    Simulator s(7);
    std::vector<std::int64_t> trace;
    Rng rng = s.rng("gaps");
    struct Step {
      Simulator* s;
      Rng* rng;
      std::vector<std::int64_t>* trace;
      int left;
      void operator()() const {
        trace->push_back(s->now().ns());
        if (left > 0)
          s->schedule_after(Duration::nanoseconds(static_cast<std::int64_t>(rng->below(1000))),
                            Step{s, rng, trace, left - 1});
      }
    };
    for (int i = 0; i < 5; ++i)
      s.schedule_after(Duration::nanoseconds(i * 100), Step{&s, &rng, &trace, 40});
    run(s);
    return std::pair(trace, s.now());
  };
  const Time end = Time::zero() + 10_us;
  const auto whole = trace_of([&](Simulator& s) { CHECK(s.run_until(end) > 100); });
  for (const std::uint64_t slice : {1, 3, 64}) {
    INFO("slice " << slice);
    std::uint64_t calls = 0;
    const auto sliced = trace_of([&](Simulator& s) {
      while (s.now() < end) {
        const std::uint64_t n = s.run_until(end, slice);
        CHECK(n <= slice);
        ++calls;
      }
    });
    CHECK(sliced == whole);  // the same events, times and final clock
    CHECK(calls >= whole.first.size() / slice);
  }
}

TEST_CASE("run_while and stop") {
  Simulator s;
  int fired = 0;
  for (int i = 0; i < 10; ++i) s.schedule_after(Duration::nanoseconds(i), [&] { ++fired; });
  CHECK(s.run_while([&] { return fired < 4; }) == 4);
  s.schedule_after(0_ns, [&] { s.stop(); });  // at now(), so before the remaining six
  CHECK(s.run() == 1);
  CHECK(fired == 4);
  CHECK(s.run() == 6);  // a later run() picks up where the stop left off
  CHECK(fired == 10);
}

TEST_CASE("scheduling in the past is a contract violation") {
  Simulator s;
  s.run_until(Time::zero() + 1_s);
  CHECK_THROWS_AS(s.schedule_at(Time::zero(), [] {}), ContractViolation);
}

TEST_CASE("many cancellations are compacted without losing live events") {
  Simulator s;
  std::vector<EventId> ids;
  int fired = 0;
  for (int i = 0; i < 20000; ++i)
    ids.push_back(s.schedule_after(Duration::nanoseconds(1000 + i), [&] { ++fired; }));
  for (int i = 0; i < 20000; ++i)
    if (i % 10 != 0) s.cancel(ids[i]);
  CHECK(s.pending_events() == 2000);
  s.run();
  CHECK(fired == 2000);
}

namespace {
// A small simulation whose schedule depends on random draws: jobs that spawn jobs.
std::uint64_t fingerprint_of(std::uint64_t seed) {
  Simulator s(seed);
  Rng rng = s.rng("jobs");
  struct Spawner {
    Simulator* sim;
    Rng* rng;
    int* left;
    void operator()() const {
      if (--*left <= 0) return;
      sim->schedule_after(Duration::nanoseconds(static_cast<std::int64_t>(rng->below(1000))),
                          *this);
      if (rng->bernoulli(0.3))
        sim->schedule_after(Duration::nanoseconds(static_cast<std::int64_t>(rng->below(50))),
                            *this);
    }
  };
  int left = 5000;
  s.schedule_after(0_ns, Spawner{&s, &rng, &left});
  s.run();
  return s.fingerprint();
}
}  // namespace

TEST_CASE("same seed, same fingerprint, different seed, different fingerprint") {
  CHECK(fingerprint_of(7) == fingerprint_of(7));
  CHECK(fingerprint_of(7) != fingerprint_of(8));
}
