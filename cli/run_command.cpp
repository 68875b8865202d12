// dsim run: every (variant, seed) run in parallel, one report, printed table.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "cli/commands.hpp"
#include "cli/parallel_runs.hpp"
#include "scenario/report.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "scenario/scenario_error.hpp"

namespace cli {
namespace {

struct RunOptions {
  std::string scenario;
  std::optional<std::uint64_t> first_seed;
  std::optional<std::uint64_t> seed_count;
  std::vector<std::string> variants;
  std::string out_dir = "results";
  bool csv = false, plot = false, quiet = false, timing = false;
  std::size_t jobs = std::max(1u, std::thread::hardware_concurrency());
};

std::uint64_t parse_count(const std::string& flag, const std::string& value, std::uint64_t min) {
  std::size_t used = 0;
  unsigned long long v = 0;
  try {
    v = std::stoull(value, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != value.size() || value.empty() || value[0] == '-' || v < min)
    throw UsageError{flag + " expects an integer >= " + std::to_string(min) + ", got \"" + value +
                     "\""};
  return v;
}

RunOptions parse(const std::vector<std::string>& args) {
  RunOptions o;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&]() -> const std::string& {
      if (i + 1 >= args.size()) throw UsageError{a + " needs a value"};
      return args[++i];
    };
    if (a == "--seed")
      o.first_seed = parse_count(a, value(), 0);
    else if (a == "--seeds")
      o.seed_count = parse_count(a, value(), 1);
    else if (a == "--variant")
      o.variants.push_back(value());
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
    else if (a == "-j")
      o.jobs = parse_count(a, value(), 1);
    else if (!a.empty() && a[0] == '-')
      throw UsageError{"unknown option \"" + a + "\" (see dsim --help)"};
    else if (o.scenario.empty())
      o.scenario = a;
    else
      throw UsageError{"one scenario file at a time (got \"" + o.scenario + "\" and \"" + a +
                       "\")"};
  }
  if (o.scenario.empty()) throw UsageError{"run needs a scenario file: dsim run SCENARIO.json"};
  return o;
}

std::vector<std::uint64_t> seeds_for(const RunOptions& o,
                                     const std::vector<std::uint64_t>& file_seeds) {
  if (!o.first_seed && !o.seed_count) return file_seeds;
  const std::uint64_t first = o.first_seed.value_or(1);
  std::vector<std::uint64_t> seeds;
  for (std::uint64_t k = 0; k < o.seed_count.value_or(1); ++k) seeds.push_back(first + k);
  return seeds;
}

std::string file_stem(const std::string& name) {
  std::string stem;
  for (const char c : name)
    stem +=
        std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ? c : '-';
  return stem;
}

// Writes via a temporary file and a rename: a reader never sees half a report.
void write_atomically(const std::filesystem::path& path, const std::string& text) {
  const std::filesystem::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  std::filesystem::rename(tmp, path);
}

std::string reproduce_command(const RunOptions& o, const std::vector<std::uint64_t>& seeds) {
  std::string cmd = "./dsim run " + o.scenario;
  if (o.first_seed || o.seed_count) {
    cmd += " --seed " + std::to_string(seeds.front());
    if (seeds.size() > 1) cmd += " --seeds " + std::to_string(seeds.size());
  }
  for (const auto& v : o.variants) cmd += " --variant " + v;
  return cmd;
}

void plot(const std::filesystem::path& report, const std::string& stem,
          const std::filesystem::path& dir) {
  const std::string script = std::string(DSIM_SOURCE_DIR) + "/analysis/plot.py";
  for (const char* kind : {"p99", "timeline"}) {
    const std::filesystem::path png = dir / (stem + "." + kind + ".png");
    const std::string command = "/usr/bin/python3 '" + script + "' " + kind + " '" +
                                report.string() + "' -o '" + png.string() + "' >/dev/null";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("plotting failed: " + command);
    std::printf("plot:      %s\n", png.c_str());
  }
}

}  // namespace

int run_command(const std::vector<std::string>& args) {
  const RunOptions options = parse(args);
  const auto wall_start = std::chrono::steady_clock::now();
  const scenario::ScenarioFile file = scenario::load_scenario_file(options.scenario);

  std::vector<const scenario::ScenarioSpec*> chosen;
  for (const auto& wanted : options.variants) {
    const scenario::ScenarioSpec* found = nullptr;
    for (const auto& v : file.variants)
      if (v.variant == wanted) found = &v;
    if (found == nullptr) {
      std::string known;
      for (const auto& v : file.variants) known += (known.empty() ? "" : ", ") + v.variant;
      throw UsageError{options.scenario + ": no variant \"" + wanted + "\" (variants: " + known +
                       ")"};
    }
    chosen.push_back(found);
  }
  if (chosen.empty())
    for (const auto& v : file.variants) chosen.push_back(&v);
  const std::vector<std::uint64_t> seeds = seeds_for(options, file.variants.front().seeds);

  const std::size_t jobs = chosen.size() * seeds.size();
  auto results = run_parallel<scenario::RunResult>(jobs, options.jobs, [&](std::size_t i) {
    return scenario::run_scenario(*chosen[i / seeds.size()], seeds[i % seeds.size()]);
  });

  std::vector<scenario::VariantResults> variants;
  std::uint64_t events = 0;
  for (std::size_t v = 0; v < chosen.size(); ++v) {
    variants.push_back({chosen[v], {}});
    for (std::size_t s = 0; s < seeds.size(); ++s) {
      events += results[v * seeds.size() + s].events;
      variants.back().runs.push_back(std::move(results[v * seeds.size() + s]));
    }
  }
  const scenario::Json report = scenario::make_report(file, variants);

  const std::filesystem::path dir(options.out_dir);
  std::filesystem::create_directories(dir);
  const std::string stem = file_stem(file.name);
  const std::filesystem::path report_path = dir / (stem + ".report.json");
  write_atomically(report_path, report.dump(2) + "\n");
  if (options.csv) write_atomically(dir / (stem + ".summary.csv"), scenario::format_csv(report));

  if (!options.quiet) {
    std::printf("%s: %zu variant(s) x %zu seed(s), %s simulated each (warm-up %s)\n\n",
                file.name.c_str(), chosen.size(), seeds.size(),
                sim::format_duration(file.variants.front().duration).c_str(),
                sim::format_duration(file.variants.front().warmup).c_str());
    std::fputs(scenario::format_table(report).c_str(), stdout);
    std::printf("\nseeds:     ");
    for (std::size_t i = 0; i < seeds.size(); ++i)
      std::printf("%s%llu", i ? " " : "", static_cast<unsigned long long>(seeds[i]));
    std::printf("\nreproduce: %s\n", reproduce_command(options, seeds).c_str());
  }
  std::printf("report:    %s\n", report_path.c_str());
  if (options.csv) std::printf("csv:       %s\n", (dir / (stem + ".summary.csv")).c_str());
  if (options.plot) plot(report_path, stem, dir);

  const double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  std::fflush(stdout);  // keep the table and the timing line in order on a terminal
  if (options.timing)
    std::fprintf(stderr, "timing: %.2f s wall, %llu events, %.3g events/s\n", wall,
                 static_cast<unsigned long long>(events), static_cast<double>(events) / wall);
  return 0;
}

}  // namespace cli
