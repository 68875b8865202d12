// The cluster: messages through the network to processes, the node lifecycle (crash, restart,
// pause), and the determinism and allocation of whole runs. The network's physics on its own
// (loss and duplication rates, latency distributions, bandwidth, pinned draws) is tested in
// network_test.cpp; here the question is whether the Cluster turns those decisions into the
// right events for the right process at the right time.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "sim/assert.hpp"
#include "sim/cluster.hpp"
#include "sim/faults.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"

using namespace sim;

namespace {

struct Note {
  std::uint64_t value = 0;
};
struct SameLayoutAsNote {  // same bytes as Note, a different type: must not be mistaken for it
  std::uint64_t value = 0;
};
struct Wide {
  double x = 0;
  std::uint32_t y = 0;
  char tag[40] = {};
};

Time at_us(std::int64_t us) {
  return Time::zero() + 1_us * us;
}

LinkSpec constant_link(Duration latency) {
  LinkSpec spec;
  spec.latency = Distribution::constant(static_cast<double>(latency.ns()));
  return spec;
}

std::uint64_t dropped(const Cluster& c, DropReason reason) {
  return c.network().counters().dropped[static_cast<int>(reason)];
}

template <class P, class... Args>
P& attach(Cluster& c, NodeId id, Args&&... args) {
  auto process = std::make_unique<P>(std::forward<Args>(args)...);
  P& ref = *process;
  c.attach(id, std::move(process));
  return ref;
}

// From the test driver, at true time `at`: `from` sends Note{value} to `to`.
void send_at(Cluster& c, Time at, NodeId from, NodeId to, std::uint64_t value) {
  c.sim().schedule_at(at, [&c, from, to, value] { c.node(from).send(to, Note{value}); });
}

// Everything that happened to a process, in the order it happened.
struct Seen {
  enum class Kind { Start, Message, Timer, Crash };
  Kind kind;
  Time at;                // true time
  std::uint64_t value;    // the Note's value, or the timer tag's value
  NodeId from = kNoNode;  // messages only
  friend bool operator==(const Seen&, const Seen&) = default;
};

std::ostream& operator<<(std::ostream& out, const Seen& s) {
  static const char* const kinds[] = {"start", "message", "timer", "crash"};
  out << kinds[static_cast<int>(s.kind)] << "@" << format_duration(s.at.since_start());
  if (s.kind == Seen::Kind::Message || s.kind == Seen::Kind::Timer) out << ":" << s.value;
  return out;
}

Seen msg(Time at, std::uint64_t value, NodeId from) {
  return {Seen::Kind::Message, at, value, from};
}
Seen timer(Time at, std::uint64_t value) {
  return {Seen::Kind::Timer, at, value, kNoNode};
}

// Records everything; on every start sets the timers listed in `timers_on_start`.
class Recorder : public Process {
 public:
  std::vector<Seen> seen;
  std::vector<Message> messages;
  std::vector<std::pair<Duration, std::uint64_t>> timers_on_start;
  std::vector<TimerId> timer_ids;  // of the latest start, in the order of timers_on_start

  void on_start(Node& n) override {
    seen.push_back({Seen::Kind::Start, n.true_now(), 0});
    timer_ids.clear();
    for (const auto& [delay, value] : timers_on_start)
      timer_ids.push_back(n.set_timer(delay, {1, value}));
  }
  void on_message(Node& n, const Message& m) override {
    seen.push_back(msg(n.true_now(), m.holds<Note>() ? m.as<Note>().value : 0, m.from));
    messages.push_back(m);
  }
  void on_timer(Node& n, TimerTag tag) override { seen.push_back(timer(n.true_now(), tag.value)); }
  void on_crash(Node& n) override { seen.push_back({Seen::Kind::Crash, n.true_now(), 0}); }

  std::vector<std::uint64_t> values(Seen::Kind kind) const {
    std::vector<std::uint64_t> out;
    for (const Seen& s : seen)
      if (s.kind == kind) out.push_back(s.value);
    return out;
  }
  std::vector<Seen> of_kind(Seen::Kind kind) const {
    std::vector<Seen> out;
    for (const Seen& s : seen)
      if (s.kind == kind) out.push_back(s);
    return out;
  }
};

}  // namespace

// ---- messages ----

