// Server partitions (bulkheads) and poison requests, with constant service times so that every
// answer time is known exactly: a tenant's flood fills only its own partition while another
// tenant is served at once (and, pooled, is not); the catch-all; a tenant nobody serves; a
// partition's own queue limit and wait figures; a crash empties every partition. Poison: a
// crash and the supervisor's restart, a stall that holds exactly one worker, effect none, and
// retries that carry one poison request to every replica.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "models/services/server.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"
#include "tests/unit/caller_owner.hpp"

using namespace sim;
using models::Outcome;
using models::PoisonEffect;
using models::Server;
using models::ServerConfig;
using models::ServerPartitionConfig;

namespace {

ServerConfig constant_service(Duration service, int workers) {
  ServerConfig config;
  config.workers = workers;
  config.service_time = Distribution::constant(static_cast<double>(service.ns()));
  return config;
}

// An event that sends RpcRequest{call_id, tenant, poison} from one node to another.
struct SendRpc {
  Cluster* cluster;
  NodeId from, to;
  std::uint64_t call_id;
  std::uint16_t tenant;
  bool poison;
  void operator()() const {
    cluster->node(from).send(
        to, models::RpcRequest{
                .call_id = call_id, .tenant = tenant, .poison = static_cast<std::uint8_t>(poison)});
  }
};

// A probe and a one-node server; the groups "a", "b" and "c" are tenants 0, 1 and 2.
struct Bench {
  static constexpr std::uint16_t kA = 0, kB = 1, kC = 2;
  explicit Bench(const ServerConfig& config, Time end = at_ms(1000)) : h(7, Time::zero(), end) {
    REQUIRE(h.recorder.group("a") == kA);
    REQUIRE(h.recorder.group("b") == kB);
    REQUIRE(h.recorder.group("c") == kC);
    auto p = std::make_unique<dsimtest::ResponseProbe>();
    probe = p.get();
    probe_id = h.add_process("probe", std::move(p));
    server = h.build<Server>("server", 1, config).at(0);
    server_id = h.nodes("server").at(0);
  }
  void send_at(Time t, std::uint64_t call_id, std::uint16_t tenant, bool poison = false) {
    h.sim.schedule_at(t, SendRpc{&h.cluster, probe_id, server_id, call_id, tenant, poison});
  }
  const dsimtest::ResponseProbe::Received* answer(std::uint64_t call_id) const {
    for (const auto& r : probe->received)
      if (r.call_id == call_id) return &r;
    return nullptr;
  }
  double figure(const std::string& name) const { return dsimtest::figure(*server, name); }
  dsimtest::ModelHarness h;
  dsimtest::ResponseProbe* probe;
  Server* server;
  NodeId probe_id, server_id;
};

// 4 workers, service 10ms, queue_limit 3: "a" has 2 workers (and the server's queue limit),
// the catch-all the other 2.
ServerConfig two_partitions() {
  ServerConfig config = constant_service(10_ms, 4);
  config.queue_limit = 3;
  config.partitions = {ServerPartitionConfig{.groups = {"a"}, .workers = 2},
                       ServerPartitionConfig{.groups = {}, .workers = 2}};
  return config;
}

// Tenant "a" floods with 10 requests at 0; tenant "b" sends 2 at 1ms.
void flood(Bench& b) {
  for (std::uint64_t id = 1; id <= 10; ++id) b.send_at(Time::zero(), id, Bench::kA);
  b.send_at(at_ms(1), 101, Bench::kB);
  b.send_at(at_ms(1), 102, Bench::kB);
}

}  // namespace

TEST_CASE("partitions: a flood from one tenant fills only its partition") {
  Bench b(two_partitions());
  flood(b);
  b.h.run();
  REQUIRE(b.probe->received.size() == 12);
  // "a": two served at once (done at 10ms), three queued (its queue_limit is the server's 3),
  // five rejected at 0.
  for (std::uint64_t id = 6; id <= 10; ++id) {
    CHECK(b.answer(id)->outcome == Outcome::Rejected);
    CHECK(b.answer(id)->at == Time::zero());
  }
  CHECK(b.answer(1)->at == at_ms(10));
  CHECK(b.answer(2)->at == at_ms(10));
  CHECK(b.answer(3)->at == at_ms(20));
  CHECK(b.answer(4)->at == at_ms(20));
  CHECK(b.answer(5)->at == at_ms(30));
  // "b" is served at once by its own workers: 1ms + 10ms.
  CHECK(b.answer(101)->outcome == Outcome::Ok);
  CHECK(b.answer(101)->at == at_ms(11));
  CHECK(b.answer(102)->at == at_ms(11));
  CHECK(b.figure("rejected") == 5);
  CHECK(b.figure("partition_rejected[0]") == 5);
  CHECK(b.figure("partition_rejected[1]") == 0);
  CHECK(b.figure("partition_arrivals[0]") == 10);
  CHECK(b.figure("partition_arrivals[1]") == 2);
  CHECK(b.figure("partition_max_queue[0]") == 3);
  CHECK(b.figure("partition_max_queue[1]") == 0);
  // Waits in "a": 0, 0, 10, 10, 20 ms; in "b": none.
  CHECK(b.figure("partition_mean_wait_ms[0]") == Approx(8.0));
  CHECK(b.figure("partition_mean_wait_ms[1]") == 0);
  // Busy over the 1s run: "a" 2 workers x 20ms + 1 x 10ms of 2s; "b" 2 x 10ms of 2s.
  CHECK(b.figure("partition_utilization[0]") == Approx(50.0 / 2000));
  CHECK(b.figure("partition_utilization[1]") == Approx(20.0 / 2000));
  CHECK(b.figure("utilization") == Approx(70.0 / 4000));
  CHECK(b.figure("unpartitioned") == 0);
}

