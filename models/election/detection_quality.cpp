#include "models/election/detection_quality.hpp"

#include <algorithm>
#include <limits>

#include "sim/assert.hpp"

namespace models {
namespace {

// The length of [a, b) ∩ [c, d), 0 if they do not meet.
sim::Duration overlap(sim::Time a, sim::Time b, sim::Time c, sim::Time d) {
  const sim::Time lo = std::max(a, c), hi = std::min(b, d);
  return hi > lo ? hi - lo : sim::Duration::zero();
}

bool crashed_at(const std::vector<CrashInterval>& crashes, sim::Time t) {
  for (const CrashInterval& c : crashes)
    if (c.start <= t && t < c.end) return true;
  return false;
}

// The time within [a, b) during which the node was up.
sim::Duration up_within(const std::vector<CrashInterval>& crashes, sim::Time a, sim::Time b) {
  if (b <= a) return sim::Duration::zero();
  sim::Duration up = b - a;
  for (const CrashInterval& c : crashes) up -= overlap(a, b, c.start, c.end);
  return up;
}

}  // namespace

std::vector<CrashInterval> crash_intervals(const std::vector<sim::FaultRecord>& log,
                                           std::string_view node) {
  std::vector<CrashInterval> raw;
  for (const sim::FaultRecord& r : log)
    if (r.kind == "crash" && r.target == node)
      raw.push_back({r.start, r.end ? *r.end : sim::Time::max()});
  std::sort(raw.begin(), raw.end(),
            [](const CrashInterval& a, const CrashInterval& b) { return a.start < b.start; });
  std::vector<CrashInterval> merged;
  for (const CrashInterval& c : raw) {
    if (!merged.empty() && c.start <= merged.back().end)
      merged.back().end = std::max(merged.back().end, c.end);  // a crash of a crashed node
    else
      merged.push_back(c);
  }
  return merged;
}

void DetectionQuality::add(const DetectionQuality& o) {
  crashes += o.crashes;
  detections += o.detections;
  detection_sum += o.detection_sum;
  detection_max = std::max(detection_max, o.detection_max);
  false_suspicions += o.false_suspicions;
  up_time += o.up_time;
  suspected_up_time += o.suspected_up_time;
}

double DetectionQuality::mean_detection_ms() const {
  if (detections == 0) return std::numeric_limits<double>::quiet_NaN();
  return detection_sum.millis() / static_cast<double>(detections);
}

double DetectionQuality::max_detection_ms() const {
  return detections == 0 ? std::numeric_limits<double>::quiet_NaN() : detection_max.millis();
}

double DetectionQuality::false_suspicions_per_hour() const {
  const double hours = up_time.seconds() / 3600.0;
  return hours > 0 ? static_cast<double>(false_suspicions) / hours : 0.0;
}

double DetectionQuality::suspected_fraction() const {
  return up_time > sim::Duration::zero() ? suspected_up_time.seconds() / up_time.seconds() : 0.0;
}

DetectionQuality measure_detection(const std::vector<StateTimeline::Change>& changes,
                                   std::string_view suspected,
                                   const std::vector<CrashInterval>& crashes, sim::Time from,
                                   sim::Time to) {
  DSIM_ASSERT(from <= to, "a measured interval ends after it begins");
  DetectionQuality q;
  q.up_time = up_within(crashes, from, to);
  // The suspicions: [start, end) from each change to `suspected` to the next change.
  for (std::size_t i = 0; i < changes.size(); ++i) {
    if (changes[i].state != suspected) continue;
    const sim::Time start = changes[i].at;
    const sim::Time end = i + 1 < changes.size() ? changes[i + 1].at : sim::Time::max();
    if (start >= from && start <= to && !crashed_at(crashes, start)) ++q.false_suspicions;
    q.suspected_up_time += up_within(crashes, std::max(start, from), std::min(end, to));
  }
  for (const CrashInterval& c : crashes) {
    if (c.start < from || c.start > to) continue;
    ++q.crashes;
    // Suspected just before the restart (or the end of the measurement)? Since when?
    const sim::Time last = std::min(c.end, to);
    for (std::size_t i = changes.size(); i-- > 0;) {
      if (changes[i].at >= last) continue;
      if (changes[i].state == suspected) {
        const sim::Duration took = std::max(changes[i].at, c.start) - c.start;
        ++q.detections;
        q.detection_sum += took;
        q.detection_max = std::max(q.detection_max, took);
      }
      break;
    }
  }
  return q;
}

}  // namespace models
