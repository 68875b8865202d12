#include "models/resilience/hedging.hpp"

#include <algorithm>
#include <cmath>

#include "sim/assert.hpp"

namespace models {
namespace {

constexpr std::size_t kWarmSamples = 100;  // before this many, the fixed delay

}  // namespace

HedgePolicy::HedgePolicy(const HedgeConfig& config)
    : config_(config), cap_(10 + 100 * config.max_extra_load.value), delay_(config.delay) {
  DSIM_ASSERT(config.window >= 1, "a hedging window holds at least one latency");
  if (config.percentile > 0) {
    recent_.assign(static_cast<std::size_t>(config.window), 0);
    scratch_.reserve(recent_.size());
  }
}

void HedgePolicy::on_try() {
  tokens_ = std::min(cap_, tokens_ + config_.max_extra_load.value);
}

bool HedgePolicy::try_spend() {
  if (tokens_ < 1) return false;
  tokens_ -= 1;
  return true;
}

void HedgePolicy::observed(sim::Duration latency) {
  if (recent_.empty()) return;  // a fixed delay
  recent_[next_] = latency.ns();
  next_ = (next_ + 1) % recent_.size();
  ++seen_;
  // Recomputing costs O(window); doing it every window/16 samples keeps it O(1) per sample on
  // average while following the distribution closely.
  const std::size_t every = std::max<std::size_t>(1, recent_.size() / 16);
  if (seen_ >= kWarmSamples && (seen_ == kWarmSamples || seen_ % every == 0)) recompute();
}

void HedgePolicy::recompute() {
  const std::size_t n = std::min(seen_, recent_.size());
  scratch_.assign(recent_.begin(), recent_.begin() + static_cast<std::ptrdiff_t>(n));
  // Nearest rank: the ceil(p n)-th smallest.
  const auto rank =
      static_cast<std::size_t>(std::ceil(config_.percentile / 100 * static_cast<double>(n)));
  const std::size_t k = std::clamp<std::size_t>(rank, 1, n) - 1;
  std::nth_element(scratch_.begin(), scratch_.begin() + static_cast<std::ptrdiff_t>(k),
                   scratch_.end());
  delay_ = sim::Duration::nanoseconds(scratch_[k]);
}

}  // namespace models
