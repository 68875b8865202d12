// Ping-pong on a cluster: many nodes, each pinging random peers, every ping answered.
#pragma once
#include <cstdint>

namespace bench {

/// `nodes` nodes on a sim::Cluster, each sending a request to a uniformly random peer at
/// exponential intervals of mean 1 ms, each request answered; latency uniform 0.5..1.5 ms (the
/// network's default link). Runs until `deliveries` messages (requests + replies) arrived, then
/// the same workload as a plain std::priority_queue loop. Prints events/s of both, their ratio,
/// and the cluster's peak memory.
void run_pingpong_benchmark(std::uint32_t nodes, std::uint64_t deliveries);

/// The plain loop alone, until `deliveries` messages arrived: its events and their rate, the
/// baseline that other benchmarks quote beside their own rate.
struct PlainLoopRate {
  std::uint64_t events = 0;
  double events_per_s = 0;
};
PlainLoopRate run_plain_pingpong(std::uint32_t nodes, std::uint64_t deliveries);

}  // namespace bench
