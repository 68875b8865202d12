// A circuit breaker: stops calling a dependency that fails, gives it time, then tries it again
// with a few calls. Modelled on resilience4j's CircuitBreaker (io.github.resilience4j.
// circuitbreaker), whose parameter names it keeps in snake case.
//
// States (explicit, BreakerState):
// - Closed: every call is permitted; results go into a sliding window. After each result the
//   breaker opens if
//     (a) `consecutive_failures` > 0 and that many results in a row were failures, or
//     (b) the window holds at least `minimum_number_of_calls` results and
//         failures / calls >= failure_rate_threshold % (resilience4j: failureRateThreshold), or
//         slow calls / calls >= slow_call_rate_threshold % (slowCallRateThreshold), where a
//         call is slow if it took longer than slow_call_duration_threshold (a slow failure
//         counts in both rates).
//   The window (slidingWindowType) is
//     count_based: the last `sliding_window_size` results; resilience4j then uses
//       min(minimumNumberOfCalls, slidingWindowSize) as the minimum, and so does this;
//     time_based: the results of the last `sliding_window_size` buckets of `bucket_duration`
//       (the current, partial bucket included); buckets are aligned to multiples of the
//       bucket duration on the owner's monotonic clock.
// - Open: every call is refused at once (the caller ends it with Outcome::CircuitOpen without
//   sending anything: counted as not permitted). After wait_duration_in_open_state
//   (waitDurationInOpenState) the breaker moves to HalfOpen: lazily, when the next call asks
//   for permission, or at the exact moment if `automatic_transition`
//   (automaticTransitionFromOpenToHalfOpenEnabled; the owner arms a timer, on_wait_over).
// - HalfOpen: permitted_number_of_calls_in_half_open_state calls are permitted, further ones
//   refused. When all of them have a result, their failure rate and slow-call rate are compared
//   with the same thresholds: either at or over its threshold -> Open again; both under ->
//   Closed. So with the default 50 %, "all succeed" closes it, and so does "fewer than half
//   fail"; one permitted call makes it "one success closes, one failure opens".
// Every transition starts a fresh window (as resilience4j does: new metrics per state).
// What a failure is: every outcome but Ok (timeouts, rejections, errors, drops, rate limits):
// resilience4j's default of recording every exception. Durations are measured on the owner's
// monotonic clock from the send to the answer (a timeout's duration is the timeout).
//
// Differences from resilience4j, all of them:
// 1. `consecutive_failures` (a trip on N failures in a row, as in Polly's basic breaker or
//    gobreaker's ReadyToTrip) does not exist in resilience4j; it applies in Closed only.
// 2. Results of calls permitted in an earlier state (before the last transition) are ignored;
//    resilience4j records a late result in whatever state is current (a call permitted while
//    Closed can count among the half-open trial calls there).
// 3. The time-based bucket length is configurable (`bucket_duration`); resilience4j's is one
//    second, aligned to the epoch second.
// 4. Not implemented: maxWaitDurationInHalfOpenState (HalfOpen waits until every permitted call
//    has a result: with a caller timeout of 0 and a lost answer it never leaves), the special
//    states DISABLED, FORCED_OPEN and METRICS_ONLY, record/ignore exception lists and result
//    predicates (every non-Ok outcome is a failure), and event publishing (the StateTimeline
//    is the record of transitions).
// 5. The state is volatile: a crash of the owner's node resets it to Closed (reset()).
// Defaults are resilience4j's (window 100 calls, minimum 100, 50 %, slow 100 % over 60s, wait
// 60s, 10 half-open calls), so `enabled` alone gives resilience4j's behaviour; scenarios with
// short runs will want a shorter wait.
//
// One breaker guards all the caller's calls to its target component (one resilience4j instance
// per backend name), not one per replica. The state changes go to a StateTimeline named
// "circuit_breaker" (states "closed", "open", "half_open") in true time, for the report.
// Steady state: no allocation (the windows are sized at construction).
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "models/shared/params.hpp"
#include "models/shared/state_timeline.hpp"
#include "sim/time.hpp"

