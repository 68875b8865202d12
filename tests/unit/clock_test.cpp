// Node clocks: exact integer conversions of NodeClock, and a node's timers on a drifting or
// stepped clock. Drift of +100 ppm means the clock advances 1 + 1e-4 local seconds per true
// second, so a local second takes 1e9 / (1 + 1e-4) true ns, rounded up (a timer is never early).
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <vector>

#include "sim/assert.hpp"
#include "sim/clock.hpp"
#include "sim/cluster.hpp"

using namespace sim;

namespace {

Time at_ns(std::int64_t ns) {
  return Time::from_ns(ns);
}

// Records the true and wall times at which its timers fire.
class TimerLog : public Process {
 public:
  std::vector<Time> fired_true;
  std::vector<Time> fired_wall;
  std::vector<std::uint64_t> values;
  void on_start(Node&) override {}
  void on_message(Node&, const Message&) override {}
  void on_timer(Node& n, TimerTag tag) override {
    fired_true.push_back(n.true_now());
    fired_wall.push_back(n.now());
    values.push_back(tag.value);
  }
};

struct OneNode {
  Simulator sim{1};
  Cluster cluster{sim};
  NodeId id = cluster.add_node("n");
  TimerLog* log = nullptr;
  OneNode() {
    auto p = std::make_unique<TimerLog>();
    log = p.get();
    cluster.attach(id, std::move(p));
    cluster.start();
  }
  Node& node() { return cluster.node(id); }
};

}  // namespace

