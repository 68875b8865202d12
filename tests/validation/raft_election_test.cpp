// Raft's leader election against Figure 16 of Ongaro and Ousterhout, "In Search of an
// Understandable Consensus Algorithm" (USENIX ATC 2014, section 9.3; the thesis repeats it as
// Figure 9.8), and against "at most one leader per term" over 10^4 runs full of faults.
//
// What the paper reports. Five servers, a broadcast time of about 15 ms ("network round trip
// plus disk write", thesis), the leader crashed uniformly at random within its heartbeat
// interval, which is half the minimum election timeout, and the time measured until a new
// leader is established; 1000 trials per line (100 for 150-150 ms). Its text gives these
// numbers: with no randomness (150-150 ms) election "consistently took longer than 10 seconds"
// (split votes); 5 ms of randomness (150-155 ms) gives a median downtime of 287 ms; with 50 ms
// (150-200 ms) the worst of 1000 trials took 513 ms; with 12-24 ms timeouts the mean is 35 ms and
// the longest trial 152 ms; "lowering the timeouts beyond this point violates Raft's timing
// requirement"; 150-300 ms is recommended. Its medians and tails for the other lines exist only
// as curves in the figure, and two things make its setup differ from dsim's: two of the four
// surviving servers had logs too short to win (an election won by one of them is impossible,
// and a candidacy of one of them costs a round), and its 15 ms were mostly a disk write on the
// voter (a RequestVote crossed its LAN in well under a millisecond), whereas here the whole
// broadcast time is in the network, so a candidate's request needs half of it to reach the
// others: the window in which a second candidate splits the vote is 50 times wider.
//
// So the validation is twofold:
// 1. Against first principles, exactly: with a constant one-way delay d, the election after a
//    crash is a race whose first round can be solved in closed form (derivation at
//    first_round_cdf below). Checked for 150-300 (median and p99), 150-200, 100-200, 50-100,
//    25-50 and 12-24 ms (the paper's bottom graph, as far as the broadcast time allows), and for
//    150-151 and 150-155 ms, where every first round splits and the tail is long.
// 2. Against the paper's own claims and numbers, on the library scenario's network (one-way
//    uniform in 5-10 ms: a 15 ms round trip), with what differs and why.
// 3. Under the paper's conditions (the leader crasher's distinct_logs, and a request that takes
//    2-5 ms one way): its published median (150-155 ms), worst case (150-200 ms) and mean and
//    worst case (12-24 ms), all four at once.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "models/election/leader_crasher.hpp"
#include "models/election/raft_node.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "sim/rng.hpp"
#include "tests/model_harness.hpp"
#include "tests/run_figures.hpp"
#include "tests/test_time.hpp"

using namespace sim;