TEST_CASE("partitions: pooled, the same flood makes the other tenant wait or fail") {
  ServerConfig pooled = constant_service(10_ms, 4);
  pooled.queue_limit = 3;
  Bench b(pooled);
  flood(b);
  b.h.run();
  // Four of "a" in service, three queued: "b" finds the queue full.
  CHECK(b.answer(101)->outcome == Outcome::Rejected);
  CHECK(b.answer(102)->outcome == Outcome::Rejected);
  CHECK(b.server->partition_count() == 1);
  // Without partitions the server has no partition figures.
  CHECK_THROWS(b.figure("partition_arrivals[0]"));
}

TEST_CASE("partitions: the catch-all serves every tenant no partition names") {
  ServerConfig config = constant_service(10_ms, 3);
  config.partitions = {ServerPartitionConfig{.groups = {}, .workers = 1},
                       ServerPartitionConfig{.groups = {"a", "b"}, .workers = 2}};
  Bench b(config);
  b.send_at(Time::zero(), 1, Bench::kC);  // unnamed: the catch-all
  b.send_at(Time::zero(), 2, 7);          // never registered (beyond the table): the catch-all
  b.send_at(Time::zero(), 3, Bench::kA);  // "a" and "b" share partition 1
  b.send_at(Time::zero(), 4, Bench::kB);
  b.h.run();
  CHECK(b.answer(1)->at == at_ms(10));
  CHECK(b.answer(2)->at == at_ms(20));  // the catch-all's one worker
  CHECK(b.answer(3)->at == at_ms(10));
  CHECK(b.answer(4)->at == at_ms(10));
  CHECK(b.figure("partition_arrivals[0]") == 2);
  CHECK(b.figure("partition_arrivals[1]") == 2);
}

TEST_CASE("partitions: without a catch-all, a tenant nobody serves is refused at once") {
  ServerConfig config = constant_service(10_ms, 2);
  config.partitions = {ServerPartitionConfig{.groups = {"a"}, .workers = 1},
                       ServerPartitionConfig{.groups = {"b"}, .workers = 1}};
  Bench b(config);
  b.send_at(at_ms(1), 1, Bench::kC);
  b.send_at(at_ms(1), 2, Bench::kA);
  b.h.run();
  CHECK(b.answer(1)->outcome == Outcome::Rejected);
  CHECK(b.answer(1)->at == at_ms(1));
  CHECK(b.answer(2)->outcome == Outcome::Ok);
  CHECK(b.figure("unpartitioned") == 1);
  CHECK(b.figure("rejected") == 1);  // never in the system
  CHECK(b.figure("little_lambda_w") == Approx(b.figure("mean_in_system")).epsilon(1e-9));
}

TEST_CASE("partitions: each has its own queue limit") {
  ServerConfig config = constant_service(10_ms, 2);
  config.queue_limit = 5;
  config.partitions = {ServerPartitionConfig{.groups = {"a"}, .workers = 1, .queue_limit = 0},
                       ServerPartitionConfig{.groups = {}, .workers = 1, .queue_limit = -1}};
  Bench b(config);
  for (std::uint64_t id = 1; id <= 3; ++id) b.send_at(Time::zero(), id, Bench::kA);
  for (std::uint64_t id = 11; id <= 20; ++id) b.send_at(Time::zero(), id, Bench::kB);
  b.h.run();
  CHECK(b.figure("partition_rejected[0]") == 2);  // no queue: busy means rejected
  CHECK(b.figure("partition_rejected[1]") == 0);  // unbounded
  CHECK(b.answer(20)->at == at_ms(100));
}

