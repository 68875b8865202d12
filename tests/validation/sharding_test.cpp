// Sharding functions and the sharder against theory.
//
// 1. Keys moved when S shards become S + 1 (10^6 keys 0 .. 10^6 - 1, hashed):
//    - modulo: a key stays only if hash mod S = hash mod (S + 1), true for S of every S(S + 1)
//      consecutive hash values (Chinese remainder theorem): it moves with p = S / (S + 1);
//    - rendezvous and jump: a key moves exactly when the new shard wins it, with p = 1 / (S + 1)
//      (rendezvous: the new weight is the largest of S + 1 independent ones; jump: Lamping and
//      Veach's construction), and always to the new shard;
//    - consistent_hash: a key moves exactly when one of the new shard's points captures it, so
//      the moved fraction is the new shard's share X of the ring plus the sampling of the keys.
//      With N = (S + 1) k i.i.d. uniform points, the N arcs are Dirichlet(1, ..., 1) and the
//      share of any k of them is Beta(k, N - k): mean p = 1 / (S + 1), variance p (1 - p) /
//      (N + 1).
//    Keys are i.i.d. given the function, so the moved fraction of n keys has variance
//    p (1 - p) / n (binomial), plus, for the ring, Var X. Every check allows 4.5 standard
//    deviations (a correct function fails with probability 7e-6).
//    The sharder's own count (keys_moved over keys_at_steps, a reshard step from 4 to 5 shards
//    in a run) is the same experiment over the keys the clients happened to ask for before the
//    step: their choice does not depend on the hash, so the moved fraction of those n keys has
//    the same law, with n the keys compared (about 86,000 of 10^5 here).
// 2. Load spread over the ring. With k virtual nodes per shard and S shards, a shard's share is
//    Beta(k, (S - 1) k) (as above), so its coefficient of variation is exactly
//      CV_ring = sqrt(Var X) / E X = sqrt((S - 1) / (S k + 1))   (about 1 / sqrt(k)).
//    Counting n keys adds the multinomial noise: the shard's count C has E C = n / S and
//      Var C / (E C)^2 = (S - 1) / (S k + 1) + (S - 1) / n x S k / (S k + 1)  =: CV^2.
//    The estimate is (1 / S) sum (C_s - n / S)^2 / (n / S)^2 (the mean is known exactly, so
//    dividing by S is unbiased). For S large, X is nearly Gamma(k) / (S k), of kurtosis
//    3 + 6 / k, so each squared deviation has variance (2 + 6 / k) CV^4 and the estimate of CV^2
//    a relative standard deviation sqrt((2 + 6 / k) / S) (the S shares sum to one: their weak
//    negative correlation only shrinks it). Tolerance: 4.5 of those.
// 3. Zipf keys through a scenario: each request's key is an i.i.d. draw, so the requests routed
//    to shard i are multinomial with p_i = the sum of its keys' probabilities; the observed share
//    of n requests has standard deviation sqrt(p_i (1 - p_i) / n). 4.5 of those.
// 4. Each shard is one server with c workers and exponential service behind the sharder: the
//    sharder splits the Poisson arrivals by i.i.d. keys, so shard i sees Poisson arrivals at
//    lambda p_i, an M/M/c queue at its own utilization rho_i = lambda p_i / (c mu). Its mean
//    sojourn, waiting probability (Erlang C) and utilization are compared with the formulas
//    over R = 10 independent seeds: the seed means are nearly normal (each is a mean over
//    ~10^5 requests), so (mean - theory) / (s / sqrt(R)) is Student t with 9 degrees of freedom;
//    t = 6.6 is its two-sided 10^-4 point.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "models/sharding/shard_function.hpp"
#include "models/sharding/sharder.hpp"
#include "models/shared/zipf.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "tests/validation/queueing_theory.hpp"

using models::ShardFunction;
using models::ShardFunctionKind;

