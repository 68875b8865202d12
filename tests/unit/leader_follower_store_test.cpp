// The leader-follower store, mechanics: forwarding to the leader, acknowledgement by replication
// mode, committed-only reads, catching up from the backlog or a snapshot, failover and the writes
// it loses, an old leader rebuilt, and the checker fed with the ground truth.
#include <catch2/catch.hpp>

#include <vector>

#include "models/replication/leader_follower_store.hpp"
#include "sim/cluster.hpp"
#include "sim/simulator.hpp"
#include "tests/model_harness.hpp"
#include "tests/store_bench.hpp"
#include "tests/test_time.hpp"

using namespace sim;
using models::LeaderFollowerStore;
using models::LeaderFollowerStoreConfig;
using models::Outcome;
using models::ReplicationLog;
using models::ReplicationMode;

namespace {

using dsimtest::StoreBench;
using Bench = StoreBench<LeaderFollowerStore>;
using Client = dsimtest::VersionProbe;

LeaderFollowerStoreConfig config(ReplicationMode mode) {
  LeaderFollowerStoreConfig c;
  c.replication = mode;
  c.keys = 100;
  return c;
}

constexpr std::uint8_t kRead = models::kOpRead;
constexpr std::uint8_t kWrite = models::kOpWrite;

}  // namespace

