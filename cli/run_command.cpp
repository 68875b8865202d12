// dsim run: every (variant, seed) run in parallel, one report, printed table.
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <optional>
#include <thread>

#include <unistd.h>

#include "cli/commands.hpp"
#include "cli/output_file.hpp"
#include "cli/parallel_runs.hpp"
#include "cli/plot.hpp"
#include "cli/preflight.hpp"
#include "cli/report_files.hpp"
#include "cli/run_progress.hpp"
#include "scenario/report.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "scenario/scenario_error.hpp"

namespace cli {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDefaultOut = "results";

struct RunOptions {
  std::string scenario;
  std::vector<std::uint64_t> seeds;  // each --seed, in order
  std::optional<std::uint64_t> seed_count;
  std::vector<std::string> variants;
  std::string out_dir = kDefaultOut;
  bool csv = false, plot = false, quiet = false, timing = false;
  std::size_t jobs = std::max(1u, std::thread::hardware_concurrency());
  std::optional<std::uint64_t> max_events;  // per run
  std::optional<sim::Duration> max_wall;    // the whole command
  std::optional<double> max_memory;         // bytes; default: the memory available
};

std::uint64_t parse_count(const std::string& flag, const std::string& value, std::uint64_t min) {
  std::size_t used = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || value.empty() || value[0] == '-' || value[0] == '+' ||
      std::isspace(static_cast<unsigned char>(value[0])) || v < min)
    throw UsageError{flag + " expects an integer >= " + std::to_string(min) + ", got \"" + value +
                     "\""};
  return v;
}

sim::Duration parse_wall(const std::string& value) {
  try {
    const sim::Duration d = sim::parse_duration(value);
    if (d > sim::Duration::zero()) return d;
  } catch (const sim::ParseError&) {
  }
  throw UsageError{"--max-wall expects a duration > 0 such as 90s or 10m, got \"" + value + "\""};
}

void add_once(std::vector<std::string>& names, const std::string& name, const char* flag) {
  if (std::find(names.begin(), names.end(), name) != names.end())
    throw UsageError{std::string(flag) + " \"" + name + "\" given twice"};
  names.push_back(name);
}

// Checks what no single option can: the combination of --seed and --seeds.
void check_seed_options(const RunOptions& o) {
  if (o.seeds.size() > 1 && o.seed_count)
    throw UsageError{"--seeds K goes with a single --seed N (seeds N .. N+K-1)"};
  for (std::size_t i = 0; i < o.seeds.size(); ++i)
    if (std::find(o.seeds.begin(), o.seeds.begin() + i, o.seeds[i]) != o.seeds.begin() + i)
      throw UsageError{"--seed " + std::to_string(o.seeds[i]) + " given twice"};
  const std::uint64_t first = o.seeds.empty() ? 1 : o.seeds.front();
  if (o.seed_count && *o.seed_count - 1 > std::numeric_limits<std::uint64_t>::max() - first)
    throw UsageError{"--seed and --seeds: the last seed would be above 2^64 - 1"};
}

RunOptions parse(const std::vector<std::string>& args) {
  RunOptions o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw UsageError{a + " needs a value (see dsim run --help)"};
      return args[++i];
    };
    if (a == "--seed")
      o.seeds.push_back(parse_count(a, value(), 0));
    else if (a == "--seeds")
      o.seed_count = parse_count(a, value(), 1);
    else if (a == "--variant")
      add_once(o.variants, value(), "--variant");
    else if (a == "--out")
      o.out_dir = value();
    else if (a == "--csv")
      o.csv = true;
    else if (a == "--plot")
      o.plot = true;
    else if (a == "--quiet")
      o.quiet = true;
    else if (a == "--timing")
      o.timing = true;
    else if (a == "--max-events")
      o.max_events = parse_count(a, value(), 1);
    else if (a == "--max-wall")
      o.max_wall = parse_wall(value());
    else if (a == "--max-memory") {
      o.max_memory = parse_size(value());
      if (!o.max_memory)
        throw UsageError{"--max-memory expects a size such as 8G, 512M or 20000000000, got \"" +
                         args[i] + "\""};
    } else if (a == "-j")
      o.jobs = parse_count(a, value(), 1);
    else if (a.starts_with("-j"))  // -j4, as make and ninja take it
      o.jobs = parse_count("-j", a.substr(2), 1);
    else if (!a.empty() && a[0] == '-')
      throw UsageError{"unknown option \"" + a + "\" (see dsim run --help)"};
    else if (o.scenario.empty())
      o.scenario = a;
    else
      throw UsageError{"one scenario file at a time (got \"" + o.scenario + "\" and \"" + a +
                       "\")"};
  }
  if (o.scenario.empty()) throw UsageError{"run needs a scenario file: dsim run SCENARIO.json"};
  if (o.out_dir.empty()) throw UsageError{"--out needs a directory, got \"\""};
  check_seed_options(o);
  return o;
}

