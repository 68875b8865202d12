// The summary of one run (a JSON object), and of several (mean and 95 % interval per figure).
#pragma once

#include <vector>

#include "scenario/run.hpp"
#include "scenario/scenario.hpp"

namespace scenario {

/// Requests, outcomes, availability, latency percentiles, attempts, goodput of one run.
Json run_summary(const RunResult& run, const ScenarioSpec& spec);
/// Per-window series of one run.
Json run_windows(const RunResult& run, const ScenarioSpec& spec);
/// Mean across runs of every numeric leaf of the summaries (nulls skipped).
Json mean_summary(const std::vector<Json>& summaries);
/// 95 % intervals of the headline figures across runs; null figures when fewer than 2 runs.
Json ci95_summary(const std::vector<Json>& summaries);

}  // namespace scenario
