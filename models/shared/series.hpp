// A model's gauges over time (a queue's depth, a pool's workers), for the report's per-window
// series and the timeline plot.
//
// A model that keeps gauges declares them once (SeriesDoc: name, unit, how replicas combine,
// meaning; `static SeriesDocs series_docs()` beside figure_docs()) and writes their current
// values in Model::sample(). The runner samples every model at the end of each report window
// (after the window's last event: a snapshot, as a metrics scraper would take it), combines the
// component's replicas (a sum for depths and counts, a mean or a maximum), and reports one value
// per window. Sampling reads state only: it schedules nothing and changes no run.
#pragma once

#include <string>
#include <vector>

#include "models/shared/figures.hpp"

namespace models {

struct SeriesDoc {
  const char* name;
  const char* unit;
  Combine combine;
  const char* meaning;
};
using SeriesDocs = std::vector<SeriesDoc>;

/// The values one instance gives at one sampling instant, by name.
class SeriesSample {
 public:
  void set(const char* name, double value) { items_.push_back({name, value}); }
  struct Item {
    const char* name;  // as declared
    double value;
  };
  const std::vector<Item>& items() const { return items_; }
  void clear() { items_.clear(); }

 private:
  std::vector<Item> items_;
};

}  // namespace models