namespace models {

enum class BreakerState : std::uint8_t { Closed, Open, HalfOpen };
const char* to_string(BreakerState state);

enum class SlidingWindowType : std::uint8_t { CountBased, TimeBased };

inline constexpr std::array<Choice<SlidingWindowType>, 2> kSlidingWindowChoices{{
    {"count_based", SlidingWindowType::CountBased, "the last sliding_window_size calls"},
    {"time_based", SlidingWindowType::TimeBased,
     "the calls of the last sliding_window_size buckets of bucket_duration"},
}};

struct CircuitBreakerConfig {
  bool enabled = false;
  SlidingWindowType sliding_window_type = SlidingWindowType::CountBased;
  int sliding_window_size = 100;
  sim::Duration bucket_duration = sim::Duration::nanoseconds(1'000'000'000);
  int minimum_number_of_calls = 100;
  double failure_rate_threshold = 50;
  double slow_call_rate_threshold = 100;
  sim::Duration slow_call_duration_threshold = sim::Duration::nanoseconds(60'000'000'000);
  int consecutive_failures = 0;
  sim::Duration wait_duration_in_open_state = sim::Duration::nanoseconds(60'000'000'000);
  int permitted_number_of_calls_in_half_open_state = 10;
  bool automatic_transition = false;

  template <class V>
  void describe(V& v) {
    v.field("enabled", enabled, "guard the calls with a circuit breaker");
    v.field("sliding_window_type", sliding_window_type, "what the closed state's window holds",
            kSlidingWindowChoices);
    v.field("sliding_window_size", sliding_window_size,
            "calls (count_based) or buckets (time_based) in the window", Limits{1, 1e6});
    v.field("bucket_duration", bucket_duration,
            "time_based: the length of one bucket (resilience4j: 1s)", Limits{1});
    v.field("minimum_number_of_calls", minimum_number_of_calls,
            "results the window needs before its rates can open the breaker", Limits{1, 1e9});
    v.field("failure_rate_threshold", failure_rate_threshold,
            "percent of failed calls at or above which the breaker opens", Limits{1e-9, 100});
    v.field("slow_call_rate_threshold", slow_call_rate_threshold,
            "percent of slow calls at or above which the breaker opens", Limits{1e-9, 100});
    v.field("slow_call_duration_threshold", slow_call_duration_threshold,
            "a call that takes longer than this is slow", Limits{0});
    v.field("consecutive_failures", consecutive_failures,
            "open after this many failures in a row (closed state); 0: off (not in resilience4j)",
            Limits{0, 1e9});
    v.field("wait_duration_in_open_state", wait_duration_in_open_state,
            "how long the breaker stays open before trying half-open calls", Limits{0});
    v.field("permitted_number_of_calls_in_half_open_state",
            permitted_number_of_calls_in_half_open_state,
            "trial calls in half-open; their failure and slow rates decide: close or open again",
            Limits{1, 1e6});
    v.field("automatic_transition", automatic_transition,
            "move to half-open when the wait ends, not at the next call (a timer)");
  }
};

class CircuitBreaker {
 public:
  /// A permission to call, to be handed back with the call's result.
  struct Permit {
    bool granted = false;
    std::uint32_t epoch = 0;  // the state period that granted it
  };

  /// Counts (not_permitted, opened) only at true times >= measure_from.
  CircuitBreaker(const CircuitBreakerConfig& config, sim::Time measure_from);

  /// May a call go now? `now`: the owner's monotonic clock; `true_now`: for the timeline and
  /// the counts. Moves Open -> HalfOpen first if the wait is over.
  Permit try_acquire(sim::Time now, sim::Time true_now);
  /// The result of a call made with `permit` that took `duration`. Returns true if this result
  /// opened the breaker (the owner arms its timer for an automatic transition).
  bool on_result(Permit permit, bool failed, sim::Duration duration, sim::Time now,
                 sim::Time true_now);
  /// The owner's timer for the automatic transition, armed when the breaker opened in `epoch`.
  void on_wait_over(std::uint32_t epoch, sim::Time now, sim::Time true_now);
  /// Back to Closed with empty windows (the owner's node crashed: volatile state).
  void reset(sim::Time true_now);

  BreakerState state() const { return state_; }
  std::uint32_t epoch() const { return epoch_; }
  const StateTimeline& timeline() const { return timeline_; }
  const CircuitBreakerConfig& config() const { return config_; }
  /// Calls refused since measure_from (short-circuited).
  std::uint64_t not_permitted() const { return not_permitted_; }
  /// Transitions to Open since measure_from.
  std::uint64_t opened() const { return opened_; }
  /// Results in the closed state's window now, and how many failed / were slow.
  std::uint64_t window_calls() const { return calls_; }
  std::uint64_t window_failures() const { return failures_; }
  std::uint64_t window_slow() const { return slow_; }

 private:
  struct Bucket {
    std::int64_t index = -1;  // absolute: time / bucket_duration
    std::uint32_t calls = 0, failures = 0, slow = 0;
  };
  enum Flags : std::uint8_t { kFailed = 1, kSlow = 2 };

  void transition(BreakerState to, sim::Time now, sim::Time true_now);
  void record_closed(bool failed, bool slow, sim::Time now);
  void expire_buckets(sim::Time now);
  void clear_window();
  bool rates_exceeded(std::uint64_t calls, std::uint64_t failures, std::uint64_t slow) const;

  CircuitBreakerConfig config_;
  sim::Time measure_from_;
  BreakerState state_ = BreakerState::Closed;
  std::uint32_t epoch_ = 0;
  sim::Time opened_at_;  // monotonic, when the breaker last opened
  StateTimeline timeline_;
  // Closed: the window's totals; count-based ring or time-based buckets.
  std::uint64_t calls_ = 0, failures_ = 0, slow_ = 0;
  std::uint32_t consecutive_ = 0;
  std::vector<std::uint8_t> ring_;  // count-based: flags of the last results
  std::size_t ring_next_ = 0;
  std::vector<Bucket> buckets_;  // time-based
  std::int64_t newest_bucket_ = -1;
  std::uint64_t minimum_calls_;
  // HalfOpen: permits given and results received in this period.
  std::uint32_t half_open_permits_ = 0;
  std::uint32_t half_open_calls_ = 0, half_open_failures_ = 0, half_open_slow_ = 0;
  std::uint64_t not_permitted_ = 0, opened_ = 0;
};

}  // namespace models