namespace {

// ---- first principles --------------------------------------------------------------------------
//
// Five servers, the leader crashed, four survivors; one-way delay d, constant. Put the leader's
// last heartbeat at time 0 and the crash at U, uniform in [0, H) (H the heartbeat interval). Each
// survivor received the heartbeat at d and drew its timeout T_i uniformly from [a, a + w]; it
// fires at d + T_i. Let T(1) < T(2) < T(3) < T(4). The first, c, asks everyone at d + T(1);
// its request reaches them all at d + T(1) + d. A survivor whose timer fired before that is a
// candidate of the same term and refuses; every other one votes for c (its request is the first
// to arrive: the others' left later). c needs 2 of the 3 others, so it wins the first round if
// and only if T(3) - T(1) > d. The votes reach it at T(1) + 3d, its first heartbeat reaches the
// others (a majority accepts it: established) at T(1) + 4d, and the downtime is
//     D = T(1) + 4d - U.
// With s = d / w: the five spacings of four uniform points in [a, a + w], over w, are
// Dirichlet(1, 1, 1, 1, 1), so S1 = (T(1) - a) / w, V = (T(3) - T(1)) / w = S2 + S3 and the
// rest, S4 + S5, are Dirichlet(1, 2, 2), and
//     P(first round splits) = P(V < s) = I_s(2, 3) = 6s^2(1-s)^2 + 4s^3(1-s) + s^4,
// and the density of S1 on the event {V > s} is
//     g(y) = integral_s^(1-y) 24 v (1 - y - v) dv = 4(1-y)^3 - 12(1-y) s^2 + 8 s^3, y <= 1 - s.
// (Its integral is 1 - I_s(2, 3), as it must be.) Hence, for every x,
//     R(x) = P(first round won and D <= x) = integral_0^(1-s) g(y) P(U >= a + w y + 4d - x) dy.
// The winner of the first round stays the leader if no losing candidate times out again before
// the winner's heartbeat reaches it: a loser rearmed its timer at its candidacy, no earlier than
// d + T(1), and hears the heartbeat at T(1) + 4d, so a > 3d is needed (for d = 7.5 ms, a > 22.5
// ms). With shorter timeouts a loser raises the term again and deposes the winner: Raft's
// timing requirement, broadcastTime << electionTimeout, at work; 12-24 ms is past that point.
// A split round costs at least another timeout: the next candidate fires no earlier than
// d + T(1) + a (everyone rearmed at or after T(1) + d), so a trial that split has
//     D >= 2a + 4d - H,
// and below that point the empirical CDF of the downtime estimates R(x) alone; above it, it lies
// between R(x) and R(x) + I_s(2, 3).

double split_probability(double s) {
  if (s >= 1) return 1;
  return 6 * s * s * (1 - s) * (1 - s) + 4 * s * s * s * (1 - s) + s * s * s * s;
}

struct FirstRound {
  double a, w, d, h;  // ms
  double s() const { return d / w; }
  double split_min() const { return 2 * a + 4 * d - h; }
  // R(x), by Simpson's rule on 20,000 intervals (the integrand is piecewise polynomial: the
  // error is far below the sampling error compared with).
  double cdf(double x) const {
    const double s = this->s();
    if (s >= 1) return 0;
    const double top = 1 - s;
    const int n = 20'000;
    const double step = top / n;
    auto f = [&](double y) {
      const double c = 1 - y;
      const double g = 4 * c * c * c - 12 * c * s * s + 8 * s * s * s;
      const double u_above = (a + w * y + 4 * d - x) / h;  // P(U >= a + w y + 4d - x)
      return g * std::clamp(1 - u_above, 0.0, 1.0);
    };
    double sum = f(0) + f(top);
    for (int i = 1; i < n; ++i) sum += f(i * step) * (i % 2 == 1 ? 4 : 2);
    return sum * step / 3;
  }
  // The x at which R(x) = p (bisection).
  double quantile(double p) const {
    double lo = a + 4 * d - h, hi = a + w + 4 * d;
    for (int i = 0; i < 60; ++i) {
      const double mid = (lo + hi) / 2;
      (cdf(mid) < p ? lo : hi) = mid;
    }
    return (lo + hi) / 2;
  }
};

double empirical_cdf(const std::vector<double>& sorted, double x) {
  return static_cast<double>(std::upper_bound(sorted.begin(), sorted.end(), x) - sorted.begin()) /
         static_cast<double>(sorted.size());
}

struct Trials {
  std::vector<double> downtimes;  // sorted, ms
  double split_trials = 0;
  double unfinished = 0;
};

// `trials` leader crashes of a five-server group with timeouts [a, b] ms, heartbeats every a/2,
// a constant one-way delay of d ms.
Trials crash_trials(double a, double b, double d, int trials, std::uint64_t seed) {
  models::RaftNodeConfig c;
  c.election.election_timeout_min = Duration::nanoseconds(static_cast<std::int64_t>(a * 1e6));
  c.election.election_timeout_max = Duration::nanoseconds(static_cast<std::int64_t>(b * 1e6));
  c.election.heartbeat_interval = Duration::nanoseconds(static_cast<std::int64_t>(a * 1e6 / 2));
  // Measured to 10^5 s (the trials stop the run earlier), in report windows of 1000 s.
  dsimtest::ModelHarness h(seed, Time::zero(), at_ms(100'000'000), 1000_s);
  h.cluster.network().set_default_link({Distribution::constant(d * 1e6)});
  h.build<models::RaftNode>("raft", 5, c);
  models::LeaderCrasherConfig k;
  k.target.name = "raft";
  k.stable_for = 300_ms;
  k.down_for = 200_ms;
  k.trials = trials;
  auto* crasher = h.build<models::LeaderCrasher>("crasher", 1, k)[0];
  h.cluster.start();
  // Until the trials are done (the group would go on heartbeating to the end for nothing).
  for (Time t = at_ms(10'000); crasher->downtimes_ms().size() < static_cast<std::size_t>(trials);
       t = t + 10_s) {
    REQUIRE(t < at_ms(100'000'000));
    h.sim.run_until(t);
  }
  CHECK(h.invariants.count() == 0);
  Trials out{crasher->downtimes_ms(), dsimtest::figure(*crasher, "split_trials"),
             dsimtest::figure(*crasher, "unfinished_trials")};
  std::sort(out.downtimes.begin(), out.downtimes.end());
  return out;
}

// Four standard errors of a proportion p estimated from n trials (a false alarm about once in
// 16,000 comparisons; the seeds are fixed, so this is the margin theory allows, not luck).
double proportion_tolerance(double p, double n) {
  return 4 * std::sqrt(std::max(p * (1 - p), 1e-12) / n);
}

}  // namespace

TEST_CASE("Figure 16 from first principles: 150-300 ms, median and 99th percentile") {
  const FirstRound model{150, 150, 7.5, 75};
  const Trials t = crash_trials(150, 300, 7.5, 2000, 1);
  REQUIRE(t.downtimes.size() == 2000);
  const double n = 2000;
  const double p_split = split_probability(model.s());  // 0.0140
  CHECK(t.split_trials / n == Approx(p_split).margin(proportion_tolerance(p_split, n)));
  // The median: R at dsim's median is 1/2 (no split trial is that short: they take >= 255 ms).
  const double median = t.downtimes[999];
  CHECK(median < model.split_min());
  CHECK(model.cdf(median) == Approx(0.5).margin(proportion_tolerance(0.5, n)));
  const double theory_median = model.quantile(0.5);  // 164.3 ms
  std::printf("150-300 ms: median %.1f ms (first principles %.1f ms)\n", median, theory_median);
  // The body, decile by decile, below the first split trial.
  for (const double q : {0.1, 0.25, 0.75, 0.9}) {
    const double x = model.quantile(q);
    INFO("R(x) = " << q << " at x = " << x << " ms");
    REQUIRE(x < model.split_min());
    CHECK(empirical_cdf(t.downtimes, x) == Approx(q).margin(proportion_tolerance(q, n)));
  }
  // The 99th percentile lies where split trials (1.4 %) mix in: F(x) is between R(x) and
  // R(x) + P(split), so at dsim's p99, R is between 0.99 - P(split) and 0.99.
  const double p99 = t.downtimes[1979];
  std::printf(
      "150-300 ms: p99 %.1f ms; first round alone reaches 0.99 - P(split) at %.1f ms, "
      "0.99 at %.1f ms\n",
      p99, model.quantile(0.99 - p_split), model.quantile(0.99));
  const double tol = proportion_tolerance(0.01, n);
  CHECK(model.cdf(p99) <= 0.99 + tol);
  CHECK(model.cdf(p99) >= 0.99 - p_split - tol);
}

TEST_CASE("Figure 16 from first principles: the body and the split votes of other ranges") {
  // Top graph (more randomness) and bottom graph (shorter timeouts, heartbeat a/2), d = 7.5 ms,
  // down to 25-50 ms: the first-round model needs a > 3d (see above), which 12-24 ms breaks.
  struct Range {
    double a, b;
  };
  for (const Range r :
       {Range{150, 200}, Range{150, 175}, Range{100, 200}, Range{50, 100}, Range{25, 50}}) {
    INFO(r.a << "-" << r.b << " ms");
    const FirstRound model{r.a, r.b - r.a, 7.5, r.a / 2};
    const Trials t = crash_trials(r.a, r.b, 7.5, 1500, 2);
    REQUIRE(t.downtimes.size() == 1500);
    const double n = 1500;
    const double p_split = split_probability(model.s());
    CHECK(t.split_trials / n == Approx(p_split).margin(proportion_tolerance(p_split, n)));
    for (const double q : {0.1, 0.25, 0.5, 0.75, 0.9}) {
      const double x = model.quantile(q * (1 - p_split));  // R reaches 1 - P(split) at most
      if (x >= model.split_min()) continue;                // split trials mix in from there
      INFO("R(x) = " << q * (1 - p_split) << " at x = " << x << " ms");
      const double p = q * (1 - p_split);
      CHECK(empirical_cdf(t.downtimes, x) == Approx(p).margin(proportion_tolerance(p, n)));
    }
    std::printf("%g-%g ms: P(split) %.3f (theory %.3f), median %.1f ms, p99 %.1f ms\n", r.a, r.b,
                t.split_trials / n, p_split, t.downtimes[749], t.downtimes[1484]);
  }
}

TEST_CASE("Figure 16 from first principles: 150-151 and 150-155 ms split every first round") {
  // w < d: all four survivors time out before any request arrives, each votes for itself, and
  // the first round always splits; so does every round until the candidates' timers, each
  // redrawn in [150, 150 + w] at its own candidacy, have drifted more than d apart. Every trial
  // takes at least 2a + 4d - H = 255 ms, and the tail is long.
  for (const double b : {151.0, 155.0}) {
    INFO("150-" << b << " ms");
    const Trials t = crash_trials(150, b, 7.5, 200, 3);
    REQUIRE(t.downtimes.size() == 200);
    CHECK(t.split_trials == 200);
    CHECK(t.downtimes.front() >= 255);
    const double median = t.downtimes[99], p99 = t.downtimes[197];
    std::printf("150-%g ms: median %.0f ms, p99 %.0f ms, longest %.0f ms\n", b, median, p99,
                t.downtimes.back());
    CHECK(median > 2 * 255);  // several rounds, not one or two
    CHECK(p99 > 4 * median);  // a long tail
  }
}

// ---- the paper's claims, on the library scenario's network
// ---------------------------------------

namespace {

struct Line {
  double trials, split_trials, mean, p50, max;
};

struct Setup {
  const char* low = "5ms";  // one-way latency, uniform in [low, high]
  const char* high = "10ms";
  bool distinct_logs = false;
};

// Up to 1000 trials in 1500 s of a five-server group, timeouts [a, b].
Line paper_line(const std::string& a, const std::string& b, const std::string& heartbeat,
                std::uint64_t seed, const Setup& setup = {}) {
  const std::string text = R"({
    "name": "figure-16", "duration": "1500s",
    "network": {"latency": {"dist": "uniform", "low": ")" +
                           std::string(setup.low) + R"(", "high": ")" + setup.high + R"("}},
    "components": {
      "raft": {"model": "raft_node", "count": 5, "election_timeout_min": ")" +
                           a + R"(", "election_timeout_max": ")" + b +
                           R"(", "heartbeat_interval": ")" + heartbeat + R"("},
      "crasher": {"model": "leader_crasher", "target": "raft", "stable_for": "500ms",
                  "down_for": "300ms", "trials": 1000, "distinct_logs": )" +
                           (setup.distinct_logs ? "true" : "false") + R"(}
    }
  })";
  const auto file = scenario::load_scenario_text(text, "figure-16.json");
  const scenario::RunResult run = scenario::run_scenario(file.variants.front(), seed);
  CHECK(run.invariant_violations == 0);
  auto f = [&](const char* name) { return dsimtest::figure(run, "crasher", name); };
  return {f("trials"), f("split_trials"), f("downtime_mean_ms"), f("downtime_p50_ms"),
          f("downtime_max_ms")};
}

}  // namespace

