// Server partitions against queueing theory: with Poisson arrivals per tenant and exponential
// service, each partition is an M/M/c queue of its own. Tenant "a" (2800/s) has a partition of 4
// workers (rho = 0.7); tenant "b" has the other 4 and offers 2000/s (rho = 0.5) or 6000/s
// (rho = 1.5: overloaded, its queue grows without bound). Partition "a"'s mean queue length and
// mean wait match Erlang C at its own load in both cases: "b" cannot reach them. Pooled (one
// queue, 8 workers), the calm loads are an M/M/8 at rho = 0.6 whose wait is 8 times shorter for
// "a" (and 2 times for "b"): what pooling saves. With "b" overloaded the pool is unstable and
// "a" waits without bound: what pooling costs. Time unit of the formulas: 1 ms (service 1ms).
//
// How the tolerances are set, from the run length T (the measured interval, 200 s = 2e5 ms).
// The time-average queue length Lq(T) of a stationary M/M/c has variance sigma^2 / T, where the
// asymptotic variance constant sigma^2 is exact for a birth-death process
// (queueing::mmc_time_average_variance: 51.3 ms for M/M/4 at rho = 0.7, 2.68 ms for M/M/8 at
// rho = 0.6). The mean wait W^ = (sum of waits) / N is, by Little's law on the sample path,
// (T Lq(T)) / N up to the requests straddling the interval's ends, so W^ - Wq ~ (Lq(T) - Lq) /
// lambda - Wq (N / T - lambda) / lambda; N is Poisson (variance lambda T), and by Cauchy-Schwarz
// the standard error of W^ is at most (sqrt(sigma^2 / T) + Wq sqrt(lambda / T)) / lambda.
// Every comparison allows 4.5 standard errors (statistical_tolerance.hpp): about 7 % of Lq and 8
// % of Wq for "a", which is 8 times further from the pooled value than that. Seeds are fixed.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "models/clients/open_loop_client.hpp"
#include "models/services/server.hpp"
#include "tests/model_harness.hpp"
#include "tests/validation/queueing_theory.hpp"
#include "tests/validation/statistical_tolerance.hpp"

using namespace sim;
using models::ServerConfig;
using models::ServerPartitionConfig;
using queueing::kStandardErrors;

namespace {

constexpr Duration kWarmup = 10'000_ms;
constexpr double kMu = 1.0;  // per ms
constexpr double kLambdaA = 2.8;

struct Observed {
  double mean_queue = 0;    // time-average requests waiting (partition "a", or the pool)
  double mean_wait_ms = 0;  // mean time from arrival to the start of service
  double a_latency_ms = 0;  // mean latency tenant "a"'s clients saw
  double a_requests = 0;
};

// Tenant "a" at 2800/s and tenant "b" at `lambda_b` per ms against one server of 8 workers,
// partitioned 4 + 4 or pooled; measured for `measured`.
Observed run(std::uint64_t seed, double lambda_b, bool partitioned, Duration measured) {
  dsimtest::ModelHarness h(seed, Time::zero() + kWarmup, Time::zero() + kWarmup + measured);
  ServerConfig server;
  server.workers = 8;
  // Pooled: one catch-all partition of every worker, the pool with partition figures.
  server.partitions = {ServerPartitionConfig{.groups = {}, .workers = 8}};
  if (partitioned)
    server.partitions = {ServerPartitionConfig{.groups = {"a"}, .workers = 4},
                         ServerPartitionConfig{.groups = {"b"}, .workers = 4}};
  const models::Server* s = h.build<models::Server>("server", 1, server).at(0);
  const auto client = [&](const std::string& group, double per_ms) {
    models::OpenLoopClientConfig c;
    c.rate.per_second = per_ms * 1000;
    c.call.target.name = "server";
    c.call.timeout = Duration::zero();  // never give up: every request is served
    c.tenancy.group = group;
    h.build<models::OpenLoopClient>("client-" + group, 1, c);
  };
  client("a", kLambdaA);
  client("b", lambda_b);
  h.run();
  Observed o;
  o.mean_queue = s->partition_stats(0).mean_queued();
  o.mean_wait_ms = s->partition_stats(0).mean_wait_seconds() * 1e3;
  for (const auto& g : h.recorder.groups()) {
    if (g.name != "a") continue;
    o.a_latency_ms = g.latency.mean_ns() * 1e-6;
    o.a_requests = static_cast<double>(g.latency.count());
  }
  return o;
}

struct Tolerances {
  double queue, wait;
};

// 4.5 standard errors of Lq(T) and of the mean wait for an M/M/c over T ms (see the header).
Tolerances tolerances(int c, double lambda, double measured_ms) {
  const double sd_queue =
      std::sqrt(queueing::mmc_time_average_variance(c, lambda, kMu) / measured_ms);
  const double wait = queueing::erlang_c(c, lambda, kMu) / (c * kMu - lambda);
  const double sd_wait = (sd_queue + wait * std::sqrt(lambda / measured_ms)) / lambda;
  return {kStandardErrors * sd_queue, kStandardErrors * sd_wait};
}

void check_mmc(const Observed& o, int c, double lambda, double measured_ms, const char* what) {
  const double queue = queueing::mmc_mean_queue(c, lambda, kMu);
  const double wait = queue / lambda;
  const Tolerances tol = tolerances(c, lambda, measured_ms);
  INFO(what << ": Lq observed " << o.mean_queue << ", Erlang C " << queue << " +- " << tol.queue
            << "; Wq observed " << o.mean_wait_ms << " ms, Erlang C " << wait << " +- "
            << tol.wait);
  CHECK(std::abs(o.mean_queue - queue) <= tol.queue);
  CHECK(std::abs(o.mean_wait_ms - wait) <= tol.wait);
}

}  // namespace

