// Clients and servers against queueing theory: open-loop Poisson clients -> a server over a
// zero-latency network are an M/M/1, M/M/c or M/D/1 queue, and the client-seen latency must
// match the textbook sojourn time; closed-loop users are the finite-source (machine repairman)
// queue. Time unit of the formulas: 1 ms (mu = 1/ms is the default mean service of 1ms).
//
// How the tolerances are set. Successive sojourn times are positively correlated, so the sample
// mean of n of them has variance sigma^2 / n where sigma^2, the asymptotic variance constant, is
// Var(T) times the integrated autocorrelation (for M/M/1 at rho = 0.6: 98.7 against Var(T) =
// 6.25). Daley (1968) gives it in closed form for M/M/1 waiting times: rho (2 + 5 rho - 4 rho^2
// + rho^3) / (1 - rho)^4 = 88.5 at rho = 0.6. For the other quantities there is no closed form at
// hand, so the constants below were estimated by batch means (1000 batches of 10^6 customers)
// on an independent program -- the Lindley / Kiefer-Wolfowitz recursions with another random
// generator, not dsim -- which reproduced Daley's constant (87.9 against 88.5; a batch-means
// variance with 1000 batches is itself within +-4.5 %, so each standard error below is known to
// about +-2.5 %).
//
// An estimated quantile q^ of a stationary sequence has standard error SE(F^(q)) / f(q)
// (Bahadur's representation), where F^(q) is the fraction of samples <= q -- a mean of
// indicators, with its own asymptotic variance constant -- and f the density at q. The
// recorder's histogram adds at most 0.05 % of q.
//
// Every comparison allows 4.5 standard errors: a correct model fails one with probability 7e-6,
// while the sample sizes (~10^6 requests) make the standard errors 0.2-0.9 % of the value, so a
// wrong model (a 3 % error in a mean) cannot hide. Seeds are fixed: the results are reproducible.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>

#include "models/clients/closed_loop_client.hpp"
#include "models/clients/open_loop_client.hpp"
#include "models/services/server.hpp"
#include "tests/model_harness.hpp"
#include "tests/validation/queueing_theory.hpp"
#include "tests/validation/statistical_tolerance.hpp"

using namespace sim;
using models::ServerConfig;

namespace {

using queueing::mean_tolerance;
using queueing::quantile_tolerance;

struct Observed {
  double n = 0;        // requests measured (started after warm-up, succeeded)
  double mean_ms = 0;  // client-seen latency
  double p99_ms = 0;
  double server_mean_sojourn_ms = 0;
  double waited_fraction = 0;
  double mean_in_system = 0;
  double little_lambda_w = 0;
  std::uint64_t failed = 0;
};

constexpr Duration kWarmup = 10'000_ms;

Observed observe(dsimtest::ModelHarness& h, const models::Server& server) {
  Observed o;
  o.n = static_cast<double>(h.recorder.latency().count());
  o.mean_ms = h.recorder.latency().mean_ns() * 1e-6;
  o.p99_ms = static_cast<double>(h.recorder.latency().quantile_ns(0.99)) * 1e-6;
  o.server_mean_sojourn_ms = dsimtest::figure(server, "mean_sojourn_ms");
  o.waited_fraction = dsimtest::figure(server, "waited_fraction");
  o.mean_in_system = dsimtest::figure(server, "mean_in_system");
  o.little_lambda_w = dsimtest::figure(server, "little_lambda_w");
  o.failed = h.recorder.totals().failed();
  return o;
}

/// `clients` open-loop Poisson clients of `rate_per_client` per second each -> one server.
Observed run_open_loop(std::uint64_t seed, int clients, double rate_per_client,
                       const ServerConfig& server_config, Duration measured) {
  dsimtest::ModelHarness h(seed, Time::zero() + kWarmup, Time::zero() + kWarmup + measured);
  const models::Server* server = h.build<models::Server>("server", 1, server_config).at(0);
  models::OpenLoopClientConfig client;
  client.rate.per_second = rate_per_client;
  client.call.target.name = "server";
  client.call.timeout = Duration::zero();  // never give up: every request is a sojourn sample
  h.build<models::OpenLoopClient>("client", static_cast<std::size_t>(clients), client);
  h.run();
  return observe(h, *server);
}

void check_close(double observed, double expected, double tolerance, const char* what) {
  INFO(what << ": observed " << observed << ", theory " << expected << ", tolerance +-" << tolerance
            << " (" << 100 * tolerance / expected << " %)");
  CHECK(std::abs(observed - expected) <= tolerance);
}

}  // namespace

TEST_CASE("M/M/1 at rho = 0.6: mean, p99 and waiting probability of the sojourn time") {
  const double lambda = 0.6, mu = 1.0;  // per ms
  const Observed o = run_open_loop(1, 1, 600, ServerConfig{}, 1'700'000_ms);
  REQUIRE(o.n > 1e6);
  CHECK(o.failed == 0);
  // Batch-means constants (see the header): sojourn 98.7; indicator {T <= q99} 0.154; waited 0.942.
  check_close(o.mean_ms, queueing::mm1_mean_sojourn(lambda, mu), mean_tolerance(98.7, o.n),
              "mean sojourn (ms)");
  const double q99 = queueing::mm1_sojourn_quantile(lambda, mu, 0.99);
  const double density = (mu - lambda) * 0.01;  // exponential density at its 99th percentile
  check_close(o.p99_ms, q99, quantile_tolerance(0.154, density, o.n, q99), "p99 sojourn (ms)");
  check_close(o.waited_fraction, lambda / mu, mean_tolerance(0.942, o.n), "P(wait) = rho");
  // With no network delay, the client sees exactly the server's time in system.
  CHECK(o.mean_ms == Approx(o.server_mean_sojourn_ms).epsilon(1e-9));
}

