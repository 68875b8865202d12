#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <set>
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
// Events that schedule 0 to 3 follow-ups (the first one replaces the dispatched event at the
// heap's top), at delays from 0 (the same instant) to far, a third of them timeouts (lanes),
// and cancel pending events at random, in bursts that make the heap compact
// itself from inside callbacks. A std::set of (time, order)
// is the reference: each event that runs must be the earliest pending one, ties in the order
// they were scheduled.
struct ReplaceTopCheck {
  Simulator sim{3};
  Rng rng = sim.rng("check");
  std::set<std::pair<std::int64_t, std::uint64_t>> pending;  // (time, order)
  std::vector<std::pair<EventId, std::pair<std::int64_t, std::uint64_t>>> ids;
  std::uint64_t next_order = 0, ran = 0, out_of_order = 0;
  int budget = 200'000;

  void schedule(std::int64_t delay, bool timeout = false) {
    const std::pair<std::int64_t, std::uint64_t> key{sim.now().ns() + delay, next_order++};
    pending.insert(key);
    const std::int64_t time = key.first;  // a Callback's capture is trivially copyable
    const std::uint64_t order = key.second;
    const auto run = [this, time, order] { fired({time, order}); };
    const Duration after = Duration::nanoseconds(delay);
    ids.push_back(
        {timeout ? sim.schedule_timeout(after, run) : sim.schedule_after(after, run), key});
  }
  // A third are timeouts: half of them of three constant delays (a few lanes), half of random
  // delays (lanes until kMaxLanes, then ordinary events).
  void schedule_any() {
    static constexpr std::array<std::int64_t, 3> kTimeouts{0, 777, 250'000};
    if (!rng.bernoulli(1.0 / 3))
      schedule(rng.bernoulli(0.2) ? 0 : static_cast<std::int64_t>(rng.below(1'000'000)));
    else if (rng.bernoulli(0.5))
      schedule(kTimeouts[rng.below(kTimeouts.size())], true);
    else
      schedule(static_cast<std::int64_t>(rng.below(1'000'000)), true);
  }
  void fired(std::pair<std::int64_t, std::uint64_t> key) {
    ++ran;
    if (pending.empty() || *pending.begin() != key) ++out_of_order;
    pending.erase(key);
    const auto follow_ups = rng.below(4);
    for (std::uint64_t i = 0; i < follow_ups && budget-- > 0; ++i) schedule_any();
    // Now and then, cancel half of the ids kept, at random: the stale entries then outnumber the
    // live ones, and the heap is compacted from inside this callback.
    const std::size_t cancels = ran % 5'000 == 0 ? ids.size() / 2 : rng.below(2);
    for (std::size_t c = 0; c < cancels && !ids.empty(); ++c) {
      const auto i = rng.below(ids.size());
      if (sim.cancel(ids[i].first)) pending.erase(ids[i].second);
      ids[i] = ids.back();
      ids.pop_back();
    }
  }
};
}  // namespace

TEST_CASE("events scheduled and cancelled from callbacks run in (time, sequence) order") {
  ReplaceTopCheck check;
  for (int i = 0; i < 20'000; ++i) check.schedule_any();
  check.sim.run();
  CHECK(check.out_of_order == 0);
  CHECK(check.pending.empty());
  CHECK(check.ran > 100'000);  // enough events for the heap to be compacted along the way
  CHECK(check.ran == check.sim.events_processed());
}

TEST_CASE("timeouts each earlier than the last open lanes then become ordinary events") {
  // Each timeout is earlier than every one before it, so each needs a lane of its own: the
  // first kMaxLanes get one, the rest are ordinary events. Every other one is cancelled.
  Simulator s;
  const std::int64_t count = static_cast<std::int64_t>(Simulator::kMaxLanes) + 500;
  std::vector<std::int64_t> ran;
  for (std::int64_t i = 0; i < count; ++i) {
    const std::int64_t delay = 2 * (count - i);
    const EventId id =
        s.schedule_timeout(Duration::nanoseconds(delay), [&ran, delay] { ran.push_back(delay); });
    if (i % 2 == 1) CHECK(s.cancel(id));
  }
  CHECK(s.pending_events() == static_cast<std::size_t>(count / 2));
  s.run();
  REQUIRE(ran.size() == static_cast<std::size_t>(count / 2));
  CHECK(std::is_sorted(ran.begin(), ran.end()));
  CHECK(ran.front() == 4);  // i = count - 2: the last one kept, and the earliest
}

TEST_CASE("cancelled timeouts of a long delay do not pile up in their lane") {
  // A million one-hour timeouts, each cancelled at once (its answer came), as a client sending
  // a request every microsecond would: kept until their hour passed, they would hold 16 MB.
  Simulator s;
  const EventId kept = s.schedule_timeout(3600_s, [] {});
  int cancelled = 0;
  for (int i = 0; i < 1'000'000; ++i) {
    s.run_until(s.now() + 1_us);
    cancelled += s.cancel(s.schedule_timeout(3600_s, [] {})) ? 1 : 0;
  }
  CHECK(cancelled == 1'000'000);
  CHECK(s.is_pending(kept));
  CHECK(s.memory_bytes() < 1'000'000);
  CHECK(s.run() == 1);
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
