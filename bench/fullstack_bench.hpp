// The whole stack on one scenario: 10^6 requests from open-loop clients through a
// power-of-two-choices load balancer to 10 servers, loaded and run as `dsim run` runs it.
#pragma once
#include <cstdint>

namespace bench {

/// Loads and runs the scenario (`requests` requests at 20,000/s) once, then the plain
/// priority-queue loop of the ping-pong benchmark for as many events. Prints the scenario's
/// events/s, the plain loop's, their ratio, the load and run times and the peak memory.
void run_fullstack_benchmark(std::uint64_t requests);

}  // namespace bench
