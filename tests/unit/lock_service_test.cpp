// Lock service and fenced store mechanics, driven by a scripted peer over a zero-latency
// network: grants and fencing tokens, refusals, keep-alives, expiry on the service's clock,
// release, compare-and-swap, the ttl cap, serialized requests, crashes; the store's check.
#include <catch2/catch.hpp>

#include <cstdint>
#include <memory>
#include <variant>
#include <vector>

#include "models/election/fenced_store.hpp"
#include "models/election/lease_protocol.hpp"
#include "models/election/lock_service.hpp"
#include "tests/model_harness.hpp"

namespace {

using models::FencedWrite;
using models::LeaseAcquire;
using models::LeaseKeepAlive;
using models::LeaseRelease;
using models::LeaseReply;

sim::Duration ms(std::int64_t v) {
  return sim::Duration::nanoseconds(v * 1'000'000);
}
sim::Time at_ms(std::int64_t v) {
  return sim::Time::zero() + ms(v);
}

/// Sends its script's messages to node `to` at their times; records every reply.
class Script final : public sim::Process {
 public:
  using Step = std::variant<LeaseAcquire, LeaseKeepAlive, LeaseRelease, FencedWrite>;
  struct Timed {
    sim::Duration at;
    Step message;
  };
  struct Got {
    sim::Time at;
    LeaseReply lease;
    bool accepted = false;
  };

  Script(sim::NodeId to, std::vector<Timed> steps) : to_(to), steps_(std::move(steps)) {}
  void on_start(sim::Node& node) override {
    for (std::size_t i = 0; i < steps_.size(); ++i) node.set_timer(steps_[i].at, {1, i});
  }
  void on_timer(sim::Node& node, sim::TimerTag tag) override {
    std::visit([&](const auto& m) { node.send(to_, m); }, steps_[tag.value].message);
  }
  void on_message(sim::Node& node, const sim::Message& m) override {
    if (m.holds<LeaseReply>())
      got.push_back({node.true_now(), m.as<LeaseReply>()});
    else
      got.push_back({node.true_now(), {}, m.as<models::FencedWriteReply>().accepted != 0});
  }
  std::vector<Got> got;

