// Function platform mechanics: cold and warm invocations, keep-alive expiry at its exact
// boundary, most-recently-used packing, per-instance concurrency, the account limit,
// provisioned instances, crashes, billing and the gauges.
#include <catch2/catch.hpp>

#include <memory>
#include <vector>

#include "models/clients/open_loop_client.hpp"
#include "models/functions/function_platform.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"

using namespace sim;
using models::FunctionPlatform;
using models::FunctionPlatformConfig;
using models::Outcome;

namespace {

// Cold starts of exactly 100 ms, executions of exactly 10 ms, keep-alive 1 s: every time below
// follows from these.
FunctionPlatformConfig exact_config() {
  FunctionPlatformConfig c;
  c.cold_start = Distribution::constant(100e6);
  c.service_time = Distribution::constant(10e6);
  c.keep_alive = 1_s;
  return c;
}

// A platform and a probe that invokes it; measured over [0, 10 s].
struct Bench {
  explicit Bench(const FunctionPlatformConfig& config) : h(5, Time::zero(), at_ms(10'000)) {
    platform = h.build<FunctionPlatform>("function", 1, config)[0];
    auto p = std::make_unique<dsimtest::ResponseProbe>();
    probe = p.get();
    probe_id = h.add_process("probe", std::move(p));
  }
  void invoke(std::uint64_t call_id, Time at) {
    h.sim.schedule_at(at,
                      dsimtest::SendRequest{&h.cluster, probe_id, h.nodes("function")[0], call_id});
  }
  // The answer to `call_id` (it must have one).
  dsimtest::ResponseProbe::Received answer(std::uint64_t call_id) const {
    for (const auto& r : probe->received)
      if (r.call_id == call_id) return r;
    FAIL("no answer to call " << call_id);
    return {};
  }
  // The gauges sample() gives at `at` (after the events scheduled before this call for `at`).
  void sample_at(Time at, models::SeriesSample* out) {
    h.sim.schedule_at(at, [this, at, out] { platform->sample(at, *out); });
  }
  double figure(const char* name) const { return dsimtest::figure(*platform, name); }

  dsimtest::ModelHarness h;
  FunctionPlatform* platform = nullptr;
  dsimtest::ResponseProbe* probe = nullptr;
  NodeId probe_id = kNoNode;
};

double value(const models::SeriesSample& s, const std::string& name) {
  for (const auto& item : s.items())
    if (name == item.name) return item.value;
  FAIL("no gauge named " << name);
  return -1;
}

}  // namespace

TEST_CASE("function: the first call waits for a cold start, the next one is warm", "[function]") {
  Bench b(exact_config());
  b.invoke(1, at_ms(0));
  b.invoke(2, at_ms(111));  // the instance went idle at 110 ms
  b.h.run();
  CHECK(b.answer(1).at == at_ms(110));  // 100 ms cold start + 10 ms execution
  CHECK(b.answer(1).outcome == Outcome::Ok);
  CHECK(b.answer(2).at == at_ms(121));  // warm: the execution alone
  CHECK(b.figure("invocations") == 2);
  CHECK(b.figure("cold_starts") == 1);
  CHECK(b.figure("cold_start_fraction") == 0.5);
  CHECK(b.figure("instances_created") == 1);
  CHECK(b.figure("throttled") == 0);
}

TEST_CASE("function: an instance idle for keep_alive is gone, 1 ns earlier it is warm",
          "[function]") {
  // The instance goes idle at 110 ms; its keep-alive runs out at 1110 ms.
  SECTION("keep_alive minus 1 ns: warm") {
    Bench b(exact_config());
    b.invoke(1, at_ms(0));
    b.invoke(2, at_ms(1110) - 1_ns);
    b.h.run();
    CHECK(b.answer(2).at == at_ms(1120) - 1_ns);
    CHECK(b.figure("cold_starts") == 1);
  }
  SECTION("exactly keep_alive: cold") {
    Bench b(exact_config());
    b.invoke(1, at_ms(0));
    b.invoke(2, at_ms(1110));
    b.h.run();
    CHECK(b.answer(2).at == at_ms(1220));
    CHECK(b.figure("cold_starts") == 2);
    CHECK(b.figure("instances_reclaimed") == 2);  // the first at 1110 ms, the second at 2220 ms
  }
}

TEST_CASE("function: scale to zero, and a reclaimed instance is billed no more", "[function]") {
  Bench b(exact_config());
  models::SeriesSample before, after;
  b.invoke(1, at_ms(0));
  b.sample_at(at_ms(1110) - 1_ns, &before);
  b.sample_at(at_ms(1110) + 1_ns, &after);  // the expiry runs after a sample set up for 1110
  b.h.run();
  CHECK(value(before, "instances") == 1);
  CHECK(value(after, "instances") == 0);
  CHECK(b.figure("instances_reclaimed") == 1);
  CHECK(b.figure("peak_instances") == 1);
  CHECK(b.figure("mean_instances") == Approx(1.110 / 10).epsilon(1e-12));
}

TEST_CASE("function: a warm call goes to the most recently used instance", "[function]") {
  Bench b(exact_config());
  models::SeriesSample s;
  b.invoke(1, at_ms(0));    // instance A: busy 100-110 ms
  b.invoke(2, at_ms(50));   // A is starting: instance B, busy 150-160 ms
  b.invoke(3, at_ms(200));  // both idle: B was used last (160 ms); B is busy 200-210 ms
  b.sample_at(at_ms(1120), &s);
  b.h.run();
  CHECK(b.answer(3).at == at_ms(210));
  // A, idle since 110 ms, expired at 1110 ms; B lives until 1210 ms. Had the call gone to A
  // (least recently used), both would still exist at 1120 ms.
  CHECK(value(s, "instances") == 1);
  CHECK(b.figure("cold_starts") == 2);
}

TEST_CASE("function: an instance with concurrency c executes c calls at once", "[function]") {
  FunctionPlatformConfig c = exact_config();
  c.concurrency = 3;
  Bench b(c);
  models::SeriesSample s;
  b.invoke(1, at_ms(0));  // cold: the instance is ready at 100 ms, idle again at 110 ms
  for (std::uint64_t call = 2; call <= 5; ++call) b.invoke(call, at_ms(200));
  b.sample_at(at_ms(205), &s);
  b.h.run();
  for (std::uint64_t call = 2; call <= 4; ++call) CHECK(b.answer(call).at == at_ms(210));
  CHECK(b.answer(5).at == at_ms(310));  // the fourth found the instance full: a cold start
  CHECK(value(s, "instances") == 2);
  CHECK(value(s, "busy") == 3);
  CHECK(value(s, "starting") == 1);
  CHECK(b.figure("cold_starts") == 2);
  CHECK(b.figure("peak_concurrency") == 4);
}

TEST_CASE("function: beyond the account limit calls are throttled at once", "[function]") {
  SECTION("concurrency 1: the limit is on concurrent executions") {
    FunctionPlatformConfig c = exact_config();
    c.account_concurrency = 2;
    Bench b(c);
    for (std::uint64_t call = 1; call <= 3; ++call) b.invoke(call, at_ms(0));
    b.invoke(4, at_ms(111));  // an instance is idle again: warm, not throttled
    b.h.run();
    CHECK(b.answer(1).at == at_ms(110));
    CHECK(b.answer(2).at == at_ms(110));
    CHECK(b.answer(3).outcome == Outcome::RateLimited);
    CHECK(b.answer(3).at == at_ms(0));
    CHECK(b.answer(4).at == at_ms(121));
    CHECK(b.figure("throttled") == 1);
    CHECK(b.figure("invocations") == 3);  // throttles are not invocations (as in Lambda)
  }
  SECTION("concurrency c: ceil(limit / c) instances") {
    FunctionPlatformConfig c = exact_config();
    c.account_concurrency = 3;
    c.concurrency = 2;
    CHECK(FunctionPlatform::max_instances(c) == 2);
    Bench b(c);
    // Two starting instances, one call each: a third call may not wait for either.
    for (std::uint64_t call = 1; call <= 3; ++call) b.invoke(call, at_ms(0));
    b.h.run();
    CHECK(b.answer(3).outcome == Outcome::RateLimited);
    CHECK(b.figure("peak_instances") == 2);
  }
}

TEST_CASE("function: provisioned instances are warm, used first and never reclaimed",
          "[function]") {
  FunctionPlatformConfig c = exact_config();
  c.provisioned = 2;
  Bench b(c);
  models::SeriesSample s;
  for (std::uint64_t call = 1; call <= 3; ++call) b.invoke(call, at_ms(0));
  b.invoke(4, at_ms(200));  // the on-demand instance is idle and more recent: provisioned first
  b.sample_at(at_ms(5000), &s);
  b.invoke(5, at_ms(5000));  // long idle: still warm
  b.h.run();
  CHECK(b.answer(1).at == at_ms(10));
  CHECK(b.answer(2).at == at_ms(10));
  CHECK(b.answer(3).at == at_ms(110));  // spill-over: a cold start
  CHECK(b.answer(4).at == at_ms(210));
  CHECK(b.answer(5).at == at_ms(5010));
  CHECK(value(s, "instances") == 2);  // the on-demand one expired at 1110 ms
  CHECK(b.figure("cold_starts") == 1);
  CHECK(b.figure("instances_reclaimed") == 1);
}

TEST_CASE("function: a crash loses every instance and call, a restart brings the provisioned",
          "[function]") {
  FunctionPlatformConfig c = exact_config();
  c.provisioned = 1;
  Bench b(c);
  models::SeriesSample down, restarted;
  b.invoke(1, at_ms(0));  // on the provisioned instance, until 10 ms
  b.invoke(2, at_ms(0));  // a cold start, until 110 ms
  b.h.faults.crash(at_ms(5), b.h.nodes("function")[0], 10_ms);
  b.sample_at(at_ms(10), &down);
  b.sample_at(at_ms(20), &restarted);
  b.invoke(3, at_ms(20));
  b.h.run();
  REQUIRE(b.probe->received.size() == 1);
  CHECK(b.answer(3).at == at_ms(30));  // warm on the provisioned instance again
  CHECK(value(down, "instances") == 0);
  CHECK(value(down, "busy") == 0);
  CHECK(value(down, "starting") == 0);
  CHECK(value(restarted, "instances") == 1);
}

TEST_CASE("function: billed seconds under request and instance billing", "[function]") {
  FunctionPlatformConfig c = exact_config();
  c.service_time = Distribution::constant(10.5e6);  // rounds up to 11 ms
  SECTION("on demand") {
    // Call 1 at 0: cold, 100 + 10.5 ms, billed 111 ms. Call 2 at 200 ms: warm, billed 11 ms.
    // The instance exists from 0 to 210.5 ms + 1 s of keep-alive.
    for (const auto billing : {models::Billing::Request, models::Billing::Instance}) {
      c.billing = billing;
      Bench b(c);
      b.invoke(1, at_ms(0));
      b.invoke(2, at_ms(200));
      b.h.run();
      const double billed = billing == models::Billing::Request ? 0.122 : 1.2105;
      CHECK(b.figure("billed_seconds") == Approx(billed).epsilon(1e-12));
      CHECK(b.figure("always_on_seconds") == 10);  // peak concurrency 1 x 10 s
      CHECK(b.figure("cost_ratio") == Approx(billed / 10).epsilon(1e-12));
      CHECK(b.figure("busy_fraction") == Approx(0.021 / 1.2105).epsilon(1e-12));
    }
  }
  SECTION("provisioned") {
    // The provisioned instance exists for all 10 s; call 1 runs on it (11 ms billed), call 2
    // spills over to a cold start (111 ms billed), on an instance that lives 1110.5 ms.
    c.provisioned = 1;
    for (const auto billing : {models::Billing::Request, models::Billing::Instance}) {
      c.billing = billing;
      Bench b(c);
      b.invoke(1, at_ms(0));
      b.invoke(2, at_ms(0));
      b.h.run();
      const double billed = billing == models::Billing::Request ? 10.122 : 11.1105;
      CHECK(b.figure("billed_seconds") == Approx(billed).epsilon(1e-12));
      CHECK(b.figure("always_on_seconds") == 20);  // peak concurrency 2
    }
  }
}

TEST_CASE("function: only what happens after the warm-up is counted", "[function]") {
  dsimtest::ModelHarness h(5, at_ms(1000), at_ms(3000));
  FunctionPlatform* platform = h.build<FunctionPlatform>("function", 1, exact_config())[0];
  auto p = std::make_unique<dsimtest::ResponseProbe>();
  const NodeId probe = h.add_process("probe", std::move(p));
  const NodeId target = h.nodes("function")[0];
  h.sim.schedule_at(at_ms(0), dsimtest::SendRequest{&h.cluster, probe, target, 1});
  h.sim.schedule_at(at_ms(1050), dsimtest::SendRequest{&h.cluster, probe, target, 2});
  h.run();
  // The instance exists before the warm-up ends: it counts in the levels from 1 s on, until it
  // expires at 1060 + 1000 ms; call 1 and its cold start are not counted.
  CHECK(dsimtest::figure(*platform, "invocations") == 1);
  CHECK(dsimtest::figure(*platform, "cold_starts") == 0);
  CHECK(dsimtest::figure(*platform, "peak_instances") == 1);
  CHECK(dsimtest::figure(*platform, "mean_instances") == Approx(1.060 / 2).epsilon(1e-12));
  CHECK(dsimtest::figure(*platform, "billed_seconds") == Approx(0.010).epsilon(1e-12));
}

TEST_CASE("function: more provisioned instances than the account limit allows are refused",
          "[function]") {
  FunctionPlatformConfig c;
  c.account_concurrency = 10;
  c.concurrency = 4;
  c.provisioned = 3;
  CHECK(FunctionPlatform::check(c).empty());
  c.provisioned = 4;
  REQUIRE(FunctionPlatform::check(c).size() == 1);
  CHECK(FunctionPlatform::check(c)[0].field == "provisioned");
}

TEST_CASE("function: a steady-state run allocates nothing", "[function]") {
  // Short keep-alive and cold starts: instances are created, used and reclaimed all the time, and
  // the account limit throttles some calls.
  dsimtest::ModelHarness h(6, at_ms(100), at_ms(6000));
  FunctionPlatformConfig config;
  config.concurrency = 2;
  config.account_concurrency = 12;
  config.provisioned = 1;
  config.cold_start = Distribution::exponential(5e6);
  config.service_time = Distribution::exponential(2e6);
  config.keep_alive = 3_ms;
  FunctionPlatform* platform = h.build<FunctionPlatform>("function", 1, config).at(0);
  models::OpenLoopClientConfig client;
  client.rate.per_second = 1000;
  client.call.target.name = "function";
  client.call.timeout = 50_ms;
  const auto clients = h.build<models::OpenLoopClient>("client", 2, client);
  h.cluster.start();
  // Warm-up at twice the load, so that every table has grown beyond the peak the measured
  // interval needs, then a lull in which every on-demand instance is reclaimed, so that the
  // instance table's free list has held all but one of its slots (growing to a new peak is not a
  // per-request allocation, but would make the count depend on luck).
  for (auto* c : clients) c->scale_load(2.0);
  h.sim.run_until(at_ms(1000));
  for (auto* c : clients) c->scale_load(1e-6);
  h.sim.run_until(at_ms(1100));
  REQUIRE(platform->instances() == 1);  // the provisioned one
  for (auto* c : clients) c->scale_load(0.5e6);
  const std::uint64_t before = allocation_count();
  const std::uint64_t events = h.sim.run_until(at_ms(6000));
  CHECK(allocation_count() - before == 0);
  CHECK(events > 20'000);
  for (const char* name : {"cold_starts", "instances_reclaimed", "throttled"}) {
    INFO(name);
    CHECK(dsimtest::figure(*platform, name) > 0);
  }
}
