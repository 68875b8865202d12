// dsim models [NAME]: every model's parameters, from the same describe() the loader uses.
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "scenario/model_catalog.hpp"
#include "scenario/value_codec.hpp"

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
  // The defaults' wiring; their problems (a required reference is empty) don't matter here.
  scenario::Problems ignored;
  const models::Wiring wiring = m.wiring(m.parse(scenario::Json::object(), "", ignored));
  std::printf("\n  serves: %s\n", wiring.serves.names().c_str());
  for (const auto& call : wiring.calls)
    std::printf("  calls `%s`, speaking %s\n", call.field.c_str(), call.speaks.names().c_str());
  std::printf("\n  figures (per component in the report; replicas combined as said):\n");
  for (const auto& f : m.figures)
    std::printf("  %s: %s, %s over replicas\n      %s\n", f.name, f.unit,
                models::to_string(f.combine), f.meaning);
  if (!m.series.empty()) {
    std::printf("\n  series (per window, a snapshot at its end; replicas combined as said):\n");
    for (const auto& s : m.series)
      std::printf("  %s: %s, %s over replicas\n      %s\n", s.name, s.unit,
                  models::to_string(s.combine), s.meaning);
  }
  std::printf("\n");
}

}  // namespace

int models_command(const std::vector<std::string>& args) {
  if (args.size() > 1) throw UsageError{"usage: dsim models [NAME]"};
  if (args.size() == 1) {
    const auto* m = scenario::find_model(args[0]);
    if (m == nullptr) {
      if (args[0].starts_with("-"))
        throw UsageError{"unknown option \"" + args[0] + "\" (see dsim models --help)"};
      std::vector<std::string> known;
      for (const auto& model : scenario::model_catalog()) known.push_back(model.name);
      const std::string guess = scenario::closest_name(args[0], known);
      throw UsageError{
          "no model \"" + args[0] + "\" (" +
          (guess.empty() ? "dsim models lists them" : "did you mean \"" + guess + "\"?") + ")"};
    }
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
