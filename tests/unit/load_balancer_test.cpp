// Load balancer mechanics over a zero-latency network, so that every time is known exactly:
// each policy's choices, health-check thresholds, outlier ejection and its growing duration,
// no traffic to a backend out of rotation, Rejected when none is left (and panic mode),
// timeouts and deadlines, the health-probe protocol, and no allocation per request.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/balancing/lb_policy.hpp"
#include "models/balancing/load_balancer.hpp"
#include "models/balancing/outlier_detector.hpp"
#include "models/clients/open_loop_client.hpp"
#include "models/services/server.hpp"
#include "models/shared/health.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"

using namespace sim;
using models::BackendPicker;
using models::LbPolicy;
using models::LoadBalancer;
using models::LoadBalancerConfig;
using models::Outcome;

namespace {

/// A scripted backend: records every request it receives; answers it at once with `outcome`,
/// or holds it (until release()) when `hold` is set. Answers health probes, ready or not.
class ScriptedBackend : public Process {
 public:
  struct Got {
    std::uint64_t key;
    Time at, sent_at;
  };
  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    if (message.holds<models::HealthProbe>()) {
      const auto probe = message.as<models::HealthProbe>();
      ++probes;
      node.send(message.from,
                models::HealthReply{.seq = probe.seq, .ready = static_cast<std::uint8_t>(ready)});
      return;
    }
    const auto request = message.as<models::RpcRequest>();
    if (record) got.push_back({request.key, node.true_now(), message.sent_at});
    if (hold) {
      held.push_back({message.from, request.call_id});
    } else {
      node.send(message.from, models::RpcResponse{.call_id = request.call_id, .outcome = outcome});
    }
  }
  void release(Node& node) {
    for (const auto& [to, call_id] : held)
      node.send(to, models::RpcResponse{.call_id = call_id, .outcome = Outcome::Ok});
    held.clear();
  }

  Outcome outcome = Outcome::Ok;
  bool hold = false;
  bool ready = true;
  bool record = true;
  int probes = 0;
  std::vector<Got> got;
  std::vector<std::pair<NodeId, std::uint64_t>> held;
};

/// An event that sends RpcRequest{call_id, key, deadline} from one node to another.
struct Send {
  Cluster* cluster;
  NodeId from, to;
  std::uint64_t call_id, key;
  Time deadline = Time::max();
  void operator()() const {
    cluster->node(from).send(
        to, models::RpcRequest{.call_id = call_id, .key = key, .deadline = deadline});
  }
};

struct SetOutcome {
  ScriptedBackend* backend;
  Outcome outcome;
  void operator()() const { backend->outcome = outcome; }
};

struct SetReady {
  ScriptedBackend* backend;
  bool ready;
  void operator()() const { backend->ready = ready; }
};

struct Release {
  ScriptedBackend* backend;
  Node* node;
  void operator()() const { backend->release(*node); }
};

