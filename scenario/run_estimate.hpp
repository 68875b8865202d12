// What a run will cost, estimated from the scenario alone before anything runs, so that
// `dsim run` can refuse up front what the machine cannot hold (with the estimate and the option
// that raises the limit) instead of running until the machine gives out.
//
// Memory is estimated from the structures that grow with the scenario, at sizes measured on
// this code (tests/unit/run_estimate_test.cpp checks them against a run's peak):
// - each report window holds a latency histogram while its run is going: kWindowBytes;
// - each window of a finished run is kept until the report is written: kWindowKeptBytes;
// - each node (a model, its timers, its network and cluster state): kNodeBytes, a floor that
//   models holding per-key or per-request tables exceed (their own limits bound those).
// Requests are the clients' offered load at its highest (load faults and closed-loop waiting
// not counted), events a handful per request: figures for a progress line, not a promise.
#pragma once

#include <cstdint>

#include "scenario/scenario.hpp"

namespace scenario {

struct RunEstimate {
  std::uint64_t nodes = 0;
  std::uint64_t windows = 0;
  double requests = 0;      // offered by the clients over the run, at most
  double memory_bytes = 0;  // while the run is going
  double kept_bytes = 0;    // kept from it until the report is written
};

inline constexpr double kWindowBytes = 60e3;
inline constexpr double kWindowKeptBytes = 2e3;
inline constexpr double kNodeBytes = 4e3;

RunEstimate estimate_run(const ScenarioSpec& spec);

/// The memory `runs` runs need with `parallel` of them at once: the largest `parallel` runs'
/// memory plus everything kept from all of them. `estimates` in any order.
double peak_memory(const std::vector<RunEstimate>& estimates, std::size_t parallel);

}  // namespace scenario
