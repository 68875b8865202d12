#include "models/election/phi_accrual_detector.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/assert.hpp"

namespace models {

double PhiAccrualDetector::phi_of(double y) {
  const double tail = 0.5 * std::erfc(y / std::sqrt(2.0));  // Q(y) = 1 - Φ(y), no cancellation
  if (tail < std::numeric_limits<double>::min()) return kMaxPhi;  // underflow (y > 37.5): cap
  const double phi = -std::log10(tail);
  return phi > 0 ? phi : 0.0;  // Q(y) = 1 far below the mean: 0, not -0
}

double PhiAccrualDetector::y_for(double threshold) {
  DSIM_ASSERT(threshold > 0 && threshold <= kMaxThreshold, "a φ threshold is in (0, 300]");
  // phi_of(-40) = 0 < threshold <= 300 < phi_of(40) = kMaxPhi. Bisection over doubles ends
  // when the midpoint is one of the ends: lo and hi are then adjacent doubles.
  double lo = -40, hi = 40;
  for (int i = 0; i < 2000; ++i) {
    const double mid = 0.5 * (lo + hi);
    if (mid <= lo || mid >= hi) break;
    (phi_of(mid) >= threshold ? hi : lo) = mid;
  }
  return hi;
}

PhiAccrualDetector::PhiAccrualDetector(const PhiAccrualConfig& config)
    : config_(config),
      threshold_y_(y_for(config.threshold)),
      ring_(static_cast<std::size_t>(std::max(config.window, 1))) {
  DSIM_ASSERT(config.window >= 1, "a φ detector's window holds at least one interval");
  DSIM_ASSERT(config.min_std_deviation > sim::Duration::zero(), "min_std_deviation is positive");
  DSIM_ASSERT(config.acceptable_heartbeat_pause >= sim::Duration::zero(),
              "an acceptable pause cannot be negative");
  DSIM_ASSERT(config.first_heartbeat_estimate > sim::Duration::zero(),
              "the first heartbeat estimate is positive");
}

void PhiAccrualDetector::reset(sim::Time now) {
  head_ = count_ = 0;
  sum_ = 0;
  sum_squares_ = 0;
  const std::int64_t e = config_.first_heartbeat_estimate.ns();
  add(e - e / 4);  // Akka's bootstrap: mean e, standard deviation e / 4
  add(e + e / 4);
  last_ = now;
  first_after_reset_ = true;
  update_suspicion_time();
}

void PhiAccrualDetector::heartbeat(sim::Time now) {
  DSIM_ASSERT(now >= last_, "heartbeats arrive in local-time order");
  // Not the first after a reset (nothing arrived then), nor the first after a suspicion.
  if (!first_after_reset_ && !suspected(now)) add((now - last_).ns());
  first_after_reset_ = false;
  last_ = now;
  update_suspicion_time();
}

void PhiAccrualDetector::add(std::int64_t interval_ns) {
  if (count_ == ring_.size()) {  // full: the oldest leaves
    const std::int64_t old = ring_[head_];
    sum_ -= old;
    sum_squares_ -= static_cast<__int128>(old) * old;
    head_ = (head_ + 1) % ring_.size();
    --count_;
  }
  ring_[(head_ + count_) % ring_.size()] = interval_ns;
  ++count_;
  sum_ += interval_ns;
  sum_squares_ += static_cast<__int128>(interval_ns) * interval_ns;
}

double PhiAccrualDetector::mean_ns() const {
  DSIM_ASSERT(count_ > 0, "the window is seeded by reset()");
  return static_cast<double>(sum_) / static_cast<double>(count_);
}

double PhiAccrualDetector::std_deviation_ns() const {
  DSIM_ASSERT(count_ > 0, "the window is seeded by reset()");
  // n² σ² = n Σx² - (Σx)², exact in 128 bits; one rounding when converted.
  const auto n = static_cast<__int128>(count_);
  const __int128 scaled = n * sum_squares_ - static_cast<__int128>(sum_) * sum_;
  const double n_d = static_cast<double>(count_);
  return std::sqrt(static_cast<double>(scaled)) / n_d;
}

double PhiAccrualDetector::floored_std_ns() const {
  return std::max(std_deviation_ns(), static_cast<double>(config_.min_std_deviation.ns()));
}

double PhiAccrualDetector::phi(sim::Time now) const {
  DSIM_ASSERT(now >= last_, "φ is asked for after the last heartbeat");
  const double silence = static_cast<double>((now - last_).ns());
  const double expected = mean_ns() + static_cast<double>(config_.acceptable_heartbeat_pause.ns());
  return phi_of((silence - expected) / floored_std_ns());
}

void PhiAccrualDetector::update_suspicion_time() {
  const double offset = mean_ns() + static_cast<double>(config_.acceptable_heartbeat_pause.ns()) +
                        threshold_y_ * floored_std_ns();
  // Rounded up: never before φ reaches the threshold; at once if a tiny threshold puts y* that
  // far below the mean; at most ~30 years on (no overflow of the time type).
  suspicion_time_ = last_ + sim::duration_from_ns(std::clamp(std::ceil(offset), 0.0, 1e18));
}

}  // namespace models
