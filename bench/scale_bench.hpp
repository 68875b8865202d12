// What a scenario costs as it grows: setup time and memory per node from 10^3 to 10^6 nodes,
// and a run's memory at 10 and at 10,000 report windows.
#pragma once
#include <cstdint>
#include <vector>

namespace bench {

/// For each size: a scenario of that many nodes (servers, and one client), then one of as many
/// open-loop client nodes (and one server), loaded, built and run for one event. Prints the
/// setup time, its time per node and the peak memory per node (nodes_N_..., then
/// client_nodes_N_...). Sizes after one that took more than `max_seconds` are skipped, and
/// said so on stderr.
void run_node_scaling_benchmark(const std::vector<std::uint64_t>& sizes, double max_seconds);

/// The same light scenario run with 10 and with 10,000 report windows: the peak memory of each
/// run and the difference per window.
void run_window_memory_benchmark();

}  // namespace bench
