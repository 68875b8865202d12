// The command line as a user meets it: help on every command, every bad option is exit status 2,
// reports named after the scenario file and never clobbered by another file's run, a reproduce
// line that reproduces, and --plot that survives a variant where nothing succeeded.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "tests/scenarios/dsim_process.hpp"

namespace {

namespace fs = std::filesystem;

// A client and a server; the variant "broken" fails every request.
const std::string kScenario = R"({
  "name": "tiny",
  "description": "a client and a server",
  "duration": "2s",
  "warmup": "100ms",
  "components": {
    "api": {"model": "server", "service_time": {"dist": "exponential", "mean": "1ms"}},
    "client": {"model": "open_loop_client", "rate": "100/s", "target": "api"}
  },
  "variants": {"it's broken": {"components": {"api": {"error_rate": 1}}}, "fine": {}}
})";

// `text` up to (not including) the end of the line that starts at `at`.
std::string line_at(const std::string& text, std::size_t at) {
  return text.substr(at, text.find('\n', at) - at);
}

// The arguments of the printed `reproduce: ./dsim ...` line, still shell-quoted.
std::string reproduce_args(const std::string& out) {
  const std::string marker = "reproduce: ./dsim ";
  const auto at = out.find(marker);
  REQUIRE(at != std::string::npos);
  return line_at(out, at + marker.size());
}

// `word` in single quotes for the shell that test::run_dsim uses.
std::string quoted(const std::string& word) {
  std::string q = "'";
  for (const char c : word) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

bool png(const fs::path& path) {
  return test::slurp(path).starts_with("\x89PNG");
}

}  // namespace

TEST_CASE("every command has --help and -h: its usage on stdout, exit status 0") {
  const test::TempDir dir;
  for (const std::string command : {"run", "validate", "models"}) {
    for (const std::string flag : {"--help", "-h"}) {
      const test::Process p = test::run_dsim(command + " " + flag, dir.path());
      CHECK(p.status == 0);
      CHECK(p.err.empty());
      CHECK_THAT(p.out, Catch::StartsWith("usage: dsim " + command));
    }
  }
  // Help wins over the rest of the line, as in most tools.
  CHECK(test::run_dsim("run missing.json --seeds 0 --help", dir.path()).status == 0);
  CHECK_THAT(test::run_dsim("help models", dir.path()).out,
             Catch::StartsWith("usage: dsim models"));
}

TEST_CASE("the top-level help shows every command's usage line and run's options") {
  const test::TempDir dir;
  const std::string top = test::run_dsim("--help", dir.path()).out;
  for (const std::string command : {"run", "validate", "models"}) {
    const std::string usage = test::run_dsim(command + " --help", dir.path()).out;
    const std::string synopsis = line_at(usage, 0).substr(std::string("usage: ").size());
    CHECK_THAT(top, Catch::Contains("  " + synopsis + " "));
  }
  const std::string run_help = test::run_dsim("run --help", dir.path()).out;
  for (const std::string option :
       {"--seed N", "--seeds K", "--variant NAME", "--out DIR", "--csv", "--plot", "--quiet",
        "--timing", "-j N, -jN", "--max-events N", "--max-wall TIME", "--max-memory SIZE"}) {
    CHECK_THAT(top, Catch::Contains(option));
    CHECK_THAT(run_help, Catch::Contains(option));
  }
}

TEST_CASE(
    "the -j option takes its value attached or separate, -j0, -jx and a bare -j are usage errors") {
  const test::TempDir dir;
  dir.write("tiny.json", kScenario);
  CHECK(test::run_dsim("run tiny.json --quiet --out a -j1", dir.path()).status == 0);
  CHECK(test::run_dsim("run tiny.json --quiet --out b -j 1", dir.path()).status == 0);
  CHECK(test::slurp(dir.path() / "a/tiny.report.json") ==
        test::slurp(dir.path() / "b/tiny.report.json"));
  for (const std::string bad : {"-j0", "-jx", "-j 0", "-j"}) {
    const test::Process p = test::run_dsim("run tiny.json --quiet --out c " + bad, dir.path());
    CHECK(p.status == 2);
    CHECK_THAT(p.err, Catch::StartsWith("dsim: -j "));
  }
  CHECK_FALSE(fs::exists(dir.path() / "c"));
}

