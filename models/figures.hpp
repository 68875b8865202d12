// A model's own figures for the report (queue lengths, utilization, ...), named, with how they
// combine across the replicas of a component: summed (counts), averaged (utilization), or the
// maximum (peak queue). Collected after the run; may allocate.
#pragma once

#include <string>
#include <vector>

namespace models {

enum class Combine { Sum, Mean, Max };

struct Figure {
  std::string name;
  double value;
  Combine combine;
};

class Figures {
 public:
  void sum(std::string name, double value) {
    items_.push_back({std::move(name), value, Combine::Sum});
  }
  void mean(std::string name, double value) {
    items_.push_back({std::move(name), value, Combine::Mean});
  }
  void max(std::string name, double value) {
    items_.push_back({std::move(name), value, Combine::Max});
  }
  const std::vector<Figure>& items() const { return items_; }

 private:
  std::vector<Figure> items_;
};

}  // namespace models
