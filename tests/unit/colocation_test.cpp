// Machines (co-location): nodes put on one machine talk over loopback -- no delay, no loss, no
// partition or link cut between them -- and share their fate: a crash, restart, pause, resume,
// slowdown, clock fault or node degradation of one is the machine's (sim/network.hpp,
// sim/cluster.hpp, sim/faults.hpp). The scenario's `colocate_with` is tested through the loader
// in tests/scenarios/colocation_test.cpp.
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <vector>

#include "sim/cluster.hpp"
#include "sim/faults.hpp"
#include "tests/test_time.hpp"

using namespace sim;

namespace {

struct Note {
  std::uint64_t value = 0;
};

LinkSpec constant_link(Duration latency, double loss = 0) {
  LinkSpec spec;
  spec.latency = Distribution::constant(static_cast<double>(latency.ns()));
  spec.loss = loss;
  return spec;
}

// Counts what happened to it, and when the messages arrived.
class Probe : public Process {
 public:
  int starts = 0, crashes = 0;
  std::vector<std::uint64_t> values;
  std::vector<Time> arrivals;
  void on_start(Node&) override { ++starts; }
  void on_message(Node& n, const Message& m) override {
    values.push_back(m.as<Note>().value);
    arrivals.push_back(n.true_now());
  }
  void on_crash(Node&) override { ++crashes; }
};

struct Bench {
  Simulator sim{1};
  Cluster cluster{sim};
  NodeId app, sidecar, other;
  Probe *app_probe, *sidecar_probe, *other_probe;

  explicit Bench(const LinkSpec& link) {
    app = cluster.add_node("app");
    sidecar = cluster.add_node("sidecar");
    other = cluster.add_node("other");
    cluster.network().set_default_link(link);
    app_probe = attach(app);
    sidecar_probe = attach(sidecar);
    other_probe = attach(other);
    cluster.colocate(app, sidecar);
  }
  Probe* attach(NodeId id) {
    auto p = std::make_unique<Probe>();
    Probe* raw = p.get();
    cluster.attach(id, std::move(p));
    return raw;
  }
  void send_at(Time at, NodeId from, NodeId to, std::uint64_t value) {
    sim.schedule_at(at, [this, from, to, value] { cluster.node(from).send(to, Note{value}); });
  }
};

}  // namespace

TEST_CASE("colocation: machines are merged transitively and listed in id order") {
  Simulator s(1);
  Cluster c(s);
  std::vector<NodeId> n;
  for (int i = 0; i < 5; ++i) n.push_back(c.add_node("n" + std::to_string(i)));
  c.colocate(n[3], n[1]);
  c.colocate(n[4], n[0]);
  CHECK(c.network().same_machine(n[1], n[3]));
  CHECK_FALSE(c.network().same_machine(n[1], n[0]));
  c.colocate(n[0], n[3]);  // joins the two machines
  const auto machine = c.machine_of(n[4]);
  CHECK(std::vector<NodeId>(machine.begin(), machine.end()) ==
        std::vector<NodeId>{n[0], n[1], n[3], n[4]});
  CHECK(c.network().same_machine(n[4], n[1]));
  CHECK(c.machine_of(n[2]).size() == 1);  // alone: its machine is itself
  CHECK(c.machine_of(n[2])[0] == n[2]);
}

TEST_CASE("colocation: messages between nodes of one machine are loopback, others are not") {
  // A lossy, slow network: everything that leaves a machine is lost, nothing inside is.
  Bench b(constant_link(5_ms, /*loss=*/1.0));
  b.cluster.start();
  b.send_at(at_ms(1), b.app, b.sidecar, 1);
  b.send_at(at_ms(2), b.sidecar, b.app, 2);
  b.send_at(at_ms(3), b.app, b.other, 3);
  b.sim.run();
  CHECK(b.sidecar_probe->values == std::vector<std::uint64_t>{1});
  CHECK(b.sidecar_probe->arrivals == std::vector<Time>{at_ms(1)});  // no delay
  CHECK(b.app_probe->arrivals == std::vector<Time>{at_ms(2)});
  CHECK(b.other_probe->values.empty());  // lost: the network applies off the machine
  CHECK(b.cluster.network().counters().dropped[static_cast<int>(DropReason::Lost)] == 1);
  CHECK(b.cluster.network().counters().hops == 0);  // loopback is not a hop
}

