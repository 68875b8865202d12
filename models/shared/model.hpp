// A model instance: the process on one node of a scenario component, plus its report figures.
// And what the scenario hands a model when it builds it (BuildContext).
//
// What a model class provides to be registered (scenario/model_catalog.cpp, one line each; the
// catalog refuses at compile time a model that lacks one of them):
//   using Config = ...;          its parameters: defaults as member initializers, describe(),
//                                and `static constexpr const char* kSummary` (what it does);
//   static std::unique_ptr<Model> make(const Config&, BuildContext&, std::size_t replica);
//   static Wiring wiring(const Config&);   the protocols it serves and calls (protocol.hpp);
//   static FigureDocs figure_docs();       the figures it emits (figures.hpp);
// and optionally
//   static std::vector<ConfigProblem> check(const Config&);   cross-field checks (or
//   check(const Config&, std::size_t count), to check against the component's node count);
//   static constexpr bool kGeneratesLoad = true;               a load fault may scale it;
//   static SeriesDocs series_docs();                           its gauges over time (series.hpp).
// docs/writing-a-model.md walks through one.
#pragma once

#include <algorithm>
#include <array>
#include <functional>
#include <memory>
#include <string>
#include <typeindex>
#include <typeinfo>
#include <utility>
#include <vector>

#include "models/shared/figures.hpp"
#include "models/shared/invariants.hpp"
#include "models/shared/params.hpp"
#include "models/shared/protocol.hpp"
#include "models/shared/request_recorder.hpp"
#include "models/shared/series.hpp"
#include "models/shared/state_timeline.hpp"
#include "sim/cluster.hpp"
#include "sim/faults.hpp"

namespace models {

class Model : public sim::Process {
 public:
  /// Adds this instance's figures (combined across the component's replicas by the report).
  virtual void figures(Figures& /*out*/) const {}
  /// A load change from the fault schedule (a spike): multiply the offered load by `factor`.
  /// Returns false if this model generates no load (the scenario loader rejects such a target).
  virtual bool scale_load(double /*factor*/) { return false; }
  /// State timelines this instance keeps (a circuit breaker's), for the report's timelines.
  virtual std::vector<const StateTimeline*> state_timelines() const { return {}; }
  /// The current values of the gauges the model declares in series_docs() (series.hpp), at the
  /// end of a report window. Reads state only.
  virtual void sample(sim::Time /*now*/, SeriesSample& /*out*/) const {}
};

/// A problem of a configuration that describe()'s limits cannot express: the field's path
/// relative to the component ("health_check/timeout") and what was expected.
struct ConfigProblem {
  std::string field;
  std::string message;
};

/// What BuildContext::shared_config and BuildContext::shared hand out: one immutable object per
/// source object and type, made on the first request, then handed out again. A component's
/// build asks with the same configuration object for each of its nodes.
class SharedConfigs {
 public:
  template <class T, class Make>
  std::shared_ptr<const T> get(const void* source, Make&& make) {
    if (const Entry* e = find<T>(source)) return std::static_pointer_cast<const T>(e->value);
    return add<T>(source, make());
  }
  /// `value`, as the copy handed out last for `source` if that one is equal, else as a new
  /// copy (handed out from then on): for what may differ from node to node, but seldom does.
  template <class T>
  std::shared_ptr<const T> intern(const void* source, T value) {
    Entry* e = find<T>(source);
    if (e == nullptr) return add<T>(source, std::move(value));
    if (!(*static_cast<const T*>(e->value.get()) == value))
      e->value = std::make_shared<const T>(std::move(value));
    return std::static_pointer_cast<const T>(e->value);
  }

 private:
  struct Entry {
    const void* source;
    std::type_index type;
    std::shared_ptr<const void> value;
  };

