// Network mechanics, driven directly (no cluster): rates, latency, order, bandwidth, routing,
// zones, partitions, in-flight losses, degradations, determinism and allocation.
//
// Statistical checks use a tolerance of 5 standard errors. A count of successes in n trials
// with probability p is Binomial(n, p): its standard error is sqrt(n p (1 - p)); a sample mean
// of n draws has standard error sd / sqrt(n). By the normal approximation (n = 100,000 makes it
// very good) a correct implementation lands outside 5 SE with probability 5.7e-7, so the fixed
// seeds below are not cherry-picked passes; and a wrong parameter (say loss 0.11 instead of
// 0.10, 10 SE away) cannot hide inside the band.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/assert.hpp"
#include "sim/distribution.hpp"
#include "sim/network.hpp"
#include "tests/unit/allocation_counter.hpp"

using namespace sim;

namespace {

constexpr int kMessages = 100'000;

double binomial_se(double n, double p) {
  return std::sqrt(n * p * (1 - p));
}

Time at_ms(double ms) {
  return Time::zero() + duration_from_ns(ms * 1e6);
}

LinkSpec constant_link(Duration latency) {
  LinkSpec spec;
  spec.latency = Distribution::constant(static_cast<double>(latency.ns()));
  return spec;
}

// Nodes named n0, n1, ... with no zone.
Network make_network(std::uint64_t seed, int nodes) {
  Network net(seed);
  for (int i = 0; i < nodes; ++i) net.add_node(static_cast<NodeId>(i), "n" + std::to_string(i));
  return net;
}

int dropped(const Network& net, DropReason reason) {
  return static_cast<int>(net.counters().dropped[static_cast<int>(reason)]);
}

}  // namespace

TEST_CASE("network: loss and duplication rates match the link's parameters") {
  Network net = make_network(11, 2);
  LinkSpec spec = constant_link(1_ms);
  spec.loss = 0.1;
  spec.duplicate = 0.05;
  const LinkId link = net.add_link(0, 1, spec, /*bidirectional=*/false);

  int lost = 0, delivered = 0, duplicated = 0;
  for (int i = 0; i < kMessages; ++i) {
    const HopDecision d = net.transmit(0, 0, 1, 100, at_ms(i));
    if (!d.delivered) {
      CHECK(d.drop_reason == DropReason::Lost);
      ++lost;
      continue;
    }
    CHECK(d.link == link);
    CHECK(d.next == 1);
    ++delivered;
    if (d.duplicate_arrival) ++duplicated;
  }
  CHECK(std::abs(lost - kMessages * 0.1) < 5 * binomial_se(kMessages, 0.1));
  // Duplication is drawn only for messages that survived.
  CHECK(std::abs(duplicated - delivered * 0.05) < 5 * binomial_se(delivered, 0.05));
  CHECK(net.counters().hops == static_cast<std::uint64_t>(delivered));
  CHECK(net.counters().duplicated == static_cast<std::uint64_t>(duplicated));
  CHECK(dropped(net, DropReason::Lost) == lost);
}

TEST_CASE("network: default-path loss and duplication rates match too") {
  Network net = make_network(12, 2);
  LinkSpec spec = constant_link(1_ms);
  spec.loss = 0.3;
  spec.duplicate = 0.2;
  net.set_default_link(spec);
  int lost = 0, delivered = 0, duplicated = 0;
  for (int i = 0; i < kMessages; ++i) {
    const HopDecision d = net.transmit(0, 0, 1, 100, at_ms(i));
    CHECK(d.link == kNoLink);
    if (!d.delivered) {
      ++lost;
      continue;
    }
    ++delivered;
    if (d.duplicate_arrival) ++duplicated;
  }
  CHECK(std::abs(lost - kMessages * 0.3) < 5 * binomial_se(kMessages, 0.3));
  CHECK(std::abs(duplicated - delivered * 0.2) < 5 * binomial_se(delivered, 0.2));
}

