// A server's figures over the measured interval [from, to] (warm-up end to run end): counts of
// what happened inside it, time averages of busy workers and waiting requests, and the mean
// time in system of the requests that both arrived and completed inside it.
//
// Where requests go: an arrival is refused at once (rate_limited, rejected: never in the
// system), or admitted; an admitted request leaves completed (served: answered Ok or Error),
// shed (by the queue discipline), expired (drop_expired), cancelled (a tied copy) or lost in a
// crash.
// Of the completed, wasted_work counts those that completed at or after their caller's
// deadline -- work nobody waited for -- and goodput_per_s the rate of the others answered Ok.
//
// Little's law holds on every sample path: the time-average number in system (L) equals the
// rate of admitted arrivals times their mean time in system (lambda W), up to the requests
// straddling the interval's two ends. Both sides are reported (mean_in_system, little_lambda_w)
// so that a report shows the law, and a test checks the bookkeeping with it. W there is over
// every departure (shed and expired requests spent time in the queue too); mean_sojourn_ms is
// over completions only.
#pragma once

#include <cstddef>
#include <cstdint>

#include "models/shared/figures.hpp"
#include "models/shared/model.hpp"
#include "sim/time.hpp"

namespace models {

class ServerStats {
 public:
  ServerStats(sim::Time from, sim::Time to);

  void arrived(sim::Time now) { arrivals_ += inside(now); }
  /// An arrival found every worker busy and was queued.
  void waited(sim::Time now) { waited_ += inside(now); }
  /// Refused at arrival: the queue was full.
  void rejected(sim::Time now) { rejected_ += inside(now); }
  /// Refused at arrival: no token in the rate limiter's bucket.
  void rate_limited(sim::Time now) { rate_limited_ += inside(now); }
  /// Served to the end; `failed`: answered Error. Wasted if `now` >= `deadline`.
  void completed(sim::Time now, sim::Time arrived_at, sim::Time deadline, bool failed);
  /// Dropped unserved by the queue discipline (CoDel).
  void shed(sim::Time now, sim::Time arrived_at);
  /// Dropped unserved because its deadline had passed (drop_expired).
  void expired(sim::Time now, sim::Time arrived_at);
  /// Removed from the queue, unserved, by its caller (a tied copy whose twin started).
  void cancelled(sim::Time now, sim::Time arrived_at);
  void lost_in_crash(sim::Time now, std::size_t count) { lost_ += inside(now) ? count : 0; }
  /// To be called after every change: workers busy and requests waiting from `now` on.
  void levels(sim::Time now, std::size_t busy, std::size_t queued);

  /// Whether `t` is inside the measured interval (for counts kept beside these).
  bool measuring(sim::Time t) const { return inside(t); }

  /// The figures add_figures emits.
  static FigureDocs figure_docs();
  void add_figures(Figures& out, int workers) const;

 private:
  bool inside(sim::Time t) const { return t >= levels_.from() && t <= levels_.to(); }
  /// An admitted request left the server (any way but a crash): a sample of W for Little.
  void departed(sim::Time now, sim::Time arrived_at);

  std::uint64_t arrivals_ = 0, waited_ = 0, rejected_ = 0, rate_limited_ = 0, completed_ = 0,
                lost_ = 0;
  std::uint64_t cancelled_ = 0;
  std::uint64_t shed_ = 0, expired_ = 0, errors_ = 0, wasted_ = 0, good_ = 0;
  std::uint64_t sojourns_ = 0;    // completed requests that also arrived inside
  double sojourn_seconds_ = 0;    // their total time in system
  std::uint64_t departures_ = 0;  // departed requests (any way) that also arrived inside
  double departure_seconds_ = 0;  // their total time in system
  std::size_t max_queue_ = 0;
  enum Level : std::size_t { kBusy, kInSystem, kInQueue };
  TimeAverages<3> levels_;  // busy workers, requests in the server, requests waiting
};

}  // namespace models
