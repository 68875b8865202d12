// Leader-follower replication against what can be known without the simulator:
// 1. Asynchronous replication loses exactly the acknowledged writes that no surviving replica
//    had when the leader died -- predicted from the timing alone (those the leader acknowledged
//    within one replication lag of its crash), looked up in the new leader's log, and compared
//    with the consistency checker's count.
// 2. Synchronous replication, and semi-synchronous with a majority, lose nothing across many
//    seeds of leader crashes (an entry a majority holds survives Raft's election).
// 3. Staleness against the time since the write, in closed form. Asynchronous replication with
//    a lag L and one-way delays D ~ exponential(mean m), reads served by a replica picked
//    uniformly among N: a read at time t after the leader acknowledged the last write is stale
//    iff its replica is a follower (probability (N - 1) / N) that has not applied the write yet
//    (the leader ships it at L, it arrives after D: P(L + D > t)). So
//      P(stale | t) = (N - 1) / N                    for t < L,
//                   = (N - 1) / N * exp(-(t - L) / m) for t >= L,
//    averaged over an age bucket [a, b) (ages spread evenly within it) for the comparison.
//    The derivation assumes writes far apart (one per second against m = 5 ms: an earlier entry
//    still in flight when the next is written has probability under 1e-3).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>
#include <string>

#include "models/replication/leader_follower_store.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "sim/rng.hpp"
#include "tests/run_figures.hpp"
#include "tests/store_bench.hpp"
#include "tests/test_time.hpp"
#include "tests/validation/statistical_tolerance.hpp"

using namespace sim;

namespace {

scenario::RunResult run_text(const std::string& text, std::uint64_t seed) {
  const auto file = scenario::load_scenario_text(text, "replication.json");
  return scenario::run_scenario(file.variants.front(), seed);
}

double fig(const scenario::RunResult& run, const char* component, const std::string& name) {
  return dsimtest::figure(run, component, name);
}

// Compares the store's P(stale | age) in its first `buckets` age buckets of `width` ms with
// expected(a, b), the closed form averaged over the ages [a, b); returns the largest difference.
// The reads after one write share its arrival times at the replicas, so they are not independent
// trials: each write is one trial of a bucket's mean (its variance at most p(1 - p)), and the
// writes are independent: 4.5 standard errors over the writes acknowledged.
template <class Expected>
double compare_staleness(const scenario::RunResult& run, int buckets, double width,
                         Expected expected) {
  const double writes = fig(run, "store", "writes_acked");
  REQUIRE(writes > 500);
  double worst = 0;
  for (int i = 0; i < buckets; ++i) {
    const std::string idx = "[" + std::to_string(i) + "]";
    const double reads = fig(run, "store", "reads_at_age" + idx);
    const double stale = fig(run, "store", "stale_at_age" + idx);
    REQUIRE(reads > 1000);  // about 2 reads per ms of age per write, 600 writes
    const double p = expected(i * width, (i + 1) * width);
    CHECK(std::abs(stale / reads - p) <= queueing::proportion_tolerance(p, writes));
    worst = std::max(worst, std::abs(stale / reads - p));
  }
  return worst;
}

// One key, written once a second on average and read 2000 times a second at random replicas,
// for 600 s; the checker's age buckets 2 ms wide. `store` is the store's JSON object.
std::string one_key_text(const std::string& store) {
  return R"({
    "name": "staleness", "duration": "600s", "warmup": "5s",
    "network": {"latency": {"dist": "exponential", "mean": "5ms"}},
    "components": {
      "store": )" +
         store + R"(,
      "clients": {"model": "open_loop_client", "rate": "2000/s", "target": "store",
                  "keys": 1, "write_fraction": 0.0005, "timeout": "1s"}
    }
  })";
}
}  // namespace

