// Shuffle sharding mechanics: the shard function (k distinct backends, a pure function of the
// seed and the tenant's name), the table of a run's tenants, and the load balancer with shards:
// a tenant's requests reach only its shard, round robin turns per tenant, a shard with none of
// its backends in rotation is answered Rejected (or falls back, when asked), panic mode stays in
// the shard, every replica agrees, bad sizes are refused, and nothing allocates per request.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/balancing/load_balancer.hpp"
#include "models/balancing/shuffle_shard.hpp"
#include "models/clients/open_loop_client.hpp"
#include "models/services/server.hpp"
#include "models/shared/health.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/tenant_overload.hpp"

using namespace sim;
using models::LbPolicy;
using models::LoadBalancer;
using models::LoadBalancerConfig;
using models::Outcome;
using models::RpcRequest;
using models::ShuffleShards;

namespace {

/// Records which tenant's requests it received; answers at once with `outcome`. Answers health
/// probes, `ready` or not.
class Backend : public Process {
 public:
  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    if (message.holds<models::HealthProbe>()) {
      node.send(message.from, models::HealthReply{.seq = message.as<models::HealthProbe>().seq,
                                                  .ready = static_cast<std::uint8_t>(ready)});
      return;
    }
    const auto request = message.as<RpcRequest>();
    tenants.push_back(request.tenant);
    node.send(message.from, models::RpcResponse{.call_id = request.call_id, .outcome = outcome});
  }
  Outcome outcome = Outcome::Ok;
  bool ready = true;
  std::vector<std::uint16_t> tenants;
};

struct Send {
  Cluster* cluster;
  NodeId from, to;
  std::uint64_t call_id;
  std::uint16_t tenant;
  void operator()() const {
    cluster->node(from).send(to, RpcRequest{.call_id = call_id, .tenant = tenant});
  }
};

struct SetReady {
  Backend* backend;
  bool ready;
  void operator()() const { backend->ready = ready; }
};

/// `n` backends ("api-0" ...), tenants "t0" .. "t<tenants-1>" in the recorder, one client probe
/// and `lbs` load balancers with shuffle shards of `k`.
struct Bench {
  Bench(std::size_t n, std::int64_t k, std::size_t tenants, LoadBalancerConfig config = {},
        std::size_t lbs = 1)
      : h(3, Time::zero(), at_ms(10'000)) {
    for (std::size_t t = 0; t < tenants; ++t) h.recorder.group("t" + std::to_string(t));
    auto p = std::make_unique<dsimtest::ResponseProbe>();
    probe = p.get();
    probe_id = h.add_process("client", std::move(p));
    for (std::size_t i = 0; i < n; ++i) {
      auto b = std::make_unique<Backend>();
      backends.push_back(b.get());
      h.add_process("api", std::move(b));
    }
    config.backends.name = "api";
    config.shuffle_shard_size = k;
    lb = h.build<LoadBalancer>("lb", lbs, config);
  }
  void send_at(Time t, std::uint64_t call_id, std::uint16_t tenant, std::size_t to_lb = 0) {
    h.sim.schedule_at(t, Send{&h.cluster, probe_id, h.nodes("lb").at(to_lb), call_id, tenant});
  }
  /// The backends that received requests of `tenant`, ascending.
  std::vector<std::uint32_t> reached_by(std::uint16_t tenant) const {
    std::vector<std::uint32_t> out;
    for (std::uint32_t b = 0; b < backends.size(); ++b)
      if (std::count(backends[b]->tenants.begin(), backends[b]->tenants.end(), tenant) > 0)
        out.push_back(b);
    return out;
  }
  std::vector<std::uint32_t> shard(std::uint16_t tenant, std::size_t of_lb = 0) const {
    const auto s = lb.at(of_lb)->shuffle_shards().of(tenant);
    return {s.begin(), s.end()};
  }
  std::size_t outcomes(Outcome o) const {
    return static_cast<std::size_t>(std::count_if(probe->received.begin(), probe->received.end(),
                                                  [&](const auto& r) { return r.outcome == o; }));
  }

  dsimtest::ModelHarness h;
  dsimtest::ResponseProbe* probe;
  NodeId probe_id;
  std::vector<Backend*> backends;
  std::vector<LoadBalancer*> lb;
};

}  // namespace

