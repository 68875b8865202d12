#include "scenario/report.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "scenario/report_slo.hpp"
#include "scenario/report_summary.hpp"
#include "scenario/report_tenants.hpp"
#include "sim/version.hpp"

namespace scenario {
namespace {

std::string hex(std::uint64_t v) {
  return fmt::format("{:016x}", v);
}

Json fault_json(const sim::FaultRecord& f) {
  return {{"kind", f.kind},
          {"target", f.target},
          {"detail", f.detail},
          {"start_s", f.start.seconds()},
          {"end_s", f.end ? Json(f.end->seconds()) : Json(nullptr)}};
}

// Each failure process's ground truth: per node, and its nodes' mean up fraction and total
// failures.
Json failure_processes_json(const RunResult& run) {
  Json out = Json::array();
  for (const auto& p : run.failure_processes) {
    Json nodes = Json::array();
    double up = 0;
    std::uint64_t failures = 0, skipped = 0;
    for (const auto& n : p.nodes) {
      nodes.push_back({{"node", n.node},
                       {"up_fraction", n.up_fraction},
                       {"failures", n.failures},
                       {"skipped", n.skipped}});
      up += n.up_fraction;
      failures += n.failures;
      skipped += n.skipped;
    }
    out.push_back(
        {{"fault", p.fault},
         {"expected_up_fraction", p.expected_up_fraction},
         {"up_fraction",
          p.nodes.empty() ? Json(nullptr) : Json(up / static_cast<double>(p.nodes.size()))},
         {"failures", failures},
         {"skipped", skipped},
         {"nodes", std::move(nodes)}});
  }
  return out;
}

Json states_json(const RunResult& run) {
  Json out = Json::array();
  for (const auto& s : run.states) {
    Json intervals = Json::array();
    for (std::size_t i = 0; i < s.changes.size(); ++i) {
      const double end =
          i + 1 < s.changes.size() ? s.changes[i + 1].at.seconds() : run.simulated.seconds();
      intervals.push_back(
          {{"start_s", s.changes[i].at.seconds()}, {"end_s", end}, {"state", s.changes[i].state}});
    }
    out.push_back(
        {{"component", s.component}, {"node", s.node}, {"name", s.name}, {"intervals", intervals}});
  }
  return out;
}

// Each model series as "component.series": one value per window (null: not finite).
Json series_json(const RunResult& run) {
  Json out = Json::object();
  for (const auto& s : run.series) {
    Json values = Json::array();
    for (const double v : s.values) values.push_back(std::isfinite(v) ? Json(v) : Json(nullptr));
    out[s.component + "." + s.name] = std::move(values);
  }
  return out;
}

Json figures_json(const std::vector<models::Figure>& figures) {
  Json out = Json::object();
  for (const auto& f : figures)
    out[f.name] = std::isfinite(f.value) ? Json(f.value) : Json(nullptr);
  return out;
}

Json models_json(const RunResult& run) {
  Json out = Json::object();
  for (const auto& c : run.components) {
    out[c.component] = {
        {"model", c.model}, {"replicas", c.replicas}, {"figures", figures_json(c.figures)}};
    if (c.per_replica.empty()) continue;
    Json replicas = Json::object();
    for (const auto& r : c.per_replica) replicas[r.node] = figures_json(r.figures);
    out[c.component]["per_replica"] = std::move(replicas);
  }
  return out;
}

// Every component figure of the runs as "component.figure": its mean over the seeds, and its
// 95 % interval (Student t; null with fewer than two seeds).
std::pair<Json, Json> variant_figures(const std::vector<RunResult>& runs) {
  Json means = Json::object(), intervals = Json::object();
  if (runs.empty()) return {means, intervals};
  for (const auto& c : runs.front().components) {
    for (const auto& f : c.figures) {
      const std::string key = c.component + "." + f.name;
      std::vector<Json> values;
      for (const auto& r : runs)
        for (const auto& rc : r.components)
          if (rc.component == c.component)
            for (const auto& rf : rc.figures)
              if (rf.name == f.name && std::isfinite(rf.value)) values.emplace_back(rf.value);
      std::vector<const Json*> samples;
      double sum = 0;
      for (const auto& v : values) samples.push_back(&v), sum += v.get<double>();
      means[key] = values.empty() ? Json(nullptr) : Json(sum / static_cast<double>(values.size()));
      intervals[key] = interval(samples);
    }
  }
  return {means, intervals};
}

// Each group's summary averaged over the seeds, with its intervals, in the order groups appear.
Json variant_groups(const std::vector<Json>& run_groups) {
  Json out = Json::array();
  if (run_groups.empty()) return out;
  for (const auto& [name, first] : run_groups.front().items()) {
    std::vector<Json> summaries;
    for (const auto& g : run_groups)
      if (g.contains(name)) summaries.push_back(g.at(name));
    out.push_back(
        {{"name", name}, {"summary", mean_summary(summaries)}, {"ci95", ci95_summary(summaries)}});
  }
  return out;
}

// The run's invariant violations: how many, and the first ones in full.
Json invariants_json(const RunResult& run) {
  Json first = Json::array();
  for (const auto& v : run.violations)
    first.push_back({{"invariant", v.invariant},
                     {"component", v.component},
                     {"at_s", v.at.seconds()},
                     {"detail", v.detail}});
  return {{"violations", run.invariant_violations}, {"first", std::move(first)}};
}

Json network_json(const sim::NetworkCounters& n) {
  Json dropped = Json::object();
  for (int r = 0; r < static_cast<int>(sim::DropReason::kCount); ++r)
    dropped[sim::to_string(static_cast<sim::DropReason>(r))] = n.dropped[r];
  return {{"hops", n.hops}, {"duplicated", n.duplicated}, {"dropped", dropped}};
}

Json histogram_json(const std::vector<RunResult>& runs) {
  sim::LatencyHistogram merged;
  for (const auto& r : runs) merged.merge(r.requests.latency());
  Json out = Json::array();
  for (const auto& b : merged.buckets(5))  // 32 buckets per power of two: ~2 % wide
    out.push_back(
        {static_cast<double>(b.low_ns) / 1e6, static_cast<double>(b.high_ns) / 1e6, b.count});
  return out;
}

double number_or_nan(const Json& j, std::initializer_list<const char*> keys) {
  const Json* cur = &j;
  for (const char* k : keys) {
    if (!cur->is_object() || !cur->contains(k)) return std::nan("");
    cur = &cur->at(k);
  }
  return cur->is_number() ? cur->get<double>() : std::nan("");
}

// The interval around `mean` as "±h", or "-d/+u" when it is lopsided (an availability interval
// bent by 100 %), so that the table never suggests a bound beyond what is possible.
std::string interval_text(const Json& ci, std::initializer_list<const char*> keys, double mean,
                          double scale) {
  const Json* cur = &ci;
  for (const char* k : keys) {
    if (!cur->is_object() || !cur->contains(k)) return "";
    cur = &cur->at(k);
  }
  if (!cur->is_array() || std::isnan(mean)) return "";
  const double down = (mean - (*cur)[0].get<double>()) * scale;
  const double up = ((*cur)[1].get<double>() - mean) * scale;
  const double half = (up + down) / 2;
  if (std::abs(up - down) <= 0.1 * half) return fmt::format("±{:.3g}", half);
  return fmt::format("-{:.3g}/+{:.3g}", std::max(0.0, down), std::max(0.0, up));
}

std::string fixed(double v, int decimals) {
  return std::isnan(v) ? "-" : fmt::format("{:.{}f}", v, decimals);
}

}  // namespace

Json make_report(const ScenarioFile& file, const std::vector<VariantResults>& variants) {
  Json report = Json::object();
  report["dsim_version"] = sim::kVersion;
  report["scenario"] = {
      {"name", file.name}, {"description", file.description}, {"file", file.path}};
  Json seeds = Json::array();
  if (!variants.empty())
    for (const auto& r : variants.front().runs) seeds.push_back(r.seed);
  report["seeds"] = seeds;
  report["percentiles"] =
      variants.empty() ? Json::array() : Json(variants.front().spec->report.percentiles);
  Json out_variants = Json::array();
  for (const auto& v : variants) {
    std::vector<Json> summaries, groups, slos, tenants;
    Json runs = Json::array();
    std::uint64_t violations = 0;
    for (const auto& r : v.runs) {
      summaries.push_back(run_summary(r, *v.spec));
      groups.push_back(group_summaries(r, *v.spec));
      tenants.push_back(run_tenants(r));
      runs.push_back({{"seed", r.seed},
                      {"fingerprint", hex(r.fingerprint)},
                      {"events", r.events},
                      {"simulated_s", r.simulated.seconds()},
                      {"summary", summaries.back()},
                      {"groups", groups.back()},
                      {"tenants", tenants.back()},
                      {"windows", run_windows(r, *v.spec)},
                      {"series", series_json(r)},
                      {"faults",
                       [&] {
                         Json f = Json::array();
                         for (const auto& record : r.faults) f.push_back(fault_json(record));
                         return f;
                       }()},
                      {"faults_unlisted", r.faults_unlisted},
                      {"failure_processes", failure_processes_json(r)},
                      {"states", states_json(r)},
                      {"models", models_json(r)},
                      {"invariants", invariants_json(r)},
                      {"network", network_json(r.network)}});
      if (!v.spec->slos.empty()) {  // only then: reports of scenarios without SLOs are unchanged
        slos.push_back(run_slos_json(r, *v.spec));
        runs.back()["slos"] = slos.back();
      }
      violations += r.invariant_violations;
    }
    auto [figures, figures_ci95] = variant_figures(v.runs);
    Json variant_group_list = variant_groups(groups);
    Json variant_tenant_summary = variant_tenants(tenants, variant_group_list);
    out_variants.push_back({{"name", v.spec->variant},
                            {"duration_s", v.spec->duration.seconds()},
                            {"warmup_s", v.spec->warmup.seconds()},
                            {"window_s", v.spec->report.window.seconds()},
                            {"scenario", v.spec->effective},
                            {"summary", mean_summary(summaries)},
                            {"ci95", ci95_summary(summaries)},
                            {"groups", std::move(variant_group_list)},
                            {"tenants", std::move(variant_tenant_summary)},
                            {"figures", std::move(figures)},
                            {"figures_ci95", std::move(figures_ci95)},
                            {"histogram_ms", histogram_json(v.runs)},
                            {"invariant_violations", violations},
                            {"runs", runs}});
    if (!v.spec->slos.empty()) {
      Json& added = out_variants.back();
      Json runs_json = std::move(added["runs"]);  // "slos" goes before the long "runs"
      added.erase("runs");
      added["slos"] = variant_slos_json(slos, *v.spec);
      added["runs"] = std::move(runs_json);
    }
  }
  report["variants"] = std::move(out_variants);
  return report;
}

namespace {

// Group rows are shown when they say something: several groups, or a group labelled on purpose
// (a name that is not the client component's own).
bool show_groups(const Json& variant) {
  const Json& groups = variant.at("groups");
  if (groups.size() > 1) return true;
  if (groups.empty()) return false;
  const Json& components = variant.at("scenario").at("components");
  return !components.contains(groups[0].at("name").get<std::string>());
}

// The extra table columns the scenarios ask for ("api.wasted_fraction"), in first-seen order.
std::vector<std::string> table_columns(const Json& variants) {
  std::vector<std::string> out;
  for (const auto& v : variants)
    for (const auto& c : v.at("scenario").at("report").at("columns"))
      if (std::find(out.begin(), out.end(), c.get<std::string>()) == out.end())
        out.push_back(c.get<std::string>());
  return out;
}

// Every figure of any variant, in first-seen order (the CSV's figure columns).
std::vector<std::string> all_figures(const Json& variants) {
  std::vector<std::string> out;
  for (const auto& v : variants)
    for (const auto& [key, value] : v.at("figures").items())
      if (std::find(out.begin(), out.end(), key) == out.end()) out.push_back(key);
  return out;
}

std::string figure_cell(const Json* figures, const std::string& key) {
  if (figures == nullptr || !figures->contains(key) || !figures->at(key).is_number()) return "";
  const double v = figures->at(key).get<double>();
  return std::abs(v) >= 1000 ? fmt::format("{:.0f}", v) : fmt::format("{:.4g}", v);
}

struct TableRow {
  std::string label;
  const Json& summary;
  const Json& ci;
  const Json* figures;     // null for a group's row
  bool text_only = false;  // a line of text (the tenants' summary), no columns
};

}  // namespace

std::string format_table(const Json& report) {
  const auto& variants = report.at("variants");
  std::vector<TableRow> rows;
  for (const auto& v : variants) {
    rows.push_back(
        {v.at("name").get<std::string>(), v.at("summary"), v.at("ci95"), &v.at("figures")});
    if (!show_groups(v)) continue;
    if (v.at("groups").size() > kTenantRowsMax) {  // many tenants: one line says how they fared
      rows.push_back({tenants_line(v), v.at("summary"), v.at("ci95"), nullptr, true});
      continue;
    }
    for (const auto& g : v.at("groups"))
      rows.push_back(
          {"  " + g.at("name").get<std::string>(), g.at("summary"), g.at("ci95"), nullptr});
  }
  std::size_t name_width = 7;
  for (const auto& r : rows)
    if (!r.text_only) name_width = std::max(name_width, r.label.size());
  const std::vector<std::string> columns = table_columns(variants);
  // A scenario without any request (an election: nothing but a protocol) shows its figures only.
  const bool requests = columns.empty() || std::any_of(rows.begin(), rows.end(), [](const auto& r) {
                          return number_or_nan(r.summary, {"requests"}) > 0;
                        });

  std::string out = fmt::format("{:<{}}", "variant", name_width);
  if (requests)
    out += fmt::format("  {:>10}  {:>20}  {:>9}  {:>16}  {:>10}  {:>9}  {:>10}", "requests",
                       "availability %", "p50 ms", "p99 ms", "p99.9 ms", "attempts", "goodput/s");
  for (const auto& c : columns)
    out += fmt::format("  {:>{}}", c, std::max<std::size_t>(c.size(), 9));
  out += "\n";
  for (const auto& r : rows) {
    if (r.text_only) {
      out += r.label + "\n";
      continue;
    }
    out += fmt::format("{:<{}}", r.label, name_width);
    if (requests) {
      const double availability = number_or_nan(r.summary, {"availability"});
      const double p99_ms = number_or_nan(r.summary, {"latency_ms", "p99"});
      const std::string avail =
          fixed(availability * 100, 3) + interval_text(r.ci, {"availability"}, availability, 100);
      const std::string p99 =
          fixed(p99_ms, 2) + interval_text(r.ci, {"latency_ms", "p99"}, p99_ms, 1);
      out += fmt::format("  {:>10.0f}  {:>20}  {:>9}  {:>16}  {:>10}  {:>9}  {:>10}",
                         number_or_nan(r.summary, {"requests"}), avail,
                         fixed(number_or_nan(r.summary, {"latency_ms", "p50"}), 2), p99,
                         fixed(number_or_nan(r.summary, {"latency_ms", "p999"}), 2),
                         fixed(number_or_nan(r.summary, {"attempts_per_request"}), 3),
                         fixed(number_or_nan(r.summary, {"goodput_per_s"}), 1));
    }
    for (const auto& c : columns)
      out += fmt::format("  {:>{}}", figure_cell(r.figures, c), std::max<std::size_t>(c.size(), 9));
    out += "\n";
  }
  return out + format_slo_table(report);
}

std::string format_csv(const Json& report) {
  const auto& variants = report.at("variants");
  const std::vector<std::string> figures = all_figures(variants);
  std::string out =
      "variant,group,seeds,requests,succeeded,availability,availability_lo,availability_hi,p50_ms,"
      "p90_ms,p99_ms,p99_lo_ms,p99_hi_ms,p999_ms,max_ms,mean_ms,attempts_per_request,"
      "goodput_per_s";
  for (const auto& f : figures) out += "," + f;
  out += "\n";
  auto num = [](double v) { return std::isnan(v) ? std::string() : fmt::format("{:.10g}", v); };
  auto bound = [&](const Json& ci, std::initializer_list<const char*> keys, int i) {
    const Json* cur = &ci;
    for (const char* k : keys) cur = cur->is_object() && cur->contains(k) ? &cur->at(k) : nullptr;
    return cur != nullptr && cur->is_array()
               ? num((*cur)[static_cast<std::size_t>(i)].get<double>())
               : std::string();
  };
  auto row = [&](const std::string& variant, const std::string& group, std::size_t seeds,
                 const Json& s, const Json& ci, const Json* values) {
    out += fmt::format(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}", variant, group, seeds,
        num(number_or_nan(s, {"requests"})), num(number_or_nan(s, {"succeeded"})),
        num(number_or_nan(s, {"availability"})), bound(ci, {"availability"}, 0),
        bound(ci, {"availability"}, 1), num(number_or_nan(s, {"latency_ms", "p50"})),
        num(number_or_nan(s, {"latency_ms", "p90"})), num(number_or_nan(s, {"latency_ms", "p99"})),
        bound(ci, {"latency_ms", "p99"}, 0), bound(ci, {"latency_ms", "p99"}, 1),
        num(number_or_nan(s, {"latency_ms", "p999"})), num(number_or_nan(s, {"latency_ms", "max"})),
        num(number_or_nan(s, {"latency_ms", "mean"})),
        num(number_or_nan(s, {"attempts_per_request"})), num(number_or_nan(s, {"goodput_per_s"})));
    for (const auto& f : figures) {
      out += ',';
      if (values != nullptr && values->contains(f) && values->at(f).is_number())
        out += num(values->at(f).get<double>());
    }
    out += "\n";
  };
  for (const auto& v : variants) {
    const std::string name = v.at("name").get<std::string>();
    const std::size_t seeds = v.at("runs").size();
    row(name, "", seeds, v.at("summary"), v.at("ci95"), &v.at("figures"));
    if (show_groups(v))
      for (const auto& g : v.at("groups"))
        row(name, g.at("name").get<std::string>(), seeds, g.at("summary"), g.at("ci95"), nullptr);
  }
  return out;
}

}  // namespace scenario
