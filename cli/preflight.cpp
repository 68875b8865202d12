#include "cli/preflight.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "cli/commands.hpp"

namespace cli {

std::optional<double> parse_size(const std::string& text) {
  double value = 0;
  std::size_t used = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  std::string unit = text.substr(used);
  if (!unit.empty() && (unit.back() == 'B' || unit.back() == 'b')) unit.pop_back();
  double scale = 1;
  if (unit == "K" || unit == "k")
    scale = 1e3;
  else if (unit == "M")
    scale = 1e6;
  else if (unit == "G")
    scale = 1e9;
  else if (unit == "T")
    scale = 1e12;
  else if (!unit.empty())
    return std::nullopt;
  if (!std::isfinite(value) || value <= 0 || text[0] == '-' || text[0] == '+') return std::nullopt;
  return value * scale;
}

std::string format_size(double bytes) {
  const char* units[] = {"bytes", "KB", "MB", "GB", "TB", "PB"};
  int u = 0;
  while (bytes >= 1000 && u < 5) bytes /= 1000, ++u;
  char text[32];
  std::snprintf(text, sizeof text, "%.3g %s", bytes, units[u]);
  return text;
}

std::optional<double> available_memory() {
  std::ifstream in("/proc/meminfo");
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string key;
    double kib = 0;
    if (fields >> key >> kib && key == "MemAvailable:") return kib * 1024;
  }
  return std::nullopt;
}

void check_memory(const std::string& file, const std::vector<const scenario::ScenarioSpec*>& specs,
                  std::size_t seeds, std::size_t parallel, double limit, bool limit_given) {
  std::vector<scenario::RunEstimate> runs;
  const scenario::RunEstimate* largest = nullptr;
  for (const auto* spec : specs)
    for (std::size_t s = 0; s < seeds; ++s) runs.push_back(scenario::estimate_run(*spec));
  for (const auto& r : runs)
    if (largest == nullptr || r.memory_bytes > largest->memory_bytes) largest = &r;
  parallel = std::min(parallel, runs.size());
  const double need = scenario::peak_memory(runs, parallel);
  if (need <= limit) return;
  const std::string message =
      file + ": the " + std::to_string(runs.size()) + " run(s), " + std::to_string(parallel) +
      " at once, need about " + format_size(need) + " of memory, more than " +
      (limit_given ? "--max-memory " : "the ") + format_size(limit) +
      (limit_given ? "" : " available") + ". The largest run has " +
      std::to_string(largest->windows) + " report windows (" +
      format_size(static_cast<double>(largest->windows) * scenario::kWindowBytes) + ") and " +
      std::to_string(largest->nodes) + " nodes (" +
      format_size(static_cast<double>(largest->nodes) * scenario::kNodeBytes) + ", and " +
      format_size(largest->target_pairs * scenario::kTargetBytes) +
      " for the lists of the nodes each calls). Use a longer \"report\": {\"window\"}, fewer "
      "nodes, fewer runs at once (-j 1), or " +
      "--max-memory " + std::to_string(static_cast<long long>(std::ceil(need * 1.1 / 1e9))) +
      "G to run anyway";
  throw UsageError{message};
}

std::optional<std::string> large_run_notice(const std::vector<const scenario::ScenarioSpec*>& specs,
                                            std::size_t seeds, std::size_t parallel) {
  std::vector<scenario::RunEstimate> runs;
  double requests = 0;
  for (const auto* spec : specs)
    for (std::size_t s = 0; s < seeds; ++s) {
      runs.push_back(scenario::estimate_run(*spec));
      requests += runs.back().requests;
    }
  if (requests < 1e8) return std::nullopt;
  char text[160];
  std::snprintf(text, sizeof text,
                "%zu run(s), about %.2g requests offered in all, %s of memory at once: this takes "
                "a while (--max-wall TIME bounds it)",
                runs.size(), requests,
                format_size(scenario::peak_memory(runs, std::min(parallel, runs.size()))).c_str());
  return text;
}

}  // namespace cli
