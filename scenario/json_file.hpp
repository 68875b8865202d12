// Reading a JSON file (comments allowed) with errors a person can act on: missing file,
// a directory, unreadable, or invalid JSON with its line and column.
#pragma once

#include <string>

#include "scenario/scenario.hpp"

namespace scenario {

/// Reads `path` as text; throws ScenarioError if it cannot.
std::string read_text_file(const std::string& path);
/// Parses JSON with comments; throws ScenarioError naming `path`, line and column.
Json parse_json(const std::string& text, const std::string& path);

}  // namespace scenario
