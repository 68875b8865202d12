// A scenario file, loaded and checked: one ScenarioSpec per variant, every model's parameters
// parsed into its typed Config. Nothing in here runs anything (see run.hpp).
//
// File layout (JSON, comments allowed; unknown keys are errors everywhere):
//   name, description, duration, warmup, seeds, base_variant,
//   network:    { latency, loss, duplicate, bandwidth, fifo, zones, links }
//   components: { NAME: { model, count, zone, colocate_with, ...the model's parameters } }
//   faults:     [ { action, at, for, target, ... } ]
//   report:     { percentiles, window }
//   slos:       { NAME: { objective, group, latency, period, ..., alerts: { RULE: {...} } } }
//   variants:   { NAME: RFC 7386 merge patch over the rest of the file }
// The base scenario runs as the variant named `base_variant` (default "base"), then each
// variant in file order. docs/scenario-format.md documents every key.
#pragma once

#include <any>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/operations/slo_evaluation.hpp"
#include "models/shared/params.hpp"
#include "sim/distribution.hpp"
#include "sim/time.hpp"

namespace scenario {

using Json = nlohmann::ordered_json;
struct ModelBinding;

struct LinkParams {
  sim::Distribution latency = sim::Distribution::constant(0);
  models::Probability loss;
  models::Probability duplicate;
  double bandwidth_bps = 0;  // 0: unlimited
  bool fifo = false;
};

struct LinkDecl {
  std::string from, to;  // node or component names (a component: each of its nodes)
  LinkParams params;
  bool bidirectional = true;
};

struct NetworkSpec {
  LinkParams default_link;
  std::vector<std::string> zone_names;
  std::vector<std::vector<LinkParams>> zone_matrix;  // [from][to]
  std::vector<LinkDecl> links;
  std::vector<std::string> switches;  // extra nodes that only forward (routers, ToR switches)
};

/// The most nodes in one component. Nodes are named on demand, so loading costs nothing per node;
/// what a run can hold is the preflight's to say (scenario/run_estimate.hpp), and it refuses
/// far fewer on most machines. The bound keeps node counts and their sums far from overflow.
inline constexpr std::int64_t kMaxNodesPerComponent = 10'000'000;

struct ComponentSpec {
  std::string name;
  std::string model;
  const ModelBinding* binding = nullptr;
  std::any config;            // the model's Config, parsed
  std::size_t count = 1;      // nodes; named and zoned on demand, not listed
  std::vector<int> zones;     // zone indices, assigned round-robin; empty: no zone
  std::string colocate_with;  // node i shares a machine with node i of that component

  /// "api[0]", "api[1]", ...; just "api" when count is 1.
  std::string node_name(std::size_t i) const {
    return count == 1 ? name : name + "[" + std::to_string(i) + "]";
  }
  /// Node i's zone index, or -1 for none.
  int node_zone(std::size_t i) const { return zones.empty() ? -1 : zones[i % zones.size()]; }
};

/// Nodes of a scenario, named without being listed (a fault on a 100,000-node component stays
/// one range): replicas [first, first + count) of components[component], or, when component is
/// kSwitches, network.switches[first, first + count). scenario/node_index.hpp resolves names.
struct NodeRange {
  static constexpr std::size_t kSwitches = std::numeric_limits<std::size_t>::max();
  std::size_t component = 0;
  std::size_t first = 0;
  std::size_t count = 0;
  bool operator==(const NodeRange&) const = default;
};

struct FaultSpec {
  std::string action;  // crash, pause, partition, cut, degrade, clock_step, clock_drift, slow,
                       // load, failures
  std::string path;    // where it was declared ("/faults/2"), for messages
  sim::Duration at;
  std::optional<sim::Duration> lasting;  // "for"
  sim::Duration stagger;           // with several target nodes: the i-th starts at at + i*stagger
  std::vector<NodeRange> targets;  // the target nodes in order; for a load, whole components
  std::vector<std::vector<NodeRange>> groups;  // partition
  bool one_way = false;
  std::string from, to;  // cut / degrade of a link
  bool both_directions = true;
  double factor = 1;                  // degrade latency factor, slow factor, load factor
  double loss = 0;                    // degrade: added loss
  sim::Duration by;                   // clock_step
  double ppm = 0;                     // clock_drift
  sim::Distribution time_to_failure;  // failures
  sim::Distribution time_to_repair;   // failures
};

/// An extra column of the table: a component's figure ("api.wasted_fraction").
struct ColumnSpec {
  std::string component;
  std::string figure;
  std::string label() const { return component + "." + figure; }
};

struct ReportSpec {
  std::vector<double> percentiles{50, 90, 99, 99.9};
  sim::Duration window = sim::Duration::nanoseconds(1'000'000'000);
  std::vector<ColumnSpec> columns;
  bool per_replica = false;  // figures of every replica, not only combined per component
};

/// A service level objective with its alert rules (docs/scenario-format.md, "SLOs"), every
/// default resolved: windows scaled, the evaluation interval and grace chosen.
struct SloSpec {
  std::string name;
  std::string path;   // "/slos/availability", for messages
  std::string group;  // a client group; "": every request
  double objective = 0.999;
  std::optional<sim::Duration> latency;  // a latency SLO: good only if it succeeded within this
  sim::Duration period;
  sim::Duration evaluation_interval;
  sim::Duration incident_grace;
  double min_incident_budget = 0;
  std::vector<models::AlertRule> alerts;  // windows absolute
};

/// One variant of a scenario, complete and checked.
struct ScenarioSpec {
  std::string file;
  std::string name;
  std::string description;
  std::string variant;
  sim::Duration duration;
  sim::Duration warmup;
  std::vector<std::uint64_t> seeds;
  NetworkSpec network;
  std::vector<ComponentSpec> components;
  std::vector<FaultSpec> faults;
  ReportSpec report;
  std::vector<SloSpec> slos;
  Json effective;  // this variant's scenario after the patch, every default filled in
};

struct ScenarioFile {
  std::string path;
  std::string name;
  std::string description;
  std::vector<ScenarioSpec> variants;  // the base first, then the variants in file order
};

/// Reads, checks and expands a scenario file. Throws ScenarioError (every problem found,
/// each with the JSON path) for bad input; never returns a partly checked scenario.
ScenarioFile load_scenario_file(const std::string& path);
/// The same from text already in memory (`path` is used in messages only).
ScenarioFile load_scenario_text(const std::string& text, const std::string& path);

}  // namespace scenario
