// The names a scenario gives nodes — a component ("api": each of its replicas), one replica
// ("api[17]") or a switch ("tor1") — resolved to NodeRanges in constant time, without listing
// a component's nodes: validating a fault or a partition costs what its text costs.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "scenario/scenario.hpp"

namespace scenario {

/// A lookup built once per variant. It refers to the scenario's components and switches, which
/// must outlive it unchanged.
class NodeIndex {
 public:
  explicit NodeIndex(const ScenarioSpec& scenario);

  /// The nodes `name` denotes, as the names resolve everywhere: a component's name first, then
  /// one of its replicas, then a switch. nullopt when it names none.
  std::optional<NodeRange> find(std::string_view name) const;
  /// The index of the component named `name` (a component only, not a node or a switch).
  std::optional<std::size_t> component(std::string_view name) const;

 private:
  std::optional<NodeRange> replica(std::string_view name) const;

  const ScenarioSpec& scenario_;
  // For lookup only: nothing iterates these, so their order cannot decide anything.
  std::unordered_map<std::string_view, std::size_t> components_;
  std::unordered_map<std::string_view, std::size_t> switches_;
};

/// The name of the i-th node of `range` ("api[3]"; "api" for a one-node component; "tor1").
std::string node_name(const ScenarioSpec& scenario, const NodeRange& range, std::size_t i);
/// Appends `range` to `ranges`, merging it into the last one when it continues it, so that
/// "api[0]", "api[1]", ... listed one by one take the room of one range.
void append_range(std::vector<NodeRange>& ranges, const NodeRange& range);

}  // namespace scenario