TEST_CASE("cluster: a message arrives after its link's latency with its payload, read by type") {
  Simulator s(1);
  Cluster c(s);
  const NodeId a = c.add_node("a");
  const NodeId b = c.add_node("b");
  SECTION("over an explicit link") {
    c.network().add_link(a, b, constant_link(3_ms));
  }
  SECTION("over the default link") {
    c.network().set_default_link(constant_link(3_ms));
  }
  attach<Recorder>(c, a);
  Recorder& rb = attach<Recorder>(c, b);
  c.start();
  Wide sent;
  sent.x = 2.5;
  sent.y = 7;
  sent.tag[0] = 'z';
  s.schedule_at(at_ms(1), [&] { c.node(a).send(b, sent, 100); });
  s.run();

  REQUIRE(rb.messages.size() == 1);
  CHECK(rb.of_kind(Seen::Kind::Message).at(0).at == at_ms(4));
  const Message& m = rb.messages[0];
  CHECK(m.from == a);
  CHECK(m.to == b);
  CHECK(m.size_bytes == 100);
  CHECK(m.sent_at == at_ms(1));
  CHECK(m.holds<Wide>());
  CHECK_FALSE(m.holds<Note>());
  const Wide got = m.as<Wide>();
  CHECK(got.x == 2.5);
  CHECK(got.y == 7);
  CHECK(got.tag[0] == 'z');
  CHECK_THROWS_AS(m.as<Note>(), ContractViolation);
  CHECK(c.counters().messages_sent == 1);
  CHECK(c.counters().messages_delivered == 1);
  CHECK(c.messages_in_flight() == 0);
}

TEST_CASE("cluster: payloads of the same layout but another type are told apart") {
  Message m;
  m.set(Note{42});
  CHECK(m.holds<Note>());
  CHECK_FALSE(m.holds<SameLayoutAsNote>());
  CHECK(m.as<Note>().value == 42);
  CHECK_THROWS_AS(m.as<SameLayoutAsNote>(), ContractViolation);
  m.set(SameLayoutAsNote{7});
  CHECK(m.as<SameLayoutAsNote>().value == 7);
  CHECK_THROWS_AS(m.as<Note>(), ContractViolation);
}

TEST_CASE("cluster: messages to a crashed node are dropped and counted as DestinationCrashed") {
  Simulator s(1);
  Cluster c(s);
  const NodeId a = c.add_node("a");
  const NodeId b = c.add_node("b");
  c.network().set_default_link(constant_link(3_ms));
  Recorder& rb = attach<Recorder>(c, b);
  c.start();
  send_at(c, at_ms(0), a, b, 1);  // on the wire when b crashes: arrives at 3 ms, b is down
  s.schedule_at(at_ms(1), [&] { c.crash(b); });
  send_at(c, at_ms(2), a, b, 2);  // sent to a crashed node: arrives at 5 ms, b still down
  send_at(c, at_ms(4), a, b, 3);  // arrives at 7 ms, after the restart
  s.schedule_at(at_ms(6), [&] { c.restart(b); });
  send_at(c, at_ms(5), a, b, 4);  // arrives at 8 ms
  s.run();

  CHECK(rb.values(Seen::Kind::Message) == std::vector<std::uint64_t>{3, 4});
  CHECK(dropped(c, DropReason::DestinationCrashed) == 2);
  CHECK(c.counters().messages_sent == 4);
  CHECK(c.counters().messages_delivered == 2);
  CHECK(c.counters().crashes == 1);
  CHECK(c.counters().restarts == 1);
  CHECK(c.messages_in_flight() == 0);  // dropped messages gave their pool slots back
}

TEST_CASE("cluster: a message on the wire is lost when its link is cut, counted LinkCut") {
  Simulator s(1);
  Cluster c(s);
  const NodeId a = c.add_node("a");
  const NodeId b = c.add_node("b");
  const LinkId ab = c.network().add_link(a, b, constant_link(10_ms));  // b->a is ab + 1
  Recorder& ra = attach<Recorder>(c, a);
  Recorder& rb = attach<Recorder>(c, b);
  c.start();
  send_at(c, at_ms(0), a, b, 1);  // on the wire when a->b is cut
  s.schedule_at(at_ms(5), [&] { c.network().cut_link(ab); });
  send_at(c, at_ms(6), a, b, 2);  // a->b is the only way: no route
  send_at(c, at_ms(6), b, a, 3);  // the other direction is not cut
  s.schedule_at(at_ms(12), [&] { c.network().heal_link(ab); });
  send_at(c, at_ms(13), a, b, 4);
  s.run();

  CHECK(rb.seen == std::vector<Seen>{{Seen::Kind::Start, at_ms(0), 0}, msg(at_ms(23), 4, a)});
  CHECK(ra.values(Seen::Kind::Message) == std::vector<std::uint64_t>{3});
  CHECK(dropped(c, DropReason::LinkCut) == 1);
  CHECK(dropped(c, DropReason::NoRoute) == 1);
  CHECK(c.messages_in_flight() == 0);
}