TEST_CASE("network: latency samples follow the link's distribution") {
  Network net = make_network(13, 2);
  LinkSpec spec;
  const double mean_ns = 5e6;  // exponential: sd == mean, median == mean * ln 2
  spec.latency = Distribution::exponential(mean_ns);
  net.add_link(0, 1, spec);
  double sum = 0;
  int below_median = 0;
  for (int i = 0; i < kMessages; ++i) {
    const Time now = at_ms(i);
    const HopDecision d = net.transmit(0, 0, 1, 100, now);
    REQUIRE(d.delivered);
    const double latency = static_cast<double>((d.arrival - now).ns());
    sum += latency;
    if (latency <= mean_ns * std::log(2.0)) ++below_median;
  }
  const double mean = sum / kMessages;
  CHECK(std::abs(mean - mean_ns) < 5 * mean_ns / std::sqrt(kMessages));
  CHECK(std::abs(below_median - kMessages * 0.5) < 5 * binomial_se(kMessages, 0.5));
}

TEST_CASE("network: pinned draws come from stream link:<from>-><to> in the documented order") {
  const std::uint64_t seed = 99;
  Network net(seed);
  net.add_node(0, "alpha");
  net.add_node(1, "beta");
  LinkSpec spec;
  spec.latency = Distribution::uniform(0, 1e6);
  spec.loss = 0.2;
  spec.duplicate = 0.5;
  net.add_link(0, 1, spec, false);
  LinkSpec fallback = spec;
  fallback.latency = Distribution::uniform(1e6, 2e6);
  net.set_default_link(fallback);

  // Replays the documented order: loss, latency, duplicate, the copy's latency.
  const auto replay = [](Rng& rng, const LinkSpec& s, Time sent) {
    HopDecision d;
    if (rng.bernoulli(s.loss)) return d;
    d.delivered = true;
    d.arrival = sent + s.latency.sample_duration(rng);
    if (rng.bernoulli(s.duplicate)) d.duplicate_arrival = sent + s.latency.sample_duration(rng);
    return d;
  };
  Rng link_rng = Rng::stream(seed, "link:alpha->beta");
  Rng beta_rng = Rng::stream(seed, "net:beta");
  int copies = 0;
  for (int i = 0; i < 200; ++i) {
    const HopDecision got = net.transmit(0, 0, 1, 10, at_ms(i));
    const HopDecision want = replay(link_rng, spec, at_ms(i));
    REQUIRE(got.delivered == want.delivered);
    if (!got.delivered) continue;
    CHECK(got.arrival == want.arrival);
    CHECK(got.duplicate_arrival == want.duplicate_arrival);
    copies += got.duplicate_arrival ? 1 : 0;
  }
  CHECK(copies > 0);
  // beta -> alpha has no link of its own but both nodes have links: routing finds none.
  CHECK(net.transmit(1, 1, 0, 10, at_ms(0)).drop_reason == DropReason::NoRoute);
  // A third node without links: beta's default-path hops draw from "net:beta".
  net.add_node(2, "gamma");
  for (int i = 0; i < 200; ++i) {
    const HopDecision got = net.transmit(1, 1, 2, 10, at_ms(i));
    const HopDecision want = replay(beta_rng, fallback, at_ms(i));
    REQUIRE(got.delivered == want.delivered);
    if (!got.delivered) continue;
    CHECK(got.link == kNoLink);
    CHECK(got.arrival == want.arrival);
    CHECK(got.duplicate_arrival == want.duplicate_arrival);
  }
}

TEST_CASE("network: FIFO links never deliver out of send order, duplicates included") {
  Network net = make_network(14, 2);
  LinkSpec spec;
  spec.latency = Distribution::uniform(1e6, 50e6);  // 1..50 ms, sent every 0.1 ms
  spec.duplicate = 0.1;
  spec.fifo = true;
  net.add_link(0, 1, spec);
  Time last = Time::zero();
  for (int i = 0; i < 20'000; ++i) {
    const HopDecision d = net.transmit(0, 0, 1, 100, at_ms(i * 0.1));
    REQUIRE(d.delivered);
    CHECK(d.arrival >= last);
    last = d.arrival;
    if (d.duplicate_arrival) {
      CHECK(*d.duplicate_arrival >= last);
      last = *d.duplicate_arrival;
    }
  }
}

