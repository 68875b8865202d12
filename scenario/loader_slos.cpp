// "slos": {NAME: {"objective": "99.9%", "group": ..., "latency": ..., "period": ..., "alerts":
// {RULE: {...}}}}: service level objectives, their error budgets and burn-rate alert rules
// (models/operations/slo_evaluation.hpp has the semantics; docs/scenario-format.md the keys).
// Objects keyed by name, like components, so that a variant's merge patch can change one SLO or
// one rule, or drop it with null.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "models/shared/rpc.hpp"
#include "scenario/loader_parts.hpp"
#include "scenario/model_catalog.hpp"
#include "scenario/object_fields.hpp"

namespace scenario {
namespace {

constexpr std::size_t kMaxSlos = 32, kMaxRules = 32;
constexpr std::int64_t kMaxBuckets = 100'000;
const sim::Duration kWorkbookPeriod = sim::parse_duration("720h");  // the Workbook's 30 days

// The Workbook's recommended rules for a 30-day SLO (chapter 5, approach 6), scaled to the
// SLO's period.
struct DefaultRule {
  const char* name;
  const char* severity;
  double burn_rate;
  const char* long_window;
  const char* short_window;
};
constexpr DefaultRule kDefaultRules[] = {
    {"page-1h", "page", 14.4, "1h", "5m"},
    {"page-6h", "page", 6, "6h", "30m"},
    {"ticket-3d", "ticket", 1, "72h", "6h"},
};

sim::Duration scaled(sim::Duration window, sim::Duration period) {
  const long double ns = static_cast<long double>(window.ns()) *
                         static_cast<long double>(period.ns()) /
                         static_cast<long double>(kWorkbookPeriod.ns());
  return sim::Duration::nanoseconds(std::max<std::int64_t>(1, std::llround(ns)));
}

// "99.9%" or 0.999 (a share), or for budgets "2%" or 0.02.
bool read_share(const Json& value, double& out) {
  if (value.is_number()) {
    out = value.get<double>();
    return std::isfinite(out);
  }
  if (!value.is_string()) return false;
  const std::string text = value.get<std::string>();
  if (text.size() < 2 || text.back() != '%') return false;
  try {
    // "99.9e-2", not 99.9 / 100: the nearest double to 0.999, as if 0.999 had been written.
    const std::string number = text.substr(0, text.size() - 1);
    if (number.find_first_of("eE") != std::string::npos) return false;
    std::size_t used = 0;
    out = std::stod(number + "e-2", &used);
    return used == number.size() + 3 && std::isfinite(out);
  } catch (const std::exception&) {
    return false;
  }
}

// The groups a client's requests are reported under (tenancy.hpp): its `group`, or its name.
std::vector<std::string> client_groups(const std::vector<ComponentSpec>& components) {
  std::vector<std::string> out;
  for (const auto& c : components) {
    const Json written = c.binding->write(c.config);
    if (!written.contains("group") || !written.at("group").is_string()) continue;
    std::string base = written.at("group").get<std::string>();
    if (base.empty()) base = c.name;
    const bool per_node = written.contains("tenant_per_node") &&
                          written.at("tenant_per_node").is_boolean() &&
                          written.at("tenant_per_node").get<bool>();
    if (!per_node) {
      if (std::find(out.begin(), out.end(), base) == out.end()) out.push_back(base);
      continue;
    }
    // More nodes than tenants is refused by the client's own check: name none of them.
    for (std::size_t i = 0; c.count <= models::kMaxTenants && i < c.count; ++i)
      out.push_back(base + "/" + std::to_string(i));
  }
  return out;
}

struct RuleInput {
  std::string path;  // the rule's; a default rule's problems are the period's
  bool scale = false;
  models::AlertRule rule;
  bool defaulted = false;

