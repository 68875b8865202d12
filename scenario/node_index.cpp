#include "scenario/node_index.hpp"

#include <charconv>

#include "sim/assert.hpp"

namespace scenario {

NodeIndex::NodeIndex(const ScenarioSpec& scenario) : scenario_(scenario) {
  for (std::size_t c = 0; c < scenario.components.size(); ++c)
    components_.emplace(scenario.components[c].name, c);
  // A repeated switch name resolves to its first occurrence; emplace keeps the first.
  for (std::size_t s = 0; s < scenario.network.switches.size(); ++s)
    switches_.emplace(scenario.network.switches[s], s);
}

std::optional<std::size_t> NodeIndex::component(std::string_view name) const {
  const auto it = components_.find(name);
  if (it == components_.end()) return std::nullopt;
  return it->second;
}

std::optional<NodeRange> NodeIndex::find(std::string_view name) const {
  if (const auto c = component(name)) return NodeRange{*c, 0, scenario_.components[*c].count};
  if (auto r = replica(name)) return r;
  const auto s = switches_.find(name);
  if (s == switches_.end()) return std::nullopt;
  return NodeRange{NodeRange::kSwitches, s->second, 1};
}

// "api[17]" read as component "api", replica 17 (component names hold no '['), then confirmed
// against the replica's actual name, so that only the exact spelling resolves ("api[017]" not).
std::optional<NodeRange> NodeIndex::replica(std::string_view name) const {
  const auto open = name.find('[');
  if (open == std::string_view::npos || !name.ends_with(']')) return std::nullopt;
  const auto c = component(name.substr(0, open));
  if (!c) return std::nullopt;
  const std::string_view digits = name.substr(open + 1, name.size() - open - 2);
  std::size_t r = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), r);
  const ComponentSpec& component = scenario_.components[*c];
  if (error != std::errc{} || end != digits.data() + digits.size() || r >= component.count ||
      component.node_name(r) != name)
    return std::nullopt;
  return NodeRange{*c, r, 1};
}

std::string node_name(const ScenarioSpec& scenario, const NodeRange& range, std::size_t i) {
  if (range.component == NodeRange::kSwitches) return scenario.network.switches.at(range.first + i);
  const ComponentSpec& component = scenario.components.at(range.component);
  DSIM_ASSERT(range.first + i < component.count, "node_name: replica out of range");
  return component.node_name(range.first + i);
}

void append_range(std::vector<NodeRange>& ranges, const NodeRange& range) {
  if (!ranges.empty() && ranges.back().component == range.component &&
      ranges.back().first + ranges.back().count == range.first) {
    ranges.back().count += range.count;
    return;
  }
  ranges.push_back(range);
}

}  // namespace scenario