TEST_CASE("partitions: a crash loses every partition's queue and service") {
  Bench b(two_partitions());
  flood(b);
  b.h.faults.crash(at_ms(5), b.server_id, 100_ms);
  b.h.run();
  // "a": 2 in service and 3 queued; "b": 2 in service. All lost, none answered.
  CHECK(b.figure("lost_in_crash") == 7);
  CHECK(b.probe->received.size() == 5);  // the five rejections
  CHECK(b.server->busy_workers() == 0);
  CHECK(b.server->queued() == 0);
  CHECK(b.server->partition_busy(0) == 0);
  CHECK(b.server->partition_busy(1) == 0);
}

TEST_CASE(
    "poison crash: the node crashes when its service starts and restarts after "
    "restart_after") {
  ServerConfig config = constant_service(10_ms, 2);
  config.poison.effect = PoisonEffect::Crash;
  config.poison.restart_after = 100_ms;
  Bench b(config);
  b.send_at(Time::zero(), 1, Bench::kA);
  b.send_at(at_ms(2), 2, Bench::kA, true);  // poison: crashes the node at 2ms
  b.send_at(at_ms(50), 3, Bench::kA);       // dropped: the node is down
  b.send_at(at_ms(110), 4, Bench::kA);      // served by the restarted node
  b.h.cluster.start();
  b.h.sim.run_until(at_ms(2));
  CHECK(b.h.node("server").state() == NodeState::Crashed);
  b.h.sim.run_until(at_ms(102) - 1_ns);
  CHECK(b.h.node("server").state() == NodeState::Crashed);
  b.h.sim.run_until(at_ms(102));
  CHECK(b.h.node("server").state() == NodeState::Up);
  b.h.sim.run_until(at_ms(1000));
  REQUIRE(b.probe->received.size() == 1);
  CHECK(b.answer(4)->at == at_ms(120));
  CHECK(b.figure("poison_crashes") == 1);
  CHECK(b.figure("lost_in_crash") == 2);  // request 1 in service, and the poison request
  // One fault record, ending at the restart.
  REQUIRE(b.h.faults.log().size() == 1);
  const FaultRecord& record = b.h.faults.log()[0];
  CHECK(record.kind == "crash");
  CHECK(record.target == "server-0");
  CHECK(record.detail == "poison request");
  CHECK(record.start == at_ms(2));
  CHECK(record.end == at_ms(102));
}

TEST_CASE("poison crash: the fault log keeps the first crashes and counts the others") {
  ServerConfig config = constant_service(10_ms, 1);
  config.poison.effect = PoisonEffect::Crash;
  config.poison.restart_after = 1_ms;
  Bench b(config);
  const std::size_t crashes = models::PoisonSupervisor::kLoggedCrashes + 5;
  for (std::size_t i = 0; i < crashes; ++i)
    b.send_at(at_ms(10 * static_cast<std::int64_t>(i)), i + 1, Bench::kA, true);
  b.h.run();
  CHECK(b.figure("poison_crashes") == static_cast<double>(crashes));
  CHECK(b.h.faults.log().size() == models::PoisonSupervisor::kLoggedCrashes);
  CHECK(b.h.faults.unlisted() == 5);
  CHECK(b.h.cluster.counters().restarts == crashes);
}

TEST_CASE("poison crash: the supervisor restarts only the node its crash left down") {
  ServerConfig config = constant_service(10_ms, 1);
  config.poison.effect = PoisonEffect::Crash;
  config.poison.restart_after = 100_ms;
  Bench b(config);
  b.send_at(at_ms(2), 1, Bench::kA, true);
  // Someone else restarts the node at 50ms and crashes it at 60ms for good.
  b.h.faults.crash(at_ms(60), b.server_id);
  b.h.sim.schedule_at(at_ms(50), [&b] { b.h.cluster.restart(b.server_id); });
  b.h.run();
  CHECK(b.h.node("server").state() == NodeState::Crashed);  // not restarted at 102ms
}

TEST_CASE("poison stall: exactly one worker is held for stall_for, then the request fails") {
  ServerConfig config = constant_service(10_ms, 2);
  config.poison.effect = PoisonEffect::Stall;
  config.poison.stall_for = 50_ms;
  Bench b(config);
  b.send_at(Time::zero(), 1, Bench::kA, true);
  for (std::uint64_t id = 2; id <= 5; ++id) b.send_at(Time::zero(), id, Bench::kA);
  b.h.cluster.start();
  b.h.sim.run_until(at_ms(45));
  CHECK(b.server->busy_workers() == 1);  // the stalled one; the other finished 2..5 at 40ms
  b.h.sim.run_until(at_ms(1000));
  CHECK(b.answer(1)->outcome == Outcome::Error);
  CHECK(b.answer(1)->at == at_ms(50));
  // The other worker served 2, 3, 4, 5 one after the other.
  for (std::uint64_t id = 2; id <= 5; ++id) {
    CHECK(b.answer(id)->outcome == Outcome::Ok);
    CHECK(b.answer(id)->at == at_ms(10 * static_cast<std::int64_t>(id - 1)));
  }
  CHECK(b.figure("poison_stalls") == 1);
  CHECK(b.figure("poison_crashes") == 0);
  CHECK(b.figure("errors") == 1);
  CHECK(b.h.node("server").state() == NodeState::Up);
}

