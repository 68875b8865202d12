// dsim models [NAME]: every model's parameters, from the same describe() the loader uses.
#include <cstdio>
#include <string>

#include "cli/commands.hpp"
#include "scenario/model_catalog.hpp"

namespace cli {
namespace {

void print_model(const scenario::ModelBinding& m) {
  std::printf("%s\n  %s\n\n", m.name.c_str(), m.summary.c_str());
  for (const auto& p : m.docs()) {
    const bool has_default = !p.default_value.empty() && p.type != "section" && p.type != "list";
    std::printf("  %s: %s%s%s\n", p.name.c_str(), p.type.c_str(), has_default ? ", default " : "",
                has_default ? p.default_value.c_str() : "");
    std::string meaning = p.meaning;
    for (std::size_t pos = 0; (pos = meaning.find('\n', pos)) != std::string::npos; pos += 3)
      meaning.replace(pos, 1, "\n      ");
    std::printf("      %s\n", meaning.c_str());
  }
  std::printf("\n");
}

}  // namespace

int models_command(const std::vector<std::string>& args) {
  if (args.size() > 1) throw UsageError{"usage: dsim models [NAME]"};
  if (args.size() == 1) {
    const auto* m = scenario::find_model(args[0]);
    if (m == nullptr) throw UsageError{"no model \"" + args[0] + "\" (dsim models lists them)"};
    print_model(*m);
    return 0;
  }
  std::printf(
      "Every component of a scenario names a model and sets its parameters:\n"
      "  \"components\": {\"api\": {\"model\": \"server\", \"count\": 3, \"workers\": 4}}\n"
      "Besides the model's parameters a component takes \"count\" (replicas, default 1) and "
      "\"zone\".\n"
      "Units: durations \"250ms\", \"1.5s\"; rates \"2000/s\"; distributions {\"dist\": "
      "\"exponential\", \"mean\": \"5ms\"}\n"
      "(constant value | uniform low high | exponential mean | normal mean stddev | lognormal "
      "median p99|sigma |\n"
      " pareto scale shape | weibull scale shape | mixture parts[{weight, ...}] | empirical "
      "values|cdf).\n\n");
  for (const auto& m : scenario::model_catalog()) print_model(m);
  return 0;
}

}  // namespace cli
