// Key popularity: named hot keys get their shares and the rest is uniform over the other keys;
// the draw procedure is pinned against a twin generator; the clients draw their keys through
// KeyPicker, and uniform and Zipf draws are exactly what they were before hot keys existed;
// configuration errors are scenario errors naming the JSON path.
//
// Statistical checks allow 5 standard errors: the count of a key of probability p in n draws is
// Binomial(n, p), standard deviation sqrt(n p (1 - p)), and a deviation of 5 of them has
// probability 6e-7 under the normal approximation. The uniformity of the other keys is a
// chi-square statistic over the m of them, given their total: chi-square with m - 1 degrees of
// freedom, mean m - 1 and standard deviation sqrt(2 (m - 1)); it is allowed 5 of those above
// its mean. The seeds are fixed, so a pass is reproducible, not lucky.
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "models/clients/closed_loop_client.hpp"
#include "models/clients/open_loop_client.hpp"
#include "models/shared/hot_keys.hpp"
#include "models/shared/zipf.hpp"
#include "scenario/scenario.hpp"
#include "scenario/scenario_error.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"

using namespace sim;
using models::HotKey;
using models::HotKeySampler;
using models::KeyPopularity;

namespace {

double binomial_tolerance(double n, double p) {
  return 5 * std::sqrt(n * p * (1 - p));
}

// Answers every request Ok at once and keeps it.
class KeyRecorder : public Process {
 public:
  std::vector<models::RpcRequest> requests;
  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    const auto request = message.as<models::RpcRequest>();
    requests.push_back(request);
    node.send(message.from, models::RpcResponse{.call_id = request.call_id});
  }
  std::vector<std::uint64_t> keys() const {
    std::vector<std::uint64_t> out;
    for (const auto& r : requests) out.push_back(r.key);
    return out;
  }
};

// The keys a client component "client" of model M sent in a 1 s run (one node, zero latency:
// in the order drawn), and that node's stream "keys" as it was at the start.
template <class M, class Config>
std::pair<std::vector<std::uint64_t>, Rng> client_keys(Config config) {
  dsimtest::ModelHarness h(3, Time::zero(), at_ms(1000));
  auto r = std::make_unique<KeyRecorder>();
  KeyRecorder* recorder = r.get();
  h.add_process("server", std::move(r));
  config.call.target.name = "server";
  h.build<M>("client", 1, config);
  h.run();
  return {recorder->keys(), h.node("client").stream("keys")};
}

models::OpenLoopClientConfig open_loop() {
  models::OpenLoopClientConfig c;
  c.rate.per_second = 500;
  return c;
}

models::ClosedLoopClientConfig closed_loop() {
  models::ClosedLoopClientConfig c;
  c.users = 4;
  c.think_time = Distribution::constant(10e6);
  return c;
}

// The problems the loader finds in a client of `model` with the extra keys `extra`.
std::vector<scenario::Problem> problems(const std::string& model, const std::string& extra) {
  const std::string text = R"({"name": "k", "duration": "1s", "components": {
      "server": {"model": "server"},
      "clients": {"model": ")" +
                           model + R"(", "target": "server")" + extra + "}}}";
  try {
    scenario::load_scenario_text(text, "k.json");
  } catch (const scenario::ScenarioError& e) {
    return e.problems();
  }
  return {};
}

// The one problem's path, "" if there is none or more than one.
std::string problem_path(const std::string& model, const std::string& extra) {
  const auto found = problems(model, extra);
  for (const auto& p : found) UNSCOPED_INFO(p.path << ": " << p.message);
  return found.size() == 1 ? found.front().path : "";
}

}  // namespace

