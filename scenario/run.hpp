// Runs one variant of a scenario with one seed and returns everything the report needs.
// A pure function of (spec, seed): no wall clock, no shared state; safe to call from several
// threads at once on different runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/shared/figures.hpp"
#include "models/shared/invariants.hpp"
#include "models/shared/request_recorder.hpp"
#include "models/shared/state_timeline.hpp"
#include "scenario/scenario.hpp"
#include "sim/cluster.hpp"
#include "sim/faults.hpp"

namespace scenario {

struct ReplicaFigures {
  std::string node;
  std::vector<models::Figure> figures;
};

struct ComponentFigures {
  std::string component;
  std::string model;
  std::size_t replicas = 0;
  std::vector<models::Figure> figures;      // combined across replicas (sum, mean or max)
  std::vector<ReplicaFigures> per_replica;  // with report.per_replica only
};

struct StateSeries {
  std::string component;
  std::string node;
  std::string name;
  std::vector<models::StateTimeline::Change> changes;
};

struct RunResult {
  std::uint64_t seed = 0;
  std::uint64_t fingerprint = 0;
  std::uint64_t events = 0;
  sim::Duration simulated;
  models::RequestRecorder requests;
  std::vector<ComponentFigures> components;
  std::vector<sim::FaultRecord> faults;
  std::vector<StateSeries> states;
  sim::NetworkCounters network;
  sim::ClusterCounters cluster;
  std::uint64_t invariant_violations = 0;
  std::vector<models::InvariantViolation> violations;  // the first Invariants::kKept
};

RunResult run_scenario(const ScenarioSpec& spec, std::uint64_t seed);

}  // namespace scenario
