// A cache in front of a scripted store, driven by scripted requests: the bench of the cache tests
// (cache_test.cpp: reads; cache_writes_test.cpp: writes).
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <memory>
#include <vector>

#include "models/caching/cache.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"

namespace test {

using namespace sim::literals;

// A store that answers each request with `outcome` after `delay`, except that it leaves every
// request after the first `answer_first` unanswered; records what it was asked. Its answer to
// the i-th request (from 0) carries the value 100 + i.
class StoreStub : public sim::Process {
 public:
  sim::Duration delay = 20_ms;
  models::Outcome outcome = models::Outcome::Ok;
  std::size_t answer_first = static_cast<std::size_t>(-1);
  struct Asked {
    sim::Time at;
    models::RpcRequest request;
    sim::NodeId from;
  };
  std::vector<Asked> asked;

  void on_start(sim::Node& /*node*/) override {}
  void on_message(sim::Node& node, const sim::Message& message) override {
    asked.push_back({node.true_now(), message.as<models::RpcRequest>(), message.from});
    if (asked.size() <= answer_first) node.set_timer(delay, {1, asked.size() - 1});
  }
  void on_timer(sim::Node& node, sim::TimerTag tag) override {
    const Asked& a = asked[tag.value];
    node.send(a.from,
              models::RpcResponse{
                  .call_id = a.request.call_id, .outcome = outcome, .value = 100 + tag.value});
  }
  std::size_t asked_for(std::uint64_t key) const {
    return static_cast<std::size_t>(std::count_if(
        asked.begin(), asked.end(), [&](const Asked& a) { return a.request.key == key; }));
  }
};

// An event: `count` requests about `key` from one node to another, call ids first, first + 1, ...
struct SendKeys {
  sim::Cluster* cluster;
  sim::NodeId from, to;
  std::uint64_t key;
  std::uint64_t first_call_id;
  std::uint32_t count;
  std::uint8_t operation = models::kOpRead;
  void operator()() const {
    for (std::uint32_t i = 0; i < count; ++i)
      cluster->node(from).send(
          to, models::RpcRequest{.call_id = first_call_id + i, .key = key, .operation = operation});
  }
};

inline models::CacheConfig cache_config() {
  models::CacheConfig c;
  c.ttl = 1_s;
  c.hit_time = sim::Distribution::constant(1e6);  // 1ms
  return c;
}

struct CacheBench {
  explicit CacheBench(models::CacheConfig config, sim::Duration store_delay = 20_ms,
                      sim::Time end = at_ms(100'000))
      : h(1, sim::Time::zero(), end) {
    auto s = std::make_unique<StoreStub>();
    s->delay = store_delay;
    store = s.get();
    h.add_process("store", std::move(s));
    config.store.name = "store";
    cache = h.build<models::Cache>("cache", 1, config).at(0);
    auto p = std::make_unique<dsimtest::ResponseProbe>();
    probe = p.get();
    client = h.add_process("client", std::move(p));
  }
  void send(sim::Time at, std::uint64_t key, std::uint64_t call_id, std::uint32_t count = 1) {
    h.sim.schedule_at(at,
                      SendKeys{&h.cluster, client, h.nodes("cache").at(0), key, call_id, count});
  }
  void write(sim::Time at, std::uint64_t key, std::uint64_t call_id) {
    h.sim.schedule_at(at, SendKeys{&h.cluster, client, h.nodes("cache").at(0), key, call_id, 1,
                                   models::kOpWrite});
  }
  const dsimtest::ResponseProbe::Received& answer(std::uint64_t call_id) const {
    const auto it = std::find_if(probe->received.begin(), probe->received.end(),
                                 [&](const auto& r) { return r.call_id == call_id; });
    REQUIRE(it != probe->received.end());
    return *it;
  }
  double figure(const char* name) const { return dsimtest::figure(*cache, name); }

  dsimtest::ModelHarness h;
  StoreStub* store;
  models::Cache* cache;
  dsimtest::ResponseProbe* probe;
  sim::NodeId client;
};

}  // namespace test
