// The check `dsim run` makes before it runs anything: the memory the chosen runs will need at
// once (scenario/run_estimate.hpp) against the memory available, so that a scenario the
// machine cannot hold is refused with the estimate and what to change, instead of running until
// the machine gives out.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "scenario/run_estimate.hpp"
#include "scenario/scenario.hpp"

namespace cli {

/// "2G", "512M", "1.5G", "64K" or a number of bytes; nullopt when it is none of these.
std::optional<double> parse_size(const std::string& text);
/// "1.2 GB", "640 MB", "12 KB": decimal units, three significant digits.
std::string format_size(double bytes);
/// The memory the system can give without swapping (MemAvailable), or nullopt if unknown.
std::optional<double> available_memory();

/// Throws UsageError (exit 2) when the runs of `specs` x `seeds`, `parallel` at once, need more
/// than `limit` bytes: the message gives the estimate, its largest parts, and the options that
/// lower it or raise the limit.
void check_memory(const std::string& file, const std::vector<const scenario::ScenarioSpec*>& specs,
                  std::size_t seeds, std::size_t parallel, double limit, bool limit_given);

/// A line for stderr about runs that will take a while (10^8 requests offered or more in all):
/// their count, requests and memory at once; nullopt for smaller ones.
std::optional<std::string> large_run_notice(const std::vector<const scenario::ScenarioSpec*>& specs,
                                            std::size_t seeds, std::size_t parallel);

}  // namespace cli
