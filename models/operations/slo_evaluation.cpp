#include "models/operations/slo_evaluation.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "sim/assert.hpp"

namespace models {
namespace {

// Running sums of the buckets: sums[i] covers buckets [0, i).
struct PrefixSums {
  std::vector<std::uint64_t> total, bad;

  explicit PrefixSums(const SloTally& tally) {
    const auto& buckets = tally.buckets();
    total.assign(buckets.size() + 1, 0);
    bad.assign(buckets.size() + 1, 0);
    for (std::size_t i = 0; i < buckets.size(); ++i) {
      total[i + 1] = total[i] + buckets[i].good + buckets[i].bad;
      bad[i + 1] = bad[i] + buckets[i].bad;
    }
  }
};

// Whether the n buckets ending with bucket k (fewer at the start) burn faster than `threshold`
// (an error fraction): strictly, and never without a request.
bool burning(const PrefixSums& sums, std::size_t k, std::int64_t n, double threshold) {
  const std::size_t first =
      k + 1 >= static_cast<std::size_t>(n) ? k + 1 - static_cast<std::size_t>(n) : 0;
  const std::uint64_t total = sums.total[k + 1] - sums.total[first];
  const std::uint64_t bad = sums.bad[k + 1] - sums.bad[first];
  return total > 0 && static_cast<double>(bad) > threshold * static_cast<double>(total);
}

// The first bucket that ends after `t` (buckets.size() if none).
std::size_t first_bucket_ending_after(const SloTally& tally, sim::Time t) {
  const std::int64_t i = t.ns() / tally.interval().ns();
  return static_cast<std::size_t>(
      std::clamp<std::int64_t>(i, 0, static_cast<std::int64_t>(tally.buckets().size())));
}

bool overlaps(const Firing& f, sim::Time from, sim::Time to) {
  return f.start < to && (!f.end || *f.end > from);
}

}  // namespace

std::int64_t window_buckets(sim::Duration window, sim::Duration interval) {
  DSIM_ASSERT(interval > sim::Duration::zero(), "the evaluation interval must be positive");
  const std::int64_t n = (window.ns() + interval.ns() / 2) / interval.ns();
  return std::max<std::int64_t>(1, n);
}

std::vector<Firing> alert_firings(const SloTally& tally, double objective, const AlertRule& rule,
                                  sim::Time from) {
  const PrefixSums sums(tally);
  const double threshold = rule.burn_rate * (1 - objective);
  const std::int64_t long_n = window_buckets(rule.long_window, tally.interval());
  const std::int64_t short_n =
      rule.short_window ? window_buckets(*rule.short_window, tally.interval()) : 0;
  std::vector<Firing> out;
  bool firing = false;
  for (std::size_t k = 0; k < tally.buckets().size(); ++k) {
    const sim::Time now = tally.bucket_end(k);
    if (now < from) continue;
    const bool on = burning(sums, k, long_n, threshold) &&
                    (short_n == 0 || burning(sums, k, short_n, threshold));
    if (on && !firing) out.push_back({now, std::nullopt});
    if (!on && firing) out.back().end = now;
    firing = on;
  }
  return out;
}

SloResult evaluate_slo(const SloTally& tally, const SloDefinition& slo,
                       const std::vector<sim::FaultRecord>& faults,
                       const std::vector<sim::Time>& series_times) {
  SloResult r;
  const auto& buckets = tally.buckets();
  const std::size_t measured_from = first_bucket_ending_after(tally, slo.measure_from);
  for (std::size_t i = measured_from; i < buckets.size(); ++i) {
    r.good += buckets[i].good;
    r.bad += buckets[i].bad;
  }
  const double budget = (1 - slo.objective) * static_cast<double>(r.good + r.bad);
  const auto consumed = [&](std::uint64_t bad) {
    return budget > 0 ? static_cast<double>(bad) / budget : std::nan("");
  };
  r.budget_consumed = consumed(r.bad);

  // Budget consumed by each time asked for: the buckets ended by then.
  std::size_t next = measured_from;
  std::uint64_t bad_so_far = 0;
  for (const sim::Time t : series_times) {
    while (next < buckets.size() && tally.bucket_end(next) <= t) bad_so_far += buckets[next++].bad;
    r.consumed_by.push_back(t <= slo.measure_from ? 0.0 : consumed(bad_so_far));
  }

  for (const AlertRule& rule : slo.rules) {
    RuleResult& rr = r.rules.emplace_back();
    rr.firings = alert_firings(tally, slo.objective, rule, slo.measure_from);
    for (const Firing& f : rr.firings) {
      rr.firing_time += f.end.value_or(tally.end()) - f.start;
      if (!r.first_alert || f.start < *r.first_alert) r.first_alert = f.start;
    }
    r.alerts += rr.firings.size();
  }

  // Incidents: faults with an end; their budget and the first firing in their window.
  const PrefixSums sums(tally);
  sim::Duration delays;
  std::size_t detected = 0;
  for (std::size_t i = 0; i < faults.size(); ++i) {
    if (!faults[i].end) continue;
    const auto same = [&](const IncidentResult& inc) {
      const sim::FaultRecord& f = faults[inc.faults.front()];
      return f.kind == faults[i].kind && inc.start == faults[i].start && inc.end == *faults[i].end;
    };
    const auto found = std::find_if(r.incidents.begin(), r.incidents.end(), same);
    if (found != r.incidents.end()) {
      found->faults.push_back(i);
      continue;
    }
    r.incidents.push_back({{i}, faults[i].start, *faults[i].end, 0, true, std::nullopt, 0});
  }
  for (IncidentResult& inc : r.incidents) {
    const sim::Time start = inc.start, stop = inc.end + slo.grace;
    const std::size_t first = first_bucket_ending_after(tally, start);
    const std::size_t last = std::min(
        buckets.size(),
        static_cast<std::size_t>((stop.ns() + tally.interval().ns() - 1) / tally.interval().ns()));
    inc.budget_consumed = last > first ? consumed(sums.bad[last] - sums.bad[first]) : 0.0;
    if (std::isnan(inc.budget_consumed)) inc.budget_consumed = 0;
    inc.significant = inc.budget_consumed >= slo.min_incident_budget;
    for (std::size_t rule = 0; rule < r.rules.size(); ++rule)
      for (const Firing& f : r.rules[rule].firings)
        if (overlaps(f, start, stop)) {
          const sim::Time at = std::max(f.start, start);
          if (!inc.detected || at < *inc.detected) inc.detected = at, inc.detected_by = rule;
        }
    if (!inc.significant) continue;
    ++r.significant_incidents;
    if (!inc.detected) {
      ++r.missed_incidents;
      continue;
    }
    delays += *inc.detected - start;
    ++detected;
  }
  if (detected > 0) r.mean_detection_delay = delays / static_cast<std::int64_t>(detected);

  // Each firing, by its start: near a significant incident, near a minor one, or near none.
  for (const RuleResult& rr : r.rules) {
    auto& classes = r.classes.emplace_back();
    for (const Firing& f : rr.firings) {
      FiringClass c = FiringClass::False;
      for (const IncidentResult& inc : r.incidents) {
        if (f.start < inc.start - slo.grace || f.start >= inc.end + slo.grace) continue;
        if (inc.significant) {
          c = FiringClass::True;
          break;
        }
        c = FiringClass::Needless;
      }
      classes.push_back(c);
      r.true_alerts += c == FiringClass::True;
      r.needless_alerts += c == FiringClass::Needless;
      r.false_alerts += c == FiringClass::False;
    }
  }
  return r;
}

}  // namespace models
