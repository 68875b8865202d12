// A join's latency is the maximum of its branches': jobs copied into k parallel branches whose
// handling takes an exponential time of mean m, then joined, end after max(X_1, ..., X_k), so
// P(latency <= t) = (1 - e^(-t/m))^k and the q-quantile is t_q = -m ln(1 - q^(1/k)).
//
// The pipeline, through the loader as `dsim run` builds it, on real queues: producer -> in ->
// copier -> k branch queues -> k branch stages (a filter that keeps everything, service time
// exponential of mean m, slots far above the jobs in service: no queueing) -> joins -> join
// (parts k) -> done -> a worker pool with no service time, whose acknowledgement ends the job.
// The network has no latency and every consumer long-polls, so a message is taken the instant
// it is stored: the branches' draws are the only delay. Jobs arrive every 10 ms.
//
// Tolerance: the estimated quantile of n independent samples has the standard error
// sqrt(q(1-q)/n) / f(t_q) (Bahadur), with f the density of the maximum,
// f(t) = k (1 - e^(-t/m))^(k-1) e^(-t/m) / m; statistical_tolerance.hpp allows 4.5 of them, plus
// the latency histogram's relative error.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "tests/validation/statistical_tolerance.hpp"

TEST_CASE("join: the end-to-end latency of k parallel branches is the max of their times",
          "[pipeline][validation]") {
  constexpr int k = 3;
  constexpr double mean_ms = 10;
  std::string branches, outputs;
  for (int i = 0; i < k; ++i) {
    const std::string b = "b" + std::to_string(i);
    outputs += std::string(i ? ", " : "") + R"({"queue": ")" + b + R"("})";
    branches += R"(")" + b + R"(": {"model": "queue"}, "branch-)" + b +
                R"(": {"model": "filter", "queue": ")" + b +
                R"(", "output": "joins", "concurrency": 1000,
                 "service_time": {"dist": "exponential", "mean": "10ms"}},)";
  }
  const auto file = scenario::load_scenario_text(R"({
    "name": "join-latency", "duration": "202s", "warmup": "1s", "seeds": 1,
    "components": {
      "producer": {"model": "open_loop_client", "rate": "100/s", "arrivals": "constant",
                   "target": "in", "timeout": "0s", "jobs": true},
      "in": {"model": "queue"},
      "copier": {"model": "copier", "queue": "in", "outputs": [)" +
                                                     outputs + R"(]},
      )" + branches + R"(
      "joins": {"model": "queue"},
      "join": {"model": "join", "queue": "joins", "output": "done", "parts": 3},
      "done": {"model": "queue"},
      "sink": {"model": "worker_pool", "queue": "done", "concurrency": 1000,
               "service_time": {"dist": "constant", "value": "0s"}}
    }
  })",
                                                 "join-latency.json");
  const scenario::RunResult r = scenario::run_scenario(file.variants.front(), 11);
  const auto& latency = r.requests.latency();
  const double jobs = static_cast<double>(latency.count());
  REQUIRE(jobs > 19'000);
  CHECK(r.requests.totals().failed() == 0);
  const double m = mean_ms * 1e6;
  for (const double q : {0.1, 0.5, 0.9, 0.99}) {
    const double t = -m * std::log(1 - std::pow(q, 1.0 / k));
    const double density =
        k * std::pow(1 - std::exp(-t / m), k - 1) * std::exp(-t / m) / m;  // per ns
    const double tolerance = queueing::quantile_tolerance(q * (1 - q), density, jobs, t);
    INFO("q = " << q << ": expected " << t << " ns, got " << latency.quantile_ns(q));
    CHECK(std::abs(static_cast<double>(latency.quantile_ns(q)) - t) <= tolerance);
  }
}
