// The scenario shown in the README loads and runs: the documentation cannot drift from the
// loader without a test failing.
#include <catch2/catch.hpp>

#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "tests/scenarios/dsim_process.hpp"

TEST_CASE("the README's example scenario is valid and its variants run") {
  const std::string readme = test::slurp(std::string(DSIM_SOURCE_DIR) + "/README.md");
  const std::string start_marker = "```jsonc\n// my-service.json\n";
  const auto start = readme.find(start_marker);
  REQUIRE(start != std::string::npos);
  const auto end = readme.find("```", start + start_marker.size());
  REQUIRE(end != std::string::npos);
  const std::string text =
      readme.substr(start + start_marker.size(), end - start - start_marker.size());
  const scenario::ScenarioFile file = scenario::load_scenario_text(text, "README.md");
  REQUIRE(file.variants.size() == 3);
  for (const auto& v : file.variants) {
    const scenario::RunResult r = scenario::run_scenario(v, 1);
    CHECK(r.requests.totals().requests > 100'000);
  }
}
