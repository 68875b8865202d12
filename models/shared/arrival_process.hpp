// When an open-loop source's requests arrive, at a rate that may change (a schedule, a spike).
//
// Time-change method: arrivals happen when the integrated rate (the expected number of arrivals
// so far) crosses successive thresholds. Poisson arrivals have Exp(1) gaps between thresholds;
// constant arrivals have gaps of exactly 1 (after a first, random phase in (0, 1], so that
// several constant sources do not fire in lockstep). A rate change keeps the progress already
// made towards the next threshold, which is exact for piecewise-constant rates and draws nothing
// extra: two variants that differ only in a load spike see the same thresholds (common random
// numbers).
#pragma once

#include <cstdint>

#include "sim/rng.hpp"
#include "sim/time.hpp"

namespace models {

enum class ArrivalKind : std::uint8_t { Poisson, Constant };

class ArrivalProcess {
 public:
  ArrivalProcess(ArrivalKind kind, sim::Rng rng) : kind_(kind), rng_(rng) {}

  /// (Re)starts at `now` at `rate` per second (>= 0): the first arrival comes after a new gap.
  void start(sim::Time now, double rate);
  /// The arrival due at next() happened at `now`: draws the gap to the following one.
  void arrived(sim::Time now);
  /// From `now` on, the rate is `rate` per second (>= 0).
  void set_rate(sim::Time now, double rate);

  /// When the next arrival is due; Time::max() while the rate is zero.
  sim::Time next() const;
  double rate() const { return rate_; }

 private:
  double draw_gap();

  ArrivalKind kind_;
  sim::Rng rng_;
  double rate_ = 0;       // per second
  double remaining_ = 0;  // integrated rate still to go before the next arrival
  sim::Time since_;       // when remaining_ was last brought up to date
};

}  // namespace models
