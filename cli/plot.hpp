// Draws a report's plots by running analysis/plot.py, without a shell: the paths go to the
// script as separate arguments, so an output directory may hold any character.
#pragma once

#include <filesystem>
#include <string>

namespace cli {

/// Draws the p99 comparison and the timeline of `report` into `dir` as STEM.p99.png and
/// STEM.timeline.png, printing each path; returns the exit status. A plot of a report dsim just
/// wrote can only fail on a bug or a broken installation (no python3 or matplotlib): status 1,
/// reported as the plotting step's failure with plot.py's message; the other plot is still drawn.
int plot(const std::filesystem::path& report, const std::string& stem,
         const std::filesystem::path& dir);

}  // namespace cli
