// The full stack: the loader, the scenario builder, the clients' caller, the network, the
// load balancer's policy and the servers' queues, as `dsim run` runs one seed. The baseline is
// the ping-pong benchmark's plain priority-queue loop, run here for about as many events: the
// ratio says what a request's whole path costs against the bare event loop.
#include "bench/fullstack_bench.hpp"

#include <string>

#include "bench/figures.hpp"
#include "bench/pingpong_bench.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"

namespace bench {
namespace {

constexpr double kRate = 20'000;  // requests a second, from 10 client nodes

// 10 servers of 4 workers with a mean service time of 1.5 ms: 26,667/s of capacity, so the
// servers are 75 % busy and queues form, as in a service under real load.
std::string scenario_text(std::uint64_t requests) {
  const double seconds = static_cast<double>(requests) / kRate;
  return R"({"name": "fullstack", "duration": ")" + std::to_string(seconds) + R"(s", "seeds": 1,
    "network": {"latency": {"dist": "uniform", "low": "0.2ms", "high": "0.6ms"}},
    "components": {
      "api": {"model": "server", "count": 10, "workers": 4,
              "service_time": {"dist": "exponential", "mean": "1.5ms"}},
      "lb": {"model": "load_balancer", "backends": "api", "policy": "p2c"},
      "clients": {"model": "open_loop_client", "count": 10, "rate": "2000/s", "target": "lb",
                  "timeout": "1s"}},
    "report": {"window": "1s"}})";
}

}  // namespace

void run_fullstack_benchmark(std::uint64_t requests) {
  reset_peak_memory();
  Stopwatch load_watch;
  const scenario::ScenarioFile file =
      scenario::load_scenario_text(scenario_text(requests), "fullstack.json");
  const double load_seconds = load_watch.seconds();
  Stopwatch run_watch;
  const scenario::RunResult run = scenario::run_scenario(file.variants.front(), 1);
  const double run_seconds = run_watch.seconds();
  const double peak = peak_memory_bytes();
  // The plain loop on 1,000 nodes: deliveries are two thirds of its events.
  const PlainLoopRate plain = run_plain_pingpong(1'000, run.events * 2 / 3);
  const double rate = static_cast<double>(run.events) / run_seconds;
  print_figure("fullstack_events_per_s", rate, "events/s");
  print_figure("fullstack_plain_events_per_s", plain.events_per_s, "events/s");
  print_figure("fullstack_vs_plain_ratio", rate / plain.events_per_s, "ratio");
  print_figure("fullstack_requests", static_cast<double>(run.requests.totals().requests),
               "requests");
  print_figure("fullstack_events", static_cast<double>(run.events), "events");
  print_figure("fullstack_requests_per_s",
               static_cast<double>(run.requests.totals().requests) / run_seconds, "requests/s");
  print_figure("fullstack_load_time", load_seconds * 1e3, "ms");
  print_figure("fullstack_run_time", run_seconds, "s");
  print_figure("fullstack_peak_memory", peak / (1 << 20), "MiB");
}

}  // namespace bench
