// The AWS backoff study: Marc Brooker, "Exponential Backoff and Jitter", AWS Architecture Blog,
// 2015. N clients each make one write to one optimistic-concurrency row (read the version,
// write if unchanged; on a conflict back off, then read + write again). The blog's simulator
// used a network delay of |normal(10ms, 2ms)| per message, an instantaneous server, a base of
// 5ms (its exponential waited base x 2^n before retry n: 10, 20, 40 ms ...) and a cap of 2s;
// it counted "calls" (the conditional writes the server received) and the completion time
// (when the last client succeeded), averaged over 100 runs.
//
// Here: the same network, a store serving one request at a time in 100us, dsim's Backoff with
// base 10ms (it waits base x 2^(n-1): the same sequence) and, for decorrelated jitter, base 5ms
// (uniform(base, 3 x previous), as in the blog's code). calls = conditional writes per client
// = RequestRecorder attempts per request.
//
// What dsim gives (mean over 100 seeds; in brackets, an independent re-implementation of the
// blog's simulator in Python, 100 runs each):
//
//   clients  policy        calls/client            completion ms
//   50       no backoff    13.79 (13.82)            1145 (1144)
//   50       exponential   12.45 (12.41)           36285 (36319)
//   50       full jitter    6.67 (6.66)             2915 (2896)
//   50       equal jitter   6.96 (6.94)             4303 (4318)
//   50       decorrelated   7.54 (7.50)             2148 (2230)
//   100      no backoff    24.16 (24.22)            2039 (2023)
//   100      exponential   18.48 (18.64)           63340 (63800)
//   100      full jitter    7.95 (7.95)             4928 (4891)
//   100      equal jitter   8.11 (8.12)             6566 (6625)
//   100      decorrelated  10.04 (10.03)            4490 (4712)
//
// The blog's conclusions, all visible above: the un-jittered approaches do far more work;
// exponential without jitter "takes so much more time" that the blog left it off its graph;
// full and equal jitter do about the same work, decorrelated more; equal jitter takes much
// longer than full; full jitter does less work but takes slightly more time than decorrelated.
// Full jitter needs 0.43 of exponential's calls at 100 clients but 0.54 at 50 -- in the blog's
// own model too (0.54): "less than half" holds from about 60 clients on, so at 50 the bound
// tested is 0.6. Full jitter completes 12.4x (50) and 12.9x (100) sooner than exponential.
//
// Seeds: each comparison is of means over kSeeds = 20 fixed seeds. The per-seed standard
// deviations (100 seeds) are 0.1 - 0.6 calls and 0.04 - 3.7 s, so the standard error of a
// mean over 20 seeds is at most 1.0 % of calls and 5 % of completion time; every bound below
// sits at least 7 standard errors from the observed value (the decorrelated-versus-full time
// at 50 clients: 4.7; at 100 clients that gap is 2.3 standard errors, too close to test),
// while a broken jitter (calls equal to exponential's) misses it by far.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>

#include "models/contention/occ_client.hpp"
#include "models/contention/occ_store.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "tests/model_harness.hpp"

using namespace sim;
using models::BackoffKind;
using models::Jitter;