  template <class T>
  Entry* find(const void* source) {
    for (Entry& e : entries_)
      if (e.source == source && e.type == std::type_index(typeid(T))) return &e;
    return nullptr;
  }
  template <class T>
  std::shared_ptr<const T> add(const void* source, T value) {
    std::shared_ptr<const T> copy = std::make_shared<const T>(std::move(value));
    entries_.push_back({source, std::type_index(typeid(T)), copy});
    return copy;
  }

  std::vector<Entry> entries_;  // a few per component
};

/// Everything a model may use while building its instances (set-up time: may allocate).
struct BuildContext {
  sim::Cluster& cluster;
  sim::FaultInjector& faults;
  RequestRecorder& recorder;
  std::string component;           // the component's name in the scenario
  std::vector<sim::NodeId> nodes;  // its nodes, one instance each, in replica order
  sim::Time warmup_end;            // figures are measured from here ...
  sim::Time end;                   // ... to here
  /// The nodes of another component (the scenario has already checked that it exists).
  std::function<std::vector<sim::NodeId>(const ComponentRef&)> resolve;
  /// The run's invariant checks (models/shared/invariants.hpp); null where nothing checks them
  /// (a unit test's harness may leave it so).
  Invariants* invariants = nullptr;

  /// The recorder's group for a client labelled `label` (empty: the component's own name).
  std::uint32_t group(const std::string& label) const {
    return recorder.group(label.empty() ? component : label);
  }

  /// One immutable copy of the component's configuration, shared by all its instances: a
  /// model that keeps its configuration holds this rather than a copy per node.
  template <class Config>
  std::shared_ptr<const Config> shared_config(const Config& config) {
    return shared_configs.get<Config>(&config, [&] { return config; });
  }
  /// One immutable object made by `make` from `source` (part of the component's configuration),
  /// shared by all its instances: a client's key sampler, whose Zipf table can be large.
  template <class T, class Make>
  std::shared_ptr<const T> shared(const void* source, Make&& make) {
    return shared_configs.get<T>(source, std::forward<Make>(make));
  }
  /// `value` made for one instance from `source`, shared with the previous instance if equal.
  template <class T>
  std::shared_ptr<const T> intern(const void* source, T value) {
    return shared_configs.intern<T>(source, std::move(value));
  }
  SharedConfigs shared_configs;
};

/// Measures the time-averages of N piecewise-constant quantities that change together (a
/// server's busy workers and waiting requests) over [from, to], counting only what happens
/// inside that interval. One clock for the N: less memory per node than N TimeAverage.
template <std::size_t N>
class TimeAverages {
 public:
  TimeAverages(sim::Time from, sim::Time to) : from_(from), to_(to), last_(from) {}
  /// The quantities change to `values` at `now`.
  void set(sim::Time now, const std::array<double, N>& values) {
    accumulate(now);
    values_ = values;
  }
  double average(std::size_t i) const {
    TimeAverages copy = *this;
    copy.accumulate(to_);
    const double span = (to_ - from_).seconds();
    return span > 0 ? copy.areas_[i] / span : 0.0;
  }
  double current(std::size_t i) const { return values_[i]; }
  sim::Time from() const { return from_; }
  sim::Time to() const { return to_; }

 private:
  void accumulate(sim::Time now) {
    const sim::Time clamped = std::min(std::max(now, from_), to_);
    if (clamped > last_)
      for (std::size_t i = 0; i < N; ++i) areas_[i] += values_[i] * (clamped - last_).seconds();
    last_ = std::max(last_, clamped);
  }
  sim::Time from_, to_, last_;
  std::array<double, N> values_{};
  std::array<double, N> areas_{};
};

/// The time-average of one piecewise-constant quantity (queue length, busy workers) over
/// [from, to].
class TimeAverage : private TimeAverages<1> {
 public:
  using TimeAverages<1>::TimeAverages;
  /// The quantity changes to `value` at `now`.
  void set(sim::Time now, double value) { TimeAverages<1>::set(now, {value}); }
  double average() const { return TimeAverages<1>::average(0); }
  double current() const { return TimeAverages<1>::current(0); }
};

}  // namespace models
