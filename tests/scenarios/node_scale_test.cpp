// A scenario of 10^5 nodes sets up and runs within the suite's budget (bench/ measures how
// fast; here, that it works): every server node is built and reachable, and the client's
// requests spread over them all.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "scenario/run.hpp"
#include "scenario/scenario.hpp"

namespace {

constexpr std::size_t kServers = 100'000;

double figure(const scenario::ComponentFigures& c, const std::string& name) {
  const auto it = std::find_if(c.figures.begin(), c.figures.end(),
                               [&](const models::Figure& f) { return f.name == name; });
  REQUIRE(it != c.figures.end());
  return it->value;
}

}  // namespace

TEST_CASE("a scenario of 10^5 server nodes sets up and runs") {
  // 20,000 requests, each attempt to a random one of the 10^5 servers (the caller's default).
  const std::string text = R"({"name": "many", "duration": "2s", "seeds": 1, "components": {
    "api": {"model": "server", "count": )" +
                           std::to_string(kServers) + R"(,
            "service_time": {"dist": "constant", "value": "1ms"}},
    "client": {"model": "open_loop_client", "rate": "10000/s", "target": "api"}}})";
  const scenario::ScenarioFile file = scenario::load_scenario_text(text, "many.json");
  const scenario::RunResult run = scenario::run_scenario(file.variants.front(), 1);
  REQUIRE_FALSE(run.stopped);
  const auto& api = run.components.front();
  CHECK(api.component == "api");
  CHECK(api.replicas == kServers);
  // Poisson arrivals at 10,000/s for 2 s: 20,000 expected, sd 141; the band is 5 sd wide.
  CHECK(figure(api, "arrivals") == Approx(20'000).margin(710));
  CHECK(run.requests.totals().succeeded() == run.requests.totals().requests);
}
