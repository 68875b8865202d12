// The quorum store's mechanics over links of known, constant latency, so that every answer time
// is exact: W acknowledgements before a write is answered and not before, the newest of R
// replies, read repair, quorum failures, sloppy quorum with hinted handoff, volatile data lost
// in a crash, last-write-wins by wall clock, the coordinator's bound, and configuration errors.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <string>
#include <vector>

#include "models/replication/quorum_store.hpp"
#include "scenario/scenario.hpp"
#include "scenario/scenario_error.hpp"
#include "tests/model_harness.hpp"
#include "tests/store_bench.hpp"
#include "tests/test_time.hpp"

using namespace sim;
using models::Outcome;
using models::QuorumStore;
using models::QuorumStoreConfig;
using models::QuorumWrite;
using models::RpcRequest;

namespace {

using dsimtest::VersionProbe;

/// One scheduled client request (an event's capture must be small: it names its entry).
struct Scheduled {
  NodeId to;
  RpcRequest request;
};
struct Send {
  Cluster* cluster;
  NodeId from;
  const std::vector<Scheduled>* requests;
  std::size_t index;
  void operator()() const {
    const Scheduled& s = (*requests)[index];
    cluster->node(from).send(s.to, s.request);
  }
};

/// A version put straight into one replica (a repair write: not acknowledged).
struct Plant {
  Cluster* cluster;
  NodeId from, to;
  std::uint64_t key, version;
  void operator()() const {
    cluster->node(from).send(
        to, QuorumWrite{.key = key, .version = version, .kind = QuorumWrite::kRepair});
  }
};

/// A store of `count` nodes and a probe client; store-0 coordinates. Links from store-0 to
/// store-j take `latency_ms * j` one way; everything else is instantaneous. (With links, the
/// other nodes reach each other through store-0: latency_ms 0 adds none, for tests that crash it.)
struct Bench {
  Bench(const QuorumStoreConfig& config, std::size_t count, std::int64_t latency_ms = 10,
        Time end = at_ms(5000))
      : h(7, Time::zero(), end) {
    auto p = std::make_unique<VersionProbe>();
    probe = p.get();
    probe_id = h.add_process("probe", std::move(p));
    stores = h.build<QuorumStore>("store", count, config);
    for (std::size_t j = 1; j < count && latency_ms > 0; ++j)
      h.cluster.network().add_link(id(0), id(j),
                                   {Distribution::constant(static_cast<double>(
                                       latency_ms * 1'000'000 * static_cast<std::int64_t>(j)))});
  }
  NodeId id(std::size_t i) const { return h.nodes("store").at(i); }
  /// The key's nodes in preference order, all `count` of them.
  std::vector<std::uint32_t> order(std::uint64_t key) const {
    std::vector<std::uint32_t> out(stores.size());
    auto f = models::ShardFunction::consistent_hash(static_cast<std::uint32_t>(stores.size()), 100);
    f.preference_list(key, out);
    return out;
  }
  /// A key whose first `n` replicas do not include store-0.
  std::uint64_t key_without_coordinator(std::size_t n) const {
    for (std::uint64_t k = 0;; ++k) {
      const auto o = order(k);
      if (std::find(o.begin(), o.begin() + static_cast<std::ptrdiff_t>(n), 0u) ==
          o.begin() + static_cast<std::ptrdiff_t>(n))
        return k;
    }
  }
  void request(Time at, std::uint64_t call_id, std::uint64_t key, std::uint8_t op,
               std::size_t coordinator = 0, Time deadline = Time::max()) {
    scheduled.push_back({id(coordinator), RpcRequest{.call_id = call_id,
                                                     .key = key,
                                                     .deadline = deadline,
                                                     .origin = probe_id,
                                                     .operation = op}});
    h.sim.schedule_at(at, Send{&h.cluster, probe_id, &scheduled, scheduled.size() - 1});
  }
  void plant(Time at, std::size_t replica, std::uint64_t key, std::uint64_t version) {
    h.sim.schedule_at(at, Plant{&h.cluster, probe_id, id(replica), key, version});
  }
  double figure(const std::string& name, std::size_t replica = 0) {
    return dsimtest::figure(*stores.at(replica), name);
  }
  double total(const std::string& name) {
    double sum = 0;
    for (std::size_t i = 0; i < stores.size(); ++i) sum += figure(name, i);
    return sum;
  }

  dsimtest::ModelHarness h;
  VersionProbe* probe = nullptr;
  NodeId probe_id = kNoNode;
  std::vector<QuorumStore*> stores;
  std::vector<Scheduled> scheduled;  // grows before the run only
};

QuorumStoreConfig config(std::int64_t n, std::int64_t r, std::int64_t w) {
  QuorumStoreConfig c;
  c.replication_factor = n;
  c.read_quorum = r;
  c.write_quorum = w;
  c.keys = 100;
  return c;
}

}  // namespace

