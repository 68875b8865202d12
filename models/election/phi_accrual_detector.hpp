// The φ accrual failure detector: instead of a yes/no verdict, a suspicion level φ that grows
// with the silence since the last heartbeat, scaled by how regular the heartbeats have been.
// A part, without model glue: its owner feeds it heartbeat arrivals and asks for φ, or for the
// instant at which φ will reach the threshold; it sends nothing and sets no timer itself.
//
// Reference: N. Hayashibara, X. Défago, R. Yared, T. Katayama, "The φ Accrual Failure Detector",
// 23rd IEEE Symposium on Reliable Distributed Systems (SRDS 2004), pp. 66-78; and its best-known
// implementation, Akka's akka.remote.PhiAccrualFailureDetector, whose parameters this keeps
// (threshold, max-sample-size as `window`, min-std-deviation, acceptable-heartbeat-pause,
// first-heartbeat-estimate, which Akka takes from heartbeat-interval).
//
// Semantics. All times are readings of the owner's monotonic clock (local time).
// - The window holds the last `window` inter-arrival times (a ring allocated at construction:
//   nothing allocates per heartbeat). Their mean μ and standard deviation σ are the population
//   ones (divided by n, as Akka's), kept as exact integer sums of nanoseconds and squared
//   nanoseconds, so a long run accumulates no rounding; σ is floored at `min_std_deviation`.
// - φ(now) = -log10(1 - F(now - t_last)), where t_last is the last heartbeat's arrival and F is
//   the CDF of the normal distribution N(μ + acceptable_heartbeat_pause, σ²). With
//   y = (now - t_last - μ - pause) / σ, 1 - F = Q(y) = erfc(y / √2) / 2 (std::erfc: accurate in
//   the upper tail, where 1 - Φ(y) computed as a difference would cancel to 0 near y = 8.3).
//   Where Q underflows the normal doubles (y > 37.5), φ is capped at -log10(DBL_MIN) = 307.65;
//   the threshold is at most 300, so the cap never decides a suspicion.
// - Suspected when φ >= threshold. φ grows with the silence, so the suspicion starts at the
//   closed-form instant t_last + μ + pause + y*·σ, where y* solves Q(y*) = 10^-threshold (found
//   once, by bisection over φ itself, at construction). suspicion_time() returns it (rounded up
//   to a nanosecond) and suspected(now) compares with it: the owner arms one timer, no polling.
// - heartbeat(now): the interval now - t_last enters the window unless the process was
//   suspected at `now` (Akka: "don't use the first heartbeat after failure for the history,
//   since a long pause will skew the stats"); t_last becomes `now`.
// - reset(now) (start watching): the window is seeded, as Akka seeds it at a process's first
//   heartbeat, with two intervals e - e/4 and e + e/4 (e = first_heartbeat_estimate: μ = e,
//   σ = e/4), and t_last = now. The first heartbeat after reset() adds no interval (nothing
//   arrived at the reset); later ones do, pushing the seeds out once the window is full.
//
// Differences from the paper, all of them:
// 1. The paper leaves the estimate of the first heartbeats open; here, Akka's seeds (above).
// 2. min_std_deviation, acceptable_heartbeat_pause and the exclusion of the first interval
//    after a suspicion are Akka's additions; the paper has none of them (pause 0 and a tiny
//    floor give the paper's detector).
// 3. The paper does not say whether σ divides by n or n - 1; here by n (Akka).
// Differences from Akka's implementation, all of them:
// 1. Akka computes 1 - F with a logistic approximation of the normal CDF,
//    F(y) ≈ 1 / (1 + exp(-y (1.5976 + 0.070566 y²))) (Bowling et al., "A logistic approximation
//    to the cumulative normal distribution", J. Industrial Engineering and Management 2(1), 2009):
//    cheap, and stable in the tail (φ is computed from the exponent, never from a difference).
//    Its absolute error in F is at most 1.4e-4, but in the tail, where φ lives, its relative
//    error grows: it gives φ = 2.91, 4.74, 7.30, 10.78 where the normal gives 2.87, 4.50, 6.54,
//    9.01 (y = 3, 4, 5, 6), so Akka's threshold 8 is reached at y ≈ 5.27 instead of 5.61.
//    Here 1 - F is computed exactly (erfc), so that φ is the paper's and the validation tests
//    can compare it with the formula; erfc is just as stable in the tail and the cost does not
//    matter (φ is evaluated when a heartbeat arrives, not polled).
// 2. Akka treats a process never heard from as available (φ = 0 before its first heartbeat);
//    here reset() starts the clock, so a process dead from the start is suspected.
// 3. Akka keeps whole milliseconds (and so floors min-std-deviation and the seeds to ms);
//    here nanoseconds.
// 4. No event on a slow heartbeat (Akka logs a warning when an interval exceeds half the
//    acceptable pause).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "sim/time.hpp"