TEST_CASE("Figure 16, the paper's claims: no randomness, no leader for over 10 s") {
  // "In the absence of randomness, leader election consistently took longer than 10 seconds in
  // our tests due to many split votes." Here it never ends: the four survivors' timers fire in
  // the same order, the same distance apart, round after round (a livelock), and the
  // heartbeat's arrival spread (under 5 ms) never exceeds the request's delay (over 5 ms).
  // The servers come up 20 ms apart, so the first one elects itself at once; its crash (about
  // 0.8 s in) starts the livelock. The crashed leader stays down (it would come back out of step
  // with the others and could break the tie).
  const std::string text = R"({
    "name": "no-randomness", "duration": "12s",
    "network": {"latency": {"dist": "uniform", "low": "5ms", "high": "10ms"}},
    "components": {
      "raft": {"model": "raft_node", "count": 5, "election_timeout_min": "150ms",
               "election_timeout_max": "150ms", "heartbeat_interval": "75ms"},
      "crasher": {"model": "leader_crasher", "target": "raft", "stable_for": "500ms",
                  "down_for": "60s", "trials": 1}
    },
    "faults": [{"action": "crash", "target": "raft", "at": "0s", "for": "100ms", "stagger": "20ms"}]
  })";
  const auto file = scenario::load_scenario_text(text, "no-randomness.json");
  for (const std::uint64_t seed : {1, 2, 3}) {
    const scenario::RunResult run = scenario::run_scenario(file.variants.front(), seed);
    CHECK(dsimtest::figure(run, "raft", "leader_changes") == 1);  // the first, never another
    CHECK(dsimtest::figure(run, "crasher", "unfinished_trials") == 1);
    CHECK(dsimtest::figure(run, "raft", "split_votes") > 50);  // 11 s / 150 ms rounds
  }
}

