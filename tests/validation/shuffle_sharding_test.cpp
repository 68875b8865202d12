// Shuffle sharding and cells against theory.
//
// 1. Shuffle shards are uniform k-subsets of the n backends. A partial Fisher-Yates shuffle
//    draws every ordered k-tuple of distinct backends with probability (n - k)! / n!, and each
//    k-subset is the set of k! of those tuples, so each of the C(n, k) subsets has probability
//    1 / C(n, k). Tenants' shards come from independent streams (one per name), so:
//    a. Over T tenants the count in each of the C(n, k) subsets is multinomial with equal cell
//       probabilities: Pearson's X^2 has C(n, k) - 1 degrees of freedom. Its threshold is the
//       Wilson-Hilferty approximation of the chi-square quantile at z = 4.5 standard normal
//       deviations (a correct function fails with probability 3.4e-6):
//         q = v (1 - 2 / (9 v) + z sqrt(2 / (9 v)))^3.
//    b. The tenants that share all k backends with a given tenant A: each of the T - 1 others
//       does with probability exactly 1 / C(n, k) (its shard is one particular subset), so
//       their count is Binomial(T - 1, 1 / C(n, k)); allowed 4.5 standard deviations. That is
//       AWS's "1 / C(n, k) of the tenants share a tenant's fate".
//    c. The overlap |A ∩ B| of A's shard with another tenant's B: given A, B is a uniform
//       k-subset, so |A ∩ B| is the number of A's k backends ("successes") among k draws
//       without replacement from n: hypergeometric,
//         P(j) = C(k, j) C(n - k, k - j) / C(n, k),   j = 0 .. k.
//       Over the T - 1 other tenants (independent given A) the counts per j are multinomial:
//       Pearson's X^2 against P has k degrees of freedom (threshold as in a.), and each count
//       alone is Binomial(T - 1, P(j)) (4.5 standard deviations).
// 2. Cells: rendezvous hashing pins each tenant to each of C cells with probability 1 / C
//    (the highest of C independent uniform scores is equally likely to be any of them), so the
//    tenants of a cell among T are Binomial(T, 1 / C); going from C to C + 1 cells moves a
//    tenant exactly when the new cell's score is the highest of C + 1: Binomial(T, 1/(C + 1)),
//    and always into the new cell. 4.5 standard deviations.
// 3. A cell outage through a run: every node of cell 0 crashed for the whole run. The affected
//    tenants (a failed request after the warm-up) must be exactly the tenants pinned to cell 0,
//    and none of the others (the live cells run at 12 % utilization with a 100 ms timeout: a
//    request fails there with probability far below 1e-9). Their number is Binomial(200, 1/4):
//    50 ± 4.5 x 6.1.
// 4. A backend pair down behind a load balancer with shards of 2 of 8 (health checks take the
//    crashed pair out of rotation before the warm-up ends; no fallback): the affected tenants
//    are exactly those whose shard is that pair, Binomial(T, 1/28); without shuffle sharding the
//    balancer routes everyone around the pair and no tenant is affected; without health checks,
//    a tenant is affected when its shard holds either of the two: probability
//    1 - C(6, 2) / C(8, 2) = 13/28.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "models/balancing/shuffle_shard.hpp"
#include "models/isolation/cell_router.hpp"
#include "scenario/report_tenants.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"

namespace {

constexpr double kSd = 4.5;

double choose(int n, int k) {
  if (k < 0 || k > n) return 0;
  double c = 1;
  for (int i = 1; i <= k; ++i) c = c * (n - k + i) / i;
  return c;
}

/// The chi-square quantile with `dof` degrees of freedom, z standard deviations up
/// (Wilson-Hilferty).
double chi_square_threshold(double dof, double z = kSd) {
  const double a = 2 / (9 * dof);
  return dof * std::pow(1 - a + z * std::sqrt(a), 3);
}

bool binomial_ok(double count, double trials, double p) {
  return std::abs(count - trials * p) <= kSd * std::sqrt(trials * p * (1 - p));
}

std::string tenant(int i) {
  return "tenant-" + std::to_string(i);
}

}  // namespace