/// A client probe, `n` scripted backends ("api-0" ...) and one load balancer ("lb-0").
struct Bench {
  Bench(std::size_t n, LoadBalancerConfig config, Time end = at_ms(10'000))
      : h(11, Time::zero(), end) {
    auto p = std::make_unique<dsimtest::ResponseProbe>();
    client = p.get();
    client_id = h.add_process("client", std::move(p));
    for (std::size_t i = 0; i < n; ++i) {
      auto b = std::make_unique<ScriptedBackend>();
      backends.push_back(b.get());
      h.add_process("api", std::move(b));
    }
    config.backends.name = "api";
    lb = h.build<LoadBalancer>("lb", 1, config).at(0);
    lb_id = h.nodes("lb").at(0);
  }
  void send_at(Time t, std::uint64_t call_id, std::uint64_t key = 0, Time deadline = Time::max()) {
    h.sim.schedule_at(t, Send{&h.cluster, client_id, lb_id, call_id, key, deadline});
  }
  /// Requests 1..count, every `gap`, from `first`; request i has key i.
  void stream(Time first, Duration gap, std::uint64_t count) {
    for (std::uint64_t i = 0; i < count; ++i)
      send_at(first + gap * static_cast<std::int64_t>(i), i + 1, i + 1);
  }
  /// Index of the backend that received the request with `key` first.
  int backend_of(std::uint64_t key) const {
    for (std::size_t b = 0; b < backends.size(); ++b)
      for (const auto& g : backends[b]->got)
        if (g.key == key) return static_cast<int>(b);
    return -1;
  }
  /// The state changes of the LB's timeline for backend b, as (ms, state).
  std::vector<std::pair<double, std::string>> timeline(std::size_t b) const {
    std::vector<std::pair<double, std::string>> out;
    for (const auto& c : lb->state_timelines().at(b)->changes())
      out.emplace_back(static_cast<double>(c.at.ns()) / 1e6, c.state);  // exact for whole ms
    return out;
  }

  dsimtest::ModelHarness h;
  dsimtest::ResponseProbe* client;
  NodeId client_id;
  std::vector<ScriptedBackend*> backends;
  LoadBalancer* lb;
  NodeId lb_id;
};

LoadBalancerConfig policy(LbPolicy p) {
  LoadBalancerConfig config;
  config.policy = p;
  return config;
}

LoadBalancerConfig with_health_checks(LoadBalancerConfig config, int unhealthy = 3,
                                      int healthy = 2) {
  config.health_check.enabled = true;
  config.health_check.interval = 100_ms;
  config.health_check.timeout = 20_ms;
  config.health_check.unhealthy_threshold = unhealthy;
  config.health_check.healthy_threshold = healthy;
  return config;
}

/// A figure of a part that is not a Model (an OutlierDetector), by name.
template <class T>
double figure_of(const T& part, const std::string& name) {
  models::Figures figures;
  part.figures(figures);
  for (const auto& f : figures.items())
    if (f.name == name) return f.value;
  throw std::out_of_range("no figure named " + name);
}

std::vector<std::uint32_t> iota(std::uint32_t n) {
  std::vector<std::uint32_t> v(n);
  for (std::uint32_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

}  // namespace

// ---- policies ----

TEST_CASE("load balancer: round robin sends requests to the backends in turn") {
  Bench b(4, policy(LbPolicy::RoundRobin));
  b.stream(at_ms(1), 1_ms, 12);
  b.h.run();
  for (std::uint64_t key = 1; key <= 12; ++key) CHECK(b.backend_of(key) == int((key - 1) % 4));
  REQUIRE(b.client->received.size() == 12);
  for (const auto& r : b.client->received) CHECK(r.outcome == Outcome::Ok);
  // Answers carry the caller's own call ids, in order.
  for (std::size_t i = 0; i < 12; ++i) CHECK(b.client->received[i].call_id == i + 1);
  CHECK(dsimtest::figure(*b.lb, "forwarded") == 12);
  CHECK(dsimtest::figure(*b.lb, "max_backend_share") == Approx(0.25));
  CHECK(dsimtest::figure(*b.lb, "min_backend_share") == Approx(0.25));
  CHECK(b.lb->in_flight() == 0);
}

TEST_CASE("load balancer: random spreads requests uniformly") {
  Bench b(4, policy(LbPolicy::Random));
  b.stream(at_ms(1), 1_ms, 4000);
  b.h.run();
  // Binomial(4000, 1/4): standard deviation 27.4; allow 4.5 of them.
  for (const auto* backend : b.backends)
    CHECK(std::abs(static_cast<double>(backend->got.size()) - 1000.0) < 4.5 * 27.4);
}

TEST_CASE("load balancer: least_outstanding prefers the backend with fewest in flight") {
  Bench b(4, policy(LbPolicy::LeastOutstanding));
  for (std::size_t i = 0; i < 4; ++i) b.backends[i]->hold = i != 2;  // only api-2 answers
  b.stream(at_ms(1), 1_ms, 20);
  b.h.run();
  // All idle: ties in turn (0, 1, 2); then 0, 1 and 3 hold one each and 2 has none: after the
  // tie between 2 and 3 goes to 3 (the cursor is past 2), everything goes to 2.
  CHECK(b.backend_of(1) == 0);
  CHECK(b.backend_of(2) == 1);
  CHECK(b.backend_of(3) == 2);
  CHECK(b.backend_of(4) == 3);
  for (std::uint64_t key = 5; key <= 20; ++key) CHECK(b.backend_of(key) == 2);
  CHECK(b.lb->outstanding(0) == 1);
  CHECK(b.lb->outstanding(2) == 0);
}

TEST_CASE("least_outstanding breaks ties in turn") {
  BackendPicker picker(LbPolicy::LeastOutstanding, Rng(1));
  const auto candidates = iota(3);
  const std::vector<std::uint32_t> outstanding(3, 0);
  const std::vector<std::uint64_t> seeds(3, 0);
  std::vector<std::uint32_t> picks;
  for (int i = 0; i < 6; ++i) picks.push_back(picker.pick(candidates, outstanding, seeds, 0));
  CHECK(picks == std::vector<std::uint32_t>{0, 1, 2, 0, 1, 2});
}

TEST_CASE("p2c picks the less loaded of two distinct random backends") {
  // Four backends with 5, 0, 3, 9 in flight. The pair is uniform over the 6 pairs and the less
  // loaded wins, so a backend of rank r (0: least loaded) wins 2 (3 - r) / 12 of the picks:
  // backend 1: 1/2, backend 2: 1/3, backend 0: 1/6, backend 3 (the most loaded): never.
  BackendPicker picker(LbPolicy::PowerOfTwo, Rng(2));
  const auto candidates = iota(4);
  const std::vector<std::uint32_t> outstanding{5, 0, 3, 9};
  const std::vector<std::uint64_t> seeds(4, 0);
  std::map<std::uint32_t, double> wins;
  const int n = 60'000;
  for (int i = 0; i < n; ++i) ++wins[picker.pick(candidates, outstanding, seeds, 0)];
  CHECK(wins[3] == 0);
  const double expected[4] = {1.0 / 6, 1.0 / 2, 1.0 / 3, 0};
  for (std::uint32_t b = 0; b < 3; ++b) {
    const double sd = std::sqrt(expected[b] * (1 - expected[b]) / n);
    CHECK(std::abs(wins[b] / n - expected[b]) < 4.5 * sd);
  }
  // One candidate: it, whatever its load.
  const std::vector<std::uint32_t> one{3};
  CHECK(picker.pick(one, outstanding, seeds, 0) == 3);
}

TEST_CASE("load balancer: p2c never sends to the most loaded of two backends") {
  Bench b(2, policy(LbPolicy::PowerOfTwo));
  b.backends[0]->hold = true;  // api-0 never answers: after one request it is the more loaded
  b.stream(at_ms(1), 1_ms, 50);
  b.h.run();
  CHECK(b.backends[0]->got.size() <= 1);
  CHECK(b.backends[1]->got.size() >= 49);
}

TEST_CASE("sticky: a key stays on its backend, and a backend that leaves remaps only its keys") {
  BackendPicker picker(LbPolicy::Sticky, Rng(3));
  const std::uint32_t n = 10;
  std::vector<std::uint64_t> seeds;
  for (std::uint32_t i = 0; i < n; ++i) seeds.push_back(fnv1a64("api[" + std::to_string(i) + "]"));
  const std::vector<std::uint32_t> outstanding(n, 0);
  const auto all = iota(n);
  std::vector<std::uint32_t> without_3;
  for (const std::uint32_t i : all)
    if (i != 3) without_3.push_back(i);
  const std::uint64_t keys = 10'000;
  std::vector<std::uint32_t> before(keys);
  std::vector<int> per_backend(n, 0), moved_to(n, 0);
  for (std::uint64_t k = 0; k < keys; ++k) {
    before[k] = picker.pick(all, outstanding, seeds, k);
    ++per_backend[before[k]];
    CHECK(picker.pick(all, outstanding, seeds, k) == before[k]);  // stable
  }
  // Balanced: Binomial(10000, 0.1) per backend, sd 30.
  for (const int c : per_backend) CHECK(std::abs(c - 1000) < 4.5 * 30);
  std::uint64_t moved = 0;
  for (std::uint64_t k = 0; k < keys; ++k) {
    const std::uint32_t after = picker.pick(without_3, outstanding, seeds, k);
    if (before[k] == 3) {
      CHECK(after != 3);
      ++moved_to[after];
      ++moved;
    } else {
      CHECK(after == before[k]);  // minimal disruption: nothing else moves
    }
    // And when backend 3 returns, every key is back where it was.
    CHECK(picker.pick(all, outstanding, seeds, k) == before[k]);
  }
  CHECK(moved == static_cast<std::uint64_t>(per_backend[3]));
  // The orphans spread over the other nine (each gets about a ninth of them).
  for (std::uint32_t i = 0; i < n; ++i)
    if (i != 3) CHECK(moved_to[i] > 0);
}

TEST_CASE("load balancer: sticky sends a key to the same backend every time") {
  Bench b(5, policy(LbPolicy::Sticky));
  for (std::uint64_t i = 0; i < 200; ++i)  // keys 0..99, twice
    b.send_at(at_ms(1) + 1_ms * static_cast<std::int64_t>(i), i + 1, i % 100);
  b.h.run();
  int distinct = 0;
  for (const auto* backend : b.backends) {
    distinct += !backend->got.empty();
    for (const auto& g : backend->got) {
      const auto n = std::count_if(backend->got.begin(), backend->got.end(),
                                   [&](const ScriptedBackend::Got& x) { return x.key == g.key; });
      CHECK(n == 2);  // both requests of this key came here
    }
  }
  CHECK(distinct == 5);
}

// ---- active health checks ----

TEST_CASE(
    "health checks take a crashed backend out after unhealthy_threshold failed probes "
    "and bring it back after healthy_threshold good ones") {
  dsimtest::ModelHarness h(5, Time::zero(), at_ms(5000));
  h.build<models::Server>("api", 3, models::ServerConfig{});
  LoadBalancerConfig config = with_health_checks(policy(LbPolicy::RoundRobin), 3, 2);
  config.backends.name = "api";
  LoadBalancer* lb = h.build<LoadBalancer>("lb", 1, config).at(0);
  h.faults.crash(at_ms(1050), h.nodes("api").at(1), 2000_ms);  // back up at 3050ms
  h.run();
  // Probes every 100ms from 0. Those of 1100, 1200 and 1300ms time out 20ms later: out at
  // 1320ms. After the restart, those of 3100 and 3200ms succeed at once: back at 3200ms.
  const auto& changes = lb->state_timelines().at(1)->changes();
  REQUIRE(changes.size() == 3);
  CHECK(changes[0].at == Time::zero());
  CHECK(std::string(changes[0].state) == "in_rotation");
  CHECK(changes[1].at == at_ms(1320));
  CHECK(std::string(changes[1].state) == "unhealthy");
  CHECK(changes[2].at == at_ms(3200));
  CHECK(std::string(changes[2].state) == "in_rotation");
  for (std::size_t b : {0u, 2u}) CHECK(lb->state_timelines().at(b)->changes().size() == 1);
  // Failed probes: those sent at 1100, 1200, ..., 3000ms.
  CHECK(dsimtest::figure(*lb, "health_check_failures") == 20);
  CHECK(dsimtest::figure(*lb, "marked_unhealthy") == 1);
  CHECK(lb->in_rotation(1));
}

TEST_CASE("health checks: a probe answered 'not ready' fails, a success resets the count") {
  Bench b(2, with_health_checks(policy(LbPolicy::RoundRobin), 2, 3), at_ms(2000));
  // Not ready for the probes of 100ms, (ready at 200ms), not ready at 300 and 400ms: the two
  // failures in a row at 300 and 400ms take it out. Ready again from 450ms: the probes of 500,
  // 600 and 700ms bring it back at 700ms.
  b.h.sim.schedule_at(at_ms(50), SetReady{b.backends[0], false});
  b.h.sim.schedule_at(at_ms(150), SetReady{b.backends[0], true});
  b.h.sim.schedule_at(at_ms(250), SetReady{b.backends[0], false});
  b.h.sim.schedule_at(at_ms(450), SetReady{b.backends[0], true});
  b.h.run();
  const auto t = b.timeline(0);
  REQUIRE(t.size() == 3);
  CHECK(t[1] == std::pair<double, std::string>{400, "unhealthy"});
  CHECK(t[2] == std::pair<double, std::string>{700, "in_rotation"});
  CHECK(dsimtest::figure(*b.lb, "health_check_failures") == 3);
  CHECK(b.backends[0]->probes == 21);  // 0, 100, ..., 2000ms
}

TEST_CASE("a backend out of rotation receives no request at all") {
  Bench b(3, with_health_checks(policy(LbPolicy::RoundRobin), 2, 2), at_ms(3000));
  b.h.sim.schedule_at(at_ms(750), SetReady{b.backends[1], false});
  b.h.sim.schedule_at(at_ms(1850), SetReady{b.backends[1], true});
  b.stream(Time::zero() + 500_us, 1_ms, 2900);  // every millisecond, between the probes
  b.h.run();
  const auto t = b.timeline(1);
  REQUIRE(t.size() == 3);
  const double out = t[1].first, back = t[2].first;
  CHECK(out == 900);    // probes at 800 and 900ms fail
  CHECK(back == 2000);  // probes at 1900 and 2000ms succeed
  int during = 0, before = 0, after = 0;
  for (const auto& g : b.backends[1]->got) {
    const double ms = static_cast<double>(g.at.ns()) / 1e6;
    (ms < out ? before : ms < back ? during : after) += 1;
  }
  CHECK(during == 0);
  CHECK(before > 250);
  CHECK(after > 250);
  // Every request was answered: the other two took the load.
  CHECK(b.client->received.size() == 2900);
}

// ---- passive outlier ejection ----

TEST_CASE("outlier ejection: consecutive failures eject, for base x times ejected") {
  LoadBalancerConfig config = policy(LbPolicy::RoundRobin);
  config.outlier_detection.enabled = true;
  config.outlier_detection.consecutive_failures = 3;
  config.outlier_detection.base_ejection_time = 1000_ms;
  config.outlier_detection.max_ejection_time = 2500_ms;
  config.outlier_detection.max_ejection_percent = 50;
  Bench b(4, config, at_ms(9000));
  b.backends[1]->outcome = Outcome::Error;
  b.stream(at_ms(10), 10_ms, 880);
  b.h.run();
  const auto t = b.timeline(1);
  // Round robin: api-1 gets requests 2, 6, 10 (at 20, 60, 100ms): the third error ejects it at
  // 100ms for 1s. Then 2s, then 2.5s (the cap), then 2.5s again.
  REQUIRE(t.size() >= 8);
  CHECK(t[1] == std::pair<double, std::string>{100, "ejected"});
  CHECK(t[2] == std::pair<double, std::string>{1100, "in_rotation"});
  CHECK(t[4].first - t[3].first == 2000);
  CHECK(t[6].first - t[5].first == 2500);
  CHECK(t[3].second == "ejected");
  CHECK(t[5].second == "ejected");
  CHECK(b.lb->outlier_detector().times_ejected(1) >= 4);
  for (std::size_t other : {0u, 2u, 3u}) CHECK(b.timeline(other).size() == 1);
  CHECK(dsimtest::figure(*b.lb, "ejections") ==
        static_cast<double>(b.lb->outlier_detector().times_ejected(1)));
  // While ejected it got nothing (the request that ejects it arrives at the very instant).
  for (const auto& g : b.backends[1]->got) {
    const double ms = static_cast<double>(g.at.ns()) / 1e6;
    for (std::size_t i = 1; i + 1 < t.size(); i += 2)
      CHECK_FALSE((ms > t[i].first && ms < t[i + 1].first));
  }
}

TEST_CASE("outlier ejection: a success resets the count of consecutive failures") {
  models::OutlierDetectionConfig config;
  config.enabled = true;
  config.consecutive_failures = 3;
  struct Quiet : models::EjectionListener {
    void on_ejection_changed(Node&, std::uint32_t, bool) override { ++changes; }
    int changes = 0;
  } listener;
  dsimtest::ModelHarness h(1, Time::zero(), at_ms(10));
  const NodeId n = h.add_nodes("x", 1).at(0);
  models::OutlierDetector d(config, 2, 9, listener, Time::zero(), at_ms(10));
  Node& node = h.cluster.node(n);
  d.record(node, 0, Outcome::Timeout);
  d.record(node, 0, Outcome::Error);
  d.record(node, 0, Outcome::Ok);
  d.record(node, 0, Outcome::Rejected);
  d.record(node, 0, Outcome::RateLimited);  // not the backend's fault: resets too
  d.record(node, 0, Outcome::Dropped);
  d.record(node, 0, Outcome::Error);
  CHECK_FALSE(d.ejected(0));
  d.record(node, 0, Outcome::Error);
  CHECK(d.ejected(0));
  CHECK(listener.changes == 1);
}

TEST_CASE("outlier ejection: ejection times grow and are capped, the percentage cap") {
  struct Quiet : models::EjectionListener {
    void on_ejection_changed(Node&, std::uint32_t, bool) override {}
  } listener;
  models::OutlierDetectionConfig config;
  config.enabled = true;
  config.consecutive_failures = 1;
  config.base_ejection_time = 1000_ms;
  config.max_ejection_time = 2500_ms;
  config.max_ejection_percent = 0;  // still at least one may be ejected (Envoy's rule)
  dsimtest::ModelHarness h(1, Time::zero(), at_ms(10));
  Node& node = h.cluster.node(h.add_nodes("x", 1).at(0));
  models::OutlierDetector d(config, 4, 9, listener, Time::zero(), at_ms(10));
  CHECK(d.max_ejected() == 1);
  CHECK(d.next_ejection_time(0) == 1000_ms);
  d.record(node, 0, Outcome::Error);
  CHECK(d.ejected(0));
  CHECK(d.next_ejection_time(0) == 2000_ms);
  d.record(node, 1, Outcome::Error);  // the cap: one at a time
  CHECK_FALSE(d.ejected(1));
  CHECK(figure_of(d, "ejections_capped") == 1);
  config.max_ejection_percent = 50;
  CHECK(models::OutlierDetector(config, 10, 9, listener, Time::zero(), at_ms(10)).max_ejected() ==
        5);
}

TEST_CASE("outlier ejection: at most max_ejection_percent of the backends out at once") {
  LoadBalancerConfig config = policy(LbPolicy::RoundRobin);
  config.outlier_detection.enabled = true;
  config.outlier_detection.consecutive_failures = 2;
  config.outlier_detection.base_ejection_time = 300_ms;
  config.outlier_detection.max_ejection_percent = 25;  // 1 of 4
  Bench b(4, config, at_ms(3000));
  b.backends[1]->outcome = Outcome::Error;
  b.backends[2]->outcome = Outcome::Error;
  b.stream(at_ms(1), 1_ms, 2900);
  b.h.run();
  // Never both out: the timelines' ejected intervals do not overlap.
  const auto t1 = b.timeline(1), t2 = b.timeline(2);
  auto out_at = [](const std::vector<std::pair<double, std::string>>& t, double ms) {
    std::string state = "in_rotation";
    for (const auto& [at, s] : t)
      if (at <= ms) state = s;
    return state != "in_rotation";
  };
  for (double ms = 0; ms < 3000; ms += 0.5) CHECK_FALSE((out_at(t1, ms) && out_at(t2, ms)));
  CHECK(dsimtest::figure(*b.lb, "ejections") >= 2);
  CHECK(dsimtest::figure(*b.lb, "ejections_capped") > 0);
}

// ---- no backend, panic, timeouts, deadlines ----

TEST_CASE("load balancer: no backend in rotation -> Rejected, panic mode forwards anyway") {
  for (const double panic : {0.0, 50.0}) {
    LoadBalancerConfig config = with_health_checks(policy(LbPolicy::RoundRobin), 1, 1);
    config.panic_threshold = panic;
    Bench b(2, config, at_ms(500));
    for (auto* backend : b.backends) backend->ready = false;  // out at the first probes (t = 0)
    b.send_at(at_ms(50), 7);
    b.h.run();
    REQUIRE(b.client->received.size() == 1);
    CHECK(b.client->received[0].call_id == 7);
    CHECK(b.client->received[0].at == at_ms(50));
    if (panic == 0) {
      CHECK(b.client->received[0].outcome == Outcome::Rejected);
      CHECK(dsimtest::figure(*b.lb, "no_healthy_backend") == 1);
      CHECK(b.backends[0]->got.size() + b.backends[1]->got.size() == 0);
    } else {
      CHECK(b.client->received[0].outcome == Outcome::Ok);
      CHECK(dsimtest::figure(*b.lb, "panic_forwarded") == 1);
      CHECK(dsimtest::figure(*b.lb, "no_healthy_backend") == 0);
    }
  }
}

TEST_CASE("load balancer: its timeout answers Timeout, the late answer is ignored") {
  LoadBalancerConfig config = policy(LbPolicy::RoundRobin);
  config.timeout = 50_ms;
  Bench b(1, config, at_ms(500));
  b.backends[0]->hold = true;
  b.send_at(at_ms(10), 1);
  b.h.sim.schedule_at(at_ms(100), Release{b.backends[0], &b.h.node("api", 0)});
  b.h.run();
  REQUIRE(b.client->received.size() == 1);
  CHECK(b.client->received[0].outcome == Outcome::Timeout);
  CHECK(b.client->received[0].at == at_ms(60));
  CHECK(dsimtest::figure(*b.lb, "forward_timeouts") == 1);
  CHECK(dsimtest::figure(*b.lb, "late_responses") == 1);
  CHECK(b.lb->outstanding(0) == 0);
  CHECK(b.lb->in_flight() == 0);
}

TEST_CASE("load balancer: it stops waiting, silently, at the caller's deadline") {
  Bench b(1, policy(LbPolicy::RoundRobin), at_ms(500));  // no timeout of its own
  b.backends[0]->hold = true;
  b.send_at(at_ms(10), 1, 0, at_ms(40));
  b.send_at(at_ms(20), 2, 0, at_ms(15));  // already past: Dropped, not forwarded
  b.h.run();
  REQUIRE(b.client->received.size() == 1);
  CHECK(b.client->received[0].call_id == 2);
  CHECK(b.client->received[0].outcome == Outcome::Dropped);
  CHECK(b.backends[0]->got.size() == 1);
  CHECK(b.lb->in_flight() == 0);  // the entry was freed at 40ms
  CHECK(b.lb->outstanding(0) == 0);
  CHECK(dsimtest::figure(*b.lb, "deadline_expired") == 1);
  CHECK(dsimtest::figure(*b.lb, "dropped_past_deadline") == 1);
}

TEST_CASE("load balancer: a crash loses its forwarded requests and its view of health") {
  LoadBalancerConfig config = with_health_checks(policy(LbPolicy::RoundRobin), 1, 5);
  Bench b(2, config, at_ms(1000));
  b.backends[0]->hold = true;
  b.backends[1]->ready = false;  // out from the first probe
  b.send_at(at_ms(10), 1);
  b.h.faults.crash(at_ms(20), b.lb_id, 30_ms);
  b.h.run();
  CHECK(b.lb->in_flight() == 0);
  CHECK(b.lb->outstanding(0) == 0);
  CHECK(b.client->received.empty());
  // Back at 50ms: both in rotation until the probe sent then fails (at once: not ready).
  const auto t = b.timeline(1);
  CHECK(t.back().second == "unhealthy");
  CHECK(t.back().first == 50);
}

// ---- the probe protocol ----

namespace {
/// Sends one HealthProbe `delay` after start; records the replies.
class Prober : public Process {
 public:
  Prober(NodeId target, Duration delay) : target_(target), delay_(delay) {}
  void on_start(Node& node) override { node.set_timer(delay_, {1, 0}); }
  void on_timer(Node& node, TimerTag /*tag*/) override {
    node.send(target_, models::HealthProbe{.seq = 42});
  }
  void on_message(Node& node, const Message& message) override {
    const auto reply = message.as<models::HealthReply>();
    replies.push_back({reply.seq, reply.ready, node.true_now()});
  }
  struct Reply {
    std::uint64_t seq;
    std::uint8_t ready;
    Time at;
  };
  std::vector<Reply> replies;

 private:
  NodeId target_;
  Duration delay_;
};
}  // namespace

TEST_CASE("a busy server answers a health probe at once, not after its queue") {
  dsimtest::ModelHarness h(3, Time::zero(), at_ms(1000));
  models::ServerConfig server;
  server.service_time = Distribution::constant(10e6);
  h.build<models::Server>("api", 1, server);
  auto client = std::make_unique<dsimtest::ResponseProbe>();
  auto* responses = client.get();
  const NodeId client_id = h.add_process("client", std::move(client));
  for (std::uint64_t i = 1; i <= 5; ++i)
    h.sim.schedule_at(Time::zero(),
                      dsimtest::SendRequest{&h.cluster, client_id, h.nodes("api").at(0), i});
  auto p = std::make_unique<Prober>(h.nodes("api").at(0), 5_ms);  // 1 in service, 4 waiting
  Prober* prober = p.get();
  h.add_process("prober", std::move(p));
  h.run();
  REQUIRE(prober->replies.size() == 1);
  CHECK(prober->replies[0].seq == 42);
  CHECK(prober->replies[0].ready == 1);
  CHECK(prober->replies[0].at == at_ms(5));
  CHECK(responses->received.size() == 5);  // the queue was served as usual
}

TEST_CASE("a load balancer answers health probes itself (an LB behind an LB)") {
  Bench b(1, policy(LbPolicy::RoundRobin), at_ms(100));
  auto p = std::make_unique<Prober>(b.lb_id, 1_ms);
  Prober* prober = p.get();
  b.h.add_process("prober", std::move(p));
  b.h.run();
  REQUIRE(prober->replies.size() == 1);
  CHECK(prober->replies[0].ready == 1);
}

// ---- configuration, allocation ----

TEST_CASE("load balancer: configuration checks") {
  // (A missing `backends` is a wiring problem: the loader reports every declared call's.)
  LoadBalancerConfig config;
  config.backends.name = "api";
  CHECK(LoadBalancer::check(config).empty());
  config.health_check.timeout = 2000_ms;                 // longer than the 1s interval
  config.outlier_detection.max_ejection_time = 1000_ms;  // shorter than the 30s base
  const auto problems = LoadBalancer::check(config);
  REQUIRE(problems.size() == 2);
  CHECK(problems[0].field == "health_check/timeout");
  CHECK(problems[1].field == "outlier_detection/max_ejection_time");
}

TEST_CASE("load balancer: the steady state allocates nothing per request") {
  // Three servers and a scripted backend that fails requests, then probes, on a schedule: the
  // rotation changes (ejections, health checks) in the measured interval too. The warm-up goes
  // through the same, a crash and an overload, so that every table reaches its peak first. Faults
  // themselves are logged (allocating), so the measured interval has none.
  for (const LbPolicy p : {LbPolicy::RoundRobin, LbPolicy::Random, LbPolicy::LeastOutstanding,
                           LbPolicy::PowerOfTwo, LbPolicy::Sticky}) {
    dsimtest::ModelHarness h(9, at_ms(100), at_ms(4000));
    models::ServerConfig server;
    server.workers = 2;
    server.queue_limit = 100;  // its ring buffer is sized up front
    h.build<models::Server>("api", 3, server);
    auto s = std::make_unique<ScriptedBackend>();
    ScriptedBackend* flaky = s.get();
    flaky->record = false;
    h.add_process("api", std::move(s));
    for (const std::int64_t t : {200, 1500, 3000}) {
      h.sim.schedule_at(at_ms(t), SetOutcome{flaky, Outcome::Error});
      h.sim.schedule_at(at_ms(t + 150), SetOutcome{flaky, Outcome::Ok});
      h.sim.schedule_at(at_ms(t + 300), SetReady{flaky, false});
      h.sim.schedule_at(at_ms(t + 600), SetReady{flaky, true});
    }
    h.faults.crash(at_ms(600), h.nodes("api").at(2), 200_ms);
    LoadBalancerConfig config = with_health_checks(policy(p), 2, 2);
    config.backends.name = "api";
    config.timeout = 4_ms;  // some time out: that path runs too
    config.outlier_detection.enabled = true;
    config.outlier_detection.base_ejection_time = 50_ms;
    config.outlier_detection.max_ejection_percent = 50;
    LoadBalancer* lb = h.build<LoadBalancer>("lb", 1, config).at(0);
    models::OpenLoopClientConfig client;
    client.rate.per_second = 10'000;  // an overload during the warm-up: tables grow to a peak
    client.schedule.push_back({.at = 1000_ms, .rate = {5000}});
    client.call.target.name = "lb";
    client.call.timeout = 20_ms;
    h.build<models::OpenLoopClient>("client", 1, client);
    h.cluster.start();
    h.sim.run_until(at_ms(1400));
    const double ejections = dsimtest::figure(*lb, "ejections");
    const double unhealthy = dsimtest::figure(*lb, "marked_unhealthy");
    const std::uint64_t before = allocation_count();
    const std::uint64_t events = h.sim.run_until(at_ms(4000));
    CHECK(allocation_count() - before == 0);
    CHECK(events > 50'000);
    CHECK(dsimtest::figure(*lb, "forwarded") > 15'000);
    CHECK(dsimtest::figure(*lb, "ejections") > ejections);
    CHECK(dsimtest::figure(*lb, "marked_unhealthy") == unhealthy + 2);
  }
}
