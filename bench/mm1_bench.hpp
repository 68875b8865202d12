#pragma once
#include <cstdint>
#include <vector>

namespace bench {

struct Mm1Result {
  std::uint64_t events;
  double seconds;
  std::vector<double> sojourns;
  std::size_t queue_bytes;
  double mean_sojourn() const;
  double sojourn_quantile(double p);
};

/// Prints the M/M/1 figures: kernel and plain-loop events/s, their ratio, memory, sojourns.
void run_mm1_benchmark(std::int64_t customers);

}  // namespace bench