TEST_CASE("colocation: a loopback message ignores link cuts, partitions and degradations") {
  Simulator s(1);
  Cluster c(s);
  const NodeId app = c.add_node("app");
  const NodeId sidecar = c.add_node("sidecar");
  const NodeId other = c.add_node("other");
  c.network().add_link(app, sidecar, constant_link(1_ms));  // never used: loopback first
  c.network().add_link(app, other, constant_link(1_ms));
  c.network().add_link(sidecar, other, constant_link(1_ms));
  c.colocate(app, sidecar);
  std::vector<Probe*> probes;
  for (NodeId id : {app, sidecar, other}) {
    auto p = std::make_unique<Probe>();
    probes.push_back(p.get());
    c.attach(id, std::move(p));
  }
  FaultInjector faults(c);
  faults.cut_link(at_ms(0), *c.network().find_link(app, sidecar), true);
  faults.degrade_node(at_ms(0), app, 10, 1.0);  // the machine's interface loses everything
  faults.partition(at_ms(0), {{app}, {sidecar}}, false);  // one machine in two groups
  c.start();
  s.schedule_at(at_ms(1), [&] { c.node(app).send(sidecar, Note{1}); });
  s.schedule_at(at_ms(1), [&] { c.node(sidecar).send(other, Note{2}); });  // off the machine
  s.run();
  CHECK(probes[1]->values == std::vector<std::uint64_t>{1});
  CHECK(probes[1]->arrivals == std::vector<Time>{at_ms(1)});
  CHECK(probes[2]->values.empty());  // the sidecar's traffic out shares the degraded interface
  CHECK(c.network().can_reach(app, sidecar));
  CHECK(c.network().route(app, sidecar) == std::vector<NodeId>{app, sidecar});
}

TEST_CASE("colocation: a partition that names one node of a machine takes the machine along") {
  Bench b(constant_link(1_ms));
  // app is named, its sidecar is not: the sidecar is on app's side too.
  const PartitionId p = b.cluster.network().partition({{b.app}, {b.other}}, false, at_ms(0));
  CHECK_FALSE(b.cluster.network().can_reach(b.sidecar, b.other));
  CHECK_FALSE(b.cluster.network().can_reach(b.other, b.sidecar));
  CHECK(b.cluster.network().can_reach(b.sidecar, b.app));
  b.cluster.network().heal_partition(p, at_ms(1));
  CHECK(b.cluster.network().can_reach(b.sidecar, b.other));
}

TEST_CASE("colocation: a crash, restart, pause or resume of one node is its machine's") {
  Bench b(constant_link(1_ms));
  b.cluster.start();
  CHECK(b.sidecar_probe->starts == 1);

  b.cluster.crash(b.sidecar);  // the sidecar's crash takes its application too
  CHECK(b.cluster.node(b.app).state() == NodeState::Crashed);
  CHECK(b.cluster.node(b.sidecar).state() == NodeState::Crashed);
  CHECK(b.cluster.node(b.other).state() == NodeState::Up);
  CHECK(b.app_probe->crashes == 1);
  CHECK(b.sidecar_probe->crashes == 1);
  CHECK(b.cluster.counters().crashes == 2);

  b.cluster.restart(b.app);
  CHECK(b.cluster.node(b.sidecar).is_up());
  CHECK(b.app_probe->starts == 2);
  CHECK(b.sidecar_probe->starts == 2);

  b.cluster.pause(b.app);
  CHECK(b.cluster.node(b.sidecar).state() == NodeState::Paused);
  b.cluster.resume(b.sidecar);
  CHECK(b.cluster.node(b.app).is_up());

  b.cluster.set_slowdown(b.app, 3);
  CHECK(b.cluster.node(b.sidecar).slowdown() == 3);
  CHECK(b.cluster.node(b.other).slowdown() == 1);
}

TEST_CASE("colocation: faults on a node strike the machine, and the record names the others") {
  Bench b(constant_link(1_ms));
  FaultInjector faults(b.cluster);
  faults.crash(at_ms(1), b.app, 2_ms);
  faults.clock_step(at_ms(5), b.sidecar, 250_ms);  // one machine, one clock
  faults.crash(at_ms(6), b.other, 1_ms);
  b.cluster.start();
  b.sim.run_until(at_ms(2));
  CHECK(b.cluster.node(b.sidecar).state() == NodeState::Crashed);
  b.sim.run_until(at_ms(4));
  CHECK(b.cluster.node(b.sidecar).is_up());  // restarted with its application
  b.sim.run();
  CHECK(b.cluster.node(b.app).now() - b.cluster.node(b.app).true_now() == 250_ms);
  CHECK(b.cluster.node(b.other).now() == b.cluster.node(b.other).true_now());
  REQUIRE(faults.log().size() == 3);
  CHECK(faults.log()[0].detail == "with sidecar (same machine)");
  CHECK(faults.log()[1].detail == "by 250ms, with app (same machine)");
  CHECK(faults.log()[2].detail.empty());  // a node alone: as before
}