TEST_CASE("cluster: a message on the wire is lost when a partition starts, counted Partitioned") {
  Simulator s(1);
  Cluster c(s);
  const NodeId a = c.add_node("a");
  const NodeId b = c.add_node("b");
  const NodeId d = c.add_node("d");  // in no group: unaffected
  c.network().set_default_link(constant_link(10_ms));
  Recorder& rb = attach<Recorder>(c, b);
  Recorder& rd = attach<Recorder>(c, d);
  c.start();
  send_at(c, at_ms(0), a, b, 1);  // on the wire when the partition starts
  send_at(c, at_ms(0), a, d, 2);
  PartitionId p = 0;
  s.schedule_at(at_ms(5), [&] { p = c.network().partition({{a}, {b}}, false, s.now()); });
  send_at(c, at_ms(6), a, b, 3);  // dropped at once
  s.schedule_at(at_ms(15), [&] { c.network().heal_partition(p, s.now()); });
  send_at(c, at_ms(16), a, b, 4);
  s.run();

  CHECK(rb.values(Seen::Kind::Message) == std::vector<std::uint64_t>{4});
  CHECK(rd.values(Seen::Kind::Message) == std::vector<std::uint64_t>{2});
  CHECK(dropped(c, DropReason::Partitioned) == 2);
  CHECK(c.messages_in_flight() == 0);
}

namespace {
// Every 1 ms from 0.5 ms, sends a Note to every other node, `rounds` times; counts what it gets.
class Chatter : public Process {
 public:
  explicit Chatter(int rounds) : rounds_(rounds) {}
  std::vector<int> received_from;  // per sender

  void on_start(Node& n) override {
    received_from.assign(n.cluster().size(), 0);
    n.set_timer(500_us, {});
  }
  void on_timer(Node& n, TimerTag) override {
    for (NodeId to = 0; to < n.cluster().size(); ++to)
      if (to != n.id()) n.send(to, Note{static_cast<std::uint64_t>(sent_)});
    if (++sent_ < rounds_) n.set_timer(1_ms, {});
  }
  void on_message(Node&, const Message& m) override { ++received_from[m.from]; }

 private:
  int rounds_;
  int sent_ = 0;
};
}  // namespace

TEST_CASE("cluster: a partition from the fault injector drops exactly the cut traffic, and heals") {
  // Nodes 0,1 | 2,3; 30 rounds of all-to-all sends at 0.5, 1.5, ... 29.5 ms; 100 us latency, so
  // nothing is on the wire when the partition starts (10 ms) or heals (20 ms): the sends of
  // rounds 10..19 (10.5 .. 19.5 ms) that cross it are the ones lost.
  Simulator s(1);
  Cluster c(s);
  std::vector<Chatter*> nodes;
  for (int i = 0; i < 4; ++i) {
    const NodeId id = c.add_node("n" + std::to_string(i));
    nodes.push_back(&attach<Chatter>(c, id, 30));
  }
  c.network().set_default_link(constant_link(100_us));
  FaultInjector faults(c);
  const bool one_way = GENERATE(false, true);
  faults.partition(at_ms(10), {{0, 1}, {2, 3}}, one_way, 10_ms);
  c.start();
  s.run();

  const auto group = [](NodeId n) { return n < 2 ? 0 : 1; };
  std::uint64_t cut = 0;
  for (NodeId to = 0; to < 4; ++to) {
    for (NodeId from = 0; from < 4; ++from) {
      if (from == to) continue;
      const bool separated = group(from) != group(to) && (!one_way || group(from) == 0);
      INFO("from " << from << " to " << to << (one_way ? " one-way" : " symmetric"));
      CHECK(nodes[to]->received_from[from] == (separated ? 20 : 30));
      if (separated) cut += 10;
    }
  }
  CHECK(cut == (one_way ? 40u : 80u));
  CHECK(dropped(c, DropReason::Partitioned) == cut);
  CHECK(c.network().can_reach(0, 2));
  REQUIRE(faults.log().size() == 1);
  CHECK(faults.log()[0].start == at_ms(10));
  CHECK(faults.log()[0].end == at_ms(20));
}

