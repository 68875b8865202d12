// Wiring checks: references resolve, each target serves the protocols its caller speaks
// (models/shared/protocol.hpp), links join known nodes, and no request can travel in a circle.
// Cycles are found as strongly connected components with Boost.Graph.
#include <boost/graph/adjacency_list.hpp>
#include <boost/graph/strong_components.hpp>
#include <string>
#include <string_view>

#include "scenario/loader_parts.hpp"
#include "scenario/model_catalog.hpp"
#include "scenario/node_index.hpp"
#include "scenario/value_codec.hpp"
#include "sim/assert.hpp"

namespace scenario {
namespace {

// The components (other than `caller`) that serve everything `speaks` names, for a hint.
std::string components_serving(const std::vector<ComponentSpec>& components,
                               const std::vector<models::Wiring>& wiring, std::size_t caller,
                               models::Protocols speaks) {
  std::string names;
  for (std::size_t j = 0; j < components.size(); ++j)
    if (j != caller && wiring[j].serves.contains(speaks))
      names += (names.empty() ? "" : ", ") + components[j].name;
  return names.empty() ? "no component of this scenario serves " + speaks.names()
                       : "components that serve " + speaks.names() + ": " + names;
}

// A model must declare a call for each of its references; a gap is the model's bug.
void require_declared_calls(const ComponentSpec& c, const models::Wiring& wiring) {
  for (const auto& ref : c.binding->references(c.config)) {
    bool declared = false;
    // Compared without building "/" + field: GCC 12 at -O3 warns (-Wrestrict, a false
    // positive) on that concatenation, which -Werror makes an error in Release builds.
    const std::string_view path(ref.path);
    for (const auto& call : wiring.calls)
      declared = declared || (path.starts_with('/') && path.substr(1) == call.field);
    DSIM_ASSERT(declared,
                "model " + c.model + " declares no protocol for its reference " + ref.path);
  }
}

}  // namespace

void check_wiring(const ScenarioSpec& scenario, Problems& problems) {
  const auto& components = scenario.components;
  const NodeIndex index(scenario);
  for (const auto& s : scenario.network.switches)
    if (index.component(s))
      problems.add("/network/switches", "\"" + s + "\" is already a component's name");

  std::vector<models::Wiring> wiring;
  for (const auto& c : components) wiring.push_back(c.binding->wiring(c.config));

  using Graph = boost::adjacency_list<boost::vecS, boost::vecS, boost::directedS>;
  Graph graph(components.size());
  std::vector<bool> self_loop(components.size(), false);
  for (std::size_t i = 0; i < components.size(); ++i) {
    const ComponentSpec& c = components[i];
    require_declared_calls(c, wiring[i]);
    const std::size_t problems_before = problems.items().size();
    for (const models::Call& call : wiring[i].calls) {
      const std::string where = "/components/" + c.name + "/" + call.field;
      if (call.target.empty()) {
        problems.add(where, "missing (required): the component this " + c.model + " calls (" +
                                components_serving(components, wiring, i, call.speaks) + ")");
        continue;
      }
      const auto target = index.component(call.target.name);
      if (!target) {
        std::vector<std::string> names;
        for (const auto& other : components) names.push_back(other.name);
        const std::string suggestion = closest_name(call.target.name, names);
        problems.add(where,
                     "unknown component \"" + call.target.name + "\"" +
                         (suggestion.empty() ? "" : " (did you mean \"" + suggestion + "\"?)"));
        continue;
      }
      const std::size_t j = *target;
      const models::Protocols missing = call.speaks.minus(wiring[j].serves);
      if (!missing.empty()) {
        problems.add(where, "\"" + call.target.name + "\" (model " + components[j].model +
                                ") does not serve " + missing.names() + ", which this " + c.model +
                                " speaks to it" +
                                (*call.why ? std::string(" (") + call.why + ")" : "") + "; " +
                                components_serving(components, wiring, i, call.speaks));
        continue;
      }
      if (j == i) self_loop[i] = true;
      boost::add_edge(i, j, graph);
    }
    if (problems.items().size() != problems_before) continue;
    const NodeCount nodes = [&](const models::ComponentRef& ref) -> std::size_t {
      const auto j = index.component(ref.name);
      return j ? components[*j].count : 0;
    };
    for (const auto& p : c.binding->check_targets(c.config, nodes))
      problems.add("/components/" + c.name + "/" + p.field, p.message);
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
      if (!end->empty() && !index.find(*end))
        problems.add("/network/links/" + std::to_string(i) + (end == &l.from ? "/from" : "/to"),
                     "unknown node or component \"" + *end + "\"");
  }
}

}  // namespace scenario
