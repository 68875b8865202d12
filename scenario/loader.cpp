// Loads a scenario file: top-level keys, variants (RFC 7386 merge patches) and the effective
// scenario of each. The parts (network, components, wiring, faults) live in their own files.
#include <algorithm>
#include <set>

#include "scenario/json_file.hpp"
#include "scenario/loader_parts.hpp"
#include "scenario/model_catalog.hpp"
#include "scenario/object_fields.hpp"
#include "scenario/scenario.hpp"

namespace scenario {
namespace {

const std::vector<std::string> kTopLevelKeys = {"name",   "description",  "duration", "warmup",
                                                "seeds",  "base_variant", "network",  "components",
                                                "faults", "report",       "variants", "slos"};

void read_seeds(ObjectFields& top, std::vector<std::uint64_t>& seeds) {
  seeds = {1};
  if (!top.has("seeds")) return;
  const Json& value = top.at("seeds");
  if (value.is_number_integer() && value.get<std::int64_t>() >= 1 &&
      value.get<std::int64_t>() <= 10'000) {
    seeds.clear();
    for (std::int64_t s = 1; s <= value.get<std::int64_t>(); ++s)
      seeds.push_back(static_cast<std::uint64_t>(s));
    return;
  }
  if (value.is_array() && !value.empty()) {
    seeds.clear();
    for (const auto& s : value) {
      if (!s.is_number_unsigned()) {
        top.problems().add(top.path("seeds"),
                           "expected a list of non-negative integers, got " + shown(value));
        return;
      }
      seeds.push_back(s.get<std::uint64_t>());
    }
    if (std::set<std::uint64_t>(seeds.begin(), seeds.end()).size() != seeds.size())
      top.problems().add(top.path("seeds"), "expected distinct seeds, got " + shown(value));
    return;
  }
  top.problems().add(
      top.path("seeds"),
      "expected a number of seeds (1 to 10000) or a list of seeds, got " + shown(value));
}

// "api.wasted_fraction": a component of the scenario and a figure its model declares.
void read_columns(const Json& value, const std::string& path,
                  const std::vector<ComponentSpec>& components, Problems& problems,
                  std::vector<ColumnSpec>& out) {
  if (!value.is_array()) {
    problems.add(path, "expected a list of \"component.figure\" names, got " + shown(value));
    return;
  }
  for (std::size_t i = 0; i < value.size(); ++i) {
    const std::string where = path + "/" + std::to_string(i);
    const std::string text = value[i].is_string() ? value[i].get<std::string>() : "";
    const auto dot = text.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == text.size()) {
      problems.add(where, "expected \"component.figure\" (like \"api.utilization\"), got " +
                              shown(value[i]));
      continue;
    }
    const ColumnSpec column{text.substr(0, dot), text.substr(dot + 1)};
    const auto c = std::find_if(components.begin(), components.end(),
                                [&](const ComponentSpec& s) { return s.name == column.component; });
    if (c == components.end()) {
      std::vector<std::string> names;
      for (const auto& s : components) names.push_back(s.name);
      const std::string suggestion = closest_name(column.component, names);
      problems.add(where,
                   "unknown component \"" + column.component + "\"" +
                       (suggestion.empty() ? "" : " (did you mean \"" + suggestion + "\"?)"));
      continue;
    }
    if (c->binding->figure(column.figure) == nullptr) {
      std::vector<std::string> figures;
      for (const auto& f : c->binding->figures) figures.emplace_back(f.name);
      const std::string suggestion = closest_name(column.figure, figures);
      problems.add(where,
                   "model " + c->model + " has no figure \"" + column.figure + "\"" +
                       (suggestion.empty() ? "" : " (did you mean \"" + suggestion + "\"?)") +
                       "; dsim models " + c->model + " lists its figures");
      continue;
    }
    out.push_back(column);
  }
}

void read_report(const Json& report, const std::string& path,
                 const std::vector<ComponentSpec>& components, Problems& problems,
                 ReportSpec& out) {
  ObjectFields fields(report, path, problems, {"percentiles", "window", "columns", "per_replica"});
  if (!fields.ok()) return;
  fields.get("window", out.window, {1});
  fields.get("per_replica", out.per_replica);
  if (fields.has("columns"))
    read_columns(fields.at("columns"), fields.path("columns"), components, problems, out.columns);
  if (fields.has("percentiles")) {
    const Json& p = fields.at("percentiles");
    std::vector<double> values;
    bool ok = p.is_array() && !p.empty();
    for (const auto& v : p) {
      ok = ok && v.is_number() && v.get<double>() > 0 && v.get<double>() < 100;
      if (ok) values.push_back(v.get<double>());
    }
    if (ok)
      out.percentiles = values;
    else
      problems.add(fields.path("percentiles"),
                   "expected a list of percentiles between 0 and 100 (exclusive), like [50, 99, "
                   "99.9], got " +
                       shown(p));
  }
}

Json write_components(const std::vector<ComponentSpec>& components) {
  Json out = Json::object();
  for (const auto& c : components) {
    Json entry = {{"model", c.model}, {"count", c.count}};
    if (!c.colocate_with.empty()) entry["colocate_with"] = c.colocate_with;
    Json model = c.binding->write(c.config);
    for (auto& [key, value] : model.items()) entry[key] = value;
    out[c.name] = std::move(entry);
  }
  return out;
}

// Parses one complete scenario document (the base, or the base with a variant's patch).
ScenarioSpec read_variant(const Json& doc, const std::string& file, const std::string& variant,
                          Problems& problems) {
  ScenarioSpec s;
  s.file = file;
  s.variant = variant;
  ObjectFields top(doc, "", problems, kTopLevelKeys);
  if (!top.ok()) return s;
  top.get("name", s.name, {}, true);
  top.get("description", s.description);
  top.get("duration", s.duration, {1}, true);
  top.get("warmup", s.warmup);
  if (s.duration > sim::Duration::zero() && s.warmup >= s.duration)
    problems.add("/warmup", "expected a warm-up shorter than the duration (" +
                                sim::format_duration(s.duration) + "), got \"" +
                                sim::format_duration(s.warmup) + "\"");
  read_seeds(top, s.seeds);
  if (top.has("network")) read_network(top.at("network"), "/network", problems, s.network);
  if (!top.has("components"))
    problems.add("/components", "missing (required): the models to run");
  else
    read_components(top.at("components"), "/components", s.network, problems, s.components);
  check_wiring(s, problems);
  if (top.has("faults")) read_faults(top.at("faults"), "/faults", s, problems, s.faults);
  if (top.has("report")) read_report(top.at("report"), "/report", s.components, problems, s.report);
  if (s.report.window > sim::Duration::zero() && s.duration.ns() / s.report.window.ns() > 100'000)
    problems.add("/report/window",
                 "expected at most 100,000 windows in the run: use a longer window");
  if (top.has("slos") && problems.empty()) read_slos(top.at("slos"), "/slos", s, problems, s.slos);
  if (!problems.empty()) return s;

  s.effective = Json::object();
  s.effective["name"] = s.name;
  s.effective["description"] = s.description;
  s.effective["variant"] = s.variant;
  s.effective["duration"] = sim::format_duration(s.duration);
  s.effective["warmup"] = sim::format_duration(s.warmup);
  s.effective["network"] = write_network(s.network);
  s.effective["components"] = write_components(s.components);
  s.effective["faults"] = doc.contains("faults") ? doc.at("faults") : Json::array();
  Json columns = Json::array();
  for (const auto& c : s.report.columns) columns.push_back(c.label());
  s.effective["report"] = {{"percentiles", s.report.percentiles},
                           {"window", sim::format_duration(s.report.window)},
                           {"columns", columns},
                           {"per_replica", s.report.per_replica}};
  if (!s.slos.empty() || top.has("slos")) s.effective["slos"] = write_slos(s.slos);
  return s;
}

}  // namespace

ScenarioFile load_scenario_text(const std::string& text, const std::string& path) {
  Json doc = parse_json(text, path);
  Problems problems;
  if (!doc.is_object()) {
    problems.add("", "expected a JSON object at the top, got " + shown(doc));
    problems.throw_if_any(path);
  }
  Json variants = Json::object();
  if (doc.contains("variants")) {
    variants = doc.at("variants");
    doc.erase("variants");
    if (!variants.is_object())
      problems.add("/variants",
                   "expected an object of named merge patches, got " + shown(variants));
  }
  std::string base_name = "base";
  if (doc.contains("base_variant")) {
    if (doc.at("base_variant").is_string() && !doc.at("base_variant").get<std::string>().empty())
      base_name = doc.at("base_variant").get<std::string>();
    else
      problems.add("/base_variant",
                   "expected the base variant's name, got " + shown(doc.at("base_variant")));
  }

  ScenarioFile file;
  file.path = path;
  file.variants.push_back(read_variant(doc, path, base_name, problems));
  const std::vector<Problem> base_problems = problems.items();
  if (variants.is_object()) {
    for (const auto& [name, patch] : variants.items()) {
      const std::string where = "/variants/" + name;
      if (name == base_name || name.empty()) {
        problems.add(where,
                     "a variant needs a name of its own (\"" + base_name + "\" is the base)");
        continue;
      }
      if (!patch.is_object()) {
        problems.add(where, "expected a merge patch (an object), got " + shown(patch));
        continue;
      }
      Json patched = doc;
      patched.merge_patch(patch);
      Problems variant_problems;
      file.variants.push_back(read_variant(patched, path, name, variant_problems));
      for (const auto& p : variant_problems.items()) {
        const bool from_base = std::any_of(
            base_problems.begin(), base_problems.end(),
            [&](const Problem& b) { return b.path == p.path && b.message == p.message; });
        if (from_base) continue;  // reported once, for the base
        bool in_patch = false;
        try {
          in_patch = !p.path.empty() && patch.contains(Json::json_pointer(p.path));
        } catch (const Json::exception&) {  // a key that is not a valid pointer segment
        }
        problems.add(
            in_patch ? where + p.path : p.path,
            p.message + (in_patch ? "" : " (in variant \"" + name + "\", after its patch)"));
      }
    }
  }
  problems.throw_if_any(path);
  file.name = file.variants.front().name;
  file.description = file.variants.front().description;
  return file;
}

ScenarioFile load_scenario_file(const std::string& path) {
  return load_scenario_text(read_text_file(path), path);
}

}  // namespace scenario
