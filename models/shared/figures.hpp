// A model's own figures for the report (queue lengths, utilization, ...), named, with how they
// combine across the replicas of a component: summed (counts), averaged (utilization), or the
// maximum (peak queue). Collected after the run; may allocate.
//
// Every model also *declares* its figures (FigureDoc: name, unit, meaning), once, beside the
// code that emits them. The declarations feed `dsim models NAME`, docs/report-format.md and the
// loader's check of a scenario's report columns; after each run the runner checks that a model
// emitted exactly the figures it declared (a mismatch is a bug in the model, not in the input).
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

/// What a figure means, for people: its name, its unit ("requests", "ms", "fraction", ...)
/// and one sentence. `combine` says how replicas are combined.
struct FigureDoc {
  const char* name;
  const char* unit;
  Combine combine;
  const char* meaning;
};
using FigureDocs = std::vector<FigureDoc>;

/// `a` followed by `b` (a model that composes a part declares the part's figures too).
inline FigureDocs operator+(FigureDocs a, const FigureDocs& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

inline const char* to_string(Combine c) {
  return c == Combine::Sum ? "sum" : c == Combine::Mean ? "mean" : "max";
}

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