TEST_CASE("network: without FIFO a wide latency distribution reorders messages") {
  Network net = make_network(15, 2);
  LinkSpec spec;
  spec.latency = Distribution::uniform(1e6, 50e6);
  net.add_link(0, 1, spec);
  Time last = Time::zero();
  int overtaken = 0;
  for (int i = 0; i < 20'000; ++i) {
    const HopDecision d = net.transmit(0, 0, 1, 100, at_ms(i * 0.1));
    REQUIRE(d.delivered);
    if (d.arrival < last) ++overtaken;
    last = d.arrival;
  }
  CHECK(overtaken > 1000);
}

TEST_CASE("network: bandwidth adds serialization delay and queues back-to-back messages") {
  Network net = make_network(16, 2);
  LinkSpec spec = constant_link(2_ms);
  spec.bandwidth_bps = 1e6;
  const LinkId ab = net.add_link(0, 1, spec);
  // 1250 bytes = 10,000 bits at 1 Mbit/s: exactly 10 ms on the wire, then 2 ms propagation.
  const HopDecision first = net.transmit(0, 0, 1, 1250, Time::zero());
  const HopDecision second = net.transmit(0, 0, 1, 1250, Time::zero());
  REQUIRE(first.delivered);
  REQUIRE(second.delivered);
  CHECK(first.arrival == Time::zero() + 12_ms);
  CHECK(second.arrival == Time::zero() + 22_ms);
  CHECK(second.arrival - first.arrival == 10_ms);
  // Sent at 15 ms, while the second is still serializing (until 20 ms): queues behind it.
  CHECK(net.transmit(0, 0, 1, 1250, Time::zero() + 15_ms).arrival == Time::zero() + 32_ms);
  // Sent after the link went idle: no queueing.
  CHECK(net.transmit(0, 0, 1, 1250, Time::zero() + 50_ms).arrival == Time::zero() + 62_ms);
  // The other direction is a link of its own, idle.
  const HopDecision back = net.transmit(1, 1, 0, 1250, Time::zero());
  CHECK(back.link == ab + 1);
  CHECK(back.arrival == Time::zero() + 12_ms);
}

TEST_CASE("network: routing takes the lowest-latency path and re-routes around cuts") {
  // A diamond: a-b-d is 2 ms, a-c-d is 10 ms.
  Network net = make_network(17, 4);
  const NodeId a = 0, b = 1, c = 2, d = 3;
  const LinkId ab = net.add_link(a, b, constant_link(1_ms));
  const LinkId bd = net.add_link(b, d, constant_link(1_ms));
  const LinkId ac = net.add_link(a, c, constant_link(5_ms));
  net.add_link(c, d, constant_link(5_ms));
  CHECK(net.link_count() == 8);
  CHECK(net.find_link(b, a) == ab + 1);
  CHECK_FALSE(net.find_link(a, d).has_value());

  CHECK(net.route(a, d) == std::vector<NodeId>{a, b, d});
  CHECK(net.route(d, a) == std::vector<NodeId>{d, b, a});
  HopDecision hop = net.transmit(a, a, d, 100, Time::zero());
  CHECK(hop.next == b);
  CHECK(hop.link == ab);
  CHECK(hop.arrival == Time::zero() + 1_ms);
  hop = net.transmit(a, b, d, 100, hop.arrival);
  CHECK(hop.next == d);
  CHECK(hop.link == bd);

  net.cut_link(ab);  // one direction only
  CHECK(net.is_cut(ab));
  CHECK_FALSE(net.is_cut(ab + 1));
  CHECK(net.route(a, d) == std::vector<NodeId>{a, c, d});
  CHECK(net.route(d, a) == std::vector<NodeId>{d, b, a});
  CHECK(net.transmit(a, a, d, 100, Time::zero()).next == c);
  CHECK(net.can_reach(a, d));

  net.cut_link(ac);
  CHECK_FALSE(net.can_reach(a, d));
  CHECK_FALSE(net.can_reach(a, b));
  CHECK(net.can_reach(d, a));
  CHECK(net.route(a, d).empty());
  hop = net.transmit(a, a, d, 100, Time::zero());
  CHECK_FALSE(hop.delivered);
  CHECK(hop.drop_reason == DropReason::NoRoute);
  CHECK(dropped(net, DropReason::NoRoute) == 1);

  net.heal_link(ab);
  net.heal_link(ac);
  CHECK(net.route(a, d) == std::vector<NodeId>{a, b, d});

  // Degrading b->d by 10x makes a-b-d 11 ms: a-c-d (10 ms) wins until restored.
  const std::uint32_t slow = net.degrade_link(bd, 10, 0);
  CHECK(net.route(a, d) == std::vector<NodeId>{a, c, d});
  net.restore(slow);
  CHECK(net.route(a, d) == std::vector<NodeId>{a, b, d});
  // A slow node b is routed around as well.
  const std::uint32_t slow_b = net.degrade_node(b, 6, 0);
  CHECK(net.route(a, d) == std::vector<NodeId>{a, c, d});
  net.restore(slow_b);
  CHECK(net.route(a, d) == std::vector<NodeId>{a, b, d});
}