std::vector<std::uint64_t> seeds_for(const RunOptions& o,
                                     const std::vector<std::uint64_t>& file_seeds) {
  if (o.seeds.size() > 1) return o.seeds;
  if (o.seeds.empty() && !o.seed_count) return file_seeds;
  const std::uint64_t first = o.seeds.empty() ? 1 : o.seeds.front();
  std::vector<std::uint64_t> seeds;
  for (std::uint64_t k = 0; k < o.seed_count.value_or(1); ++k) seeds.push_back(first + k);
  return seeds;
}

std::vector<const scenario::ScenarioSpec*> choose_variants(const scenario::ScenarioFile& file,
                                                           const RunOptions& o) {
  std::vector<const scenario::ScenarioSpec*> chosen;
  for (const auto& wanted : o.variants) {
    const auto it = std::find_if(file.variants.begin(), file.variants.end(),
                                 [&](const auto& v) { return v.variant == wanted; });
    if (it == file.variants.end()) {
      std::string known;
      for (const auto& v : file.variants) known += (known.empty() ? "" : ", ") + v.variant;
      throw UsageError{o.scenario + ": no variant \"" + wanted + "\" (variants: " + known + ")"};
    }
    chosen.push_back(&*it);
  }
  if (chosen.empty())
    for (const auto& v : file.variants) chosen.push_back(&v);
  return chosen;
}

// --- the reproduce line ---------------------------------------------------------------------

// POSIX shell quoting: plain words stay as they are, anything else goes in single quotes, with
// each embedded ' written as '\'' (close, escaped quote, reopen).
std::string shell_quote(const std::string& word) {
  const bool plain = !word.empty() && std::all_of(word.begin(), word.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("@%+=:,./_-", c) != nullptr;
  });
  if (plain) return word;
  std::string quoted = "'";
  for (const char c : word) quoted += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return quoted + "'";
}

bool consecutive(const std::vector<std::uint64_t>& seeds) {
  for (std::size_t i = 1; i < seeds.size(); ++i)
    if (seeds[i] != seeds[0] + i) return false;
  return true;
}

// Every option that changes the report, the seeds always: the line does not depend on the
// scenario's "seeds" staying as it is.
std::string reproduce_command(const RunOptions& o, const std::vector<std::uint64_t>& seeds) {
  std::string cmd = "./dsim run " + shell_quote(o.scenario);
  if (consecutive(seeds)) {
    cmd += " --seed " + std::to_string(seeds.front());
    if (seeds.size() > 1) cmd += " --seeds " + std::to_string(seeds.size());
  } else {
    for (const auto s : seeds) cmd += " --seed " + std::to_string(s);
  }
  for (const auto& v : o.variants) cmd += " --variant " + shell_quote(v);
  if (o.out_dir != kDefaultOut) cmd += " --out " + shell_quote(o.out_dir);
  return cmd;
}

// --- running and printing ---------------------------------------------------------------------

struct Outcome {
  scenario::Json report;
  std::uint64_t events = 0;
};

struct Stopped {
  std::string message;
};

[[noreturn]] void throw_stopped(const RunOptions& o, const scenario::ScenarioSpec& spec,
                                const scenario::RunResult& r,
                                const std::vector<scenario::RunResult>& all) {
  const auto complete = static_cast<std::size_t>(
      std::count_if(all.begin(), all.end(), [](const auto& x) { return !x.stopped; }));
  const std::string where = "variant " + spec.variant + ", seed " + std::to_string(r.seed) +
                            ", stopped at " + sim::format_duration(r.simulated) + " of " +
                            sim::format_duration(spec.duration) + " after " +
                            std::to_string(r.events) + " events";
  const std::string limit =
      o.max_events && r.events >= *o.max_events
          ? "--max-events " + std::to_string(*o.max_events)
          : "--max-wall " + sim::format_duration(o.max_wall.value_or(sim::Duration::zero()));
  throw Stopped{"stopped by " + limit + " (" + where + "); " + std::to_string(complete) + " of " +
                std::to_string(all.size()) + " runs complete; no report written"};
}

// Runs every (variant, seed); a run stopped by a limit ends the command with kStopped and no
// report.
Outcome run_all(const scenario::ScenarioFile& file,
                const std::vector<const scenario::ScenarioSpec*>& chosen,
                const std::vector<std::uint64_t>& seeds, const RunOptions& o) {
  const std::size_t jobs = chosen.size() * seeds.size();
  RunProgress progress(jobs, !o.quiet && isatty(STDERR_FILENO), o.max_events, o.max_wall);
  auto results = run_parallel<scenario::RunResult>(jobs, o.jobs, [&](std::size_t i) {
    const scenario::ScenarioSpec& spec = *chosen[i / seeds.size()];
    auto r =
        scenario::run_scenario(spec, seeds[i % seeds.size()], progress.control(i, spec.duration));
    progress.finished(i);
    return r;
  });
  progress.clear();
  std::vector<scenario::VariantResults> variants;
  Outcome outcome;
  for (std::size_t v = 0; v < chosen.size(); ++v) {
    variants.push_back({chosen[v], {}});
    for (std::size_t s = 0; s < seeds.size(); ++s) {
      scenario::RunResult& r = results[v * seeds.size() + s];
      if (r.stopped) throw_stopped(o, *chosen[v], r, results);
      outcome.events += r.events;
      variants.back().runs.push_back(std::move(r));
    }
  }
  outcome.report = scenario::make_report(file, variants);
  return outcome;
}

