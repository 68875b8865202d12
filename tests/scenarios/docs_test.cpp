// The documentation lists what the code declares: every model's figures are in
// docs/report-format.md under the model's heading, with their unit; so are its series. The
// README's library table has a row for every scenario of the library.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "scenario/model_catalog.hpp"
#include "tests/scenarios/dsim_process.hpp"

TEST_CASE("docs/report-format.md lists every figure and series of every model") {
  const std::string doc =
      test::slurp(std::filesystem::path(DSIM_SOURCE_DIR) / "docs/report-format.md");
  for (const auto& m : scenario::model_catalog()) {
    INFO("model " << m.name);
    const auto start = doc.find("### `" + m.name + "`");
    REQUIRE(start != std::string::npos);
    const auto end = doc.find("### ", start + 4);
    const std::string section = doc.substr(start, end == std::string::npos ? end : end - start);
    for (const auto& f : m.figures) {
      INFO("figure " << f.name);
      CHECK(section.find("| `" + std::string(f.name) + "` | " + f.unit + " |") !=
            std::string::npos);
    }
    for (const auto& s : m.series) {
      INFO("series " << s.name);
      CHECK(section.find("| `" + std::string(s.name) + "` | " + s.unit + " |") !=
            std::string::npos);
    }
  }
}

TEST_CASE("the README's library table has a row for every library scenario") {
  namespace fs = std::filesystem;
  const std::string readme = test::slurp(fs::path(DSIM_SOURCE_DIR) / "README.md");
  int scenarios = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(DSIM_SOURCE_DIR) / "scenarios")) {
    if (entry.path().extension() != ".json") continue;
    ++scenarios;
    const std::string stem = entry.path().stem().string();
    INFO("scenario " << stem);
    CHECK(readme.find("| [`" + stem + "`](scenarios/" + stem + ".json) | ") != std::string::npos);
  }
  CHECK(scenarios > 0);
}
