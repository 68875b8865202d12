#include "scenario/json_file.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "scenario/scenario_error.hpp"

namespace scenario {

std::string read_text_file(const std::string& path) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(path, ec)) throw ScenarioError(path, {{"", "no such file"}});
  if (fs::is_directory(path, ec))
    throw ScenarioError(path, {{"", "is a directory, expected a scenario file (.json)"}});
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ScenarioError(path, {{"", "cannot be read (permission denied?)"}});
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Json parse_json(const std::string& text, const std::string& path) {
  try {
    // Deeper values are dropped as they are read (the callback's false), so that nothing
    // recursive later meets them (a merge patch 100,000 levels deep overflowed the stack).
    int deepest = 0;
    const Json::parser_callback_t shallow = [&deepest](int depth, Json::parse_event_t event,
                                                       Json& /*value*/) {
      deepest = std::max(deepest, depth);
      return depth <= kMaxJsonDepth || (event != Json::parse_event_t::object_start &&
                                        event != Json::parse_event_t::array_start);
    };
    Json doc = Json::parse(text, shallow, /*allow_exceptions=*/true, /*ignore_comments=*/true);
    if (deepest > kMaxJsonDepth)
      throw ScenarioError(
          path, {{"", "objects and arrays nested deeper than " + std::to_string(kMaxJsonDepth) +
                          " levels: no scenario is that deep"}});
    return doc;
  } catch (const Json::parse_error& e) {
    // nlohmann reports a byte offset; people count lines and columns.
    std::size_t line = 1, column = 1;
    const std::size_t end = std::min<std::size_t>(e.byte > 0 ? e.byte - 1 : 0, text.size());
    for (std::size_t i = 0; i < end; ++i) {
      if (text[i] == '\n') {
        ++line;
        column = 1;
      } else {
        ++column;
      }
    }
    std::string why = e.what();
    if (const auto colon = why.find(": "); colon != std::string::npos) why = why.substr(colon + 2);
    if (const auto colon = why.find(": ");
        why.rfind("syntax error", 0) == 0 && colon != std::string::npos)
      why = why.substr(colon + 2);
    throw ScenarioError(path, {{"", "invalid JSON at line " + std::to_string(line) + ", column " +
                                        std::to_string(column) + ": " + why}});
  }
}

}  // namespace scenario