TEST_CASE("async replication: P(stale) against the time since the write, in closed form") {
  // N = 3, L = 10 ms, one-way delays exponential with mean 5 ms, reads at any replica.
  const scenario::RunResult run =
      run_text(one_key_text(R"({"model": "leader_follower_store", "count": 3, "keys": 1,
                       "replication": "async", "replication_lag": "10ms", "read_from": "any",
                       "checker": {"age_bucket": "2ms", "age_buckets": 20}})"),
               1);
  const double n = 3, lag = 10, m = 5;
  const double worst = compare_staleness(run, 15, 2, [&](double a, double b) {
    // The bucket average of P(stale | t): flat before L, exponential after.
    const double flat = std::max(0.0, std::min(b, lag) - a);
    const double tail =
        b > lag ? m * (std::exp(-(std::max(a, lag) - lag) / m) - std::exp(-(b - lag) / m)) : 0.0;
    return (n - 1) / n * (flat + tail) / (b - a);
  });
  std::printf("staleness: 15 age buckets of 2 ms within %.3f of the closed form\n", worst);
  CHECK(fig(run, "store", "lost_writes") == 0);
}

namespace {

struct LossTrial {
  std::uint64_t predicted = 0;  // acknowledged in (crash - L, crash]: never shipped
  std::uint64_t missing = 0;    // acknowledged, and absent from the new leader's log
  std::uint64_t checker = 0;    // the consistency checker's lost_writes
  std::uint64_t acked = 0;
};

// Three replicas on 1 ms links; once a leader is elected, keys 0 .. 999 are written to it one per
// millisecond (each key once); the leader crashes for good at a seeded moment between two writes'
// arrivals; the survivors elect a new leader, whose log is searched for every write.
LossTrial loss_trial(models::ReplicationMode mode, std::uint64_t seed) {
  models::LeaderFollowerStoreConfig c;
  c.replication = mode;
  c.keys = 1000;
  c.replication_lag = 30_ms;
  dsimtest::StoreBench<models::LeaderFollowerStore> b(c, 3, seed);
  b.run_until(at_ms(2'000));
  const std::size_t leader = b.leader();
  REQUIRE(leader < 3);
  for (std::uint64_t k = 0; k < 1000; ++k)
    b.send(at_ms(2'000 + k), leader, k + 1, models::kOpWrite, k);
  sim::Rng rng(seed);
  // Writes arrive at 2001, 2002, ... ms; the crash falls half-way between two arrivals.
  const sim::Time crash =
      at_ms(2'100) +
      sim::Duration::nanoseconds(static_cast<std::int64_t>(rng.below(800)) * 1'000'000 + 500'000);
  b.h.faults.crash(crash, b.id(leader));
  b.run_until(at_ms(8'000));
  const std::size_t next = b.leader();
  REQUIRE(next < 3);
  LossTrial t;
  for (std::uint64_t k = 0; k < 1000; ++k) {
    const auto* a = b.client->answer(k + 1);
    if (a == nullptr || a->outcome != models::Outcome::Ok) continue;
    ++t.acked;
    const sim::Time appended = at_ms(2'001 + k);
    t.predicted += appended > crash - c.replication_lag && appended <= crash;
    const models::ReplicationLog& log = b.stores[next]->log();
    t.missing += log.term_at(models::ReplicationLog::index_of(a->value)) !=
                 models::ReplicationLog::term_of(a->value);
  }
  t.checker = static_cast<std::uint64_t>(b.figure("lost_writes"));
  return t;
}

}  // namespace

TEST_CASE("async replication loses exactly the acknowledged writes not yet shipped") {
  // With asynchronous replication the leader acknowledges at once and ships L = 30 ms later: the
  // writes it acknowledged in the last L before it died reached nobody (those shipped earlier
  // were on the wire, and arrive). Counted three ways, which must agree for every seed: that
  // prediction, what the new leader's table lacks, and the checker's ground truth.
  std::uint64_t total = 0;
  for (std::uint64_t seed = 1; seed <= 20; ++seed) {
    const LossTrial t = loss_trial(models::ReplicationMode::Async, seed);
    INFO("seed " << seed);
    CHECK(t.predicted == 30);  // one write a millisecond for 30 ms
    CHECK(t.missing == t.predicted);
    CHECK(t.checker == t.predicted);
    total += t.checker;
  }
  CHECK(total == 20 * 30);
}

TEST_CASE("sync and majority semi-sync replication lose no acknowledged write") {
  // An acknowledged write is on every follower (sync) or on one of two (semi_sync, sync_acks 1:
  // with the leader, a majority of three), and Raft's election only lets a replica at least as
  // up to date as a majority win: the new leader has it.
  for (const auto mode : {models::ReplicationMode::Sync, models::ReplicationMode::SemiSync}) {
    std::uint64_t acked = 0;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
      const LossTrial t = loss_trial(mode, seed);
      INFO("mode " << static_cast<int>(mode) << " seed " << seed);
      CHECK(t.missing == 0);
      CHECK(t.checker == 0);
      acked += t.acked;
    }
    CHECK(acked > 20 * 100);  // not vacuous: writes were acknowledged before the crashes
  }
}

TEST_CASE("quorum store, R = W = 1: P(stale) against the time since the write, in closed form") {
  // N = 3 on 3 nodes: every node is a replica of the key. A write's coordinator writes its own
  // copy and, W = 1, acknowledges at once; the other two replicas get it after a one-way delay
  // D ~ exponential(mean m). A read's coordinator (uniform among the 3) answers from its own copy
  // at once (R = 1): stale iff it is not the write's coordinator (2/3) and D > t. So
  //   P(stale | t) = 2/3 * exp(-t / m),
  // without read repair (a repair triggered by an earlier stale read would race the write).
  const scenario::RunResult run = run_text(
      one_key_text(R"({"model": "quorum_store", "count": 3, "replication_factor": 3, "keys": 1,
                       "read_quorum": 1, "write_quorum": 1, "read_repair": false,
                       "checker": {"age_bucket": "2ms", "age_buckets": 20}})"),
      1);
  const double m = 5;
  const double worst = compare_staleness(run, 12, 2, [&](double a, double b) {
    return 2.0 / 3.0 * m * (std::exp(-a / m) - std::exp(-b / m)) / (b - a);
  });
  std::printf("quorum store staleness: 12 age buckets of 2 ms within %.3f of the closed form\n",
              worst);
}

TEST_CASE("quorum store: a majority is up as often as independent failures predict") {
  // Every node fails after an exponential time (mean 60 s) and is repaired after another (mean
  // 10 s): up a = 6/7 of the time, independently. The store's quorum_up_fraction (its ghost's
  // view of which replicas are up) must match sum_{k > n/2} C(n, k) a^k (1 - a)^(n-k). The
  // tolerance is failure_process_test.cpp's spectral-gap bound: variance at most
  // 2 p (1 - p) / (g T), g = 1/60 + 1/10 per second, T the measured time.
  for (const int n : {3, 5}) {
    const std::string text = R"({
      "name": "quorum-availability", "duration": "100000s", "report": {"window": "1000s"},
      "components": {
        "store": {"model": "quorum_store", "count": )" +
                             std::to_string(n) + R"(, "replication_factor": 3, "keys": 1}
      },
      "faults": [{"action": "failures", "target": "store",
                  "time_to_failure": {"dist": "exponential", "mean": "60s"},
                  "time_to_repair": {"dist": "exponential", "mean": "10s"}}]
    })";
    const scenario::RunResult run = run_text(text, 7);
    const double a = 60.0 / 70.0;
    double p = 0;
    for (int k = n / 2 + 1; k <= n; ++k)
      p += std::tgamma(n + 1) / (std::tgamma(k + 1) * std::tgamma(n - k + 1)) * std::pow(a, k) *
           std::pow(1 - a, n - k);
    const double g = 1.0 / 60 + 1.0 / 10, seconds = 100000;
    const double tolerance = queueing::kStandardErrors * std::sqrt(2 * p * (1 - p) / (g * seconds));
    const double measured = fig(run, "store", "quorum_up_fraction");
    std::printf("majority of %d up: %.5f (theory %.5f, tolerance %.4f)\n", n, measured, p,
                tolerance);
    CHECK(std::abs(measured - p) <= tolerance);
  }
}
