// The runner's sampler of model gauges over time (models/shared/series.hpp): at each report
// window's end it asks every instance of every component for its series (Model::sample),
// checks them against the model's series_docs(), combines the replicas and keeps one value per
// window and "component.series".
//
// In the order things happen: the runner adds each component with its instances (set-up: the
// only allocation besides the first sample's), then calls sample(window end) once per window, in
// time order, after running the simulator to that instant; result() hands the values over.
// Replicas combine as the series declares: a sum, a mean, or a maximum of the replicas that have
// a value (NaN: none; the maximum is NaN only if every replica's is), as figures do.
// A model that sets a series it does not declare, sets one twice, or omits a declared one has
// a bug: the sampler stops the run (DSIM_ASSERT: an internal error), as for figures.
//
// Reference: a Prometheus server scraping gauges at a fixed interval, aggregated per job with
// sum/avg/max by (component). Differences: the scrape happens at each window's end exactly, in
// simulated time (no jitter, no missed scrape, no staleness), after every event at or before
// that instant; a crashed or paused instance is still read (its state as the model keeps it:
// a crashed server reports an empty queue) instead of dropping out of the aggregate.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "models/shared/model.hpp"
#include "models/shared/series.hpp"
#include "scenario/model_catalog.hpp"
#include "sim/time.hpp"

namespace scenario {

/// One series of one component over the run: one value per report window.
struct ComponentSeries {
  std::string component;
  std::string name;
  std::string unit;
  std::vector<double> values;
};

class SeriesSampler {
 public:
  /// Room for `windows` samples per series (reserved as components are added).
  explicit SeriesSampler(std::size_t windows) : windows_(windows) {}

  /// Samples `instances` (the replicas of `component`, a `binding` model) from now on; a model
  /// without series adds nothing.
  void add(const std::string& component, const ModelBinding& binding,
           std::vector<const models::Model*> instances);
  /// The values of every series at `now`, a window's end: one more value each.
  void sample(sim::Time now);
  std::vector<ComponentSeries> result() && { return std::move(series_); }

 private:
  struct Component {
    const ModelBinding* binding;
    std::vector<const models::Model*> instances;
    std::size_t first;  // its first series in series_, in declaration order
  };
  /// The index in the binding's series docs of `name`; their size() if it declares none such.
  static std::size_t declared(const ModelBinding& binding, const char* name);

  std::size_t windows_;
  std::vector<Component> components_;
  std::vector<ComponentSeries> series_;
  models::SeriesSample sample_;      // reused: no allocation once it has grown
  std::vector<double> combined_;     // per series of a component, the replicas' running value
  std::vector<std::size_t> counts_;  // per series: how many replicas have set it so far
};

}  // namespace scenario
