// A node's own clock: initial offset, drift in parts per million, and steps.
//
// Two readings, as on a real host:
// - monotonic(): drifts, never steps (CLOCK_MONOTONIC). Timers run on it: a timer of local
//   duration d fires after d / (1 + drift) of true time.
// - wall(): monotonic plus the offset and every step so far (CLOCK_REALTIME, after NTP jumps).
//   Leases and timestamps read it; a step forwards or backwards is how they break.
// All arithmetic is integer (drift is kept in parts per billion), so it is exact and portable.
// The kernel orders events by true time; a clock only converts.
#pragma once

#include <cstdint>

#include "sim/time.hpp"

namespace sim {

class NodeClock {
 public:
  NodeClock() = default;
  NodeClock(Duration offset, double drift_ppm) : wall_offset_(offset) {
    set_drift_ppm(drift_ppm, Time::zero());
  }

  Time monotonic(Time true_now) const;
  Time wall(Time true_now) const { return monotonic(true_now) + wall_offset_; }

  /// True time that passes while this clock advances by `local` (rounded up: never early),
  /// at most kMaxDuration (a clock near -1e6 ppm would otherwise stretch it past int64 ns).
  Duration true_delay_for(Duration local) const;
  /// The true time at which wall() will read `wall_reading`, if nothing changes meanwhile
  /// (no step, no new drift); never earlier than `true_now`.
  Time true_time_at_wall(Time wall_reading, Time true_now) const;

  /// From `true_now` on, the clock runs at (1 + ppm/1e6) of true speed. > -1e6 ppm.
  void set_drift_ppm(double ppm, Time true_now);
  /// Jumps the wall clock by `by` (either sign); the monotonic clock is unaffected.
  void step(Duration by) { wall_offset_ += by; }

  double drift_ppm() const { return static_cast<double>(drift_ppb_) / 1000.0; }
  Duration wall_offset() const { return wall_offset_; }

 private:
  Time anchor_true_ = Time::zero();
  Time anchor_monotonic_ = Time::zero();
  std::int64_t drift_ppb_ = 0;
  Duration wall_offset_ = Duration::zero();
};

}  // namespace sim
