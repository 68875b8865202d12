// The fault injector: every verb takes effect at its start time and is undone at its end, the
// log records what happened to whom and when, and faults are ordinary events, ordered with the
// model's events by (time, scheduling order). What a fault does to traffic is tested in
// cluster_test.cpp and network_test.cpp; here the question is when, and what gets recorded.
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/cluster.hpp"
#include "sim/faults.hpp"
#include "tests/test_time.hpp"

using namespace sim;

namespace {

struct Note {
  std::uint64_t value = 0;
};

LinkSpec constant_link(Duration latency) {
  LinkSpec spec;
  spec.latency = Distribution::constant(static_cast<double>(latency.ns()));
  return spec;
}

// Counts starts, records when messages arrive.
class Sink : public Process {
 public:
  int starts = 0;
  std::vector<std::uint64_t> values;
  std::vector<Time> arrived;
  void on_start(Node&) override { ++starts; }
  void on_message(Node& n, const Message& m) override {
    values.push_back(m.as<Note>().value);
    arrived.push_back(n.true_now());
  }
};

// Three nodes a, b, c; a Sink on each; an a<->b link of 1 ms; the default link 1 ms.
struct Rig {
  Simulator sim{1};
  Cluster cluster{sim};
  NodeId a = cluster.add_node("a");
  NodeId b = cluster.add_node("b");
  NodeId c = cluster.add_node("c");
  LinkId ab;
  std::vector<Sink*> sinks;
  FaultInjector faults{cluster};
  Rig() {
    ab = cluster.network().add_link(a, b, constant_link(1_ms));
    cluster.network().set_default_link(constant_link(1_ms));
    for (NodeId n = 0; n < 3; ++n) {
      auto p = std::make_unique<Sink>();
      sinks.push_back(p.get());
      cluster.attach(n, std::move(p));
    }
  }
  void send_at(Time at, NodeId from, NodeId to, std::uint64_t value) {
    sim.schedule_at(at, [this, from, to, value] { cluster.node(from).send(to, Note{value}); });
  }
  // The state just before and at `at`: run to 1 ns before, look, run to `at`, look.
  template <class F>
  void check_change(Time at, F state, decltype(state()) before, decltype(state()) after) {
    sim.run_until(at - 1_ns);
    CHECK(state() == before);
    sim.run_until(at);
    CHECK(state() == after);
  }
};

void check_record(const FaultRecord& r, const std::string& kind, const std::string& target,
                  Time start, std::optional<Time> end) {
  INFO(r.kind << " " << r.target << " (" << r.detail << ")");
  CHECK(r.kind == kind);
  CHECK(r.target == target);
  CHECK(r.start == start);
  CHECK(r.end == end);
}

}  // namespace

TEST_CASE("faults: crash at its time, restart after down_for, logged with its interval") {
  Rig r;
  r.faults.crash(at_ms(10), r.b, 20_ms);
  r.faults.crash(at_ms(15), r.c);  // never restarted
  r.cluster.start();
  const auto state_b = [&] { return r.cluster.node(r.b).state(); };
  r.check_change(at_ms(10), state_b, NodeState::Up, NodeState::Crashed);
  REQUIRE(r.faults.log().size() == 1);
  check_record(r.faults.log()[0], "crash", "b", at_ms(10), std::nullopt);  // not over yet
  r.check_change(at_ms(30), state_b, NodeState::Crashed, NodeState::Up);
  r.sim.run();
  CHECK(r.sinks[1]->starts == 2);
  CHECK(r.cluster.node(r.c).state() == NodeState::Crashed);
  REQUIRE(r.faults.log().size() == 2);
  check_record(r.faults.log()[0], "crash", "b", at_ms(10), at_ms(30));
  check_record(r.faults.log()[1], "crash", "c", at_ms(15), std::nullopt);
}

TEST_CASE("faults: pause at its time, resume after paused_for") {
  Rig r;
  r.faults.pause(at_ms(10), r.b, 5_ms);
  r.cluster.start();
  const auto state_b = [&] { return r.cluster.node(r.b).state(); };
  r.check_change(at_ms(10), state_b, NodeState::Up, NodeState::Paused);
  r.check_change(at_ms(15), state_b, NodeState::Paused, NodeState::Up);
  REQUIRE(r.faults.log().size() == 1);
  check_record(r.faults.log()[0], "pause", "b", at_ms(10), at_ms(15));
}

