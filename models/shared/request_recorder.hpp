// What the clients of one run saw: every logical request (retries included) with its outcome,
// end-to-end latency and number of attempts, overall and per time window.
//
// - A request counts in the summary if it *started* after the warm-up.
// - Windows cover the whole run from time 0 (warm-up included, flagged in the report); a
//   request lands in the window in which it *ended*; attempts land in the window they were sent.
//   Requests are recorded as they end, in time order, so only the latest window's latencies
//   are still open: one histogram serves every window in turn, and a window is kept as its
//   summary (about 100 bytes; 10^5 windows: 10 MB), not as a histogram of 58 KB.
// - Latency percentiles are over succeeded requests (failures have their own counts).
// - Groups: each client component records into a group (its `group` label, by default the
//   component's name); the totals cover every group, and each group also has its own totals
//   and latency, so that two client populations (two cells, two tenants) can be told apart.
// - SLOs (models/operations/slo_tally.hpp): each tally added at set-up also counts every
//   request, good or bad, by the time it ended; none are added unless the scenario has SLOs.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/operations/slo_tally.hpp"
#include "models/shared/rpc.hpp"
#include "sim/latency_histogram.hpp"
#include "sim/time.hpp"

namespace models {

struct OutcomeCounts {
  std::uint64_t requests = 0;
  std::uint64_t attempts = 0;
  std::array<std::uint64_t, static_cast<std::size_t>(Outcome::kCount)> by_outcome{};
  std::uint64_t succeeded() const { return by_outcome[0]; }
  std::uint64_t failed() const { return requests - succeeded(); }
};

/// What the report shows of a window. Its latency percentiles are set when the window closes:
/// once a later window records a latency, or at take_window_summaries().
struct WindowSummary {
  OutcomeCounts counts;
  std::uint64_t attempts_sent = 0;             // offered load on the servers, retries included
  std::optional<std::int64_t> p50_ns, p99_ns;  // none without a latency in the window
};

/// What one group of clients saw (requests started after the warm-up).
struct GroupStats {
  std::string name;
  OutcomeCounts counts;
  sim::LatencyHistogram latency;
};

class RequestRecorder {
 public:
  /// Measures requests started in [measure_from, end); windows of `window` from 0 to `end`.
  RequestRecorder(sim::Time measure_from, sim::Time end, sim::Duration window);

  /// The index of the group named `name`, added if new (set-up time: may allocate).
  std::uint32_t group(const std::string& name);

  /// A logical request of `group` ended (success or final failure). A group index that was
  /// never added counts in the totals only.
  void record(sim::Time started, sim::Time ended, Outcome outcome, std::uint32_t attempts,
              std::uint32_t group = 0);
  /// Counts every request for an SLO from now on (set-up time); returns its index in slos().
  std::size_t add_slo(SloTally tally);

  /// An attempt (first try or retry) left a client.
  void attempt_sent(sim::Time at);
  /// A non-idempotent request took effect more than once (a retry after a lost success).
  void duplicate_effect(sim::Time started);
  /// A request abandoned by its client without an outcome (the client crashed).
  void abandoned(sim::Time started);

  const OutcomeCounts& totals() const { return totals_; }
  const sim::LatencyHistogram& latency() const { return latency_; }
  const std::vector<GroupStats>& groups() const { return groups_; }
  /// One per window; those not yet closed have no percentiles.
  const std::vector<WindowSummary>& windows() const { return windows_; }
  std::size_t window_count() const { return window_count_; }
  const std::vector<SloTally>& slos() const { return slos_; }
  /// The windows' summaries, all closed, leaving none behind (the recorder is copied into a
  /// run's result without them).
  std::vector<WindowSummary> take_window_summaries();
  sim::Duration window() const { return window_; }
  sim::Time measure_from() const { return measure_from_; }
  sim::Time end() const { return end_; }
  std::uint64_t duplicate_effects() const { return duplicate_effects_; }
  std::uint64_t abandoned_requests() const { return abandoned_; }

 private:
  WindowSummary* window_at(sim::Time t);
  /// Closes the window whose latencies are open: its percentiles, then an empty histogram.
  void close_open_window();

  sim::Time measure_from_, end_;
  sim::Duration window_;
  OutcomeCounts totals_;
  sim::LatencyHistogram latency_;
  std::vector<WindowSummary> windows_;
  std::size_t window_count_ = 0;
  std::size_t open_window_ = 0;  // the one whose latencies open_latency_ holds
  std::optional<sim::LatencyHistogram> open_latency_;  // made at the first latency
  std::vector<GroupStats> groups_;
  std::vector<SloTally> slos_;
  std::uint64_t duplicate_effects_ = 0;
  std::uint64_t abandoned_ = 0;
};

}  // namespace models
