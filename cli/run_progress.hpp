// What `dsim run` watches while its runs go: a progress line on a terminal (stderr) for runs
// long enough to need one, and the limits that stop them, --max-events (per run) and
// --max-wall (the whole command). The runs look in between slices of events
// (scenario::RunControl), so watching changes nothing they compute.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <vector>

#include "scenario/run.hpp"

namespace cli {

class RunProgress {
 public:
  /// `runs` runs; the line is shown when `show` (stderr is a terminal and not --quiet).
  RunProgress(std::size_t runs, bool show, std::optional<std::uint64_t> max_events,
              std::optional<sim::Duration> max_wall);
  RunProgress(const RunProgress&) = delete;
  RunProgress& operator=(const RunProgress&) = delete;

  /// The control of run `i`, which simulates `duration`.
  scenario::RunControl control(std::size_t i, sim::Duration duration);
  /// Run `i` has ended (complete or stopped).
  void finished(std::size_t i);
  /// Whether --max-wall has passed (the runs still going stop at their next look).
  bool wall_exceeded() const;
  /// Clears the progress line, if one was shown.
  void clear();

 private:
  using Clock = std::chrono::steady_clock;
  void print_locked(Clock::time_point now);

  const bool show_;
  const std::optional<std::uint64_t> max_events_;
  const std::optional<Clock::time_point> deadline_;
  const Clock::time_point start_ = Clock::now();
  std::mutex mutex_;
  std::vector<double> fraction_;       // of each run's simulated time, in [0, 1]
  std::vector<std::uint64_t> events_;  // each run's events so far
  std::size_t done_ = 0;
  std::optional<Clock::time_point> last_print_;
};

}  // namespace cli
