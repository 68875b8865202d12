#include <cstdio>

#include "cli/commands.hpp"
#include "scenario/scenario.hpp"

namespace cli {

int validate_command(const std::vector<std::string>& args) {
  if (args.size() != 1 || args[0].starts_with("-"))
    throw UsageError{"usage: dsim validate SCENARIO.json"};
  const scenario::ScenarioFile file = scenario::load_scenario_file(args[0]);
  const auto& base = file.variants.front();
  std::printf("%s: ok (%zu variant(s), %zu component(s), %zu fault(s), %zu seed(s))\n",
              args[0].c_str(), file.variants.size(), base.components.size(), base.faults.size(),
              base.seeds.size());
  return 0;
}

}  // namespace cli