namespace {

constexpr double kSd = 4.5;

struct Moved {
  double fraction = 0;
  bool only_to_new = true;
};

Moved moved(const ShardFunction& before, const ShardFunction& after, std::uint64_t n) {
  std::uint64_t count = 0;
  bool only_to_new = true;
  for (std::uint64_t key = 0; key < n; ++key) {
    const std::uint32_t a = before.shard_of(key), b = after.shard_of(key);
    if (a == b) continue;
    ++count;
    only_to_new = only_to_new && b == before.shards();
  }
  return {static_cast<double>(count) / static_cast<double>(n), only_to_new};
}

double figure(const std::vector<models::Figure>& figures, const std::string& name) {
  for (const auto& f : figures)
    if (f.name == name) return f.value;
  FAIL("no figure " << name);
  return 0;
}

const scenario::ComponentFigures& component(const scenario::RunResult& r, const std::string& name) {
  for (const auto& c : r.components)
    if (c.component == name) return c;
  FAIL("no component " << name);
  return r.components.front();
}

/// Shard shares of Zipf(keys, s) keys under the sharder's function over `shards` shards.
std::vector<double> zipf_shares(const models::SharderConfig& config, std::uint32_t shards,
                                std::uint64_t keys, double s) {
  const models::ZipfSampler zipf(keys, s);
  const ShardFunction f = models::Sharder::shard_function(config, shards);
  std::vector<double> share(shards, 0.0);
  for (std::uint64_t key = 0; key < keys; ++key) share[f.shard_of(key)] += zipf.probability(key);
  return share;
}

}  // namespace

TEST_CASE("growing from S to S + 1 shards moves 1/(S+1) of the keys, S/(S+1) with modulo") {
  constexpr std::uint64_t n = 1'000'000;
  const double nd = static_cast<double>(n);
  for (const std::uint32_t s : {4u, 9u}) {
    const double p_new = 1.0 / (s + 1);
    const double binomial = std::sqrt(p_new * (1 - p_new) / nd);
    INFO(s << " -> " << s + 1 << " shards");

    const auto mod = moved(ShardFunction::modulo(s), ShardFunction::modulo(s + 1), n);
    CHECK(std::abs(mod.fraction - (1 - p_new)) <= kSd * binomial);

    const auto rdv = moved(ShardFunction::rendezvous(s), ShardFunction::rendezvous(s + 1), n);
    CHECK(std::abs(rdv.fraction - p_new) <= kSd * binomial);
    CHECK(rdv.only_to_new);

    const auto jump = moved(ShardFunction::jump(s), ShardFunction::jump(s + 1), n);
    CHECK(std::abs(jump.fraction - p_new) <= kSd * binomial);
    CHECK(jump.only_to_new);

    constexpr std::uint32_t k = 1000;
    const auto ring =
        moved(ShardFunction::consistent_hash(s, k), ShardFunction::consistent_hash(s + 1, k), n);
    const double points = static_cast<double>((s + 1) * k);
    const double ring_sd = std::sqrt(p_new * (1 - p_new) * (1 / (points + 1) + 1 / nd));
    INFO("consistent hash moved " << ring.fraction << ", expected " << p_new << " +- "
                                  << kSd * ring_sd);
    CHECK(std::abs(ring.fraction - p_new) <= kSd * ring_sd);
    CHECK(ring.only_to_new);
  }
}

TEST_CASE("the sharder's reshard step from 4 to 5 shards moves 1/5 of the keys, 4/5 with modulo") {
  constexpr double p_new = 1.0 / 5;
  constexpr std::uint32_t k = 1000;
  for (const std::string function : {"modulo", "consistent_hash", "jump", "rendezvous"}) {
    INFO(function);
    // 200,000 uniform requests over 10^5 keys in the first second (each key is asked with
    // probability 1 - e^-2), then the step, then 0.1 s more.
    const std::string text = R"({"name": "rs", "duration": "1.1s", "warmup": "0s",
      "components": {
        "shards": {"model": "server", "count": 5, "workers": 100,
                   "service_time": {"dist": "constant", "value": "1us"}},
        "router": {"model": "sharder", "target": "shards", "timeout": "0s", "keys": 100000,
                   "virtual_nodes": )" +
                             std::to_string(k) + R"(, "function": ")" + function +
                             R"(", "shards": 4, "reshard": [{"at": "1s", "shards": 5}]},
        "clients": {"model": "open_loop_client", "rate": "200000/s", "target": "router",
                    "timeout": "0s", "keys": 100000}}})";
    const auto file = scenario::load_scenario_text(text, "rs.json");
    const auto r = scenario::run_scenario(file.variants.front(), 3);
    const auto& router = component(r, "router").figures;
    const double n = figure(router, "keys_at_steps");
    CHECK(n > 80'000);
    const double fraction = figure(router, "keys_moved") / n;
    const double expected = function == "modulo" ? 1 - p_new : p_new;
    double var = p_new * (1 - p_new) / n;
    if (function == "consistent_hash") var += p_new * (1 - p_new) / (5.0 * k + 1);  // Var X
    INFO("moved " << fraction << ", expected " << expected << " +- " << kSd * std::sqrt(var));
    CHECK(std::abs(fraction - expected) <= kSd * std::sqrt(var));
    // In the 0.1 s after the step 20,000 requests come: some moved keys are asked again, each
    // once counted as a request to its new owner, at most once per moved key.
    const double to_new = figure(router, "requests_to_new_owner");
    CHECK(to_new > 0);
    CHECK(to_new <= figure(router, "keys_moved"));
  }
}

