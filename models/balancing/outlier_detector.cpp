#include "models/balancing/outlier_detector.hpp"

#include <algorithm>

#include "sim/assert.hpp"

namespace models {

bool counts_against_backend(Outcome outcome) {
  return outcome != Outcome::Ok && outcome != Outcome::RateLimited;
}

OutlierDetector::OutlierDetector(const OutlierDetectionConfig& config, std::size_t backends,
                                 std::uint32_t timer_kind, EjectionListener& listener,
                                 sim::Time measure_from, sim::Time measure_to)
    : config_(config),
      backends_(backends),
      timer_kind_(timer_kind),
      listener_(listener),
      measure_from_(measure_from),
      measure_to_(measure_to) {
  DSIM_ASSERT(config.consecutive_failures >= 1, "at least one failure ejects");
  DSIM_ASSERT(config.base_ejection_time > sim::Duration::zero() &&
                  config.max_ejection_time > sim::Duration::zero(),
              "ejection times are positive");
  DSIM_ASSERT(config.max_ejection_percent >= 0 && config.max_ejection_percent <= 100,
              "a percentage");
}

std::size_t OutlierDetector::max_ejected() const {
  const std::size_t by_percent =
      backends_.size() * static_cast<std::size_t>(config_.max_ejection_percent) / 100;
  return std::max<std::size_t>(1, by_percent);
}

sim::Duration OutlierDetector::next_ejection_time(std::uint32_t backend) const {
  const std::int64_t times = backends_[backend].times_ejected + 1;
  const std::int64_t base = config_.base_ejection_time.ns();
  const std::int64_t cap = config_.max_ejection_time.ns();
  // base x times, saturating at the cap (no overflow for any count).
  return sim::Duration::nanoseconds(base > cap / times ? cap : std::min(cap, base * times));
}

void OutlierDetector::record(sim::Node& node, std::uint32_t backend, Outcome outcome) {
  if (!config_.enabled) return;
  DSIM_ASSERT(backend < backends_.size(), "outcome of an unknown backend");
  Backend& b = backends_[backend];
  if (!counts_against_backend(outcome)) {
    b.failures = 0;
    return;
  }
  ++b.failures;
  if (b.ejected || b.failures < static_cast<std::uint32_t>(config_.consecutive_failures)) return;
  if (ejected_count_ >= max_ejected()) {
    capped_ += measured(node.true_now());
    return;
  }
  eject(node, backend);
}

void OutlierDetector::eject(sim::Node& node, std::uint32_t backend) {
  const sim::Duration lasting = next_ejection_time(backend);
  Backend& b = backends_[backend];
  b.ejected = true;
  ++b.times_ejected;
  ++ejected_count_;
  ejections_ += measured(node.true_now());
  node.set_timer(lasting, {timer_kind_, backend});
  listener_.on_ejection_changed(node, backend, true);
}

bool OutlierDetector::on_timer(sim::Node& node, sim::TimerTag tag) {
  if (tag.kind != timer_kind_) return false;
  const auto backend = static_cast<std::uint32_t>(tag.value);
  DSIM_ASSERT(backend < backends_.size() && backends_[backend].ejected,
              "the end of an ejection that did not happen");
  Backend& b = backends_[backend];
  b.ejected = false;
  b.failures = 0;
  --ejected_count_;
  listener_.on_ejection_changed(node, backend, false);
  return true;
}

void OutlierDetector::on_crash() {
  for (Backend& b : backends_) b = Backend{};
  ejected_count_ = 0;
}

FigureDocs OutlierDetector::figure_docs() {
  return {
      {"ejections", "ejections", Combine::Sum, "backends ejected by outlier detection"},
      {"ejections_capped", "ejections", Combine::Sum,
       "ejections skipped because max_ejection_percent was reached"},
  };
}

void OutlierDetector::figures(Figures& out) const {
  out.sum("ejections", static_cast<double>(ejections_));
  out.sum("ejections_capped", static_cast<double>(capped_));
}

}  // namespace models
