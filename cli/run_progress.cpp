#include "cli/run_progress.hpp"

#include <cstdio>
#include <numeric>

namespace cli {

namespace {
constexpr auto kPrintEvery = std::chrono::seconds(1);
}

RunProgress::RunProgress(std::size_t runs, bool show, std::optional<std::uint64_t> max_events,
                         std::optional<sim::Duration> max_wall)
    : show_(show),
      max_events_(max_events),
      deadline_(max_wall ? std::optional(Clock::now() + std::chrono::nanoseconds(max_wall->ns()))
                         : std::nullopt),
      fraction_(runs, 0.0),
      events_(runs, 0) {}

scenario::RunControl RunProgress::control(std::size_t i, sim::Duration duration) {
  scenario::RunControl control;
  if (max_events_) control.max_events = *max_events_;
  control.keep_going = [this, i, duration](sim::Time reached, std::uint64_t events) {
    const Clock::time_point now = Clock::now();
    const std::lock_guard lock(mutex_);
    fraction_[i] = (reached - sim::Time::zero()).seconds() / duration.seconds();
    events_[i] = events;
    if (show_ && (!last_print_ || now - *last_print_ >= kPrintEvery)) print_locked(now);
    return !deadline_ || now < *deadline_;
  };
  return control;
}

void RunProgress::finished(std::size_t i) {
  const std::lock_guard lock(mutex_);
  fraction_[i] = 1;
  ++done_;
}

bool RunProgress::wall_exceeded() const {
  return deadline_ && Clock::now() >= *deadline_;
}

void RunProgress::print_locked(Clock::time_point now) {
  last_print_ = now;
  const double simulated = std::accumulate(fraction_.begin(), fraction_.end(), 0.0) /
                           static_cast<double>(fraction_.size());
  const std::uint64_t events = std::accumulate(events_.begin(), events_.end(), std::uint64_t{0});
  std::fprintf(stderr, "\rdsim: %zu of %zu runs done, %3.0f %% simulated, %.3g events, %.0f s   ",
               done_, fraction_.size(), 100 * simulated, static_cast<double>(events),
               std::chrono::duration<double>(now - start_).count());
  std::fflush(stderr);
}

void RunProgress::clear() {
  const std::lock_guard lock(mutex_);
  if (!last_print_) return;
  std::fprintf(stderr, "\r%72s\r", "");
  std::fflush(stderr);
}

}  // namespace cli