TEST_CASE("network: zones use the latency matrix, other nodes the default link") {
  Network net(18);
  net.add_node(0, "r0a", 0);
  net.add_node(1, "r0b", 0);
  net.add_node(2, "r1a", 1);
  net.add_node(3, "loose");
  LinkSpec lossy = constant_link(40_ms);
  lossy.loss = 1;
  net.set_zones({"rack0", "rack1"},
                {{constant_link(1_ms), constant_link(20_ms)}, {lossy, constant_link(2_ms)}});
  net.set_default_link(constant_link(7_ms));
  CHECK(net.zone_of(2) == 1);
  CHECK(net.zone_of(3) == -1);

  const Time t = Time::zero() + 1_s;
  CHECK(net.transmit(0, 0, 1, 100, t).arrival == t + 1_ms);
  const HopDecision across = net.transmit(0, 0, 2, 100, t);
  CHECK(across.delivered);
  CHECK(across.next == 2);
  CHECK(across.link == kNoLink);
  CHECK(across.arrival == t + 20_ms);
  const HopDecision back = net.transmit(2, 2, 0, 100, t);  // matrix[1][0] loses everything
  CHECK_FALSE(back.delivered);
  CHECK(back.drop_reason == DropReason::Lost);
  CHECK(net.transmit(0, 0, 3, 100, t).arrival == t + 7_ms);
  CHECK(net.transmit(3, 3, 2, 100, t).arrival == t + 7_ms);
  CHECK(net.route(0, 2) == std::vector<NodeId>{0, 2});

  // Explicit links take precedence once both ends have one.
  net.add_link(0, 2, constant_link(3_ms));
  CHECK(net.transmit(0, 0, 2, 100, t).arrival == t + 3_ms);
  CHECK(net.transmit(1, 1, 2, 100, t).arrival == t + 20_ms);  // r0b has no link: the matrix
}

