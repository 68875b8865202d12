// When a failed attempt is tried again: the retry policy of a Caller.
//
// After a failed attempt (an answer other than Ok, a per-try timeout, or a refusal by the
// circuit breaker) the policy retries if, in this order:
//   1. the outcome is one that `retry_on` retries (a refusal to even try, CircuitOpen, is not
//      retried by default: the breaker would most likely refuse again);
//   2. fewer than `max_attempts` tries were made (a try refused by the breaker counts);
//   3. with an overall `deadline`, the retry would start before it: the backoff wait is drawn
//      first, and a retry that would start at or after the deadline is not made;
//   4. with a budget, the budget allows it (RetryBudget::try_withdraw: withdrawn only here,
//      when everything else said yes).
// Otherwise the failure is final and the request ends with the failed attempt's outcome.
// The wait before retry n (1 for the first retry) is Backoff::next(n)
// (models/resilience/backoff.hpp). Every logical request deposits into the budget when it starts
// (RetryPolicy::on_request). All times are the owner's monotonic clock.
#pragma once

#include <cstdint>
#include <memory>

#include "models/resilience/backoff.hpp"
#include "models/resilience/retry_budget.hpp"
#include "models/shared/params.hpp"
#include "models/shared/rpc.hpp"
#include "sim/rng.hpp"
#include "sim/time.hpp"

namespace models {

/// Which outcomes of an attempt are worth another try.
struct RetryOn {
  bool timeout = true;
  bool rejected = true;
  bool error = true;
  bool circuit_open = false;
  bool dropped = true;
  bool rate_limited = true;

  template <class V>
  void describe(V& v) {
    v.field("timeout", timeout, "retry after a per-try timeout");
    v.field("rejected", rejected, "retry after a rejection (full queue, load shedding)");
    v.field("error", error, "retry after an error answer");
    v.field("circuit_open", circuit_open,
            "retry (after the backoff) when the caller's own circuit breaker refused the try");
    v.field("dropped", dropped, "retry after the server dropped the request (deadline passed)");
    v.field("rate_limited", rate_limited, "retry after a rate limiter refused the request");
  }

  bool retries(Outcome outcome) const;
};

/// The "retry" section of a caller's configuration.
struct RetryConfig {
  int max_attempts = 1;
  BackoffConfig backoff;
  sim::Duration deadline = sim::Duration::zero();
  RetryOn retry_on;
  RetryBudgetConfig budget;

  template <class V>
  void describe(V& v) {
    v.field("max_attempts", max_attempts,
            "tries per logical request, the first included (1: no retry)", Limits{1, 1000});
    backoff.describe(v);
    v.field("deadline", deadline,
            "overall time allowed to a logical request, all tries and waits included, on the "
            "caller's clock; 0: none (each try still has its `timeout`)",
            Limits{0});
    v.section("retry_on", retry_on, "which failed outcomes are retried");
    v.section("budget", budget,
              "a retry budget shared by all the caller's requests (Finagle's RetryBudget)");
  }
};

/// Why a failed attempt is not retried.
enum class GiveUpReason : std::uint8_t { NotRetryable, AttemptsExhausted, Deadline, Budget };

struct RetryDecision {
  bool retry = false;
  sim::Duration wait = sim::Duration::zero();        // before the retry (when retry)
  GiveUpReason reason = GiveUpReason::NotRetryable;  // when !retry
};

class RetryPolicy {
 public:
  /// Follows `config`, which must outlive the policy (a Caller's shared configuration): a
  /// client node holds a reference, not a copy.
  explicit RetryPolicy(const RetryConfig& config);
  explicit RetryPolicy(RetryConfig&&) = delete;

  /// A logical request starts at `now`: its deposit into the budget.
  void on_request(sim::Time now);

  /// After a failed try with `outcome`: `tries` made so far (>= 1); `deadline` the request's
  /// overall deadline, or Time::max(); `backoff` the request's own backoff state; jitter drawn
  /// from `rng`.
  RetryDecision decide(Outcome outcome, std::uint32_t tries, sim::Time now, sim::Time deadline,
                       Backoff& backoff, sim::Rng& rng);

  /// Forgets the budget's history (a crash).
  void reset();

  const RetryConfig& config() const { return config_; }
  bool has_budget() const { return budget_ != nullptr; }

 private:
  const RetryConfig& config_;
  std::unique_ptr<RetryBudget> budget_;  // only with a budget: most callers have none
};

}  // namespace models
