// The autoscaler's mechanics with scripted peers over the harness's zero-latency network, so a
// round closes at the instant it opens (every 15 s) unless a peer is silent: the formula for both
// metrics, the tolerance, min and max, the stabilization windows, the scaling policies, flapping
// on a square wave, missing metrics, the start and a restart, epochs, configuration errors and
// the steady state's allocations.
#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "models/queues/autoscaler.hpp"
#include "models/queues/queue_protocol.hpp"
#include "scenario/scenario.hpp"
#include "scenario/scenario_error.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"

using namespace sim;
using models::Autoscaler;
using models::AutoscalerConfig;
using models::ScaleMetric;

namespace {

Time at_s(std::int64_t s) {
  return at_ms(s * 1000);
}

/// The watched queue: answers stats with the backlog a script gives for the true time.
class QueuePeer : public Process {
 public:
  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    const auto query = message.as<models::QueueStatsQuery>();
    ++queries;
    if (!answer) return;
    node.send(message.from, models::QueueStatsReply{.call_id = query.call_id,
                                                    .visible = visible(node.true_now()),
                                                    .in_flight = in_flight});
  }
  std::function<std::uint64_t(Time)> visible = [](Time) { return 0; };
  std::uint64_t in_flight = 0;
  bool answer = true;
  int queries = 0;
};

/// A worker of the pool: answers load queries with scripted values, records every WorkerScale.
class WorkerPeer : public Process {
 public:
  struct Scale {
    Time at;
    std::uint32_t desired;
    std::uint64_t epoch;
  };
  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    if (message.holds<models::WorkerScale>()) {
      const auto s = message.as<models::WorkerScale>();
      if (record) scales.push_back({node.true_now(), s.desired, s.epoch});
      return;
    }
    const auto query = message.as<models::WorkerLoadQuery>();
    if (!answer) return;
    node.send(message.from,
              models::WorkerLoadReply{.call_id = query.call_id, .busy = busy, .serving = serving});
  }
  std::vector<Scale> scales;
  double busy = 0;
  std::uint8_t serving = 1;
  bool answer = true;
  bool record = true;
};

/// Permissive defaults for formula tests: no stabilization, no rate limit.
AutoscalerConfig free_config(double target, std::int64_t initial) {
  AutoscalerConfig c;
  c.workers.name = "pool";
  c.queue.name = "queue";
  c.target = target;
  c.initial = initial;
  c.scale_down_window = Duration::zero();
  c.max_scale_up_pods = 1000;
  return c;
}

/// `pool` workers ("pool-0" ...), a queue ("queue-0"), and the autoscaler ("scaler-0").
struct Bench {
  Bench(std::size_t pool, const AutoscalerConfig& config, Time end = at_s(600),
        Time warmup = Time::zero())
      : h(7, warmup, end) {
    auto q = std::make_unique<QueuePeer>();
    queue = q.get();
    h.add_process("queue", std::move(q));
    for (std::size_t i = 0; i < pool; ++i) {
      auto w = std::make_unique<WorkerPeer>();
      workers.push_back(w.get());
      h.add_process("pool", std::move(w));
    }
    scaler = h.build<Autoscaler>("scaler", 1, config).at(0);
  }
  /// The count the pool was last told at or before `t` (worker 0's record).
  std::uint32_t desired_at(Time t) const {
    std::uint32_t d = 0;
    for (const auto& s : workers[0]->scales)
      if (s.at <= t) d = s.desired;
    return d;
  }
  /// The successive counts sent (consecutive repeats folded).
  std::vector<std::uint32_t> counts() const {
    std::vector<std::uint32_t> out;
    for (const auto& s : workers[0]->scales)
      if (out.empty() || out.back() != s.desired) out.push_back(s.desired);
    return out;
  }
  int direction_changes() const {
    const auto c = counts();
    int changes = 0;
    for (std::size_t i = 2; i < c.size(); ++i)
      changes += (c[i] > c[i - 1]) != (c[i - 1] > c[i - 2]) ? 1 : 0;
    return changes;
  }
  void set_load(double busy, std::uint8_t serving = 1) {
    for (WorkerPeer* w : workers) {
      w->busy = busy;
      w->serving = serving;
    }
  }
  double figure(const std::string& name) const { return dsimtest::figure(*scaler, name); }

