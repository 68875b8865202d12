#include "scenario/series_sampler.hpp"

#include <algorithm>
#include <cmath>
#include <string_view>

#include "sim/assert.hpp"

namespace scenario {

void SeriesSampler::add(const std::string& component, const ModelBinding& binding,
                        std::vector<const models::Model*> instances) {
  if (binding.series.empty()) return;
  components_.push_back({&binding, std::move(instances), series_.size()});
  for (const models::SeriesDoc& doc : binding.series) {
    ComponentSeries& s = series_.emplace_back(ComponentSeries{component, doc.name, doc.unit, {}});
    s.values.reserve(windows_);
  }
  combined_.resize(std::max(combined_.size(), binding.series.size()));
  counts_.resize(std::max(counts_.size(), binding.series.size()));
}

std::size_t SeriesSampler::declared(const ModelBinding& binding, const char* name) {
  std::size_t i = 0;
  while (i < binding.series.size() && std::string_view(binding.series[i].name) != name) ++i;
  return i;
}

void SeriesSampler::sample(sim::Time now) {
  for (const Component& c : components_) {
    const models::SeriesDocs& docs = c.binding->series;
    for (std::size_t j = 0; j < docs.size(); ++j) {
      combined_[j] = docs[j].combine == models::Combine::Max ? std::nan("") : 0.0;
      counts_[j] = 0;
    }
    for (std::size_t r = 0; r < c.instances.size(); ++r) {
      sample_.clear();
      c.instances[r]->sample(now, sample_);
      for (const models::SeriesSample::Item& item : sample_.items()) {
        const std::size_t j = declared(*c.binding, item.name);
        DSIM_ASSERT(j < docs.size(), "model " + c.binding->name + " set series " + item.name +
                                         " that it does not declare");
        ++counts_[j];
        double& acc = combined_[j];
        if (docs[j].combine != models::Combine::Max)
          acc += item.value;
        else if (!std::isnan(item.value))
          acc = std::isnan(acc) ? item.value : std::max(acc, item.value);
      }
      for (std::size_t j = 0; j < docs.size(); ++j)
        DSIM_ASSERT(counts_[j] == r + 1,
                    "model " + c.binding->name + " set series " + docs[j].name + " " +
                        (counts_[j] < r + 1 ? "not at all" : "twice") + " in one sample");
    }
    for (std::size_t j = 0; j < docs.size(); ++j) {
      double value = combined_[j];
      if (docs[j].combine == models::Combine::Mean)
        value /= static_cast<double>(c.instances.size());
      series_[c.first + j].values.push_back(value);
    }
  }
}

}  // namespace scenario