TEST_CASE("network: partitions drop exactly the separated pairs, and heal") {
  Network net = make_network(19, 5);
  net.set_default_link(constant_link(1_ms));
  const auto delivered = [&net](NodeId from, NodeId to) {
    return net.transmit(from, from, to, 100, Time::zero()).delivered;
  };

  // Symmetric: {0, 1} | {2, 3}; node 4 is in no group.
  const PartitionId sym = net.partition({{0, 1}, {2, 3}}, /*one_way=*/false, Time::zero());
  for (NodeId from = 0; from < 5; ++from) {
    for (NodeId to = 0; to < 5; ++to) {
      if (from == to) continue;
      const bool cut = from < 4 && to < 4 && (from < 2) != (to < 2);
      CAPTURE(from, to);
      CHECK(delivered(from, to) == !cut);
      CHECK(net.can_reach(from, to) == !cut);
    }
  }
  CHECK(dropped(net, DropReason::Partitioned) == 8);
  const HopDecision refused = net.transmit(0, 0, 2, 100, Time::zero());
  CHECK(refused.drop_reason == DropReason::Partitioned);
  net.heal_partition(sym, Time::zero() + 1_s);
  for (NodeId from = 0; from < 5; ++from)
    for (NodeId to = 0; to < 5; ++to) CHECK(net.can_reach(from, to));
  CHECK(delivered(0, 2));

  // One-way: {0} cannot send to {1, 2}; they can send to it; 1 <-> 2 and 3, 4 unaffected.
  const PartitionId one_way = net.partition({{0}, {1, 2}}, /*one_way=*/true, Time::zero() + 2_s);
  CHECK_FALSE(delivered(0, 1));
  CHECK_FALSE(delivered(0, 2));
  CHECK_FALSE(net.can_reach(0, 1));
  CHECK(delivered(1, 0));
  CHECK(delivered(2, 0));
  CHECK(net.can_reach(2, 0));
  CHECK(delivered(1, 2));
  CHECK(delivered(0, 3));
  CHECK(delivered(3, 1));
  net.heal_partition(one_way, Time::zero() + 3_s);
  CHECK(delivered(0, 1));
}

TEST_CASE("network: partitions apply between origin and destination at every hop") {
  // A line 0 - 1 - 2: the partition separates 0 from 2 only, yet the 1 -> 2 hop of a message
  // from 0 is refused.
  Network net = make_network(20, 3);
  net.add_link(0, 1, constant_link(1_ms));
  net.add_link(1, 2, constant_link(1_ms));
  net.partition({{0}, {2}}, false, Time::zero());
  CHECK(net.transmit(0, 1, 2, 100, Time::zero()).drop_reason == DropReason::Partitioned);
  CHECK(net.transmit(1, 1, 2, 100, Time::zero()).delivered);
  CHECK(net.route(0, 2).empty());
  CHECK(net.route(1, 2) == std::vector<NodeId>{1, 2});
}

TEST_CASE("network: messages in flight are lost when their link is cut or a partition starts") {
  // 0 - 1 - 2 by links; node 3 has none and talks over the default path.
  Network net = make_network(21, 4);
  const LinkId ab = net.add_link(0, 1, constant_link(10_ms));
  net.add_link(1, 2, constant_link(10_ms));
  net.set_default_link(constant_link(10_ms));
  const Time t0 = Time::zero();

  // Cut while in flight, healed before arrival: still lost.
  HopDecision hop = net.transmit(0, 0, 1, 100, t0);
  REQUIRE(hop.delivered);
  const HopDecision other = net.transmit(1, 1, 2, 100, t0);
  net.cut_link(ab);
  net.heal_link(ab);
  CHECK_FALSE(net.still_deliverable(hop, 0, 1, t0));
  CHECK(net.in_flight_loss(hop, 0, 1, t0) == DropReason::LinkCut);
  CHECK(net.still_deliverable(other, 1, 2, t0));  // another link's cut does not matter
  // Sent after the heal: unaffected by the earlier cut.
  hop = net.transmit(0, 0, 1, 100, t0 + 1_ms);
  CHECK(net.still_deliverable(hop, 0, 1, t0 + 1_ms));
  // Cutting the reverse direction does not touch this one.
  net.cut_link(ab + 1);
  CHECK(net.still_deliverable(hop, 0, 1, t0 + 1_ms));
  net.heal_link(ab + 1);

  // Partition starting in flight, healed before arrival: lost. On a multi-hop path the
  // partition is between origin and destination, not the hop's ends.
  const HopDecision first_leg = net.transmit(0, 0, 1, 100, t0 + 2_ms);  // 0 -> 1, headed for 2
  const HopDecision direct = net.transmit(3, 3, 0, 100, t0 + 2_ms);     // default path
  const HopDecision bystander = net.transmit(1, 1, 2, 100, t0 + 2_ms);
  REQUIRE(first_leg.delivered);
  REQUIRE(direct.delivered);
  REQUIRE(direct.link == kNoLink);
  const PartitionId p = net.partition({{0}, {2, 3}}, false, t0 + 3_ms);
  net.heal_partition(p, t0 + 4_ms);
  CHECK(net.in_flight_loss(first_leg, 0, 2, t0 + 2_ms) == DropReason::Partitioned);
  CHECK_FALSE(net.still_deliverable(direct, 3, 0, t0 + 2_ms));
  CHECK(net.still_deliverable(bystander, 1, 2, t0 + 2_ms));
  // A message decided after that partition healed is unaffected by it.
  const HopDecision later = net.transmit(0, 0, 1, 100, t0 + 5_ms);
  CHECK(net.still_deliverable(later, 0, 2, t0 + 5_ms));
  // One-way partitions lose only the blocked direction.
  const HopDecision blocked = net.transmit(3, 3, 0, 100, t0 + 6_ms);
  const HopDecision allowed = net.transmit(0, 0, 3, 100, t0 + 6_ms);
  net.partition({{3}, {0}}, true, t0 + 7_ms);
  CHECK_FALSE(net.still_deliverable(blocked, 3, 0, t0 + 6_ms));
  CHECK(net.still_deliverable(allowed, 0, 3, t0 + 6_ms));
}