TEST_CASE("shuffle_shard: k distinct ascending backends, a function of seed and name only") {
  for (std::uint32_t k = 1; k <= 8; ++k) {
    const auto s = models::shuffle_shard("tenant-a", 7, 8, k);
    REQUIRE(s.size() == k);
    CHECK(std::is_sorted(s.begin(), s.end()));
    CHECK(std::adjacent_find(s.begin(), s.end()) == s.end());
    CHECK(s.back() < 8);
  }
  CHECK(models::shuffle_shard("tenant-a", 7, 8, 8) ==
        std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5, 6, 7});
  CHECK(models::shuffle_shard("tenant-a", 7, 100, 5) ==
        models::shuffle_shard("tenant-a", 7, 100, 5));
  // Another seed or another name gives another shard (for these, checked: C(100, 5) is 75e6).
  CHECK(models::shuffle_shard("tenant-a", 8, 100, 5) !=
        models::shuffle_shard("tenant-a", 7, 100, 5));
  CHECK(models::shuffle_shard("tenant-b", 7, 100, 5) !=
        models::shuffle_shard("tenant-a", 7, 100, 5));
}

TEST_CASE("shuffle shards follow the tenant's name, not its index") {
  const ShuffleShards two({"a", "b"}, 3, 16, 4);
  const ShuffleShards three({"new", "a", "b"}, 3, 16, 4);  // a client component added first
  CHECK(two.tenants() == 2);
  CHECK(three.tenants() == 3);
  auto v = [](std::span<const std::uint32_t> s) {
    return std::vector<std::uint32_t>(s.begin(), s.end());
  };
  CHECK(v(two.of(0)) == v(three.of(1)));
  CHECK(v(two.of(1)) == v(three.of(2)));
  CHECK(v(three.of(0)) == models::shuffle_shard("new", 3, 16, 4));
  // An index beyond the named tenants is the anonymous tenant: the empty name's shard.
  CHECK(v(two.of(2)) == models::shuffle_shard("", 3, 16, 4));
  CHECK(v(two.of(65535)) == v(two.of(2)));
  CHECK(v(three.of(3)) == v(two.of(2)));
}

TEST_CASE("load balancer: a tenant's requests reach only its shuffle shard, in turn") {
  LoadBalancerConfig c;
  c.policy = LbPolicy::RoundRobin;
  Bench b(8, 2, 6, c);
  std::uint64_t id = 0;
  for (int i = 0; i < 12; ++i)
    for (std::uint16_t t = 0; t < 6; ++t) b.send_at(at_ms(1 + i), ++id, t);
  b.h.run();
  REQUIRE(b.probe->received.size() == 72);
  CHECK(b.outcomes(Outcome::Ok) == 72);
  for (std::uint16_t t = 0; t < 6; ++t) {
    const auto shard = b.shard(t);
    CHECK(shard == models::shuffle_shard("t" + std::to_string(t), 0, 8, 2));
    CHECK(b.reached_by(t) == shard);
    // Round robin per tenant: each of its two backends got exactly half of its 12 requests,
    // however the other tenants' requests interleave.
    for (const std::uint32_t backend : shard) {
      const auto& got = b.backends[backend]->tenants;
      CHECK(std::count(got.begin(), got.end(), t) == 6);
    }
  }
  CHECK(dsimtest::figure(*b.lb[0], "shard_exhausted") == 0);
  CHECK(dsimtest::figure(*b.lb[0], "shard_fallbacks") == 0);
}

TEST_CASE("load balancer: every replica computes the same shuffle shards") {
  Bench b(16, 3, 40, {}, 3);
  b.h.cluster.start();
  for (std::uint16_t t = 0; t <= 40; ++t) {  // 40: the anonymous tenant
    CHECK(b.shard(t, 1) == b.shard(t, 0));
    CHECK(b.shard(t, 2) == b.shard(t, 0));
  }
  std::set<std::vector<std::uint32_t>> distinct;
  for (std::uint16_t t = 0; t < 40; ++t) distinct.insert(b.shard(t));
  CHECK(distinct.size() > 30);  // C(16, 3) = 560 shards: collisions among 40 are few
}

namespace {

LoadBalancerConfig checked(LoadBalancerConfig c) {
  c.health_check.enabled = true;
  c.health_check.interval = 100_ms;
  c.health_check.timeout = 20_ms;
  c.health_check.unhealthy_threshold = 1;
  c.health_check.healthy_threshold = 1;
  return c;
}

/// The index of a tenant whose shard is exactly {x, y}, among tenants "t0" .. "t<n-1>"; and one
/// whose shard avoids both. Fails the test when there is none.
struct Pick {
  std::uint16_t hit, spared;
};
Pick tenants_around(const Bench& b, std::size_t tenants) {
  const auto first = b.shard(0);
  for (std::uint16_t t = 1; t < tenants; ++t) {
    const auto s = b.shard(t);
    if (std::find_first_of(s.begin(), s.end(), first.begin(), first.end()) == s.end())
      return {0, t};
  }
  FAIL("no tenant avoids t0's shard");
  return {0, 0};
}

}  // namespace

