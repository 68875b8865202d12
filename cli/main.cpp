// dsim: a deterministic distributed-systems simulator. See `dsim --help`.
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include "cli/commands.hpp"
#include "scenario/scenario_error.hpp"
#include "sim/version.hpp"

namespace {

constexpr const char* kHelp = R"(dsim — a deterministic distributed-systems simulator

usage:
  dsim run SCENARIO.json [options]   run every variant for every seed; print the comparison
                                     table and write the JSON report
      --seed N          run seed N (with --seeds K: seeds N .. N+K-1)
      --seeds K         run K seeds (default: the scenario's "seeds")
      --variant NAME    run only this variant (repeatable)
      --out DIR         where the report goes (default: results/)
      --csv             also write the summary rows as CSV beside the report
      --plot            also draw the p99 comparison and the timeline (PNG) beside it
      --quiet           print only the report's path
      --timing          print wall time and events/s on stderr
      -j N              runs in parallel (default: all cores); the report is the same for any N
  dsim validate SCENARIO.json        check a scenario without running it
  dsim models [NAME]                 list the models with their parameters, units and defaults
  dsim --help | --version

exit status: 0 ok, 2 bad input (the message names the file, the JSON path and what was
expected), 1 internal error.
)";

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
      std::fputs(kHelp, args.empty() ? stderr : stdout);
      return args.empty() ? 2 : 0;
    }
    if (args[0] == "--version") {
      std::printf("dsim %s\n", sim::kVersion);
      return 0;
    }
    const std::string command = args[0];
    args.erase(args.begin());
    if (command == "run") return cli::run_command(args);
    if (command == "validate") return cli::validate_command(args);
    if (command == "models") return cli::models_command(args);
    throw cli::UsageError{"unknown command \"" + command +
                          "\" (try: run, validate, models, --help)"};
  } catch (const cli::UsageError& e) {
    std::fprintf(stderr, "dsim: %s\n", e.message.c_str());
    return 2;
  } catch (const scenario::ScenarioError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dsim: internal error: %s\n", e.what());
    return 1;
  }
}
