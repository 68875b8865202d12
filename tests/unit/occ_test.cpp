// The OCC store's conditional-write semantics, and the OCC client's read -> conditional write
// -> back off -> read again loop, over a zero-latency network with constant service times, so
// that every answer time is known exactly.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <memory>
#include <vector>

#include "models/contention/occ_client.hpp"
#include "models/contention/occ_store.hpp"
#include "tests/model_harness.hpp"
#include "tests/store_bench.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"

using namespace sim;
using models::OccClient;
using models::OccClientConfig;
using models::OccRequest;
using models::OccStore;
using models::OccStoreConfig;
using models::Outcome;

namespace {

OccStoreConfig store_config(Duration service = 1_ms, std::int64_t keys = 1) {
  OccStoreConfig config;
  config.service_time = Distribution::constant(static_cast<double>(service.ns()));
  config.keys = keys;
  return config;
}

using dsimtest::VersionProbe;

/// An event: the probe sends a read or a conditional write to the store.
struct SendOcc {
  Cluster* cluster;
  NodeId from, to;
  std::uint32_t call_id;
  std::uint32_t key;
  std::uint32_t expected_version;
  std::uint8_t operation;
  void operator()() const {
    const OccRequest request{.rpc = {.call_id = call_id, .key = key, .operation = operation},
                             .expected_version = expected_version};
    cluster->node(from).send(to, request);
  }
};

struct StoreBench {
  explicit StoreBench(const OccStoreConfig& config, Time end = at_ms(1000))
      : h(7, Time::zero(), end) {
    auto p = std::make_unique<VersionProbe>();
    probe = p.get();
    probe_id = h.add_process("probe", std::move(p));
    store = h.build<OccStore>("store", 1, config).at(0);
    store_id = h.nodes("store").at(0);
  }
  void read_at(Time t, std::uint32_t call_id, std::uint32_t key = 0) {
    h.sim.schedule_at(t,
                      SendOcc{&h.cluster, probe_id, store_id, call_id, key, 0, models::kOccRead});
  }
  void write_at(Time t, std::uint32_t call_id, std::uint32_t expected, std::uint32_t key = 0) {
    h.sim.schedule_at(
        t, SendOcc{&h.cluster, probe_id, store_id, call_id, key, expected, models::kOccWrite});
  }
  dsimtest::ModelHarness h;
  VersionProbe* probe;
  OccStore* store;
  NodeId probe_id, store_id;
};

/// A scripted store: reads answer Ok with version 7, writes are answered `write_outcome`;
/// the first `silent_reads` reads get no answer. Records when each read and write arrived.
class ScriptedStore : public sim::Process {
 public:
  explicit ScriptedStore(Outcome write_outcome, int silent_reads = 0)
      : write_outcome_(write_outcome), silent_reads_(silent_reads) {}
  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    const auto request = message.as<OccRequest>();
    models::RpcResponse response{.call_id = request.rpc.call_id};
    if (request.rpc.operation == models::kOccRead) {
      reads.push_back(node.true_now());
      if (silent_reads_ > 0) {
        --silent_reads_;
        return;
      }
      response.value = 7;
    } else {
      writes.push_back(node.true_now());
      expected.push_back(request.expected_version);
      response.outcome = write_outcome_;
    }
    node.send(message.from, response);
  }
  std::vector<Time> reads, writes;
  std::vector<std::uint64_t> expected;

 private:
  Outcome write_outcome_;
  int silent_reads_;
};

OccClientConfig client_config(models::BackoffKind kind, models::Jitter jitter,
                              Duration base = 10_ms) {
  OccClientConfig config;
  config.target = {"store"};
  config.retry.backoff.kind = kind;
  config.retry.backoff.jitter = jitter;
  config.retry.backoff.base = base;
  config.retry.backoff.multiplier = 2;
  config.retry.backoff.cap = 2'000_ms;
  return config;
}

}  // namespace