TEST_CASE("cluster: multi-hop delivery over a line, re-routed around a cut link") {
  // a - b - c, 1 ms per link, and a slow direct a - c link (5 ms) as the second path.
  Simulator s(1);
  Cluster c(s);
  const NodeId a = c.add_node("a");
  const NodeId b = c.add_node("b");
  const NodeId d = c.add_node("c");
  c.network().add_link(a, b, constant_link(1_ms));
  const LinkId bc = c.network().add_link(b, d, constant_link(1_ms));
  c.network().add_link(a, d, constant_link(5_ms));
  Recorder& rb = attach<Recorder>(c, b);
  Recorder& rc = attach<Recorder>(c, d);
  c.start();

  send_at(c, at_ms(0), a, d, 1);  // a -> b -> c: 2 ms
  s.schedule_at(at_ms(10), [&] { c.network().cut_link(bc); });
  send_at(c, at_ms(11), a, d, 2);  // the direct link: 5 ms
  s.schedule_at(at_ms(20), [&] { c.network().heal_link(bc); });
  // Sent over a->b; b->c is cut while it is on that first hop, so b sends it on b -> a -> c.
  send_at(c, at_ms(30), a, d, 3);
  s.schedule_at(at_us(30'500), [&] { c.network().cut_link(bc); });
  s.run();

  CHECK(rc.of_kind(Seen::Kind::Message) ==
        std::vector<Seen>{msg(at_ms(2), 1, a), msg(at_ms(16), 2, a), msg(at_ms(37), 3, a)});
  CHECK(rb.of_kind(Seen::Kind::Message).empty());  // forwarded, never handed to b's process
  CHECK(c.network().counters().hops == 2 + 1 + 3);
  CHECK(c.counters().messages_delivered == 3);
}

TEST_CASE("cluster: on a line without a second path, a cut link drops the message as NoRoute") {
  Simulator s(1);
  Cluster c(s);
  const NodeId a = c.add_node("a");
  const NodeId b = c.add_node("b");
  const NodeId d = c.add_node("c");
  c.network().add_link(a, b, constant_link(1_ms));
  const LinkId bc = c.network().add_link(b, d, constant_link(1_ms));
  Recorder& rc = attach<Recorder>(c, d);
  c.start();
  send_at(c, at_ms(0), a, d, 1);
  send_at(c, at_ms(10), a, d, 2);  // at b when b->c is cut (10.5 ms): no way on
  s.schedule_at(at_us(10'500), [&] { c.network().cut_link(bc); });
  send_at(c, at_ms(12), a, d, 3);  // no route from a at all
  s.schedule_at(at_ms(20), [&] { c.network().heal_link(bc); });
  send_at(c, at_ms(21), a, d, 4);
  s.run();
  CHECK(rc.values(Seen::Kind::Message) == std::vector<std::uint64_t>{1, 4});
  CHECK(dropped(c, DropReason::NoRoute) == 2);
  CHECK(c.messages_in_flight() == 0);
}

TEST_CASE("cluster: FIFO links keep send order end to end, over one hop and over two") {
  // Latency uniform in 1..10 ms and a send every 10 us: without FIFO, order is scrambled.
  const bool fifo = GENERATE(true, false);
  const bool two_hops = GENERATE(false, true);
  Simulator s(5);
  Cluster c(s);
  const NodeId a = c.add_node("a");
  const NodeId b = c.add_node("b");
  const NodeId d = c.add_node("c");
  LinkSpec spec;
  spec.latency = Distribution::uniform(1e6, 10e6);
  spec.fifo = fifo;
  c.network().add_link(a, b, spec);
  c.network().add_link(b, d, spec);
  const NodeId to = two_hops ? d : b;
  Recorder& rec = attach<Recorder>(c, to);
  c.start();
  constexpr int kMessages = 500;
  for (int i = 0; i < kMessages; ++i)
    send_at(c, at_us(10 * i), a, to, static_cast<std::uint64_t>(i));
  s.run();

  const std::vector<std::uint64_t> got = rec.values(Seen::Kind::Message);
  REQUIRE(got.size() == kMessages);
  INFO((fifo ? "fifo" : "not fifo") << (two_hops ? ", two hops" : ", one hop"));
  CHECK(std::is_sorted(got.begin(), got.end()) == fifo);
}

// ---- lifecycle ----

namespace {
// A model with a durable log (what a real one writes to disk: deliberately not reset in
// on_crash) and a volatile sum (dropped in on_crash); sets one timer on every start.
class Stateful : public Process {
 public:
  explicit Stateful(Duration timer_delay) : timer_delay_(timer_delay) {}
  std::vector<std::uint64_t> durable_log;
  std::uint64_t volatile_sum = 0;
  int starts = 0;
  int crashes = 0;
  std::vector<Seen> fired;

  void on_start(Node& n) override {
    ++starts;
    n.set_timer(timer_delay_, {1, static_cast<std::uint64_t>(starts)});
  }
  void on_message(Node&, const Message& m) override {
    const std::uint64_t v = m.as<Note>().value;
    durable_log.push_back(v);
    volatile_sum += v;
  }
  void on_timer(Node& n, TimerTag tag) override { fired.push_back(timer(n.true_now(), tag.value)); }
  void on_crash(Node&) override {
    ++crashes;
    volatile_sum = 0;
  }

 private:
  Duration timer_delay_;
};
}  // namespace

TEST_CASE(
    "cluster: a crash loses volatile state and timers, a restart starts again, durable kept") {
  Simulator s(1);
  Cluster c(s);
  const NodeId a = c.add_node("a");
  const NodeId b = c.add_node("b");
  c.network().set_default_link(constant_link(1_ms));
  Stateful& p = attach<Stateful>(c, b, 10_ms);
  c.start();
  send_at(c, at_ms(1), a, b, 5);
  send_at(c, at_ms(2), a, b, 7);
  s.schedule_at(at_ms(5), [&] { c.crash(b); });
  s.schedule_at(at_ms(20), [&] { c.restart(b); });
  send_at(c, at_ms(24), a, b, 9);

  s.run_until(at_ms(4));
  CHECK(p.durable_log == std::vector<std::uint64_t>{5, 7});
  CHECK(p.volatile_sum == 12);

  s.run_until(at_ms(15));  // crashed at 5 ms; its timer (due at 10 ms) was lost
  CHECK(c.node(b).state() == NodeState::Crashed);
  CHECK(c.node(b).incarnation() == 1);
  CHECK(p.crashes == 1);
  CHECK(p.volatile_sum == 0);
  CHECK(p.durable_log == std::vector<std::uint64_t>{5, 7});
  CHECK(p.fired.empty());
  CHECK(c.counters().timers_lost_to_crash == 1);

  s.run();
  CHECK(c.node(b).is_up());
  CHECK(p.starts == 2);  // on_start ran again at the restart, on the same process object
  CHECK(p.durable_log == std::vector<std::uint64_t>{5, 7, 9});
  CHECK(p.volatile_sum == 9);
  CHECK(p.fired == std::vector<Seen>{timer(at_ms(30), 2)});  // the new incarnation's timer
  CHECK(c.counters().timers_lost_to_crash == 1);
  CHECK(c.counters().crashes == 1);
  CHECK(c.counters().restarts == 1);
}

TEST_CASE("cluster: an old incarnation's timer never fires, even when it falls after a restart") {
  Simulator s(1);
  Cluster c(s);
  const NodeId b = c.add_node("b");
  Stateful& p = attach<Stateful>(c, b, 50_ms);
  c.start();  // timer due at 50 ms
  s.schedule_at(at_ms(5), [&] { c.crash(b); });
  s.schedule_at(at_ms(10), [&] { c.restart(b); });  // new timer due at 60 ms
  s.run();
  CHECK(p.fired == std::vector<Seen>{timer(at_ms(60), 2)});
  CHECK(c.counters().timers_lost_to_crash == 1);
  CHECK(c.node(b).incarnation() == 1);
}

TEST_CASE("cluster: crash, restart, pause and resume are no-ops from the wrong state") {
  Simulator s(1);
  Cluster c(s);
  const NodeId b = c.add_node("b");
  Recorder& rb = attach<Recorder>(c, b);
  c.start();
  c.restart(b);  // up: nothing
  c.resume(b);   // up: nothing
  CHECK(c.counters().restarts == 0);
  c.crash(b);
  c.crash(b);  // already crashed
  c.pause(b);  // crashed nodes do not pause
  CHECK(c.node(b).state() == NodeState::Crashed);
  CHECK(c.counters().crashes == 1);
  CHECK(c.node(b).incarnation() == 1);
  c.restart(b);
  CHECK(rb.of_kind(Seen::Kind::Start).size() == 2);
  CHECK(rb.of_kind(Seen::Kind::Crash).size() == 1);
}

TEST_CASE("cluster: a paused node's messages and timers wait and run in arrival order on resume") {
  // Paused 10..30 ms. Held: messages arriving at 12 and 20 ms, timers due at 15 and 25 ms. Due
  // exactly at the resume instant (30 ms), after it in scheduling order: a timer and a message.
  // On resume every held event runs at 30 ms in arrival order, before the 30 ms arrivals.
  Simulator s(1);
  Cluster c(s);
  const NodeId a = c.add_node("a");
  const NodeId b = c.add_node("b");
  c.network().set_default_link(constant_link(1_ms));
  Recorder& rb = attach<Recorder>(c, b);
  rb.timers_on_start = {{15_ms, 100}, {25_ms, 200}, {30_ms, 300}, {40_ms, 400}};
  s.schedule_at(at_ms(10), [&] { c.pause(b); });
  s.schedule_at(at_ms(30), [&] { c.resume(b); });
  c.start();
  send_at(c, at_ms(5), a, b, 1);
  send_at(c, at_ms(11), a, b, 2);
  send_at(c, at_ms(19), a, b, 3);
  send_at(c, at_ms(29), a, b, 4);

  s.run_until(at_ms(29));
  CHECK(c.node(b).state() == NodeState::Paused);
  CHECK(rb.seen.back() == msg(at_ms(6), 1, a));  // nothing since the pause

  s.run();
  const std::vector<Seen> expected{
      msg(at_ms(6), 1, a),   msg(at_ms(30), 2, a),  timer(at_ms(30), 100), msg(at_ms(30), 3, a),
      timer(at_ms(30), 200), timer(at_ms(30), 300), msg(at_ms(30), 4, a),  timer(at_ms(40), 400)};
  CHECK(std::vector<Seen>(rb.seen.begin() + 1, rb.seen.end()) == expected);
  CHECK(c.messages_in_flight() == 0);
}

TEST_CASE("cluster: cancel_timer cancels a pending timer and a timer held during a pause") {
  Simulator s(1);
  Cluster c(s);
  const NodeId b = c.add_node("b");
  Recorder& rb = attach<Recorder>(c, b);
  rb.timers_on_start = {{5_ms, 1}, {12_ms, 2}, {15_ms, 3}, {18_ms, 4}};
  c.start();
  Node& n = c.node(b);
  const std::vector<TimerId> ids = rb.timer_ids;
  CHECK(n.cancel_timer(ids[0]));  // pending
  CHECK_FALSE(n.cancel_timer(ids[0]));
  s.schedule_at(at_ms(10), [&] { c.pause(b); });
  s.schedule_at(at_ms(20), [&] { c.resume(b); });
  s.run_until(at_ms(16));  // timers 2 and 3 fired into the held queue
  CHECK(n.cancel_timer(ids[2]));
  CHECK_FALSE(n.cancel_timer(ids[2]));
  CHECK_FALSE(n.cancel_timer(TimerId{}));  // never set: names no timer, held or not
  s.run();
  CHECK(rb.values(Seen::Kind::Timer) == std::vector<std::uint64_t>{2, 4});
  CHECK_FALSE(n.cancel_timer(ids[1]));  // already fired
  CHECK_FALSE(n.cancel_timer(ids[3]));
}

namespace {
// On timer 1 cancels timer 2 (still held), on timer 3 tries to cancel timer 1 (already run):
// all three are held by a pause and run from the held queue.
class Canceller : public Process {
 public:
  std::vector<TimerId> ids;
  std::vector<std::uint64_t> fired;
  std::vector<bool> cancel_results;
  void on_start(Node& n) override {
    for (std::uint64_t v = 1; v <= 3; ++v) ids.push_back(n.set_timer(1_ms * v, {0, v}));
  }
  void on_message(Node&, const Message&) override {}
  void on_timer(Node& n, TimerTag tag) override {
    fired.push_back(tag.value);
    if (tag.value == 1) cancel_results.push_back(n.cancel_timer(ids[1]));
    if (tag.value == 3) cancel_results.push_back(n.cancel_timer(ids[0]));
  }
};
}  // namespace

TEST_CASE(
    "cluster: cancelling from a held timer's handler: pending ones stop, run ones say false") {
  Simulator s(1);
  Cluster c(s);
  const NodeId b = c.add_node("b");
  Canceller& p = attach<Canceller>(c, b);
  c.start();
  c.pause(b);
  s.schedule_at(at_ms(10), [&] { c.resume(b); });
  s.run();
  CHECK(p.fired == std::vector<std::uint64_t>{1, 3});
  CHECK(p.cancel_results == std::vector<bool>{true, false});
}

TEST_CASE("cluster: a crash during a pause drops the held messages and timers") {
  Simulator s(1);
  Cluster c(s);
  const NodeId a = c.add_node("a");
  const NodeId b = c.add_node("b");
  c.network().set_default_link(constant_link(1_ms));
  Stateful& p = attach<Stateful>(c, b, 15_ms);
  c.start();
  s.schedule_at(at_ms(10), [&] { c.pause(b); });
  send_at(c, at_ms(11), a, b, 1);  // held at 12 ms
  // A timer held at 13 ms and cancelled at 14 ms: gone, so not lost to the crash either.
  TimerId cancelled;
  s.schedule_at(at_ms(11), [&] { cancelled = c.node(b).set_timer(2_ms, {1, 99}); });
  s.schedule_at(at_ms(14), [&] { CHECK(c.node(b).cancel_timer(cancelled)); });
  s.schedule_at(at_ms(20), [&] { c.crash(b); });
  s.schedule_at(at_ms(25), [&] { c.restart(b); });  // new timer due at 40 ms
  send_at(c, at_ms(30), a, b, 2);
  s.run();
  CHECK(p.durable_log == std::vector<std::uint64_t>{2});
  CHECK(p.fired == std::vector<Seen>{timer(at_ms(40), 2)});
  CHECK(dropped(c, DropReason::DestinationCrashed) == 1);
  CHECK(c.counters().timers_lost_to_crash == 1);  // the one due at 15 ms, held at the crash
  CHECK(c.messages_in_flight() == 0);
}

namespace {
// A held timer's handler crashes its own node: held messages before it ran, those behind it
// are dropped.
class SelfCrasher : public Process {
 public:
  std::vector<std::uint64_t> got;
  int starts = 0;
  void on_start(Node& n) override {
    if (++starts == 1) n.set_timer(5_ms, {});
  }
  void on_message(Node&, const Message& m) override { got.push_back(m.as<Note>().value); }
  void on_timer(Node& n, TimerTag) override { n.cluster().crash(n.id()); }
};
}  // namespace

TEST_CASE("cluster: a handler run on resume may crash its own node, the rest stays consistent") {
  Simulator s(1);
  Cluster c(s);
  const NodeId a = c.add_node("a");
  const NodeId b = c.add_node("b");
  c.network().set_default_link(constant_link(1_ms));
  SelfCrasher& p = attach<SelfCrasher>(c, b);
  c.start();
  s.schedule_at(at_ms(1), [&] { c.pause(b); });
  send_at(c, at_ms(2), a, b, 1);                   // held before the timer (due at 5 ms)
  send_at(c, at_ms(6), a, b, 9);                   // held behind the timer
  s.schedule_at(at_ms(10), [&] { c.resume(b); });  // 1 runs, the timer crashes b, 9 is lost
  s.schedule_at(at_ms(20), [&] { c.restart(b); });
  s.schedule_at(at_ms(21), [&] { c.pause(b); });
  send_at(c, at_ms(22), a, b, 2);  // held in the new incarnation
  s.schedule_at(at_ms(30), [&] { c.resume(b); });
  send_at(c, at_ms(31), a, b, 3);
  s.run();
  CHECK(p.got == std::vector<std::uint64_t>{1, 2, 3});
  CHECK(dropped(c, DropReason::DestinationCrashed) == 1);  // 9 only: 1 had run already
  CHECK(c.counters().timers_lost_to_crash == 0);           // the timer that crashed b had run
  CHECK(c.messages_in_flight() == 0);
}

// ---- determinism ----

namespace {
// Gossip: every node bumps its version now and then and pushes its best version to a random
// peer at random intervals; a receiver keeps the larger. The version is volatile.
class Gossiper : public Process {
 public:
  std::uint64_t best = 0;
  void on_start(Node& n) override { next(n); }
  void on_message(Node&, const Message& m) override { best = std::max(best, m.as<Note>().value); }
  void on_timer(Node& n, TimerTag) override {
    if (n.rng().below(4) == 0) best += 1 + n.rng().below(10);
    auto peer = static_cast<NodeId>(n.rng().below(n.cluster().size() - 1));
    if (peer >= n.id()) ++peer;
    n.send(peer, Note{best}, 64);
    next(n);
  }
  void on_crash(Node&) override { best = 0; }

 private:
  static void next(Node& n) {
    n.set_timer(Duration::nanoseconds(1 + n.rng().below(2'000'000)), {});
  }
};

struct GossipOutcome {
  std::uint64_t fingerprint;
  std::vector<std::uint64_t> figures;
};

GossipOutcome run_gossip(std::uint64_t seed) {
  Simulator s(seed);
  Cluster c(s);
  std::vector<Gossiper*> nodes;
  for (int i = 0; i < 8; ++i)
    nodes.push_back(&attach<Gossiper>(c, c.add_node("g" + std::to_string(i))));
  LinkSpec spec;
  spec.latency = Distribution::uniform(0.5e6, 3e6);
  spec.loss = 0.05;
  spec.duplicate = 0.05;
  c.network().set_default_link(spec);
  FaultInjector faults(c);
  faults.partition(at_ms(100), {{0, 1, 2}, {3, 4, 5, 6, 7}}, false, 100_ms);
  faults.crash(at_ms(150), 3, 100_ms);
  faults.pause(at_ms(300), 5, 30_ms);
  c.start();
  s.run_until(at_ms(500));

  std::vector<std::uint64_t> figures{s.events_processed(),
                                     c.counters().messages_sent,
                                     c.counters().messages_delivered,
                                     c.counters().timers_lost_to_crash,
                                     c.network().counters().hops,
                                     c.network().counters().duplicated};
  for (const std::uint64_t d : c.network().counters().dropped) figures.push_back(d);
  for (const Gossiper* g : nodes) figures.push_back(g->best);
  return {s.fingerprint(), figures};
}
}  // namespace

TEST_CASE(
    "cluster: a gossip run with loss, duplication, a partition and a crash is deterministic") {
  const GossipOutcome first = run_gossip(2024);
  const GossipOutcome again = run_gossip(2024);
  const GossipOutcome other = run_gossip(2025);
  INFO("seed 2024: fingerprint " << first.fingerprint);
  CHECK(first.fingerprint == again.fingerprint);
  CHECK(first.figures == again.figures);
  CHECK(first.fingerprint != other.fingerprint);
  // The run exercised what it claims to.
  const auto drop = [&](DropReason r) { return first.figures[6 + static_cast<int>(r)]; };
  CHECK(drop(DropReason::Lost) > 0);
  CHECK(drop(DropReason::Partitioned) > 0);
  CHECK(drop(DropReason::DestinationCrashed) > 0);
  CHECK(first.figures[5] > 0);  // duplicated
  CHECK(first.figures[3] > 0);  // timers lost to the crash
}

// ---- allocation ----

namespace {
struct Ping {
  std::uint64_t id;
};
struct Pong {
  std::uint64_t id;
};
// Pings a random peer at random intervals with a timeout, which the pong cancels; answers pings.
class PingPonger : public Process {
 public:
  std::uint64_t pongs = 0;
  std::uint64_t timeouts = 0;
  void on_start(Node& n) override { n.set_timer(next_gap(n), {kSend, 0}); }
  void on_timer(Node& n, TimerTag tag) override {
    if (tag.kind == kTimeout) {
      ++timeouts;
      return;
    }
    auto peer = static_cast<NodeId>(n.rng().below(n.cluster().size() - 1));
    if (peer >= n.id()) ++peer;
    ++next_id_;
    n.send(peer, Ping{next_id_}, 100);
    n.cancel_timer(timeout_);  // only the latest request's timeout is kept
    timeout_ = n.set_timer(1500_us, {kTimeout, next_id_});
    n.set_timer(next_gap(n), {kSend, 0});
  }
  void on_message(Node& n, const Message& m) override {
    if (m.holds<Ping>()) {
      n.send(m.from, Pong{m.as<Ping>().id}, 100);
    } else {
      ++pongs;
      if (m.as<Pong>().id == next_id_) n.cancel_timer(timeout_);
    }
  }

 private:
  static constexpr std::uint32_t kSend = 1, kTimeout = 2;
  static Duration next_gap(Node& n) {
    return Duration::nanoseconds(1 + static_cast<std::int64_t>(n.rng().below(2'000'000)));
  }
  std::uint64_t next_id_ = 0;
  TimerId timeout_;
};
}  // namespace

TEST_CASE("cluster: steady-state ping-pong through the cluster performs zero operator new calls") {
  const bool explicit_links = GENERATE(false, true);
  Simulator s(9);
  Cluster c(s);
  std::vector<PingPonger*> nodes;
  constexpr int kNodes = 10;
  for (int i = 0; i < kNodes; ++i)
    nodes.push_back(&attach<PingPonger>(c, c.add_node("p" + std::to_string(i))));
  LinkSpec spec;
  spec.latency = Distribution::uniform(0.5e6, 1.5e6);
  spec.loss = 0.01;
  spec.duplicate = 0.01;
  if (explicit_links) {  // a ring, FIFO links, routes over several hops
    spec.fifo = true;
    for (NodeId i = 0; i < kNodes; ++i) c.network().add_link(i, (i + 1) % kNodes, spec);
  } else {
    c.network().set_default_link(spec);
  }
  c.start();
  s.run_until(at_ms(200));  // warm-up: queue, pool and route tables reach their working size
  const std::uint64_t delivered_before = c.counters().messages_delivered;
  const std::uint64_t before = allocation_count();
  s.run_until(at_ms(3'000));
  const std::uint64_t allocations = allocation_count() - before;
  INFO((explicit_links ? "ring of explicit links" : "default link"));
  CHECK(allocations == 0);
  CHECK(c.counters().messages_delivered - delivered_before > 20'000);
  std::uint64_t pongs = 0, timeouts = 0;
  for (const PingPonger* p : nodes) {
    pongs += p->pongs;
    timeouts += p->timeouts;
  }
  CHECK(pongs > 10'000);
  CHECK(timeouts > 0);  // lost pings and pongs: the timeout path ran too
}

TEST_CASE("cluster: a node paused when the cluster starts runs on_start when it resumes") {
  Simulator s;
  Cluster c(s);
  const NodeId a = c.add_node("a");
  auto& rec = attach<Recorder>(c, a);
  c.pause(a);
  c.start();
  CHECK(rec.seen.empty());
  s.schedule_at(at_ms(5), [&c, a] { c.resume(a); });
  s.run();
  REQUIRE(rec.seen.size() == 1);
  CHECK(rec.seen[0] == Seen{Seen::Kind::Start, at_ms(5), 0});
}

TEST_CASE(
    "cluster: ten thousand nodes in zones talk through the zone latency matrix, no links needed") {
  Simulator s(5);
  Cluster c(s);
  // Three regions: 1 ms inside a region, 20/30/40 ms between them.
  std::vector<std::vector<LinkSpec>> matrix(3, std::vector<LinkSpec>(3));
  const std::int64_t between[3][3] = {{1, 20, 30}, {20, 1, 40}, {30, 40, 1}};
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j) matrix[i][j] = constant_link(1_ms * between[i][j]);
  c.network().set_zones({"eu", "us", "ap"}, matrix);
  constexpr int kNodes = 10'000;
  std::vector<Recorder*> recorders;
  for (int i = 0; i < kNodes; ++i) {
    const NodeId id = c.add_node("n" + std::to_string(i), i % 3);
    recorders.push_back(&attach<Recorder>(c, id));
  }
  c.start();
  // Every node sends one message to the node 1, 2 and 4999 places ahead of it.
  for (int i = 0; i < kNodes; ++i)
    for (int step : {1, 2, 4999})
      send_at(c, Time::zero(), static_cast<NodeId>(i), static_cast<NodeId>((i + step) % kNodes), i);
  s.run();
  CHECK(c.counters().messages_delivered == 3u * kNodes);
  for (int i = 0; i < kNodes; ++i)
    for (const Seen& m : recorders[static_cast<std::size_t>(i)]->of_kind(Seen::Kind::Message))
      CHECK(m.at == at_ms(between[m.from % 3][i % 3]));
}
