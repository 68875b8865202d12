// The dsim subcommands. Each returns the process exit status: 0 ok, 2 bad input, 1 internal error
// (or a failed --plot), 3 a run violated an invariant of its models (the report is complete and
// lists them), 5 a run stopped by --max-events or --max-wall (no report); an output that cannot
// be written throws OutputError (4, output_file.hpp).
#pragma once

#include <string>
#include <vector>

namespace cli {

/// The exit status of a run in which a model's invariant was violated.
inline constexpr int kInvariantViolated = 3;
/// The exit status of `dsim run` stopped by --max-events or --max-wall (no report written).
inline constexpr int kStopped = 5;

int run_command(const std::vector<std::string>& args);
int validate_command(const std::vector<std::string>& args);
int models_command(const std::vector<std::string>& args);

/// Thrown for bad command-line usage (exit status 2).
struct UsageError {
  std::string message;
};

}  // namespace cli