TEST_CASE("the load spread over the ring falls like 1/sqrt(k): CV = sqrt((S-1)/(Sk+1))") {
  constexpr std::uint32_t shards = 1000;
  constexpr std::uint64_t n = 4'000'000;
  const double S = shards, nd = static_cast<double>(n);
  double cv_k1 = 0;
  for (const std::uint32_t k : {1u, 10u, 100u}) {
    const auto f = ShardFunction::consistent_hash(shards, k);
    std::vector<std::uint64_t> count(shards, 0);
    for (std::uint64_t key = 0; key < n; ++key) ++count[f.shard_of(key)];
    const double mean = nd / S;
    double squares = 0;
    for (const std::uint64_t c : count) squares += std::pow(static_cast<double>(c) - mean, 2);
    const double cv2 = squares / S / (mean * mean);
    const double kd = k;
    const double expected = (S - 1) / (S * kd + 1) + (S - 1) / nd * S * kd / (S * kd + 1);
    const double relative_sd = std::sqrt((2 + 6 / kd) / S);
    INFO(k << " virtual nodes: CV " << std::sqrt(cv2) << ", expected " << std::sqrt(expected)
           << " (1/sqrt(k) = " << 1 / std::sqrt(kd) << ")");
    CHECK(std::abs(cv2 / expected - 1) <= kSd * relative_sd);
    if (k == 1) cv_k1 = std::sqrt(cv2);
    if (k == 100) CHECK(std::sqrt(cv2) < cv_k1 / 5);  // 100x the points: a tenth of the spread
  }
}

TEST_CASE("under Zipf keys a shard's share of the requests is the sum of its keys' probabilities") {
  for (const std::string function : {"consistent_hash", "rendezvous", "jump", "modulo"}) {
    INFO(function);
    const std::string text = R"({"name": "zipf-shards", "duration": "61s", "warmup": "1s",
      "report": {"per_replica": true},
      "components": {
        "shards": {"model": "server", "count": 4, "workers": 64,
                   "service_time": {"dist": "constant", "value": "1ms"}},
        "router": {"model": "sharder", "target": "shards", "function": ")" +
                             function + R"(", "timeout": "0s"},
        "clients": {"model": "open_loop_client", "rate": "2000/s", "target": "router",
                    "timeout": "0s", "keys": 1000, "key_popularity": "zipf", "zipf_s": 1.0}
      }})";
    const auto file = scenario::load_scenario_text(text, "zipf-shards.json");
    const auto r = scenario::run_scenario(file.variants.front(), 21);
    models::SharderConfig config;
    config.function = function == "modulo"            ? ShardFunctionKind::Modulo
                      : function == "consistent_hash" ? ShardFunctionKind::ConsistentHash
                      : function == "rendezvous"      ? ShardFunctionKind::Rendezvous
                                                      : ShardFunctionKind::Jump;
    const auto expected = zipf_shares(config, 4, 1000, 1.0);
    std::vector<double> arrivals;
    for (const auto& replica : component(r, "shards").per_replica)
      arrivals.push_back(figure(replica.figures, "arrivals"));
    REQUIRE(arrivals.size() == 4);
    double n = 0;
    for (const double a : arrivals) n += a;
    REQUIRE(n >= 100'000);
    for (std::size_t i = 0; i < 4; ++i) {
      const double p = expected[i];
      INFO("shard " << i << ": " << arrivals[i] / n << " vs " << p);
      CHECK(std::abs(arrivals[i] / n - p) <= kSd * std::sqrt(p * (1 - p) / n));
    }
    const double p_max = *std::max_element(expected.begin(), expected.end());
    CHECK(std::abs(figure(component(r, "router").figures, "max_shard_share") - p_max) <=
          kSd * std::sqrt(p_max * (1 - p_max) / n));
  }
}