TEST_CASE("clock: a clock in sync reads true time on both readings") {
  NodeClock c;
  CHECK(c.monotonic(at_ns(123'456'789)) == at_ns(123'456'789));
  CHECK(c.wall(at_ns(123'456'789)) == at_ns(123'456'789));
  CHECK(c.true_delay_for(1_s) == 1_s);
  CHECK(c.true_time_at_wall(at_ns(5'000), at_ns(1'000)) == at_ns(5'000));
  CHECK(c.drift_ppm() == 0);
}

TEST_CASE("clock: exact integer conversions with drift, rounded so that timers are never early") {
  SECTION("+100 ppm") {
    const NodeClock c(Duration::zero(), 100);
    CHECK(c.drift_ppm() == 100);
    CHECK(c.monotonic(at_ns(1'000'000'000)) == at_ns(1'000'100'000));
    CHECK(c.monotonic(at_ns(1)) == at_ns(1));          // 1.0001 ns, floored
    CHECK(c.monotonic(at_ns(9'999)) == at_ns(9'999));  // 9999.9999 ns, floored
    CHECK(c.monotonic(at_ns(10'000)) == at_ns(10'001));
    // 1e18 / (1e9 + 1e5) = 999,900,009.9999..., rounded up.
    CHECK(c.true_delay_for(1_s) == 999'900'010_ns);
    CHECK(c.monotonic(at_ns(999'900'010)) == at_ns(1'000'000'000));
    CHECK(c.monotonic(at_ns(999'900'009)) == at_ns(999'999'999));
    CHECK(c.true_delay_for(Duration::zero()) == Duration::zero());
  }
  SECTION("-100 ppm") {
    const NodeClock c(Duration::zero(), -100);
    CHECK(c.monotonic(at_ns(1'000'000'000)) == at_ns(999'900'000));
    CHECK(c.monotonic(at_ns(1)) == at_ns(0));  // 0.9999 ns, floored (not truncated to 1)
    CHECK(c.monotonic(at_ns(10'000)) == at_ns(9'999));
    // 1e18 / (1e9 - 1e5) = 1,000,100,010.0010..., rounded up.
    CHECK(c.true_delay_for(1_s) == 1'000'100'011_ns);
    CHECK(c.monotonic(at_ns(1'000'100'011)) == at_ns(1'000'000'000));
    CHECK(c.monotonic(at_ns(1'000'100'010)) == at_ns(999'999'999));
  }
  SECTION("fractional ppm are kept in parts per billion") {
    const NodeClock c(Duration::zero(), 0.5);
    CHECK(c.drift_ppm() == 0.5);
    CHECK(c.monotonic(at_ns(2'000'000'000)) == at_ns(2'000'001'000));
  }
  SECTION("a huge negative drift still counts forwards") {
    const NodeClock c(Duration::zero(), -999'000);  // 1000x slow
    CHECK(c.monotonic(at_ns(1'000'000)) == at_ns(1'000));
    CHECK(c.true_delay_for(1_us) == 1_ms);
  }
  CHECK_THROWS_AS(NodeClock(Duration::zero(), -1e6), ContractViolation);
  CHECK_THROWS_AS(NodeClock().true_delay_for(-1_ns), ContractViolation);
}

TEST_CASE("clock: the wall clock carries the offset and steps, the monotonic clock does not") {
  NodeClock c(5_s, 0);
  CHECK(c.wall(at_ns(1'000)) == at_ns(5'000'001'000));
  CHECK(c.monotonic(at_ns(1'000)) == at_ns(1'000));
  c.step(-7_s);
  CHECK(c.wall(at_ns(1'000)) == at_ns(1'000) - 2_s);  // a wall clock may read before zero
  CHECK(c.monotonic(at_ns(1'000)) == at_ns(1'000));
  CHECK(c.wall_offset() == -2_s);
  c.step(3_s);
  CHECK(c.wall(at_ns(1'000)) == at_ns(1'000) + 1_s);
  // When will the wall clock read 1.5 s + 1000 ns? After 0.5 s more of true time.
  CHECK(c.true_time_at_wall(at_ns(1'000) + 1500_ms, at_ns(1'000)) == at_ns(1'000) + 500_ms);
  // A reading already past: now, never earlier.
  CHECK(c.true_time_at_wall(at_ns(0), at_ns(1'000)) == at_ns(1'000));
}

TEST_CASE("clock: changing the drift re-anchors the clock: no jump, the new rate from then on") {
  NodeClock c(1_s, 100);
  const Time t1 = at_ns(1'000'000'000);
  const Time mono_before = c.monotonic(t1);
  const Time wall_before = c.wall(t1);
  c.set_drift_ppm(-100, t1);
  CHECK(c.monotonic(t1) == mono_before);
  CHECK(c.wall(t1) == wall_before);
  CHECK(c.drift_ppm() == -100);
  // 1 s at +100 ppm, then 1 s at -100 ppm.
  CHECK(c.monotonic(at_ns(2'000'000'000)) == at_ns(1'000'100'000 + 999'900'000));
  CHECK(c.wall(at_ns(2'000'000'000)) == at_ns(3'000'000'000));
  // And back to no drift: again no jump.
  c.set_drift_ppm(0, at_ns(2'000'000'000));
  CHECK(c.monotonic(at_ns(3'000'000'000)) == at_ns(3'000'000'000));
}

TEST_CASE("clock: a node's timer of local 1 s fires at exactly 1e9 / (1 + drift) true ns") {
  const double ppm = GENERATE(100.0, -100.0);
  const std::int64_t expected = ppm > 0 ? 999'900'010 : 1'000'100'011;
  OneNode n;
  n.node().clock().set_drift_ppm(ppm, n.sim.now());
  n.node().set_timer(1_s, {0, 1});
  n.sim.run();
  INFO(ppm << " ppm");
  REQUIRE(n.log->fired_true.size() == 1);
  CHECK(n.log->fired_true[0] == at_ns(expected));
  CHECK(n.node().clock().monotonic(at_ns(expected)) == at_ns(1'000'000'000));
  CHECK(n.node().clock().monotonic(at_ns(expected - 1)) < at_ns(1'000'000'000));
}

TEST_CASE("clock: a node timer set later measures local time from when it was set") {
  OneNode n;
  n.node().clock().set_drift_ppm(100, n.sim.now());
  n.sim.run_until(at_ns(123'456'789));
  const Time local_start = n.node().clock().monotonic(n.sim.now());
  n.node().set_timer(250_ms, {});
  n.sim.run();
  REQUIRE(n.log->fired_true.size() == 1);
  const Time fired = n.log->fired_true[0];
  // Never early; at most 1 ns late, since the reading at the start was itself floored.
  CHECK(n.node().clock().monotonic(fired) - local_start >= 250_ms);
  CHECK(n.node().clock().monotonic(fired - 2_ns) - local_start < 250_ms);
  CHECK(fired == at_ns(123'456'789) + n.node().clock().true_delay_for(250_ms));
}

TEST_CASE("clock: node.now() reads the wall clock after steps, the monotonic clock is unaffected") {
  OneNode n;
  Node& node = n.node();
  n.sim.run_until(at_ns(1'000'000));
  CHECK(node.now() == at_ns(1'000'000));
  CHECK(node.true_now() == at_ns(1'000'000));
  node.clock().step(10_s);
  CHECK(node.now() == at_ns(1'000'000) + 10_s);
  CHECK(node.clock().monotonic(node.true_now()) == at_ns(1'000'000));
  node.clock().step(-20_s);
  CHECK(node.now() == at_ns(1'000'000) - 10_s);
  CHECK(node.clock().monotonic(node.true_now()) == at_ns(1'000'000));
  CHECK(node.true_now() == at_ns(1'000'000));
}

TEST_CASE("clock: set_timer_at fires when the node's wall clock reads the given time") {
  OneNode n;
  Node& node = n.node();
  node.clock() = NodeClock(1'000_s, 100);  // wall = 1000 s + monotonic, drifting +100 ppm
  const Time target = node.now() + 1_s;
  node.set_timer_at(target, {0, 1});
  node.set_timer_at(node.now() - 1_s, {0, 2});  // already past: fires now
  n.sim.run();
  REQUIRE(n.log->values == std::vector<std::uint64_t>{2, 1});
  CHECK(n.log->fired_true[0] == Time::zero());
  CHECK(n.log->fired_true[1] == at_ns(999'900'010));
  CHECK(n.log->fired_wall[1] == target);
  CHECK(node.clock().wall(n.log->fired_true[1] - 1_ns) < target);
}

TEST_CASE("clock: set_timer_at is computed when set: a later step does not move it") {
  OneNode n;
  Node& node = n.node();
  node.set_timer_at(Time::zero() + 10_s, {});
  n.sim.schedule_at(at_ns(1'000'000'000), [&node] { node.clock().step(5_s); });
  n.sim.run();
  REQUIRE(n.log->fired_true.size() == 1);
  CHECK(n.log->fired_true[0] == Time::zero() + 10_s);
  CHECK(n.log->fired_wall[0] == Time::zero() + 15_s);
}

TEST_CASE("clock: a drift change at run time re-anchors a node's clock without a jump") {
  OneNode n;
  Node& node = n.node();
  node.clock().set_drift_ppm(200, n.sim.now());
  Time mono_before, mono_after;
  n.sim.schedule_at(at_ns(500'000'000), [&] {
    mono_before = node.clock().monotonic(node.true_now());
    node.clock().set_drift_ppm(-300, node.true_now());
    mono_after = node.clock().monotonic(node.true_now());
  });
  n.sim.run_until(Time::zero() + 2_s);
  CHECK(mono_before == at_ns(500'100'000));
  CHECK(mono_after == mono_before);
  // 0.5 s at +200 ppm, then 1.5 s at -300 ppm.
  CHECK(node.clock().monotonic(node.true_now()) == at_ns(500'100'000 + 1'499'550'000));
}
