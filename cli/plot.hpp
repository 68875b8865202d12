// Draws a report's plots by running analysis/plot.py, without a shell: the paths go to the
// script as separate arguments, so an output directory may hold any character.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace cli {

/// The plots --plot draws for a report: the p99 comparison and the timeline always; the error
/// budget when the scenario has SLOs; each tenant's failures when a client has a tenant per node.
std::vector<std::string> plot_kinds(const nlohmann::json& report);

/// Draws each of `kinds` (plot.py's subcommands) of `report` into `dir` as STEM.KIND.png,
/// printing each path; returns the exit status. A plot of a report dsim just wrote can only fail
/// on a bug or a broken installation (no python3 or matplotlib): status 1, reported as the
/// plotting step's failure with plot.py's message; the other plots are still drawn.
int plot(const std::filesystem::path& report, const std::string& stem,
         const std::filesystem::path& dir, const std::vector<std::string>& kinds);

}  // namespace cli