  dsimtest::ModelHarness h;
  QueuePeer* queue;
  std::vector<WorkerPeer*> workers;
  Autoscaler* scaler;
};

std::function<std::uint64_t(Time)> constant(std::uint64_t v) {
  return [v](Time) { return v; };
}

}  // namespace

TEST_CASE("autoscaler queue_depth: desired = ceil(total / target)", "[autoscaler]") {
  struct Case {
    std::uint64_t visible, in_flight;
    bool count_in_flight;
    std::uint32_t expected;
  };
  // target 5 per worker, 2 workers now: 23 messages are ceil(4.6) = 5 workers; 20 + 3 in flight
  // the same when in-flight ones count (KEDA's default), 4 when they do not; 0 is min (1).
  for (const Case k : {Case{23, 0, true, 5}, Case{20, 3, true, 5}, Case{20, 3, false, 4},
                       Case{25, 0, true, 5}, Case{26, 0, true, 6}, Case{0, 0, true, 1}}) {
    INFO(k.visible << " visible, " << k.in_flight << " in flight");
    AutoscalerConfig c = free_config(5, 2);
    c.count_in_flight = k.count_in_flight;
    Bench b(20, c);
    b.queue->visible = constant(k.visible);
    b.queue->in_flight = k.in_flight;
    b.h.cluster.start();
    b.h.sim.run_until(at_s(14));
    CHECK(b.desired_at(at_s(14)) == 2);  // the initial count until the first round
    b.h.sim.run_until(at_s(16));
    CHECK(b.scaler->desired() == k.expected);
    CHECK(b.desired_at(at_s(15)) == k.expected);  // decided and sent at the round
  }
  // Target 0 is KEDA's default of 5 messages per worker.
  Bench b(20, free_config(0, 2), at_s(16));
  b.queue->visible = constant(23);
  b.h.run();
  CHECK(b.scaler->desired() == 5);
}

TEST_CASE("autoscaler utilization: ceil(ratio x ready), unready and missing workers conservative",
          "[autoscaler]") {
  AutoscalerConfig c = free_config(0.5, 4);
  c.metric = ScaleMetric::Utilization;
  c.queue = {};
  SECTION("four ready workers 75 % busy at a 50 % target: ceil(1.5 x 4) = 6") {
    Bench b(10, c, at_s(16));
    b.set_load(0.75);
    b.h.run();
    CHECK(b.scaler->desired() == 6);
  }
  SECTION("the workers above the count do not count, even busy ones") {
    Bench b(10, c, at_s(16));
    b.set_load(0.75);
    for (std::size_t i = 4; i < 10; ++i) b.workers[i]->busy = 0;  // idle, not running
    b.h.run();
    CHECK(b.scaler->desired() == 6);
  }
  SECTION("four ready workers 20 % busy: ceil(0.4 x 4) = 2") {
    Bench b(10, c, at_s(16));
    b.set_load(0.2);
    b.h.run();
    CHECK(b.scaler->desired() == 2);
  }
  SECTION("scale down with a silent worker: it counts 100 % busy, so 4 stay") {
    // (0.2 x 3 + 1) / 4 = 0.4 -> ratio 0.8 -> ceil(3.2) = 4: not below the current 4.
    Bench b(10, c, at_s(16));
    b.set_load(0.2);
    b.workers[3]->answer = false;
    b.h.run();
    CHECK(b.scaler->desired() == 4);
  }
  SECTION("scale up with a starting worker: it counts idle, and reverses the direction") {
    // Four ready at 60 %: ratio 1.2 -> ceil(4.8) = 5. Three ready and one starting: the first
    // pass says up (1.2), the second (1.8 / 4 = 0.45, ratio 0.9) says down: no change.
    Bench b(10, c, at_s(16));
    b.set_load(0.6);
    b.h.run();
    CHECK(b.scaler->desired() == 5);
    Bench s(10, c, at_s(16));
    s.set_load(0.6);
    s.workers[3]->serving = 0;
    s.h.run();
    CHECK(s.scaler->desired() == 4);
    // Two ready at 60 % and two starting: counting the ready ones alone would give ceil(1.2 x 2)
    // = 3, a scale down while the metric asks for more; the second pass (0.3, ratio 0.6)
    // reverses the direction: no change.
    Bench t(10, c, at_s(16));
    t.set_load(0.6);
    t.workers[2]->serving = 0;
    t.workers[3]->serving = 0;
    t.h.run();
    CHECK(t.scaler->desired() == 4);
  }
  SECTION("no ready worker: a missing metric") {
    Bench b(10, c, at_s(46));
    b.set_load(1.0, 0);  // all starting
    b.h.run();
    CHECK(b.scaler->desired() == 4);
    CHECK(b.figure("missing_metrics") == 3);
    CHECK(b.figure("decisions") == 0);
  }
}