TEST_CASE(
    "Figure 16, the paper's claims: more randomness, a better worst case, and shorter timeouts, "
    "less downtime until the broadcast time") {
  const Line l155 = paper_line("150ms", "155ms", "75ms", 1);
  const Line l175 = paper_line("150ms", "175ms", "75ms", 1);
  const Line l200 = paper_line("150ms", "200ms", "75ms", 1);
  const Line l300 = paper_line("150ms", "300ms", "75ms", 1);
  const Line l100 = paper_line("100ms", "200ms", "50ms", 1);
  const Line l50 = paper_line("50ms", "100ms", "25ms", 1);
  const Line l25 = paper_line("25ms", "50ms", "12.5ms", 1);
  const Line l12 = paper_line("12ms", "24ms", "6ms", 1);
  for (const Line* l : {&l175, &l200, &l300, &l100, &l50, &l25, &l12}) CHECK(l->trials == 1000);
  std::printf(
      "on 5-10 ms one-way: 150-155 median %.0f ms (paper 287); 150-200 longest of 1000 "
      "%.0f ms (paper 513); 12-24 mean %.0f ms, longest %.0f ms (paper 35 and 152)\n",
      l155.p50, l200.max, l12.mean, l12.max);
  // "Using more randomness improves worst-case behavior": the longest trial shrinks as the
  // range widens from 5 to 50 ms.
  CHECK(l155.max > l175.max);
  CHECK(l175.max > l200.max);
  // "with 50ms of randomness the worst-case completion time (over 1000 trials) was 513ms": the
  // same here within a quarter (the worst of 1000 is one draw of an extreme; both setups lose a
  // round now and then, the paper's to ineligible candidates, this one to split votes).
  CHECK(l200.max == Approx(513).epsilon(0.25));
  // "Adding just 5ms of randomness helps significantly, resulting in a median downtime of
  // 287ms": not on this network. 5 ms of randomness is less than the 5-10 ms a request takes to
  // reach the others, so nearly every first round splits, and so do many of the next: the median
  // is several rounds. (The paper's requests crossed its LAN in far less than 5 ms.)
  CHECK(l155.split_trials / l155.trials > 0.95);
  CHECK(l155.p50 > 3 * 287);
  // The bottom graph: "downtime can be reduced by reducing the election timeout" -- while the
  // timeouts stay well above the broadcast time (15 ms round trip here) ...
  CHECK(l300.mean > l100.mean);
  CHECK(l100.mean > l50.mean);
  CHECK(l50.mean > l25.mean);
  // ... and "lowering the timeouts beyond this point violates Raft's timing requirement": here
  // that point comes one step earlier. At 12-24 ms the request delay (5-10 ms) splits most first
  // rounds (85 % with a constant 7.5 ms, by first principles), a losing candidate often times
  // out again before the winner's heartbeat reaches it (a < 3d) and deposes it, and downtime
  // grows again; the paper, whose requests crossed its LAN in far less, still got 35 ms on
  // average there.
  CHECK(l12.split_trials / l12.trials > 0.75);
  CHECK(l12.mean > l25.mean);
}