TEST_CASE("network: degradation multiplies latency, adds loss, and restore undoes it") {
  Network net = make_network(22, 3);
  const LinkId ab = net.add_link(0, 1, constant_link(1_ms));
  net.set_default_link(constant_link(1_ms));
  const Time t = Time::zero();
  const auto latency = [&](NodeId from, NodeId to) {
    const HopDecision d = net.transmit(from, from, to, 100, t);
    REQUIRE(d.delivered);
    return d.arrival - t;
  };
  const std::uint32_t on_link = net.degrade_link(ab, 3, 0);
  CHECK(latency(0, 1) == 3_ms);
  CHECK(latency(1, 0) == 1_ms);  // the other direction is another link
  const std::uint32_t on_node = net.degrade_node(1, 2, 0);
  CHECK(latency(0, 1) == 6_ms);
  CHECK(latency(1, 0) == 2_ms);  // node 1 sends
  CHECK(latency(2, 1) == 2_ms);  // default path, node 1 receives
  CHECK(latency(2, 0) == 1_ms);
  const std::uint32_t everywhere = net.degrade_link(kNoLink, 5, 0);
  CHECK(latency(0, 1) == 30_ms);
  CHECK(latency(2, 0) == 5_ms);
  net.restore(on_link);
  CHECK(latency(0, 1) == 10_ms);
  net.restore(everywhere);
  net.restore(on_node);
  CHECK(latency(0, 1) == 1_ms);
  CHECK(latency(2, 1) == 1_ms);

  // Losses combine as survival probabilities: 1 - (1 - 0.2)(1 - 0.5) = 0.6.
  LinkSpec lossy = constant_link(1_ms);
  lossy.loss = 0.2;
  const LinkId bc = net.add_link(1, 2, lossy, false);
  const std::uint32_t loss = net.degrade_link(kNoLink, 1, 0.5);
  int lost = 0;
  for (int i = 0; i < kMessages; ++i)
    if (!net.transmit(1, 1, 2, 100, at_ms(i)).delivered) ++lost;
  CHECK(std::abs(lost - kMessages * 0.6) < 5 * binomial_se(kMessages, 0.6));
  net.restore(loss);
  lost = 0;
  for (int i = 0; i < kMessages; ++i) {
    const HopDecision d = net.transmit(1, 1, 2, 100, at_ms(i));
    CHECK(d.link == bc);
    if (!d.delivered) ++lost;
  }
  CHECK(std::abs(lost - kMessages * 0.2) < 5 * binomial_se(kMessages, 0.2));
  CHECK_THROWS_AS(net.restore(loss), ContractViolation);
}