TEST_CASE("quorum store: a write is answered when W replicas acknowledged, not before") {
  for (std::int64_t w = 1; w <= 3; ++w) {
    INFO("W = " << w);
    Bench b(config(3, 1, w), 4);  // store-0 coordinates a key of store-1, -2 and -3
    const std::uint64_t key = b.key_without_coordinator(3);
    b.request(at_ms(100), 1, key, models::kOpWrite);
    b.h.run();
    REQUIRE(b.probe->received.size() == 1);
    const auto& answer = b.probe->received[0];
    CHECK(answer.outcome == Outcome::Ok);
    // Acks come back after 20, 40 and 60 ms (round trips to store-1, -2, -3).
    CHECK(answer.at == at_ms(100 + 20 * w));
    CHECK(answer.value != 0);
    for (std::size_t j = 1; j <= 3; ++j) CHECK(b.stores[j]->version_of(key) == answer.value);
    CHECK(b.stores[0]->version_of(key) == 0);  // a coordinator outside the list keeps nothing
    CHECK(b.figure("write_requests") == 1);
    CHECK(b.figure("replicas_contacted_mean") == 3);
    CHECK(b.figure("writes_acked") == 1);
  }
}

TEST_CASE("quorum store: a coordinator on the list counts its own copy at once") {
  Bench b(config(3, 1, 1), 3);  // every node holds every key: store-0 is a replica
  b.request(at_ms(100), 1, 5, models::kOpWrite);
  b.h.run();
  REQUIRE(b.probe->received.size() == 1);
  CHECK(b.probe->received[0].at == at_ms(100));  // W = 1: its own copy
  CHECK(b.stores[0]->version_of(5) == b.probe->received[0].value);
}

TEST_CASE("quorum store: a read returns the newest of the first R replies, and repairs") {
  // store-1 (reply at +20 ms) holds version 100, store-2 (+40 ms) nothing, store-3 (+60 ms)
  // version 200. R = 2 answers at +40 ms with 100 (it has not heard of 200: stale); R = 3
  // waits for 200.
  for (std::int64_t r = 2; r <= 3; ++r) {
    INFO("R = " << r);
    Bench b(config(3, r, 1), 4);
    const std::uint64_t key = b.key_without_coordinator(3);
    b.plant(at_ms(10), 1, key, 100);
    b.plant(at_ms(10), 3, key, 200);
    b.request(at_ms(100), 1, key, models::kOpRead);
    b.h.run();
    REQUIRE(b.probe->received.size() == 1);
    CHECK(b.probe->received[0].outcome == Outcome::Ok);
    CHECK(b.probe->received[0].at == at_ms(100 + 20 * r));
    CHECK(b.probe->received[0].value == (r == 2 ? 100u : 200u));
    // Repairs: R = 2 sends 100 to store-2 at +40, then 200 to store-1 and store-2 at +60; R = 3
    // sends 200 to both at +60.
    CHECK(b.figure("read_repairs") == (r == 2 ? 3 : 2));
    for (std::size_t j = 1; j <= 3; ++j) CHECK(b.stores[j]->version_of(key) == 200);
  }
}

TEST_CASE("quorum store: without read repair the stale replica stays stale") {
  QuorumStoreConfig c = config(3, 3, 1);
  c.read_repair = false;
  Bench b(c, 4);
  const std::uint64_t key = b.key_without_coordinator(3);
  b.plant(at_ms(10), 3, key, 200);
  b.request(at_ms(100), 1, key, models::kOpRead);
  b.h.run();
  REQUIRE(b.probe->received.size() == 1);
  CHECK(b.probe->received[0].value == 200);
  CHECK(b.figure("read_repairs") == 0);
  CHECK(b.stores[1]->version_of(key) == 0);
}

TEST_CASE("quorum store: too many replicas down is a quorum failure at the timeout") {
  QuorumStoreConfig c = config(3, 2, 2);
  c.quorum_timeout = Duration::nanoseconds(300'000'000);
  Bench b(c, 4);
  const std::uint64_t key = b.key_without_coordinator(3);
  b.h.faults.crash(at_ms(50), b.id(1));
  b.h.faults.crash(at_ms(50), b.id(2));
  b.request(at_ms(100), 1, key, models::kOpWrite);
  b.request(at_ms(100), 2, key, models::kOpRead);
  b.request(at_ms(100), 3, key, models::kOpRead, 0, at_ms(200));  // its deadline comes first
  b.h.run();
  REQUIRE(b.probe->received.size() == 3);
  for (const auto& a : b.probe->received) {
    CHECK(a.outcome == Outcome::Error);
    CHECK(a.at == (a.call_id == 3 ? at_ms(200) : at_ms(400)));
  }
  CHECK(b.figure("write_quorum_failures") == 1);
  CHECK(b.figure("read_quorum_failures") == 2);
  CHECK(b.stores[3]->version_of(key) != 0);  // the failed write is not rolled back
  CHECK(b.figure("writes_acked") == 0);
  CHECK(b.stores[0]->in_flight() == 0);
}