void print_table(const scenario::ScenarioFile& file, const RunOptions& o, std::size_t variants,
                 const std::vector<std::uint64_t>& seeds, const scenario::Json& report) {
  std::printf("%s: %zu variant(s) x %zu seed(s), %s simulated each (warm-up %s)\n\n",
              file.name.c_str(), variants, seeds.size(),
              sim::format_duration(file.variants.front().duration).c_str(),
              sim::format_duration(file.variants.front().warmup).c_str());
  std::fputs(scenario::format_table(report).c_str(), stdout);
  std::printf("\nseeds:     ");
  for (std::size_t i = 0; i < seeds.size(); ++i)
    std::printf("%s%llu", i ? " " : "", static_cast<unsigned long long>(seeds[i]));
  std::printf("\nreproduce: %s\n", reproduce_command(o, seeds).c_str());
}

// Prints every run's invariant violations (the first ones of each, in full) on stderr; returns
// whether there were any.
bool report_violations(const scenario::Json& report) {
  bool any = false;
  for (const auto& v : report.at("variants"))
    for (const auto& run : v.at("runs")) {
      const auto& inv = run.at("invariants");
      if (inv.at("violations").get<std::uint64_t>() == 0) continue;
      any = true;
      std::fprintf(stderr, "dsim: variant %s, seed %llu: %llu invariant violation(s)\n",
                   v.at("name").get<std::string>().c_str(),
                   static_cast<unsigned long long>(run.at("seed").get<std::uint64_t>()),
                   static_cast<unsigned long long>(inv.at("violations").get<std::uint64_t>()));
      for (const auto& x : inv.at("first"))
        std::fprintf(stderr, "  %s (%s, at %.9g s): %s\n",
                     x.at("invariant").get<std::string>().c_str(),
                     x.at("component").get<std::string>().c_str(), x.at("at_s").get<double>(),
                     x.at("detail").get<std::string>().c_str());
    }
  return any;
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
  const RunOptions options = parse(args);
  const auto wall_start = std::chrono::steady_clock::now();
  const scenario::ScenarioFile file = scenario::load_scenario_file(options.scenario);
  const auto chosen = choose_variants(file, options);
  const std::vector<std::uint64_t> seeds = seeds_for(options, file.variants.front().seeds);

  // Every check of the outputs before the runs: bad input costs no simulation time.
  const fs::path dir(options.out_dir);
  const std::string stem = output_stem(options.scenario);
  const fs::path report_path = dir / (stem + ".report.json");
  const fs::path csv_path = dir / (stem + ".summary.csv");
  check_overwrite(report_path, options.scenario);
  const std::optional<double> available = available_memory();
  if (options.max_memory || available)
    check_memory(options.scenario, chosen, seeds.size(), options.jobs,
                 options.max_memory.value_or(available.value_or(0)),
                 options.max_memory.has_value());
  if (!options.quiet && isatty(STDERR_FILENO))
    if (const auto notice = large_run_notice(chosen, seeds.size(), options.jobs))
      std::fprintf(stderr, "dsim: %s\n", notice->c_str());
  make_out_dir(dir);

  Outcome outcome;
  try {
    outcome = run_all(file, chosen, seeds, options);
  } catch (const Stopped& s) {
    std::fprintf(stderr, "dsim: %s\n", s.message.c_str());
    return kStopped;
  }
  write_atomically(report_path, outcome.report.dump(2) + "\n");
  if (options.csv) write_atomically(csv_path, scenario::format_csv(outcome.report));

  if (!options.quiet) print_table(file, options, chosen.size(), seeds, outcome.report);
  std::printf("report:    %s\n", report_path.c_str());
  if (options.csv) std::printf("csv:       %s\n", csv_path.c_str());
  int status = options.plot ? plot(report_path, stem, dir, plot_kinds(outcome.report)) : 0;
  if (report_violations(outcome.report)) status = kInvariantViolated;

  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  std::fflush(stdout);  // keep the table and the timing line in order on a terminal
  if (options.timing)
    std::fprintf(stderr, "timing: %.2f s wall, %llu events, %.3g events/s\n", wall,
                 static_cast<unsigned long long>(outcome.events),
                 static_cast<double>(outcome.events) / wall);
  return status;
}

}  // namespace cli