TEST_CASE("leader_follower_store: writes reach the leader, sync acknowledges once all have it") {
  Bench b(config(ReplicationMode::Sync));
  b.run_until(at_ms(2'000));
  const std::size_t leader = b.leader();
  REQUIRE(leader < 3);
  const std::size_t follower = (leader + 1) % 3;
  // A write sent to a follower: forwarded (1 ms), shipped (1 ms), acknowledged (1 ms), answered
  // straight to the client (1 ms) after the client's own 1 ms: 5 ms.
  b.send(at_ms(3'000), follower, 1, kWrite, 7);
  b.run_until(at_ms(3'100));
  const Client::Received* w = b.client->answer(1);
  REQUIRE(w != nullptr);
  CHECK(w->outcome == Outcome::Ok);
  CHECK(w->at == at_ms(3'005));
  CHECK(ReplicationLog::term_of(w->value) == b.stores[leader]->log().last_term());
  // A copy: `w` points into the client's answers, which later answers may move.
  const std::uint64_t written = w->value;
  // Every replica has it committed soon after (the next beat tells the followers the commit).
  b.run_until(at_ms(3'300));
  for (const LeaderFollowerStore* s : b.stores) CHECK(s->version_of(7) == written);
  // A read at a follower is forwarded to the leader and sees it.
  b.send(at_ms(3'400), follower, 2, kRead, 7);
  b.send(at_ms(3'400), follower, 3, kRead, 8);      // never written: version 0
  b.send(at_ms(3'400), follower, 4, kRead, 1'000);  // no such key: Error
  b.run_until(at_ms(3'500));
  CHECK(b.client->answer(2)->value == written);
  CHECK(b.client->answer(2)->at == at_ms(3'403));
  CHECK((b.client->answer(3)->outcome == Outcome::Ok && b.client->answer(3)->value == 0));
  CHECK(b.client->answer(4)->outcome == Outcome::Error);
  CHECK(b.figure("forwards") == 3);
  CHECK(b.figure("writes_acked") == 1);
  CHECK(b.figure("stale_reads") == 0);
}

TEST_CASE("leader_follower_store: async acknowledges at once, and a follower read can be stale") {
  LeaderFollowerStoreConfig c = config(ReplicationMode::Async);
  c.replication_lag = 50_ms;
  c.read_from = models::ReadFrom::Any;
  Bench b(c);
  b.run_until(at_ms(2'000));
  const std::size_t leader = b.leader();
  REQUIRE(leader < 3);
  const std::size_t follower = (leader + 1) % 3;
  b.send(at_ms(3'000), leader, 1, kWrite, 7);
  b.send(at_ms(3'010), follower, 2, kRead, 7);  // before the write is shipped: stale
  b.send(at_ms(3'200), follower, 3, kRead, 7);  // after it and the next beat: fresh
  b.run_until(at_ms(3'300));
  CHECK(b.client->answer(1)->at == at_ms(3'002));  // no follower waited for
  CHECK(b.client->answer(2)->value == 0);
  CHECK(b.client->answer(3)->value == b.client->answer(1)->value);
  CHECK(b.figure("stale_reads") == 1);
  CHECK(b.figure("follower_reads") == 2);
}

TEST_CASE("leader_follower_store: semi_sync needs sync_acks followers, sync all of them") {
  for (const ReplicationMode mode : {ReplicationMode::SemiSync, ReplicationMode::Sync}) {
    INFO("mode " << static_cast<int>(mode));
    LeaderFollowerStoreConfig c = config(mode);
    c.ack_timeout = 500_ms;
    Bench b(c);
    b.run_until(at_ms(2'000));
    const std::size_t leader = b.leader();
    REQUIRE(leader < 3);
    b.h.cluster.crash(b.h.nodes("store")[(leader + 1) % 3]);  // one follower down
    b.send(at_ms(3'000), leader, 1, kWrite, 7);
    b.run_until(at_ms(4'000));
    const Client::Received* a = b.client->answer(1);
    REQUIRE(a != nullptr);
    if (mode == ReplicationMode::SemiSync) {
      CHECK(a->outcome == Outcome::Ok);
      CHECK(a->at == at_ms(3'004));
    } else {  // answered at the first beat after ack_timeout
      CHECK(a->outcome == Outcome::Timeout);
      CHECK(a->at >= at_ms(3'500));
      CHECK(b.figure("writes_failed") == 1);
    }
  }
}

TEST_CASE("leader_follower_store: a failover loses the acknowledged writes not yet shipped") {
  LeaderFollowerStoreConfig c = config(ReplicationMode::Async);
  c.replication_lag = 200_ms;  // ships late: a crash in between loses the writes
  Bench b(c);
  b.run_until(at_ms(2'000));
  const std::size_t old = b.leader();
  REQUIRE(old < 3);
  for (std::uint64_t k = 0; k < 5; ++k) b.send(at_ms(3'000), old, k + 1, kWrite, k);
  b.send(at_ms(2'500), old, 10, kWrite, 50);  // shipped before the crash: survives
  b.run_until(at_ms(3'100));
  for (std::uint64_t k = 0; k < 5; ++k) CHECK(b.client->answer(k + 1)->outcome == Outcome::Ok);
  b.h.cluster.crash(b.h.nodes("store")[old]);
  b.run_until(at_ms(6'000));
  const std::size_t next = b.leader();
  REQUIRE(next < 3);
  REQUIRE(next != old);
  CHECK(b.stores[next]->version_of(50) == b.client->answer(10)->value);
  for (std::uint64_t k = 0; k < 5; ++k) CHECK(b.stores[next]->version_of(k) == 0);
  // The old leader comes back with the five in its log: rebuilt from a snapshot, it agrees.
  b.h.cluster.restart(b.h.nodes("store")[old]);
  b.send(at_ms(7'000), next, 20, kWrite, 60);
  b.run_until(at_ms(8'000));
  CHECK(b.figure("snapshots") >= 1);
  for (const LeaderFollowerStore* s : b.stores) {
    CHECK(s->version_of(60) == b.client->answer(20)->value);
    for (std::uint64_t k = 0; k < 5; ++k) CHECK(s->version_of(k) == 0);
    CHECK(s->log().last_index() == b.stores[next]->log().last_index());
  }
  CHECK(b.figure("lost_writes") == 5);  // the checker, from the surviving history
  CHECK(b.figure("writes_acked") == 7);
}

TEST_CASE("leader_follower_store: a lagging follower catches up from the backlog, or a snapshot") {
  for (const std::int64_t backlog : {1024, 16}) {
    INFO("backlog " << backlog);
    LeaderFollowerStoreConfig c = config(ReplicationMode::Async);
    c.backlog = backlog;
    Bench b(c);
    b.run_until(at_ms(2'000));
    const std::size_t leader = b.leader();
    REQUIRE(leader < 3);
    const std::size_t lagging = (leader + 1) % 3;
    b.h.cluster.crash(b.h.nodes("store")[lagging]);
    for (std::uint64_t i = 0; i < 40; ++i) b.send(at_ms(2'100 + i), leader, i + 1, kWrite, i);
    b.run_until(at_ms(2'500));
    b.h.cluster.restart(b.h.nodes("store")[lagging]);
    b.run_until(at_ms(3'500));
    CHECK(b.stores[lagging]->log().last_index() == b.stores[leader]->log().last_index());
    for (std::uint64_t i = 0; i < 40; ++i)
      CHECK(b.stores[lagging]->version_of(i) == b.stores[leader]->version_of(i));
    if (backlog == 16) {
      CHECK(b.figure("snapshots") == 1);
    } else {
      CHECK(b.figure("snapshots") == 0);
      CHECK(b.figure("entries_resent") == 40);
    }
  }
}

TEST_CASE("leader_follower_store: the configuration's checks") {
  LeaderFollowerStoreConfig c = config(ReplicationMode::SemiSync);
  c.sync_acks = 3;
  const auto problems = LeaderFollowerStore::check(c, 3);
  REQUIRE(problems.size() == 1);
  CHECK(problems[0].field == "sync_acks");
  CHECK(problems[0].message ==
        "expected fewer than the store's 3 replicas (the followers that can acknowledge), got 3");
  CHECK(LeaderFollowerStore::check(c, 4).empty());
  c.replication = ReplicationMode::Async;  // sync_acks is semi_sync's only
  CHECK(LeaderFollowerStore::check(c, 3).empty());
}