TEST_CASE("quorum store: a sloppy quorum stores hints on the next nodes and hands them off") {
  QuorumStoreConfig c = config(3, 1, 3);
  c.sloppy_quorum = true;
  c.hint_after = Duration::nanoseconds(50'000'000);
  c.handoff_interval = Duration::nanoseconds(100'000'000);
  Bench b(c, 5, 0);  // instantaneous links
  const std::uint64_t key = 7;
  const auto order = b.order(key);
  const std::size_t coordinator = order[0];
  b.h.faults.crash(at_ms(50), b.id(order[1]), Duration::nanoseconds(1'000'000'000));
  b.h.faults.crash(at_ms(50), b.id(order[2]), Duration::nanoseconds(1'000'000'000));
  b.request(at_ms(100), 1, key, models::kOpWrite, coordinator);
  // Reads still ask the preference list only: R = 1 gets the coordinator's own copy.
  b.request(at_ms(500), 2, key, models::kOpRead, coordinator);
  b.h.run();
  REQUIRE(b.probe->received.size() == 2);
  const auto& write = b.probe->received[0];
  CHECK(write.outcome == Outcome::Ok);
  CHECK(write.at.ns() == at_ms(150).ns());  // hint_after, then the two fallbacks' acks at once
  CHECK(b.total("hints_stored") == 2);
  // Back at 1050 ms; the next handoff (every 100 ms from each node's start) delivers both.
  CHECK(b.total("hints_delivered") == 2);
  for (std::size_t i = 0; i < 5; ++i) CHECK(b.stores[i]->hints_held() == 0);
  for (std::size_t i = 0; i < 3; ++i) CHECK(b.stores[order[i]]->version_of(key) == write.value);
  CHECK(b.stores[order[3]]->version_of(key) == 0);  // a fallback kept it as a hint only
  CHECK(b.figure("replicas_contacted_mean") == 4);  // (3 + 2) for the write, 3 for the read
  CHECK(b.figure("lost_writes") == 0);
}

TEST_CASE("quorum store: hints wait on their holder while the replica is down") {
  QuorumStoreConfig c = config(3, 1, 3);
  c.sloppy_quorum = true;
  c.handoff_interval = Duration::nanoseconds(100'000'000);
  Bench b(c, 4, 0, at_ms(800));  // the run ends before the replica is back
  const auto order = b.order(3);
  b.h.faults.crash(at_ms(50), b.id(order[2]), Duration::nanoseconds(5'000'000'000));
  b.request(at_ms(100), 1, 3, models::kOpWrite, order[0]);
  b.h.run();
  REQUIRE(b.probe->received.size() == 1);
  CHECK(b.probe->received[0].outcome == Outcome::Ok);
  CHECK(b.stores[order[3]]->hints_held() == 1);
  CHECK(b.stores[order[3]]->hinted_version_of(3) == b.probe->received[0].value);
  CHECK(b.total("hints_delivered") == 0);
}

TEST_CASE("quorum store: volatile data is lost in a crash, durable data is not") {
  for (const bool durable : {true, false}) {
    INFO("durable " << durable);
    QuorumStoreConfig c = config(3, 1, 1);
    c.durable = durable;
    Bench b(c, 3, 0);
    b.request(at_ms(100), 1, 4, models::kOpWrite);  // W = 1: store-0's own copy answers
    for (std::size_t i = 0; i < 3; ++i)
      b.h.faults.crash(at_ms(200), b.id(i), Duration::nanoseconds(100'000'000));
    b.request(at_ms(400), 2, 4, models::kOpRead);
    b.h.run();
    REQUIRE(b.probe->received.size() == 2);
    const std::uint64_t written = b.probe->received[0].value;
    CHECK(b.probe->received[1].value == (durable ? written : 0u));
    for (std::size_t i = 0; i < 3; ++i)
      CHECK(b.stores[i]->version_of(4) == (durable ? written : 0));
    CHECK(b.figure("lost_writes") == (durable ? 0 : 1));
    CHECK(b.figure("stale_reads") == (durable ? 0 : 1));
  }
}

TEST_CASE("quorum store: last write wins by the coordinators' wall clocks") {
  // store-1's clock is 1 s ahead: its write at 100 ms carries a later timestamp than store-0's
  // write at 200 ms, and wins everywhere.
  Bench b(config(3, 3, 3), 3, 0);
  b.h.cluster.node(b.id(1)).clock().step(Duration::nanoseconds(1'000'000'000));
  b.request(at_ms(100), 1, 9, models::kOpWrite, 1);
  b.request(at_ms(200), 2, 9, models::kOpWrite, 0);
  b.request(at_ms(300), 3, 9, models::kOpRead, 2);
  b.h.run();
  REQUIRE(b.probe->received.size() == 3);
  const auto first = b.probe->received[0].value, second = b.probe->received[1].value;
  CHECK(first == QuorumStore::make_version(1'100'000'000, 1));
  CHECK(second == QuorumStore::make_version(200'000'000, 0));
  CHECK(b.probe->received[2].value == first);  // the earlier write won
  for (std::size_t i = 0; i < 3; ++i) CHECK(b.stores[i]->version_of(9) == first);
}

TEST_CASE("quorum store: versions of one coordinator are unique within a nanosecond") {
  Bench b(config(3, 1, 1), 3, 0);
  b.request(at_ms(100), 1, 2, models::kOpWrite);
  b.request(at_ms(100), 2, 2, models::kOpWrite);
  b.h.run();
  REQUIRE(b.probe->received.size() == 2);
  CHECK(b.probe->received[0].value == QuorumStore::make_version(100'000'000, 0));
  CHECK(b.probe->received[1].value == QuorumStore::make_version(100'000'001, 0));
}

TEST_CASE("quorum store: a coordinator holds max_in_flight requests, more are Rejected") {
  QuorumStoreConfig c = config(3, 2, 2);
  c.max_in_flight = 1;
  Bench b(c, 4);
  const std::uint64_t key = b.key_without_coordinator(3);
  b.request(at_ms(100), 1, key, models::kOpWrite);
  b.request(at_ms(110), 2, key, models::kOpRead);   // the write waits until 140 ms
  b.request(at_ms(150), 3, key, models::kOpRead);   // room again
  b.request(at_ms(200), 4, 1000, models::kOpRead);  // no such key
  b.h.run();
  REQUIRE(b.probe->received.size() == 4);
  CHECK(b.probe->received[0].outcome == Outcome::Rejected);  // answered first, at 110 ms
  CHECK(b.probe->received[0].call_id == 2);
  CHECK(b.probe->received[1].outcome == Outcome::Ok);
  CHECK(b.probe->received[3].outcome == Outcome::Error);
  CHECK(b.figure("rejected") == 1);
  CHECK(b.figure("bad_keys") == 1);
}

TEST_CASE("quorum store: quorum_up_fraction is the time a majority of nodes was up") {
  Bench b(config(3, 2, 2), 3, 0, at_ms(1000));
  b.h.faults.crash(at_ms(100), b.id(0), Duration::nanoseconds(500'000'000));  // 100 .. 600
  b.h.faults.crash(at_ms(400), b.id(1), Duration::nanoseconds(400'000'000));  // 400 .. 800
  b.h.run();
  // Two of three down during 400 .. 600 ms: 20 % of the run.
  CHECK(b.figure("quorum_up_fraction") == Approx(0.8));
  CHECK(std::isnan(b.figure("quorum_up_fraction", 1)));
}

TEST_CASE("quorum store: configuration errors") {
  auto problems = QuorumStore::check(config(3, 4, 2), 3);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].field == "read_quorum");
  problems = QuorumStore::check(config(3, 2, 4), 3);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].field == "write_quorum");
  problems = QuorumStore::check(config(5, 2, 2), 3);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].field == "replication_factor");
  CHECK_THAT(problems[0].message, Catch::Contains("3 nodes"));
  CHECK(QuorumStore::check(config(3, 2, 2), 300).at(0).field == "count");
  QuorumStoreConfig sloppy = config(3, 2, 2);
  sloppy.sloppy_quorum = true;
  sloppy.hint_after = sloppy.quorum_timeout;
  CHECK(QuorumStore::check(sloppy, 3).at(0).field == "hint_after");
  CHECK(QuorumStore::check(config(3, 2, 2), 3).empty());

  // Through the loader: exit status 2 with the JSON path.
  const std::string text = R"({"name": "q", "duration": "1s", "components": {
      "store": {"model": "quorum_store", "count": 2},
      "client": {"model": "open_loop_client", "target": "store"}}})";
  try {
    (void)scenario::load_scenario_text(text, "q.json");
    FAIL("a replication factor above the count was accepted");
  } catch (const scenario::ScenarioError& e) {
    CHECK_THAT(e.what(), Catch::Contains("/components/store/replication_factor") &&
                             Catch::Contains("at most the component's count (2 nodes)"));
  }
  const std::string zero = R"({"name": "q", "duration": "1s", "components": {
      "store": {"model": "quorum_store", "count": 3, "read_quorum": 0},
      "client": {"model": "open_loop_client", "target": "store"}}})";
  CHECK_THROWS_AS(scenario::load_scenario_text(zero, "q.json"), scenario::ScenarioError);
}