TEST_CASE("occ store: a conditional write succeeds only on the version it names") {
  StoreBench b(store_config(1_ms));
  b.read_at(Time::zero(), 1);   // served 0-1ms: version 0
  b.write_at(at_ms(10), 2, 0);  // 0 == 0: ok, version 1
  b.write_at(at_ms(20), 3, 0);  // stale: conflict, version stays 1
  b.read_at(at_ms(30), 4);      // version 1
  b.write_at(at_ms(40), 5, 1);  // ok, version 2
  b.write_at(at_ms(50), 6, 5);  // a version from the future is a conflict too
  b.h.run();
  const auto& r = b.probe->received;
  REQUIRE(r.size() == 6);
  CHECK((r[0].outcome == Outcome::Ok && r[0].value == 0));
  CHECK((r[1].outcome == Outcome::Ok && r[1].value == 1));
  CHECK((r[2].outcome == Outcome::Rejected && r[2].value == 1));
  CHECK((r[3].outcome == Outcome::Ok && r[3].value == 1));
  CHECK((r[4].outcome == Outcome::Ok && r[4].value == 2));
  CHECK((r[5].outcome == Outcome::Rejected && r[5].value == 2));
  CHECK(b.store->version(0) == 2);
  CHECK(dsimtest::figure(*b.store, "reads") == 2);
  CHECK(dsimtest::figure(*b.store, "writes") == 4);
  CHECK(dsimtest::figure(*b.store, "conflicts") == 2);
}

TEST_CASE("occ store: requests are serialized, of two writes of one version, the first wins") {
  StoreBench b(store_config(1_ms));
  b.write_at(Time::zero(), 1, 0);
  b.write_at(Time::zero(), 2, 0);
  b.read_at(Time::zero(), 3);
  b.h.run();
  const auto& r = b.probe->received;
  REQUIRE(r.size() == 3);
  CHECK((r[0].call_id == 1 && r[0].outcome == Outcome::Ok && r[0].at == at_ms(1)));
  CHECK((r[1].call_id == 2 && r[1].outcome == Outcome::Rejected && r[1].at == at_ms(2)));
  CHECK((r[2].call_id == 3 && r[2].value == 1 && r[2].at == at_ms(3)));
  CHECK(dsimtest::figure(*b.store, "queue_max") == 2);
}

TEST_CASE("occ store: keys have their own versions, unknown keys and verbs are errors") {
  StoreBench b(store_config(1_ms, 2));
  b.write_at(Time::zero(), 1, 0, 1);  // key 1 -> version 1
  b.read_at(at_ms(10), 2, 0);         // key 0 untouched
  b.read_at(at_ms(20), 3, 2);         // no key 2
  b.h.sim.schedule_at(at_ms(30), SendOcc{&b.h.cluster, b.probe_id, b.store_id, 4, 0, 0, 9});
  b.h.sim.schedule_at(at_ms(40), dsimtest::SendRequest{&b.h.cluster, b.probe_id, b.store_id, 5});
  b.h.run();
  const auto& r = b.probe->received;
  REQUIRE(r.size() == 5);
  CHECK((r[0].outcome == Outcome::Ok && r[0].value == 1));
  CHECK((r[1].outcome == Outcome::Ok && r[1].value == 0));
  CHECK(r[2].outcome == Outcome::Error);
  CHECK(r[3].outcome == Outcome::Error);
  CHECK((r[4].call_id == 5 && r[4].outcome == Outcome::Ok && r[4].value == 0));  // a plain read
  CHECK(dsimtest::figure(*b.store, "errors") == 2);
}

TEST_CASE("occ store: a crash loses the queue but not the versions") {
  StoreBench b(store_config(10_ms));
  b.write_at(Time::zero(), 1, 0);                  // done at 10ms: version 1
  b.write_at(Time::zero(), 2, 1);                  // in service 10-20ms: lost
  b.write_at(Time::zero(), 3, 1);                  // waiting: lost
  b.h.faults.crash(at_ms(15), b.store_id, 10_ms);  // back at 25ms
  b.read_at(at_ms(30), 4);
  b.h.run();
  const auto& r = b.probe->received;
  REQUIRE(r.size() == 2);
  CHECK((r[0].call_id == 1 && r[0].outcome == Outcome::Ok));
  CHECK((r[1].call_id == 4 && r[1].value == 1 && r[1].at == at_ms(40)));
}

TEST_CASE("occ client: uncontended, one write is one read and one conditional write") {
  dsimtest::ModelHarness h(3, Time::zero(), at_ms(1000));
  auto* store = h.build<OccStore>("store", 1, store_config(1_ms)).at(0);
  auto* client =
      h.build<OccClient>("client", 1,
                         client_config(models::BackoffKind::Exponential, models::Jitter::Full))
          .at(0);
  h.run();
  CHECK(client->phase() == OccClient::Phase::Done);
  CHECK(client->finished_at() == at_ms(2));
  CHECK(store->version(0) == 1);
  CHECK(h.recorder.totals().requests == 1);
  CHECK(h.recorder.totals().succeeded() == 1);
  CHECK(h.recorder.totals().attempts == 1);
  CHECK(h.recorder.latency().max_ns() == 2'000'000);
  CHECK(dsimtest::figure(*client, "calls") == 2);
  CHECK(dsimtest::figure(*client, "write_calls") == 1);
  CHECK(dsimtest::figure(*client, "conflicts") == 0);
  CHECK(dsimtest::figure(*client, "completion_time_ms") == Approx(2.0));
}