TEST_CASE("faults: partitions start and heal on time, the log names the groups") {
  Rig r;
  r.faults.partition(at_ms(10), {{r.a, r.b}, {r.c}}, false, 10_ms);
  r.faults.partition(at_ms(30), {{r.c}, {r.a}}, true, 5_ms);
  r.cluster.start();
  Network& net = r.cluster.network();
  const auto a_to_c = [&] { return net.can_reach(r.a, r.c); };
  const auto c_to_a = [&] { return net.can_reach(r.c, r.a); };
  r.check_change(at_ms(10), a_to_c, true, false);
  CHECK_FALSE(c_to_a());
  CHECK(net.can_reach(r.a, r.b));
  r.check_change(at_ms(20), a_to_c, false, true);
  r.check_change(at_ms(30), c_to_a, true, false);  // one-way: c cannot send to a ...
  CHECK(a_to_c());                                 // ... but a can still send to c
  r.check_change(at_ms(35), c_to_a, false, true);
  REQUIRE(r.faults.log().size() == 2);
  check_record(r.faults.log()[0], "partition", "{a,b} | {c}", at_ms(10), at_ms(20));
  CHECK(r.faults.log()[0].detail == "symmetric");
  check_record(r.faults.log()[1], "partition", "{c} | {a}", at_ms(30), at_ms(35));
  CHECK(r.faults.log()[1].detail.rfind("one-way", 0) == 0);
}

TEST_CASE("faults: link cuts in one or both directions, repaired on time") {
  Rig r;
  Network& net = r.cluster.network();
  const LinkId ba = net.reverse_link(r.ab);
  r.faults.cut_link(at_ms(10), r.ab, true, 10_ms);
  r.faults.cut_link(at_ms(30), ba, false, 5_ms);
  r.faults.cut_link(at_ms(50), r.ab, false);  // for good
  r.cluster.start();
  const auto ab_cut = [&] { return net.is_cut(r.ab); };
  const auto ba_cut = [&] { return net.is_cut(ba); };
  r.check_change(at_ms(10), ab_cut, false, true);
  CHECK(ba_cut());
  r.check_change(at_ms(20), ab_cut, true, false);
  CHECK_FALSE(ba_cut());
  r.check_change(at_ms(30), ba_cut, false, true);
  CHECK_FALSE(ab_cut());
  r.check_change(at_ms(35), ba_cut, true, false);
  r.check_change(at_ms(50), ab_cut, false, true);
  r.sim.run();
  CHECK(ab_cut());
  REQUIRE(r.faults.log().size() == 3);
  check_record(r.faults.log()[0], "cut", "a->b", at_ms(10), at_ms(20));
  CHECK(r.faults.log()[0].detail == "both directions");
  check_record(r.faults.log()[1], "cut", "b->a", at_ms(30), at_ms(35));
  CHECK(r.faults.log()[1].detail == "one direction");
  check_record(r.faults.log()[2], "cut", "a->b", at_ms(50), std::nullopt);
}

TEST_CASE("faults: link and node degradations slow and lose traffic while they last") {
  Rig r;
  r.faults.degrade_link(at_ms(10), r.ab, 10, 0, 10_ms);    // a->b: 1 ms -> 10 ms
  r.faults.degrade_node(at_ms(30), r.c, 3, 0, 10_ms);      // to c (default link): 1 ms -> 3 ms
  r.faults.degrade_link(at_ms(50), kNoLink, 1, 1, 10_ms);  // everything lost
  r.cluster.start();
  for (const std::int64_t ms : {5, 12, 25, 32, 45, 52, 65}) {
    r.send_at(at_ms(ms), r.a, r.b, static_cast<std::uint64_t>(ms));
    r.send_at(at_ms(ms), r.a, r.c, static_cast<std::uint64_t>(ms));
  }
  r.sim.run();
  CHECK(r.sinks[1]->values == std::vector<std::uint64_t>{5, 12, 25, 32, 45, 65});
  CHECK(r.sinks[1]->arrived ==
        std::vector<Time>{at_ms(6), at_ms(22), at_ms(26), at_ms(33), at_ms(46), at_ms(66)});
  CHECK(r.sinks[2]->values == std::vector<std::uint64_t>{5, 12, 25, 32, 45, 65});
  CHECK(r.sinks[2]->arrived ==
        std::vector<Time>{at_ms(6), at_ms(13), at_ms(26), at_ms(35), at_ms(46), at_ms(66)});
  CHECK(r.cluster.network().counters().dropped[static_cast<int>(DropReason::Lost)] == 2);
  REQUIRE(r.faults.log().size() == 3);
  check_record(r.faults.log()[0], "degrade", "a->b", at_ms(10), at_ms(20));
  CHECK(r.faults.log()[0].detail == "latency x10, loss +0");
  check_record(r.faults.log()[1], "degrade", "c", at_ms(30), at_ms(40));
  check_record(r.faults.log()[2], "degrade", "all links", at_ms(50), at_ms(60));
  CHECK(r.faults.log()[2].detail == "latency x1, loss +1");
}