TEST_CASE("every bad option on every command exits with 2 and says what is wrong") {
  const test::TempDir dir;
  dir.write("tiny.json", kScenario);
  const std::pair<std::string, std::string> cases[] = {
      {"run tiny.json --bogus", "unknown option \"--bogus\""},
      {"run tiny.json --seed", "--seed needs a value"},
      {"run tiny.json --seed x", "--seed expects an integer"},
      {"run tiny.json --seeds 0", "--seeds expects an integer >= 1"},
      {"run tiny.json --seed 1 --seed 2 --seeds 3", "--seeds K goes with a single --seed N"},
      {"run tiny.json --seed 1 --seed 1", "--seed 1 given twice"},
      {"run tiny.json --variant fine --variant fine", "--variant \"fine\" given twice"},
      {"run tiny.json --out", "--out needs a value"},
      {"run tiny.json other.json", "one scenario file at a time"},
      {"run", "run needs a scenario file"},
      {"validate", "usage: dsim validate"},
      {"validate tiny.json --bogus", "unknown option \"--bogus\""},
      {"validate tiny.json tiny.json", "one scenario file at a time"},
      {"models --bogus", "unknown option \"--bogus\""},
      {"models server client", "usage: dsim models"},
      {"--version now", "--version takes no arguments"},
      {"--help run extra", "usage: dsim --help"},
      {"frobnicate", "unknown command \"frobnicate\""},
  };
  for (const auto& [args, message] : cases) {
    INFO("dsim " << args);
    const test::Process p = test::run_dsim(args, dir.path());
    CHECK(p.status == 2);
    CHECK_THAT(p.err, Catch::StartsWith("dsim: ") && Catch::Contains(message));
    CHECK(p.out.empty());
  }
  CHECK_FALSE(fs::exists(dir.path() / "results"));
}

TEST_CASE("an unknown model name gets a suggestion") {
  const test::TempDir dir;
  test::Process p = test::run_dsim("models serve", dir.path());
  CHECK(p.status == 2);
  CHECK(p.err == "dsim: no model \"serve\" (did you mean \"server\"?)\n");
  p = test::run_dsim("models zzzzzzzz", dir.path());
  CHECK(p.status == 2);
  CHECK(p.err == "dsim: no model \"zzzzzzzz\" (dsim models lists them)\n");
}

TEST_CASE("outputs are named after the scenario file, so files sharing a name keep their reports") {
  const test::TempDir dir;
  dir.write("first.json", kScenario);
  dir.write("second.json", kScenario);  // the same "name": "tiny"
  CHECK(test::run_dsim("run first.json --quiet --csv", dir.path()).status == 0);
  CHECK(test::run_dsim("run second.json --quiet --csv", dir.path()).status == 0);
  for (const std::string stem : {"first", "second"}) {
    CHECK(fs::exists(dir.path() / "results" / (stem + ".report.json")));
    CHECK(fs::exists(dir.path() / "results" / (stem + ".summary.csv")));
  }
  CHECK_FALSE(fs::exists(dir.path() / "results" / "tiny.report.json"));
}

TEST_CASE("a report written from another scenario file is never overwritten") {
  const test::TempDir dir;
  fs::create_directories(dir.path() / "a");
  fs::create_directories(dir.path() / "b");
  dir.write("a/same.json", kScenario);
  dir.write("b/same.json", kScenario);
  REQUIRE(test::run_dsim("run a/same.json --quiet --seed 1", dir.path()).status == 0);
  const fs::path report = dir.path() / "results/same.report.json";
  const std::string before = test::slurp(report);

  SECTION("re-running the same file replaces its report, however the path is spelled") {
    CHECK(test::run_dsim("run ./a/../a/same.json --quiet --seed 2", dir.path()).status == 0);
    CHECK(test::slurp(report) != before);
  }
  SECTION("another file with the same stem is refused, naming both files and --out") {
    const test::Process p = test::run_dsim("run b/same.json --quiet --seed 2", dir.path());
    CHECK(p.status == 2);
    CHECK_THAT(p.err, Catch::Contains("results/same.report.json") &&
                          Catch::Contains("a/same.json") && Catch::Contains("b/same.json") &&
                          Catch::Contains("--out"));
    CHECK(test::slurp(report) == before);
    CHECK(test::run_dsim("run b/same.json --quiet --out other", dir.path()).status == 0);
  }
  SECTION("a report that cannot be read, or that names no scenario file, is refused too") {
    for (const std::string text :
         {"{ not json", "{\"dsim_version\": \"0.0.1\", \"variants\": []}"}) {
      dir.write("results/same.report.json", text);
      const test::Process p = test::run_dsim("run a/same.json --quiet", dir.path());
      CHECK(p.status == 2);
      CHECK_THAT(p.err, Catch::Contains("refusing to overwrite"));
      CHECK(test::slurp(report) == text);
    }
  }
}

TEST_CASE("the reproduce line carries every option that changes the report, quoted for a shell") {
  const test::TempDir dir;
  dir.write("tiny.json", kScenario);
  const test::Process first = test::run_dsim(
      "run tiny.json --seed 4 --seeds 2 --variant fine --variant \"it's broken\" "
      "--out 'my out' -j 2",
      dir.path());
  REQUIRE(first.status == 0);
  const std::string args = reproduce_args(first.out);
  CHECK(
      args ==
      "run tiny.json --seed 4 --seeds 2 --variant fine --variant 'it'\\''s broken' --out 'my out'");
  const std::string report = test::slurp(dir.path() / "my out/tiny.report.json");
  fs::remove_all(dir.path() / "my out");
  const test::Process again = test::run_dsim(args + " --quiet", dir.path());
  REQUIRE(again.status == 0);
  CHECK(test::slurp(dir.path() / "my out/tiny.report.json") == report);
}

