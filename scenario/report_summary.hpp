// The summary of one run (a JSON object), and of several (mean and 95 % interval per figure).
#pragma once

#include <vector>

#include "scenario/run.hpp"
#include "scenario/scenario.hpp"

namespace scenario {

/// Requests, outcomes, availability, latency percentiles, attempts, goodput of one run.
Json run_summary(const RunResult& run, const ScenarioSpec& spec);
/// Each group's requests, outcomes, availability, latency, attempts, goodput: {name: summary}.
Json group_summaries(const RunResult& run, const ScenarioSpec& spec);
/// Per-window series of one run.
Json run_windows(const RunResult& run, const ScenarioSpec& spec);
/// Mean across runs of every numeric leaf of the summaries (nulls skipped).
Json mean_summary(const std::vector<Json>& summaries);
/// Student t 95 % interval of the mean of the numbers among `samples` (null: fewer than 2).
Json interval(const std::vector<const Json*>& samples);
/// 95 % intervals of the headline figures across runs; null figures when fewer than 2 runs.
/// Availability's is a Wilson score interval (inside [0, 1]); the others are Student t.
Json ci95_summary(const std::vector<Json>& summaries);

}  // namespace scenario
