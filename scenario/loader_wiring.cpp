// Wiring checks: references resolve, links join known nodes, and no request can travel in a
// circle. Cycles are found as strongly connected components with Boost.Graph.
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/strong_components.hpp>

#include "scenario/loader_parts.hpp"
#include "scenario/model_catalog.hpp"
#include "scenario/value_codec.hpp"

namespace scenario {

std::vector<std::string> expand_name(const std::string& name, const ScenarioSpec& scenario) {
  for (const auto& c : scenario.components) {
    if (c.name == name) return c.node_names;
    for (const auto& n : c.node_names)
      if (n == name) return {n};
  }
  for (const auto& s : scenario.network.switches)
    if (s == name) return {s};
  return {};
}

void check_wiring(const ScenarioSpec& scenario, Problems& problems) {
  const auto& components = scenario.components;
  std::vector<std::string> names;
  for (const auto& c : components) names.push_back(c.name);
  for (const auto& s : scenario.network.switches)
    if (std::find(names.begin(), names.end(), s) != names.end())
      problems.add("/network/switches", "\"" + s + "\" is already a component's name");

  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
  Graph graph(components.size());
  std::vector<bool> self_loop(components.size(), false);
  for (std::size_t i = 0; i < components.size(); ++i) {
    const ComponentSpec& c = components[i];
    for (const auto& ref : c.binding->references(c.config)) {
      const auto it = std::find(names.begin(), names.end(), ref.name);
      if (it == names.end()) {
        const std::string suggestion = closest_name(ref.name, names);
        problems.add("/components/" + c.name + ref.path,
                     "unknown component \"" + ref.name + "\"" +
                         (suggestion.empty() ? "" : " (did you mean \"" + suggestion + "\"?)"));
        continue;
      }
      const auto j = static_cast<std::size_t>(it - names.begin());
      if (j == i) self_loop[i] = true;
      boost::add_edge(i, j, graph);
    }
  }
  std::vector<int> component_of(components.size());
  const int count = boost::strong_components(graph, component_of.data());
  for (int scc = 0; scc < count; ++scc) {
    std::vector<std::string> members;
    bool loops = false;
    for (std::size_t i = 0; i < components.size(); ++i) {
      if (component_of[i] != scc) continue;
      members.push_back(components[i].name);
      loops = loops || self_loop[i];
    }
    if (members.size() < 2 && !loops) continue;
    std::string cycle;
    for (const auto& m : members) cycle += m + " -> ";
    problems.add(
        "/components/" + members.front(),
        "wiring cycle: " + cycle + members.front() + " (requests would be forwarded in a circle)");
  }

  for (std::size_t i = 0; i < scenario.network.links.size(); ++i) {
    const LinkDecl& l = scenario.network.links[i];
    for (const auto* end : {&l.from, &l.to})
      if (!end->empty() && expand_name(*end, scenario).empty())
        problems.add("/network/links/" + std::to_string(i) + (end == &l.from ? "/from" : "/to"),
                     "unknown node or component \"" + *end + "\"");
  }
}

}  // namespace scenario
