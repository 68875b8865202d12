// dsim run: every (variant, seed) run in parallel, one report, printed table.
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <system_error>
#include <thread>

#include "cli/commands.hpp"
#include "cli/parallel_runs.hpp"
#include "scenario/report.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "scenario/scenario_error.hpp"

extern char** environ;  // the environment handed to plot.py

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
    else if (a == "-j")
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

// --- where the outputs go -----------------------------------------------------------------

// Outputs are named after the scenario file, not its "name": two files may share a name (a copy
// being edited), and each must keep its own report.
std::string output_stem(const std::string& scenario_path) {
  return fs::path(scenario_path).stem().string();
}

void make_out_dir(const fs::path& dir) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error || !fs::is_directory(dir))
    throw UsageError{"--out " + dir.string() + ": cannot create the directory (" +
                     (error ? error.message() : "a file is in the way") + ")"};
}

// The scenario file an existing report says it was written from; nullopt when that cannot be
// read (not JSON, not a report, an unreadable file).
std::optional<std::string> report_origin(const fs::path& report) {
  std::ifstream in(report, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  const auto json = scenario::Json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (!json.is_object() || !json.contains("scenario")) return std::nullopt;
  const auto& about = json.at("scenario");
  if (!about.is_object() || !about.contains("file") || !about.at("file").is_string())
    return std::nullopt;
  return about.at("file").get<std::string>();
}

bool same_file(const std::string& a, const std::string& b) {
  std::error_code ea, eb;
  const fs::path ca = fs::weakly_canonical(a, ea), cb = fs::weakly_canonical(b, eb);
  if (ea || eb) return fs::path(a).lexically_normal() == fs::path(b).lexically_normal();
  return ca == cb;
}

// Re-running a scenario replaces its report; a report of another scenario file with the same
// stem (or anything dsim cannot identify) is never silently clobbered.
void check_overwrite(const fs::path& report, const std::string& scenario_path) {
  std::error_code error;
  if (!fs::exists(fs::symlink_status(report, error))) return;
  const std::optional<std::string> origin = report_origin(report);
  if (origin && same_file(*origin, scenario_path)) return;
  const std::string what = origin ? "was written from " + *origin + ", not from " + scenario_path
                                  : "exists and is not a dsim report of " + scenario_path +
                                        " (it names no scenario file)";
  throw UsageError{report.string() + " " + what +
                   "; refusing to overwrite it: choose another directory with --out DIR, or "
                   "remove it"};
}

// Writes via a temporary file and a rename: a reader never sees half a report.
void write_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
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

// --- plotting ---------------------------------------------------------------------------------

/// A pipe whose ends close themselves.
class Pipe {
 public:
  Pipe() {
    if (pipe2(fds_, O_CLOEXEC) != 0)
      throw std::system_error(errno, std::generic_category(), "pipe");
  }
  ~Pipe() {
    close_read();
    close_write();
  }
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  int read_end() const { return fds_[0]; }
  int write_end() const { return fds_[1]; }
  void close_read() { close_fd(fds_[0]); }
  void close_write() { close_fd(fds_[1]); }

 private:
  static void close_fd(int& fd) {
    if (fd >= 0) ::close(fd);
    fd = -1;
  }
  int fds_[2] = {-1, -1};
};

struct ScriptResult {
  int status;  // the exit status; 128 + N for a signal; -1: could not be started
  std::string errors;
};

std::string read_all(int fd) {
  std::string text;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n > 0)
      text.append(buffer, static_cast<std::size_t>(n));
    else if (n == 0 || errno != EINTR)
      return text;
  }
}

int wait_for(pid_t pid) {
  int raw = 0;
  while (waitpid(pid, &raw, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
}

// Runs a program with argv as given, without a shell (a path from --out may hold any character):
// stdout discarded, stderr captured.
ScriptResult run_program(std::vector<std::string> argv) {
  Pipe errors;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, errors.write_end(), STDERR_FILENO);
  std::vector<char*> pointers;
  for (auto& arg : argv) pointers.push_back(arg.data());
  pointers.push_back(nullptr);
  pid_t pid = 0;
  const int failed = posix_spawn(&pid, pointers[0], &actions, nullptr, pointers.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  errors.close_write();  // the child holds its copy; EOF comes when it exits
  if (failed != 0) return {-1, "cannot run " + argv[0] + ": " + std::strerror(failed)};
  std::string text = read_all(errors.read_end());
  return {wait_for(pid), std::move(text)};
}

// One line when plot.py said one line (its errors are), else the whole text below the header.
void report_plot_failure(const char* kind, const ScriptResult& r) {
  std::string text = r.errors;
  while (!text.empty() && text.back() == '\n') text.pop_back();
  const std::string status =
      r.status < 0 ? "" : " (plot.py exit status " + std::to_string(r.status) + ")";
  const bool one_line = text.find('\n') == std::string::npos;
  std::fprintf(stderr, "dsim: --plot: the %s plot failed%s:%s%s\n", kind, status.c_str(),
               one_line ? " " : "\n", text.empty() ? "(no message)" : text.c_str());
}

// Draws the p99 comparison and the timeline beside the report; returns the exit status. A plot
// of a report dsim just wrote can only fail on a bug or a broken installation (no python3 or
// matplotlib): status 1, but reported as the plotting step's failure with plot.py's message,
// and the other plot is still drawn.
int plot(const fs::path& report, const std::string& stem, const fs::path& dir) {
  const std::string script = std::string(DSIM_SOURCE_DIR) + "/analysis/plot.py";
  int status = 0;
  for (const char* kind : {"p99", "timeline"}) {
    const fs::path png = dir / (stem + "." + kind + ".png");
    const ScriptResult r =
        run_program({"/usr/bin/python3", script, kind, report.string(), "-o", png.string()});
    if (r.status == 0) {
      std::printf("plot:      %s\n", png.c_str());
      continue;
    }
    std::fflush(stdout);  // keep the lines in order on a terminal
    report_plot_failure(kind, r);
    status = 1;
  }
  return status;
}

// --- running and printing ---------------------------------------------------------------------

struct Outcome {
  scenario::Json report;
  std::uint64_t events = 0;
};

Outcome run_all(const scenario::ScenarioFile& file,
                const std::vector<const scenario::ScenarioSpec*>& chosen,
                const std::vector<std::uint64_t>& seeds, std::size_t threads) {
  const std::size_t jobs = chosen.size() * seeds.size();
  auto results = run_parallel<scenario::RunResult>(jobs, threads, [&](std::size_t i) {
    return scenario::run_scenario(*chosen[i / seeds.size()], seeds[i % seeds.size()]);
  });
  std::vector<scenario::VariantResults> variants;
  Outcome outcome;
  for (std::size_t v = 0; v < chosen.size(); ++v) {
    variants.push_back({chosen[v], {}});
    for (std::size_t s = 0; s < seeds.size(); ++s) {
      outcome.events += results[v * seeds.size() + s].events;
      variants.back().runs.push_back(std::move(results[v * seeds.size() + s]));
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
  make_out_dir(dir);

  const Outcome outcome = run_all(file, chosen, seeds, options.jobs);
  write_atomically(report_path, outcome.report.dump(2) + "\n");
  if (options.csv) write_atomically(csv_path, scenario::format_csv(outcome.report));

  if (!options.quiet) print_table(file, options, chosen.size(), seeds, outcome.report);
  std::printf("report:    %s\n", report_path.c_str());
  if (options.csv) std::printf("csv:       %s\n", csv_path.c_str());
  const int status = options.plot ? plot(report_path, stem, dir) : 0;

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
