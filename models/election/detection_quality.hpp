// How good a failure detector was, measured against the truth: the quality-of-service metrics of
// Chen, Toueg and Aguilera ("On the quality of service of failure detectors", IEEE Trans.
// Computers 51(5), 2002), computed after a run from two records of one monitored node, both in
// true time:
// - the detector's verdicts: a StateTimeline whose state `suspected` means suspicion (any other
//   state means not suspected);
// - the node's real crashes: the intervals [crash, restart) of the fault schedule's log.
// Kept apart from the detector it measures (a checker does not share code with what it checks),
// and never used for behaviour: only the report reads it.
//
// Definitions, over the measured interval [from, to]:
// - a crash counts if it began in [from, to]; it is detected if the node is suspected just
//   before it restarted (or, if it did not, at `to`): the detection time is from the crash to
//   the start of that final suspicion (T_D, "the time to start suspecting permanently"), or 0 if
//   the suspicion had begun before the crash. A suspicion that a late heartbeat (sent before the
//   crash) ended does not count: the final one does.
// - a false suspicion is a suspicion that began in [from, to] while the node had not crashed
//   (it was up, or paused: a paused process has not failed, it is only silent). Their rate per
//   hour of the node's up time is the mistake rate λ_M.
// - the suspected fraction is the share of the node's up time (not crashed) during which it was
//   suspected: 1 - P_A, the query accuracy probability.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "models/shared/state_timeline.hpp"
#include "sim/faults.hpp"
#include "sim/time.hpp"

namespace models {

/// [start, end): a node was crashed; end = Time::max() if it never restarted.
struct CrashInterval {
  sim::Time start;
  sim::Time end;
};

/// The crash intervals of the node named `node` in a fault log, merged and in order.
std::vector<CrashInterval> crash_intervals(const std::vector<sim::FaultRecord>& log,
                                           std::string_view node);

struct DetectionQuality {
  std::uint64_t crashes = 0;     // that began in [from, to]
  std::uint64_t detections = 0;  // of those, detected before the restart (or `to`)
  sim::Duration detection_sum = sim::Duration::zero();
  sim::Duration detection_max = sim::Duration::zero();
  std::uint64_t false_suspicions = 0;
  sim::Duration up_time = sim::Duration::zero();            // not crashed, within [from, to]
  sim::Duration suspected_up_time = sim::Duration::zero();  // of which suspected

  /// Adds another node's measures (totals over the nodes a monitor watches).
  void add(const DetectionQuality& other);
  /// Mean and max detection time in ms; NaN without a detection.
  double mean_detection_ms() const;
  double max_detection_ms() const;
  /// False suspicions per hour of up time (0 without up time).
  double false_suspicions_per_hour() const;
  /// Suspected share of the up time (0 without up time).
  double suspected_fraction() const;
};

/// Measures one node: `changes` is its suspicion timeline (true time, first change at 0),
/// `crashes` its crash intervals (merged, in order).
DetectionQuality measure_detection(const std::vector<StateTimeline::Change>& changes,
                                   std::string_view suspected,
                                   const std::vector<CrashInterval>& crashes, sim::Time from,
                                   sim::Time to);

}  // namespace models
