#include "models/resilience/bulkhead.hpp"

#include <algorithm>

#include "sim/assert.hpp"

namespace models {

Bulkhead::Bulkhead(const BulkheadConfig& config, sim::Time measure_from)
    : config_(config), limit_(config.max_concurrent), measure_from_(measure_from), waiting_(16) {
  DSIM_ASSERT(config.enabled(), "a bulkhead admits at least one call");
  DSIM_ASSERT(config.max_wait >= sim::Duration::zero(), "a wait cannot be negative");
}

void Bulkhead::observe(sim::Time now) {
  if (now >= measure_from_) max_in_use_ = std::max(max_in_use_, in_use_);
}

Bulkhead::Admission Bulkhead::try_acquire(std::uint64_t waiter, bool may_wait, sim::Time now) {
  if (available()) {
    acquire_now(now);
    return Admission::Admitted;
  }
  if (!may_wait || config_.max_wait == sim::Duration::zero()) return Admission::Rejected;
  waiting_.push_back(waiter);
  return Admission::Waiting;
}

void Bulkhead::acquire_now(sim::Time now) {
  DSIM_ASSERT(available(), "a permit is free and nobody waits for it");
  ++in_use_;
  observe(now);
}

std::optional<std::uint64_t> Bulkhead::release(sim::Time now) {
  DSIM_ASSERT(in_use_ > 0, "a permit comes back only if it was taken");
  observe(now);  // the level reached before this release (held since before measure_from)
  if (!waiting_.empty()) return waiting_.pop_front();  // the permit passes on: in_use unchanged
  --in_use_;
  return std::nullopt;
}

bool Bulkhead::expire(std::uint64_t waiter) {
  // Usually the head: equal waits expire in the order they began.
  return waiting_.remove_first([waiter](std::uint64_t w) { return w == waiter; }).has_value();
}

void Bulkhead::reset() {
  in_use_ = 0;
  waiting_.clear();
}

}  // namespace models