namespace {

constexpr int kSeeds = 20;

enum Policy { kNone, kExponential, kFull, kEqual, kDecorrelated, kPolicies };
constexpr std::array<const char*, kPolicies> kPolicyNames{"no backoff", "exponential", "full",
                                                          "equal", "decorrelated"};

models::BackoffConfig backoff_of(Policy policy) {
  models::BackoffConfig b{.kind = BackoffKind::Exponential,
                          .base = 10_ms,
                          .multiplier = 2,
                          .cap = 2'000_ms,
                          .jitter = Jitter::None};
  switch (policy) {
    case kNone:
      b.kind = BackoffKind::None;
      break;
    case kExponential:
      break;
    case kFull:
      b.jitter = Jitter::Full;
      break;
    case kEqual:
      b.jitter = Jitter::Equal;
      break;
    case kDecorrelated:
      b.jitter = Jitter::Decorrelated;
      b.base = 5_ms;
      break;
    case kPolicies:
      break;
  }
  return b;
}

struct Result {
  double calls = 0;  // conditional writes per client
  double completion_ms = 0;
};

/// One run: `clients` OCC clients start at 0 and each make one write; returns the calls per
/// client and when the last one finished.
Result run_once(int clients, Policy policy, std::uint64_t seed) {
  const Time end = Time::zero() + 600'000_ms;
  dsimtest::ModelHarness h(seed, Time::zero(), end, 60'000_ms);
  LinkSpec link;
  link.latency = Distribution::normal(10e6, 2e6);
  h.cluster.network().set_default_link(link);
  models::OccStoreConfig store;
  store.service_time = Distribution::constant(100e3);
  h.build<models::OccStore>("store", 1, store);
  models::OccClientConfig config;
  config.target = {"store"};
  config.retry.backoff = backoff_of(policy);
  const auto built =
      h.build<models::OccClient>("clients", static_cast<std::size_t>(clients), config);
  h.run();
  Time last = Time::zero();
  for (const models::OccClient* c : built) {
    REQUIRE(c->writes_done() == 1);
    last = std::max(last, c->finished_at());
  }
  REQUIRE(h.recorder.totals().succeeded() == static_cast<std::uint64_t>(clients));
  return {static_cast<double>(h.recorder.totals().attempts) / clients,
          (last - Time::zero()).millis()};
}

/// Means over seeds 1..kSeeds (the same seeds for every policy: common random numbers).
std::array<Result, kPolicies> study(int clients) {
  std::array<Result, kPolicies> mean{};
  for (int p = 0; p < kPolicies; ++p) {
    for (std::uint64_t seed = 1; seed <= kSeeds; ++seed) {
      const Result r = run_once(clients, static_cast<Policy>(p), seed);
      mean[p].calls += r.calls / kSeeds;
      mean[p].completion_ms += r.completion_ms / kSeeds;
    }
  }
  return mean;
}

/// The table, for a failure's report.
std::string table(const std::array<Result, kPolicies>& m) {
  std::string out;
  for (int p = 0; p < kPolicies; ++p)
    out += std::string(kPolicyNames[p]) + ": " + std::to_string(m[p].calls) + " calls/client, " +
           std::to_string(m[p].completion_ms) + " ms\n";
  return out;
}

void check_blog_ordering(const std::array<Result, kPolicies>& m) {
  // Work: both un-jittered approaches do far more than any jittered one.
  const double worst_jittered = std::max({m[kFull].calls, m[kEqual].calls, m[kDecorrelated].calls});
  CHECK(m[kNone].calls > 1.4 * worst_jittered);
  CHECK(m[kExponential].calls > 1.4 * worst_jittered);
  // Full jitter does the least work; equal is close to it ("approximately the same");
  // decorrelated does more than full.
  CHECK(m[kFull].calls < m[kEqual].calls);
  CHECK(m[kEqual].calls < 1.1 * m[kFull].calls);
  CHECK(m[kFull].calls < m[kDecorrelated].calls);
  // Time: un-jittered exponential is the clear loser, by far; equal jitter takes longer than
  // full.
  for (const Policy p : {kNone, kFull, kEqual, kDecorrelated})
    CHECK(m[kExponential].completion_ms > 5 * m[p].completion_ms);
  CHECK(m[kEqual].completion_ms > 1.15 * m[kFull].completion_ms);
}

}  // namespace

TEST_CASE("aws backoff study, 50 clients: jitter cuts the work by half and the time by 8x") {
  const auto m = study(50);
  INFO(table(m));
  CHECK(m[kFull].calls < 0.6 * m[kExponential].calls);                // observed 0.54
  CHECK(m[kFull].calls < 0.5 * m[kNone].calls);                       // observed 0.48
  CHECK(m[kExponential].completion_ms > 8 * m[kFull].completion_ms);  // observed 12.4x
  check_blog_ordering(m);
  // Decorrelated finishes sooner than full jitter (observed 2148 against 2915 ms).
  CHECK(m[kDecorrelated].completion_ms < m[kFull].completion_ms);
}

TEST_CASE("aws backoff study, 100 clients: full jitter needs less than half the calls") {
  const auto m = study(100);
  INFO(table(m));
  CHECK(m[kFull].calls < 0.5 * m[kExponential].calls);                // observed 0.43
  CHECK(m[kFull].calls < 0.4 * m[kNone].calls);                       // observed 0.33
  CHECK(m[kExponential].completion_ms > 8 * m[kFull].completion_ms);  // observed 12.9x
  check_blog_ordering(m);
}

TEST_CASE("aws backoff study: the library scenario teaches the same lesson") {
  // scenarios/aws-backoff.json, every variant over its own seeds: attempts per request are the
  // calls per client, completion_time_ms the time the last client finished.
  const auto file = scenario::load_scenario_file(
      (std::filesystem::path(DSIM_SOURCE_DIR) / "scenarios/aws-backoff.json").string());
  std::map<std::string, Result> mean;
  for (const auto& variant : file.variants) {
    for (const std::uint64_t seed : variant.seeds) {
      const scenario::RunResult run = scenario::run_scenario(variant, seed);
      const auto& totals = run.requests.totals();
      REQUIRE(totals.succeeded() == 50);  // every client finished within the duration
      double completion = 0;
      for (const auto& component : run.components)
        for (const auto& f : component.figures)
          if (f.name == "completion_time_ms") completion = f.value;
      const auto k = static_cast<double>(variant.seeds.size());
      mean[variant.variant].calls += static_cast<double>(totals.attempts) / 50.0 / k;
      mean[variant.variant].completion_ms += completion / k;
    }
  }
  REQUIRE(mean.size() == 5);
  const Result exponential = mean.at("exponential");
  for (const char* jittered : {"full-jitter", "equal-jitter", "decorrelated-jitter"}) {
    INFO(jittered);
    CHECK(mean.at(jittered).calls < 0.65 * exponential.calls);
    CHECK(mean.at(jittered).calls < 0.6 * mean.at("no-backoff").calls);
    CHECK(mean.at(jittered).completion_ms * 5 < exponential.completion_ms);
  }
}
