// docs/writing-a-model.md cannot drift from the code: each excerpt marked
// "<!-- from FILE -->" appears verbatim in FILE, and each block marked "<!-- run -->" is a
// scenario that loads and runs (every variant, every seed).
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "tests/scenarios/dsim_process.hpp"

namespace {

const std::filesystem::path kRoot(DSIM_SOURCE_DIR);

struct Block {
  std::string marker;  // what the comment before the block says: "from FILE" or "run"
  std::string text;
};

// The fenced code blocks that directly follow a "<!-- ... -->" line.
std::vector<Block> marked_blocks(const std::string& doc) {
  std::vector<Block> out;
  std::size_t at = 0;
  while ((at = doc.find("<!-- ", at)) != std::string::npos) {
    const auto close = doc.find(" -->\n", at);
    REQUIRE(close != std::string::npos);
    Block b{doc.substr(at + 5, close - at - 5), ""};
    const auto fence = close + 5;
    REQUIRE(doc.compare(fence, 3, "```") == 0);
    const auto body = doc.find('\n', fence) + 1;
    const auto end = doc.find("```\n", body);
    REQUIRE(end != std::string::npos);
    b.text = doc.substr(body, end - body);
    out.push_back(b);
    at = end;
  }
  return out;
}

}  // namespace

TEST_CASE("the model guide's excerpts are the code, and its scenario runs") {
  const std::string doc = test::slurp(kRoot / "docs/writing-a-model.md");
  const std::vector<Block> blocks = marked_blocks(doc);
  int excerpts = 0, scenarios = 0;
  for (const Block& b : blocks) {
    INFO(b.marker << "\n" << b.text);
    if (b.marker.rfind("from ", 0) == 0) {
      const std::filesystem::path file = kRoot / b.marker.substr(5);
      REQUIRE(std::filesystem::exists(file));
      CHECK(test::slurp(file).find(b.text) != std::string::npos);
      ++excerpts;
    } else {
      REQUIRE(b.marker == "run");
      const auto scenario = scenario::load_scenario_text(b.text, "guide.json");
      for (const auto& variant : scenario.variants)
        for (const auto seed : variant.seeds)
          CHECK(scenario::run_scenario(variant, seed).requests.totals().requests > 0);
      ++scenarios;
    }
  }
  CHECK(excerpts >= 8);
  CHECK(scenarios == 1);
}
