// A work queue (queue + worker_pool + a job producer) against queueing theory: a fixed pool of
// c workers on Poisson jobs is M/M/c (Erlang C), the queue's depth obeys Little's law, and a
// visibility timeout shorter than some processing times redelivers as the processing-time
// distribution predicts. Run through the loader exactly as `dsim run` does.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "tests/run_figures.hpp"
#include "tests/validation/queueing_theory.hpp"
#include "tests/validation/statistical_tolerance.hpp"

namespace {

scenario::RunResult run_text(const std::string& text, std::uint64_t seed = 1) {
  const auto file = scenario::load_scenario_text(text, "work-queue-test.json");
  REQUIRE(file.variants.size() == 1);
  return scenario::run_scenario(file.variants.front(), seed);
}

void check_close(double observed, double expected, double tolerance, const char* what) {
  INFO(what << ": observed " << observed << ", theory " << expected << ", tolerance +-"
            << tolerance);
  CHECK(std::abs(observed - expected) <= tolerance);
}

}  // namespace

TEST_CASE("work queue: 4 workers on Poisson jobs at rho = 0.7 are M/M/4 (Erlang C)",
          "[work_queue]") {
  // Jobs at 2800/s, exponential service of 1 ms, 4 single-slot workers, zero-latency network:
  // a free worker always has a receive waiting at the queue (long polling), so a job is taken
  // the instant it is published or a worker frees up, and its end-to-end latency is exactly its
  // M/M/4 sojourn.
  const auto r = run_text(R"({
    "name": "mm4-work-queue", "duration": "185s", "warmup": "5s", "seeds": 1,
    "components": {
      "q": {"model": "queue"},
      "workers": {"model": "worker_pool", "queue": "q", "count": 4,
                  "service_time": {"dist": "exponential", "mean": "1ms"}},
      "producer": {"model": "open_loop_client", "rate": "2800/s", "target": "q",
                   "timeout": "0s", "jobs": true}
    }
  })");
  const int c = 4;
  const double lambda = 2.8, mu = 1.0;  // per ms
  const auto& latency = r.requests.latency();
  const double n = static_cast<double>(latency.count());
  REQUIRE(n > 450'000);
  CHECK(r.requests.totals().failed() == 0);
  // Jobs left at the end: those queued or in service then, a handful (Lq + 2.8 on average).
  CHECK(dsimtest::figure(r, "producer", "jobs_unfinished") < 50);
  // Batch-means variance constants at rho = 0.7 as in queueing_test.cpp's M/M/4 case (the same
  // queue): sojourn 23.06; indicator {T <= q99} 0.0907.
  check_close(latency.mean_ns() / 1e6, queueing::mmc_mean_sojourn(c, lambda, mu),
              queueing::mean_tolerance(23.06, n), "mean job latency (ms)");
  const double q99 = queueing::mmc_sojourn_quantile(c, lambda, mu, 0.99);
  check_close(static_cast<double>(latency.quantile_ns(0.99)) / 1e6, q99,
              queueing::quantile_tolerance(
                  0.0907, queueing::mmc_sojourn_density(c, lambda, mu, q99), n, q99),
              "p99 job latency (ms)");
  // Little's law on the queue: the time-average number waiting is lambda times the mean wait
  // (both measured by the queue over the same interval; the only difference is the jobs in the
  // queue at the interval's edges, a few out of 500,000: 1 % is generous and still tells a
  // wrong depth, or a wrong wait, apart). And both are Erlang C's: Wq = C / (c mu - lambda).
  const double depth = dsimtest::figure(r, "q", "depth_mean");
  const double wait_ms = dsimtest::figure(r, "q", "queue_wait_mean_ms");
  check_close(depth, lambda * wait_ms, 0.01 * depth, "Little: Lq = lambda Wq");
  const double wq = queueing::erlang_c(c, lambda, mu) / (c * mu - lambda);
  check_close(wait_ms, wq, queueing::mean_tolerance(23.06, n), "Wq (ms)");
}

TEST_CASE("work queue: a visibility timeout shorter than processing redelivers 1/p - 1 times",
          "[work_queue]") {
  // Processing ~ Exp(mean 1 s) against a visibility timeout V = 0.7 s: a delivery finishes in
  // time with p = 1 - e^(-0.7) = 0.503. With idle workers to spare, an expired message is
  // delivered again at once, and only an ack of its latest delivery deletes it: deliveries per
  // message are geometric(p), mean 1/p, so redeliveries per message have mean (1 - p)/p = 0.986
  // and variance (1 - p)/p^2. Every delivery is processed to the end (a worker does not know
  // its message was redelivered): duplicates per message have the same law.
  const auto r = run_text(R"({
    "name": "visibility", "duration": "1010s", "warmup": "10s", "seeds": 1,
    "components": {
      "q": {"model": "queue", "visibility_timeout": "700ms"},
      "workers": {"model": "worker_pool", "queue": "q", "count": 1, "concurrency": 200,
                  "service_time": {"dist": "exponential", "mean": "1s"}},
      "producer": {"model": "open_loop_client", "rate": "20/s", "target": "q",
                   "timeout": "0s", "jobs": true}
    }
  })");
  const double p = 1 - std::exp(-0.7);
  const double published = dsimtest::figure(r, "q", "published");
  REQUIRE(published > 19'000);
  const double per_message = (1 - p) / p;
  // 4.5 standard errors of a mean of `published` independent geometric counts.
  const double tolerance = queueing::kStandardErrors * std::sqrt((1 - p) / (p * p) / published);
  check_close(dsimtest::figure(r, "q", "redelivered") / published, per_message, tolerance,
              "redeliveries per message");
  check_close(dsimtest::figure(r, "workers", "duplicates") / published, per_message, tolerance,
              "duplicates per message");
  CHECK(r.requests.totals().failed() == 0);
}