TEST_CASE("autoscaler tolerance: no change at a ratio of 1.05, a change at 1.2", "[autoscaler]") {
  // 4 workers at a target of 10 messages each: 42 messages are 1.05 of the target, 48 are 1.2.
  for (const auto& [total, expected] : std::vector<std::pair<std::uint64_t, std::uint32_t>>{
           {42, 4}, {48, 5}, {38, 4}, {32, 4}, {30, 3}}) {
    INFO(total << " messages");
    Bench b(10, free_config(10, 4), at_s(16));
    b.queue->visible = constant(total);
    b.h.run();
    CHECK(b.scaler->desired() == expected);
  }
}

TEST_CASE("autoscaler min and max clamp the count, and max never exceeds the pool",
          "[autoscaler]") {
  SECTION("max") {
    AutoscalerConfig c = free_config(1, 2);
    c.max = 6;
    Bench b(10, c, at_s(31));
    b.queue->visible = constant(1000);
    b.h.run();
    CHECK(b.scaler->desired() == 6);
  }
  SECTION("max 0 and max above the pool are the pool's size") {
    for (const std::int64_t max : {0, 50}) {
      AutoscalerConfig c = free_config(1, 2);
      c.max = max;
      Bench b(10, c, at_s(31));
      b.queue->visible = constant(1000);
      b.h.run();
      CHECK(b.scaler->max_workers() == 10);
      CHECK(b.scaler->desired() == 10);
    }
  }
  SECTION("min") {
    AutoscalerConfig c = free_config(1, 8);
    c.min = 3;
    Bench b(10, c, at_s(31));
    b.queue->visible = constant(0);
    b.h.run();
    CHECK(b.scaler->desired() == 3);
  }
}

TEST_CASE("autoscaler scale-down window: the highest recommendation of the window wins",
          "[autoscaler]") {
  AutoscalerConfig c = free_config(5, 10);
  c.scale_down_window = 60'000_ms;
  Bench b(20, c, at_s(300));
  // 50 messages (10 workers) until 100 s, then 30 (6) until 130 s, then 10 (2).
  b.queue->visible = [](Time t) -> std::uint64_t {
    return t < at_s(100) ? 50 : t < at_s(130) ? 30 : 10;
  };
  b.h.run();
  // Recommendations: 10 at 15..90 s, 6 at 105 and 120 s, 2 from 135 s. A round at R keeps those
  // made strictly after R - 60 s: the last 10 (90 s) leaves at 150 s, the last 6 (120 s) at 180 s.
  for (const std::int64_t s : {15, 90, 105, 120, 135}) CHECK(b.desired_at(at_s(s)) == 10);
  CHECK(b.desired_at(at_s(150)) == 6);
  CHECK(b.desired_at(at_s(165)) == 6);
  CHECK(b.desired_at(at_s(180)) == 2);
  CHECK(b.counts() == std::vector<std::uint32_t>{10, 6, 2});
}

