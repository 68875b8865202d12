// Ambassador mechanics (models/proxies/ambassador.hpp): the split (per request, from
// canary_start; sticky per tenant or key), a request's tries staying on its route, the answer
// and the per-route figures, the analysis's timing (inconclusive windows grow), the first
// failure and the rollback, the rollout's state across a crash, and its registration. The split
// ratio and the analysis's error rates against theory are in tests/validation/canary_test.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "models/proxies/ambassador.hpp"
#include "scenario/model_catalog.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"

using namespace sim;
using models::Ambassador;
using models::AmbassadorConfig;
using models::CanarySplit;
using models::Outcome;
using models::RpcRequest;
using models::RpcResponse;

namespace {

// A version of the service: answers every request `outcome` after `delay`.
class Version : public Process {
 public:
  Outcome outcome = Outcome::Ok;
  Duration delay = 1_ms;
  std::vector<RpcRequest> seen;
  void on_start(Node& /*node*/) override {}
  void on_message(Node& node, const Message& message) override {
    seen.push_back(message.as<RpcRequest>());
    from_.push_back(message.from);
    node.set_timer(delay, {1, seen.size() - 1});
  }
  void on_timer(Node& node, TimerTag tag) override {
    node.send(from_[tag.value],
              RpcResponse{.call_id = seen[tag.value].call_id, .outcome = outcome});
  }