TEST_CASE("occ client: the loser of a conflict backs off, reads again and writes again") {
  // Both read version 0 (served 0-1ms and 1-2ms); the first write (2-3ms) wins, the second
  // (3-4ms) conflicts; its client waits the constant 10ms backoff, then reads (14-15ms) and
  // writes (15-16ms) successfully.
  dsimtest::ModelHarness h(3, Time::zero(), at_ms(1000));
  auto* store = h.build<OccStore>("store", 1, store_config(1_ms)).at(0);
  auto clients = h.build<OccClient>(
      "client", 2, client_config(models::BackoffKind::Constant, models::Jitter::None));
  h.run();
  std::vector<Time> finished{clients[0]->finished_at(), clients[1]->finished_at()};
  std::sort(finished.begin(), finished.end());
  CHECK(finished[0] == at_ms(3));
  CHECK(finished[1] == at_ms(16));
  CHECK(store->version(0) == 2);
  CHECK(dsimtest::figure(*store, "reads") == 3);
  CHECK(dsimtest::figure(*store, "writes") == 3);
  CHECK(dsimtest::figure(*store, "conflicts") == 1);
  CHECK(h.recorder.totals().requests == 2);
  CHECK(h.recorder.totals().attempts == 3);  // 1 + 2
  CHECK(dsimtest::figure(*clients[0], "conflicts") + dsimtest::figure(*clients[1], "conflicts") ==
        1);
}

TEST_CASE("occ client: un-jittered exponential backoff between conflicts, up to max_attempts") {
  dsimtest::ModelHarness h(3, Time::zero(), at_ms(1000));
  auto s = std::make_unique<ScriptedStore>(Outcome::Rejected);
  ScriptedStore* store = s.get();
  h.add_process("store", std::move(s));
  auto config = client_config(models::BackoffKind::Exponential, models::Jitter::None);
  config.retry.max_attempts = 5;
  auto* client = h.build<OccClient>("client", 1, config).at(0);
  h.run();
  // Waits of 10, 20, 40, 80 ms after the conflicts (zero-latency network, instant store).
  CHECK(store->reads == std::vector<Time>{at_ms(0), at_ms(10), at_ms(30), at_ms(70), at_ms(150)});
  CHECK(store->writes == store->reads);
  CHECK(store->expected == std::vector<std::uint64_t>(5, 7));  // the version it read
  CHECK(h.recorder.totals().requests == 1);
  CHECK(h.recorder.totals().attempts == 5);
  CHECK(h.recorder.totals().by_outcome[static_cast<std::size_t>(Outcome::Rejected)] == 1);
  CHECK(dsimtest::figure(*client, "conflicts") == 5);
  CHECK(dsimtest::figure(*client, "writes_failed") == 1);
  CHECK(client->phase() == OccClient::Phase::Done);
}