TEST_CASE("autoscaler: a new autoscaler does not scale down within one window of its start",
          "[autoscaler]") {
  AutoscalerConfig c = free_config(5, 10);
  c.scale_down_window = 60'000_ms;
  Bench b(20, c, at_s(120));
  b.queue->visible = constant(10);  // 2 workers from the first round
  b.h.run();
  // The start records 10 at 0 s: it leaves the window at the round of 60 s.
  CHECK(b.desired_at(at_s(45)) == 10);
  CHECK(b.desired_at(at_s(60)) == 2);
}

TEST_CASE("autoscaler scale-up policy: from 2 to 20 by +4 or +100 % per period", "[autoscaler]") {
  SECTION("one round per policy period: 2, 6, 12, 20") {
    AutoscalerConfig c;
    c.workers.name = "pool";
    c.queue.name = "queue";
    c.target = 1;
    c.initial = 2;
    Bench b(20, c, at_s(100));
    b.queue->visible = constant(1000);
    b.h.run();
    // max(2 + 4, 2 x 2) = 6; max(6 + 4, 12) = 12; max(16, 24) capped at max (the pool): 20.
    CHECK(b.desired_at(at_s(15)) == 6);
    CHECK(b.desired_at(at_s(30)) == 12);
    CHECK(b.desired_at(at_s(45)) == 20);
    CHECK(b.counts() == std::vector<std::uint32_t>{2, 6, 12, 20});
    CHECK(b.figure("scale_ups") == 3);
  }
  SECTION("a policy period of 60 s holds the count for four rounds after each step") {
    AutoscalerConfig c = free_config(1, 2);
    c.max_scale_up_pods = 4;
    c.policy_period = 60'000_ms;
    Bench b(20, c, at_s(200));
    b.queue->visible = constant(1000);
    b.h.run();
    // The step at 15 s counts until 75 s (strictly after now - 60 s): 6 until then, 12 at 75 s.
    CHECK(b.desired_at(at_s(60)) == 6);
    CHECK(b.desired_at(at_s(75)) == 12);
    CHECK(b.desired_at(at_s(120)) == 12);
    CHECK(b.desired_at(at_s(135)) == 20);
  }
  SECTION("scale down by at most 50 % per period") {
    AutoscalerConfig c = free_config(1, 16);
    c.max_scale_down_percent = 50;
    Bench b(20, c, at_s(100));
    b.queue->visible = constant(1);
    b.h.run();
    CHECK(b.counts() == std::vector<std::uint32_t>{16, 8, 4, 2, 1});
  }
}

