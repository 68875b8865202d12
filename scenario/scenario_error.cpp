#include "scenario/scenario_error.hpp"

#include <cstdio>

namespace scenario {
namespace {

// Control characters from the file (a key with a newline, an ANSI escape) written as JSON
// writes them, so that each problem stays one line and cannot restyle the terminal.
std::string printable(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (byte < 0x20 || byte == 0x7f) {
      char code[8];
      std::snprintf(code, sizeof code, "\\u%04x", byte);
      out += code;
    } else {
      out += c;
    }
  }
  return out;
}

std::string describe(const std::string& file, const std::vector<Problem>& problems) {
  std::string text;
  for (const auto& p : problems) {
    if (!text.empty()) text += "\n";
    text += printable(file) + ": " + (p.path.empty() ? "" : printable(p.path) + ": ") +
            printable(p.message);
  }
  return text;
}

}  // namespace

ScenarioError::ScenarioError(std::string file, std::vector<Problem> problems)
    : std::runtime_error(describe(file, problems)),
      file_(std::move(file)),
      problems_(std::move(problems)) {}

void Problems::throw_if_any(const std::string& file) const {
  if (!items_.empty()) throw ScenarioError(file, items_);
}

}  // namespace scenario
