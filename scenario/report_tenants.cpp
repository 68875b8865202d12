#include "scenario/report_tenants.hpp"

#include <fmt/format.h>

#include <cmath>

#include "scenario/report_summary.hpp"

namespace scenario {
namespace {

const char* const kNumbers[] = {"tenants", "tenants_affected", "tenants_untouched",
                                "worst_availability"};

std::string count_text(double mean, const Json& ci) {
  std::string text = fmt::format("{:.4g}", mean);
  if (ci.is_array()) {
    const double half = (ci[1].get<double>() - ci[0].get<double>()) / 2;
    if (half > 0) text += fmt::format(" ±{:.2g}", half);
  }
  return text;
}

}  // namespace

Json run_tenants(const RunResult& run) {
  std::size_t affected = 0;
  const models::GroupStats* worst = nullptr;
  double worst_availability = 2;
  for (const models::GroupStats& g : run.requests.groups()) {
    if (g.counts.failed() > 0) ++affected;
    if (g.counts.requests == 0) continue;
    const double availability =
        static_cast<double>(g.counts.succeeded()) / static_cast<double>(g.counts.requests);
    if (availability < worst_availability) {  // ties: the first group
      worst = &g;
      worst_availability = availability;
    }
  }
  const std::size_t tenants = run.requests.groups().size();
  return {{"tenants", tenants},
          {"tenants_affected", affected},
          {"tenants_untouched", tenants - affected},
          {"worst_availability", worst ? Json(worst_availability) : Json(nullptr)},
          {"worst_group", worst ? Json(worst->name) : Json(nullptr)}};
}

Json variant_tenants(const std::vector<Json>& runs, const Json& groups) {
  Json summary = Json::object(), ci95 = Json::object();
  for (const char* key : kNumbers) {
    std::vector<const Json*> samples;
    double sum = 0;
    std::size_t n = 0;
    for (const Json& r : runs) {
      const Json& value = r.at(key);
      samples.push_back(&value);
      if (value.is_number()) sum += value.get<double>(), ++n;
    }
    summary[key] = n ? Json(sum / static_cast<double>(n)) : Json(nullptr);
    ci95[key] = interval(samples);
  }
  Json worst_group = nullptr;
  double worst = 2;
  for (const Json& g : groups) {
    const Json& availability = g.at("summary").at("availability");
    if (availability.is_number() && availability.get<double>() < worst) {
      worst = availability.get<double>();
      worst_group = g.at("name");
    }
  }
  return {{"summary", std::move(summary)},
          {"ci95", std::move(ci95)},
          {"worst_group", std::move(worst_group)}};
}

std::string tenants_line(const Json& variant) {
  const Json& t = variant.at("tenants");
  const Json& s = t.at("summary");
  const Json& ci = t.at("ci95");
  std::string line =
      fmt::format("  {:.4g} tenants: {} affected, {} untouched", s.at("tenants").get<double>(),
                  count_text(s.at("tenants_affected").get<double>(), ci.at("tenants_affected")),
                  count_text(s.at("tenants_untouched").get<double>(), ci.at("tenants_untouched")));
  const Json& worst = s.at("worst_availability");
  if (worst.is_number()) {
    line += fmt::format("; worst availability {:.3f} %", 100 * worst.get<double>());
    if (t.at("worst_group").is_string())
      line += " (" + t.at("worst_group").get<std::string>() + ")";
  }
  return line;
}

}  // namespace scenario
