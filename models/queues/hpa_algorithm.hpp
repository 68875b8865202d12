// The Kubernetes Horizontal Pod Autoscaler's replica calculation, as a part of the autoscaler
// (models/queues/autoscaler.hpp): from a metric to a raw recommendation (replica_calculator.go),
// then from the raw recommendation to the count set (horizontal.go: stabilization, scaling
// policies, min and max). Pure arithmetic and one small history; no messages, no timers.
//
// 1. A raw recommendation, one of:
//    - average_value_replicas: an AverageValue target on an external metric (KEDA's queue
//      scalers: messages per worker). ratio = total / (target x current); inside the tolerance
//      (|1 - ratio| <= tolerance) the current count, else ceil(total / target).
//    - utilization_replicas: a Utilization target on the workers' busy fraction. Pods are the
//      workers that should run (replica i < current): ready (answered, serving), unready
//      (answered, not serving: starting up) or missing (no answer). ratio = mean busy of the ready
//      ones / target. With no unready pod to rebalance and none missing: the current count inside
//      the tolerance, else ceil(ratio x ready). Otherwise the HPA's conservative second pass: a
//      missing pod counts busy 1.0 when the ratio says scale down and 0 when it says up; an unready
//      pod counts busy 0 when the ratio says up (and is left out when it says down); the new ratio
//      over those pods gives ceil(new_ratio x pods) -- but the current count if the new ratio is
//      inside the tolerance, or if the second pass would reverse the direction of the first.
// 2. ScaleGovernor::decide, from a raw recommendation to the count set, at one instant:
//    a. Stabilization: the recommendation is the current count brought within [lowest raw
//       recommendation of the scale-up window, highest raw recommendation of the scale-down
//       window], each window holding the recommendations made strictly after now - window, and
//       this one. The raw recommendation is recorded.
//    b. Rate: going up, at most max(period_start + up_pods, ceil(period_start x (1 +
//       up_percent/100))) and at most max; going down, at least period_start x (1 -
//       down_percent/100) (truncated) and at least min; period_start is the count before the
//       changes made strictly after now - policy_period (the HPA's "Max" selectPolicy). A change
//       is recorded as a scale event.
//    reset() forgets both histories and records the current count as a recommendation when the
//    scale-down window is not zero (maybeInitScaleDownStabilizationWindow: a newly started
//    controller does not scale down within one window of its start).
//
// Differences from the HPA's code (the rest follows it, including its choice of strict "after"
// for window membership):
// - Percentages are exact integer arithmetic; the HPA's float64 products can round 10 x 1.1 up to
//   12 pods, or 10 x (1 - 0.9) down to 0.
// - Utilization is the exact mean busy fraction; the HPA's is a whole percentage of the pods'
//   CPU requests, truncated. ceil() ignores float noise below 1e-9 relative (6.000000000000001
//   is 6), where the HPA's integer percentages have no noise.
// - One tolerance for both directions (the per-direction tolerances of Kubernetes 1.33,
//   behavior.scaleUp/scaleDown.tolerance, are not modelled); one policy period for the three
//   policies; selectPolicy is always Max.
// - Missing pods on a scale down count busy 1.0: the HPA's max(100 %, target) with targets <= 1.
#pragma once

#include <cstdint>
#include <span>

#include "sim/ring_buffer.hpp"
#include "sim/time.hpp"

namespace models::hpa {

/// What one worker of the pool said in a round.
struct WorkerLoad {
  bool answered = false;
  bool serving = false;
  double busy = 0;  // in [0, 1], when answered
};

/// ceil(x), ignoring float noise below 1e-9 relative: a product meant to be 6 is 6, not 7.
std::int64_t ceil_count(double x);

/// AverageValue target: ceil(total / target), or `current` inside the tolerance.
std::int64_t average_value_replicas(double total, double target, std::int64_t current,
                                    double tolerance);

/// The mean busy fraction of the ready pods (answered and serving); -1 when there is none (no
/// metric: the HPA's "did not receive metrics for targeted pods").
double ready_utilization(std::span<const WorkerLoad> pods);

/// Utilization target over `pods` (the workers that should run). Requires a ready pod.
std::int64_t utilization_replicas(std::span<const WorkerLoad> pods, double target,
                                  std::int64_t current, double tolerance);

/// The behaviour of both directions (the HPA's spec.behavior, min and max replicas).
struct Behavior {
  sim::Duration up_window;
  sim::Duration down_window;
  std::int64_t up_percent = 100;
  std::int64_t up_pods = 4;
  std::int64_t down_percent = 100;
  sim::Duration policy_period;
  std::int64_t min = 1;
  std::int64_t max = 1;
};

class ScaleGovernor {
 public:
  /// `decisions_per_window`: how many decide() calls the longest window or period can hold (the
  /// histories are sized for it once).
  ScaleGovernor(const Behavior& behavior, std::size_t decisions_per_window);

  /// Forgets the histories; records `current` as a recommendation at `now` if the scale-down
  /// window is not zero.
  void reset(sim::Time now, std::int64_t current);
  /// The count to set at `now` (non-decreasing across calls) from the raw recommendation `raw`,
  /// with `current` replicas in [min, max]. Records the recommendation and any change.
  std::int64_t decide(sim::Time now, std::int64_t current, std::int64_t raw);

  /// Stabilization alone (step a), for tests: does not record.
  std::int64_t stabilized(sim::Time now, std::int64_t current, std::int64_t raw) const;

 private:
  struct Recommendation {
    sim::Time at;
    std::int64_t replicas;
  };
  struct ScaleEvent {
    sim::Time at;
    std::int64_t change;  // + up, - down
  };

  void forget_before(sim::Time now);
  /// The count before the changes made strictly after now - policy_period.
  std::int64_t period_start(sim::Time now, std::int64_t current) const;
  std::int64_t rate_limited(sim::Time now, std::int64_t current, std::int64_t wanted) const;

  Behavior behavior_;
  sim::RingBuffer<Recommendation> recommendations_;  // oldest first
  sim::RingBuffer<ScaleEvent> events_;               // oldest first
};

}  // namespace models::hpa
