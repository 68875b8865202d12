// Where `dsim run` writes: files named after the scenario file, a directory made on demand, and
// a report never overwritten by another scenario file's. How a file is written, whole or not at
// all, is cli/output_file.hpp.
#pragma once

#include <filesystem>
#include <string>

namespace cli {

/// The stem outputs are named after: the scenario file's ("scenarios/x.json" -> "x").
std::string output_stem(const std::string& scenario_path);
/// Creates `dir` (and its parents); a UsageError (exit 2) when it cannot.
void make_out_dir(const std::filesystem::path& dir);
/// A UsageError when `report` exists and was not written from `scenario_path`.
void check_overwrite(const std::filesystem::path& report, const std::string& scenario_path);

}  // namespace cli
