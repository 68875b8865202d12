// Ghost state for ownership: how many of a component's nodes believe they own the resource at
// each moment, integrated over the measured interval into the time with two or more owners
// (a safety violation) and the time with none (unavailability). Shared by the component's
// instances through Invariants::ghost (models/shared/invariants.hpp); for measuring only -- a
// node must never read it to decide anything.
#pragma once

#include <algorithm>
#include <cstdint>

#include "sim/time.hpp"

namespace models {

class OwnershipLedger {
 public:
  /// The measured interval (the same for every instance; set by each).
  void measure(sim::Time from, sim::Time to) {
    from_ = from;
    to_ = to;
  }
  void enter(sim::Time now) { change(now, +1); }
  void leave(sim::Time now) { change(now, -1); }
  int owners() const { return owners_; }

  /// Seconds with two or more owners, and with none, over the measured interval.
  double overlap_s() const { return settled().overlap_ns_ * 1e-9; }
  double unowned_s() const { return settled().unowned_ns_ * 1e-9; }
  double measured_s() const { return (to_ - from_).seconds(); }
  /// Times two owners or more began (overlaps started in the measured interval).
  std::uint64_t overlaps() const { return overlaps_; }

 private:
  void change(sim::Time now, int delta) {
    accumulate(now);
    const int before = owners_;
    owners_ += delta;
    if (before < 2 && owners_ >= 2 && now >= from_ && now <= to_) ++overlaps_;
  }
  void accumulate(sim::Time now) {
    const sim::Time a = std::max(last_, from_), b = std::min(now, to_);
    if (b > a) {
      const double ns = static_cast<double>((b - a).ns());
      if (owners_ >= 2) overlap_ns_ += ns;
      if (owners_ == 0) unowned_ns_ += ns;
    }
    last_ = std::max(last_, now);
  }
  OwnershipLedger settled() const {
    OwnershipLedger copy = *this;
    copy.accumulate(to_);
    return copy;
  }

  sim::Time from_, to_ = sim::Time::max(), last_ = sim::Time::zero();
  int owners_ = 0;
  double overlap_ns_ = 0, unowned_ns_ = 0;
  std::uint64_t overlaps_ = 0;
};

}  // namespace models