TEST_CASE("hot keys: each named key gets its share, the other keys the rest uniformly") {
  const std::uint64_t keys = 100;
  const std::vector<HotKey> hot{{7, 0.3}, {42, 0.2}, {99, 0.05}, {0, 0.1}};
  const HotKeySampler sampler(keys, hot);
  CHECK(sampler.rest() == Approx(0.35));
  for (const HotKey& h : hot)
    CHECK(sampler.probability(static_cast<std::uint64_t>(h.key)) == Approx(h.share));
  CHECK(sampler.probability(1) == Approx(0.35 / 96));

  const std::uint32_t n = 400'000;
  Rng rng(17);
  std::vector<double> counts(keys);
  for (std::uint32_t i = 0; i < n; ++i) ++counts.at(sampler.sample(rng));
  for (const HotKey& h : hot) {
    INFO("key " << h.key);
    CHECK(std::abs(counts[static_cast<std::size_t>(h.key)] - n * h.share) <
          binomial_tolerance(n, h.share));
  }
  // The other 96 keys: every one drawn, uniformly (chi-square given their total).
  double rest = 0;
  for (std::uint64_t k = 0; k < keys; ++k)
    if (sampler.probability(k) < 0.01) rest += counts[k];
  CHECK(std::abs(rest - n * 0.35) < binomial_tolerance(n, 0.35));
  const double m = 96, expected = rest / m;
  double chi2 = 0, fewest = n;
  for (std::uint64_t k = 0; k < keys; ++k) {
    if (sampler.probability(k) > 0.01) continue;
    chi2 += (counts[k] - expected) * (counts[k] - expected) / expected;
    fewest = std::min(fewest, counts[k]);
  }
  CHECK(chi2 < (m - 1) + 5 * std::sqrt(2 * (m - 1)));
  CHECK(fewest > 0);
}

TEST_CASE("hot keys: one uniform picks a named key or the rest, Rng::below the other key") {
  // Named keys out of order; the others are 1, 2, 5, 6, 7, 8. A twin generator replays the
  // documented procedure: u < cumulative share i gives named key i (in the configuration's
  // order); beyond them, below(6) is the index among the others, in key order.
  const std::vector<HotKey> hot{{9, 0.1}, {0, 0.1}, {4, 0.1}, {3, 0.1}};
  const std::vector<std::uint64_t> others{1, 2, 5, 6, 7, 8};
  const HotKeySampler sampler(10, hot);
  Rng rng(5), twin(5);
  std::set<std::uint64_t> seen;
  for (int i = 0; i < 10'000; ++i) {
    const double u = twin.uniform01();
    double cumulative = 0;
    std::uint64_t expected = 10;
    for (const HotKey& h : hot) {
      cumulative += h.share;
      if (u < cumulative) {
        expected = static_cast<std::uint64_t>(h.key);
        break;
      }
    }
    if (expected == 10) expected = others.at(twin.below(others.size()));
    const std::uint64_t key = sampler.sample(rng);
    REQUIRE(key == expected);
    seen.insert(key);
  }
  CHECK(seen.size() == 10);
}

TEST_CASE("hot keys: shares adding up to 1 leave nothing to the other keys") {
  SECTION("exactly 1") {
    const HotKeySampler sampler(1000, {{1, 0.5}, {2, 0.5}});
    CHECK(sampler.rest() == 0);
    CHECK(sampler.probability(5) == 0);
    Rng rng(1);
    for (int i = 0; i < 1000; ++i) {
      const std::uint64_t key = sampler.sample(rng);
      REQUIRE((key == 1 || key == 2));
    }
  }
  SECTION("ten shares of 0.1 (0.9999999999999999 in binary) name every one of 10 keys") {
    std::vector<HotKey> hot;
    for (std::int64_t k = 0; k < 10; ++k) hot.push_back({k, 0.1});
    CHECK(HotKeySampler::check(10, hot).empty());
    const HotKeySampler sampler(10, hot);
    CHECK(sampler.rest() == 0);
    Rng rng(2);
    for (int i = 0; i < 1000; ++i) REQUIRE(sampler.sample(rng) < 10);
  }
  CHECK_THROWS_AS(HotKeySampler(10, {{1, 0.7}, {2, 0.7}}), std::invalid_argument);
  CHECK_THROWS_AS(HotKeySampler(2, {{0, 0.4}, {1, 0.4}}), std::invalid_argument);  // no rest key
}

TEST_CASE("key popularity: uniform and zipf draws are exactly what they were") {
  const models::KeyPicker uniform(KeyPopularity::Uniform, 1000, 1.0);
  const models::KeyPicker zipf(KeyPopularity::Zipf, 1000, 1.2);
  const models::ZipfSampler zipf_sampler(1000, 1.2);
  Rng a(3), b(3);
  for (int i = 0; i < 1000; ++i) {
    REQUIRE(uniform.pick(a) == b.below(1000));
    REQUIRE(zipf.pick(a) == zipf_sampler.sample(b));
  }
}

