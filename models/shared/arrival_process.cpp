#include "models/shared/arrival_process.hpp"

#include <algorithm>
#include <cmath>

#include "sim/assert.hpp"

namespace models {

double ArrivalProcess::draw_gap() {
  return kind_ == ArrivalKind::Poisson ? -std::log(rng_.uniform01_open_low()) : 1.0;
}

void ArrivalProcess::start(sim::Time now, double rate) {
  DSIM_ASSERT(rate >= 0 && std::isfinite(rate), "an arrival rate is finite and >= 0");
  rate_ = rate;
  since_ = now;
  remaining_ = kind_ == ArrivalKind::Poisson ? draw_gap() : rng_.uniform01_open_low();
}

void ArrivalProcess::arrived(sim::Time now) {
  since_ = now;
  remaining_ = draw_gap();
}

void ArrivalProcess::set_rate(sim::Time now, double rate) {
  DSIM_ASSERT(rate >= 0 && std::isfinite(rate), "an arrival rate is finite and >= 0");
  remaining_ = std::max(0.0, remaining_ - (now - since_).seconds() * rate_);
  since_ = now;
  rate_ = rate;
}

sim::Time ArrivalProcess::next() const {
  if (rate_ <= 0) return sim::Time::max();
  const sim::Duration gap = sim::duration_from_seconds(remaining_ / rate_);
  return gap >= sim::Time::max() - since_ ? sim::Time::max() : since_ + gap;
}

}  // namespace models
