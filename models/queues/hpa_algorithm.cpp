#include "models/queues/hpa_algorithm.hpp"

#include <algorithm>
#include <cmath>

#include "sim/assert.hpp"

namespace models::hpa {
namespace {

bool within_tolerance(double ratio, double tolerance) {
  return std::abs(1.0 - ratio) <= tolerance;
}

}  // namespace

std::int64_t ceil_count(double x) {
  return static_cast<std::int64_t>(std::ceil(x - 1e-9 * std::max(1.0, std::abs(x))));
}

std::int64_t average_value_replicas(double total, double target, std::int64_t current,
                                    double tolerance) {
  DSIM_ASSERT(target > 0 && current > 0, "an average-value target needs a target and replicas");
  const double ratio = total / (target * static_cast<double>(current));
  if (within_tolerance(ratio, tolerance)) return current;
  return ceil_count(total / target);
}

double ready_utilization(std::span<const WorkerLoad> pods) {
  double sum = 0;
  std::int64_t ready = 0;
  for (const WorkerLoad& p : pods)
    if (p.answered && p.serving) {
      sum += p.busy;
      ++ready;
    }
  return ready == 0 ? -1.0 : sum / static_cast<double>(ready);
}

std::int64_t utilization_replicas(std::span<const WorkerLoad> pods, double target,
                                  std::int64_t current, double tolerance) {
  double ready_sum = 0;
  std::int64_t ready = 0, unready = 0, missing = 0;
  for (const WorkerLoad& p : pods) {
    if (!p.answered) {
      ++missing;
    } else if (p.serving) {
      ready_sum += p.busy;
      ++ready;
    } else {
      ++unready;
    }
  }
  DSIM_ASSERT(ready > 0 && target > 0, "a utilization recommendation needs a ready pod");
  const double ratio = ready_sum / static_cast<double>(ready) / target;
  const bool rebalance_unready = unready > 0 && ratio > 1.0;
  if (!rebalance_unready && missing == 0) {
    if (within_tolerance(ratio, tolerance)) return current;
    return ceil_count(ratio * static_cast<double>(ready));
  }
  // The conservative second pass: the pods without a usable value count against the direction
  // of the first (scale down: missing ones busy; scale up: missing and starting ones idle).
  double sum = ready_sum;
  std::int64_t counted = ready;
  if (ratio < 1.0) {
    sum += static_cast<double>(missing);  // busy 1.0 each: max(100 %, target) with target <= 1
    counted += missing;
  } else if (ratio > 1.0) {
    counted += missing;  // busy 0 each
  }
  if (rebalance_unready) counted += unready;  // busy 0 each
  const double new_ratio = sum / static_cast<double>(counted) / target;
  if (within_tolerance(new_ratio, tolerance) || (ratio < 1.0 && new_ratio > 1.0) ||
      (ratio > 1.0 && new_ratio < 1.0))
    return current;
  const std::int64_t replicas = ceil_count(new_ratio * static_cast<double>(counted));
  if ((new_ratio < 1.0 && replicas > current) || (new_ratio > 1.0 && replicas < current))
    return current;
  return replicas;
}

ScaleGovernor::ScaleGovernor(const Behavior& behavior, std::size_t decisions_per_window)
    : behavior_(behavior),
      recommendations_(decisions_per_window + 2),
      events_(decisions_per_window + 2) {
  DSIM_ASSERT(behavior.min >= 1 && behavior.min <= behavior.max, "min <= max, both positive");
}

void ScaleGovernor::reset(sim::Time now, std::int64_t current) {
  recommendations_.clear();
  events_.clear();
  if (behavior_.down_window > sim::Duration::zero()) recommendations_.push_back({now, current});
}

void ScaleGovernor::forget_before(sim::Time now) {
  // A record at or before now - window is outside every window; the same for events and the
  // policy period.
  const sim::Duration longest = std::max(behavior_.up_window, behavior_.down_window);
  while (!recommendations_.empty() && recommendations_.front().at <= now - longest)
    recommendations_.pop_front();
  while (!events_.empty() && events_.front().at <= now - behavior_.policy_period)
    events_.pop_front();
}

std::int64_t ScaleGovernor::stabilized(sim::Time now, std::int64_t current,
                                       std::int64_t raw) const {
  std::int64_t up = raw, down = raw;
  for (std::size_t i = 0; i < recommendations_.size(); ++i) {
    const Recommendation& r = recommendations_.at(i);
    if (r.at > now - behavior_.up_window) up = std::min(up, r.replicas);
    if (r.at > now - behavior_.down_window) down = std::max(down, r.replicas);
  }
  return std::min(std::max(current, up), down);
}

std::int64_t ScaleGovernor::period_start(sim::Time now, std::int64_t current) const {
  std::int64_t start = current;
  for (std::size_t i = 0; i < events_.size(); ++i)
    if (events_.at(i).at > now - behavior_.policy_period) start -= events_.at(i).change;
  return start;
}

std::int64_t ScaleGovernor::rate_limited(sim::Time now, std::int64_t current,
                                         std::int64_t wanted) const {
  const std::int64_t start = period_start(now, current);
  if (wanted > current) {
    const std::int64_t by_pods = start + behavior_.up_pods;
    const std::int64_t by_percent = (start * (100 + behavior_.up_percent) + 99) / 100;  // ceil
    const std::int64_t limit = std::max(std::max(by_pods, by_percent), current);
    return std::min(wanted, std::min(behavior_.max, limit));
  }
  if (wanted < current) {
    const std::int64_t by_percent = start * (100 - behavior_.down_percent) / 100;  // truncated
    const std::int64_t limit = std::min(by_percent, current);
    return std::max(wanted, std::max(behavior_.min, limit));
  }
  return wanted;
}

std::int64_t ScaleGovernor::decide(sim::Time now, std::int64_t current, std::int64_t raw) {
  DSIM_ASSERT(current >= behavior_.min && current <= behavior_.max, "current within min, max");
  forget_before(now);
  const std::int64_t wanted = stabilized(now, current, raw);
  recommendations_.push_back({now, raw});
  const std::int64_t next = rate_limited(now, current, wanted);
  if (next != current) events_.push_back({now, next - current});
  return next;
}

}  // namespace models::hpa