TEST_CASE("faults: clock steps and drift changes take effect on time and are recorded") {
  Rig r;
  r.faults.clock_step(at_ms(10), r.b, 2_s);
  r.faults.clock_step(at_ms(20), r.b, -500_ms);
  r.faults.clock_drift(at_ms(1'000), r.c, 100);
  r.cluster.start();
  Node& b = r.cluster.node(r.b);
  Node& c = r.cluster.node(r.c);
  const auto b_offset = [&] { return b.clock().wall_offset(); };
  r.check_change(at_ms(10), b_offset, Duration::zero(), 2_s);
  CHECK(b.now() == at_ms(10) + 2_s);
  CHECK(b.clock().monotonic(b.true_now()) == at_ms(10));
  r.check_change(at_ms(20), b_offset, 2_s, 1500_ms);
  const auto c_drift = [&] { return c.clock().drift_ppm(); };
  r.check_change(at_ms(1'000), c_drift, 0.0, 100.0);
  r.sim.run_until(at_ms(2'000));
  CHECK(c.now() == at_ms(2'000) + 100_us);  // 1 s in sync, then 1 s at +100 ppm
  REQUIRE(r.faults.log().size() == 3);
  check_record(r.faults.log()[0], "clock_step", "b", at_ms(10), at_ms(10));  // instantaneous
  CHECK(r.faults.log()[0].detail == "by 2s");
  check_record(r.faults.log()[1], "clock_step", "b", at_ms(20), at_ms(20));
  CHECK(r.faults.log()[1].detail == "by -500ms");
  check_record(r.faults.log()[2], "clock_drift", "c", at_ms(1'000), std::nullopt);
  CHECK(r.faults.log()[2].detail == "100 ppm");
}

TEST_CASE("faults: slow sets the node's slowdown and restores 1") {
  Rig r;
  r.faults.slow(at_ms(10), r.b, 4, 10_ms);
  r.faults.slow(at_ms(30), r.c, 2.5);
  r.cluster.start();
  const auto slowdown_b = [&] { return r.cluster.node(r.b).slowdown(); };
  r.check_change(at_ms(10), slowdown_b, 1.0, 4.0);
  r.check_change(at_ms(20), slowdown_b, 4.0, 1.0);
  r.sim.run();
  CHECK(r.cluster.node(r.c).slowdown() == 2.5);
  REQUIRE(r.faults.log().size() == 2);
  check_record(r.faults.log()[0], "slow", "b", at_ms(10), at_ms(20));
  CHECK(r.faults.log()[0].detail == "service x4");
  check_record(r.faults.log()[1], "slow", "c", at_ms(30), std::nullopt);
}

TEST_CASE("faults: the log keeps the order faults began in, records by others included") {
  Rig r;
  r.faults.slow(at_ms(20), r.a, 2, 1_ms);
  r.faults.crash(at_ms(10), r.c, 100_ms);  // scheduled second, begins first
  r.cluster.start();
  r.sim.run_until(at_ms(15));
  r.faults.record({"spike", "clients", "load x3", at_ms(15), at_ms(18)});
  r.sim.run();
  REQUIRE(r.faults.log().size() == 3);
  check_record(r.faults.log()[0], "crash", "c", at_ms(10), at_ms(110));
  check_record(r.faults.log()[1], "spike", "clients", at_ms(15), at_ms(18));
  check_record(r.faults.log()[2], "slow", "a", at_ms(20), at_ms(21));
}

TEST_CASE("faults: a fault and a model event at the same time run in scheduling order") {
  Rig r;
  std::vector<std::string> seen;
  const auto look = [&](const char* who) {
    return [&r, &seen, who] {
      seen.push_back(std::string(who) + ":" + to_string(r.cluster.node(r.b).state()));
    };
  };
  r.sim.schedule_at(at_ms(10), look("before"));          // scheduled before the crash: sees it up
  r.sim.schedule_at(at_ms(20), look("before-restart"));  // ... and still down at the restart
  r.faults.crash(at_ms(10), r.b, 10_ms);
  r.sim.schedule_at(at_ms(10), look("after"));          // scheduled after: sees it crashed
  r.sim.schedule_at(at_ms(20), look("after-restart"));  // ... and up again
  // Two faults at one instant, in scheduling order: pause then crash leaves b crashed ...
  r.faults.pause(at_ms(30), r.b);
  r.faults.crash(at_ms(30), r.b);
  r.sim.schedule_at(at_ms(30), look("pause-then-crash"));
  // ... crash then pause leaves c crashed too (a crashed node does not pause).
  r.faults.crash(at_ms(30), r.c);
  r.faults.pause(at_ms(30), r.c);
  r.cluster.start();
  // Messages arriving exactly when b crashes (10 ms) and restarts (20 ms): the fault events
  // were scheduled before the arrivals, so they run first: the first is lost, the second lands.
  r.send_at(at_ms(9), r.a, r.b, 1);
  r.send_at(at_ms(19), r.a, r.b, 2);
  r.sim.run();
  CHECK(seen == std::vector<std::string>{"before:up", "after:crashed", "before-restart:crashed",
                                         "after-restart:up", "pause-then-crash:crashed"});
  CHECK(r.cluster.node(r.c).state() == NodeState::Crashed);
  CHECK(r.sinks[1]->values == std::vector<std::uint64_t>{2});
  CHECK(r.sinks[1]->arrived == std::vector<Time>{at_ms(20)});
  CHECK(r.cluster.network().counters().dropped[static_cast<int>(DropReason::DestinationCrashed)] ==
        1);
}