TEST_CASE("Figure 16 under the paper's conditions: its published median, mean and worst cases") {
  // The paper's two conditions that the test above leaves out. Its logs differed, so that two of
  // the four survivors could not win (distinct_logs: a candidacy of one of them costs a round).
  // And the window in which a second candidate splits the vote -- the time from a candidate's
  // timeout until its RequestVote has become a vote at the others -- was shorter than the 15 ms
  // "network round trip plus disk write": that figure adds a disk write to a LAN round trip well
  // under 1 ms, and does not say which part of it lay between a timeout and a vote. That part
  // is the one unknown here; a request taking 2-5 ms one way (a 4-10 ms round trip) matches all
  // four published numbers at once, for several seeds (three degrees of freedom left to fail).
  // Putting the whole 15 ms there instead (persist_time 14.6 ms on the candidate and the voter
  // over a 0.1-0.3 ms LAN) splits nearly every round at 150-155 ms: a median of seconds.
  // Tolerances: medians and means of 1000 trials move by a few percent between seeds (measured:
  // 150-155 ms median 295-303 ms, 12-24 ms mean 37.4-38.2 ms over seeds 1-3), and the paper's
  // own numbers are one sample each; a maximum of 1000 trials is one draw of the extreme tail
  // (108-175 ms at 12-24 ms over seeds 1-3), so it gets a wider band.
  const Setup paper{.low = "2ms", .high = "5ms", .distinct_logs = true};
  const Line l155 = paper_line("150ms", "155ms", "75ms", 1, paper);
  const Line l200 = paper_line("150ms", "200ms", "75ms", 1, paper);
  const Line l12 = paper_line("12ms", "24ms", "6ms", 1, paper);
  for (const Line* l : {&l155, &l200, &l12}) CHECK(l->trials == 1000);
  std::printf(
      "paper's conditions: 150-155 median %.0f ms (paper 287); 150-200 longest of 1000 %.0f ms "
      "(paper 513); 12-24 mean %.1f ms (paper 35), longest %.0f ms (paper 152)\n",
      l155.p50, l200.max, l12.mean, l12.max);
  CHECK(l155.p50 == Approx(287).epsilon(0.10));
  CHECK(l200.max == Approx(513).epsilon(0.15));
  CHECK(l12.mean == Approx(35).epsilon(0.15));
  CHECK(l12.max == Approx(152).epsilon(0.40));
  // Splits are what shape the 150-155 ms line: most trials need a second round.
  CHECK(l155.split_trials / l155.trials > 0.5);
}

