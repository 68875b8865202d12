#include "scenario/report_summary.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "scenario/report.hpp"

namespace scenario {
namespace {

double ms(std::int64_t ns) {
  return static_cast<double>(ns) / 1e6;
}

std::string percentile_key(double p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", p);
  return buf;
}

Json outcome_counts(const models::OutcomeCounts& counts) {
  Json by_reason = Json::object();
  for (std::size_t o = 1; o < counts.by_outcome.size(); ++o)
    by_reason[models::to_string(static_cast<models::Outcome>(o))] = counts.by_outcome[o];
  return by_reason;
}

Json latency_json(const sim::LatencyHistogram& h, const std::vector<double>& percentiles) {
  if (h.empty()) return nullptr;
  Json out = {{"p50", ms(h.quantile_ns(0.5))},  {"p90", ms(h.quantile_ns(0.9))},
              {"p99", ms(h.quantile_ns(0.99))}, {"p999", ms(h.quantile_ns(0.999))},
              {"max", ms(h.max_ns())},          {"mean", h.mean_ns() / 1e6}};
  Json requested = Json::object();
  for (double p : percentiles) requested[percentile_key(p)] = ms(h.quantile_ns(p / 100.0));
  out["percentiles"] = std::move(requested);
  return out;
}

// Visits numeric leaves of `samples` (same shape) at the same key path.
void mean_into(Json& out, const std::vector<const Json*>& samples) {
  const Json* shape = nullptr;
  for (const Json* s : samples)
    if (!s->is_null()) shape = s;
  if (shape == nullptr) {
    out = nullptr;
    return;
  }
  if (shape->is_object()) {
    out = Json::object();
    for (const auto& [key, value] : shape->items()) {
      std::vector<const Json*> children;
      for (const Json* s : samples)
        if (s->is_object() && s->contains(key)) children.push_back(&s->at(key));
      mean_into(out[key], children);
    }
    return;
  }
  double sum = 0;
  std::size_t n = 0;
  for (const Json* s : samples)
    if (s->is_number()) sum += s->get<double>(), ++n;
  out = n ? Json(sum / static_cast<double>(n)) : Json(nullptr);
}

}  // namespace

Json interval(const std::vector<const Json*>& samples) {
  std::vector<double> values;
  for (const Json* s : samples)
    if (s != nullptr && s->is_number()) values.push_back(s->get<double>());
  if (values.size() < 2) return nullptr;
  double mean = 0;
  for (double v : values) mean += v;
  mean /= static_cast<double>(values.size());
  double ss = 0;
  for (double v : values) ss += (v - mean) * (v - mean);
  const double sd = std::sqrt(ss / static_cast<double>(values.size() - 1));
  const double half =
      student_t95(values.size() - 1) * sd / std::sqrt(static_cast<double>(values.size()));
  return Json::array({mean - half, mean + half});
}

namespace {

// Availability across seeds: a Wilson score interval (suited to a proportion: it stays inside
// [0, 1] and always contains the estimate) around the mean of the seeds' availabilities, with
// the effective number of independent requests that the seeds' spread implies (Kish's design
// effect: requests within a run are correlated, so the binomial n would be far too narrow):
// n_eff = p(1 - p) / (s^2 / R). Where the spread says nothing (every seed the same, or p = 0
// or 1) n_eff is the number of requests counted. z is Student's t for R - 1 degrees of freedom,
// so for p away from 0 and 1 this is the t interval of the other figures, bent to stay inside.
Json availability_interval(const std::vector<Json>& summaries) {
  std::vector<double> values;
  double requests = 0;
  for (const auto& s : summaries) {
    if (!s.contains("availability") || !s.at("availability").is_number()) continue;
    values.push_back(s.at("availability").get<double>());
    requests += s.at("requests").get<double>();
  }
  if (values.size() < 2 || requests <= 0) return nullptr;
  const double r = static_cast<double>(values.size());
  double p = 0;
  for (double v : values) p += v;
  p /= r;
  double ss = 0;
  for (double v : values) ss += (v - p) * (v - p);
  const double variance_of_mean = ss / (r - 1) / r;
  double n = requests;
  if (variance_of_mean > 0 && p > 0 && p < 1) n = p * (1 - p) / variance_of_mean;
  const double z = student_t95(values.size() - 1);
  const double z2n = z * z / n;
  const double centre = (p + z2n / 2) / (1 + z2n);
  const double half = z / (1 + z2n) * std::sqrt(p * (1 - p) / n + z2n / (4 * n));
  return Json::array({std::max(0.0, centre - half), std::min(1.0, centre + half)});
}

const Json* at_path(const Json& j, std::initializer_list<const char*> keys) {
  const Json* cur = &j;
  for (const char* k : keys) {
    if (!cur->is_object() || !cur->contains(k)) return nullptr;
    cur = &cur->at(k);
  }
  return cur;
}

}  // namespace

// The figures of one population of requests (all of them, or one group's).
Json counts_summary(const models::OutcomeCounts& t, const sim::LatencyHistogram& latency,
                    const ScenarioSpec& spec) {
  const double measured_s = (spec.duration - spec.warmup).seconds();
  return {
      {"requests", t.requests},
      {"succeeded", t.succeeded()},
      {"failed", t.failed()},
      {"failed_by_reason", outcome_counts(t)},
      {"availability",
       t.requests ? Json(static_cast<double>(t.succeeded()) / static_cast<double>(t.requests))
                  : Json(nullptr)},
      {"latency_ms", latency_json(latency, spec.report.percentiles)},
      {"attempts_per_request",
       t.requests ? Json(static_cast<double>(t.attempts) / static_cast<double>(t.requests))
                  : Json(nullptr)},
      {"goodput_per_s", static_cast<double>(t.succeeded()) / measured_s},
  };
}

Json run_summary(const RunResult& run, const ScenarioSpec& spec) {
  Json out = counts_summary(run.requests.totals(), run.requests.latency(), spec);
  out["duplicate_effects"] = run.requests.duplicate_effects();
  out["abandoned"] = run.requests.abandoned_requests();
  return out;
}

Json group_summaries(const RunResult& run, const ScenarioSpec& spec) {
  Json out = Json::object();
  for (const auto& g : run.requests.groups())
    out[g.name] = counts_summary(g.counts, g.latency, spec);
  return out;
}

Json run_windows(const RunResult& run, const ScenarioSpec& spec) {
  Json out = Json::array();
  const double width = spec.report.window.seconds();
  const auto& windows = run.windows;
  for (std::size_t i = 0; i < windows.size(); ++i) {
    const models::WindowSummary& w = windows[i];
    const double start = width * static_cast<double>(i);
    const double end = std::min(start + width, spec.duration.seconds());
    const double span = end - start;
    const auto& c = w.counts;
    out.push_back({
        {"start_s", start},
        {"end_s", end},
        {"warmup", start < spec.warmup.seconds()},
        {"requests", c.requests},
        {"succeeded", c.succeeded()},
        {"failed", c.failed()},
        {"throughput_per_s", static_cast<double>(c.requests) / span},
        {"goodput_per_s", static_cast<double>(c.succeeded()) / span},
        {"availability",
         c.requests ? Json(static_cast<double>(c.succeeded()) / static_cast<double>(c.requests))
                    : Json(nullptr)},
        {"p50_ms", w.p50_ns ? Json(ms(*w.p50_ns)) : Json(nullptr)},
        {"p99_ms", w.p99_ns ? Json(ms(*w.p99_ns)) : Json(nullptr)},
        {"attempts_sent", w.attempts_sent},
        {"attempts_per_s", static_cast<double>(w.attempts_sent) / span},
    });
  }
  return out;
}

Json mean_summary(const std::vector<Json>& summaries) {
  std::vector<const Json*> samples;
  for (const auto& s : summaries) samples.push_back(&s);
  Json out;
  mean_into(out, samples);
  return out;
}

Json ci95_summary(const std::vector<Json>& summaries) {
  auto figure = [&](std::initializer_list<const char*> keys) {
    std::vector<const Json*> samples;
    for (const auto& s : summaries) samples.push_back(at_path(s, keys));
    return interval(samples);
  };
  Json latency = Json::object();
  for (const char* k : {"p50", "p90", "p99", "p999", "max", "mean"})
    latency[k] = figure({"latency_ms", k});
  return {{"availability", availability_interval(summaries)},
          {"latency_ms", latency},
          {"attempts_per_request", figure({"attempts_per_request"})},
          {"goodput_per_s", figure({"goodput_per_s"})}};
}

double student_t95(std::size_t dof) {
  // Two-sided 95 % (upper 0.975 quantile) of Student's t, from the standard table.
  static const double table[] = {12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306,
                                 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131, 2.120,
                                 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
                                 2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
  if (dof == 0) return std::nan("");
  if (dof <= 30) return table[dof - 1];
  if (dof <= 40) return 2.021;
  if (dof <= 60) return 2.000;
  if (dof <= 120) return 1.980;
  return 1.960;
}

}  // namespace scenario
