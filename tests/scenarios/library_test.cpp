// Every scenario of the library loads, runs, is deterministic (two runs, one fingerprint), and
// keeps the fingerprint recorded in tests/scenarios/fingerprints.json, so that any change of
// behaviour shows up in review. After an intended change, regenerate the table with
//   DSIM_UPDATE_FINGERPRINTS=1 build/tests/scenarios_tests "[library]"
// and explain the change in the commit.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <fmt/format.h>

#include "scenario/model_catalog.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "tests/scenarios/dsim_process.hpp"

namespace {

const std::filesystem::path kLibrary = std::filesystem::path(DSIM_SOURCE_DIR) / "scenarios";
const std::filesystem::path kTable =
    std::filesystem::path(DSIM_SOURCE_DIR) / "tests/scenarios/fingerprints.json";

std::vector<std::filesystem::path> library_files() {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(kLibrary))
    if (entry.path().extension() == ".json") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("every library scenario runs deterministically and keeps its fingerprint", "[library]") {
  const bool update = std::getenv("DSIM_UPDATE_FINGERPRINTS") != nullptr;
  scenario::Json expected = std::filesystem::exists(kTable)
                                ? scenario::Json::parse(test::slurp(kTable))
                                : scenario::Json::object();
  scenario::Json actual = scenario::Json::object();
  const auto files = library_files();
  REQUIRE_FALSE(files.empty());
  for (const auto& path : files) {
    const std::string name = path.filename().string();
    INFO("scenario " << name);
    const scenario::ScenarioFile file = scenario::load_scenario_file(path.string());
    CHECK(file.description.size() >= 80);  // each scenario states its lesson
    for (const auto& variant : file.variants) {
      INFO("variant " << variant.variant);
      const std::uint64_t seed = variant.seeds.front();
      const scenario::RunResult first = scenario::run_scenario(variant, seed);
#ifndef DSIM_SANITIZED
      // Under the sanitizers (scripts/test --sanitize) one run: they look at what a run does,
      // and the run twice, half of this test's time there, is the normal build's check.
      const scenario::RunResult second = scenario::run_scenario(variant, seed);
      CHECK(first.fingerprint == second.fingerprint);
      CHECK(first.events == second.events);
#endif
      // Something happened: requests, or, where no client runs (an election), the protocol's
      // own events.
      const bool clients = std::any_of(variant.components.begin(), variant.components.end(),
                                       [](const auto& c) { return c.binding->generates_load; });
      CHECK((first.requests.totals().requests > 0 || (!clients && first.events > 10'000)));
      CHECK(first.invariant_violations == 0);
      const std::string fp = fmt::format("{:016x}", first.fingerprint);
      actual[name][variant.variant] = fp;
      if (!update) {
        REQUIRE(expected.contains(name));
        REQUIRE(expected[name].contains(variant.variant));
        CHECK(expected[name][variant.variant].get<std::string>() == fp);
      }
    }
  }
  if (update) std::ofstream(kTable) << actual.dump(2) << "\n";
}

TEST_CASE("the figures a library scenario's description cites are columns of its table") {
  // A description that says "see min_backend_share" must not send the reader to the JSON: any
  // declared figure name with an underscore that the description mentions is a column.
  for (const auto& path : library_files()) {
    const scenario::ScenarioFile file = scenario::load_scenario_file(path.string());
    const scenario::ScenarioSpec& base = file.variants.front();
    for (const auto& component : base.components) {
      for (const auto& figure : component.binding->figures) {
        const std::string name = figure.name;
        if (name.find('_') == std::string::npos) continue;
        const auto at = file.description.find(name);
        const auto word_char = [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        };
        const bool cited = at != std::string::npos &&
                           (at == 0 || !word_char(file.description[at - 1])) &&
                           (at + name.size() == file.description.size() ||
                            !word_char(file.description[at + name.size()]));
        if (!cited) continue;
        INFO(path.filename().string() << " cites " << name);
        const bool shown =
            std::any_of(base.report.columns.begin(), base.report.columns.end(),
                        [&](const scenario::ColumnSpec& c) { return c.figure == name; });
        CHECK(shown);
      }
    }
  }
}
