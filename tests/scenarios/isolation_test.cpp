// Scenarios with fault isolation, loaded from JSON and run as `dsim run` would: a cell router
// and shuffle-sharded load balancers, the report's tenant summary (per run, per variant, the
// table's one line for many tenants, every group kept in the JSON and the CSV), and the
// loader's refusal of cells or shards that do not fit their target (exit status 2 with the
// JSON path, before anything runs).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "scenario/report.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "scenario/scenario_error.hpp"
#include "tests/scenario_report.hpp"

namespace {

using scenario::Json;

// 12 tenants behind a router of 3 cells of 2 servers; cell 2 (api[4], api[5]) crashes at 1 s
// for good in the base variant. A second variant shuffle-shards a load balancer in front of the
// same servers instead, shards of 2, with api[4] and api[5] crashed the same way.
const std::string kIsolation = R"({
  "name": "isolation", "duration": "3s", "warmup": "500ms", "seeds": 2,
  "components": {
    "api": {"model": "server", "count": 6, "workers": 4,
            "service_time": {"dist": "exponential", "mean": "1ms"}},
    "router": {"model": "cell_router", "target": "api", "cells": 3, "timeout": "50ms",
               "retry": {"max_attempts": 2}},
    "lb": {"model": "load_balancer", "backends": "api", "timeout": "50ms",
           "shuffle_shard_size": 2, "shuffle_seed": 3},
    "clients": {"model": "open_loop_client", "count": 12, "rate": "50/s", "target": "router",
                "timeout": "200ms", "tenant_per_node": true}
  },
  "faults": [{"action": "crash", "target": ["api[4]", "api[5]"], "at": "1s"}],
  "report": {"columns": ["router.cell_requests[2]", "router.cell_failed[2]"]},
  "variants": {
    "no-fault": {"faults": []},
    "shuffle": {"components": {"clients": {"target": "lb"}}}
  }
})";

Json report_of(const std::string& text) {
  return dsimtest::report_of(text, "isolation.json");
}

using dsimtest::lines;

const Json& variant(const Json& report, const std::string& name) {
  for (const Json& v : report.at("variants"))
    if (v.at("name") == name) return v;
  FAIL("no variant " << name);
  return report;
}

std::string load_error(const std::string& text) {
  try {
    scenario::load_scenario_text(text, "isolation.json");
  } catch (const scenario::ScenarioError& e) {
    return e.what();
  }
  return "";
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

}  // namespace

TEST_CASE("a cell outage and shuffle shards: the tenant summary of the report") {
  const Json report = report_of(kIsolation);
  const Json& cells = variant(report, "base");
  const Json& calm = variant(report, "no-fault");
  const Json& shuffle = variant(report, "shuffle");

  // Every run says how many of its 12 tenants were affected; each seed alike (the pinning does
  // not depend on the seed).
  const double dead_cell = cells.at("figures").at("router.cell_tenants[2]").get<double>();
  CHECK(dead_cell > 0);
  for (const Json& run : cells.at("runs")) {
    const Json& t = run.at("tenants");
    CHECK(t.at("tenants") == 12);
    CHECK(t.at("tenants_affected").get<double>() == dead_cell);
    CHECK(t.at("tenants_untouched").get<double>() == 12 - dead_cell);
    CHECK(t.at("worst_availability").get<double>() < 0.7);
    CHECK(t.at("worst_group").get<std::string>().rfind("clients/", 0) == 0);
  }
  const Json& summary = cells.at("tenants").at("summary");
  CHECK(summary.at("tenants") == 12.0);
  CHECK(summary.at("tenants_affected").get<double>() == dead_cell);
  CHECK(cells.at("tenants").at("ci95").at("tenants_affected") ==
        Json::array({dead_cell, dead_cell}));
  CHECK(cells.at("figures").at("router.cell_failed[2]").get<double>() > 0);
  CHECK(cells.at("figures").at("router.cell_failed[0]").get<double>() == 0);

  CHECK(calm.at("tenants").at("summary").at("tenants_affected") == 0.0);
  CHECK(calm.at("tenants").at("summary").at("worst_availability") == 1.0);

  // Shards of 2 of 6 (15 combinations): the tenants whose shard holds api[4] or api[5] see
  // failures (no health checks: the balancer keeps sending half of their requests there), the
  // others none; with these names and seed, some of each.
  const double hurt = shuffle.at("tenants").at("summary").at("tenants_affected").get<double>();
  CHECK(hurt > 0);
  CHECK(hurt < 12);

  // The table: more than 8 groups, so one line of tenants per variant instead of 12 rows.
  const auto table = lines(scenario::format_table(report));
  REQUIRE(table.size() == 7);  // the header, and per variant its row and its tenants line
  CHECK(table[1].rfind("base ", 0) == 0);
  CHECK_THAT(table[2], Catch::StartsWith("  12 tenants: ") && Catch::Contains(" affected, ") &&
                           Catch::Contains("; worst availability "));
  CHECK(table[3].rfind("no-fault ", 0) == 0);
  CHECK(table[4] ==
        "  12 tenants: 0 affected, 12 untouched; worst availability 100.000 % (clients/0)");
  CHECK(table[0].find("router.cell_failed[2]") != std::string::npos);
  // The CSV and the JSON keep every group.
  CHECK(lines(scenario::format_csv(report)).size() == 1 + 3 * 13);
  CHECK(cells.at("groups").size() == 12);
}

TEST_CASE("eight groups or fewer keep a row each in the table") {
  const Json report = report_of(replaced(kIsolation, R"("count": 12)", R"("count": 8)"));
  const auto table = lines(scenario::format_table(report));
  REQUIRE(table.size() == 1 + 3 * 9);
  CHECK(table[2].rfind("  clients/0", 0) == 0);
  CHECK(variant(report, "base").at("tenants").at("summary").at("tenants") == 8.0);
}

TEST_CASE("cells and shuffle shards that do not fit their target are refused before the run") {
  CHECK_THAT(load_error(replaced(kIsolation, R"("cells": 3)", R"("cells": 4)")),
             Catch::Contains("/components/router/cells: expected a divisor of the 6 nodes of "
                             "'api' (cells are equal), got 4"));
  CHECK_THAT(
      load_error(replaced(kIsolation, R"("shuffle_shard_size": 2)", R"("shuffle_shard_size": 7)")),
      Catch::Contains("/components/lb/shuffle_shard_size: expected at most the 6 nodes of "
                      "'api', got 7"));
  CHECK_THAT(load_error(replaced(kIsolation, R"("cells": 3)", R"("cells": 0)")),
             Catch::Contains("/components/router/cells"));
  CHECK_THAT(
      load_error(replaced(kIsolation, R"("shuffle_shard_size": 2)", R"("shuffle_shard_size": -1)")),
      Catch::Contains("/components/lb/shuffle_shard_size"));
  CHECK(load_error(kIsolation).empty());
}
