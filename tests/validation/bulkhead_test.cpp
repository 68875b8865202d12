// Bulkheads against their exact and closed-form results: the cap on a slow dependency's share of
// a gateway's workers (a sample-path argument, no tolerance), and the share of calls a
// fail-fast bulkhead rejects (Erlang's loss formula).
//
// 1. The cap. A gateway with W = 20 workers serves reads (operation 0) from a healthy server
//    (1 ms per request) and writes (operation 1) from a slow one (1 s per request, 100 workers:
//    it never queues). Reads arrive evenly every 2 ms, writes as a Poisson stream of 50/s: 50
//    erlangs offered to the slow dependency, far more than W. The network has no latency.
//    - With a fail-fast bulkhead of m = 5 on the slow dependency: the slow dependency's calls
//      hold at most m workers (each holds a permit; a refused request is answered at once and
//      frees its worker at that instant); a read holds a worker for exactly 1 ms and reads come
//      2 ms apart, so at most one read holds a worker at any time. Hence at most m + 1 = 6 < W
//      workers are ever busy: every request finds a free worker, nothing queues, and every read
//      is answered Ok in exactly 1 ms -- its latency without the slow dependency (the healthy
//      run below, where the second server takes 1 ms too). At 50 erlangs the m permits are all
//      held most of the time, so the maximum is m exactly, not less.
//    - Without it: writes arrive at 50/s and each holds a worker 1 s, so after ~0.4 s all W
//      workers are held by writes (the maximum is W) and the pool serves 20 writes/s of 50: the
//      queue grows without bound, reads wait behind writes and time out (200 ms).
// 2. Erlang B. Calls that find all m permits held are refused (max_wait 0): with Poisson
//    arrivals at rate lambda and a hold time T, the bulkhead is an M/G/m/m loss system, and the
//    share refused is Erlang's B(m, lambda T), whatever the distribution of the hold time
//    (insensitivity). Here T is exactly 10 ms (a constant service time, at most m calls in a
//    server of m workers so none queues, no network latency), lambda = 500/s: a = 5 erlangs,
//    m = 5, B = 0.28487. The tolerance: the refused share of n arrivals is a mean of correlated
//    indicators with variance sigma^2 / n, where sigma^2 = 0.211 for M/D/5/5 at a = 5, estimated
//    by batch means (1000 batches of 10^5 arrivals) on an independent program (its own loop
//    and std::mt19937_64; it reproduced B = 0.28488), known to about +-4.5 %. With n ~ 5 x 10^5
//    arrivals the standard error is 6.5e-4; we allow 4.5 of them (statistical_tolerance.hpp):
//    0.0029, 1 % of B, while a bulkhead admitting one call too many (B(6, 5) = 0.192) or too
//    few (B(4, 5) = 0.398) is 30 standard errors away.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "models/shared/rpc.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "tests/run_figures.hpp"
#include "tests/validation/statistical_tolerance.hpp"

namespace {

using dsimtest::figure;

const models::GroupStats& group(const scenario::RunResult& r, const std::string& name) {
  for (const auto& g : r.requests.groups())
    if (g.name == name) return g;
  FAIL("no group " << name);
  return r.requests.groups().front();
}

/// bulkhead: "" (none) or the JSON of the slow dependency's bulkhead; slow: its service time.
scenario::RunResult run_gateway(const std::string& bulkhead, const std::string& slow) {
  const std::string text = R"({
    "name": "bulkhead-cap", "duration": "22s", "warmup": "2s",
    "components": {
      "healthy": {"model": "server", "workers": 10,
                  "service_time": {"dist": "constant", "value": "1ms"}},
      "slow": {"model": "server", "workers": 100,
               "service_time": {"dist": "constant", "value": ")" +
                           slow + R"("}},
      "gateway": {"model": "gateway", "workers": 20, "dependencies": [
        {"operation": 0, "target": "healthy", "timeout": "1s"},
        {"operation": 1, "target": "slow", "timeout": "5s")" +
                           (bulkhead.empty() ? "" : ", \"bulkhead\": " + bulkhead) + R"(}]},
      "reads": {"model": "open_loop_client", "rate": "500/s", "arrivals": "constant",
                "target": "gateway", "timeout": "200ms"},
      "writes": {"model": "open_loop_client", "rate": "50/s", "write_fraction": 1,
                 "target": "gateway", "timeout": "5s"}
    }
  })";
  const auto file = scenario::load_scenario_text(text, "bulkhead-cap.json");
  return scenario::run_scenario(file.variants.front(), 1);
}

double availability(const models::GroupStats& g) {
  return static_cast<double>(g.counts.succeeded()) / static_cast<double>(g.counts.requests);
}

}  // namespace

