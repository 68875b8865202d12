// Turns run results into the report: JSON (docs/report-format.md), CSV rows, and the table
// printed by `dsim run`. Deterministic: same results, same bytes.
#pragma once

#include <string>
#include <vector>

#include "scenario/run.hpp"
#include "scenario/scenario.hpp"

namespace scenario {

struct VariantResults {
  const ScenarioSpec* spec;
  std::vector<RunResult> runs;  // in seed order
};

/// The whole report of one scenario file.
Json make_report(const ScenarioFile& file, const std::vector<VariantResults>& variants);
/// The comparison table: one row per variant (mean over seeds, ± the 95 % half-width).
std::string format_table(const Json& report);
/// The summary rows as CSV (header included).
std::string format_csv(const Json& report);

/// Two-sided 95 % Student t critical value for `dof` degrees of freedom (dof >= 1).
double student_t95(std::size_t dof);

}  // namespace scenario
