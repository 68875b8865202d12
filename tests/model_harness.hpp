// A small test bench for models, built directly on the kernel (no scenario file): a simulator,
// a cluster with the default (zero-latency) network, a fault injector, a request recorder and
// the run's invariant checks;
// components are groups of nodes named "<component>-<i>", each running one model instance built
// by the model's own make() with a BuildContext, as the scenario loader does.
#pragma once

#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "models/shared/figures.hpp"
#include "models/shared/model.hpp"
#include "models/shared/request_recorder.hpp"
#include "models/shared/rpc.hpp"
#include "sim/cluster.hpp"
#include "sim/faults.hpp"
#include "sim/simulator.hpp"

namespace dsimtest {

class ModelHarness {
 public:
  /// Requests are measured from `warmup_end` to `end`; report windows of `window`.
  ModelHarness(std::uint64_t seed, sim::Time warmup_end, sim::Time end,
               sim::Duration window = sim::Duration::nanoseconds(1'000'000'000))
      : sim(seed),
        cluster(sim),
        faults(cluster),
        recorder(warmup_end, end, window),
        warmup_end_(warmup_end),
        end_(end) {}

  /// Adds `count` nodes named "<name>-0", "<name>-1", ... (no model yet).
  std::vector<sim::NodeId> add_nodes(const std::string& name, std::size_t count) {
    std::vector<sim::NodeId>& nodes = components_[name];
    for (std::size_t i = 0; i < count; ++i)
      nodes.push_back(cluster.add_node(name + "-" + std::to_string(i)));
    return nodes;
  }

  /// Builds component `name` on `count` new nodes with Model::make(config, ctx, replica).
  template <class M, class Config>
  std::vector<M*> build(const std::string& name, std::size_t count, const Config& config) {
    add_nodes(name, count);
    models::BuildContext ctx{.cluster = cluster,
                             .faults = faults,
                             .recorder = recorder,
                             .component = name,
                             .nodes = components_.at(name),
                             .warmup_end = warmup_end_,
                             .end = end_,
                             .resolve =
                                 [this](const models::ComponentRef& ref) {
                                   const auto it = components_.find(ref.name);
                                   return it == components_.end() ? std::vector<sim::NodeId>{}
                                                                  : it->second;
                                 },
                             .invariants = &invariants};
    std::vector<M*> built;
    for (std::size_t replica = 0; replica < count; ++replica) {
      std::unique_ptr<models::Model> model = M::make(config, ctx, replica);
      built.push_back(dynamic_cast<M*>(model.get()));
      models_.push_back(model.get());
      cluster.attach(ctx.nodes[replica], std::move(model));
    }
    return built;
  }

  /// Adds one node to `component` (named "<component>-<i>") running a hand-written process.
  sim::NodeId add_process(const std::string& component, std::unique_ptr<sim::Process> process) {
    std::vector<sim::NodeId>& nodes = components_[component];
    const sim::NodeId id = cluster.add_node(component + "-" + std::to_string(nodes.size()));
    nodes.push_back(id);
    cluster.attach(id, std::move(process));
    return id;
  }

  const std::vector<sim::NodeId>& nodes(const std::string& component) const {
    return components_.at(component);
  }
  sim::Node& node(const std::string& component, std::size_t i = 0) {
    return cluster.node(components_.at(component).at(i));
  }

  /// Starts every node, runs to the end of the measured interval.
  void run() {
    cluster.start();
    sim.run_until(end_);
  }

  models::Invariants invariants;  // before the cluster: it outlives the models that report
  sim::Simulator sim;
  sim::Cluster cluster;
  sim::FaultInjector faults;
  models::RequestRecorder recorder;

 private:
  sim::Time warmup_end_, end_;
  std::map<std::string, std::vector<sim::NodeId>> components_;
  std::vector<models::Model*> models_;
};

/// A scripted peer: records every RpcResponse it receives, with its arrival time.
class ResponseProbe : public sim::Process {
 public:
  struct Received {
    std::uint64_t call_id;
    models::Outcome outcome;
    sim::Time at;
  };
  void on_start(sim::Node& /*node*/) override {}
  void on_message(sim::Node& node, const sim::Message& message) override {
    const auto r = message.as<models::RpcResponse>();
    received.push_back({r.call_id, r.outcome, node.true_now()});
  }
  std::vector<Received> received;
};

/// An event that sends RpcRequest{call_id} from one node to another.
struct SendRequest {
  sim::Cluster* cluster;
  sim::NodeId from, to;
  std::uint64_t call_id;
  void operator()() const { cluster->node(from).send(to, models::RpcRequest{.call_id = call_id}); }
};

/// One figure of a model instance, by name (throws if it has none of that name).
inline double figure(const models::Model& model, const std::string& name) {
  models::Figures figures;
  model.figures(figures);
  for (const auto& f : figures.items())
    if (f.name == name) return f.value;
  throw std::out_of_range("no figure named " + name);
}

}  // namespace dsimtest
