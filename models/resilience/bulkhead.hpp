// A bulkhead: a cap on the calls a caller has in flight to one dependency at once, so that a
// slow dependency can hold at most that many of the caller's resources (threads, workers,
// connections) and the others stay free for everything else. Modelled on resilience4j's
// SemaphoreBulkhead (io.github.resilience4j.bulkhead), whose BulkheadConfig has
// maxConcurrentCalls and maxWaitDuration; here `max_concurrent` and `max_wait`.
//
// Semantics, in the order a call meets them:
// - A call asks for a permit. If fewer than `max_concurrent` permits are held and no call is
//   waiting, it gets one at once (Admitted).
// - Otherwise, with `max_wait` = 0 (fail fast, resilience4j's default), it is refused at once
//   (Rejected: resilience4j's BulkheadFullException).
// - With `max_wait` > 0 it waits in a FIFO queue (resilience4j's fair semaphore,
//   fairCallHandlingEnabled = true, its default): when a permit comes back, the call that has
//   waited longest takes it at that instant; a call still waiting after `max_wait` (a timer of
//   the owner, on its clock) leaves the queue, refused. A newcomer never overtakes a waiting
//   call, even when a permit is free at the instant it asks (it cannot be: a freed permit goes
//   to the head of the queue at once).
// - The permit is held until the call ends, as its owner sees it, and then comes back.
// The owner (the Caller, models/shared/caller.hpp) keeps the timers and decides what a refusal
// means; this part keeps the count, the queue of waiting calls and its counters.
//
// Differences from resilience4j's SemaphoreBulkhead, all of them:
// 1. resilience4j blocks the calling thread while it waits for a permit; here the waiting call
//    is parked, nothing blocks. (A service whose worker makes the call, the gateway of
//    models/isolation/gateway.hpp, holds that worker while its call waits, as a thread would
//    be held.)
// 2. `max_concurrent` = 0 switches the bulkhead off (resilience4j has no off; its default is 25
//    calls), so that every existing scenario runs as before.
// 3. Where the permit comes back: at the end of the call as the Caller sees it: its answer, its
//    per-try timeout (the server may still be working on it: the permit guards the caller's
//    resources, not the server's), or the crash of the caller's node. resilience4j releases it
//    when the decorated call returns, which a TimeLimiter outside the bulkhead does not hurry.
// 4. Not modelled: the ThreadPoolBulkhead (a pool of its own with a bounded queue: the gateway's
//    workers and queue are that), changing the configuration at run time (changeConfig), the
//    barging tryAcquire that resilience4j uses when maxWaitDuration is 0 (nobody ever waits
//    then, so it cannot barge), events and metrics other than the figures below.
// 5. The state is volatile: a crash of the owner's node frees every permit and empties the queue
//    (reset()).
// Steady state: no allocation (the queue is a ring buffer that grows to its peak, then reuses).
#pragma once

#include <cstdint>
#include <optional>

#include "models/shared/params.hpp"
#include "sim/ring_buffer.hpp"
#include "sim/time.hpp"

namespace models {

/// The "bulkhead" section of a caller's configuration.
struct BulkheadConfig {
  std::int64_t max_concurrent = 0;
  sim::Duration max_wait = sim::Duration::zero();

  bool enabled() const { return max_concurrent > 0; }

  template <class V>
  void describe(V& v) {
    v.field("max_concurrent", max_concurrent,
            "calls in flight at once (resilience4j's maxConcurrentCalls); 0: no bulkhead",
            Limits{0, 1e9});
    v.field("max_wait", max_wait,
            "how long a call may wait for a permit, FIFO, on the caller's clock "
            "(maxWaitDuration); 0: refused at once when the bulkhead is full",
            Limits{0});
  }
};

class Bulkhead {
 public:
  enum class Admission : std::uint8_t { Admitted, Waiting, Rejected };

  /// Counts (max_concurrent_reached) only at true times >= measure_from.
  Bulkhead(const BulkheadConfig& config, sim::Time measure_from);

  /// A call, named `waiter` by the owner, asks for a permit at true time `now`. `may_wait`:
  /// false refuses instead of queueing (the owner has no time left to wait). Waiting: the
  /// owner arms its max_wait timer; the call gets its permit from release() or leaves with
  /// expire().
  Admission try_acquire(std::uint64_t waiter, bool may_wait, sim::Time now);
  /// Whether a permit is free for a call that will not wait (and overtakes nobody).
  bool available() const { return in_use_ < limit_ && waiting_.empty(); }
  /// Takes a free permit (available() must be true): a call that never waits.
  void acquire_now(sim::Time now);
  /// A permit comes back. If a call waits, the longest-waiting one takes it at once: returned,
  /// for the owner to send it (and cancel its timer).
  std::optional<std::uint64_t> release(sim::Time now);
  /// `waiter`'s max_wait is over: it leaves the queue, refused. False if it is not waiting.
  bool expire(std::uint64_t waiter);
  /// Every permit free, nobody waiting (the owner's node crashed).
  void reset();

  const BulkheadConfig& config() const { return config_; }
  std::int64_t in_use() const { return in_use_; }
  std::size_t waiting() const { return waiting_.size(); }
  /// The most permits held at once, at or after measure_from.
  std::int64_t max_in_use() const { return max_in_use_; }

 private:
  void observe(sim::Time now);

  BulkheadConfig config_;
  std::int64_t limit_;
  sim::Time measure_from_;
  std::int64_t in_use_ = 0;
  sim::RingBuffer<std::uint64_t> waiting_;  // the owner's names of the waiting calls, oldest first
  std::int64_t max_in_use_ = 0;
};

}  // namespace models
