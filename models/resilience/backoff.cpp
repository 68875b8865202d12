#include "models/resilience/backoff.hpp"

#include <algorithm>
#include <cmath>

namespace models {
namespace {
sim::Duration uniform_between(sim::Duration low, sim::Duration high, sim::Rng& rng) {
  if (high <= low) return low;
  return low + sim::duration_from_ns(static_cast<double>((high - low).ns()) * rng.uniform01());
}

sim::Duration triple_saturated(sim::Duration d) {
  return d > sim::kMaxDuration / 3 ? sim::kMaxDuration : d * 3;
}
}  // namespace

sim::Duration Backoff::ceiling(std::uint32_t retry) const {
  switch (config_->kind) {
    case BackoffKind::None:
      return sim::Duration::zero();
    case BackoffKind::Constant:
      return std::min(config_->base, config_->cap);
    case BackoffKind::Exponential: {
      const double grown =
          static_cast<double>(config_->base.ns()) *
          std::pow(config_->multiplier, static_cast<double>(retry > 0 ? retry - 1 : 0));
      return std::min(config_->cap, sim::duration_from_ns(grown));
    }
  }
  return sim::Duration::zero();
}

sim::Duration Backoff::next(std::uint32_t retry, sim::Rng& rng) {
  if (config_->kind == BackoffKind::None) return sim::Duration::zero();
  const sim::Duration ceiling_wait = ceiling(retry);
  switch (config_->jitter) {
    case Jitter::None:
      return ceiling_wait;
    case Jitter::Full:
      return uniform_between(sim::Duration::zero(), ceiling_wait, rng);
    case Jitter::Equal:
      return ceiling_wait / 2 + uniform_between(sim::Duration::zero(), ceiling_wait / 2, rng);
    case Jitter::Decorrelated:
      // previous_ * 3 saturates at kMaxDuration (100 years): a cap of decades cannot overflow.
      previous_ =
          std::min(config_->cap, uniform_between(config_->base, triple_saturated(previous_), rng));
      return previous_;
  }
  return ceiling_wait;
}

}  // namespace models