namespace models {

struct PhiAccrualConfig {
  double threshold = 8;  // (0, 300]
  int window = 1000;     // inter-arrival times kept, >= 1
  sim::Duration min_std_deviation = sim::Duration::nanoseconds(100'000'000);           // > 0
  sim::Duration acceptable_heartbeat_pause = sim::Duration::zero();                    // >= 0
  sim::Duration first_heartbeat_estimate = sim::Duration::nanoseconds(1'000'000'000);  // > 0
};

class PhiAccrualDetector {
 public:
  /// φ's cap where the normal tail underflows: -log10(DBL_MIN).
  static constexpr double kMaxPhi = 307.6526555685888;
  static constexpr double kMaxThreshold = 300;

  /// Allocates the window. Not watching yet: call reset() first.
  explicit PhiAccrualDetector(const PhiAccrualConfig& config);

  /// Starts (or restarts) watching at local time `now`: seeded window, t_last = now.
  void reset(sim::Time now);
  /// A heartbeat arrived at local time `now` (never earlier than the previous one).
  void heartbeat(sim::Time now);

  /// The suspicion level at local time `now` (>= t_last).
  double phi(sim::Time now) const;
  /// The local time at which φ reaches the threshold if no heartbeat arrives before it.
  sim::Time suspicion_time() const { return suspicion_time_; }
  bool suspected(sim::Time now) const { return now >= suspicion_time_; }

  sim::Time last_heartbeat() const { return last_; }
  /// Inter-arrival times in the window (seeds included).
  std::size_t samples() const { return count_; }
  /// Their mean and standard deviation in nanoseconds (σ before the min_std_deviation floor).
  double mean_ns() const;
  double std_deviation_ns() const;
  /// y* with Q(y*) = 10^-threshold: the suspicion starts y* floored σ past μ + pause.
  double threshold_y() const { return threshold_y_; }
  const PhiAccrualConfig& config() const { return config_; }

  /// -log10(Q(y)), Q(y) = erfc(y / √2) / 2, capped at kMaxPhi: φ for a standardized silence y.
  static double phi_of(double y);
  /// The smallest y (to a double's precision) with phi_of(y) >= threshold, 0 < threshold <= 300.
  static double y_for(double threshold);

 private:
  void add(std::int64_t interval_ns);
  void update_suspicion_time();
  double floored_std_ns() const;

  PhiAccrualConfig config_;
  double threshold_y_;
  std::vector<std::int64_t> ring_;  // the window, oldest at head_
  std::size_t head_ = 0, count_ = 0;
  std::int64_t sum_ = 0;      // of the intervals, ns
  __int128 sum_squares_ = 0;  // of their squares, ns²: exact (a 1000-sample window of 1 s
                              // intervals is 1e21, beyond 64 bits)
  sim::Time last_ = sim::Time::zero();
  sim::Time suspicion_time_ = sim::Time::max();
  bool first_after_reset_ = true;
};

}  // namespace models
