#include "models/shared/request_recorder.hpp"

#include "sim/assert.hpp"

namespace models {

const char* to_string(Outcome outcome) {
  switch (outcome) {
    case Outcome::Ok:
      return "ok";
    case Outcome::Timeout:
      return "timeout";
    case Outcome::Rejected:
      return "rejected";
    case Outcome::Error:
      return "error";
    case Outcome::CircuitOpen:
      return "circuit_open";
    case Outcome::Dropped:
      return "dropped";
    case Outcome::RateLimited:
      return "rate_limited";
    case Outcome::kCount:
      break;
  }
  return "?";
}

RequestRecorder::RequestRecorder(sim::Time measure_from, sim::Time end, sim::Duration window)
    : measure_from_(measure_from), end_(end), window_(window) {
  DSIM_ASSERT(window > sim::Duration::zero(), "the report window must be positive");
  const std::int64_t count = ((end - sim::Time::zero()).ns() + window.ns() - 1) / window.ns();
  DSIM_ASSERT(count <= 100'000, "at most 100,000 report windows: use a longer window");
  windows_.resize(static_cast<std::size_t>(count));
}

WindowStats* RequestRecorder::window_at(sim::Time t) {
  const std::int64_t index = t.ns() / window_.ns();
  if (index < 0 || index >= static_cast<std::int64_t>(windows_.size())) return nullptr;
  return &windows_[static_cast<std::size_t>(index)];
}

std::uint32_t RequestRecorder::group(const std::string& name) {
  for (std::size_t g = 0; g < groups_.size(); ++g)
    if (groups_[g].name == name) return static_cast<std::uint32_t>(g);
  groups_.push_back({name, {}, sim::LatencyHistogram{}});
  return static_cast<std::uint32_t>(groups_.size() - 1);
}

void RequestRecorder::record(sim::Time started, sim::Time ended, Outcome outcome,
                             std::uint32_t attempts, std::uint32_t group) {
  const auto o = static_cast<std::size_t>(outcome);
  for (SloTally& slo : slos_) slo.record(ended, outcome, ended - started, group);
  if (WindowStats* w = window_at(ended)) {
    ++w->counts.requests;
    w->counts.attempts += attempts;
    ++w->counts.by_outcome[o];
    if (outcome == Outcome::Ok) w->latency.record(ended - started);
  }
  if (started < measure_from_) return;
  ++totals_.requests;
  totals_.attempts += attempts;
  ++totals_.by_outcome[o];
  if (outcome == Outcome::Ok) latency_.record(ended - started);
  if (group >= groups_.size()) return;
  GroupStats& g = groups_[group];
  ++g.counts.requests;
  g.counts.attempts += attempts;
  ++g.counts.by_outcome[o];
  if (outcome == Outcome::Ok) g.latency.record(ended - started);
}

std::size_t RequestRecorder::add_slo(SloTally tally) {
  slos_.push_back(std::move(tally));
  return slos_.size() - 1;
}

void RequestRecorder::attempt_sent(sim::Time at) {
  if (WindowStats* w = window_at(at)) ++w->attempts_sent;
}

void RequestRecorder::duplicate_effect(sim::Time started) {
  if (started >= measure_from_) ++duplicate_effects_;
}

void RequestRecorder::abandoned(sim::Time started) {
  if (started >= measure_from_) ++abandoned_;
}

std::vector<WindowSummary> RequestRecorder::take_window_summaries() {
  std::vector<WindowSummary> out;
  out.reserve(windows_.size());
  for (const WindowStats& w : windows_) {
    WindowSummary& summary =
        out.emplace_back(WindowSummary{.counts = w.counts, .attempts_sent = w.attempts_sent});
    if (w.latency.empty()) continue;
    summary.p50_ns = w.latency.quantile_ns(0.5);
    summary.p99_ns = w.latency.quantile_ns(0.99);
  }
  windows_ = {};  // frees the histograms
  return out;
}

}  // namespace models
