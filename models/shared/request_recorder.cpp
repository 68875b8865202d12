#include "models/shared/request_recorder.hpp"

#include <utility>

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
  window_count_ = static_cast<std::size_t>(count);
  windows_.resize(window_count_);
}

WindowSummary* RequestRecorder::window_at(sim::Time t) {
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
  if (WindowSummary* w = window_at(ended)) {
    ++w->counts.requests;
    w->counts.attempts += attempts;
    ++w->counts.by_outcome[o];
    if (outcome == Outcome::Ok) {
      const auto index = static_cast<std::size_t>(w - windows_.data());
      DSIM_ASSERT(index >= open_window_, "requests are recorded in the order they end");
      if (index > open_window_) close_open_window();
      open_window_ = index;
      if (!open_latency_) open_latency_.emplace(7);  // 0.4 % quantile error: enough for a timeline
      open_latency_->record(ended - started);
    }
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
  if (WindowSummary* w = window_at(at)) ++w->attempts_sent;
}

void RequestRecorder::duplicate_effect(sim::Time started) {
  if (started >= measure_from_) ++duplicate_effects_;
}

void RequestRecorder::abandoned(sim::Time started) {
  if (started >= measure_from_) ++abandoned_;
}

void RequestRecorder::close_open_window() {
  if (!open_latency_ || open_latency_->empty()) return;
  WindowSummary& w = windows_[open_window_];
  w.p50_ns = open_latency_->quantile_ns(0.5);
  w.p99_ns = open_latency_->quantile_ns(0.99);
  open_latency_->clear();
}

std::vector<WindowSummary> RequestRecorder::take_window_summaries() {
  close_open_window();
  open_latency_.reset();
  return std::exchange(windows_, {});
}

}  // namespace models
