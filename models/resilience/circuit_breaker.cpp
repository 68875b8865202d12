#include "models/resilience/circuit_breaker.hpp"

#include <algorithm>

#include "sim/assert.hpp"

namespace models {

const char* to_string(BreakerState state) {
  switch (state) {
    case BreakerState::Closed:
      return "closed";
    case BreakerState::Open:
      return "open";
    case BreakerState::HalfOpen:
      return "half_open";
  }
  return "?";
}

CircuitBreaker::CircuitBreaker(const CircuitBreakerConfig& config, sim::Time measure_from)
    : config_(config),
      measure_from_(measure_from),
      timeline_("circuit_breaker", to_string(BreakerState::Closed)) {
  DSIM_ASSERT(config.sliding_window_size >= 1, "a breaker's window holds at least one call");
  DSIM_ASSERT(config.minimum_number_of_calls >= 1, "a breaker needs at least one call");
  DSIM_ASSERT(config.permitted_number_of_calls_in_half_open_state >= 1,
              "half-open permits at least one call");
  DSIM_ASSERT(config.bucket_duration > sim::Duration::zero(), "a bucket has a length");
  DSIM_ASSERT(config.consecutive_failures >= 0, "consecutive failures: 0 (off) or more");
  const auto size = static_cast<std::size_t>(config.sliding_window_size);
  minimum_calls_ = static_cast<std::uint64_t>(config.minimum_number_of_calls);
  if (config.sliding_window_type == SlidingWindowType::CountBased) {
    ring_.assign(size, 0);
    minimum_calls_ = std::min<std::uint64_t>(minimum_calls_, size);  // as resilience4j
  } else {
    buckets_.assign(size, Bucket{});
  }
}

CircuitBreaker::Permit CircuitBreaker::try_acquire(sim::Time now, sim::Time true_now) {
  if (state_ == BreakerState::Open && now - opened_at_ >= config_.wait_duration_in_open_state)
    transition(BreakerState::HalfOpen, now, true_now);
  switch (state_) {
    case BreakerState::Closed:
      return {true, epoch_};
    case BreakerState::HalfOpen:
      if (half_open_permits_ <
          static_cast<std::uint32_t>(config_.permitted_number_of_calls_in_half_open_state)) {
        ++half_open_permits_;
        return {true, epoch_};
      }
      break;
    case BreakerState::Open:
      break;
  }
  if (true_now >= measure_from_) ++not_permitted_;
  return {false, epoch_};
}

bool CircuitBreaker::on_result(Permit permit, bool failed, sim::Duration duration, sim::Time now,
                               sim::Time true_now) {
  DSIM_ASSERT(permit.granted, "only permitted calls have results");
  if (permit.epoch != epoch_) return false;  // permitted before the last transition: ignored
  const bool slow = duration > config_.slow_call_duration_threshold;
  switch (state_) {
    case BreakerState::Closed:
      record_closed(failed, slow, now);
      consecutive_ = failed ? consecutive_ + 1 : 0;
      if ((config_.consecutive_failures > 0 &&
           consecutive_ >= static_cast<std::uint32_t>(config_.consecutive_failures)) ||
          (calls_ >= minimum_calls_ && rates_exceeded(calls_, failures_, slow_))) {
        transition(BreakerState::Open, now, true_now);
        return true;
      }
      return false;
    case BreakerState::HalfOpen:
      ++half_open_calls_;
      half_open_failures_ += failed ? 1 : 0;
      half_open_slow_ += slow ? 1 : 0;
      if (half_open_calls_ <
          static_cast<std::uint32_t>(config_.permitted_number_of_calls_in_half_open_state))
        return false;
      if (rates_exceeded(half_open_calls_, half_open_failures_, half_open_slow_)) {
        transition(BreakerState::Open, now, true_now);
        return true;
      }
      transition(BreakerState::Closed, now, true_now);
      return false;
    case BreakerState::Open:
      return false;  // cannot happen: an Open period grants no permit
  }
  return false;
}

void CircuitBreaker::on_wait_over(std::uint32_t epoch, sim::Time now, sim::Time true_now) {
  if (state_ == BreakerState::Open && epoch == epoch_)
    transition(BreakerState::HalfOpen, now, true_now);
}

void CircuitBreaker::reset(sim::Time true_now) {
  state_ = BreakerState::Closed;
  ++epoch_;
  clear_window();
  timeline_.set(true_now, to_string(state_));
}

bool CircuitBreaker::rates_exceeded(std::uint64_t calls, std::uint64_t failures,
                                    std::uint64_t slow) const {
  if (calls == 0) return false;
  const double n = static_cast<double>(calls);
  return 100.0 * static_cast<double>(failures) / n >= config_.failure_rate_threshold ||
         100.0 * static_cast<double>(slow) / n >= config_.slow_call_rate_threshold;
}

void CircuitBreaker::transition(BreakerState to, sim::Time now, sim::Time true_now) {
  state_ = to;
  ++epoch_;
  clear_window();
  if (to == BreakerState::Open) {
    opened_at_ = now;
    if (true_now >= measure_from_) ++opened_;
  }
  timeline_.set(true_now, to_string(to));
}

void CircuitBreaker::clear_window() {
  calls_ = failures_ = slow_ = 0;
  consecutive_ = 0;
  std::fill(ring_.begin(), ring_.end(), std::uint8_t{0});
  ring_next_ = 0;
  std::fill(buckets_.begin(), buckets_.end(), Bucket{});
  newest_bucket_ = -1;
  half_open_permits_ = half_open_calls_ = half_open_failures_ = half_open_slow_ = 0;
}

void CircuitBreaker::expire_buckets(sim::Time now) {
  // Positions newest+1 .. current (at most one lap) can only hold buckets that left the window.
  const std::int64_t current = now.ns() / config_.bucket_duration.ns();
  if (current <= newest_bucket_) return;
  const auto size = static_cast<std::int64_t>(buckets_.size());
  for (std::int64_t i = std::max(newest_bucket_ + 1, current - size + 1); i <= current; ++i) {
    Bucket& b = buckets_[static_cast<std::size_t>(i % size)];
    calls_ -= b.calls;
    failures_ -= b.failures;
    slow_ -= b.slow;
    b = Bucket{};
  }
  newest_bucket_ = current;
}

void CircuitBreaker::record_closed(bool failed, bool slow, sim::Time now) {
  const std::uint8_t flags = static_cast<std::uint8_t>((failed ? kFailed : 0) | (slow ? kSlow : 0));
  if (config_.sliding_window_type == SlidingWindowType::CountBased) {
    if (calls_ == ring_.size()) {  // full: the oldest result leaves
      const std::uint8_t old = ring_[ring_next_];
      --calls_;
      failures_ -= (old & kFailed) ? 1 : 0;
      slow_ -= (old & kSlow) ? 1 : 0;
    }
    ring_[ring_next_] = flags;
    ring_next_ = (ring_next_ + 1) % ring_.size();
  } else {
    expire_buckets(now);
    const std::int64_t current = now.ns() / config_.bucket_duration.ns();
    Bucket& b =
        buckets_[static_cast<std::size_t>(current % static_cast<std::int64_t>(buckets_.size()))];
    b.index = current;
    ++b.calls;
    b.failures += failed ? 1 : 0;
    b.slow += slow ? 1 : 0;
  }
  ++calls_;
  failures_ += failed ? 1 : 0;
  slow_ += slow ? 1 : 0;
}

}  // namespace models
