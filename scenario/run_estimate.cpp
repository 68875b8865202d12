#include "scenario/run_estimate.hpp"

#include <algorithm>
#include <functional>
#include <vector>

#include "scenario/model_catalog.hpp"

namespace scenario {

RunEstimate estimate_run(const ScenarioSpec& spec) {
  RunEstimate e;
  e.nodes = spec.network.switches.size();
  for (const ComponentSpec& c : spec.components) {
    const auto count = static_cast<double>(c.count);
    e.nodes += c.count;
    if (c.binding->offered_rate)
      e.requests += c.binding->offered_rate(c.config) * count * spec.duration.seconds();
    for (const auto& ref : c.binding->references(c.config))
      for (const ComponentSpec& target : spec.components)
        if (target.name == ref.name) e.target_pairs += count * static_cast<double>(target.count);
  }
  const std::int64_t window = spec.report.window.ns();
  e.windows =
      window > 0 ? static_cast<std::uint64_t>((spec.duration.ns() + window - 1) / window) : 1;
  const auto windows = static_cast<double>(e.windows);
  e.memory_bytes = static_cast<double>(e.nodes) * kNodeBytes + e.target_pairs * kTargetBytes +
                   windows * kWindowBytes;
  e.kept_bytes = windows * kWindowBytes;
  return e;
}

double peak_memory(const std::vector<RunEstimate>& estimates, std::size_t parallel) {
  std::vector<double> running;
  double kept = 0;
  for (const RunEstimate& e : estimates) {
    running.push_back(e.memory_bytes);
    kept += e.kept_bytes;
  }
  std::sort(running.begin(), running.end(), std::greater<>());
  running.resize(std::min(running.size(), std::max<std::size_t>(parallel, 1)));
  double peak = kept;
  for (const double m : running) peak += m;
  return peak;
}

}  // namespace scenario
