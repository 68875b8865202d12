// A bench for replicated stores: a component "store" of n replicas on 1 ms links (or the
// latency given), and a scripted client that sends reads and writes to chosen replicas and
// records every answer with its value (the version read or written).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/shared/rpc.hpp"
#include "sim/process.hpp"
#include "tests/model_harness.hpp"
#include "tests/test_time.hpp"

namespace dsimtest {

/// Records every answer with its value (the version read or written).
class VersionProbe : public sim::Process {
 public:
  struct Received {
    std::uint64_t call_id;
    models::Outcome outcome;
    std::uint64_t value;
    sim::Time at;
  };
  void on_start(sim::Node& /*node*/) override {}
  void on_message(sim::Node& node, const sim::Message& message) override {
    const auto r = message.as<models::RpcResponse>();
    received.push_back({r.call_id, r.outcome, r.value, node.true_now()});
  }
  /// The first answer to `call_id`, or null.
  const Received* answer(std::uint64_t call_id) const {
    for (const Received& a : received)
      if (a.call_id == call_id) return &a;
    return nullptr;
  }
  std::vector<Received> received;
};

template <class Store>
struct StoreBench {
  explicit StoreBench(typename Store::Config config, std::size_t n = 3, std::uint64_t seed = 1,
                      sim::Distribution latency = sim::Distribution::constant(1e6))
      : h(seed, sim::Time::zero(), at_ms(600'000)) {
    h.cluster.network().set_default_link({latency});
    stores = h.template build<Store>("store", n, config);
    auto c = std::make_unique<VersionProbe>();
    client = c.get();
    client_id = h.add_process("client", std::move(c));
    h.cluster.start();
  }
  /// Sends a read or write (models::kOpRead, kOpWrite) of `key` to replica `to` at `at`.
  void send(sim::Time at, std::size_t to, std::uint64_t call_id, std::uint8_t op,
            std::uint64_t key) {
    scheduled_.push_back(
        {h.nodes("store")[to],
         models::RpcRequest{.call_id = call_id, .key = key, .origin = client_id, .operation = op}});
    h.sim.schedule_at(at, Send{this, scheduled_.size() - 1});
  }
  void run_until(sim::Time t) { h.sim.run_until(t); }
  sim::NodeId id(std::size_t replica) const { return h.nodes("store")[replica]; }
  bool up(std::size_t replica) const { return h.cluster.node(id(replica)).is_up(); }
  /// The first replica that is up and leading (stores.size() if none).
  std::size_t leader() const {
    for (std::size_t i = 0; i < stores.size(); ++i)
      if (stores[i]->leading() && up(i)) return i;
    return stores.size();
  }
  /// A figure summed over the replicas (as the report combines sums).
  double figure(const std::string& name) const {
    double total = 0;
    for (const Store* s : stores) total += dsimtest::figure(*s, name);
    return total;
  }

  ModelHarness h;
  std::vector<Store*> stores;
  VersionProbe* client = nullptr;
  sim::NodeId client_id = sim::kNoNode;

 private:
  struct Scheduled {
    sim::NodeId to;
    models::RpcRequest rpc;
  };
  struct Send {  // small enough for the kernel's inline callbacks: the request stays here
    StoreBench* bench;
    std::size_t index;
    void operator()() const {
      const Scheduled& s = bench->scheduled_[index];
      bench->h.cluster.node(bench->client_id).send(s.to, s.rpc);
    }
  };
  std::vector<Scheduled> scheduled_;
};

}  // namespace dsimtest
