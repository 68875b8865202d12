// Client mechanics: the open loop's arrival process (constant spacing, Poisson statistics, rate
// schedule, load spikes, common random numbers), crash and restart, keys; the closed loop's
// send-wait-think cycle; determinism of a small run.
//
// Statistical checks use 5 standard errors (a correct implementation fails with probability
// below 1e-6 per check; the seeds are fixed, so a pass is reproducible, not lucky).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <set>
#include <vector>

#include "models/clients/closed_loop_client.hpp"
#include "models/clients/open_loop_client.hpp"
#include "models/services/server.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"

using namespace sim;
using models::ClosedLoopClient;
using models::ClosedLoopClientConfig;
using models::OpenLoopClient;
using models::OpenLoopClientConfig;
using models::Outcome;

namespace {

// Records every request's arrival and answers Ok after `delay` (never if `silent`).
class EchoServer : public Process {
 public:
  struct Arrival {
    Time at;
    NodeId from;
    models::RpcRequest request;
  };
  Duration delay = Duration::zero();
  bool silent = false;
  std::vector<Arrival> arrivals;

  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    arrivals.push_back({node.true_now(), message.from, message.as<models::RpcRequest>()});
    if (silent) return;
    if (delay == Duration::zero()) {
      answer(node, arrivals.size() - 1);
    } else {
      node.set_timer(delay, {1, arrivals.size() - 1});
    }
  }
  void on_timer(Node& node, TimerTag tag) override { answer(node, tag.value); }

  std::size_t count_between(Time from, Time to) const {  // arrivals in (from, to]
    return static_cast<std::size_t>(
        std::count_if(arrivals.begin(), arrivals.end(),
                      [&](const Arrival& a) { return a.at > from && a.at <= to; }));
  }

 private:
  void answer(Node& node, std::size_t i) {
    node.send(arrivals[i].from, models::RpcResponse{.call_id = arrivals[i].request.call_id});
  }
};

OpenLoopClientConfig open_loop(double rate, models::ArrivalKind kind) {
  OpenLoopClientConfig config;
  config.rate.per_second = rate;
  config.arrivals = kind;
  config.call.target.name = "server";
  return config;
}

struct OpenBench {
  OpenBench(const OpenLoopClientConfig& config, Time end, std::uint64_t seed = 5,
            std::size_t servers = 1)
      : h(seed, Time::zero(), end) {
    for (std::size_t i = 0; i < servers; ++i) {
      auto e = std::make_unique<EchoServer>();
      echoes.push_back(e.get());
      h.add_process("server", std::move(e));
    }
    client = h.build<OpenLoopClient>("client", 1, config).at(0);
  }
  std::vector<Time> arrival_times() const {
    std::vector<Time> times;
    for (const EchoServer* e : echoes)
      for (const auto& a : e->arrivals) times.push_back(a.at);
    std::sort(times.begin(), times.end());
    return times;
  }
  dsimtest::ModelHarness h;
  std::vector<EchoServer*> echoes;
  OpenLoopClient* client;
};

struct ScaleLoad {
  models::Model* model;
  double factor;
  void operator()() const { model->scale_load(factor); }
};

}  // namespace

TEST_CASE("open loop: constant arrivals are evenly spaced at 1/rate") {
  OpenBench b(open_loop(100, models::ArrivalKind::Constant), at_ms(1000));
  b.h.run();
  const auto& a = b.echoes[0]->arrivals;
  REQUIRE(a.size() == 100);  // a first phase in (0, 10ms], then every 10ms up to 1s
  CHECK(a.front().at <= at_ms(10));
  for (std::size_t i = 1; i < a.size(); ++i) CHECK(a[i].at - a[i - 1].at == 10_ms);
  CHECK(dsimtest::figure(*b.client, "requests_sent") == 100);
  CHECK(b.h.recorder.totals().succeeded() == 100);
}

