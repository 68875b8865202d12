#include "scenario/report.hpp"

#include <fmt/format.h>

#include <cmath>
#include <cstdio>

#include "scenario/report_summary.hpp"
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

Json models_json(const RunResult& run) {
  Json out = Json::object();
  for (const auto& c : run.components) {
    Json figures = Json::object();
    for (const auto& f : c.figures)
      figures[f.name] = std::isfinite(f.value) ? Json(f.value) : Json(nullptr);
    out[c.component] = {{"model", c.model}, {"replicas", c.replicas}, {"figures", figures}};
  }
  return out;
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

std::string half_width(const Json& ci, std::initializer_list<const char*> keys, double scale) {
  const Json* cur = &ci;
  for (const char* k : keys) {
    if (!cur->is_object() || !cur->contains(k)) return "";
    cur = &cur->at(k);
  }
  if (!cur->is_array()) return "";
  return fmt::format("±{:.3g}", ((*cur)[1].get<double>() - (*cur)[0].get<double>()) / 2 * scale);
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
    std::vector<Json> summaries;
    Json runs = Json::array();
    for (const auto& r : v.runs) {
      summaries.push_back(run_summary(r, *v.spec));
      runs.push_back({{"seed", r.seed},
                      {"fingerprint", hex(r.fingerprint)},
                      {"events", r.events},
                      {"simulated_s", r.simulated.seconds()},
                      {"summary", summaries.back()},
                      {"windows", run_windows(r, *v.spec)},
                      {"faults",
                       [&] {
                         Json f = Json::array();
                         for (const auto& record : r.faults) f.push_back(fault_json(record));
                         return f;
                       }()},
                      {"states", states_json(r)},
                      {"models", models_json(r)},
                      {"network", network_json(r.network)}});
    }
    out_variants.push_back({{"name", v.spec->variant},
                            {"duration_s", v.spec->duration.seconds()},
                            {"warmup_s", v.spec->warmup.seconds()},
                            {"window_s", v.spec->report.window.seconds()},
                            {"scenario", v.spec->effective},
                            {"summary", mean_summary(summaries)},
                            {"ci95", ci95_summary(summaries)},
                            {"histogram_ms", histogram_json(v.runs)},
                            {"runs", runs}});
  }
  report["variants"] = std::move(out_variants);
  return report;
}

std::string format_table(const Json& report) {
  std::string out;
  const auto& variants = report.at("variants");
  std::size_t name_width = 7;
  for (const auto& v : variants)
    name_width = std::max(name_width, v.at("name").get<std::string>().size());
  out += fmt::format("{:<{}}  {:>10}  {:>16}  {:>9}  {:>16}  {:>10}  {:>9}  {:>10}\n", "variant",
                     name_width, "requests", "availability %", "p50 ms", "p99 ms", "p99.9 ms",
                     "attempts", "goodput/s");
  for (const auto& v : variants) {
    const Json& s = v.at("summary");
    const Json& ci = v.at("ci95");
    const std::string avail =
        fixed(number_or_nan(s, {"availability"}) * 100, 3) + half_width(ci, {"availability"}, 100);
    const std::string p99 = fixed(number_or_nan(s, {"latency_ms", "p99"}), 2) +
                            half_width(ci, {"latency_ms", "p99"}, 1);
    out += fmt::format("{:<{}}  {:>10.0f}  {:>16}  {:>9}  {:>16}  {:>10}  {:>9}  {:>10}\n",
                       v.at("name").get<std::string>(), name_width, number_or_nan(s, {"requests"}),
                       avail, fixed(number_or_nan(s, {"latency_ms", "p50"}), 2), p99,
                       fixed(number_or_nan(s, {"latency_ms", "p999"}), 2),
                       fixed(number_or_nan(s, {"attempts_per_request"}), 3),
                       fixed(number_or_nan(s, {"goodput_per_s"}), 1));
  }
  return out;
}

std::string format_csv(const Json& report) {
  std::string out =
      "variant,seeds,requests,succeeded,availability,availability_lo,availability_hi,p50_ms,p90_ms,"
      "p99_ms,p99_lo_ms,"
      "p99_hi_ms,p999_ms,max_ms,mean_ms,attempts_per_request,goodput_per_s\n";
  auto num = [](double v) { return std::isnan(v) ? std::string() : fmt::format("{:.10g}", v); };
  auto bound = [&](const Json& ci, std::initializer_list<const char*> keys, int i) {
    const Json* cur = &ci;
    for (const char* k : keys) cur = cur->is_object() && cur->contains(k) ? &cur->at(k) : nullptr;
    return cur != nullptr && cur->is_array()
               ? num((*cur)[static_cast<std::size_t>(i)].get<double>())
               : std::string();
  };
  for (const auto& v : report.at("variants")) {
    const Json& s = v.at("summary");
    const Json& ci = v.at("ci95");
    out += fmt::format(
        "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n", v.at("name").get<std::string>(),
        v.at("runs").size(), num(number_or_nan(s, {"requests"})),
        num(number_or_nan(s, {"succeeded"})), num(number_or_nan(s, {"availability"})),
        bound(ci, {"availability"}, 0), bound(ci, {"availability"}, 1),
        num(number_or_nan(s, {"latency_ms", "p50"})), num(number_or_nan(s, {"latency_ms", "p90"})),
        num(number_or_nan(s, {"latency_ms", "p99"})), bound(ci, {"latency_ms", "p99"}, 0),
        bound(ci, {"latency_ms", "p99"}, 1), num(number_or_nan(s, {"latency_ms", "p999"})),
        num(number_or_nan(s, {"latency_ms", "max"})), num(number_or_nan(s, {"latency_ms", "mean"})),
        num(number_or_nan(s, {"attempts_per_request"})), num(number_or_nan(s, {"goodput_per_s"})));
  }
  return out;
}

}  // namespace scenario