TEST_CASE("the reproduce line names the seeds even when they came from the scenario file") {
  const test::TempDir dir;
  std::string text = kScenario;
  text.replace(text.find("\"duration\""), 0, "\"seeds\": [9, 3],\n  ");
  dir.write("listed.json", text);
  const test::Process p = test::run_dsim("run listed.json --variant fine", dir.path());
  REQUIRE(p.status == 0);
  const std::string args = reproduce_args(p.out);
  CHECK(args == "run listed.json --seed 9 --seed 3 --variant fine");
  const std::string report = test::slurp(dir.path() / "results/listed.report.json");
  REQUIRE(test::run_dsim(args + " --quiet", dir.path()).status == 0);
  CHECK(test::slurp(dir.path() / "results/listed.report.json") == report);
}

TEST_CASE("with --plot both figures are drawn when a variant has no successful request") {
  const test::TempDir dir;
  dir.write("tiny.json", kScenario);
  // Every character a shell would act on: dsim must hand the path to plot.py as it is.
  const std::string out = "plots $(touch injected) `touch injected`; touch injected 'quoted'\n$x";
  const test::Process p =
      test::run_dsim("run tiny.json --seeds 2 --quiet --plot --out " + quoted(out), dir.path());
  CHECK(p.status == 0);
  CHECK(p.err.empty());
  CHECK(png(dir.path() / out / "tiny.p99.png"));
  CHECK(png(dir.path() / out / "tiny.timeline.png"));
  CHECK_THAT(p.out, Catch::Contains("plot:      " + (fs::path(out) / "tiny.p99.png").string()));
  // Nothing else ran: the directory holds the scenario and the outputs, no more.
  std::vector<std::string> entries;
  for (const auto& e : fs::directory_iterator(dir.path())) entries.push_back(e.path().filename());
  std::sort(entries.begin(), entries.end());
  CHECK(entries == std::vector<std::string>{out, "tiny.json"});
}

TEST_CASE("with --plot a scenario with SLOs and tenants also gets its budget and tenant plots") {
  const test::TempDir dir;
  std::string text = kScenario;
  text.replace(text.find("\"target\": \"api\"}"), 0, "\"count\": 3, \"tenant_per_node\": true, ");
  dir.write("plain.json", kScenario);
  dir.write("tenants.json", text);
  text.replace(text.find("\"variants\""), 0,
               "\"slos\": {\"availability\": {\"objective\": \"99%\", \"period\": \"1h\", "
               "\"alerts\": {}}},\n  ");
  dir.write("slos.json", text);
  for (const auto& [name, extra] : std::vector<std::pair<std::string, std::vector<std::string>>>{
           {"plain", {}}, {"tenants", {"tenants"}}, {"slos", {"budget", "tenants"}}}) {
    INFO(name);
    const test::Process p =
        test::run_dsim("run " + name + ".json --seeds 1 --quiet --plot", dir.path());
    CHECK(p.status == 0);
    CHECK(p.err.empty());
    for (const std::string kind : {"budget", "tenants"}) {
      const bool wanted = std::find(extra.begin(), extra.end(), kind) != extra.end();
      const fs::path plot = dir.path() / "results" / (name + "." + kind + ".png");
      CHECK((wanted ? png(plot) : !fs::exists(plot)));
      CHECK((p.out.find(kind + ".png") != std::string::npos) == wanted);
    }
  }
}

TEST_CASE("a plot that fails is reported as the plotting step's failure, with plot.py's message") {
  const test::TempDir dir;
  dir.write("tiny.json", kScenario);
  fs::create_directories(dir.path() / "results");
  // The p99 figure's path is a link into a directory that does not exist: it cannot be written.
  fs::create_symlink(dir.path() / "nowhere/x.png", dir.path() / "results/tiny.p99.png");
  const test::Process p = test::run_dsim("run tiny.json --quiet --plot", dir.path());
  CHECK(p.status == 1);
  CHECK_THAT(p.err, Catch::StartsWith("dsim: --plot: the p99 plot failed") &&
                        Catch::Contains("plot.py: ") && Catch::Contains("cannot write"));
  CHECK_THAT(p.err, !Catch::Contains("internal error"));
  CHECK_THAT(p.out, !Catch::Contains("tiny.p99.png"));  // a path is printed only once drawn
  CHECK_THAT(p.out, Catch::Contains("plot:      results/tiny.timeline.png"));
  CHECK(fs::exists(dir.path() / "results/tiny.report.json"));
  CHECK(png(dir.path() / "results/tiny.timeline.png"));  // the other plot is still drawn
}

TEST_CASE("dsim models NAME shows the model's protocols and figures with units and meaning") {
  const test::TempDir dir;
  const test::Process p = test::run_dsim("models load_balancer", dir.path());
  CHECK(p.status == 0);
  CHECK_THAT(p.out, Catch::Contains("serves: rpc and health"));
  CHECK_THAT(p.out, Catch::Contains("calls `backends`, speaking rpc"));
  CHECK_THAT(p.out, Catch::Contains("min_backend_share: fraction, mean over replicas\n"
                                    "      the idlest backend's share of the forwarded requests"));
  const test::Process cache = test::run_dsim("models cache", dir.path());
  CHECK_THAT(cache.out, Catch::Contains("hit_ratio: fraction, mean over replicas"));
}
