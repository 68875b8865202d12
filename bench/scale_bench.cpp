// Scale: the setup of scenarios of 10^3 to 10^6 nodes, and a run's memory as its report
// windows grow. Memory is the peak resident set (VmHWM) above the resident set just before,
// after freed memory has been given back to the system (malloc_trim), so that what one
// measurement freed does not hide the next one's growth.
#include "bench/scale_bench.hpp"

#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "bench/figures.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"

namespace bench {
namespace {

constexpr std::uint64_t kComponentCap = scenario::kMaxNodesPerComponent;

// `nodes` nodes of `model` (its fields after "count"), as components of at most kComponentCap
// nodes named prefix0, prefix1, ...: each followed by a comma.
std::string components(const char* prefix, std::uint64_t nodes, const std::string& model) {
  std::string out;
  for (int c = 0; nodes > 0; ++c) {
    const std::uint64_t count = std::min(nodes, kComponentCap);
    nodes -= count;
    out += '"' + std::string(prefix) + std::to_string(c) + R"(": {"count": )" +
           std::to_string(count) + ", " + model + "},";
  }
  return out;
}

// `nodes` nodes: servers ("api0", "api1", ...) and one client node calling the first.
std::string server_scaling_scenario(std::uint64_t nodes) {
  return R"({"name": "nodes", "duration": "1s", "seeds": 1, "components": {)" +
         components(
             "api", nodes - 1,
             R"("model": "server", "service_time": {"dist": "exponential", "mean": "1ms"})") +
         R"("client": {"model": "open_loop_client", "rate": "100/s", "target": "api0"}}})";
}

// `nodes` nodes: one server and open-loop clients calling it (each with its arrival timer
// pending, as in a run).
std::string client_scaling_scenario(std::uint64_t nodes) {
  return R"({"name": "clients", "duration": "1s", "seeds": 1, "components": {)" +
         components("clients", nodes - 1,
                    R"("model": "open_loop_client", "rate": "1/s", "target": "api")") +
         R"("api": {"model": "server", "service_time": "1ms"}}})";
}

// The same light scenario (one server, one client, 100 s) with `window` report windows.
std::string window_scenario(const char* window) {
  return std::string(R"({"name": "windows", "duration": "100s", "seeds": 1, "components": {
    "api": {"model": "server", "service_time": {"dist": "exponential", "mean": "1ms"}},
    "client": {"model": "open_loop_client", "rate": "1000/s", "target": "api"}},
    "report": {"window": ")") +
         window + R"("}})";
}

double available_memory_bytes() {
  std::ifstream meminfo("/proc/meminfo");
  for (std::string line; std::getline(meminfo, line);)
    if (line.rfind("MemAvailable:", 0) == 0) {
      std::istringstream fields(line.substr(13));
      double kib = 0;
      fields >> kib;
      return kib * 1024;
    }
  return 0;
}

struct Measured {
  double seconds = 0;
  double bytes = 0;  // peak resident set above the one before
};

// Loads `text` and runs its first variant with `control`: the time and memory it took.
Measured load_and_run(const std::string& text, const scenario::RunControl& control) {
  malloc_trim(0);
  reset_peak_memory();
  const double before = peak_memory_bytes();
  Stopwatch watch;
  {
    const scenario::ScenarioFile file = scenario::load_scenario_text(text, "bench.json");
    (void)scenario::run_scenario(file.variants.front(), 1, control);
  }
  return {watch.seconds(), peak_memory_bytes() - before};
}

void run_scaling(const char* prefix, std::string (*scenario_of)(std::uint64_t),
                 const std::vector<std::uint64_t>& sizes, double max_seconds) {
  double bytes_per_node = 0;  // of the last size measured, to foresee the next one's memory
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    const std::uint64_t n = sizes[i];
    const auto nodes = static_cast<double>(n);
    if (bytes_per_node * nodes > available_memory_bytes() / 2) {
      std::fprintf(stderr, "nodes: %llu nodes skipped: about %.3g GB foreseen\n",
                   static_cast<unsigned long long>(n), bytes_per_node * nodes / 1e9);
      return;
    }
    // Setup, then the first event (the run stops there): building is the cost measured.
    const Measured m = load_and_run(scenario_of(n), {.max_events = 1});
    bytes_per_node = m.bytes / nodes;
    const std::string name = prefix + std::to_string(n);
    print_figure(name + "_setup_time", m.seconds, "s");
    print_figure(name + "_setup_time_per_node", m.seconds / nodes * 1e6, "us");
    print_figure(name + "_bytes_per_node", bytes_per_node, "bytes");
    if (m.seconds > max_seconds && i + 1 < sizes.size()) {
      std::fprintf(stderr, "nodes: larger sizes skipped: %llu nodes took %.1f s (bound %.0f s)\n",
                   static_cast<unsigned long long>(n), m.seconds, max_seconds);
      return;
    }
  }
}

}  // namespace

void run_node_scaling_benchmark(const std::vector<std::uint64_t>& sizes, double max_seconds) {
  run_scaling("nodes_", server_scaling_scenario, sizes, max_seconds);
  run_scaling("client_nodes_", client_scaling_scenario, sizes, max_seconds);
}

void run_window_memory_benchmark() {
  const Measured few = load_and_run(window_scenario("10s"), {});
  const Measured many = load_and_run(window_scenario("10ms"), {});
  print_figure("windows_10_run_memory", few.bytes / (1 << 20), "MiB");
  print_figure("windows_10000_run_memory", many.bytes / (1 << 20), "MiB");
  print_figure("windows_bytes_per_window", (many.bytes - few.bytes) / (10'000 - 10), "bytes");
}

}  // namespace bench