TEST_CASE("a bulkhead caps a slow dependency's share of the workers exactly") {
  const scenario::RunResult healthy = run_gateway("", "1ms");
  const scenario::RunResult capped = run_gateway(R"({"max_concurrent": 5})", "1s");
  const scenario::RunResult uncapped = run_gateway("", "1s");

  // Without the fault: reads take exactly 1 ms.
  const models::GroupStats& base = group(healthy, "reads");
  REQUIRE(base.counts.requests > 9000);
  CHECK(availability(base) == 1.0);
  CHECK(figure(healthy, "gateway", "dependency_latency_max[0]") == Approx(1.0));

  SECTION("with the bulkhead: at most m workers, exactly m at the peak, reads untouched") {
    CHECK(figure(capped, "gateway", "workers_held_max[1]") == 5);
    CHECK(figure(capped, "gateway", "bulkhead_max_concurrent") == 5);
    CHECK(figure(capped, "gateway", "busy_max") <= 6);
    CHECK(figure(capped, "gateway", "queued_max") == 0);
    CHECK(figure(capped, "gateway", "bulkhead_rejected") > 0);
    const models::GroupStats& reads = group(capped, "reads");
    CHECK(reads.counts.requests == base.counts.requests);
    CHECK(availability(reads) == 1.0);
    CHECK(figure(capped, "gateway", "dependency_failures[0]") == 0);
    // The same latency as without the fault, read for read: every one took exactly 1 ms.
    CHECK(reads.latency.max_ns() == base.latency.max_ns());
    CHECK(reads.latency.mean_ns() == base.latency.mean_ns());
    CHECK(figure(capped, "gateway", "dependency_latency_max[0]") ==
          figure(healthy, "gateway", "dependency_latency_max[0]"));
    // The slow dependency's own requests: those admitted succeed (1 s), the others fail fast.
    CHECK(figure(capped, "gateway", "dependency_failures[1]") ==
          figure(capped, "gateway", "bulkhead_rejected"));
  }
  SECTION("without it: the slow dependency holds every worker and the reads fail") {
    CHECK(figure(uncapped, "gateway", "workers_held_max[1]") == 20);
    CHECK(figure(uncapped, "gateway", "workers_held_mean[1]") > 19);
    CHECK(figure(uncapped, "gateway", "queued_max") > 100);
    const models::GroupStats& reads = group(uncapped, "reads");
    INFO("reads' availability without a bulkhead: " << availability(reads));
    CHECK(availability(reads) < 0.05);
    CHECK(figure(uncapped, "gateway", "expired_before_call") > 0);
  }
}

TEST_CASE("a fail-fast bulkhead refuses the Erlang B share of Poisson calls") {
  const std::string text = R"({
    "name": "bulkhead-erlang-b", "duration": "1002s", "warmup": "2s",
    "components": {
      "backend": {"model": "server", "workers": 5,
                  "service_time": {"dist": "constant", "value": "10ms"}},
      "gateway": {"model": "gateway", "workers": 20, "dependencies": [
        {"target": "backend", "timeout": "1s", "bulkhead": {"max_concurrent": 5}}]},
      "client": {"model": "open_loop_client", "rate": "500/s", "target": "gateway",
                 "timeout": "1s"}
    }
  })";
  const auto file = scenario::load_scenario_text(text, "bulkhead-erlang-b.json");
  const scenario::RunResult r = scenario::run_scenario(file.variants.front(), 3);
  const double n = figure(r, "gateway", "dependency_requests[0]");
  const double refused = figure(r, "gateway", "bulkhead_rejected");
  REQUIRE(n > 4.9e5);
  // Erlang B by its stable recursion B(k) = a B(k-1) / (k + a B(k-1)).
  const double a = 500 * 0.010;
  double erlang_b = 1;
  for (int k = 1; k <= 5; ++k) erlang_b = a * erlang_b / (k + a * erlang_b);
  const double tolerance = queueing::mean_tolerance(0.211, n);
  INFO("refused " << refused / n << ", Erlang B " << erlang_b << " +- " << tolerance);
  CHECK(std::abs(refused / n - erlang_b) <= tolerance);
  // Every refusal reaches the client as a failure, and nothing else fails.
  CHECK(static_cast<double>(r.requests.totals().failed()) == refused);
  CHECK(figure(r, "gateway", "workers_held_max[0]") == 5);
  CHECK(figure(r, "gateway", "queued_max") == 0);
}
