// The server's overload controls, with constant service times so that every answer time is
// known exactly: LIFO and adaptive LIFO order, CoDel's drop decisions and spacing (RFC 8289),
// drop_expired, the token bucket's exact admission count, the contention formula, wasted work,
// error_rate, and no allocation per request with every control on.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <memory>
#include <vector>

#include "models/resilience/token_bucket.hpp"
#include "models/services/codel_queue.hpp"
#include "models/services/ordered_queue.hpp"
#include "models/services/server.hpp"
#include "tests/model_harness.hpp"
#include "tests/unit/allocation_counter.hpp"

using namespace sim;
using models::CodelQueue;
using models::Outcome;
using models::QueuedRequest;
using models::Server;
using models::ServerConfig;
using models::Verdict;

namespace {

Time at_ms(double ms) {
  return Time::zero() + Duration::nanoseconds(std::llround(ms * 1e6));
}

ServerConfig constant_service(Duration service, int workers = 1) {
  ServerConfig config;
  config.workers = workers;
  config.service_time = Distribution::constant(static_cast<double>(service.ns()));
  return config;
}

/// An event that sends RpcRequest{call_id, deadline} from one node to another.
struct SendWithDeadline {
  Cluster* cluster;
  NodeId from, to;
  std::uint64_t call_id;
  Time deadline;
  void operator()() const {
    cluster->node(from).send(to, models::RpcRequest{.call_id = call_id, .deadline = deadline});
  }
};

// A probe node and a one-node server component, measured over the whole run.
struct Bench {
  explicit Bench(const ServerConfig& config, Time end = at_ms(1000)) : h(7, Time::zero(), end) {
    auto p = std::make_unique<dsimtest::ResponseProbe>();
    probe = p.get();
    probe_id = h.add_process("probe", std::move(p));
    server = h.build<Server>("server", 1, config).at(0);
    server_id = h.nodes("server").at(0);
  }
  void send_at(Time t, std::uint64_t call_id, Time deadline = Time::max()) {
    h.sim.schedule_at(t, SendWithDeadline{&h.cluster, probe_id, server_id, call_id, deadline});
  }
  std::size_t count(Outcome outcome) const {
    std::size_t n = 0;
    for (const auto& r : probe->received) n += r.outcome == outcome;
    return n;
  }
  double figure(const char* name) const { return dsimtest::figure(*server, name); }
  dsimtest::ModelHarness h;
  dsimtest::ResponseProbe* probe;
  Server* server;
  NodeId probe_id, server_id;
};

QueuedRequest arrived_at(Time t, std::uint64_t id = 0) {
  return QueuedRequest{.from = 0, .call_id = id, .arrived = t};
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// LIFO and adaptive LIFO

TEST_CASE("overload: lifo serves the newest waiting request first") {
  ServerConfig config = constant_service(10_ms);
  config.queue = models::QueueKind::Lifo;
  Bench b(config);
  for (std::uint64_t id = 1; id <= 5; ++id) b.send_at(Time::zero(), id);
  b.h.run();
  REQUIRE(b.probe->received.size() == 5);
  // 1 found the worker free; 2..5 waited, and are served newest first.
  const std::vector<std::uint64_t> order{1, 5, 4, 3, 2};
  for (std::size_t i = 0; i < 5; ++i) {
    CHECK(b.probe->received[i].call_id == order[i]);
    CHECK(b.probe->received[i].at == at_ms(10.0 * static_cast<double>(i + 1)));
  }
}

TEST_CASE("overload: adaptive lifo is FIFO for a short queue, LIFO once it stands") {
  models::OrderedQueue q(-1, models::OrderedQueue::Order::AdaptiveLifo, 100_ms);
  for (std::uint64_t id = 1; id <= 4; ++id)
    REQUIRE(q.admit(arrived_at(Time::zero(), id), at_ms(0)));
  CHECK(q.next(at_ms(100))->request.call_id == 1);  // non-empty for exactly 100ms: still FIFO
  CHECK_FALSE(q.lifo_mode(at_ms(100)));
  CHECK(q.lifo_mode(at_ms(100.000001)));
  CHECK(q.next(at_ms(101))->request.call_id == 4);  // standing for > 100ms: newest first
  CHECK(q.next(at_ms(102))->request.call_id == 3);
  CHECK(q.next(at_ms(103))->request.call_id == 2);
  CHECK_FALSE(q.next(at_ms(104)).has_value());
  // Drained: the next burst is FIFO again.
  for (std::uint64_t id = 5; id <= 6; ++id)
    REQUIRE(q.admit(arrived_at(at_ms(200), id), at_ms(200)));
  CHECK(q.next(at_ms(250))->request.call_id == 5);
}

// ---------------------------------------------------------------------------------------------
// CoDel (RFC 8289), driven directly. Before each dequeue the driver keeps one request behind
// the front (so that the queue does not run empty, which would reset CoDel's clock), with the
// arrival time that gives it sojourn s(t) at the next planned dequeue t: every request served
// at a planned dequeue has exactly the sojourn planned; one taken right after a shed, at the
// same instant, is one step younger.

namespace {

struct CodelDriver {
  CodelQueue q{-1, 5_ms, 100_ms};
  /// Runs dequeues at `times` (ascending, a fixed step apart), with sojourns `sojourn(t)`,
  /// draining every Shed at the same instant as the server does. Returns the times of sheds.
  template <class Sojourn>
  std::vector<Time> run(const std::vector<Time>& times, Sojourn sojourn) {
    const Duration step = times.size() > 1 ? times[1] - times[0] : 1_ms;
    q.admit(arrived_at(times.front() - sojourn(times.front())), Time::zero());
    std::vector<Time> sheds;
    for (std::size_t i = 0; i < times.size(); ++i) {
      const Time t = times[i];
      const Time planned_next = t + step;
      for (;;) {
        while (q.size() < 2) q.admit(arrived_at(planned_next - sojourn(planned_next)), t);
        const auto d = q.next(t);
        REQUIRE(d.has_value());
        if (d->verdict == Verdict::Serve) break;
        sheds.push_back(t);
      }
    }
    return sheds;
  }
};

std::vector<Time> every_ms(double from_ms, double to_ms, double step_ms = 1) {
  std::vector<Time> times;
  for (double t = from_ms; t <= to_ms + 1e-9; t += step_ms) times.push_back(at_ms(t));
  return times;
}

}  // namespace

TEST_CASE("codel: no drop while the delay stays above target for less than an interval") {
  CodelDriver d;
  // Sojourn 6ms (> 5ms) at every dequeue, every 10ms from 0 to 90ms: above target for 90ms.
  const auto sheds = d.run(every_ms(0, 90, 10), [](Time) { return 6_ms; });
  CHECK(sheds.empty());
  CHECK_FALSE(d.q.dropping());
}

TEST_CASE("codel: the first drop comes one interval after the delay went above target") {
  CodelDriver d;
  const auto sheds = d.run(every_ms(0, 100, 10), [](Time) { return 6_ms; });
  REQUIRE(sheds.size() == 1);
  CHECK(sheds[0] == at_ms(100));  // above target since 0: drop at 0 + interval
  CHECK(d.q.dropping());
  CHECK(d.q.count() == 1);
  CHECK(d.q.drop_next() == at_ms(200));  // interval / sqrt(1) later
}

TEST_CASE("codel: one dequeue below target restarts the interval") {
  CodelDriver d;
  // Above target except at 50ms: the clock restarts at 60ms, the first drop is at 160ms.
  const auto sheds =
      d.run(every_ms(0, 160, 10), [](Time t) { return t == at_ms(50) ? 4_ms : 6_ms; });
  REQUIRE(sheds.size() == 1);
  CHECK(sheds[0] == at_ms(160));
}

TEST_CASE("codel: no drop when the queue would run empty (no standing queue)") {
  CodelQueue q(-1, 5_ms, 100_ms);
  // One request at a time, each 50ms old when taken: the queue is empty after each dequeue.
  for (int k = 0; k <= 10; ++k) {
    const Time t = at_ms(10.0 * k);
    q.admit(arrived_at(t - 50_ms), t);
    const auto d = q.next(t);
    REQUIRE(d.has_value());
    CHECK(d->verdict == Verdict::Serve);
  }
}

TEST_CASE("codel: drops are spaced interval / sqrt(count) apart while the delay stays high") {
  CodelDriver d;
  const auto sheds = d.run(every_ms(0, 2000), [](Time) { return 50_ms; });
  REQUIRE(sheds.size() > 50);
  // Theory (RFC 8289's control law from the scheduled time, not the actual drop time):
  // D1 = 100ms (one interval above target), D(n+1) = D(n) + 100ms / sqrt(n). With a dequeue
  // every millisecond, the n-th drop happens at the first dequeue at or after D(n).
  std::vector<double> expected_ns{100e6};
  while (true) {
    const double n = static_cast<double>(expected_ns.size());
    const double next = expected_ns.back() + std::round(100e6 / std::sqrt(n));
    if (next > 2000e6) break;
    expected_ns.push_back(next);
  }
  REQUIRE(sheds.size() == expected_ns.size());
  for (std::size_t i = 0; i < sheds.size(); ++i) {
    INFO("drop " << i + 1);
    CHECK(sheds[i] == at_ms(std::ceil(expected_ns[i] / 1e6)));
  }
  CHECK(d.q.count() == sheds.size());
  // The spacing shrinks like 1/sqrt(n): drop 4 -> 5 is 100/sqrt(4) = 50ms after the schedule.
  CHECK(expected_ns[4] - expected_ns[3] == 50e6);
}

TEST_CASE("codel: the dropping state ends when the delay falls, and resumes at the last rate") {
  CodelDriver d;
  // High delay until 450ms (drops at 100, 200, 271, 329, 379, 424: count 6), then low until
  // 600ms, then high again: above target from 600ms, ok to drop at 700ms.
  const auto sheds = d.run(
      every_ms(0, 800), [](Time t) { return t <= at_ms(450) || t >= at_ms(600) ? 50_ms : 1_ms; });
  REQUIRE(sheds.size() >= 7);
  CHECK(sheds[5] == at_ms(424));
  CHECK(sheds[6] == at_ms(700));
  // Re-entered 700 - 464 = 236ms (< 16 intervals) after the last scheduled drop (423.2 +
  // 100 / sqrt(6)), the last episode having dropped 6 - 1 = 5 more than at its entry: count
  // restarts at 5, and the next drop comes 100 / sqrt(5) = 44.7ms later.
  CHECK(d.q.count() >= 5);
  REQUIRE(sheds.size() >= 8);
  CHECK(sheds[7] == at_ms(745));
}

TEST_CASE("codel in a server: shed requests are answered Rejected and counted") {
  ServerConfig config = constant_service(1_ms);
  config.queue = models::QueueKind::Codel;
  Bench b(config, at_ms(3000));
  // 2 requests per ms into a 1-per-ms server, for one second; then the backlog drains.
  std::uint64_t id = 1;
  for (int k = 0; k < 2000; ++k) b.send_at(at_ms(0.5 * k), id++);
  b.h.run();
  const std::size_t rejected = b.count(Outcome::Rejected);
  CHECK(rejected > 0);
  CHECK(b.figure("shed") == static_cast<double>(rejected));
  CHECK(b.figure("rejected") == 0);  // the queue is unbounded: nothing refused at arrival
  CHECK(b.count(Outcome::Ok) + rejected == 2000);
  // The delay exceeds 5ms from about 10ms on: no shedding before one interval later.
  for (const auto& r : b.probe->received)
    if (r.outcome == Outcome::Rejected) CHECK(r.at >= at_ms(100));
}

// ---------------------------------------------------------------------------------------------
// drop_expired and wasted work

TEST_CASE("overload: drop_expired answers Dropped instead of serving a request past deadline") {
  for (const bool drop : {false, true}) {
    ServerConfig config = constant_service(10_ms);
    config.drop_expired = drop;
    Bench b(config);
    for (std::uint64_t id = 1; id <= 3; ++id) b.send_at(Time::zero(), id, at_ms(15));
    b.send_at(at_ms(100), 4, at_ms(100));  // arrives at its deadline, to a free worker
    b.h.run();
    INFO("drop_expired " << drop);
    REQUIRE(b.probe->received.size() == 4);
    // 1 done at 10 (in time); 2 starts at 10 < 15 and completes at 20 (late: wasted).
    CHECK(b.probe->received[0].call_id == 1);
    CHECK(b.probe->received[1].call_id == 2);
    CHECK(b.probe->received[1].at == at_ms(20));
    CHECK(b.probe->received[1].outcome == Outcome::Ok);
    if (drop) {
      // 3 is dequeued at 20 >= 15: dropped unserved, at once. 4 is past due on arrival.
      CHECK(b.probe->received[2].call_id == 3);
      CHECK(b.probe->received[2].outcome == Outcome::Dropped);
      CHECK(b.probe->received[2].at == at_ms(20));
      CHECK(b.probe->received[3].outcome == Outcome::Dropped);
      CHECK(b.probe->received[3].at == at_ms(100));
      CHECK(b.figure("expired") == 2);
      CHECK(b.figure("completed") == 2);
      CHECK(b.figure("wasted_work") == 1);
    } else {
      CHECK(b.probe->received[2].at == at_ms(30));
      CHECK(b.probe->received[3].at == at_ms(110));
      CHECK(b.count(Outcome::Ok) == 4);
      CHECK(b.figure("expired") == 0);
      CHECK(b.figure("wasted_work") == 3);  // 2, 3 and 4 completed after their deadlines
      CHECK(b.figure("wasted_fraction") == Approx(0.75));
    }
    CHECK(b.figure("goodput_per_s") == Approx(1.0));  // only request 1 over the 1s run
  }
}

TEST_CASE("overload: a completion exactly at its deadline is wasted, one before it is not") {
  Bench b(constant_service(10_ms));
  b.send_at(Time::zero(), 1, at_ms(10));        // completes at 10 == deadline: wasted
  b.send_at(at_ms(100), 2, at_ms(110.000001));  // completes 1ns before its deadline: good
  b.h.run();
  CHECK(b.figure("completed") == 2);
  CHECK(b.figure("wasted_work") == 1);
  CHECK(b.figure("wasted_fraction") == Approx(0.5));
  CHECK(b.figure("goodput_per_s") == Approx(1.0));
}

// ---------------------------------------------------------------------------------------------
// Token bucket

TEST_CASE("token bucket: admits exactly rate x t + burst over t under a steady excess") {
  for (const double burst : {1.0, 5.0, 100.0}) {
    models::TokenBucket bucket(1000, burst);
    std::uint64_t admitted = 0;
    // An attempt every 0.1ms: ten times the rate. Count at t = 0.5s, 1s and 3s (inclusive).
    for (std::int64_t k = 0; k <= 30'000; ++k) {
      admitted += bucket.try_take(Time::zero() + Duration::nanoseconds(k * 100'000));
      if (k == 5'000 || k == 10'000 || k == 30'000) {
        INFO("burst " << burst << ", t = " << static_cast<double>(k) / 1e4 << "s");
        CHECK(admitted == static_cast<std::uint64_t>(1000 * static_cast<double>(k) / 1e4 + burst));
      }
    }
  }
  // A rate whose token time is not a whole number of nanoseconds (3/s): 3 x 10.5s + 2 = 33.
  models::TokenBucket slow(3, 2);
  std::uint64_t admitted = 0;
  for (std::int64_t k = 0; k <= 10'500; ++k)
    admitted += slow.try_take(Time::zero() + Duration::nanoseconds(k * 1'000'000));
  CHECK(admitted == 33);
}

TEST_CASE("token bucket: refills up to the burst and no further") {
  models::TokenBucket bucket(1000, 3);
  const Time t0 = Time::zero();
  for (int k = 0; k < 3; ++k) CHECK(bucket.try_take(t0));
  CHECK_FALSE(bucket.try_take(t0));
  CHECK(bucket.tokens(t0 + 2_ms) == Approx(2.0));
  CHECK(bucket.tokens(t0 + 1000_ms) == Approx(3.0));  // capped
  for (int k = 0; k < 3; ++k) CHECK(bucket.try_take(t0 + 1000_ms));
  CHECK_FALSE(bucket.try_take(t0 + 1000_ms));
}

TEST_CASE("overload: a server with a rate limit answers RateLimited at once") {
  ServerConfig config = constant_service(10_us, 64);
  config.rate_limit.per_second = 1000;
  config.burst = 10;
  Bench b(config, at_ms(1000));
  // 5000 requests in [0, 500ms): 10 per ms against a limit of 1 per ms.
  for (int k = 0; k < 5000; ++k) b.send_at(at_ms(0.1 * k), static_cast<std::uint64_t>(k + 1));
  b.h.run();
  // Over [0, 499.9ms]: 499 tokens earned (the 500th at 500ms) plus the burst of 10.
  CHECK(b.count(Outcome::Ok) == 509);
  CHECK(b.count(Outcome::RateLimited) == 5000 - 509);
  CHECK(b.figure("rate_limited") == 5000 - 509);
  for (const auto& r : b.probe->received)
    if (r.outcome == Outcome::RateLimited)
      CHECK(r.at == at_ms(0.1 * static_cast<double>(r.call_id - 1)));
}

// ---------------------------------------------------------------------------------------------
// Contention and errors

TEST_CASE("overload: contention_factor is 1 + contention x max(0, in_system - knee)") {
  ServerConfig config;
  config.contention = 0.5;
  config.contention_knee = 2;
  CHECK(models::contention_factor(config, 0) == 1.0);
  CHECK(models::contention_factor(config, 2) == 1.0);
  CHECK(models::contention_factor(config, 3) == 1.5);
  CHECK(models::contention_factor(config, 6) == 3.0);
  config.contention = 0;
  CHECK(models::contention_factor(config, 100) == 1.0);
}

TEST_CASE("overload: contention stretches a service by the load when it starts") {
  SECTION("one worker, knee 1") {
    ServerConfig config = constant_service(10_ms);
    config.contention = 0.5;
    Bench b(config);
    for (std::uint64_t id = 1; id <= 3; ++id) b.send_at(Time::zero(), id);
    b.h.run();
    REQUIRE(b.probe->received.size() == 3);
    CHECK(b.probe->received[0].at == at_ms(10));  // alone: n = 1, x1
    CHECK(b.probe->received[1].at == at_ms(25));  // n = 1 in service + 1 waiting = 2: x1.5
    CHECK(b.probe->received[2].at == at_ms(35));  // n = 1: x1
  }
  SECTION("two workers, knee 2") {
    ServerConfig config = constant_service(10_ms, 2);
    config.contention = 0.25;
    config.contention_knee = 2;
    Bench b(config);
    for (std::uint64_t id = 1; id <= 5; ++id) b.send_at(Time::zero(), id);
    b.h.run();
    REQUIRE(b.probe->received.size() == 5);
    // 1, 2 start alone-ish (n = 1, 2): 10ms. At 10ms, 3 starts with n = 2 busy + 2 waiting = 4
    // (x1.5: done at 25), then 4 with n = 2 + 1 = 3 (x1.25: done at 22.5); 5 starts at 22.5
    // with n = 2 (x1: done at 32.5).
    CHECK(b.probe->received[2].call_id == 4);
    CHECK(b.probe->received[2].at == at_ms(22.5));
    CHECK(b.probe->received[3].call_id == 3);
    CHECK(b.probe->received[3].at == at_ms(25));
    CHECK(b.probe->received[4].call_id == 5);
    CHECK(b.probe->received[4].at == at_ms(32.5));
  }
}

TEST_CASE("overload: error_rate fails that fraction of served requests, after full service") {
  const int n = 20'000;
  const double p = 0.1;
  ServerConfig config = constant_service(1_us);
  config.service_time = Distribution::exponential(1e3);  // random service: checks the streams
  config.error_rate.value = p;
  ServerConfig no_errors = config;
  no_errors.error_rate.value = 0;
  Bench with(config, at_ms(1000)), without(no_errors, at_ms(1000));
  for (int k = 0; k < n; ++k) {
    with.send_at(at_ms(0.04 * k), static_cast<std::uint64_t>(k));
    without.send_at(at_ms(0.04 * k), static_cast<std::uint64_t>(k));
  }
  with.h.run();
  without.h.run();
  const double errors = static_cast<double>(with.count(Outcome::Error));
  // Binomial(n, p): sd = sqrt(n p (1 - p)) = 42.4; 4.5 sd: a correct model fails w.p. 7e-6.
  CHECK(std::abs(errors - n * p) <= 4.5 * std::sqrt(n * p * (1 - p)));
  CHECK(with.figure("errors") == errors);
  CHECK(with.figure("completed") == n);
  CHECK(with.count(Outcome::Ok) + errors == n);
  // Errors come from their own stream: every answer leaves at the same time as without errors.
  REQUIRE(with.probe->received.size() == without.probe->received.size());
  for (std::size_t i = 0; i < with.probe->received.size(); ++i)
    CHECK(with.probe->received[i].at == without.probe->received[i].at);
}

// ---------------------------------------------------------------------------------------------
// Speed

TEST_CASE("overload: the steady state allocates nothing per request, every control on") {
  for (const auto kind :
       {models::QueueKind::Lifo, models::QueueKind::AdaptiveLifo, models::QueueKind::Codel}) {
    ServerConfig config = constant_service(1_ms, 2);
    config.queue = kind;
    config.drop_expired = true;
    config.rate_limit.per_second = 2500;
    config.burst = 20;
    config.contention = 0.01;
    config.error_rate.value = 0.05;
    config.queue_limit = 64;  // a bounded queue is sized up front: it never grows
    Bench b(config, at_ms(2000));
    b.h.cluster.start();
    struct Source {  // a request every 0.4ms (1.25x what the server can do), deadline 20ms
      Simulator* sim;
      Cluster* cluster;
      NodeId from, to;
      void operator()() const {
        cluster->node(from).send(to,
                                 models::RpcRequest{.call_id = 1, .deadline = sim->now() + 20_ms});
        sim->schedule_after(400_us, *this);
      }
    };
    b.h.sim.schedule_at(Time::zero(), Source{&b.h.sim, &b.h.cluster, b.probe_id, b.server_id});
    b.probe->received.reserve(8000);
    b.h.sim.run_until(at_ms(300));
    const std::uint64_t before = allocation_count();
    b.h.sim.run_until(at_ms(1500));
    CHECK(allocation_count() - before == 0);
    CHECK(b.probe->received.size() > 2500);
  }
}
