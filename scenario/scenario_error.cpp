#include "scenario/scenario_error.hpp"

namespace scenario {
namespace {
std::string describe(const std::string& file, const std::vector<Problem>& problems) {
  std::string text;
  for (const auto& p : problems) {
    if (!text.empty()) text += "\n";
    text += file + ": " + (p.path.empty() ? "" : p.path + ": ") + p.message;
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