TEST_CASE("the birth-death variance constant reproduces M/M/1's closed form") {
  for (const double rho : {0.3, 0.6, 0.9}) {
    const double closed = 2 * rho * (1 + rho) / (kMu * std::pow(1 - rho, 4));
    CHECK(queueing::mmc_time_average_variance(1, rho, kMu, false) == Approx(closed).epsilon(1e-9));
  }
}

TEST_CASE("a partition is its own M/M/c: Erlang C at its own load, whatever the other's load") {
  const Duration measured = 200'000_ms;
  const double t = static_cast<double>(measured.ns()) * 1e-6;
  // "b" calm (rho 0.5), then overloaded (rho 1.5): partition "a" sees the same M/M/4 at 0.7.
  const Observed calm = run(21, 2.0, true, measured);
  REQUIRE(calm.a_requests > 5e5);
  check_mmc(calm, 4, kLambdaA, t, "partition a, b calm");
  const Observed flooded = run(22, 6.0, true, measured);
  REQUIRE(flooded.a_requests > 5e5);
  check_mmc(flooded, 4, kLambdaA, t, "partition a, b overloaded");
}

TEST_CASE("pooled, the same loads are one M/M/8: shorter waits, until one tenant overloads it") {
  const Duration measured = 200'000_ms;
  const double t = static_cast<double>(measured.ns()) * 1e-6;
  const Observed pooled = run(23, 2.0, false, measured);
  check_mmc(pooled, 8, kLambdaA + 2.0, t, "pooled, b calm");
  // What pooling saves: "a" waits 8 times less than in its own partition of 4 workers.
  const double partition_wait = queueing::mmc_mean_queue(4, kLambdaA, kMu) / kLambdaA;
  CHECK(pooled.mean_wait_ms < partition_wait / 5);
  // What it costs: "b" at 6000/s makes the pool unstable (8800/s for 8000/s of service); over 20
  // s the queue grows by 0.8 per ms, and "a"'s requests wait in it with "b"'s: seconds, not the
  // 0.36 ms of its own partition.
  const Observed overloaded = run(24, 6.0, false, 20'000_ms);
  INFO("pooled with b overloaded: a's mean latency " << overloaded.a_latency_ms << " ms");
  CHECK(overloaded.a_latency_ms > 1000 * partition_wait);
}
