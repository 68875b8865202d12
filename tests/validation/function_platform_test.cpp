// The cold-start fraction of a function with one instance, against the Poisson law.
//
// Set-up: one instance allowed (account_concurrency 1), Poisson invocations at rate lambda
// (an open-loop client, zero network latency), keep-alive T, constant execution time s and
// constant cold start c0, both much shorter than T.
//
// Derivation. While the instance executes (or starts), a further arrival finds no free slot and
// no room for a second instance: it is throttled. So the invocations that run form a sequence in
// which each begins at the first arrival after the previous one ended (its end e is the end of
// its execution). That arrival finds the instance
//   warm  if it comes less than T after e (the instance is idle since e and expires at e + T),
//   cold  otherwise (the instance was reclaimed at e + T; an arrival at exactly e + T is cold).
// The time from e to the next arrival is Exp(lambda), whatever happened before e (Poisson
// arrivals are memoryless and e is a stopping time), so each invocation is cold independently
// with probability exactly
//   p = P(Exp(lambda) >= T) = e^(-lambda T).
// Counted over all arrivals instead, the throttled ones dilute it: per invocation, the arrivals
// throttled during it are Poisson(lambda (s + c0 [cold])), so
//   throttled / invocations = lambda (s + c0 p),
//   cold / arrivals = p / (1 + lambda (s + c0 p)) ~ e^(-lambda (T + s)) for small lambda s, c0:
// the textbook "an arrival is cold iff the gap to the previous arrival exceeds T + s" is this
// first-order form. We choose lambda s <= 0.025 and check both exact statements.
//
// Tolerance. The cold indicators are i.i.d. Bernoulli(p) (above), so the cold fraction over n
// invocations has standard error sqrt(p (1 - p) / n). The throttled count per invocation has
// variance lambda (s + c0 p) + (lambda c0)^2 p (1 - p) (Poisson given cold-or-warm, plus the
// mixing), i.i.d. too, so throttled / n has standard error sqrt(that / n). We allow 4 standard
// errors (a false alarm with probability 6e-5 per comparison). With ~20,000 invocations the
// standard error of p is ~0.0035. An expiry counted from the start of the execution instead of
// its end (at e + T - s) would raise p by about lambda s p: 0.015 in the case lambda = 0.5/s,
// s = 50 ms, over 4 standard errors; using e^(-lambda (T + s)) for the fraction over
// invocations, or forgetting the throttled arrivals, would be off by the same order.
#include <catch2/catch.hpp>

#include <cmath>

#include "models/clients/open_loop_client.hpp"
#include "models/functions/function_platform.hpp"
#include "tests/model_harness.hpp"

using namespace sim;

namespace {

struct Case {
  double lambda;  // arrivals per second
  Duration keep_alive, service, cold_start;
  std::int64_t seconds;  // measured
};

}  // namespace

TEST_CASE("function: the cold-start fraction of one instance is e^(-lambda T)", "[function]") {
  for (const Case c : {Case{1, 500_ms, 5_ms, 20_ms, 20'000}, Case{1, 2_s, 5_ms, 20_ms, 20'000},
                       Case{5, 200_ms, 5_ms, 1_ms, 4'000}, Case{0.5, 1_s, 50_ms, 20_ms, 40'000},
                       Case{2, 1_s, 1_ms, 100_ms, 10'000}}) {
    const double p = std::exp(-c.lambda * c.keep_alive.seconds());
    const double throttle_rate = c.lambda * (c.service.seconds() + c.cold_start.seconds() * p);
    INFO("lambda " << c.lambda << "/s, T " << c.keep_alive.seconds() << " s, s "
                   << c.service.seconds() << " s: theory p = " << p);

    dsimtest::ModelHarness h(17, Time::zero() + 100_s, Time::zero() + 100_s + 1_s * c.seconds);
    models::FunctionPlatformConfig function;
    function.account_concurrency = 1;
    function.keep_alive = c.keep_alive;
    function.service_time = Distribution::constant(static_cast<double>(c.service.ns()));
    function.cold_start = Distribution::constant(static_cast<double>(c.cold_start.ns()));
    models::FunctionPlatform* platform =
        h.build<models::FunctionPlatform>("function", 1, function).at(0);
    models::OpenLoopClientConfig client;
    client.rate.per_second = c.lambda;
    client.call.target.name = "function";
    client.call.timeout = Duration::zero();  // wait for every answer
    h.build<models::OpenLoopClient>("client", 1, client);
    h.run();

    const double n = dsimtest::figure(*platform, "invocations");
    const double cold = dsimtest::figure(*platform, "cold_starts");
    const double throttled = dsimtest::figure(*platform, "throttled");
    const double se_cold = std::sqrt(p * (1 - p) / n);
    const double lc = c.lambda * c.cold_start.seconds();
    const double se_throttled = std::sqrt((throttle_rate + lc * lc * p * (1 - p)) / n);
    INFO("measured " << cold / n << " over " << n << " invocations (SE " << se_cold
                     << "), throttled per invocation " << throttled / n << " (theory "
                     << throttle_rate << ", SE " << se_throttled << "), cold per arrival "
                     << cold / (n + throttled) << " (theory " << p / (1 + throttle_rate)
                     << ", first order e^(-lambda (T + s)) "
                     << std::exp(-c.lambda * (c.keep_alive + c.service).seconds()) << ")");
    CHECK(n > 0.9 * c.lambda * static_cast<double>(c.seconds));
    CHECK(std::abs(cold / n - p) < 4 * se_cold);
    CHECK(std::abs(throttled / n - throttle_rate) < 4 * se_throttled);
    CHECK(dsimtest::figure(*platform, "cold_start_fraction") == cold / n);
    CHECK(dsimtest::figure(*platform, "peak_instances") == 1);
  }
}