TEST_CASE("each shard's latency is M/M/c at its own utilization") {
  constexpr int c = 2;
  constexpr std::uint32_t shards = 3;
  constexpr double mu = 1.0;     // per ms: exponential service of mean 1 ms
  models::SharderConfig config;  // consistent_hash, 100 virtual nodes: the defaults
  const auto share = zipf_shares(config, shards, 1000, 1.0);
  const double p_max = *std::max_element(share.begin(), share.end());
  const double lambda = 0.75 * c * mu / p_max;  // per ms: the hottest shard at rho = 0.75
  const std::string text = R"({"name": "mmc-shards", "duration": "65s", "warmup": "5s",
    "report": {"per_replica": true},
    "components": {
      "shards": {"model": "server", "count": 3, "workers": 2,
                 "service_time": {"dist": "exponential", "mean": "1ms"}},
      "router": {"model": "sharder", "target": "shards", "timeout": "0s"},
      "clients": {"model": "open_loop_client", "rate": ")" +
                           std::to_string(lambda * 1000) + R"(/s", "target": "router",
                  "timeout": "0s", "keys": 1000, "key_popularity": "zipf", "zipf_s": 1.0}
    }})";
  const auto file = scenario::load_scenario_text(text, "mmc-shards.json");
  constexpr int seeds = 10;
  constexpr double t_crit = 6.6;  // Student t, 9 degrees of freedom, two-sided 1e-4
  struct Stat {
    double sum = 0, squares = 0;
    void add(double x) {
      sum += x;
      squares += x * x;
    }
    double mean() const { return sum / seeds; }
    double half_width() const {
      const double var = (squares - sum * sum / seeds) / (seeds - 1);
      return t_crit * std::sqrt(std::max(var, 0.0) / seeds);
    }
  };
  std::vector<Stat> sojourn(shards), waited(shards), utilization(shards);
  for (int seed = 1; seed <= seeds; ++seed) {
    const auto r = scenario::run_scenario(file.variants.front(), static_cast<std::uint64_t>(seed));
    const auto& replicas = component(r, "shards").per_replica;
    REQUIRE(replicas.size() == shards);
    for (std::uint32_t i = 0; i < shards; ++i) {
      sojourn[i].add(figure(replicas[i].figures, "mean_sojourn_ms"));
      waited[i].add(figure(replicas[i].figures, "waited_fraction"));
      utilization[i].add(figure(replicas[i].figures, "utilization"));
    }
  }
  for (std::uint32_t i = 0; i < shards; ++i) {
    const double lambda_i = lambda * share[i];
    INFO("shard " << i << ": rho " << lambda_i / (c * mu) << ", mean sojourn " << sojourn[i].mean()
                  << " vs " << queueing::mmc_mean_sojourn(c, lambda_i, mu) << " ms, waited "
                  << waited[i].mean() << " vs " << queueing::erlang_c(c, lambda_i, mu));
    CHECK(std::abs(sojourn[i].mean() - queueing::mmc_mean_sojourn(c, lambda_i, mu)) <=
          sojourn[i].half_width());
    CHECK(std::abs(waited[i].mean() - queueing::erlang_c(c, lambda_i, mu)) <=
          waited[i].half_width());
    CHECK(std::abs(utilization[i].mean() - lambda_i / (c * mu)) <= utilization[i].half_width());
  }
  // The shards really differ: the test is of each at its own load, not of one load thrice.
  CHECK(*std::min_element(share.begin(), share.end()) < 0.8 * p_max);
}
