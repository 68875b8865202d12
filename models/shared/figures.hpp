// A model's own figures for the report (queue lengths, utilization, ...), named, with how they
// combine across the replicas of a component: summed (counts), averaged (utilization), or the
// maximum (peak queue). Collected after the run; may allocate.
//
// Every model also *declares* its figures (FigureDoc: name, unit, meaning), once, beside the
// code that emits them. The declarations feed `dsim models NAME`, docs/report-format.md and the
// loader's check of a scenario's report columns; after each run the runner checks that a model
// emitted exactly the figures it declared (a mismatch is a bug in the model, not in the input).
//
// Indexed figures: a figure declared as "shard_share[i]" is a family, one per part of the model
// (a sharder's shards); it is emitted as "shard_share[0]", "shard_share[1]", ... (indexed_name),
// as many as the configuration has parts, and each is reported as a figure of its own.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
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

/// "base[index]": the name of one figure of an indexed family declared as "base[i]".
inline std::string indexed_name(std::string_view base, std::size_t index) {
  return std::string(base) + "[" + std::to_string(index) + "]";
}

/// Whether the declared name `doc` is an indexed family ("base[i]").
inline bool is_indexed(std::string_view doc) {
  return doc.size() > 3 && doc.substr(doc.size() - 3) == "[i]";
}

/// Whether the figure `name` is the declared `doc`: the same name, or one index ("base[12]") of
/// the family "base[i]".
inline bool names_figure(std::string_view doc, std::string_view name) {
  if (!is_indexed(doc)) return doc == name;
  const std::string_view base = doc.substr(0, doc.size() - 2);  // "base["
  if (name.size() <= base.size() + 1 || name.substr(0, base.size()) != base || name.back() != ']')
    return false;
  const std::string_view digits = name.substr(base.size(), name.size() - base.size() - 1);
  if (digits.size() > 1 && digits.front() == '0') return false;  // one spelling per index
  for (const char c : digits)
    if (c < '0' || c > '9') return false;
  return true;
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