 private:
  sim::NodeId to_;
  std::vector<Timed> steps_;
};

struct Bench {
  dsimtest::ModelHarness h{1, sim::Time::zero(), at_ms(60'000)};
  models::LockService* service = nullptr;
  std::vector<Script*> clients;

  explicit Bench(models::LockServiceConfig config = {}) {
    service = h.build<models::LockService>("lock", 1, config).front();
  }
  Script& client(std::vector<Script::Timed> steps) {
    auto script = std::make_unique<Script>(h.nodes("lock").front(), std::move(steps));
    Script* raw = script.get();
    h.add_process("client", std::move(script));
    clients.push_back(raw);
    return *raw;
  }
};

LeaseAcquire acquire(std::uint64_t request, std::int64_t ttl_ms, std::uint64_t expect = 0) {
  return {.request = request, .key = 7, .ttl = ms(ttl_ms), .expect_revision = expect};
}

}  // namespace

TEST_CASE("lock service: a free key is granted with a token, a held one is refused") {
  Bench b;
  auto& a = b.client({{ms(0), acquire(1, 1000)}});
  auto& c = b.client({{ms(10), acquire(2, 1000)}});
  b.h.run();
  REQUIRE(a.got.size() == 1);
  CHECK(a.got[0].lease.ok == 1);
  CHECK(a.got[0].lease.revision == 1);  // the first grant's fencing token
  CHECK(a.got[0].lease.ttl == ms(1000));
  REQUIRE(c.got.size() == 1);
  CHECK(c.got[0].lease.ok == 0);
  CHECK(c.got[0].lease.revision == 1);  // the holder's revision
  CHECK(dsimtest::figure(*b.service, "grants") == 1);
  CHECK(dsimtest::figure(*b.service, "refusals") == 1);
}

TEST_CASE("lock service: keep-alives renew, without them the lease expires and the key is free") {
  Bench b;
  // Holder: granted at 0 with 1 s, renewed at 800 ms (to 1.8 s), then silent; its keep-alive
  // at 2 s comes too late. The other gets the key at 1.9 s with a larger token.
  auto& holder = b.client({{ms(0), acquire(1, 1000)},
                           {ms(800), LeaseKeepAlive{.request = 2, .lease = 1}},
                           {ms(2000), LeaseKeepAlive{.request = 3, .lease = 1}}});
  auto& other = b.client({{ms(1700), acquire(4, 1000)}, {ms(1900), acquire(5, 1000)}});
  b.h.run();
  REQUIRE(holder.got.size() == 3);
  CHECK(holder.got[1].lease.ok == 1);  // renewed at 800 ms
  CHECK(holder.got[2].lease.ok == 0);  // lost: expired at 1.8 s
  REQUIRE(other.got.size() == 2);
  CHECK(other.got[0].lease.ok == 0);  // 1.7 s: still held
  CHECK(other.got[1].lease.ok == 1);  // 1.9 s: expired, free
  CHECK(other.got[1].lease.revision == 2);
  CHECK(dsimtest::figure(*b.service, "expirations") == 1);
  CHECK(dsimtest::figure(*b.service, "lost_leases") == 1);
  CHECK(dsimtest::figure(*b.service, "renewals") == 1);
}

TEST_CASE("lock service: release frees the key, compare-and-swap takes it over") {
  Bench b;
  auto& a =
      b.client({{ms(0), acquire(1, 5000)}, {ms(100), LeaseRelease{.request = 2, .lease = 1}}});
  auto& c = b.client({{ms(200), acquire(3, 5000)},       // free after the release: revision 2
                      {ms(300), acquire(4, 5000, 1)},    // expects 1, the key is at 2: refused
                      {ms(400), acquire(5, 5000, 2)}});  // expects 2: taken over, revision 3
  b.h.run();
  CHECK(a.got[1].lease.ok == 1);
  REQUIRE(c.got.size() == 3);
  CHECK(c.got[0].lease.revision == 2);
  CHECK(c.got[1].lease.ok == 0);
  CHECK(c.got[2].lease.ok == 1);
  CHECK(c.got[2].lease.revision == 3);
  CHECK(dsimtest::figure(*b.service, "releases") == 1);
}

TEST_CASE("lock service: the ttl is capped, and requests are served one at a time") {
  models::LockServiceConfig config;
  config.max_ttl = ms(2000);
  config.request_time = ms(10);
  Bench b(config);
  auto& a = b.client({{ms(0), acquire(1, 60'000)}});
  auto& c = b.client({{ms(0), acquire(2, 1000)}});
  b.h.run();
  CHECK(a.got[0].lease.ttl == ms(2000));
  CHECK(a.got[0].at == at_ms(10));  // FIFO, 10 ms each
  CHECK(c.got[0].at == at_ms(20));
}

TEST_CASE("lock service: a durable service keeps its leases over a crash, renewed on restart") {
  for (const bool durable : {true, false}) {
    INFO("durable " << durable);
    models::LockServiceConfig config;
    config.durable = durable;
    Bench b(config);
    // Granted at 0 for 1 s; the service is down from 100 ms to 1.5 s. A durable service
    // restarts with the lease renewed to 2.5 s: the keep-alive at 2 s succeeds. A volatile one
    // forgot it, and grants the key again with a larger token.
    b.h.faults.crash(at_ms(100), b.h.nodes("lock").front(), ms(1400));
    auto& a =
        b.client({{ms(0), acquire(1, 1000)}, {ms(2000), LeaseKeepAlive{.request = 2, .lease = 1}}});
    auto& c = b.client({{ms(2100), acquire(3, 1000)}});
    b.h.run();
    REQUIRE(a.got.size() == 2);
    CHECK(a.got[1].lease.ok == (durable ? 1 : 0));
    CHECK(c.got[0].lease.ok == (durable ? 0 : 1));
    if (!durable) CHECK(c.got[0].lease.revision == 2);
  }
}

TEST_CASE("fenced store: a token below the largest accepted is rejected, or accepted and counted") {
  for (const bool check : {true, false}) {
    INFO("check_fencing " << check);
    dsimtest::ModelHarness h{1, sim::Time::zero(), at_ms(1000)};
    models::FencedStoreConfig config;
    config.check_fencing = check;
    auto* store = h.build<models::FencedStore>("store", 1, config).front();
    auto script = std::make_unique<Script>(
        h.nodes("store").front(),
        std::vector<Script::Timed>{{ms(0), FencedWrite{.request = 1, .key = 1, .token = 2}},
                                   {ms(1), FencedWrite{.request = 2, .key = 1, .token = 1}},
                                   {ms(2), FencedWrite{.request = 3, .key = 2, .token = 1}},
                                   {ms(3), FencedWrite{.request = 4, .key = 1, .token = 2}}});
    Script* s = script.get();
    h.add_process("owner", std::move(script));
    h.run();
    REQUIRE(s->got.size() == 4);
    CHECK(s->got[0].accepted);
    CHECK(s->got[1].accepted == !check);  // token 1 after 2 on key 1: stale
    CHECK(s->got[2].accepted);            // another key has its own largest token
    CHECK(s->got[3].accepted);            // the same token again: the same owner
    CHECK(dsimtest::figure(*store, "stale_accepted") == (check ? 0 : 1));
    CHECK(dsimtest::figure(*store, "stale_rejected") == (check ? 1 : 0));
  }
}
