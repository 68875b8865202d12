#include "models/resilience/retry_budget.hpp"

#include <cmath>

#include "sim/assert.hpp"

namespace models {

RetryBudget::RetryBudget(const RetryBudgetConfig& config) {
  DSIM_ASSERT(config.ratio >= 0 && config.ratio <= 1000, "a retry ratio lies in [0, 1000]");
  DSIM_ASSERT(config.min_retries_per_s >= 0, "a reserve cannot be negative");
  DSIM_ASSERT(config.ttl.ns() >= kSlices, "a budget's ttl must hold its slices");
  // Finagle: with no ratio, a retry costs one unit and only the reserve pays for it.
  deposit_units_ = config.ratio > 0 ? kScale : 0;
  withdrawal_units_ =
      config.ratio > 0 ? std::llround(static_cast<double>(kScale) / config.ratio) : 1;
  if (withdrawal_units_ < 1) withdrawal_units_ = 1;
  reserve_units_ = std::llround(config.min_retries_per_s * config.ttl.seconds() *
                                static_cast<double>(withdrawal_units_));
  slice_ns_ = config.ttl.ns() / kSlices;
}

void RetryBudget::advance(sim::Time now) {
  const std::int64_t slice = now.ns() / slice_ns_;
  if (slice <= current_slice_) return;  // same slice (or a clock that does not move)
  if (slice - current_slice_ >= kSlices) {
    slices_.fill(0);
  } else {
    for (std::int64_t s = current_slice_ + 1; s <= slice; ++s) slices_[s % kSlices] = 0;
  }
  current_slice_ = slice;
}

std::int64_t RetryBudget::units() const {
  std::int64_t sum = reserve_units_;
  for (const std::int64_t s : slices_) sum += s;
  return sum;
}

void RetryBudget::deposit(sim::Time now) {
  advance(now);
  slices_[current_slice_ % kSlices] += deposit_units_;
}

bool RetryBudget::try_withdraw(sim::Time now) {
  advance(now);
  if (units() < withdrawal_units_) return false;
  slices_[current_slice_ % kSlices] -= withdrawal_units_;
  return true;
}

std::int64_t RetryBudget::balance(sim::Time now) {
  advance(now);
  const std::int64_t u = units();
  return u > 0 ? u / withdrawal_units_ : 0;
}

void RetryBudget::reset() {
  slices_.fill(0);
}

}  // namespace models
