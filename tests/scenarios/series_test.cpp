// Model series end to end (models/shared/series.hpp, scenario/series_sampler.hpp): a server's
// queue at each window's end is what the arrivals and services predict; sampling window by
// window runs the same events (any window width, same fingerprint); the report carries the
// series, one value per window, byte for byte the same on a second run.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "scenario/report.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "tests/scenario_report.hpp"

namespace {

using scenario::Json;

// One worker serving 10 ms requests arriving every 5 ms: overloaded twofold, its queue grows.
std::string overloaded(const std::string& window) {
  return R"({
    "name": "overloaded", "duration": "3s",
    "components": {
      "api": {"model": "server", "workers": 1,
              "service_time": {"dist": "constant", "value": "10ms"}},
      "client": {"model": "open_loop_client", "rate": "200/s", "arrivals": "constant",
                 "timeout": "10s", "target": "api"}
    },
    "report": {"window": ")" +
         window + R"("}
  })";
}

scenario::RunResult run(const std::string& text, std::uint64_t seed) {
  const auto file = scenario::load_scenario_text(text, "overloaded.json");
  return scenario::run_scenario(file.variants.front(), seed);
}

const std::vector<double>& series(const scenario::RunResult& r, const std::string& component,
                                  const std::string& name) {
  for (const auto& s : r.series)
    if (s.component == component && s.name == name) return s.values;
  FAIL("no series " << component << "." << name);
  static const std::vector<double> none;
  return none;
}

Json report_of(const std::string& text) {
  return dsimtest::report_of(text, "overloaded.json");
}

}  // namespace

TEST_CASE("a server's queue at each window's end is the arrivals minus the services", "[series]") {
  // Arrivals at t0 + 5 ms k (t0, the client's random phase, in (0, 5 ms]; no network latency),
  // the worker busy from t0 on: completions at t0 + 10 ms m. At a window end t, with x = t - t0
  // = 10 ms q + r (r in [0, 10 ms)), floor(x / 5 ms) + 1 have arrived and q completed, one is
  // in service: queued = q + (r >= 5 ms). For t = 1 s, x is in [995, 1000) ms: q = 99 and
  // r >= 5 ms, so 100 wait; at 2 s and 3 s, 200 and 300. Whatever the seed.
  for (const std::uint64_t seed : {1, 2, 3}) {
    const scenario::RunResult r = run(overloaded("1s"), seed);
    INFO("seed " << seed);
    CHECK(series(r, "api", "queued") == std::vector<double>{100, 200, 300});
    CHECK(series(r, "api", "busy") == std::vector<double>{1, 1, 1});
  }
  // At 250 ms windows, every quarter second adds 25: queued = 25 k at the k-th window's end.
  const scenario::RunResult quarter = run(overloaded("250ms"), 1);
  std::vector<double> expected;
  for (int k = 1; k <= 12; ++k) expected.push_back(25.0 * k);
  CHECK(series(quarter, "api", "queued") == expected);
}

TEST_CASE("stepping the run window by window changes no event", "[series]") {
  // The same run with 1 s windows (3 steps) and 7 ms windows (429 steps): same events, same
  // order (the fingerprint folds in every event's time and sequence), same figures.
  const scenario::RunResult coarse = run(overloaded("1s"), 7);
  const scenario::RunResult fine = run(overloaded("7ms"), 7);
  CHECK(coarse.events == fine.events);
  CHECK(coarse.fingerprint == fine.fingerprint);
  CHECK(series(fine, "api", "queued").size() == 429);  // ceil(3 s / 7 ms), the last one short
  CHECK(series(fine, "api", "queued").back() == 300);  // the last window ends at 3 s too
  REQUIRE(coarse.components.size() == fine.components.size());
  for (std::size_t c = 0; c < coarse.components.size(); ++c)
    for (std::size_t f = 0; f < coarse.components[c].figures.size(); ++f)
      CHECK(coarse.components[c].figures[f].value == fine.components[c].figures[f].value);
}

TEST_CASE("the report has one series value per window, the same bytes on a second run",
          "[series]") {
  const std::string text = overloaded("500ms");
  const Json report = report_of(text);
  const Json& run = report.at("variants")[0].at("runs")[0];
  const Json& windows = run.at("windows");
  const Json& s = run.at("series");
  REQUIRE(s.size() == 2);  // the server's two; the client declares none
  CHECK(s.items().begin().key() == "api.queued");
  CHECK(s.at("api.queued").size() == windows.size());
  CHECK(s.at("api.busy").size() == windows.size());
  CHECK(s.at("api.queued")[0] == 50);
  CHECK(s.at("api.queued")[5] == 300);
  CHECK(report.dump() == report_of(text).dump());
}