TEST_CASE("poison effect none: a poison request is served like any other") {
  Bench b(constant_service(10_ms, 1));
  b.send_at(Time::zero(), 1, Bench::kA, true);
  b.h.run();
  REQUIRE(b.probe->received.size() == 1);
  CHECK(b.answer(1)->outcome == Outcome::Ok);
  CHECK(b.answer(1)->at == at_ms(10));
  CHECK(b.figure("poison_crashes") == 0);
  CHECK(b.figure("poison_stalls") == 0);
}

TEST_CASE("poison refused at arrival does no harm: it never starts") {
  ServerConfig config = constant_service(10_ms, 1);
  config.queue_limit = 0;
  config.poison.effect = PoisonEffect::Crash;
  Bench b(config);
  b.send_at(Time::zero(), 1, Bench::kA);
  b.send_at(at_ms(1), 2, Bench::kA, true);  // finds the worker busy and no queue: Rejected
  b.h.run();
  CHECK(b.answer(2)->outcome == Outcome::Rejected);
  CHECK(b.answer(1)->outcome == Outcome::Ok);
  CHECK(b.figure("poison_crashes") == 0);
}

TEST_CASE("partitions: the steady state allocates nothing per request, stalls included") {
  ServerConfig config = constant_service(1_ms, 3);
  config.partitions = {ServerPartitionConfig{.groups = {"a"}, .workers = 1},
                       ServerPartitionConfig{.groups = {}, .workers = 2}};
  config.poison.effect = PoisonEffect::Stall;
  config.poison.stall_for = 3_ms;
  Bench b(config, at_ms(2000));
  b.h.cluster.start();
  struct Source {  // every 0.7ms a request, of tenants a, b, c in turn; every 10th is poison
    Simulator* sim;
    Cluster* cluster;
    NodeId from, to;
    std::uint64_t n;
    void operator()() const {
      cluster->node(from).send(
          to, models::RpcRequest{.call_id = n,
                                 .tenant = static_cast<std::uint16_t>(n % 3),
                                 .poison = static_cast<std::uint8_t>(n % 10 == 0)});
      sim->schedule_after(700_us, Source{sim, cluster, from, to, n + 1});
    }
  };
  b.h.sim.schedule_at(Time::zero(), Source{&b.h.sim, &b.h.cluster, b.probe_id, b.server_id, 1});
  b.probe->received.reserve(4000);
  b.h.sim.run_until(at_ms(100));
  const std::uint64_t before = allocation_count();
  b.h.sim.run_until(at_ms(1000));
  CHECK(allocation_count() - before == 0);
  CHECK(b.probe->received.size() > 1000);
  CHECK(b.figure("poison_stalls") > 100);
}

namespace {

// One poison request from a caller with `max_attempts` tries (20ms timeout, no backoff) to three
// replicas that crash on it and restart only after the run: how many replicas does it take down?
std::uint64_t replicas_crashed_by_one_poison_request(int max_attempts) {
  dsimtest::ModelHarness h(11, Time::zero(), at_ms(2000));
  ServerConfig config = constant_service(10_ms, 4);
  config.poison.effect = PoisonEffect::Crash;
  config.poison.restart_after = 10'000_ms;
  const std::vector<Server*> servers = h.build<Server>("server", 3, config);
  models::CallerConfig call;
  call.timeout = 20_ms;
  call.retry.max_attempts = max_attempts;
  call.retry.backoff.kind = models::BackoffKind::None;
  auto owner = std::make_unique<test::CallerOwner>(call, h.nodes("server"), &h.recorder);
  test::CallerOwner* caller = owner.get();
  const NodeId client = h.add_process("client", std::move(owner));
  h.sim.schedule_at(at_ms(1), [&h, caller, client] {
    caller->caller.start(h.cluster.node(client), 0, 0, models::Caller::kAnyShard, models::kOpRead,
                         true);
  });
  h.run();
  REQUIRE(caller->done.size() == 1);
  CHECK(caller->done[0].outcome == Outcome::Timeout);
  std::uint64_t crashed = 0;
  for (std::size_t r = 0; r < 3; ++r) {
    crashed += h.node("server", r).state() == NodeState::Crashed;
    CHECK(dsimtest::figure(*servers[r], "poison_crashes") <= 1);  // a down node serves nothing
  }
  return crashed;
}

}  // namespace

TEST_CASE("poison crash with retries: one poison request takes down every replica") {
  CHECK(replicas_crashed_by_one_poison_request(1) == 1);
  CHECK(replicas_crashed_by_one_poison_request(20) == 3);
}
