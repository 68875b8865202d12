#include "models/operations/slo_tally.hpp"

#include <algorithm>

#include "sim/assert.hpp"

namespace models {

SloTally::SloTally(std::uint32_t group, std::optional<sim::Duration> latency,
                   sim::Duration interval, sim::Time end)
    : group_(group), latency_(latency), interval_(interval), end_(end) {
  DSIM_ASSERT(interval > sim::Duration::zero(), "an SLO's evaluation interval must be positive");
  const std::int64_t count = (end.ns() + interval.ns() - 1) / interval.ns();
  DSIM_ASSERT(count <= 1'000'000, "at most 1,000,000 SLO evaluation intervals in a run");
  buckets_.resize(static_cast<std::size_t>(count));
}

sim::Time SloTally::bucket_end(std::size_t i) const {
  return std::min(end_, sim::Time::zero() + interval_ * static_cast<std::int64_t>(i + 1));
}

}  // namespace models
