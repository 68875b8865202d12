// A token bucket: admits on average `rate` requests per second, with bursts of up to `burst`.
//
// The bucket holds at most `burst` tokens and starts full; tokens flow in continuously at `rate`;
// a request takes one whole token or is refused. So over any interval of length t, at most
// rate x t + burst requests pass, and a steady excess of arrivals gets exactly that many.
//
// Kept as the time at which the bucket was (virtually) empty -- GCRA, the "virtual scheduling"
// form: tokens(now) = min(burst, (now - empty_at) x rate). Taking a token moves empty_at forward
// by one token's time, 1/rate. No per-request rounding accumulates: with a token time that is a
// whole number of nanoseconds (rates dividing 10^9 per second: 1000/s, 2000/s, 400/s) every
// step is exact in double precision, so the count of admitted requests is exact.
#pragma once

#include <algorithm>
#include <cstdint>

#include "sim/assert.hpp"
#include "sim/time.hpp"

namespace models {

class TokenBucket {
 public:
  /// `rate_per_second` > 0, `burst` >= 1 tokens. Full from `start` on.
  TokenBucket(double rate_per_second, double burst, sim::Time start = sim::Time::zero())
      : token_ns_(1e9 / rate_per_second), burst_(burst) {
    DSIM_ASSERT(rate_per_second > 0 && burst >= 1, "a token bucket needs rate > 0, burst >= 1");
    refill(start);
  }

  /// The bucket is full again at `now` (a restart).
  void refill(sim::Time now) { empty_at_ns_ = static_cast<double>(now.ns()) - burst_ * token_ns_; }

  /// Takes a token if one is available at `now` (true), else leaves the bucket as it is.
  bool try_take(sim::Time now) {
    const double t = static_cast<double>(now.ns());
    empty_at_ns_ = std::max(empty_at_ns_, t - burst_ * token_ns_);  // at most `burst` tokens
    if (t - empty_at_ns_ < token_ns_) return false;
    empty_at_ns_ += token_ns_;
    return true;
  }

  /// Tokens available at `now` (fractional), for tests and figures.
  double tokens(sim::Time now) const {
    return std::min(burst_, (static_cast<double>(now.ns()) - empty_at_ns_) / token_ns_);
  }

 private:
  double token_ns_;     // the time to earn one token
  double burst_;        // the bucket's size, tokens
  double empty_at_ns_;  // the bucket held no token at this (virtual) time
};

}  // namespace models
