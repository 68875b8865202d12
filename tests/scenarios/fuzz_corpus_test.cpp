// The fuzz target's regression inputs (fuzz/corpus: inputs that once crashed, overflowed or
// ended in an internal error) and the library scenarios, through exactly what the fuzz target
// does with an input (fuzz/scenario_input.hpp), in the GCC build: each is refused as bad input
// or loads, runs and reports; none ends in any other exception.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "fuzz/scenario_input.hpp"
#include "scenario/json_file.hpp"
#include "scenario/scenario_error.hpp"

namespace {

std::vector<std::filesystem::path> files_in(const std::string& dir) {
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(std::string(DSIM_SOURCE_DIR) + dir))
    files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

TEST_CASE("every regression input of the fuzzer is refused as bad input or runs", "[fuzz]") {
  const auto files = files_in("/fuzz/corpus");
  REQUIRE(files.size() >= 20);
  std::size_t refused = 0, reported = 0;
  for (const auto& path : files) {
    INFO(path.filename().string());
    const std::string text = scenario::read_text_file(path.string());
    try {
      const dsimfuzz::Outcome outcome = dsimfuzz::load_run_and_report(text);
      CHECK(outcome.variants_loaded >= 1);
      reported += outcome.variants_reported > 0;
    } catch (const scenario::ScenarioError& e) {
      CHECK_FALSE(e.problems().empty());
      ++refused;
    }
  }
  CHECK(refused > files.size() / 2);
  // Some are small enough to run to the end within the bound and be reported: the heavy tail,
  // the long and the empty names, the backoff near 100 years, and the seeds written to be
  // (small-*.json: every fault action, SLOs and tenants).
  CHECK(reported >= 6);
}

TEST_CASE("the fuzzer's seeds, the library scenarios, load and run within its bound", "[fuzz]") {
  // Each is stopped by the bound (2,000 events a run) long before its end: loaded, built and
  // started, never reported.
  for (const auto& path : files_in("/scenarios")) {
    INFO(path.filename().string());
    const dsimfuzz::Outcome outcome =
        dsimfuzz::load_run_and_report(scenario::read_text_file(path.string()));
    CHECK(outcome.variants_loaded >= 1);
  }
}