TEST_CASE("shuffle shards are uniform over the C(n, k) combinations") {
  for (const auto& [n, k] : {std::pair{8, 3}, std::pair{10, 2}}) {
    const double combinations = choose(n, k);
    const int tenants = static_cast<int>(combinations) * 400;
    std::map<std::vector<std::uint32_t>, int> counts;
    for (int t = 0; t < tenants; ++t) ++counts[models::shuffle_shard(tenant(t), 1, n, k)];
    CHECK(counts.size() == static_cast<std::size_t>(combinations));
    const double expected = tenants / combinations;
    double x2 = 0;
    for (const auto& [shard, count] : counts)
      x2 += (count - expected) * (count - expected) / expected;
    INFO("n " << n << " k " << k << ": X^2 " << x2 << " with " << combinations - 1 << " dof");
    CHECK(x2 <= chi_square_threshold(combinations - 1));
  }
}

TEST_CASE("1 / C(n, k) of the tenants share all k backends with a given tenant") {
  for (const auto& [n, k, tenants] :
       {std::tuple{8, 2, 28'000}, std::tuple{16, 4, 182'000}, std::tuple{12, 3, 44'000}}) {
    const auto a = models::shuffle_shard(tenant(0), 7, n, k);
    int same = 0;
    for (int t = 1; t < tenants; ++t) same += models::shuffle_shard(tenant(t), 7, n, k) == a;
    const double p = 1 / choose(n, k);
    INFO("n " << n << " k " << k << ": " << same << " of " << tenants - 1 << ", expected "
              << (tenants - 1) * p);
    CHECK(binomial_ok(same, tenants - 1, p));
  }
}

TEST_CASE("the overlap of two tenants' shuffle shards is hypergeometric") {
  for (const auto& [n, k] : {std::pair{8, 2}, std::pair{16, 4}, std::pair{20, 5}}) {
    constexpr int tenants = 100'000;
    const auto a = models::shuffle_shard("reference", 3, n, k);
    std::vector<double> counts(static_cast<std::size_t>(k) + 1, 0);
    for (int t = 0; t < tenants; ++t) {
      const auto b = models::shuffle_shard(tenant(t), 3, n, k);
      std::vector<std::uint32_t> both;
      std::set_intersection(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(both));
      ++counts[both.size()];
    }
    double x2 = 0;
    for (int j = 0; j <= k; ++j) {
      const double p = choose(k, j) * choose(n - k, k - j) / choose(n, k);
      const double expected = tenants * p;
      INFO("n " << n << " k " << k << " overlap " << j << ": " << counts[j] << ", expected "
                << expected);
      CHECK(binomial_ok(counts[j], tenants, p));
      x2 += (counts[j] - expected) * (counts[j] - expected) / expected;
    }
    INFO("X^2 " << x2 << " with " << k << " dof");
    CHECK(x2 <= chi_square_threshold(k));
  }
}

TEST_CASE("rendezvous pins 1 / C of the tenants to each cell, and a new cell takes 1 / (C + 1)") {
  constexpr int tenants = 40'000;
  for (const std::uint32_t cells : {2u, 4u, 7u}) {
    std::vector<double> per_cell(cells, 0);
    double moved = 0;
    bool only_to_new = true;
    for (int t = 0; t < tenants; ++t) {
      const std::uint32_t c = models::CellRouter::cell_of(tenant(t), cells);
      ++per_cell[c];
      const std::uint32_t after = models::CellRouter::cell_of(tenant(t), cells + 1);
      if (after != c) ++moved, only_to_new = only_to_new && after == cells;
    }
    for (std::uint32_t c = 0; c < cells; ++c) {
      INFO(cells << " cells: cell " << c << " has " << per_cell[c]);
      CHECK(binomial_ok(per_cell[c], tenants, 1.0 / cells));
    }
    INFO(cells << " -> " << cells + 1 << " cells moved " << moved);
    CHECK(binomial_ok(moved, tenants, 1.0 / (cells + 1)));
    CHECK(only_to_new);
  }
}

namespace {

/// The groups (tenants) of a run that had a failed request after the warm-up.
std::set<std::string> affected(const scenario::RunResult& run) {
  std::set<std::string> out;
  for (const auto& g : run.requests.groups())
    if (g.counts.failed() > 0) out.insert(g.name);
  return out;
}

scenario::RunResult run_text(const std::string& text, const std::string& variant = "base") {
  const auto file = scenario::load_scenario_text(text, "isolation.json");
  for (const auto& v : file.variants)
    if (v.variant == variant) return scenario::run_scenario(v, 1);
  FAIL("no variant " << variant);
  return scenario::run_scenario(file.variants.front(), 1);
}

}  // namespace

TEST_CASE("a cell outage affects exactly the tenants pinned to that cell") {
  // 200 tenants (one per client node) behind a router of 4 cells of 2 servers; cell 0 (api[0],
  // api[1]) is down for the whole run.
  const auto run = run_text(R"({
    "name": "cell-outage", "duration": "3s", "warmup": "500ms",
    "components": {
      "api": {"model": "server", "count": 8, "workers": 4,
              "service_time": {"dist": "exponential", "mean": "1ms"}},
      "router": {"model": "cell_router", "target": "api", "cells": 4, "timeout": "50ms"},
      "clients": {"model": "open_loop_client", "count": 200, "rate": "20/s", "target": "router",
                  "timeout": "100ms", "tenant_per_node": true}
    },
    "faults": [{"action": "crash", "target": ["api[0]", "api[1]"], "at": "0s"}]
  })");
  std::set<std::string> pinned_to_dead;
  for (int i = 0; i < 200; ++i) {
    const std::string name = "clients/" + std::to_string(i);
    if (models::CellRouter::cell_of(name, 4) == 0) pinned_to_dead.insert(name);
  }
  CHECK(affected(run) == pinned_to_dead);
  CHECK(binomial_ok(static_cast<double>(pinned_to_dead.size()), 200, 0.25));
  const scenario::Json tenants = scenario::run_tenants(run);
  CHECK(tenants.at("tenants") == 200);
  CHECK(tenants.at("tenants_affected") == pinned_to_dead.size());
  CHECK(tenants.at("tenants_untouched") == 200 - pinned_to_dead.size());
  CHECK(tenants.at("worst_availability") == 0.0);  // a dead cell's tenant: nothing succeeded
}

TEST_CASE("a backend pair down behind shuffle shards of 2 of 8 affects the tenants of that pair") {
  // 280 tenants, 8 backends, api[0] and api[1] crashed from the start; health checks take them
  // out of rotation long before the warm-up ends.
  const std::string text = R"({
    "name": "shuffle", "duration": "3s", "warmup": "1s",
    "components": {
      "api": {"model": "server", "count": 8, "workers": 4,
              "service_time": {"dist": "exponential", "mean": "1ms"}},
      "lb": {"model": "load_balancer", "backends": "api", "policy": "round_robin",
             "timeout": "50ms", "shuffle_shard_size": 2, "shuffle_seed": 5,
             "health_check": {"enabled": true, "interval": "100ms", "timeout": "20ms",
                              "unhealthy_threshold": 2}},
      "clients": {"model": "open_loop_client", "count": 280, "rate": "10/s", "target": "lb",
                  "timeout": "100ms", "tenant_per_node": true}
    },
    "faults": [{"action": "crash", "target": ["api[0]", "api[1]"], "at": "0s"}],
    "variants": {
      "no-shuffle": {"components": {"lb": {"shuffle_shard_size": 0}}},
      "no-health-checks": {"components": {"lb": {"health_check": {"enabled": false}}}}
    }
  })";
  std::set<std::string> pair_only, either;
  for (int i = 0; i < 280; ++i) {
    const std::string name = "clients/" + std::to_string(i);
    const auto shard = models::shuffle_shard(name, 5, 8, 2);
    if (shard == std::vector<std::uint32_t>{0, 1}) pair_only.insert(name);
    if (shard.front() <= 1) either.insert(name);
  }
  CHECK(affected(run_text(text)) == pair_only);
  CHECK(binomial_ok(static_cast<double>(pair_only.size()), 280, 1.0 / 28));
  CHECK(affected(run_text(text, "no-shuffle")).empty());
  // Without health checks, round robin sends half of a tenant's requests to a dead backend as
  // long as its shard holds one: at 10/s for 2 s, each of those tenants fails some.
  CHECK(affected(run_text(text, "no-health-checks")) == either);
  CHECK(binomial_ok(static_cast<double>(either.size()), 280, 13.0 / 28));
}