TEST_CASE("network: the same seed gives the same decisions, other links do not disturb them") {
  LinkSpec spec;
  spec.latency = Distribution::lognormal_from_median_p99(1e6, 20e6);
  spec.loss = 0.05;
  spec.duplicate = 0.05;
  const auto run = [&spec](std::uint64_t seed, bool extra) {
    Network net(seed);
    if (extra) net.add_node(0, "intruder");
    const NodeId a = extra ? 1 : 0;
    net.add_node(a, "a");
    net.add_node(a + 1, "b");
    if (extra) {
      net.add_node(a + 2, "c");
      net.add_link(0, a + 2, spec);
    }
    net.add_link(a, a + 1, spec);
    std::vector<std::int64_t> trace;
    for (int i = 0; i < 1000; ++i) {
      if (extra) net.transmit(0, 0, a + 2, 100, at_ms(i));  // traffic on the other link
      const HopDecision d = net.transmit(a, a, a + 1, 100, at_ms(i));
      trace.push_back(d.delivered ? d.arrival.ns() : -1);
      trace.push_back(d.duplicate_arrival ? d.duplicate_arrival->ns() : -1);
    }
    return trace;
  };
  const std::vector<std::int64_t> reference = run(7, false);
  CHECK(run(7, false) == reference);
  CHECK(run(7, true) == reference);
  CHECK(run(8, false) != reference);
}

TEST_CASE("network: preconditions are checked") {
  Network net = make_network(23, 2);
  CHECK_THROWS_AS(net.add_node(5, "skip"), ContractViolation);
  CHECK_THROWS_AS(net.add_link(0, 0, LinkSpec{}), ContractViolation);
  CHECK_THROWS_AS(net.add_link(0, 7, LinkSpec{}), ContractViolation);
  LinkSpec bad;
  bad.loss = 1.5;
  CHECK_THROWS_AS(net.add_link(0, 1, bad), ContractViolation);
  net.add_link(0, 1, LinkSpec{});
  CHECK_THROWS_AS(net.add_link(1, 0, LinkSpec{}), ContractViolation);  // exists already
  CHECK_THROWS_AS(net.cut_link(9), ContractViolation);
  CHECK_THROWS_AS(net.partition({{0, 1}}, false, Time::zero()), ContractViolation);
  CHECK_THROWS_AS(net.partition({{0}, {0, 1}}, false, Time::zero()), ContractViolation);
  CHECK_THROWS_AS(net.degrade_node(0, 0, 0), ContractViolation);
  CHECK_THROWS_AS(net.transmit(0, 0, 4, 1, Time::zero()), ContractViolation);
  const PartitionId p = net.partition({{0}, {1}}, false, Time::zero());
  net.heal_partition(p, Time::zero());
  CHECK_THROWS_AS(net.heal_partition(p, Time::zero()), ContractViolation);
  CHECK(std::string(to_string(DropReason::NoRoute)) == "no_route");
}

TEST_CASE("network: loopback delivers at once without drawing") {
  Network net = make_network(24, 2);
  net.add_link(0, 1, constant_link(1_ms));
  const HopDecision d = net.transmit(0, 0, 0, 100, Time::zero() + 5_ms);
  CHECK(d.delivered);
  CHECK(d.next == 0);
  CHECK(d.arrival == Time::zero() + 5_ms);
  CHECK(net.counters().hops == 0);
  CHECK(net.route(1, 1) == std::vector<NodeId>{1});
}

