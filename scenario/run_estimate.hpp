// What a run will cost, estimated from the scenario alone before anything runs, so that
// `dsim run` can refuse up front what the machine cannot hold (with the estimate and the option
// that raises the limit) instead of running until the machine gives out.
//
// Memory is estimated from the structures that grow with the scenario, at sizes measured on
// this code with /usr/bin/time (peak resident memory):
// - each report window is a summary (counts, percentiles, the models' series), while its run
//   is going and then until the report is written: about 200 bytes measured, kWindowBytes =
//   2 KB with margin (a run keeps one latency histogram for the window being recorded only);
// - each node (a model, its timers, its random streams, its network and cluster state), in a
//   run of 2 s: 1.6 KB measured for an open-loop client (10^5 clients at 1/s: 156 MB), 1.1 KB
//   for a server (10^5 servers: 106 MB), kNodeBytes = 4 KB with margin; models with per-key or
//   per-request tables take more (their own limits bound those);
// - each node keeps the list of the nodes it calls: kTargetBytes per (caller node, target node)
//   pair (2 x 10^4 clients on 2 x 10^4 servers: 2.1 GB).
// Requests are the clients' offered load at its highest (load faults and closed-loop waiting
// not counted): a figure for messages, not a promise.
#pragma once

#include <cstdint>

#include "scenario/scenario.hpp"

namespace scenario {

struct RunEstimate {
  std::uint64_t nodes = 0;
  std::uint64_t windows = 0;
  double target_pairs = 0;  // (caller node, node it may call) pairs
  double requests = 0;      // offered by the clients over the run, at most
  double memory_bytes = 0;  // while the run is going
  double kept_bytes = 0;    // kept from it until the report is written
};

inline constexpr double kWindowBytes = 2e3;
inline constexpr double kNodeBytes = 4e3;
inline constexpr double kTargetBytes = 4;

RunEstimate estimate_run(const ScenarioSpec& spec);

/// The memory `runs` runs need with `parallel` of them at once: the largest `parallel` runs'
/// memory plus everything kept from all of them. `estimates` in any order.
double peak_memory(const std::vector<RunEstimate>& estimates, std::size_t parallel);

}  // namespace scenario
