// dsim validate SCENARIO.json: load and check a scenario (every variant), run nothing.
#include <cstdio>

#include "cli/commands.hpp"
#include "scenario/scenario.hpp"

namespace cli {
namespace {

// The one scenario file named on the line; anything else is a usage error (exit status 2).
std::string scenario_argument(const std::vector<std::string>& args) {
  std::string scenario;
  for (const auto& a : args) {
    if (!a.empty() && a[0] == '-')
      throw UsageError{"unknown option \"" + a + "\" (see dsim validate --help)"};
    if (!scenario.empty())
      throw UsageError{"one scenario file at a time (got \"" + scenario + "\" and \"" + a + "\")"};
    scenario = a;
  }
  if (scenario.empty()) throw UsageError{"usage: dsim validate SCENARIO.json"};
  return scenario;
}

}  // namespace

int validate_command(const std::vector<std::string>& args) {
  const std::string path = scenario_argument(args);
  const scenario::ScenarioFile file = scenario::load_scenario_file(path);
  const auto& base = file.variants.front();
  std::printf("%s: ok (%zu variant(s), %zu component(s), %zu fault(s), %zu seed(s))\n",
              path.c_str(), file.variants.size(), base.components.size(), base.faults.size(),
              base.seeds.size());
  return 0;
}

}  // namespace cli
