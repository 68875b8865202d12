// Runs one variant of a scenario with one seed and returns everything the report needs.
// A pure function of (spec, seed): no wall clock, no shared state; safe to call from several
// threads at once on different runs.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "models/operations/slo_evaluation.hpp"
#include "models/shared/figures.hpp"
#include "models/shared/invariants.hpp"
#include "models/shared/request_recorder.hpp"
#include "models/shared/state_timeline.hpp"
#include "scenario/scenario.hpp"
#include "scenario/series_sampler.hpp"
#include "sim/cluster.hpp"
#include "sim/failure_process.hpp"
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

/// A failure process's ground truth over the measured interval (sim/failure_process.hpp).
struct FailureProcessFigures {
  struct NodeFigures {
    std::string node;
    double up_fraction = 1;      // of the measured interval not crashed, whoever crashed it
    std::uint64_t failures = 0;  // crashes the process caused
    std::uint64_t skipped = 0;   // failures due while the node was already down
  };
  std::string fault;                // where it was declared: "/faults/2"
  double expected_up_fraction = 1;  // E[TTF] / (E[TTF] + E[TTR])
  std::vector<NodeFigures> nodes;
};

struct RunResult {
  std::uint64_t seed = 0;
  std::uint64_t fingerprint = 0;
  std::uint64_t events = 0;
  sim::Duration simulated;
  models::RequestRecorder requests;            // its windows taken into `windows`
  std::vector<models::WindowSummary> windows;  // the report windows, in time order
  std::vector<ComponentFigures> components;
  std::vector<sim::FaultRecord> faults;
  std::uint64_t faults_unlisted = 0;  // applied but not in `faults` (a failure process's cap)
  std::vector<FailureProcessFigures> failure_processes;
  std::vector<StateSeries> states;
  /// Model gauges (series.hpp): one value per report window, a snapshot at the window's end;
  /// in component order, then each model's declaration order.
  std::vector<ComponentSeries> series;
  sim::NetworkCounters network;
  sim::ClusterCounters cluster;
  std::uint64_t invariant_violations = 0;
  std::vector<models::InvariantViolation> violations;  // the first Invariants::kKept
  std::vector<models::SloResult> slos;                 // one per spec.slos, in order
  bool stopped = false;  // cut short by its RunControl: incomplete, not to be reported
};

/// How a run may be cut short from outside, for `dsim run --max-events`, `--max-wall` and its
/// progress line. None of it changes what a complete run computes.
struct RunControl {
  /// The most events the run may process; past it the run stops, incomplete.
  std::uint64_t max_events = std::numeric_limits<std::uint64_t>::max();
  /// Called about every kSliceEvents events with the simulated time reached and the events so
  /// far; returning false stops the run, incomplete. Empty: never called.
  std::function<bool(sim::Time reached, std::uint64_t events)> keep_going;
  static constexpr std::uint64_t kSliceEvents = std::uint64_t{1} << 20;
};

/// Runs `spec` with `seed`. A run stopped by `control` returns early with `stopped` set,
/// `simulated` the time it reached and `events`; its other fields are empty.
RunResult run_scenario(const ScenarioSpec& spec, std::uint64_t seed,
                       const RunControl& control = {});

}  // namespace scenario
