// Reading a JSON file (comments allowed) with errors a person can act on: missing file,
// a directory, unreadable, invalid JSON with its line and column, or nesting deeper than
// kMaxJsonDepth (the loader and merge patches recurse; a scenario is a few levels deep).
#pragma once

#include <string>

#include "scenario/scenario.hpp"

namespace scenario {

/// Reads `path` as text; throws ScenarioError if it cannot.
std::string read_text_file(const std::string& path);
inline constexpr int kMaxJsonDepth = 64;

/// Parses JSON with comments; throws ScenarioError naming `path`, line and column, or the
/// nesting depth when objects and arrays nest deeper than kMaxJsonDepth.
Json parse_json(const std::string& text, const std::string& path);

}  // namespace scenario
