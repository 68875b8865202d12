// The SLO part of the report (docs/report-format.md, "SLOs and alerts"): per run, each SLO's
// error budget over time, its alert rules' firings and the incidents they caught or missed; per
// variant, the same averaged over the seeds with 95 % intervals; and the table's SLO lines.
// Only scenarios with an `slos` section have any of it: other reports are unchanged.
#pragma once

#include <string>
#include <vector>

#include "scenario/run.hpp"
#include "scenario/scenario.hpp"

namespace scenario {

/// runs[].slos: one entry per SLO of the variant.
Json run_slos_json(const RunResult& run, const ScenarioSpec& spec);
/// variants[].slos: each SLO averaged over the runs (`run_slos`: run_slos_json of each run).
Json variant_slos_json(const std::vector<Json>& run_slos, const ScenarioSpec& spec);
/// The table's SLO part: per SLO, a line per variant; "" when no variant has an SLO.
std::string format_slo_table(const Json& report);

}  // namespace scenario