TEST_CASE("clients draw their keys from the stream \"keys\" through the configured popularity") {
  SECTION("open loop, uniform: Rng::below(keys), as before hot keys existed") {
    auto [keys, stream] = client_keys<models::OpenLoopClient>(open_loop());
    REQUIRE(keys.size() > 400);
    for (const std::uint64_t key : keys) REQUIRE(key == stream.below(1000));
  }
  SECTION("closed loop, uniform: Rng::below(keys), as before it had key options") {
    auto [keys, stream] = client_keys<models::ClosedLoopClient>(closed_loop());
    REQUIRE(keys.size() > 300);
    for (const std::uint64_t key : keys) REQUIRE(key == stream.below(1000));
  }
  SECTION("open loop, zipf") {
    auto config = open_loop();
    config.mix.key_popularity = KeyPopularity::Zipf;
    config.mix.zipf_s = 0.9;
    auto [keys, stream] = client_keys<models::OpenLoopClient>(config);
    const models::ZipfSampler zipf(1000, 0.9);
    for (const std::uint64_t key : keys) REQUIRE(key == zipf.sample(stream));
  }
  SECTION("open and closed loop, hot keys") {
    const std::vector<HotKey> hot{{7, 0.25}, {3, 0.5}};
    const HotKeySampler sampler(20, hot);
    auto open = open_loop();
    open.mix.keys = 20;
    open.mix.key_popularity = KeyPopularity::HotKeys;
    open.mix.hot_keys = hot;
    auto closed = closed_loop();
    closed.mix.keys = 20;
    closed.mix.key_popularity = KeyPopularity::HotKeys;
    closed.mix.hot_keys = hot;
    auto [open_keys, open_stream] = client_keys<models::OpenLoopClient>(open);
    for (const std::uint64_t key : open_keys) REQUIRE(key == sampler.sample(open_stream));
    auto [closed_keys, closed_stream] = client_keys<models::ClosedLoopClient>(closed);
    for (const std::uint64_t key : closed_keys) REQUIRE(key == sampler.sample(closed_stream));
  }
}

TEST_CASE("key options: configuration errors are scenario errors naming the JSON path") {
  const std::string base = R"(, "keys": 10, "key_popularity": "hot_keys")";
  for (const std::string model : {"open_loop_client", "closed_loop_client"}) {
    INFO(model);
    const std::string at = "/components/clients/";
    CHECK(problem_path(model, base) == at + "hot_keys");  // required
    CHECK(problem_path(model, R"(, "hot_keys": [{"key": 1, "share": 0.5}])") ==
          at + "hot_keys");  // only with key_popularity hot_keys
    CHECK(problem_path(model, base + R"(, "hot_keys": [{"key": 1, "share": 0.5},
                                                       {"key": 10, "share": 0.1}])") ==
          at + "hot_keys/1/key");  // not below keys
    CHECK(problem_path(model, base + R"(, "hot_keys": [{"key": 1, "share": 0.1},
                                                       {"key": 2, "share": 0.1},
                                                       {"key": 1, "share": 0.1}])") ==
          at + "hot_keys/2/key");  // named twice
    CHECK(problem_path(model, base + R"(, "hot_keys": [{"key": 1, "share": 0}])") ==
          at + "hot_keys/0/share");
    CHECK(problem_path(model, base + R"(, "hot_keys": [{"key": 1, "share": 1.5}])") ==
          at + "hot_keys/0/share");
    CHECK(problem_path(model, base + R"(, "hot_keys": [{"key": 1, "share": 0.6},
                                                       {"key": 2, "share": 0.6}])") ==
          at + "hot_keys");  // more than 1
    CHECK(problem_path(model, R"(, "keys": 2, "key_popularity": "hot_keys",
                                 "hot_keys": [{"key": 0, "share": 0.4}, {"key": 1, "share": 0.4}])") ==
          at + "hot_keys");  // no other key for the remaining 0.2
    CHECK(problem_path(model, base + R"(, "hot_keys": [{"key": 1, "sahre": 0.1}])") ==
          at + "hot_keys/0/sahre");
    CHECK(problem_path(model, R"(, "write_fraction": 1.5)") == at + "write_fraction");
    CHECK(problem_path(model, R"(, "key_popularity": "zipf", "keys": 20000000)") == at + "keys");
    CHECK(problems(model, base + R"(, "hot_keys": [{"key": 1, "share": 0.5},
                                                   {"key": 9, "share": 0.5}])")
              .empty());
    CHECK(problems(model, R"(, "key_popularity": "zipf", "zipf_s": 1.1,
                             "write_fraction": 0.25)")
              .empty());
  }
  const auto found = problems("open_loop_client", base + R"(, "hot_keys": [{"key": 1, "share": 0.6},
                                                             {"key": 2, "share": 0.6}])");
  REQUIRE(found.size() == 1);
  CHECK(found.front().message == "the shares add up to 1.2, more than 1");
}