TEST_CASE("occ client: jittered waits stay within the backoff") {
  dsimtest::ModelHarness h(3, Time::zero(), at_ms(100'000));
  auto s = std::make_unique<ScriptedStore>(Outcome::Rejected);
  ScriptedStore* store = s.get();
  h.add_process("store", std::move(s));
  auto config = client_config(models::BackoffKind::Exponential, models::Jitter::Equal);
  config.retry.max_attempts = 12;
  h.build<OccClient>("client", 1, config);
  h.run();
  REQUIRE(store->reads.size() == 12);
  for (std::size_t n = 1; n < store->reads.size(); ++n) {
    const double ceiling = std::min(10.0 * std::pow(2.0, static_cast<double>(n - 1)), 2000.0);
    const double wait = (store->reads[n] - store->reads[n - 1]).millis();
    CHECK(wait >= ceiling / 2);
    CHECK(wait <= ceiling);
  }
}

TEST_CASE("occ client: an unanswered call times out and the attempt is retried") {
  dsimtest::ModelHarness h(3, Time::zero(), at_ms(1000));
  auto s = std::make_unique<ScriptedStore>(Outcome::Ok, /*silent_reads=*/1);
  ScriptedStore* store = s.get();
  h.add_process("store", std::move(s));
  auto config = client_config(models::BackoffKind::Constant, models::Jitter::None);
  config.timeout = 50_ms;
  auto* client = h.build<OccClient>("client", 1, config).at(0);
  h.run();
  CHECK(store->reads == std::vector<Time>{at_ms(0), at_ms(60)});  // 50ms timeout + 10ms backoff
  CHECK(client->finished_at() == at_ms(60));
  CHECK(h.recorder.totals().attempts == 2);
  CHECK(dsimtest::figure(*client, "timeouts") == 1);
}

TEST_CASE("occ client: an Error answer ends the write at once (no retry)") {
  dsimtest::ModelHarness h(3, Time::zero(), at_ms(1000));
  auto s = std::make_unique<ScriptedStore>(Outcome::Error);
  ScriptedStore* store = s.get();
  h.add_process("store", std::move(s));
  auto* client =
      h.build<OccClient>("client", 1,
                         client_config(models::BackoffKind::Exponential, models::Jitter::Full))
          .at(0);
  h.run();
  CHECK(store->writes.size() == 1);
  CHECK(h.recorder.totals().by_outcome[static_cast<std::size_t>(Outcome::Error)] == 1);
  CHECK(client->phase() == OccClient::Phase::Done);
  CHECK(dsimtest::figure(*client, "writes_done") == 0);
}

TEST_CASE("occ client: `writes` successful writes, one after the other") {
  dsimtest::ModelHarness h(3, Time::zero(), at_ms(10'000));
  auto* store = h.build<OccStore>("store", 1, store_config(1_ms)).at(0);
  auto config = client_config(models::BackoffKind::Exponential, models::Jitter::Full);
  config.writes = 3;
  auto clients = h.build<OccClient>("client", 4, config);
  h.run();
  CHECK(store->version(0) == 12);
  CHECK(h.recorder.totals().requests == 12);
  CHECK(h.recorder.totals().succeeded() == 12);
  for (const OccClient* c : clients) {
    CHECK(c->writes_done() == 3);
    CHECK(c->phase() == OccClient::Phase::Done);
  }
  CHECK(dsimtest::figure(*clients[0], "unfinished_clients") == 0);
}

TEST_CASE("occ client: start_spread starts the clients at uniform times between 0 and the spread") {
  dsimtest::ModelHarness h(3, Time::zero(), at_ms(1000));
  auto s = std::make_unique<ScriptedStore>(Outcome::Ok);
  ScriptedStore* store = s.get();
  h.add_process("store", std::move(s));
  auto config = client_config(models::BackoffKind::Exponential, models::Jitter::Full);
  config.start_spread = 100_ms;
  h.build<OccClient>("client", 20, config);
  h.run();
  REQUIRE(store->reads.size() == 20);
  std::vector<Time> starts = store->reads;
  std::sort(starts.begin(), starts.end());
  CHECK(std::adjacent_find(starts.begin(), starts.end()) == starts.end());  // all distinct
  CHECK(starts.front() >= Time::zero());
  CHECK(starts.back() < at_ms(100));
  CHECK(starts.back() - starts.front() > 50_ms);  // 20 uniform draws span most of the range
}

TEST_CASE("occ client: a crash abandons the write in flight, the restart completes it") {
  dsimtest::ModelHarness h(3, Time::zero(), at_ms(1000));
  auto* store = h.build<OccStore>("store", 1, store_config(10_ms)).at(0);
  auto* client =
      h.build<OccClient>("client", 1,
                         client_config(models::BackoffKind::Exponential, models::Jitter::Full))
          .at(0);
  h.faults.crash(at_ms(5), h.nodes("client").at(0), 10_ms);  // read in service; back at 15ms
  h.run();
  CHECK(h.recorder.abandoned_requests() == 1);
  CHECK(client->writes_done() == 1);
  CHECK(store->version(0) == 1);
  CHECK(dsimtest::figure(*client, "late_responses") == 0);  // the old answer was lost
  CHECK(client->finished_at() == at_ms(35));                // read 15-25, write 25-35
}

TEST_CASE("occ client and store: steady contention allocates nothing") {
  dsimtest::ModelHarness h(3, Time::zero(), at_ms(100'000));
  h.build<OccStore>("store", 1, store_config(100_us));
  auto config = client_config(models::BackoffKind::Exponential, models::Jitter::Full, 1_ms);
  config.writes = 100'000;
  auto clients = h.build<OccClient>("client", 8, config);
  h.cluster.start();
  h.sim.run_until(at_ms(1000));
  const std::uint64_t before = allocation_count();
  h.sim.run_until(at_ms(5000));
  CHECK(allocation_count() - before == 0);
  CHECK(clients[0]->writes_done() > 100);
}
