#include <algorithm>
#include <cctype>

#include "scenario/loader_parts.hpp"
#include "scenario/model_catalog.hpp"
#include "scenario/object_fields.hpp"

namespace scenario {
namespace {

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (const char c : name)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_') return false;
  return true;
}

std::string model_names() {
  std::string names;
  for (const auto& m : model_catalog()) names += (names.empty() ? "" : ", ") + m.name;
  return names;
}

std::vector<std::string> model_name_list() {
  std::vector<std::string> names;
  for (const auto& m : model_catalog()) names.push_back(m.name);
  return names;
}

// Node i of `a` is in the zone of node i of `b`, for every i (the lists may differ in length).
bool same_zones(const ComponentSpec& a, const ComponentSpec& b) {
  const std::size_t period = std::max<std::size_t>(1, a.zones.size() * b.zones.size());
  for (std::size_t i = 0; i < std::min(a.count, period); ++i)
    if (a.node_zone(i) != b.node_zone(i)) return false;
  return true;
}

// "zone": "east" for every replica, or ["east", "west"] assigned round-robin.
void read_zones(const Json& component, const std::string& path, const NetworkSpec& network,
                Problems& problems, ComponentSpec& out) {
  if (!component.contains("zone")) return;
  std::vector<std::string> zones;
  const Json& value = component.at("zone");
  if (value.is_string())
    zones = {value.get<std::string>()};
  else if (value.is_array() && !value.empty())
    for (const auto& z : value) zones.push_back(z.is_string() ? z.get<std::string>() : "");
  if (zones.empty()) {
    problems.add(path + "/zone",
                 "expected a zone name or a list of zone names, got " + shown(value));
    return;
  }
  std::vector<int> indices;
  for (const std::string& zone : zones) {
    int index = -1;
    for (std::size_t z = 0; z < network.zone_names.size(); ++z)
      if (network.zone_names[z] == zone) index = static_cast<int>(z);
    if (index < 0) {
      problems.add(path + "/zone",
                   "unknown zone \"" + zone + "\"" +
                       (network.zone_names.empty() ? " (the network declares no zones)" : ""));
      return;
    }
    indices.push_back(index);
  }
  out.zones = std::move(indices);
}

std::string component_names(const std::vector<ComponentSpec>& components) {
  std::string names;
  for (const auto& c : components) names += (names.empty() ? "" : ", ") + c.name;
  return names;
}

// "colocate_with": "app": node i of this component runs on the machine of node i of "app" (a
// sidecar and its application). The machine is named by its first component: no chains, so no
// cycles. Colocated nodes share their machine's zone; without a "zone" of their own they take it.
void check_colocation(const std::vector<bool>& declares_zone, const std::string& path,
                      Problems& problems, std::vector<ComponentSpec>& components) {
  for (std::size_t i = 0; i < components.size(); ++i) {
    ComponentSpec& c = components[i];
    if (c.colocate_with.empty()) continue;
    const std::string where = path + "/" + c.name + "/colocate_with";
    const auto host = std::find_if(components.begin(), components.end(), [&](const auto& other) {
      return other.name == c.colocate_with;
    });
    if (host == components.end()) {
      std::vector<std::string> names;
      for (const auto& other : components) names.push_back(other.name);
      const std::string suggestion = closest_name(c.colocate_with, names);
      problems.add(where,
                   "unknown component \"" + c.colocate_with + "\"" +
                       (suggestion.empty() ? "" : " (did you mean \"" + suggestion + "\"?)") +
                       "; components: " + component_names(components));
      continue;
    }
    if (&*host == &c) {
      problems.add(where,
                   "a component cannot be colocated with itself: name the component "
                   "whose machines it shares (its application)");
      continue;
    }
    if (!host->colocate_with.empty()) {
      problems.add(where, "\"" + host->name + "\" is itself colocated with \"" +
                              host->colocate_with + "\": name the machine's first component (\"" +
                              host->colocate_with + "\") instead (no chains)");
      continue;
    }
    if (host->count != c.count) {
      problems.add(where, "expected a component with as many nodes as this one (" +
                              std::to_string(c.count) +
                              "): node i shares the "
                              "machine of node i, but \"" +
                              host->name + "\" has " + std::to_string(host->count));
      continue;
    }
    if (!declares_zone[i]) {
      c.zones = host->zones;  // on the machine, in its zone
    } else if (!same_zones(c, *host)) {
      problems.add(path + "/" + c.name + "/zone",
                   "expected the zones of \"" + host->name +
                       "\" (a node is in its machine's zone), or no \"zone\" at all");
    }
  }
}

}  // namespace

void read_components(const Json& components, const std::string& path, const NetworkSpec& network,
                     Problems& problems, std::vector<ComponentSpec>& out) {
  if (!components.is_object() || components.empty()) {
    problems.add(path,
                 "expected an object of named components {name: {\"model\": ...}}, got " +
                     (components.is_object() ? std::string("an empty one") : shown(components)));
    return;
  }
  std::vector<bool> declares_zone;  // per component read
  for (const auto& [name, component] : components.items()) {
    const std::string where = path + "/" + name;
    if (!valid_name(name)) {
      problems.add(where, "a component name uses letters, digits, '-' and '_' only (at most 64)");
      continue;
    }
    if (!component.is_object()) {
      problems.add(where, "expected an object with a \"model\", got " + shown(component));
      continue;
    }
    if (!component.contains("model") || !component.at("model").is_string()) {
      problems.add(where + "/model", "missing: one of " + model_names());
      continue;
    }
    ComponentSpec spec;
    spec.name = name;
    spec.model = component.at("model").get<std::string>();
    spec.binding = find_model(spec.model);
    if (spec.binding == nullptr) {
      const std::string suggestion = closest_name(spec.model, model_name_list());
      problems.add(where + "/model",
                   "unknown model \"" + spec.model + "\"" +
                       (suggestion.empty() ? "" : " (did you mean \"" + suggestion + "\"?)") +
                       "; known models: " + model_names());
      continue;
    }
    std::int64_t count = 1;
    if (component.contains("count")) {
      std::string problem;
      if (!read_value(component.at("count"), count, {1, kMaxNodesPerComponent}, problem))
        problems.add(where + "/count", problem);
    }
    spec.count = static_cast<std::size_t>(count);
    read_zones(component, where, network, problems, spec);
    declares_zone.push_back(component.contains("zone"));
    if (component.contains("colocate_with")) {
      const Json& value = component.at("colocate_with");
      if (value.is_string() && !value.get<std::string>().empty())
        spec.colocate_with = value.get<std::string>();
      else
        problems.add(where + "/colocate_with",
                     "expected the name of another component, got " + shown(value));
    }
    const std::size_t before = problems.items().size();
    spec.config = spec.binding->parse(component, where, problems);
    if (problems.items().size() == before)
      for (const auto& p : spec.binding->check(spec.config, spec.count))
        problems.add(where + "/" + p.field, p.message);
    out.push_back(std::move(spec));
  }
  check_colocation(declares_zone, path, problems, out);
}

}  // namespace scenario
