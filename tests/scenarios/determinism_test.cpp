// Determinism is a feature: the same scenario and seeds give byte-identical reports, however
// the runs are spread over threads.
#include <catch2/catch.hpp>

#include "tests/scenarios/dsim_process.hpp"

namespace {
const std::string kScenario = std::string(DSIM_SOURCE_DIR) + "/scenarios/mm1.json";
}

TEST_CASE("the same scenario and seeds give byte-identical reports, with -j1 and -j2") {
  const test::TempDir dir;
  const auto run = [&](const std::string& out, const std::string& jobs) {
    const test::Process p = test::run_dsim(
        "run '" + kScenario + "' --seeds 2 --quiet -j " + jobs + " --out " + out, dir.path());
    REQUIRE(p.status == 0);
    return test::slurp(dir.path() / out / "mm1.report.json");
  };
  const std::string first = run("a", "1");
  const std::string second = run("b", "1");
  const std::string parallel = run("c", "2");
  CHECK(first.size() > 1000);
  CHECK(first == second);
  CHECK(first == parallel);
}

TEST_CASE("a different seed gives a different report") {
  const test::TempDir dir;
  const auto run = [&](const std::string& out, const std::string& seed) {
    const test::Process p = test::run_dsim(
        "run '" + kScenario + "' --seed " + seed + " --quiet --out " + out, dir.path());
    REQUIRE(p.status == 0);
    return test::slurp(dir.path() / out / "mm1.report.json");
  };
  CHECK(run("a", "1") != run("b", "2"));
}
