// A retry budget: retries may be at most a fraction of the requests, plus a small reserve, so
// that a failing dependency cannot turn every request into max_attempts requests.
//
// This follows Finagle's RetryBudget (com.twitter.finagle.service.RetryBudget, the default
// "TokenRetryBudget" over a "LeakyTokenBucket"), not gRPC's retry throttling:
// - every logical request deposits `ratio` tokens; every retry withdraws 1 token, and is allowed
//   only if the balance holds a whole token (otherwise the failure is final);
// - deposits and withdrawals expire: the balance is the sum over the last `ttl`, kept in 10
//   slices of ttl/10 (Finagle's WindowedAdder), so the budget follows recent traffic and a long
//   quiet success does not bank an unbounded number of retries;
// - a reserve of min_retries_per_s x ttl tokens is always added to the balance, for callers
//   that have just started or send few requests.
// As in Finagle, amounts are integers: a deposit is kScale units, a withdrawal kScale / ratio
// (rounded to the nearest unit: Finagle truncates, with kScale = 1000; here kScale = 10^6), so
// that ten deposits of 0.1 make exactly one retry. ratio 0 means no credit from requests (the
// reserve alone, a withdrawal costing one unit as in Finagle).
// Differences from Finagle: `ttl` may be any positive duration (Finagle: whole seconds in
// [1s, 60s], and the reserve uses ttl truncated to seconds); min_retries_per_s may be fractional.
//
// What it gives: within any window the budget sees (0.9 to 1.0 x ttl, aligned to the slices),
//   retries <= ratio x requests + min_retries_per_s x ttl;
// under a sustained failure of everything, retries per second tend to
//   ratio x requests per second + min_retries_per_s - 1/ttl.
//
// gRPC's retry throttling (gRFC A6) is different: its bucket starts full at max_tokens, each
// *failed* attempt takes 1 token, each *success* gives back token_ratio, and retries stop while
// the bucket is at or below half of max_tokens. It is driven by the failure rate, not by the
// request rate, and does not expire; it is not implemented here.
//
// The budget reads the owner's monotonic clock. No allocation: the slices are a fixed array.
#pragma once

#include <array>
#include <cstdint>

#include "models/shared/params.hpp"
#include "sim/time.hpp"

namespace models {

struct RetryBudgetConfig {
  bool enabled = false;
  double ratio = 0.1;
  double min_retries_per_s = 10;
  sim::Duration ttl = sim::Duration::nanoseconds(10'000'000'000);  // 10s

  template <class V>
  void describe(V& v) {
    v.field("enabled", enabled,
            "limit retries with a budget (Finagle's RetryBudget); off: only max_attempts limits");
    v.field("ratio", ratio,
            "retries allowed per logical request (0.1: one retry per 10 requests), on top of the "
            "reserve",
            Limits{0, 1000});
    v.field("min_retries_per_s", min_retries_per_s,
            "the reserve: retries per second always allowed (min_retries_per_s x ttl per window)",
            Limits{0, 1e9});
    v.field("ttl", ttl, "how long deposits and withdrawals count (the budget's window)",
            Limits{1e6, 3.6e12});
  }
};

class RetryBudget {
 public:
  static constexpr int kSlices = 10;
  static constexpr std::int64_t kScale = 1'000'000;  // units per deposit

  explicit RetryBudget(const RetryBudgetConfig& config);

  /// A logical request was made at `now` (the owner's monotonic clock).
  void deposit(sim::Time now);
  /// A retry wants to go at `now`: true (and one token withdrawn) if the balance allows it.
  bool try_withdraw(sim::Time now);
  /// Whole retries the balance allows at `now`.
  std::int64_t balance(sim::Time now);
  /// Forgets every deposit and withdrawal (a crash: the budget is volatile).
  void reset();

  std::int64_t deposit_units() const { return deposit_units_; }
  std::int64_t withdrawal_units() const { return withdrawal_units_; }
  std::int64_t reserve_units() const { return reserve_units_; }

 private:
  /// Expires the slices that left the window by `now`.
  void advance(sim::Time now);
  std::int64_t units() const;

  std::int64_t deposit_units_;
  std::int64_t withdrawal_units_;
  std::int64_t reserve_units_;
  std::int64_t slice_ns_;
  std::array<std::int64_t, kSlices> slices_{};
  std::int64_t current_slice_ = 0;  // absolute index: now / slice_ns_
};

}  // namespace models