 private:
  std::vector<NodeId> from_;
};

struct Send {
  Cluster* cluster;
  NodeId from, to;
  const RpcRequest* request;
  void operator()() const { cluster->node(from).send(to, *request); }
};

// Two baseline nodes ("v1"), one canary node ("v2"), the ambassador, and a client probe.
struct Bench {
  explicit Bench(AmbassadorConfig config, Time end = at_ms(100'000)) : h(5, Time::zero(), end) {
    for (int i = 0; i < 2; ++i) baseline.push_back(add_version("v1"));
    canary = add_version("v2");
    config.call.target.name = "v1";
    config.canary.name = "v2";
    ambassador = h.build<Ambassador>("ambassador", 1, config).at(0);
    auto p = std::make_unique<dsimtest::ResponseProbe>();
    probe = p.get();
    probe_id = h.add_process("client", std::move(p));
  }
  Version* add_version(const std::string& name) {
    auto v = std::make_unique<Version>();
    Version* raw = v.get();
    h.add_process(name, std::move(v));
    return raw;
  }
  void send_at(Time t, RpcRequest request) {
    requests.push_back(request);
    h.sim.schedule_at(t, Send{&h.cluster, probe_id, h.nodes("ambassador").at(0), &requests.back()});
  }
  // One request every `every`, from `from` until before `until`, keys 0, 1, 2, ...
  void send_every(Duration every, Time from, Time until) {
    std::uint64_t key = 0;
    for (Time t = from; t < until; t = t + every, ++key)
      send_at(t, RpcRequest{.call_id = key + 1, .key = key});
  }
  std::size_t baseline_seen() const { return baseline[0]->seen.size() + baseline[1]->seen.size(); }
  double figure(const std::string& name) const { return dsimtest::figure(*ambassador, name); }

  dsimtest::ModelHarness h;
  std::deque<RpcRequest> requests;  // stable addresses
  std::vector<Version*> baseline;
  Version* canary;
  Ambassador* ambassador;
  dsimtest::ResponseProbe* probe;
  NodeId probe_id;
};

AmbassadorConfig ambassador_config(double percent) {
  AmbassadorConfig c;
  c.canary_percent = percent;
  c.call.timeout = 100_ms;
  return c;
}

}  // namespace

TEST_CASE("ambassador: before canary_start everything goes to the baseline, then the split") {
  AmbassadorConfig c = ambassador_config(30);
  c.canary_start = 1000_ms;
  Bench b(c);
  b.send_every(1_ms, at_ms(0), at_ms(2000));
  b.h.run();
  // Before 1 s: none of the 1000 to the canary.
  const auto canary_before = std::count_if(b.canary->seen.begin(), b.canary->seen.end(),
                                           [](const RpcRequest& r) { return r.key < 1000; });
  CHECK(canary_before == 0);
  // After: 1000 requests split 30 %: binomial sd sqrt(1000 x 0.3 x 0.7) = 14.5; 4 sd = 58.
  CHECK(std::abs(static_cast<double>(b.canary->seen.size()) - 300) < 58);
  CHECK(b.baseline_seen() + b.canary->seen.size() == 2000);
  // Every request answered Ok, and counted on its route.
  CHECK(b.probe->received.size() == 2000);
  CHECK(b.figure("canary_requests") == static_cast<double>(b.canary->seen.size()));
  CHECK(b.figure("baseline_requests") == static_cast<double>(b.baseline_seen()));
  CHECK(b.figure("canary_failures") == 0);
  CHECK(b.figure("canary_p50_ms") == Approx(1.0));  // 1 ms at the version, zero network
  CHECK(b.figure("baseline_p99_ms") == Approx(1.0));
  CHECK(std::isnan(b.figure("canary_failed_at")));  // no analysis
  CHECK(b.figure("analyses") == 0);
}

TEST_CASE("ambassador: a sticky split sends all of a tenant's or key's requests one way") {
  for (const CanarySplit split : {CanarySplit::Tenant, CanarySplit::Key}) {
    AmbassadorConfig c = ambassador_config(25);
    c.split = split;
    Bench b(c);
    // 40 tenants (or keys), 50 requests each, interleaved.
    std::uint64_t id = 1;
    for (int round = 0; round < 50; ++round)
      for (std::uint16_t t = 0; t < 40; ++t, ++id)
        b.send_at(
            at_ms(static_cast<std::int64_t>(id)),
            RpcRequest{.call_id = id,
                       .key = split == CanarySplit::Key ? t : 999u,
                       .tenant = static_cast<std::uint16_t>(split == CanarySplit::Tenant ? t : 0)});
    b.h.run();
    std::vector<int> to_canary(40, 0);
    for (const RpcRequest& r : b.canary->seen)
      ++to_canary[split == CanarySplit::Key ? r.key : r.tenant];
    int canary_tenants = 0;
    for (std::uint16_t t = 0; t < 40; ++t) {
      const bool sticky = b.ambassador->sticky_canary(t, t);
      CHECK(to_canary[t] == (sticky ? 50 : 0));  // all or nothing, as the hash says
      canary_tenants += sticky ? 1 : 0;
    }
    // About a quarter of 40: binomial sd sqrt(40 x 0.25 x 0.75) = 2.7; 4 sd = 11.
    CHECK(std::abs(canary_tenants - 10) <= 11);
    CHECK(canary_tenants > 0);
  }
}

TEST_CASE("ambassador: a sticky split only adds tenants as its percentage grows") {
  AmbassadorConfig low = ambassador_config(10), high = ambassador_config(30);
  low.split = high.split = CanarySplit::Key;
  Bench a(low), b(high);  // the same component name: the same hash
  int in_low = 0, in_high = 0;
  for (std::uint64_t key = 0; key < 10'000; ++key) {
    const bool l = a.ambassador->sticky_canary(0, key), h = b.ambassador->sticky_canary(0, key);
    CHECK((!l || h));  // in the 10 % means in the 30 %
    in_low += l;
    in_high += h;
  }
  // sd of a 10 % share of 10,000: 30; of 30 %: 46; 4 sd.
  CHECK(std::abs(in_low - 1000) < 120);
  CHECK(std::abs(in_high - 3000) < 184);
}

TEST_CASE("ambassador: a request's tries stay on its route, and failures are counted there") {
  AmbassadorConfig c = ambassador_config(100);
  c.call.retry.max_attempts = 3;
  c.call.retry.backoff.base = 1_ms;
  Bench b(c);
  b.canary->outcome = Outcome::Error;
  b.send_at(at_ms(1), RpcRequest{.call_id = 9});
  b.h.run();
  CHECK(b.canary->seen.size() == 3);  // the three tries, all to the canary
  CHECK(b.baseline_seen() == 0);
  REQUIRE(b.probe->received.size() == 1);
  CHECK(b.probe->received[0].outcome == Outcome::Error);
  CHECK(b.figure("canary_requests") == 1);
  CHECK(b.figure("canary_failures") == 1);
  CHECK(std::isnan(b.figure("canary_p99_ms")));  // no success to measure
  CHECK(b.figure("attempts") == 3);
}

TEST_CASE("ambassador: a request past its deadline is answered Timeout, uncalled") {
  Bench b(ambassador_config(50));
  b.send_at(at_ms(10), RpcRequest{.call_id = 4, .deadline = at_ms(5)});
  b.h.run();
  REQUIRE(b.probe->received.size() == 1);
  CHECK(b.probe->received[0].outcome == Outcome::Timeout);
  CHECK(b.baseline_seen() + b.canary->seen.size() == 0);
  CHECK(b.figure("expired_before_forward") == 1);
}

TEST_CASE("ambassador: an inconclusive analysis lets the window grow to the next one") {
  // Keys picked so that requests alternate baseline, canary: 10 per second, 5 per route.
  AmbassadorConfig c = ambassador_config(50);
  c.split = CanarySplit::Key;
  c.analysis.interval = 1000_ms;
  c.analysis.min_requests = 8;
  Bench b(c, at_ms(2500));
  std::vector<std::uint64_t> keys[2];
  for (std::uint64_t k = 0; keys[0].size() < 20 || keys[1].size() < 20; ++k)
    keys[b.ambassador->sticky_canary(0, k) ? 1 : 0].push_back(k);
  for (std::size_t i = 0; i < 25; ++i)
    b.send_at(at_ms(static_cast<std::int64_t>(i) * 100),
              RpcRequest{.call_id = i + 1, .key = keys[i % 2][i / 2]});
  b.h.run();
  // At 1 s: 5 per route, fewer than 8: inconclusive. At 2 s: 10 per route: a Pass.
  CHECK(b.figure("analyses_inconclusive") == 1);
  CHECK(b.figure("analyses") == 1);
  CHECK(b.figure("analyses_failed") == 0);
  CHECK(b.ambassador->last_verdict().result == models::CanaryVerdict::Result::Pass);
}

TEST_CASE("ambassador: the first failed analysis rolls back, and the rollout survives a crash") {
  AmbassadorConfig c = ambassador_config(50);
  c.canary_start = 2000_ms;
  c.analysis.interval = 1000_ms;
  c.analysis.min_requests = 20;
  SECTION("with rollback: nothing reaches the canary after its first failure") {
    Bench b(c, at_ms(8000));
    b.canary->outcome = Outcome::Error;
    b.send_every(10_ms, at_ms(0), at_ms(8000));
    // The ambassador's machine crashes after the rollback: the decision is kept.
    b.h.faults.crash(at_ms(4500), b.h.nodes("ambassador").at(0), 100_ms);
    b.h.run();
    CHECK(b.figure("canary_failed_at") == Approx(3.0));  // the first analysis: 2 s + 1 s
    CHECK(b.ambassador->canary_failed_at() == at_ms(3000));
    CHECK(b.ambassador->rolled_back());
    CHECK(b.figure("analyses") == 1);
    CHECK(b.figure("analyses_failed") == 1);
    for (const RpcRequest& r : b.canary->seen) {
      CHECK(r.key >= 200);  // none before 2 s
      CHECK(r.key <= 300);  // none after 3 s (the request at 3 s came just before)
    }
    // The blast radius: the canary's requests between 2 s and 3 s, all failed.
    CHECK(b.figure("canary_requests") == static_cast<double>(b.canary->seen.size()));
    CHECK(b.figure("canary_failures") == b.figure("canary_requests"));
    CHECK(b.figure("canary_requests") > 20);
  }
  SECTION("without rollback: every analysis fails, the traffic still splits") {
    c.analysis.rollback = false;
    Bench b(c, at_ms(7500));
    b.canary->outcome = Outcome::Error;
    b.send_every(10_ms, at_ms(0), at_ms(7500));
    b.h.run();
    CHECK(b.figure("canary_failed_at") == Approx(3.0));  // still the first
    CHECK_FALSE(b.ambassador->rolled_back());
    CHECK(b.figure("analyses") == 5);  // at 3, 4, 5, 6 and 7 s
    CHECK(b.figure("analyses_failed") == 5);
    const auto late = std::count_if(b.canary->seen.begin(), b.canary->seen.end(),
                                    [](const RpcRequest& r) { return r.key >= 300; });
    CHECK(late > 100);
  }
  SECTION("a healthy canary passes every analysis") {
    Bench b(c, at_ms(7500));
    b.send_every(10_ms, at_ms(0), at_ms(7500));
    b.h.run();
    CHECK(std::isnan(b.figure("canary_failed_at")));
    CHECK(b.figure("analyses") == 5);
    CHECK(b.figure("analyses_failed") == 0);
    CHECK_FALSE(b.ambassador->rolled_back());
  }
}

TEST_CASE("ambassador: a slower canary fails the p99 ratio") {
  AmbassadorConfig c = ambassador_config(50);
  c.analysis.interval = 1000_ms;
  c.analysis.min_requests = 20;
  c.analysis.max_p99_ratio = 2;
  Bench b(c, at_ms(3000));
  b.canary->delay = 5_ms;  // five times the baseline's 1 ms
  b.send_every(10_ms, at_ms(0), at_ms(3000));
  b.h.run();
  CHECK(b.ambassador->canary_failed_at() == at_ms(1000));
  CHECK(b.ambassador->last_verdict().latency_failed);
  CHECK_FALSE(b.ambassador->last_verdict().error_rate_failed);
  CHECK(b.ambassador->last_verdict().p99_ratio == Approx(5.0));
}

TEST_CASE("ambassador: registered, calling its target and its canary") {
  const scenario::ModelBinding* binding = scenario::find_model("ambassador");
  REQUIRE(binding != nullptr);
  CHECK(binding->figure("canary_failed_at") != nullptr);
  AmbassadorConfig c;
  c.call.target.name = "api";
  c.canary.name = "api-v2";
  const auto wiring = Ambassador::wiring(c);
  REQUIRE(wiring.calls.size() == 2);
  CHECK(wiring.calls[1].field == std::string("canary"));
}