// ---- one leader per term, in 10^4 runs full of faults ------------------------------------------

namespace {

struct FuzzTotals {
  std::uint64_t violations = 0;
  std::uint64_t leaders = 0;        // terms won, over all runs
  std::uint64_t runs_with_two = 0;  // runs in which at least two terms were won
  std::string first;                // the first violation's detail
};

// One short run of a group of 3 or 5 with fast timeouts and random faults: crashes (with
// restarts), pauses, partitions (symmetric or one-way), clock steps and drift; a lossy,
// duplicating, reordering network; pre_vote and check_quorum at random.
void fuzz_run(std::uint64_t seed, bool durable, FuzzTotals& totals) {
  Rng r(seed);
  const std::size_t n = r.bernoulli(0.5) ? 5 : 3;
  const Time end = at_ms(300);
  dsimtest::ModelHarness h(seed, Time::zero(), end);
  h.cluster.network().set_default_link(
      {Distribution::uniform(0.2e6, 3e6), 0.05 * r.uniform01(), 0.05 * r.uniform01()});
  models::RaftNodeConfig c;
  c.election.election_timeout_min = 10_ms;
  c.election.election_timeout_max =
      10_ms + Duration::nanoseconds(static_cast<std::int64_t>(1e6 + r.below(20'000'000)));
  c.election.heartbeat_interval = 3_ms;
  c.election.pre_vote = r.bernoulli(0.5);
  c.election.check_quorum = r.bernoulli(0.5);
  c.election.durable_state = durable;
  const auto nodes = h.build<models::RaftNode>("raft", n, c);
  const auto& ids = h.nodes("raft");
  auto when = [&] {
    return Time::zero() + Duration::nanoseconds(static_cast<std::int64_t>(r.below(280'000'000)));
  };
  auto lasting = [&](double max_ms) {
    return Duration::nanoseconds(
        static_cast<std::int64_t>(1e6 + r.below(static_cast<std::uint64_t>(max_ms * 1e6))));
  };
  const std::uint64_t faults = 3 + r.below(8);
  for (std::uint64_t f = 0; f < faults; ++f) {
    const NodeId victim = ids[r.below(n)];
    switch (r.below(6)) {
      case 0:
      case 1:
        h.faults.crash(when(), victim, lasting(60));
        break;
      case 2:
        h.faults.pause(when(), victim, lasting(40));
        break;
      case 3: {
        std::vector<NodeId> a, b;
        for (const NodeId id : ids) (r.bernoulli(0.5) ? a : b).push_back(id);
        if (!a.empty() && !b.empty())
          h.faults.partition(when(), {a, b}, r.bernoulli(0.3), lasting(100));
        break;
      }
      case 4:
        h.faults.clock_step(when(), victim,
                            Duration::nanoseconds(
                                static_cast<std::int64_t>(r.below(2'000'000'000)) - 1'000'000'000));
        break;
      default:
        h.faults.clock_drift(when(), victim, (r.uniform01() - 0.5) * 200'000);
        break;
    }
  }
  h.run();
  totals.violations += h.invariants.count();
  if (totals.first.empty() && h.invariants.count() > 0)
    totals.first = h.invariants.violations()[0].detail;
  const double won = dsimtest::figure(*nodes[0], "leader_changes");
  totals.leaders += static_cast<std::uint64_t>(won);
  totals.runs_with_two += won >= 2;
}

}  // namespace

TEST_CASE("one leader per term in 10^4 runs with crashes, partitions, pauses and clock faults") {
  FuzzTotals durable;
  for (std::uint64_t seed = 1; seed <= 10'000; ++seed) fuzz_run(seed, true, durable);
  INFO("first violation: " << durable.first);
  CHECK(durable.violations == 0);
  // Not vacuous: leaders were elected and replaced, again and again (about 2 terms won per run,
  // two or more in two runs of three).
  CHECK(durable.leaders > 15'000);
  CHECK(durable.runs_with_two > 5'000);
  // The same faults without durable state find violations: the check would see one.
  FuzzTotals forgetful;
  for (std::uint64_t seed = 1; seed <= 2'000; ++seed) fuzz_run(seed, false, forgetful);
  std::printf(
      "fuzz: %llu leaders in 10^4 durable runs, 0 violations; %llu violations in 2000 "
      "runs without durable state (first: %s)\n",
      static_cast<unsigned long long>(durable.leaders),
      static_cast<unsigned long long>(forgetful.violations), forgetful.first.c_str());
  CHECK(forgetful.violations > 0);
}