  std::string where(const char* key) const { return defaulted ? path : path + "/" + key; }
  std::string what() const {
    return defaulted ? "the default rule " + rule.name + ": " : std::string();
  }
};

std::string number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

void read_rule(const std::string& name, const Json& value, const std::string& path,
               Problems& problems, std::vector<RuleInput>& out) {
  ObjectFields f(value, path, problems,
                 {"severity", "burn_rate", "long_window", "short_window", "scale_with_period"});
  if (!f.ok()) return;
  RuleInput in{path, false, {name, "page", 1, {}, std::nullopt}, false};
  f.get("scale_with_period", in.scale);
  if (f.has("severity")) {
    const Json& s = f.at("severity");
    if (s.is_string() && (s == "page" || s == "ticket"))
      in.rule.severity = s.get<std::string>();
    else
      problems.add(f.path("severity"), "expected \"page\" or \"ticket\", got " + shown(s));
  }
  bool ok = f.get("burn_rate", in.rule.burn_rate, {1e-9, 1e9}, true);
  ok = f.get("long_window", in.rule.long_window, {1}, true) && ok;
  if (f.has("short_window")) {
    sim::Duration s;
    ok = f.get("short_window", s, {1}) && ok;
    in.rule.short_window = s;
  }
  if (ok) out.push_back(in);
}

// Scales, then checks a rule against its SLO and the run: windows inside the run, the short one
// shorter than the long one, a threshold the error fraction can exceed.
void check_rule(RuleInput& in, const SloSpec& slo, const ScenarioSpec& scenario,
                Problems& problems) {
  models::AlertRule& r = in.rule;
  if (in.scale) {
    r.long_window = scaled(r.long_window, slo.period);
    if (r.short_window) r.short_window = scaled(*r.short_window, slo.period);
  }
  const std::string how = in.scale ? " (scaled to the period)" : "";
  if (r.long_window > scenario.duration)
    problems.add(in.where("long_window"),
                 in.what() + "expected a window within the run (" +
                     sim::format_duration(scenario.duration) + "), got " +
                     sim::format_duration(r.long_window) + how +
                     (in.defaulted ? ": set a shorter period, or alert rules of your own" : ""));
  if (r.short_window && *r.short_window >= r.long_window)
    problems.add(in.where("short_window"),
                 in.what() + "expected a short window shorter than the long window (" +
                     sim::format_duration(r.long_window) + "), got " +
                     sim::format_duration(*r.short_window) + how);
  if (r.burn_rate * (1 - slo.objective) >= 1)
    problems.add(in.where("burn_rate"),
                 in.what() + "can never fire: the error fraction would have to exceed " +
                     number(r.burn_rate * (1 - slo.objective)) +
                     " (burn_rate x (1 - objective)); expected a burn rate below " +
                     number(1 / (1 - slo.objective)));
}

// The evaluation interval: as given, or period / 43200 (one minute of a 30-day period, a usual
// rule-evaluation interval; a fifth of the default short window of the fast page), never so
// fine that the run has more than kMaxBuckets.
void resolve_interval(ObjectFields& f, SloSpec& slo, const ScenarioSpec& scenario,
                      const std::vector<RuleInput>& rules, Problems& problems) {
  const sim::Duration floor = sim::Duration::nanoseconds(
      std::max<std::int64_t>(1, (scenario.duration.ns() + kMaxBuckets - 1) / kMaxBuckets));
  if (f.has("evaluation_interval")) {
    if (!f.get("evaluation_interval", slo.evaluation_interval, {1})) return;
    if (slo.evaluation_interval < floor)
      problems.add(f.path("evaluation_interval"),
                   "expected at most 100,000 evaluation intervals in the run: at least " +
                       sim::format_duration(floor) + ", got " +
                       sim::format_duration(slo.evaluation_interval));
  } else {
    slo.evaluation_interval = std::max(scaled(sim::parse_duration("1m"), slo.period), floor);
  }
  for (const auto& in : rules) {
    const auto check = [&](sim::Duration w, const char* key) {
      if (w < slo.evaluation_interval)
        problems.add(in.where(key),
                     in.what() + "expected a window of at least the evaluation interval (" +
                         sim::format_duration(slo.evaluation_interval) + "), got " +
                         sim::format_duration(w) + (in.scale ? " (scaled to the period)" : "") +
                         ": set a longer window or period, or a finer evaluation_interval");
    };
    check(in.rule.long_window, "long_window");
    if (in.rule.short_window) check(*in.rule.short_window, "short_window");
  }
}

void read_slo(const std::string& name, const Json& value, const std::string& path,
              const ScenarioSpec& scenario, const std::vector<std::string>& groups,
              Problems& problems, std::vector<SloSpec>& out) {
  ObjectFields f(value, path, problems,
                 {"group", "objective", "latency", "period", "evaluation_interval",
                  "incident_grace", "min_incident_budget", "alerts"});
  if (!f.ok()) return;
  const std::size_t before = problems.items().size();
  SloSpec slo;
  slo.name = name;
  slo.path = path;
  slo.period = kWorkbookPeriod;
  f.get("group", slo.group);
  if (!slo.group.empty() && std::find(groups.begin(), groups.end(), slo.group) == groups.end()) {
    std::string known;
    for (const auto& g : groups) known += (known.empty() ? "" : ", ") + g;
    const std::string suggestion = closest_name(slo.group, groups);
    problems.add(f.path("group"),
                 "no client group \"" + slo.group + "\"" +
                     (suggestion.empty() ? "" : " (did you mean \"" + suggestion + "\"?)") +
                     "; the groups: " + (known.empty() ? "none" : known));
  }
  if (!f.has("objective")) {
    problems.add(f.path("objective"), "missing (required): like \"99.9%\"");
  } else if (!read_share(f.at("objective"), slo.objective) || slo.objective <= 0 ||
             slo.objective >= 1) {
    problems.add(f.path("objective"),
                 "expected an objective strictly between 0 and 100 %, like \"99.9%\" or 0.999, "
                 "got " +
                     shown(f.at("objective")));
  }
  if (f.has("latency")) {
    sim::Duration l;
    if (f.get("latency", l, {1})) slo.latency = l;
  }
  f.get("period", slo.period, {1});
  slo.incident_grace = scaled(sim::parse_duration("1h"), slo.period);
  f.get("incident_grace", slo.incident_grace);
  if (f.has("min_incident_budget") &&
      (!read_share(f.at("min_incident_budget"), slo.min_incident_budget) ||
       slo.min_incident_budget < 0 || slo.min_incident_budget > 1e6))
    problems.add(f.path("min_incident_budget"),
                 "expected a share of the error budget >= 0, like \"2%\" or 0.02, got " +
                     shown(f.at("min_incident_budget")));

  std::vector<RuleInput> rules;
  if (!f.has("alerts")) {
    for (const DefaultRule& d : kDefaultRules)
      rules.push_back({path + "/period",
                       true,
                       {d.name, d.severity, d.burn_rate, sim::parse_duration(d.long_window),
                        sim::parse_duration(d.short_window)},
                       true});
  } else if (!f.at("alerts").is_object()) {
    problems.add(f.path("alerts"),
                 "expected an object of named alert rules, like {\"page\": {\"burn_rate\": 14.4, "
                 "\"long_window\": \"1h\", \"short_window\": \"5m\"}}, got " +
                     shown(f.at("alerts")));
  } else if (f.at("alerts").size() > kMaxRules) {
    problems.add(f.path("alerts"), "expected at most 32 alert rules");
  } else {
    for (const auto& [rule, body] : f.at("alerts").items())
      read_rule(rule, body, f.path("alerts") + "/" + rule, problems, rules);
  }
  if (problems.items().size() != before) return;
  for (auto& in : rules) check_rule(in, slo, scenario, problems);
  if (problems.items().size() != before) return;
  resolve_interval(f, slo, scenario, rules, problems);
  for (auto& in : rules) slo.alerts.push_back(in.rule);
  if (problems.items().size() == before) out.push_back(std::move(slo));
}

}  // namespace

void read_slos(const Json& slos, const std::string& path, const ScenarioSpec& scenario,
               Problems& problems, std::vector<SloSpec>& out) {
  if (!slos.is_object()) {
    problems.add(path,
                 "expected an object of named SLOs, like {\"availability\": {\"objective\": "
                 "\"99.9%\"}}, got " +
                     shown(slos));
    return;
  }
  if (slos.size() > kMaxSlos) {
    problems.add(path, "expected at most 32 SLOs");
    return;
  }
  const std::vector<std::string> groups = client_groups(scenario.components);
  for (const auto& [name, value] : slos.items())
    read_slo(name, value, path + "/" + name, scenario, groups, problems, out);
}

Json write_slos(const std::vector<SloSpec>& slos) {
  Json out = Json::object();
  for (const auto& s : slos) {
    Json alerts = Json::object();
    for (const auto& r : s.alerts) {
      alerts[r.name] = {{"severity", r.severity},
                        {"burn_rate", r.burn_rate},
                        {"long_window", sim::format_duration(r.long_window)}};
      if (r.short_window) alerts[r.name]["short_window"] = sim::format_duration(*r.short_window);
    }
    Json entry = {{"group", s.group}, {"objective", s.objective}};
    if (s.latency) entry["latency"] = sim::format_duration(*s.latency);
    entry["period"] = sim::format_duration(s.period);
    entry["evaluation_interval"] = sim::format_duration(s.evaluation_interval);
    entry["incident_grace"] = sim::format_duration(s.incident_grace);
    entry["min_incident_budget"] = s.min_incident_budget;
    entry["alerts"] = std::move(alerts);
    out[s.name] = std::move(entry);
  }
  return out;
}

}  // namespace scenario
