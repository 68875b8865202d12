// No shell anywhere: dsim starts child processes with an argument vector, so a path may hold any
// character a shell would act on. The sources are scanned for the ways a shell gets started,
// and a scenario file with such a name is validated, run and plotted.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <regex>
#include <string>
#include <vector>

#include "tests/scenarios/dsim_process.hpp"

namespace {

namespace fs = std::filesystem;

// `word` in single quotes for the shell that test::run_dsim uses.
std::string quoted(const std::string& word) {
  std::string q = "'";
  for (const char c : word) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

}  // namespace

TEST_CASE("no product source starts a shell: no system(), popen(), /bin/sh or shell=True") {
  // The test harness (tests/) runs dsim through a shell on purpose; the product must not.
  const std::regex shell(R"(\bsystem\(|\bpopen\(|/bin/sh|shell\s*=\s*True)");
  std::size_t scanned = 0;
  for (const std::string folder : {"sim", "models", "scenario", "cli", "analysis", "bench"}) {
    for (const auto& e : fs::recursive_directory_iterator(fs::path(DSIM_SOURCE_DIR) / folder)) {
      const std::string ext = e.path().extension();
      if (!e.is_regular_file() || (ext != ".cpp" && ext != ".hpp" && ext != ".py")) continue;
      INFO(e.path());
      CHECK_FALSE(std::regex_search(test::slurp(e.path()), shell));
      ++scanned;
    }
  }
  CHECK(scanned > 50);
}

TEST_CASE(
    "a scenario file whose name holds quotes, spaces, $, , and a newline validates and runs") {
  const test::TempDir dir;
  const std::string name = "it's $(touch injected); `touch injected`\n$x.json";
  dir.write(name, R"({
    "name": "odd", "description": "a client and a server", "duration": "1s",
    "components": {
      "api": {"model": "server", "service_time": {"dist": "exponential", "mean": "1ms"}},
      "client": {"model": "open_loop_client", "rate": "100/s", "target": "api"}
    }
  })");
  const test::Process valid = test::run_dsim("validate " + quoted(name), dir.path());
  CHECK(valid.status == 0);
  CHECK_THAT(valid.out, Catch::StartsWith(name + ": ok"));

  const test::Process run = test::run_dsim("run " + quoted(name) + " --csv --plot", dir.path());
  CHECK(run.status == 0);
  CHECK(run.err.empty());
  const std::string stem = name.substr(0, name.size() - 5);
  CHECK(entries(dir.path() / "results") ==
        std::vector<std::string>{stem + ".p99.png", stem + ".report.json", stem + ".summary.csv",
                                 stem + ".timeline.png"});
  CHECK(entries(dir.path()) == std::vector<std::string>{name, "results"});  // nothing else ran
  // Running it again replaces its own report: the file's name reads back from the report.
  CHECK(test::run_dsim("run " + quoted(name) + " --quiet", dir.path()).status == 0);
}
