// How a model's Config describes its parameters, once, for everyone who needs them.
//
// Each Config struct holds its defaults as member initializers and has
//   template <class V> void describe(V& v) { v.field("workers", workers, "what it means",
//   Limits{1}); ... }
// The scenario layer runs a visitor over it to read JSON (with errors naming the path), to
// write the effective configuration into the report, and to print `dsim models`; the three
// cannot drift apart because there is only this one description. No JSON here (layering).
//
// Field types a visitor understands: bool, int, std::int64_t, double, sim::Duration, Rate,
// Probability, sim::Distribution, std::string, std::vector<std::string> (names), ComponentRef,
// enums (with choices), nested structs with describe() (v.section) and vectors of them (v.list).
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace models {

/// Events per second, written "2000/s" in scenario files.
struct Rate {
  double per_second = 0;
};

/// A probability, checked to lie in [0, 1].
struct Probability {
  double value = 0;
};

/// The name of another component of the scenario (resolved to its nodes when building).
struct ComponentRef {
  std::string name;
  bool empty() const { return name.empty(); }
};

/// Bounds on a numeric field (inclusive). For durations, in nanoseconds; for rates, per second.
struct Limits {
  double min = -std::numeric_limits<double>::infinity();
  double max = std::numeric_limits<double>::infinity();
  /// Rates and distributions with min > 0 must be strictly positive ("a rate of zero").
};

/// One allowed value of an enum field.
template <class E>
struct Choice {
  const char* name;
  E value;
  const char* meaning;
};

}  // namespace models
