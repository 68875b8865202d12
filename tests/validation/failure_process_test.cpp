// Failure processes against renewal theory.
//
// Each node alternates up (U ~ time to failure, mean m_f) and down (D ~ time to repair, mean
// m_r): an alternating renewal process. Its long-run fraction of time up is
//   a = m_f / (m_f + m_r)                          (the alternating renewal theorem)
// whatever the distributions (only the means matter). Independent nodes are up independently,
// so the long-run fraction of time a majority of n is up is
//   sum_{k >= floor(n/2)+1} C(n, k) a^k (1 - a)^(n-k).
// Both are measured from the ground truth: the times the nodes actually crashed and started
// (their process's on_crash and on_start), never from the failure process's bookkeeping; the
// process's own up_fraction figure must agree with them exactly.
//
// Tolerances (4.5 standard errors: a correct simulator fails one check with probability 7e-6):
// - Up fraction: over a time T a node completes N ~ T / E[C] cycles (C = U + D, independent
//   cycles). The renewal-reward central limit theorem gives the time average A_T variance
//     Var(A_T) ~ Var(U - a C) / (E[C] T) = ((1 - a)^2 Var(U) + a^2 Var(D)) / (E[C] T),
//   and k independent nodes divide it by k.
// - Majority up (exponential U and D): each node is then a two-state Markov chain with
//   relaxation rate g = 1/m_f + 1/m_r; n independent ones form a reversible chain whose
//   spectral gap is still g, so the autocovariance of any function f of the joint state is at
//   most Var(f) e^(-g t), and the time average over T has variance at most 2 Var(f) / (g T),
//   with Var(f) = p (1 - p) for the indicator "a majority is up" (p its probability).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <utility>
#include <vector>

#include "sim/cluster.hpp"
#include "sim/failure_process.hpp"
#include "sim/faults.hpp"
#include "tests/validation/statistical_tolerance.hpp"

using namespace sim;

namespace {

constexpr double kSecond = 1e9;  // distributions are of nanoseconds

// Keeps every change of its node's state: (true time, up afterwards).
class Transitions : public Process {
 public:
  std::vector<std::pair<Time, bool>> changes;
  void on_start(Node& n) override { changes.emplace_back(n.true_now(), true); }
  void on_message(Node&, const Message&) override {}
  void on_crash(Node& n) override { changes.emplace_back(n.true_now(), false); }
};

struct Measured {
  std::vector<double> up_fraction;  // per node, from its transitions
  std::vector<double> figure;       // per node, the failure process's up_fraction figure
  double majority_up = 0;           // fraction of [0, T] with more than n/2 nodes up
  double mean_up() const {
    double sum = 0;
    for (double u : up_fraction) sum += u;
    return sum / static_cast<double>(up_fraction.size());
  }
};

// n nodes under one failure process for `length`, measured over [0, length].
Measured run(int n, const Distribution& ttf, const Distribution& ttr, Duration length,
             std::uint64_t seed) {
  Simulator sim(seed);
  Cluster cluster(sim);
  FaultInjector faults(cluster);
  std::vector<Transitions*> nodes;
  std::vector<NodeId> ids;
  for (int i = 0; i < n; ++i) {
    ids.push_back(cluster.add_node("n" + std::to_string(i)));
    auto p = std::make_unique<Transitions>();
    nodes.push_back(p.get());
    cluster.attach(ids.back(), std::move(p));
  }
  FailureProcess process(cluster, faults, ids,
                         {.time_to_failure = ttf, .time_to_repair = ttr, .logged_crashes = 0});
  const Time end = Time::zero() + length;
  process.measure(Time::zero(), end);
  cluster.start();
  sim.run_until(end);

  Measured m;
  std::vector<std::pair<Time, int>> all;  // every change of every node: +1 up, -1 down
  for (const Transitions* t : nodes) {
    Duration up;
    for (std::size_t i = 0; i < t->changes.size(); ++i) {
      const Time until = i + 1 < t->changes.size() ? t->changes[i + 1].first : end;
      if (t->changes[i].second) up += until - t->changes[i].first;
      if (i > 0) all.emplace_back(t->changes[i].first, t->changes[i].second ? 1 : -1);
    }
    m.up_fraction.push_back(static_cast<double>(up.ns()) / static_cast<double>(length.ns()));
  }
  for (const auto& f : process.figures()) m.figure.push_back(f.up_fraction);
  std::stable_sort(all.begin(), all.end(),
                   [](const auto& x, const auto& y) { return x.first < y.first; });
  int up = n;
  Time since = Time::zero();
  Duration majority;
  for (const auto& [at, delta] : all) {
    if (2 * up > n) majority += at - since;
    up += delta;
    since = at;
  }
  if (2 * up > n) majority += end - since;
  m.majority_up = static_cast<double>(majority.ns()) / static_cast<double>(length.ns());
  return m;
}

double binomial(int n, int k) {
  double c = 1;
  for (int i = 1; i <= k; ++i) c = c * (n - k + i) / i;
  return c;
}

double majority_probability(int n, double a) {
  double p = 0;
  for (int k = n / 2 + 1; k <= n; ++k)
    p += binomial(n, k) * std::pow(a, k) * std::pow(1 - a, n - k);
  return p;
}

// 4.5 standard errors of k nodes' mean up fraction over `length` (renewal-reward CLT).
double up_tolerance(const Distribution& ttf, const Distribution& ttr, double length_ns, int k) {
  const double a = ttf.mean() / (ttf.mean() + ttr.mean());
  const double cycle = ttf.mean() + ttr.mean();
  const double v = (1 - a) * (1 - a) * ttf.variance() + a * a * ttr.variance();
  return queueing::mean_tolerance(v / cycle, length_ns * k);
}

}  // namespace