TEST_CASE("load balancer: a shard with none of its backends in rotation is answered Rejected") {
  for (const bool fallback : {false, true}) {
    LoadBalancerConfig c = checked({});
    c.shuffle_fallback = fallback;
    Bench b(8, 2, 20, c);
    b.h.cluster.start();
    const Pick p = tenants_around(b, 20);
    for (const std::uint32_t backend : b.shard(p.hit)) {
      b.h.sim.schedule_at(at_ms(50), SetReady{b.backends[backend], false});
      b.h.sim.schedule_at(at_ms(2000), SetReady{b.backends[backend], true});
    }
    // Probes at 0, 100, 200 ms ...: from the one at 100 ms, t0's two backends are out; from
    // the one at 2000 ms, back.
    std::uint64_t id = 0;
    for (int i = 0; i < 10; ++i) {
      b.send_at(at_ms(500 + 100 * i), ++id, p.hit);
      b.send_at(at_ms(500 + 100 * i), ++id, p.spared);
    }
    b.send_at(at_ms(3000), ++id, p.hit);
    b.h.sim.run_until(at_ms(4000));
    REQUIRE(b.probe->received.size() == 21);
    for (const auto& r : b.probe->received) {
      const bool hit = r.call_id % 2 == 1 && r.call_id < 21;
      CHECK(r.outcome == (hit && !fallback ? Outcome::Rejected : Outcome::Ok));
    }
    CHECK(dsimtest::figure(*b.lb[0], "shard_exhausted") == (fallback ? 0 : 10));
    CHECK(dsimtest::figure(*b.lb[0], "no_healthy_backend") == (fallback ? 0 : 10));
    CHECK(dsimtest::figure(*b.lb[0], "shard_fallbacks") == (fallback ? 10 : 0));
    // The spared tenant never left its shard; the hit one did only by falling back.
    CHECK(b.reached_by(p.spared) == b.shard(p.spared));
    const auto hit_reached = b.reached_by(p.hit);
    const auto hit_shard = b.shard(p.hit);
    if (fallback) {
      CHECK(hit_reached.size() > 2);
    } else {  // only the request at 3000 ms, after the return: one of its shard
      REQUIRE(hit_reached.size() == 1);
      CHECK(std::count(hit_shard.begin(), hit_shard.end(), hit_reached[0]) == 1);
    }
  }
}

TEST_CASE("load balancer: in panic mode a tenant's requests stay in its shard") {
  LoadBalancerConfig c = checked({});
  c.panic_threshold = 100;  // any backend out of rotation: panic
  Bench b(8, 2, 20, c);
  b.h.cluster.start();
  const Pick p = tenants_around(b, 20);
  for (const std::uint32_t backend : b.shard(p.hit))
    b.h.sim.schedule_at(at_ms(50), SetReady{b.backends[backend], false});
  std::uint64_t id = 0;
  for (int i = 0; i < 10; ++i) b.send_at(at_ms(500 + 10 * i), ++id, p.hit);
  b.h.sim.run_until(at_ms(1000));
  CHECK(b.outcomes(Outcome::Ok) == 10);  // the scripted backends answer, ready or not
  CHECK(b.reached_by(p.hit) == b.shard(p.hit));
  CHECK(dsimtest::figure(*b.lb[0], "panic_forwarded") == 10);
  CHECK(dsimtest::figure(*b.lb[0], "shard_exhausted") == 0);
}

TEST_CASE("load balancer: a shuffle shard larger than the backends is refused") {
  dsimtest::ModelHarness h(1, Time::zero(), at_ms(10));
  h.add_nodes("api", 4);
  LoadBalancerConfig c;
  c.backends.name = "api";
  c.shuffle_shard_size = 5;
  CHECK_THROWS_WITH(h.build<LoadBalancer>("lb", 1, c),
                    "shuffle_shard_size: 5 backends per tenant, but 'api' has 4");
  c.shuffle_shard_size = 4;
  CHECK_NOTHROW(h.build<LoadBalancer>("lb2", 1, c));
}

TEST_CASE("load balancer: shuffle sharding allocates nothing per request") {
  for (const LbPolicy p :
       {LbPolicy::RoundRobin, LbPolicy::PowerOfTwo, LbPolicy::LeastOutstanding}) {
    dsimtest::ModelHarness h(9, at_ms(100), at_ms(2000));
    dsimtest::build_tenant_servers(h);
    LoadBalancerConfig config = checked({});
    config.policy = p;
    config.backends.name = "api";
    config.shuffle_shard_size = 3;
    config.timeout = 20_ms;
    LoadBalancer* lb = h.build<LoadBalancer>("lb", 1, config).at(0);
    CHECK(dsimtest::steady_state_allocations(h, "lb") == 0);
    CHECK(dsimtest::figure(*lb, "forwarded") > 3000);
    CHECK(lb->shuffle_shards().tenants() == 20);
  }
}
