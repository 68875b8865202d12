// Running a scenario text in tests the way `dsim run` does: every variant for its seeds, then
// the report, in process; and the lines of a formatted table.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include "scenario/report.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"

namespace dsimtest {

/// The report of scenario `text` (named `file_name` in error messages) over its seeds.
inline scenario::Json report_of(const std::string& text, const std::string& file_name) {
  const auto file = scenario::load_scenario_text(text, file_name);
  std::vector<scenario::VariantResults> variants;
  for (const auto& v : file.variants) {
    variants.push_back({&v, {}});
    for (const auto seed : v.seeds) variants.back().runs.push_back(scenario::run_scenario(v, seed));
  }
  return scenario::make_report(file, variants);
}

/// `text` split into lines.
inline std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

}  // namespace dsimtest
