// dsim run's limits: the memory preflight refuses what the runs would need beyond the memory
// allowed, before anything runs or is written; --max-events and --max-wall stop runs with exit
// status 5 and leave no report; none of them changes a report that completes.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "scenario/run_estimate.hpp"
#include "scenario/scenario.hpp"
#include "tests/scenarios/dsim_process.hpp"

namespace fs = std::filesystem;

namespace {

// 2 s of a client at `rate` requests/s on a server, windows of `window`.
std::string scenario_text(const std::string& rate, const std::string& window) {
  return R"({"name": "busy", "duration": "2s", "seeds": 2,
  "components": {
    "api": {"model": "server", "workers": 64, "service_time": {"dist": "constant", "value": "1ms"}},
    "client": {"model": "open_loop_client", "count": 4, "rate": ")" +
         rate + R"(", "target": "api"}},
  "report": {"window": ")" +
         window + R"("}})";
}

}  // namespace

TEST_CASE("the run estimate counts nodes, windows and offered requests") {
  const auto file = scenario::load_scenario_text(scenario_text("250/s", "10ms"), "busy.json");
  const scenario::RunEstimate e = scenario::estimate_run(file.variants.front());
  CHECK(e.nodes == 5);
  CHECK(e.windows == 200);
  CHECK(e.requests == Approx(4 * 250 * 2));
  CHECK(e.target_pairs == 4);  // each client node may call the one server
  CHECK(e.memory_bytes == Approx(5 * scenario::kNodeBytes + 4 * scenario::kTargetBytes +
                                 200 * scenario::kWindowBytes));
  // Two at once of three runs: the two largest running, all three kept.
  const scenario::RunEstimate small{.memory_bytes = 1, .kept_bytes = 10};
  const scenario::RunEstimate large{.memory_bytes = 100, .kept_bytes = 1000};
  CHECK(scenario::peak_memory({small, large, large}, 2) == 200 + 2010);
  CHECK(scenario::peak_memory({small, large, large}, 1) == 100 + 2010);
}

TEST_CASE("a run that needs more memory than allowed is refused before anything is written") {
  const test::TempDir dir;
  // 2000 windows and 5 nodes: 4.04 MB a run while it goes, 4 MB kept after it: two at once
  // need 16.1 MB, one at a time 12.0 MB.
  dir.write("busy.json", scenario_text("250/s", "1ms"));
  const test::Process p = test::run_dsim("run busy.json --max-memory 14M -j 2", dir.path());
  CHECK(p.status == 2);
  CHECK_THAT(p.err, Catch::StartsWith("dsim: busy.json: the 2 run(s), 2 at once, need about") &&
                        Catch::Contains("more than --max-memory 14 MB") &&
                        Catch::Contains("2000 report windows") &&
                        Catch::Contains("--max-memory 1G to run anyway"));
  CHECK_FALSE(fs::exists(dir.path() / "results"));
  // One at a time, it fits.
  CHECK(test::run_dsim("run busy.json --max-memory 14M -j 1 --quiet", dir.path()).status == 0);
}

TEST_CASE("bad limit values are usage errors") {
  const test::TempDir dir;
  dir.write("busy.json", scenario_text("250/s", "1s"));
  for (const auto& [option, message] :
       {std::pair{"--max-events 0", "--max-events expects an integer >= 1"},
        std::pair{"--max-wall 0s", "--max-wall expects a duration > 0"},
        std::pair{"--max-wall 10", "--max-wall expects a duration > 0"},
        std::pair{"--max-memory lots", "--max-memory expects a size"},
        std::pair{"--max-memory -5G", "--max-memory expects a size"}}) {
    INFO(option);
    const test::Process p = test::run_dsim(std::string("run busy.json ") + option, dir.path());
    CHECK(p.status == 2);
    CHECK_THAT(p.err, Catch::Contains(message));
  }
}

TEST_CASE("a run stopped by --max-events exits with status 5 and leaves no report") {
  const test::TempDir dir;
  dir.write("busy.json", scenario_text("250/s", "1s"));
  const test::Process p = test::run_dsim("run busy.json --max-events 1000 -j 1", dir.path());
  CHECK(p.status == 5);
  CHECK_THAT(p.err, Catch::StartsWith("dsim: stopped by --max-events 1000 (variant base, seed 1, "
                                      "stopped at ") &&
                        Catch::Contains("after 1000 events); 0 of 2 runs complete; "
                                        "no report written"));
  CHECK_FALSE(fs::exists(dir.path() / "results/busy.report.json"));
  // A limit the runs stay under changes nothing: the same report as without one.
  REQUIRE(test::run_dsim("run busy.json --quiet", dir.path()).status == 0);
  const std::string report = test::slurp(dir.path() / "results/busy.report.json");
  REQUIRE(test::run_dsim("run busy.json --quiet --max-events 100000000 --max-wall 1h", dir.path())
              .status == 0);
  CHECK(test::slurp(dir.path() / "results/busy.report.json") == report);
}

TEST_CASE("runs stopped by --max-wall exit with status 5 and leave no report") {
  // About 4 million requests per run: far more than one slice of events (2^20), after which a
  // run looks at the clock, and far more than 1 ms of work.
  const test::TempDir dir;
  dir.write("busy.json", scenario_text("500000/s", "1s"));
  const test::Process p = test::run_dsim("run busy.json --max-wall 1ms -j 1", dir.path());
  CHECK(p.status == 5);
  CHECK_THAT(p.err, Catch::StartsWith("dsim: stopped by --max-wall 1ms (variant base, seed ") &&
                        Catch::Contains("no report written"));
  CHECK_FALSE(fs::exists(dir.path() / "results/busy.report.json"));
}
