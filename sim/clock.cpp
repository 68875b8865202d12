#include "sim/clock.hpp"

#include <algorithm>
#include <cmath>

#include "sim/assert.hpp"

namespace sim {
namespace {
constexpr __int128 kBillion = 1'000'000'000;

// floor(a / b) for b > 0, also for negative a.
__int128 floor_div(__int128 a, __int128 b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}
__int128 ceil_div(__int128 a, __int128 b) {
  return -floor_div(-a, b);
}
}  // namespace

Time NodeClock::monotonic(Time true_now) const {
  const __int128 elapsed = (true_now - anchor_true_).ns();
  const __int128 local = elapsed + floor_div(elapsed * drift_ppb_, kBillion);
  return anchor_monotonic_ + Duration::nanoseconds(static_cast<std::int64_t>(local));
}

Duration NodeClock::true_delay_for(Duration local) const {
  DSIM_ASSERT(local >= Duration::zero(), "a timer delay cannot be negative");
  const __int128 scaled =
      ceil_div(static_cast<__int128>(local.ns()) * kBillion, kBillion + drift_ppb_);
  // A clock a million times slow turns a 1-year timer into a million years: saturate.
  return Duration::nanoseconds(static_cast<std::int64_t>(
      std::min<__int128>(scaled, static_cast<__int128>(kMaxDuration.ns()))));
}

Time NodeClock::true_time_at_wall(Time wall_reading, Time true_now) const {
  const Duration ahead = wall_reading - wall(true_now);
  if (ahead <= Duration::zero()) return true_now;
  return true_now + true_delay_for(ahead);
}

void NodeClock::set_drift_ppm(double ppm, Time true_now) {
  DSIM_ASSERT(std::isfinite(ppm) && ppm > -1e6, "clock drift must be finite and > -1e6 ppm");
  anchor_monotonic_ = monotonic(true_now);
  anchor_true_ = true_now;
  drift_ppb_ = std::llround(ppm * 1000.0);
}

}  // namespace sim