TEST_CASE("network: steady-state transmit performs zero operator new calls") {
  Network net = make_network(25, 6);
  LinkSpec spec;
  spec.latency = Distribution::exponential(1e6);
  spec.loss = 0.01;
  spec.duplicate = 0.01;
  spec.bandwidth_bps = 1e9;
  spec.fifo = true;
  for (NodeId i = 0; i + 1 < 4; ++i) net.add_link(i, i + 1, spec);
  net.set_zones({"z"}, {{spec}});
  net.add_node(6, "zoned-a", 0);
  net.add_node(7, "zoned-b", 0);
  net.partition({{4}, {5}}, true, Time::zero());
  net.degrade_node(2, 2, 0.01);
  const auto traffic = [&net](int rounds) {
    for (int i = 0; i < rounds; ++i) {
      const Time now = at_ms(i);
      for (NodeId from = 0; from < 4; ++from)
        for (NodeId to = 0; to < 4; ++to) {
          const HopDecision d = net.transmit(from, from, to, 500, now);
          if (d.delivered) (void)net.still_deliverable(d, from, to, now);
        }
      net.transmit(4, 4, 5, 500, now);  // partitioned
      net.transmit(6, 6, 7, 500, now);  // zone
      net.transmit(0, 0, 6, 500, now);  // default
    }
  };
  traffic(10);  // warms the route caches
  const std::uint64_t before = allocation_count();
  traffic(2000);
  CHECK(allocation_count() == before);
}

TEST_CASE("network: a host with one link out routes as its full routing table would") {
  // Hosts with a single link out skip their own table (Network's next_hop) and ask their
  // switch's. Reference: the same topology where every host also has a second link out, to a
  // shadow node, cut at once: invisible to routing, but it makes each host keep and use its
  // own table. Every route between the real nodes must agree, before and after random cuts.
  constexpr int kCores = 3, kTors = 6, kHosts = 30;
  constexpr int kNodes = kCores + kTors + kHosts;
  Rng rng = Rng::stream(5, "topology");
  struct Link {
    NodeId a, b;
    Duration latency;
    bool both_ways;
  };
  std::vector<Link> topology;
  const auto latency = [&] { return Duration::nanoseconds(1'000 * (1 + rng.below(5))); };
  for (NodeId c = 0; c < kCores; ++c)
    for (NodeId d = c + 1; d < kCores; ++d) topology.push_back({c, d, latency(), true});
  for (NodeId t = kCores; t < kCores + kTors; ++t) {
    const auto first = static_cast<NodeId>(rng.below(kCores));
    topology.push_back({t, first, latency(), true});
    topology.push_back({t, static_cast<NodeId>((first + 1) % kCores), latency(), true});
  }
  for (NodeId h = kCores + kTors; h < kNodes; ++h) {
    const auto tor = static_cast<NodeId>(kCores + rng.below(kTors));
    // Most hosts both ways; some send only (one link out, none in), some are dual-homed.
    topology.push_back({h, tor, latency(), h % 5 != 0});
    if (h % 7 == 0)
      topology.push_back(
          {h, static_cast<NodeId>(kCores + (tor - kCores + 1) % kTors), latency(), true});
  }
  Network shortcut = make_network(1, kNodes);
  Network reference = make_network(1, kNodes + 1);  // node kNodes: the shadow
  std::vector<LinkId> ids;
  for (const Link& l : topology) {
    ids.push_back(shortcut.add_link(l.a, l.b, constant_link(l.latency), l.both_ways));
    REQUIRE(reference.add_link(l.a, l.b, constant_link(l.latency), l.both_ways) == ids.back());
  }
  for (NodeId h = kCores + kTors; h < kNodes; ++h)
    reference.cut_link(reference.add_link(h, kNodes, constant_link(latency()), false));

  int compared = 0, unreachable = 0;
  for (int round = 0; round < 6; ++round) {
    for (NodeId a = 0; a < kNodes; ++a)
      for (NodeId b = 0; b < kNodes; ++b) {
        const std::vector<NodeId> route = shortcut.route(a, b);
        CHECK(route == reference.route(a, b));
        ++compared;
        unreachable += route.empty();
      }
    // Cut three more links (the same in both), so that some hosts lose their only way out.
    for (int c = 0; c < 3; ++c) {
      const LinkId id = ids[rng.below(ids.size())];
      shortcut.cut_link(id);
      reference.cut_link(id);
    }
  }
  CHECK(compared == 6 * kNodes * kNodes);
  CHECK(unreachable > 0);  // the cuts did separate some pairs
}
