// dsim: a deterministic distributed-systems simulator. See `dsim --help`.
#include <algorithm>
#include <array>
#include <csignal>
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "cli/commands.hpp"
#include "cli/output_file.hpp"
#include "scenario/scenario_error.hpp"
#include "sim/version.hpp"

namespace {

// The options of `dsim run`, shared by `dsim --help` and `dsim run --help` so they cannot drift.
constexpr const char* kRunOptions =
    R"(      --seed N          run seed N (repeatable: exactly these seeds; with --seeds K:
                        seeds N .. N+K-1)
      --seeds K         run K seeds (default: the scenario's "seeds")
      --variant NAME    run only this variant (repeatable)
      --out DIR         where the report goes (default: results/)
      --csv             also write the summary rows as CSV beside the report
      --plot            also draw the p99 comparison and the timeline (PNG) beside it; the
                        error budget too with SLOs, each tenant's failures with tenant_per_node
      --quiet           print only the report's path
      --timing          print wall time and events/s on stderr
      -j N, -jN         runs in parallel (default: all cores); the report is the same for any N
      --max-events N    stop a run after N events (exit status 5, no report)
      --max-wall TIME   stop every run after TIME of wall time, e.g. 10m (exit status 5, no report)
      --max-memory SIZE the memory the runs may need at once, e.g. 32G (default: what the system
                        has available); more is refused before anything runs
)";

constexpr const char* kHelpOption = "      -h, --help        print this help\n";

constexpr const char* kExitStatus =
    R"(exit status: 0 ok, 2 bad input (the message names the file, the JSON path and what was
expected, or a run too large for the memory), 3 a run violated an invariant of its models (the
report is complete and lists them), 4 an output could not be written (the message names the file
and the reason; nothing is left under its name), 5 a run stopped by --max-events or --max-wall
(no report), 1 internal error (or a failed --plot).
)";

struct Command {
  std::string_view name;
  int (*run)(const std::vector<std::string>&);
  std::string_view synopsis;  // "dsim run SCENARIO.json [options]"
  std::string_view summary;   // one line, for `dsim --help`
  std::string_view details;   // what `dsim COMMAND --help` adds below the synopsis
};

constexpr std::string_view kRunDetails =
    R"(Runs every variant of the scenario for every seed (in parallel across cores), prints the
comparison table with 95 % confidence intervals across seeds, the seeds and a command that
reproduces the run, and writes the JSON report DIR/<file stem>.report.json, named after the
scenario file (scenarios/retry-storm.json -> results/retry-storm.report.json). It refuses to
overwrite a report written from another scenario file: choose another --out.
With --plot, a plot that fails is reported with plot.py's message and the exit status is 1
(the report is written already). Before running, it estimates the memory the runs need at once
(report windows, nodes) and refuses, with the estimate, what exceeds the memory available or
--max-memory. On a terminal, runs long enough show a progress line on stderr.
)";

const std::array<Command, 3> kCommands{{
    {"run", cli::run_command, "dsim run SCENARIO.json [options]",
     "run every variant for every seed; print the comparison\n"
     "                                     table and write the JSON report",
     kRunDetails},
    {"validate", cli::validate_command, "dsim validate SCENARIO.json",
     "check a scenario without running it",
     "Loads and checks the scenario file and every variant, and runs nothing. Errors name the\n"
     "file, the JSON path and what was expected.\n"},
    {"models", cli::models_command, "dsim models [NAME]",
     "list the models with their parameters, units and defaults",
     "Without NAME, every model; with NAME, that model only: its parameters, their types, units,\n"
     "defaults and meaning.\n"},
}};

const Command* find_command(std::string_view name) {
  const auto it = std::find_if(kCommands.begin(), kCommands.end(),
                               [&](const auto& c) { return c.name == name; });
  return it == kCommands.end() ? nullptr : &*it;
}

std::string padded(std::string_view text, std::size_t width) {
  std::string s(text);
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s;
}

std::string top_level_help() {
  std::string help = "dsim — a deterministic distributed-systems simulator\n\nusage:\n";
  for (const auto& c : kCommands) {
    help += "  " + padded(c.synopsis, 33) + "  " + std::string(c.summary) + "\n";
    if (c.name == "run") help += kRunOptions;
  }
  help += "  " + padded("dsim COMMAND --help", 33) + "  the usage of one command\n";
  help += "  dsim --help | --version\n\n";
  return help + kExitStatus;
}

std::string command_help(const Command& c) {
  std::string help = "usage: " + std::string(c.synopsis) + "\n\n" + std::string(c.details);
  help += std::string("\noptions:\n") + (c.name == "run" ? kRunOptions : "") + kHelpOption;
  return help + "\n" + kExitStatus;
}

bool is_help(std::string_view arg) {
  return arg == "--help" || arg == "-h";
}

// `dsim`, `dsim --help [COMMAND]`, `dsim help [COMMAND]` and `dsim --version`.
int top_level(const std::vector<std::string>& args) {
  if (args.empty()) {
    std::fputs(top_level_help().c_str(), stderr);
    return 2;
  }
  if (args[0] == "--version") {
    if (args.size() > 1) throw cli::UsageError{"--version takes no arguments"};
    std::printf("dsim %s\n", sim::kVersion);
    return 0;
  }
  if (args.size() > 2) throw cli::UsageError{"usage: dsim --help [COMMAND]"};
  if (args.size() == 1) {
    std::fputs(top_level_help().c_str(), stdout);
    return 0;
  }
  const Command* c = find_command(args[1]);
  if (c == nullptr)
    throw cli::UsageError{"no command \"" + args[1] + "\" (try: run, validate, models)"};
  std::fputs(command_help(*c).c_str(), stdout);
  return 0;
}

int dispatch(std::vector<std::string> args) {
  if (args.empty() || is_help(args[0]) || args[0] == "help" || args[0] == "--version")
    return top_level(args);
  const Command* c = find_command(args[0]);
  if (c == nullptr)
    throw cli::UsageError{"unknown command \"" + args[0] +
                          "\" (try: run, validate, models, --help)"};
  args.erase(args.begin());
  // Help wins over everything else on the line, as in most tools: `dsim run x.json --help`.
  if (std::any_of(args.begin(), args.end(), [](const auto& a) { return is_help(a); })) {
    std::fputs(command_help(*c).c_str(), stdout);
    return 0;
  }
  return c->run(args);
}

}  // namespace

int main(int argc, char** argv) {
  // A file-size limit (ulimit -f) would otherwise kill dsim with SIGXFSZ in the middle of a
  // write: no message, and a temporary file left behind. Ignored, the write fails with EFBIG
  // and takes the checked path like any other write error (exit status 4, nothing left).
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    return dispatch(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const cli::UsageError& e) {
    std::fprintf(stderr, "dsim: %s\n", e.message.c_str());
    return 2;
  } catch (const scenario::ScenarioError& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 2;
  } catch (const cli::OutputError& e) {
    std::fprintf(stderr, "dsim: %s\n", e.message.c_str());
    return 4;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dsim: internal error: %s\n", e.what());
    return 1;
  }
}
