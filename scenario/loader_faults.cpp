// "faults": [{"action": "crash", "target": "api[0]", "at": "20s", "for": "10s"}, ...]
// Each action has its own keys; every target must name nodes or components of the scenario.
#include <algorithm>
#include <cmath>
#include <map>
#include <optional>
#include <tuple>
#include <utility>

#include "scenario/loader_parts.hpp"
#include "scenario/model_catalog.hpp"
#include "scenario/node_index.hpp"
#include "scenario/object_fields.hpp"
#include "sim/failure_process.hpp"

namespace scenario {
namespace {

// Fault factors (slow, load, degrade's latency_factor): at most a millionfold either way.
constexpr double kMinFactor = 1e-6, kMaxFactor = 1e6;
constexpr double kMaxLoadProduct = 1e12;

void check_end(ObjectFields& fields, const FaultSpec& f);
void check_totals(const std::vector<FaultSpec>& faults, const std::string& path,
                  const ScenarioSpec& scenario, Problems& problems);

// The keys each action takes besides action, at and for.
const std::map<std::string, std::vector<std::string>>& action_keys() {
  static const std::map<std::string, std::vector<std::string>> keys = {
      {"crash", {"target", "stagger"}},
      {"pause", {"target", "stagger"}},
      {"slow", {"target", "stagger", "factor"}},
      {"partition", {"groups", "one_way"}},
      {"cut", {"from", "to", "both_directions"}},
      {"degrade", {"target", "from", "to", "latency_factor", "loss"}},
      {"clock_step", {"target", "by"}},
      {"clock_drift", {"target", "ppm"}},
      {"load", {"target", "factor"}},
      {"failures", {"target", "time_to_failure", "time_to_repair"}},
  };
  return keys;
}

std::string action_names() {
  std::string names;
  for (const auto& [name, keys] : action_keys()) names += (names.empty() ? "" : ", ") + name;
  return names;
}

// Resolves names to node ranges (in order, repeats kept); reports unknown ones.
bool resolve_all(const std::vector<std::string>& names, const std::string& path,
                 const NodeIndex& index, Problems& problems, std::vector<NodeRange>& out) {
  bool ok = true;
  for (const auto& n : names) {
    const auto range = index.find(n);
    if (!range) {
      problems.add(path, "unknown node or component \"" + n + "\"");
      ok = false;
      continue;
    }
    append_range(out, *range);
  }
  return ok;
}

// A load spike scales clients: each target must be a component that generates load.
void read_load_targets(const std::vector<std::string>& names, const std::string& path,
                       const ScenarioSpec& scenario, const NodeIndex& index, Problems& problems,
                       std::vector<NodeRange>& out) {
  for (const auto& n : names) {
    const auto c = index.component(n);
    if (!c) {
      problems.add(path, "unknown component \"" + n + "\"");
      continue;
    }
    const ComponentSpec& component = scenario.components[*c];
    if (!component.binding->generates_load)
      problems.add(path, "\"" + n + "\" (" + component.model +
                             ") generates no load to scale: target a client");
    else
      out.push_back({*c, 0, component.count});  // whole components: never merged
  }
}

// The first of `groups` that has a node of `group`, if any.
std::optional<std::size_t> shared_group(const std::vector<std::vector<NodeRange>>& groups,
                                        const std::vector<NodeRange>& group) {
  for (std::size_t g = 0; g < groups.size(); ++g)
    for (const NodeRange& a : groups[g])
      for (const NodeRange& b : group)
        if (a.component == b.component && a.first < b.first + b.count &&
            b.first < a.first + a.count)
          return g;
  return std::nullopt;
}

// A name of `names` (all known to `index`) that denotes a node an earlier one does ("api" then
// "api[0]", or one name twice), if any: a partition puts each node in one group, once. Sorted,
// so that a group naming 100,000 nodes one by one is checked in n log n.
std::optional<std::size_t> repeated_member(const std::vector<std::string>& names,
                                           const NodeIndex& index) {
  struct Member {
    NodeRange range;
    std::size_t at;  // in `names`
  };
  std::vector<Member> members;
  for (std::size_t i = 0; i < names.size(); ++i) members.push_back({*index.find(names[i]), i});
  std::sort(members.begin(), members.end(), [](const Member& a, const Member& b) {
    return std::tie(a.range.component, a.range.first, a.at) <
           std::tie(b.range.component, b.range.first, b.at);
  });
  std::optional<std::size_t> repeated;
  // Of the members so far in the current component, the one that reaches furthest.
  const Member* reach = nullptr;
  for (const Member& m : members) {
    if (reach != nullptr && reach->range.component == m.range.component &&
        m.range.first < reach->range.first + reach->range.count) {
      repeated = std::min(repeated.value_or(names.size()), std::max(m.at, reach->at));
      if (m.range.first + m.range.count <= reach->range.first + reach->range.count) continue;
    }
    reach = &m;
  }
  return repeated;
}

// The component whose machines component `c`'s nodes run on: its colocate_with, or itself.
std::size_t machine_component(const ScenarioSpec& scenario, std::size_t c) {
  if (c == NodeRange::kSwitches || scenario.components[c].colocate_with.empty()) return c;
  for (std::size_t i = 0; i < scenario.components.size(); ++i)
    if (scenario.components[i].name == scenario.components[c].colocate_with) return i;
  return c;
}

// The first of `groups` that has a node on the machine of a node of `group` (colocated
// components: node i of each is on machine i), if any.
std::optional<std::size_t> shared_machine(const ScenarioSpec& scenario,
                                          const std::vector<std::vector<NodeRange>>& groups,
                                          const std::vector<NodeRange>& group) {
  for (std::size_t g = 0; g < groups.size(); ++g)
    for (const NodeRange& a : groups[g])
      for (const NodeRange& b : group)
        if (a.component != b.component && a.component != NodeRange::kSwitches &&
            b.component != NodeRange::kSwitches &&
            machine_component(scenario, a.component) == machine_component(scenario, b.component) &&
            a.first < b.first + b.count && b.first < a.first + a.count)
          return g;
  return std::nullopt;
}

// "groups": [["a", "b[0]"], "c"]: at least two groups, each a name or a list of names, no node
// in two of them.
void read_groups(const ObjectFields& fields, const ScenarioSpec& scenario, const NodeIndex& index,
                 Problems& problems, FaultSpec& f) {
  if (!fields.has("groups") || !fields.at("groups").is_array() || fields.at("groups").size() < 2) {
    problems.add(fields.path("groups"),
                 "expected at least two groups of node or component names, like [[\"a\"], "
                 "[\"b\", \"c\"]]");
    return;
  }
  for (std::size_t g = 0; g < fields.at("groups").size(); ++g) {
    const Json& group = fields.at("groups")[g];
    std::vector<std::string> members;
    std::vector<NodeRange> resolved;
    const std::string where = fields.path("groups") + "/" + std::to_string(g);
    if (group.is_string())
      members = {group.get<std::string>()};
    else if (group.is_array())
      for (const auto& m : group) members.push_back(m.is_string() ? m.get<std::string>() : "");
    if (members.empty()) {
      problems.add(where, "expected a list of node or component names, got " + shown(group));
    } else if (resolve_all(members, where, index, problems, resolved)) {
      if (const auto repeated = repeated_member(members, index))
        problems.add(where + "/" + std::to_string(*repeated),
                     "\"" + members[*repeated] +
                         "\" names a node that an earlier name of this group names: each node "
                         "once");
      else if (const auto other = shared_group(f.groups, resolved))
        problems.add(where, "shares nodes with group " + std::to_string(*other) +
                                ": a node can be in only one group of a partition");
      else if (const auto machine = shared_machine(scenario, f.groups, resolved))
        problems.add(where, "has nodes on the machines of group " + std::to_string(*machine) +
                                " (colocate_with): a partition separates machines, and a "
                                "machine's nodes go with it");
      f.groups.push_back(std::move(resolved));
    }
  }
}

// A failure process's two distributions: positive and finite means (read_value refuses a
// non-positive mean), and a mean time to failure of at least 1 ms, so that a run cannot drown
// in failures. Draws below 1 ns are raised to 1 ns (sim/failure_process.hpp).
void read_failure_times(ObjectFields& fields, FaultSpec& f) {
  for (auto [key, out] : {std::pair{"time_to_failure", &f.time_to_failure},
                          std::pair{"time_to_repair", &f.time_to_repair}}) {
    if (!fields.get(key, *out, {1}, true)) continue;
    if (!std::isfinite(out->mean()))
      fields.problems().add(fields.path(key), "expected a distribution with a finite mean, got " +
                                                  shown(fields.at(key)));
  }
  const double mean_ns = f.time_to_failure.mean();
  const auto min_ns = static_cast<double>(sim::FailureProcess::kMinMeanTimeToFailure.ns());
  if (fields.has("time_to_failure") && mean_ns > 0 && mean_ns < min_ns)
    fields.problems().add(fields.path("time_to_failure"),
                          "expected a mean time to failure of at least " +
                              sim::format_duration(sim::FailureProcess::kMinMeanTimeToFailure) +
                              ", got " + shown(fields.at("time_to_failure")) + " (mean " +
                              sim::format_duration(sim::duration_from_ns(mean_ns)) + ")");
}

void read_one(const Json& entry, const std::string& path, const ScenarioSpec& scenario,
              const NodeIndex& index, Problems& problems, std::vector<FaultSpec>& out) {
  if (!entry.is_object() || !entry.contains("action") || !entry.at("action").is_string() ||
      !action_keys().contains(entry.at("action").get<std::string>())) {
    problems.add(path + "/action", "expected one of " + action_names() +
                                       (entry.is_object() && entry.contains("action")
                                            ? ", got " + shown(entry.at("action"))
                                            : ""));
    return;
  }
  const std::size_t problems_before = problems.items().size();
  FaultSpec f;
  f.action = entry.at("action").get<std::string>();
  f.path = path;
  std::vector<std::string> allowed = {"action", "at", "for"};
  for (const auto& k : action_keys().at(f.action)) allowed.push_back(k);
  ObjectFields fields(entry, path, problems, allowed);
  fields.get("at", f.at, {}, f.action != "failures");  // a failure process: from the start
  if (f.at >= scenario.duration && scenario.duration > sim::Duration::zero())
    problems.add(fields.path("at"), "expected a time before the end of the run (" +
                                        sim::format_duration(scenario.duration) + "), got \"" +
                                        sim::format_duration(f.at) + "\"");
  if (fields.has("for")) {
    sim::Duration lasting;
    if (fields.get("for", lasting, {1})) f.lasting = lasting;
  }
  fields.get("stagger", f.stagger);

  const bool needs_target = f.action != "partition" && f.action != "cut" && f.action != "degrade";
  std::vector<std::string> names;
  if (fields.get_names("target", names, needs_target)) {
    if (f.action == "load")
      read_load_targets(names, fields.path("target"), scenario, index, problems, f.targets);
    else
      resolve_all(names, fields.path("target"), index, problems, f.targets);
  }
  if (f.action == "partition") {
    read_groups(fields, scenario, index, problems, f);
    fields.get("one_way", f.one_way);
  }
  if (f.action == "cut" || f.action == "degrade") {
    const bool needs_link = f.action == "cut";
    fields.get("from", f.from, {}, needs_link);
    fields.get("to", f.to, {}, needs_link);
    for (const auto* end : {&f.from, &f.to}) {
      if (end->empty()) continue;
      const auto nodes = index.find(*end);
      if (!nodes || nodes->count != 1)
        problems.add(fields.path(end == &f.from ? "from" : "to"),
                     "expected the name of one node, got \"" + *end + "\"");
    }
    if (f.from.empty() != f.to.empty()) problems.add(path, "a link needs both \"from\" and \"to\"");
    if (!f.from.empty() && !f.targets.empty())
      problems.add(path, "degrade either a link (from, to) or nodes (target), not both");
  }
  fields.get("both_directions", f.both_directions);
  if (f.action == "slow") {
    f.factor = 2;
    fields.get("factor", f.factor, {1, kMaxFactor}, true);
  }
  if (f.action == "load") fields.get("factor", f.factor, {kMinFactor, kMaxFactor}, true);
  if (f.action == "degrade") {
    fields.get("latency_factor", f.factor, {kMinFactor, kMaxFactor});
    models::Probability loss;
    if (fields.get("loss", loss)) f.loss = loss.value;
  }
  if (f.action == "clock_step") {
    if (!fields.has("by"))
      problems.add(fields.path("by"), "missing (required): how far the clock jumps, like \"-2s\"");
    else if (fields.at("by").is_string()) {
      try {
        f.by = sim::parse_duration(fields.at("by").get<std::string>(), sim::Sign::Any);
        if (f.by > sim::kMaxDuration || f.by < -sim::kMaxDuration)
          problems.add(fields.path("by"),
                       "expected a step of at most " + sim::format_duration(sim::kMaxDuration) +
                           " (100 years) either way, got " + shown(fields.at("by")));
      } catch (const sim::ParseError& e) {
        problems.add(fields.path("by"), e.what());
      }
    } else {
      problems.add(fields.path("by"),
                   "expected a duration like \"-2s\", got " + shown(fields.at("by")));
    }
  }
  if (f.action == "clock_drift") fields.get("ppm", f.ppm, {-999'999, 999'999}, true);
  if (f.action == "failures") read_failure_times(fields, f);
  if (problems.items().size() == problems_before) check_end(fields, f);  // not twice
  out.push_back(std::move(f));
}

// Every change a fault makes happens by kMaxDuration (100 years): the last target's start
// (at + stagger x (targets - 1)) plus how long it lasts. Computed wide: it may overflow int64.
void check_end(ObjectFields& fields, const FaultSpec& f) {
  std::int64_t targets = 0;
  for (const NodeRange& r : f.targets) targets += static_cast<std::int64_t>(r.count);
  const __int128 end =
      static_cast<__int128>(f.at.ns()) +
      static_cast<__int128>(f.stagger.ns()) * std::max<std::int64_t>(targets - 1, 0) +
      (f.lasting ? f.lasting->ns() : 0);
  if (end > sim::kMaxDuration.ns())
    fields.problems().add(f.path, "expected a fault that ends within " +
                                      sim::format_duration(sim::kMaxDuration) +
                                      " (100 years) of the start: at + stagger x (targets - 1) + "
                                      "for is later");
}

// Effects that add up over faults, checked as if every fault overlapped every other: the clock
// steps (a wall clock beyond 100 years off could overflow), and the load factors on one client
// (multiplied: their product must stay a finite rate, and its inverse too).
void check_totals(const std::vector<FaultSpec>& faults, const std::string& path,
                  const ScenarioSpec& scenario, Problems& problems) {
  __int128 steps = 0;
  for (const FaultSpec& f : faults)
    if (f.action == "clock_step") steps += f.by < sim::Duration::zero() ? -f.by.ns() : f.by.ns();
  if (steps > sim::kMaxDuration.ns())
    problems.add(path, "expected clock steps that add up (either way) to at most " +
                           sim::format_duration(sim::kMaxDuration) + " (100 years)");
  for (std::size_t c = 0; c < scenario.components.size(); ++c) {
    double up = 1, down = 1;
    for (const FaultSpec& f : faults)
      if (f.action == "load")
        for (const NodeRange& t : f.targets)
          if (t.component == c) (f.factor > 1 ? up : down) *= f.factor;
    if (up > kMaxLoadProduct || down < 1 / kMaxLoadProduct)
      problems.add(path, "expected the load factors on \"" + scenario.components[c].name +
                             "\" to multiply to within [1e-12, 1e12], as if they overlapped");
  }
}

}  // namespace

void read_faults(const Json& faults, const std::string& path, const ScenarioSpec& scenario,
                 Problems& problems, std::vector<FaultSpec>& out) {
  if (!faults.is_array()) {
    problems.add(path, "expected a list of faults, got " + shown(faults));
    return;
  }
  const NodeIndex index(scenario);
  const std::size_t problems_before = problems.items().size();
  for (std::size_t i = 0; i < faults.size(); ++i)
    read_one(faults[i], path + "/" + std::to_string(i), scenario, index, problems, out);
  if (problems.items().size() == problems_before) check_totals(out, path, scenario, problems);
}

}  // namespace scenario