TEST_CASE("failure process: up fraction m_f/(m_f+m_r) and majority availability, n = 3 and 5") {
  const Distribution ttf = Distribution::exponential(60 * kSecond);
  const Distribution ttr = Distribution::exponential(10 * kSecond);
  const double a = 60.0 / 70.0;
  const Duration length = duration_from_seconds(1e7);  // ~143,000 cycles per node
  const double gap = 1 / (60 * kSecond) + 1 / (10 * kSecond);
  for (const int n : {3, 5}) {
    const Measured m = run(n, ttf, ttr, length, 11 + static_cast<std::uint64_t>(n));
    for (int i = 0; i < n; ++i)
      CHECK(m.figure[static_cast<std::size_t>(i)] ==
            Approx(m.up_fraction[static_cast<std::size_t>(i)]).epsilon(1e-12));
    const double up_tol = up_tolerance(ttf, ttr, static_cast<double>(length.ns()), n);
    INFO("n = " << n << ", a = " << a << ", tolerance " << up_tol);
    CHECK(m.mean_up() == Approx(a).margin(up_tol));

    const double p = majority_probability(n, a);
    const double majority_tol =
        queueing::kStandardErrors *
        std::sqrt(2 * p * (1 - p) / (gap * static_cast<double>(length.ns())));
    INFO("majority of " << n << ": theory " << p << ", tolerance " << majority_tol);
    CHECK(m.majority_up == Approx(p).margin(majority_tol));
  }
}

TEST_CASE("failure process: only the means matter, constant or lognormal repair times") {
  const Distribution ttf = Distribution::exponential(60 * kSecond);
  const double a = 60.0 / 70.0;
  const Duration length = duration_from_seconds(1e7);
  // Both repair distributions have mean 10 s; the lognormal has sigma 1 (median 10 s / e^0.5).
  const Distribution constant = Distribution::constant(10 * kSecond);
  const Distribution lognormal = Distribution::lognormal(std::log(10 * kSecond) - 0.5, 1.0);
  REQUIRE(lognormal.mean() == Approx(10 * kSecond).epsilon(1e-12));
  for (const Distribution* ttr : {&constant, &lognormal}) {
    const Measured m = run(3, ttf, *ttr, length, 5);
    const double tol = up_tolerance(ttf, *ttr, static_cast<double>(length.ns()), 3);
    INFO(ttr->describe() << ": tolerance " << tol);
    CHECK(m.mean_up() == Approx(a).margin(tol));
  }
}
