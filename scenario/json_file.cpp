#include "scenario/json_file.hpp"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

#include "scenario/scenario_error.hpp"

namespace scenario {
namespace {

// One level of the value being parsed: the current key of an object, or the number of
// elements an array has completed (the index of the one being read).
struct PathStep {
  bool in_array = false;
  std::string key;
  std::size_t done = 0;
};

// Follows the parser's events (a completed value or container ends one element of an array).
void track(std::vector<PathStep>& steps, Json::parse_event_t event, const Json& value) {
  using E = Json::parse_event_t;
  switch (event) {
    case E::object_start:
    case E::array_start:
      steps.push_back({event == E::array_start, "", 0});
      return;
    case E::key:
      if (!steps.empty()) steps.back().key = value.get<std::string>();
      return;
    case E::object_end:
    case E::array_end:
      if (!steps.empty()) steps.pop_back();
      [[fallthrough]];
    case E::value:
      if (!steps.empty() && steps.back().in_array) ++steps.back().done;
      return;
  }
}

std::string pointer(const std::vector<PathStep>& steps) {
  std::string out;
  for (const auto& s : steps) out += "/" + (s.in_array ? std::to_string(s.done) : s.key);
  return out;
}

ScenarioError too_deep(const std::string& path) {
  return ScenarioError(
      path, {{"", "objects and arrays nested deeper than " + std::to_string(kMaxJsonDepth) +
                      " levels: no scenario is that deep"}});
}

}  // namespace

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
  // Where the parser is, as a JSON pointer: nlohmann's number overflow (a literal like 1e400,
  // beyond a double) comes without a position, so the callback keeps one.
  std::vector<PathStep> steps;
  int deepest = 0;
  try {
    // Deeper values are dropped as they are read (the callback's false), so that nothing
    // recursive later meets them (a merge patch 100,000 levels deep overflowed the stack).
    const Json::parser_callback_t shallow = [&deepest, &steps](int depth, Json::parse_event_t event,
                                                               Json& value) {
      deepest = std::max(deepest, depth);
      track(steps, event, value);
      return depth <= kMaxJsonDepth || (event != Json::parse_event_t::object_start &&
                                        event != Json::parse_event_t::array_start);
    };
    Json doc = Json::parse(text, shallow, /*allow_exceptions=*/true, /*ignore_comments=*/true);
    if (deepest > kMaxJsonDepth) throw too_deep(path);
    return doc;
  } catch (const Json::out_of_range& e) {
    if (deepest > kMaxJsonDepth) throw too_deep(path);  // the steps inside are not tracked
    // 406: "number overflow parsing '1e400'"; nothing else is thrown while parsing.
    std::string literal = e.what();
    if (const auto quote = literal.find('\''); quote != std::string::npos)
      literal = literal.substr(quote + 1, literal.rfind('\'') - quote - 1);
    throw ScenarioError(path, {{pointer(steps),
                                "expected a number within the range of a double "
                                "(magnitude below 1.8e308), got " +
                                    literal}});
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