TEST_CASE("M/M/4 at rho = 0.7 (four Poisson clients): Erlang C, mean and p99 sojourn") {
  const int c = 4;
  const double lambda = 2.8, mu = 1.0;
  ServerConfig server;
  server.workers = c;
  // Four clients of 700/s: a superposition of independent Poisson processes is Poisson(2800/s).
  const Observed o = run_open_loop(2, 4, 700, server, 360'000_ms);
  REQUIRE(o.n > 1e6);
  // Batch-means constants: sojourn 23.06; indicator {T <= q99} 0.0907; waited 3.14.
  check_close(o.mean_ms, queueing::mmc_mean_sojourn(c, lambda, mu), mean_tolerance(23.06, o.n),
              "mean sojourn (ms)");
  const double q99 = queueing::mmc_sojourn_quantile(c, lambda, mu, 0.99);
  check_close(
      o.p99_ms, q99,
      quantile_tolerance(0.0907, queueing::mmc_sojourn_density(c, lambda, mu, q99), o.n, q99),
      "p99 sojourn (ms)");
  check_close(o.waited_fraction, queueing::erlang_c(c, lambda, mu), mean_tolerance(3.14, o.n),
              "P(wait) = Erlang C");
}

TEST_CASE("M/D/1 at rho = 0.6: Pollaczek-Khinchine mean sojourn") {
  const double lambda = 0.6, mu = 1.0;
  ServerConfig server;
  server.service_time = Distribution::constant(1e6);  // 1ms
  const Observed o = run_open_loop(3, 1, 600, server, 1'700'000_ms);
  REQUIRE(o.n > 1e6);
  // Batch-means constant of the M/D/1 sojourn at rho = 0.6: 9.11. The deterministic service
  // halves the M/M/1 wait (0.75ms against 1.5ms): a tolerance of 0.014ms tells them apart.
  check_close(o.mean_ms, queueing::md1_mean_sojourn(lambda, mu), mean_tolerance(9.11, o.n),
              "mean sojourn (ms)");
  CHECK(o.p99_ms > 1.0);  // every request takes at least its 1ms of service
}

TEST_CASE("closed loop: 10 users, think 15ms, service 1ms is the machine-repairman queue") {
  const int users = 10;
  const double think = 15, service = 1;  // ms
  dsimtest::ModelHarness h(4, Time::zero() + kWarmup, Time::zero() + kWarmup + 1'800'000_ms);
  const models::Server* server = h.build<models::Server>("server", 1, ServerConfig{}).at(0);
  models::ClosedLoopClientConfig client;
  client.users = users;
  client.think_time = Distribution::exponential(think * 1e6);
  client.call.target.name = "server";
  client.call.timeout = Duration::zero();
  h.build<models::ClosedLoopClient>("client", 1, client);
  h.run();
  const Observed o = observe(h, *server);
  REQUIRE(o.n > 1e6);
  // Batch-means constant of the response time (400 batches of 10^6 requests): 16.96.
  check_close(o.mean_ms, queueing::finite_source_mean_response(users, think, service),
              mean_tolerance(16.96, o.n), "mean response (ms)");
}

TEST_CASE("Little's law holds on the server's own figures, rejections and all") {
  // Two workers, five places to wait, uniform service in [0.2, 2.8] ms, offered 1.8/ms: about
  // 1.35 erlangs per worker, so the queue is often full and many requests are rejected. L and
  // lambda W come from different counters (a time integral against per-request sojourns), so
  // their agreement checks the server's bookkeeping. It is a sample-path identity, not a
  // statistical estimate: they differ only by the requests straddling the interval's ends. At
  // most 7 are in the system at either end, each with a sojourn of at most 7 x 2.8 + 2.8 =
  // 22.4 ms, which bounds L - lambda W by 14 x 22.4 ms / T; and lambda W counts the at most 7
  // admitted requests still in the system at the end with the mean sojourn: 7 x 22.4 ms / T more.
  ServerConfig config;
  config.workers = 2;
  config.queue_limit = 5;
  config.service_time = Distribution::uniform(0.2e6, 2.8e6);
  const Duration measured = 100'000_ms;
  dsimtest::ModelHarness h(5, Time::zero() + kWarmup, Time::zero() + kWarmup + measured);
  const models::Server* server = h.build<models::Server>("server", 1, config).at(0);
  models::OpenLoopClientConfig client;
  client.rate.per_second = 1800;
  client.call.target.name = "server";
  h.build<models::OpenLoopClient>("client", 1, client);
  h.run();
  const double rejected = dsimtest::figure(*server, "rejected");
  CHECK(rejected > 0.1 * dsimtest::figure(*server, "arrivals"));
  CHECK(dsimtest::figure(*server, "max_queue") == 5);
  const double L = dsimtest::figure(*server, "mean_in_system");
  const double lambda_w = dsimtest::figure(*server, "little_lambda_w");
  const double bound = 21 * 22.4e-3 / measured.seconds();
  INFO("L = " << L << ", lambda W = " << lambda_w << ", bound " << bound);
  CHECK(L > 1.0);
  CHECK(std::abs(L - lambda_w) <= bound);
  // And the server's count of rejections is what the clients saw.
  // Rejections are answered at once, so both count the same requests.
  CHECK(static_cast<double>(
            h.recorder.totals().by_outcome[static_cast<int>(models::Outcome::Rejected)]) ==
        rejected);
}
