#include "scenario/report_slo.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "scenario/report_summary.hpp"

namespace scenario {
namespace {

const char* kSummaryKeys[] = {"budget_consumed",  "alerts",
                              "true_alerts",      "needless_alerts",
                              "false_alerts",     "significant_incidents",
                              "missed_incidents", "detection_delay_s",
                              "first_alert_s"};

Json number_or_null(double v) {
  return std::isfinite(v) ? Json(v) : Json(nullptr);
}

Json time_or_null(const std::optional<sim::Time>& t) {
  return t ? Json(t->seconds()) : Json(nullptr);
}

const char* class_name(models::FiringClass c) {
  switch (c) {
    case models::FiringClass::True:
      return "true";
    case models::FiringClass::Needless:
      return "needless";
    case models::FiringClass::False:
      break;
  }
  return "false";
}

Json rule_json(const models::AlertRule& r) {
  return {{"name", r.name},
          {"severity", r.severity},
          {"burn_rate", r.burn_rate},
          {"long_window_s", r.long_window.seconds()},
          {"short_window_s", r.short_window ? Json(r.short_window->seconds()) : Json(nullptr)}};
}

// What the SLO is, in both the run's and the variant's entries.
Json slo_head(const SloSpec& s) {
  return {{"name", s.name},
          {"group", s.group.empty() ? Json(nullptr) : Json(s.group)},
          {"objective", s.objective},
          {"latency_ms", s.latency ? Json(s.latency->millis()) : Json(nullptr)},
          {"period_s", s.period.seconds()},
          {"evaluation_interval_s", s.evaluation_interval.seconds()},
          {"incident_grace_s", s.incident_grace.seconds()},
          {"min_incident_budget", s.min_incident_budget}};
}

Json one_slo(const SloSpec& s, const models::SloResult& r, const RunResult& run) {
  Json out = slo_head(s);
  out["requests"] = r.good + r.bad;
  out["bad"] = r.bad;
  out["budget_consumed"] = number_or_null(r.budget_consumed);
  Json series = Json::array();
  for (const double v : r.consumed_by) series.push_back(number_or_null(v));
  out["budget_consumed_windows"] = std::move(series);
  out["alerts"] = r.alerts;
  out["true_alerts"] = r.true_alerts;
  out["needless_alerts"] = r.needless_alerts;
  out["false_alerts"] = r.false_alerts;
  out["significant_incidents"] = r.significant_incidents;
  out["missed_incidents"] = r.missed_incidents;
  out["detection_delay_s"] =
      r.mean_detection_delay ? Json(r.mean_detection_delay->seconds()) : Json(nullptr);
  out["first_alert_s"] = time_or_null(r.first_alert);
  Json rules = Json::array();
  for (std::size_t i = 0; i < s.alerts.size(); ++i) {
    Json rule = rule_json(s.alerts[i]);
    Json firings = Json::array();
    for (std::size_t f = 0; f < r.rules[i].firings.size(); ++f)
      firings.push_back({{"start_s", r.rules[i].firings[f].start.seconds()},
                         {"end_s", time_or_null(r.rules[i].firings[f].end)},
                         {"class", class_name(r.classes[i][f])}});
    rule["alerts"] = r.rules[i].firings.size();
    rule["firing_s"] = r.rules[i].firing_time.seconds();
    rule["firings"] = std::move(firings);
    rules.push_back(std::move(rule));
  }
  out["rules"] = std::move(rules);
  Json incidents = Json::array();
  for (const auto& inc : r.incidents) {
    Json indices = Json::array();
    std::string targets;
    for (const std::size_t i : inc.faults) {
      indices.push_back(i);
      targets += (targets.empty() ? "" : ", ") + run.faults[i].target;
    }
    incidents.push_back(
        {{"faults", std::move(indices)},
         {"kind", run.faults[inc.faults.front()].kind},
         {"target", targets},
         {"start_s", inc.start.seconds()},
         {"end_s", inc.end.seconds()},
         {"budget_consumed", inc.budget_consumed},
         {"significant", inc.significant},
         {"detected_s", time_or_null(inc.detected)},
         {"detection_delay_s",
          inc.detected ? Json((*inc.detected - inc.start).seconds()) : Json(nullptr)},
         {"detected_by", inc.detected ? Json(s.alerts[inc.detected_by].name) : Json(nullptr)}});
  }
  out["incidents"] = std::move(incidents);
  return out;
}

Json mean_of(const std::vector<const Json*>& values) {
  double sum = 0;
  std::size_t n = 0;
  for (const Json* v : values)
    if (v != nullptr && v->is_number()) sum += v->get<double>(), ++n;
  return n ? Json(sum / static_cast<double>(n)) : Json(nullptr);
}

// The runs' incidents side by side, when every run has the same ones (a failure process draws
// different crashes per seed: then there is no per-incident average).
Json variant_incidents(const std::vector<const Json*>& slos) {
  const Json& first = slos.front()->at("incidents");
  auto same = [&](const Json& a, const Json& b) {
    for (const char* k : {"kind", "target", "start_s", "end_s"})
      if (a.at(k) != b.at(k)) return false;
    return true;
  };
  for (const Json* s : slos) {
    const Json& other = s->at("incidents");
    if (other.size() != first.size()) return Json::array();
    for (std::size_t i = 0; i < first.size(); ++i)
      if (!same(first[i], other[i])) return Json::array();
  }
  Json out = Json::array();
  for (std::size_t i = 0; i < first.size(); ++i) {
    std::vector<const Json*> budget, delay;
    std::size_t detected = 0, significant = 0;
    for (const Json* s : slos) {
      const Json& inc = s->at("incidents")[i];
      budget.push_back(&inc.at("budget_consumed"));
      delay.push_back(&inc.at("detection_delay_s"));
      detected += !inc.at("detected_s").is_null();
      significant += inc.at("significant").get<bool>();
    }
    const double runs = static_cast<double>(slos.size());
    out.push_back({{"kind", first[i].at("kind")},
                   {"target", first[i].at("target")},
                   {"start_s", first[i].at("start_s")},
                   {"end_s", first[i].at("end_s")},
                   {"budget_consumed", mean_of(budget)},
                   {"significant", static_cast<double>(significant) / runs},
                   {"detected", static_cast<double>(detected) / runs},
                   {"detection_delay_s", mean_of(delay)},
                   {"detection_delay_ci95", interval(delay)}});
  }
  return out;
}

Json variant_slo(const SloSpec& spec, const std::vector<const Json*>& slos) {
  Json out = slo_head(spec);
  Json summary = Json::object(), ci = Json::object();
  for (const char* key : kSummaryKeys) {
    std::vector<const Json*> values;
    for (const Json* s : slos) values.push_back(&s->at(key));
    summary[key] = mean_of(values);
    ci[key] = interval(values);
  }
  out["summary"] = std::move(summary);
  out["ci95"] = std::move(ci);
  Json rules = Json::array();
  for (std::size_t i = 0; i < spec.alerts.size(); ++i) {
    Json rule = rule_json(spec.alerts[i]);
    std::vector<const Json*> alerts, firing;
    for (const Json* s : slos) {
      alerts.push_back(&s->at("rules")[i].at("alerts"));
      firing.push_back(&s->at("rules")[i].at("firing_s"));
    }
    rule["alerts"] = mean_of(alerts);
    rule["firing_s"] = mean_of(firing);
    rules.push_back(std::move(rule));
  }
  out["rules"] = std::move(rules);
  Json series = Json::array();
  const std::size_t windows = slos.front()->at("budget_consumed_windows").size();
  for (std::size_t w = 0; w < windows; ++w) {
    std::vector<const Json*> values;
    for (const Json* s : slos) values.push_back(&s->at("budget_consumed_windows")[w]);
    series.push_back(mean_of(values));
  }
  out["budget_consumed_windows"] = std::move(series);
  out["incidents"] = variant_incidents(slos);
  return out;
}

double num(const Json& j, const char* key) {
  return j.contains(key) && j.at(key).is_number() ? j.at(key).get<double>() : std::nan("");
}

std::string cell(const Json& slo, const char* key, double scale, int decimals) {
  const double v = num(slo.at("summary"), key);
  if (std::isnan(v)) return "-";
  std::string text = fmt::format("{:.{}f}", v * scale, decimals);
  const Json& ci = slo.at("ci95").at(key);
  if (ci.is_array()) {
    const double half = (ci[1].get<double>() - ci[0].get<double>()) / 2 * scale;
    if (half > 0) text += fmt::format("±{:.{}f}", half, decimals);
  }
  return text;
}

std::string percent(double share) {
  return fmt::format("{:.6g} %", share * 100);
}

}  // namespace

Json run_slos_json(const RunResult& run, const ScenarioSpec& spec) {
  Json out = Json::array();
  for (std::size_t i = 0; i < spec.slos.size(); ++i)
    out.push_back(one_slo(spec.slos[i], run.slos[i], run));
  return out;
}

Json variant_slos_json(const std::vector<Json>& run_slos, const ScenarioSpec& spec) {
  Json out = Json::array();
  if (run_slos.empty()) return out;
  for (std::size_t i = 0; i < spec.slos.size(); ++i) {
    std::vector<const Json*> slos;
    for (const Json& r : run_slos) slos.push_back(&r[i]);
    out.push_back(variant_slo(spec.slos[i], slos));
  }
  return out;
}

std::string format_slo_table(const Json& report) {
  const Json& variants = report.at("variants");
  std::vector<std::string> names;
  std::size_t width = 7;
  for (const auto& v : variants) {
    if (!v.contains("slos")) continue;
    width = std::max(width, v.at("name").get<std::string>().size());
    for (const auto& s : v.at("slos"))
      if (std::find(names.begin(), names.end(), s.at("name")) == names.end())
        names.push_back(s.at("name").get<std::string>());
  }
  std::string out;
  for (const std::string& name : names) {
    bool header = false;
    for (const auto& v : variants) {
      if (!v.contains("slos")) continue;
      for (const auto& s : v.at("slos")) {
        if (s.at("name") != name) continue;
        if (!header) {
          const std::string group = s.at("group").is_null()
                                        ? "all requests"
                                        : "group " + s.at("group").get<std::string>();
          const std::string latency =
              s.at("latency_ms").is_null()
                  ? ""
                  : fmt::format(" within {:g} ms", s.at("latency_ms").get<double>());
          out += fmt::format("\nSLO {}: {} good{} ({}), period {:g} s\n", name,
                             percent(s.at("objective").get<double>()), latency, group,
                             s.at("period_s").get<double>());
          out += fmt::format("{:<{}}  {:>16}  {:>13}  {:>13}  {:>11}  {:>11}  {:>11}  {:>11}\n",
                             "variant", width, "budget used %", "first alert s", "detection s",
                             "alerts", "false", "needless", "missed");
          header = true;
        }
        out +=
            fmt::format("{:<{}}  {:>16}  {:>13}  {:>13}  {:>11}  {:>11}  {:>11}  {:>11}\n",
                        v.at("name").get<std::string>(), width, cell(s, "budget_consumed", 100, 1),
                        cell(s, "first_alert_s", 1, 2), cell(s, "detection_delay_s", 1, 2),
                        cell(s, "alerts", 1, 1), cell(s, "false_alerts", 1, 1),
                        cell(s, "needless_alerts", 1, 1), cell(s, "missed_incidents", 1, 1));
      }
    }
  }
  return out;
}

}  // namespace scenario