TEST_CASE("autoscaler: a short scale-down window flaps on a square wave, the default does not",
          "[autoscaler]") {
  // 50 messages (10 workers at 5 each) for 60 s, then 10 (2 workers) for 60 s, and so on.
  const auto square = [](Time t) -> std::uint64_t {
    return (t.since_start().ns() / 60'000'000'000) % 2 == 0 ? 50 : 10;
  };
  AutoscalerConfig c;
  c.workers.name = "pool";
  c.queue.name = "queue";
  c.target = 5;
  c.initial = 2;
  c.scale_down_window = 15'000_ms;  // forgets a recommendation at the next round
  Bench flappy(20, c, at_s(1790));
  flappy.queue->visible = square;
  flappy.h.run();
  c.scale_down_window = 300'000_ms;  // the default: longer than the wave's period
  Bench steady(20, c, at_s(1790));
  steady.queue->visible = square;
  steady.h.run();
  // Up every high half, down every low one: 15 cycles, 29 reversals after the first step up.
  CHECK(flappy.direction_changes() == 29);
  CHECK(flappy.figure("scale_downs") == 15);
  CHECK(steady.direction_changes() == 0);
  CHECK(steady.figure("scale_downs") == 0);
  CHECK(steady.counts() == std::vector<std::uint32_t>{2, 6, 10});
}

TEST_CASE("autoscaler: a missing queue metric changes nothing, and the count is resent",
          "[autoscaler]") {
  Bench b(10, free_config(5, 3), at_s(100));
  b.queue->visible = constant(1000);
  b.queue->answer = false;
  b.h.cluster.start();
  b.h.sim.run_until(at_s(61));
  CHECK(b.scaler->desired() == 3);
  CHECK(b.figure("missing_metrics") == 4);  // the rounds of 15, 30, 45, 60 s
  CHECK(b.figure("decisions") == 0);
  // The initial count at 0 s, then a resend at each round's timeout (1 s), epoch unchanged.
  const auto& s = b.workers[7]->scales;
  REQUIRE(s.size() == 5);
  CHECK(s[0].at == Time::zero());
  for (std::size_t i = 1; i < s.size(); ++i) {
    CHECK(s[i].at == at_s(15 * static_cast<std::int64_t>(i)) + 1000_ms);
    CHECK(s[i].desired == 3);
    CHECK(s[i].epoch == s[0].epoch);
  }
  b.queue->answer = true;  // from the round of 75 s on
  b.h.sim.run_until(at_s(100));
  CHECK(b.desired_at(at_s(75)) == 10);
  CHECK(b.figure("decisions") == 2);
}

TEST_CASE("autoscaler: the initial count at start and after a restart, with higher epochs",
          "[autoscaler]") {
  AutoscalerConfig c = free_config(5, 3);
  c.scale_down_window = 300'000_ms;
  Bench b(10, c, at_s(80));
  b.queue->visible = constant(35);  // 7 workers
  b.h.faults.crash(at_s(20), b.h.nodes("scaler").at(0), 20'000_ms);
  b.h.run();
  const auto& s = b.workers[0]->scales;
  // 0 s: the initial 3; 15 s: 7; the crash at 20 s; 40 s: the restart's 3; 55 s: 7; 70 s: 7.
  REQUIRE(s.size() == 5);
  CHECK(s[0].at == at_s(0));
  CHECK(s[0].desired == 3);
  CHECK(s[1].at == at_s(15));
  CHECK(s[1].desired == 7);
  CHECK(s[2].at == at_s(40));
  CHECK(s[2].desired == 3);
  CHECK(s[3].at == at_s(55));
  CHECK(s[3].desired == 7);
  CHECK(s[4].at == at_s(70));
  for (std::size_t i = 1; i < s.size(); ++i) CHECK(s[i].epoch > s[i - 1].epoch);
  CHECK(b.scaler->epoch() == s.back().epoch);
  // Every worker of the pool hears every count.
  for (const WorkerPeer* w : b.workers) CHECK(w->scales.size() == 5);
}

TEST_CASE("autoscaler figures and series", "[autoscaler]") {
  // Warm-up until 20 s: the count is 3 then 7 (15 s); measured from 20 to 80 s: 7 throughout
  // but a drop of the queue at 50 s gives 2 at the round of 60 s (no stabilization).
  AutoscalerConfig c = free_config(5, 3);
  Bench b(10, c, at_s(80), at_s(20));
  b.queue->visible = [](Time t) -> std::uint64_t { return t < at_s(50) ? 35 : 10; };
  b.set_load(0.5);
  b.workers[9]->serving = 0;
  b.h.run();
  CHECK(b.figure("decisions") == 4);  // 30, 45, 60, 75 s
  CHECK(b.figure("scale_ups") == 0);
  CHECK(b.figure("scale_downs") == 1);
  CHECK(b.figure("desired_max") == 7);
  CHECK(b.figure("desired_min") == 2);
  CHECK(b.figure("desired_mean") == Approx((7.0 * 40 + 2.0 * 20) / 60));
  CHECK(b.figure("missing_metrics") == 0);
  models::SeriesSample sample;
  b.scaler->sample(at_s(80), sample);
  REQUIRE(sample.items().size() == Autoscaler::series_docs().size());
  for (std::size_t i = 0; i < sample.items().size(); ++i)
    CHECK(std::string(sample.items()[i].name) == Autoscaler::series_docs()[i].name);
  CHECK(sample.items()[0].value == 2);         // desired
  CHECK(sample.items()[1].value == 9);         // serving: all the pool's answers, not the count's
  CHECK(sample.items()[2].value == 10.0 / 2);  // metric: 10 messages over the 2 workers of then
}

TEST_CASE("autoscaler: configuration errors are scenario errors with their JSON path",
          "[autoscaler]") {
  const auto path_of = [](const std::string& scaler) {
    const std::string text = R"({"name": "as", "duration": "2s",
      "components": {
        "api": {"model": "server", "count": 2},
        "client": {"model": "open_loop_client", "rate": "10/s", "target": "api"},
        "scaler": {"model": "autoscaler", )" +
                             scaler + R"(}}})";
    try {
      scenario::load_scenario_text(text, "as.json");
    } catch (const scenario::ScenarioError& e) {
      std::string all;  // every problem, one a line
      for (const auto& p : e.problems()) all += p.path + ": " + p.message + "\n";
      return all;
    }
    return std::string("no error");
  };
  // A server serves neither the scale nor the queue protocol: the wiring is refused.
  const std::string wiring = path_of(R"("workers": "api", "queue": "api", "target": 5)");
  CHECK_THAT(wiring, Catch::Contains("/components/scaler/workers: ") && Catch::Contains("scale"));
  CHECK_THAT(wiring, Catch::Contains("/components/scaler/queue: "));
  CHECK_THAT(path_of(R"("workers": "api", "metric": "utilization", "target": 1.5)"),
             Catch::Contains("/components/scaler/target: "));
  CHECK_THAT(path_of(R"("workers": "api", "metric": "utilization", "target": 0.7, "queue": "api")"),
             Catch::Contains("/components/scaler/queue: "));
  CHECK_THAT(path_of(R"("workers": "api", "queue": "api", "target": 5, "min": 4, "max": 3)"),
             Catch::Contains("/components/scaler/min: "));
  CHECK_THAT(path_of(R"("workers": "api", "queue": "api", "target": 5, "initial": 9, "max": 3)"),
             Catch::Contains("/components/scaler/initial: "));
  CHECK_THAT(path_of(R"("workers": "api", "queue": "api", "target": 5, "query_timeout": "15s")"),
             Catch::Contains("/components/scaler/query_timeout: "));
  CHECK_THAT(path_of(R"("workers": "api", "queue": "api", "target": 5, "count": 2)"),
             Catch::Contains("/components/scaler/count: "));
  CHECK_THAT(path_of(R"("workers": "api", "target": 5)"),
             Catch::Contains("/components/scaler/queue: missing (required)"));
  CHECK_THAT(path_of(R"("workers": "api", "queue": "api", "target": 5, "min": 0)"),
             Catch::Contains("/components/scaler/min: "));
}

TEST_CASE("autoscaler: the steady state allocates nothing per round", "[autoscaler]") {
  AutoscalerConfig c;
  c.workers.name = "pool";
  c.queue.name = "queue";
  c.target = 5;
  c.metric = ScaleMetric::QueueDepth;
  Bench b(50, c, at_s(7200));
  b.queue->visible = [](Time t) -> std::uint64_t {
    return (t.since_start().ns() / 600'000'000'000) % 2 == 0 ? 200 : 20;  // scales both ways
  };
  for (WorkerPeer* w : b.workers) w->record = false;  // the test's own vectors would grow
  b.h.cluster.start();
  b.h.sim.run_until(at_s(1300));  // the histories have reached their longest
  const std::uint64_t before = allocation_count();
  b.h.sim.run_until(at_s(7200));
  CHECK(allocation_count() - before == 0);
  CHECK(b.figure("scale_downs") >= 4);
}
