// Results per group: two client populations (two cells, one slowed 10x) are two rows, not one
// pooled row; a label pools or names groups on purpose; the CSV carries the same rows and every
// component figure; report.columns puts figures in the table (and alone, without requests).
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "scenario/report.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "tests/scenario_report.hpp"

namespace {

using scenario::Json;

// Cell a and cell b: each a client and a server; cell b's server is 10x slower throughout.
std::string two_cells(const std::string& group_a, const std::string& group_b) {
  auto label = [](const std::string& g) {
    return g.empty() ? std::string() : R"(, "group": ")" + g + "\"";
  };
  return R"({
    "name": "cells", "duration": "5s", "warmup": "500ms", "seeds": 2,
    "components": {
      "api-a": {"model": "server", "workers": 4, "service_time": {"dist": "exponential", "mean": "1ms"}},
      "api-b": {"model": "server", "workers": 4, "service_time": {"dist": "exponential", "mean": "1ms"}},
      "tenant-a": {"model": "open_loop_client", "rate": "500/s", "target": "api-a", "timeout": "50ms")" +
         label(group_a) + R"(},
      "tenant-b": {"model": "open_loop_client", "rate": "200/s", "target": "api-b", "timeout": "50ms")" +
         label(group_b) + R"(}
    },
    "faults": [{"action": "slow", "target": "api-b", "at": "0s", "factor": 10}],
    "report": {"columns": ["api-b.utilization"]}
  })";
}

Json report_of(const std::string& text) {
  return dsimtest::report_of(text, "cells.json");
}

using dsimtest::lines;

}  // namespace

TEST_CASE("two client components are two groups, each with its own figures") {
  const Json report = report_of(two_cells("", ""));
  const Json& v = report.at("variants")[0];
  const Json& groups = v.at("groups");
  REQUIRE(groups.size() == 2);
  CHECK(groups[0].at("name") == "tenant-a");
  CHECK(groups[1].at("name") == "tenant-b");
  const Json& a = groups[0].at("summary");
  const Json& b = groups[1].at("summary");
  // Cell a: 4 workers at 12.5 % load answer nearly everything within a few ms. Cell b: service
  // 10 ms at 200/s on 4 workers is 50 % load, so its p99 is tens of ms and some requests time
  // out at 50 ms. Pooled, cell b's trouble would be diluted 5:2 by cell a.
  CHECK(a.at("availability").get<double>() > 0.999);
  CHECK(b.at("latency_ms").at("p50").get<double>() >
        5 * a.at("latency_ms").at("p50").get<double>());
  CHECK(a.at("requests").get<double>() + b.at("requests").get<double>() ==
        Approx(v.at("summary").at("requests").get<double>()));
  CHECK(groups[1].at("ci95").at("availability").is_array());

  const auto table = lines(scenario::format_table(report));
  REQUIRE(table.size() == 4);  // header, the variant, its two groups
  CHECK(table[2].rfind("  tenant-a", 0) == 0);
  CHECK(table[3].rfind("  tenant-b", 0) == 0);
  CHECK(table[0].find("api-b.utilization") != std::string::npos);

  const auto csv = lines(scenario::format_csv(report));
  REQUIRE(csv.size() == 4);
  CHECK(csv[0].rfind("variant,group,", 0) == 0);
  CHECK(csv[0].find(",api-a.wasted_fraction,") != std::string::npos);  // every figure
  CHECK(csv[0].find(",tenant-b.late_responses") != std::string::npos);
  CHECK(csv[1].rfind("base,,", 0) == 0);
  CHECK(csv[2].rfind("base,tenant-a,", 0) == 0);
  CHECK(csv[3].rfind("base,tenant-b,", 0) == 0);
}

TEST_CASE("a group label pools client components, and a single labelled group is shown") {
  const Json report = report_of(two_cells("everyone", "everyone"));
  const Json& groups = report.at("variants")[0].at("groups");
  REQUIRE(groups.size() == 1);
  CHECK(groups[0].at("name") == "everyone");
  const auto table = lines(scenario::format_table(report));
  REQUIRE(table.size() == 3);
  CHECK(table[2].rfind("  everyone", 0) == 0);
}

TEST_CASE("one unlabelled client component adds no group rows") {
  const Json report = report_of(R"({
    "name": "one", "duration": "2s", "warmup": "100ms",
    "components": {"api": {"model": "server"},
                   "client": {"model": "open_loop_client", "rate": "100/s", "target": "api"}}
  })");
  CHECK(report.at("variants")[0].at("groups").size() == 1);
  CHECK(lines(scenario::format_table(report)).size() == 2);
  CHECK(lines(scenario::format_csv(report)).size() == 2);
}

TEST_CASE("per_replica keeps each replica's figures beside the combined ones") {
  const Json report = report_of(R"({
    "name": "replicas", "duration": "2s", "warmup": "100ms",
    "components": {"api": {"model": "server", "count": 2},
                   "client": {"model": "open_loop_client", "rate": "400/s", "target": "api"}},
    "report": {"per_replica": true}
  })");
  const Json& api = report.at("variants")[0].at("runs")[0].at("models").at("api");
  REQUIRE(api.at("per_replica").size() == 2);
  const double a0 = api.at("per_replica").at("api[0]").at("arrivals").get<double>();
  const double a1 = api.at("per_replica").at("api[1]").at("arrivals").get<double>();
  CHECK(a0 > 0);
  CHECK(a1 > 0);
  CHECK(a0 + a1 == api.at("figures").at("arrivals").get<double>());
}

TEST_CASE("a scenario without requests shows only its figure columns") {
  // An election has no client: the request columns would all be empty.
  const Json report = report_of(R"({
    "name": "election", "duration": "2s",
    "components": {"raft": {"model": "raft_node", "count": 3}},
    "report": {"columns": ["raft.leader_changes", "raft.terms_reached"]}
  })");
  const auto table = lines(scenario::format_table(report));
  REQUIRE(table.size() == 2);
  CHECK(table[0] == "variant  raft.leader_changes  raft.terms_reached");
  CHECK(table[1] == "base                       1                   1");
}