TEST_CASE("open loop: Poisson arrivals have the rate and exponential gaps") {
  OpenBench b(open_loop(1000, models::ArrivalKind::Poisson), at_ms(100'000));
  b.h.run();
  const std::vector<Time> t = b.arrival_times();
  // Count ~ Poisson(100,000): SE 316.
  CHECK(std::abs(static_cast<double>(t.size()) - 1e5) < 5 * std::sqrt(1e5));
  // Exponential gaps have variance = mean^2; the sample variance's SE is mean^2 sqrt(8 / n).
  double sum = 0, sum2 = 0;
  for (std::size_t i = 1; i < t.size(); ++i) {
    const double gap = (t[i] - t[i - 1]).seconds();
    sum += gap;
    sum2 += gap * gap;
  }
  const double n = static_cast<double>(t.size() - 1);
  const double mean = sum / n;
  const double cv2 = (sum2 / n - mean * mean) / (mean * mean);
  CHECK(std::abs(cv2 - 1.0) < 5 * std::sqrt(8 / n));
}

TEST_CASE("open loop: the schedule changes the rate at its times") {
  auto config = open_loop(100, models::ArrivalKind::Constant);
  config.schedule = {{.at = 1'000_ms, .rate = {1000}},
                     {.at = 2'000_ms, .rate = {0}},
                     {.at = 3'000_ms, .rate = {10}}};
  OpenBench b(config, at_ms(4000));
  b.h.run();
  const EchoServer& e = *b.echoes[0];
  // A rate change carries the progress towards the next arrival: counts are exact to one.
  CHECK(std::abs(static_cast<double>(e.count_between(Time::zero(), at_ms(1000))) - 100) <= 1);
  CHECK(std::abs(static_cast<double>(e.count_between(at_ms(1000), at_ms(2000))) - 1000) <= 1);
  CHECK(e.count_between(at_ms(2000), at_ms(3000)) <= 1);
  CHECK(std::abs(static_cast<double>(e.count_between(at_ms(3000), at_ms(4000))) - 10) <= 1);
  CHECK(b.client->current_rate() == 10);
}

TEST_CASE("open loop: a load spike multiplies the current rate, and is undone by its inverse") {
  OpenBench b(open_loop(100, models::ArrivalKind::Constant), at_ms(3000));
  b.h.sim.schedule_at(at_ms(1000), ScaleLoad{b.client, 3.0});
  b.h.sim.schedule_at(at_ms(2000), ScaleLoad{b.client, 1.0 / 3.0});
  b.h.run();
  const EchoServer& e = *b.echoes[0];
  CHECK(std::abs(static_cast<double>(e.count_between(Time::zero(), at_ms(1000))) - 100) <= 1);
  CHECK(std::abs(static_cast<double>(e.count_between(at_ms(1000), at_ms(2000))) - 300) <= 1);
  CHECK(std::abs(static_cast<double>(e.count_between(at_ms(2000), at_ms(3000))) - 100) <= 1);
  CHECK(b.client->current_rate() == Approx(100));
  CHECK(b.client->scale_load(1.0));
}

TEST_CASE("open loop: a crash stops arrivals and abandons requests, restart resumes on schedule") {
  auto config = open_loop(100, models::ArrivalKind::Constant);
  config.schedule = {{.at = 1'500_ms, .rate = {200}}};
  OpenBench b(config, at_ms(3000));
  b.echoes[0]->delay = 20_ms;
  b.h.faults.crash(at_ms(1000), b.h.nodes("client").at(0), 1'000_ms);
  b.h.run();
  const EchoServer& e = *b.echoes[0];
  CHECK(std::abs(static_cast<double>(e.count_between(Time::zero(), at_ms(1000))) - 100) <= 1);
  CHECK(e.count_between(at_ms(1000), at_ms(2000)) == 0);
  CHECK(std::abs(static_cast<double>(e.count_between(at_ms(2000), at_ms(3000))) - 200) <= 1);
  // Sent every 10ms, answered after 20ms: two were in flight when it crashed.
  CHECK(b.h.recorder.abandoned_requests() == 2);
}

TEST_CASE("open loop: keys are drawn uniformly from 0 to keys - 1") {
  auto config = open_loop(1000, models::ArrivalKind::Poisson);
  config.mix.keys = 5;
  OpenBench b(config, at_ms(1000));
  b.h.run();
  std::set<std::uint64_t> keys;
  for (const auto& a : b.echoes[0]->arrivals) keys.insert(a.request.key);
  CHECK(keys == std::set<std::uint64_t>{0, 1, 2, 3, 4});
}

TEST_CASE("open loop: arrivals do not depend on the servers (common random numbers)") {
  // Same seed, different service (answer delays), timeouts and number of replicas: the caller
  // draws differently, the arrival times stay the same.
  auto config = open_loop(500, models::ArrivalKind::Poisson);
  OpenBench fast(config, at_ms(2000), 11, 1);
  config.call.timeout = 3_ms;
  OpenBench slow(config, at_ms(2000), 11, 3);
  for (EchoServer* e : slow.echoes) e->delay = 5_ms;
  fast.h.run();
  slow.h.run();
  CHECK(fast.arrival_times().size() > 900);
  CHECK(fast.arrival_times() == slow.arrival_times());
  CHECK(slow.h.recorder.totals().by_outcome[static_cast<int>(Outcome::Timeout)] > 0);
}

TEST_CASE("open loop: a rate of zero sends nothing") {
  OpenBench b(open_loop(0, models::ArrivalKind::Poisson), at_ms(1000));
  b.h.run();
  CHECK(b.echoes[0]->arrivals.empty());
}

TEST_CASE("open loop: a run is a pure function of the seed") {
  auto run = [](std::uint64_t seed) {
    dsimtest::ModelHarness h(seed, at_ms(100), at_ms(2000));
    h.build<models::Server>("server", 2, models::ServerConfig{});
    h.build<OpenLoopClient>("client", 3, open_loop(500, models::ArrivalKind::Poisson));
    h.run();
    return std::make_tuple(h.sim.fingerprint(), h.recorder.totals().requests,
                           h.recorder.latency().quantile_ns(0.99), h.sim.events_processed());
  };
  CHECK(run(21) == run(21));
  CHECK(run(21) != run(22));
}

TEST_CASE("closed loop: each user sends, waits for the answer, thinks, and sends again") {
  dsimtest::ModelHarness h(5, Time::zero(), at_ms(1000));
  auto e = std::make_unique<EchoServer>();
  EchoServer* echo = e.get();
  echo->delay = 5_ms;
  h.add_process("server", std::move(e));
  ClosedLoopClientConfig config;
  config.users = 2;
  config.think_time = Distribution::constant(10e6);
  config.call.target.name = "server";
  ClosedLoopClient* client = h.build<ClosedLoopClient>("client", 1, config).at(0);
  h.run();
  // Think 10ms, wait 5ms, think 10ms ...: requests at 10, 25, 40, ... ms; 67 per user by 1s.
  REQUIRE(echo->arrivals.size() == 134);
  for (std::size_t i = 0; i < echo->arrivals.size(); ++i)
    CHECK(echo->arrivals[i].at == at_ms(10 + 15 * static_cast<std::int64_t>(i / 2)));
  CHECK(dsimtest::figure(*client, "requests_sent") == 134);
  CHECK_FALSE(client->scale_load(2.0));  // closed-loop load is set by users, not by spikes
}

TEST_CASE("closed loop: a timeout ends the wait like an answer does") {
  dsimtest::ModelHarness h(5, Time::zero(), at_ms(1000));
  auto e = std::make_unique<EchoServer>();
  e->silent = true;
  h.add_process("server", std::move(e));
  ClosedLoopClientConfig config;
  config.users = 1;
  config.think_time = Distribution::constant(10e6);
  config.call.target.name = "server";
  config.call.timeout = 50_ms;
  h.build<ClosedLoopClient>("client", 1, config);
  h.run();
  // Requests at 10, 70, 130, ... ms, each timing out 50ms later: 16 ended by 1s (the 17th, sent
  // at 970ms, is still waiting).
  CHECK(h.recorder.totals().requests == 16);
  CHECK(h.recorder.totals().by_outcome[static_cast<int>(Outcome::Timeout)] == 16);
}

TEST_CASE("clients and server: the steady state allocates nothing per request") {
  dsimtest::ModelHarness h(9, at_ms(100), at_ms(3000));
  models::ServerConfig server;
  server.workers = 2;
  h.build<models::Server>("server", 2, server);
  auto open = open_loop(1500, models::ArrivalKind::Poisson);
  open.call.timeout = 3_ms;  // some time out: the timeout path runs too
  h.build<OpenLoopClient>("open", 2, open);
  ClosedLoopClientConfig closed;
  closed.call.target.name = "server";
  h.build<ClosedLoopClient>("closed", 1, closed);
  h.cluster.start();
  h.sim.run_until(at_ms(1000));  // tables and queues reach their working size
  const std::uint64_t before = allocation_count();
  const std::uint64_t events = h.sim.run_until(at_ms(3000));
  CHECK(allocation_count() - before == 0);
  CHECK(events > 20'000);
  CHECK(h.recorder.totals().by_outcome[static_cast<int>(Outcome::Timeout)] > 0);
}
