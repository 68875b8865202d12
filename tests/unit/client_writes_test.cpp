// Reads and writes from the clients: a `write_fraction` of the requests carry kOpWrite, drawn
// from the stream "operations" so that keys and arrivals stay what they were; writes are
// idempotent unless the client says otherwise; a run through the loader with hot keys, writes
// and a cache keeps the cache's and the clients' counts consistent.
//
// The number of writes among n requests is Binomial(n, f): it is allowed 5 standard deviations,
// sqrt(n f (1 - f)) (a correct client fails with probability 6e-7; the seeds are fixed).
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/clients/closed_loop_client.hpp"
#include "models/clients/open_loop_client.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"

using namespace sim;

namespace {

// Answers every request Ok at once and keeps it, with its arrival time.
class RequestLog : public Process {
 public:
  std::vector<std::pair<Time, models::RpcRequest>> requests;
  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    const auto request = message.as<models::RpcRequest>();
    requests.emplace_back(node.true_now(), request);
    node.send(message.from, models::RpcResponse{.call_id = request.call_id});
  }
  std::size_t writes() const {
    std::size_t n = 0;
    for (const auto& r : requests) n += r.second.operation == models::kOpWrite;
    return n;
  }
};

struct Run {
  std::vector<std::pair<Time, models::RpcRequest>> requests;
  std::size_t writes = 0;
  double writes_sent = 0, requests_sent = 0;
};

// Runs one client node of model M against a RequestLog for `ms` milliseconds.
template <class M, class Config>
Run run(Config config, std::int64_t ms, std::uint64_t seed = 7) {
  dsimtest::ModelHarness h(seed, Time::zero(), at_ms(ms));
  auto l = std::make_unique<RequestLog>();
  RequestLog* log = l.get();
  h.add_process("server", std::move(l));
  config.call.target.name = "server";
  M* client = h.build<M>("client", 1, config).at(0);
  h.run();
  return {log->requests, log->writes(), dsimtest::figure(*client, "writes_sent"),
          dsimtest::figure(*client, "requests_sent")};
}

models::OpenLoopClientConfig open_loop(double write_fraction) {
  models::OpenLoopClientConfig c;
  c.rate.per_second = 2000;
  c.mix.write_fraction.value = write_fraction;
  return c;
}

}  // namespace

TEST_CASE("open loop: a write_fraction of the requests are writes, within binomial error") {
  for (const double f : {0.1, 0.5, 0.9}) {
    INFO("write_fraction " << f);
    const Run r = run<models::OpenLoopClient>(open_loop(f), 10'000);
    const double n = static_cast<double>(r.requests.size());
    REQUIRE(n > 19'000);
    CHECK(std::abs(static_cast<double>(r.writes) - n * f) < 5 * std::sqrt(n * f * (1 - f)));
    CHECK(r.writes_sent == static_cast<double>(r.writes));
    CHECK(r.requests_sent == n);
    for (const auto& [at, request] : r.requests) {
      REQUIRE((request.operation == models::kOpRead || request.operation == models::kOpWrite));
      REQUIRE(request.idempotent == 1);  // a keyed write of a value is idempotent
    }
  }
}

TEST_CASE("closed loop: a write_fraction of the requests are writes, within binomial error") {
  models::ClosedLoopClientConfig config;
  config.users = 10;
  config.think_time = Distribution::constant(1e6);
  config.mix.write_fraction.value = 0.3;
  const Run r = run<models::ClosedLoopClient>(config, 2'000);
  const double n = static_cast<double>(r.requests.size());
  REQUIRE(n > 19'000);
  CHECK(std::abs(static_cast<double>(r.writes) - n * 0.3) < 5 * std::sqrt(n * 0.3 * 0.7));
  CHECK(r.writes_sent == static_cast<double>(r.writes));
}

TEST_CASE("writes change neither the arrivals nor the keys (their own stream)") {
  const Run reads = run<models::OpenLoopClient>(open_loop(0), 1'000, 3);
  const Run mixed = run<models::OpenLoopClient>(open_loop(0.5), 1'000, 3);
  CHECK(reads.writes == 0);
  CHECK(reads.writes_sent == 0);
  CHECK(mixed.writes > 0);
  REQUIRE(reads.requests.size() == mixed.requests.size());
  for (std::size_t i = 0; i < reads.requests.size(); ++i) {
    REQUIRE(reads.requests[i].first == mixed.requests[i].first);
    REQUIRE(reads.requests[i].second.key == mixed.requests[i].second.key);
  }
}

TEST_CASE("a write_fraction of 1 writes every time, idempotent false marks writes too") {
  auto config = open_loop(1.0);
  config.call.idempotent = false;
  const Run r = run<models::OpenLoopClient>(config, 500);
  REQUIRE(!r.requests.empty());
  CHECK(r.writes == r.requests.size());
  for (const auto& [at, request] : r.requests) CHECK(request.idempotent == 0);
}

TEST_CASE("hot keys and writes through a cache: the counts agree, the writes invalidate") {
  // Over a zero-latency network, every request the clients send in the run reaches the cache in
  // it: its writes are the clients' writes, its reads are hits + misses (no early refresh).
  const std::string text = R"({"name": "w", "duration": "10s", "warmup": "0s",
    "components": {
      "store": {"model": "server", "workers": 8,
                "service_time": {"dist": "constant", "value": "1ms"}},
      "cache": {"model": "cache", "store": "store", "ttl": "2s"},
      "clients": {"model": "open_loop_client", "count": 2, "rate": "500/s", "target": "cache",
                  "keys": 50, "key_popularity": "hot_keys",
                  "hot_keys": [{"key": 3, "share": 0.4}, {"key": 17, "share": 0.1}],
                  "write_fraction": 0.05}
    }})";
  const auto file = scenario::load_scenario_text(text, "w.json");
  const scenario::RunResult r = scenario::run_scenario(file.variants.front(), 4);
  auto figure = [&](const std::string& component, const std::string& name) {
    for (const auto& c : r.components)
      if (c.component == component)
        for (const auto& f : c.figures)
          if (f.name == name) return f.value;
    FAIL("no figure " << component << "." << name);
    return 0.0;
  };
  const double sent = figure("clients", "requests_sent");
  const double writes = figure("clients", "writes_sent");
  CHECK(std::abs(writes - sent * 0.05) < 5 * std::sqrt(sent * 0.05 * 0.95));
  CHECK(figure("cache", "requests") == sent);
  CHECK(figure("cache", "writes") == writes);
  CHECK(figure("cache", "hits") + figure("cache", "misses") == sent - writes);
  CHECK(figure("cache", "hit_ratio") == Approx(figure("cache", "hits") / (sent - writes)));
  // The hot key 3 is written about 500 x 2 x 0.4 x 0.05 = 20 times a second and cached almost
  // always: nearly each of those writes drops a value.
  CHECK(figure("cache", "invalidations") > 0.5 * writes * 0.4);
  CHECK(figure("cache", "invalidations") <= writes);
  CHECK(r.requests.totals().succeeded() == r.requests.totals().requests);
}
