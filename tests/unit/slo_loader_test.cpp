// The "slos" section of a scenario (scenario/loader_slos.cpp): defaults (the Workbook's three
// rules scaled to the period, the evaluation interval), variants patching an SLO, bad input
// named by its JSON path, and a report without SLOs keeping its old shape.
#include <catch2/catch.hpp>

#include <string>

#include "scenario/report.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"

namespace {

std::string scenario_with(const std::string& slos, const std::string& variants = "{}") {
  return R"({"name": "slo", "duration": "30s", "warmup": "1s",
    "components": {
      "api": {"model": "server", "workers": 8, "service_time": "1ms", "error_rate": 0.01},
      "client": {"model": "open_loop_client", "rate": "200/s", "target": "api", "group": "users"},
      "other": {"model": "open_loop_client", "rate": "10/s", "target": "api"}},
    "faults": [{"action": "crash", "target": "api", "at": "10s", "for": "2s"}],
    "slos": )" +
         slos + R"(, "variants": )" + variants + "}";
}

std::string problems_of(const std::string& slos) {
  try {
    scenario::load_scenario_text(scenario_with(slos), "slo.json");
  } catch (const scenario::ScenarioError& e) {
    std::string all;
    for (const auto& p : e.problems()) all += p.path + ": " + p.message + "\n";
    return all;
  }
  return "no error";
}

sim::Duration ns(std::int64_t v) {
  return sim::Duration::nanoseconds(v);
}

}  // namespace

TEST_CASE("an SLO without rules gets the Workbook's three, scaled to its period") {
  const auto file = scenario::load_scenario_text(
      scenario_with(R"({"availability": {"objective": "99.9%", "period": "5m"}})"), "slo.json");
  const auto& slo = file.variants.front().slos.at(0);
  CHECK(slo.name == "availability");
  CHECK(slo.group.empty());
  CHECK(slo.objective == 0.999);  // "99.9%" reads as 0.999 exactly
  CHECK_FALSE(slo.latency.has_value());
  // 5 minutes = 300 s: 1 h of 30 days becomes 416.7 ms, 5 min 34.7 ms, 1 min 6.9 ms.
  REQUIRE(slo.alerts.size() == 3);
  CHECK(slo.alerts[0].name == "page-1h");
  CHECK(slo.alerts[0].burn_rate == 14.4);
  CHECK(slo.alerts[0].long_window == ns(416'666'667));
  CHECK(slo.alerts[0].short_window == ns(34'722'222));
  CHECK(slo.alerts[1].name == "page-6h");
  CHECK(slo.alerts[1].burn_rate == 6);
  CHECK(slo.alerts[1].long_window == ns(2'500'000'000));
  CHECK(slo.alerts[1].short_window == ns(208'333'333));
  CHECK(slo.alerts[2].name == "ticket-3d");
  CHECK(slo.alerts[2].severity == "ticket");
  CHECK(slo.alerts[2].burn_rate == 1);
  CHECK(slo.alerts[2].long_window == ns(30'000'000'000));  // all of the 30 s run
  CHECK(slo.alerts[2].short_window == ns(2'500'000'000));
  CHECK(slo.evaluation_interval == ns(6'944'444));  // period / 43200
  CHECK(slo.incident_grace == ns(416'666'667));     // period / 720
  CHECK(slo.min_incident_budget == 0);
}

TEST_CASE("rules as written, a latency SLO of one group, and variants that patch them") {
  const std::string slos = R"({"fast": {"objective": 0.99, "group": "users", "latency": "5ms",
      "period": "30s", "evaluation_interval": "10ms", "min_incident_budget": "2%",
      "alerts": {"page": {"burn_rate": 10, "long_window": "2s", "short_window": "200ms"},
                 "scaled": {"burn_rate": 1, "long_window": "720h", "scale_with_period": true,
                            "severity": "ticket"}}}})";
  const std::string variants = R"({"one-rule": {"slos": {"fast": {"alerts": {"scaled": null}}}},
      "no-slo": {"slos": {"fast": null}}})";
  const auto file = scenario::load_scenario_text(scenario_with(slos, variants), "slo.json");
  REQUIRE(file.variants.size() == 3);
  const auto& slo = file.variants[0].slos.at(0);
  CHECK(slo.group == "users");
  CHECK(slo.latency == ns(5'000'000));
  CHECK(slo.min_incident_budget == 0.02);
  CHECK(slo.evaluation_interval == ns(10'000'000));
  REQUIRE(slo.alerts.size() == 2);
  CHECK(slo.alerts[0].long_window == ns(2'000'000'000));
  CHECK(slo.alerts[1].long_window == ns(30'000'000'000));  // 720 h of a 30 s period: all of it
  CHECK_FALSE(slo.alerts[1].short_window.has_value());
  CHECK(file.variants[1].slos.at(0).alerts.size() == 1);
  CHECK(file.variants[2].slos.empty());
  // The effective scenario shows the rules after scaling.
  const auto& written = file.variants[0].effective.at("slos").at("fast").at("alerts");
  CHECK(written.at("scaled").at("long_window") == "30s");
}

TEST_CASE("bad SLOs are named by their JSON path") {
  CHECK(problems_of(R"({"a": {"objective": "99.9%", "period": "30s"}})") == "no error");
  CHECK(problems_of(R"({"a": {"objective": "100%"}})") ==
        "/slos/a/objective: expected an objective strictly between 0 and 100 %, like \"99.9%\" "
        "or 0.999, got \"100%\"\n");
  CHECK(problems_of(R"({"a": {"objective": 0}})").find("/slos/a/objective: expected") == 0);
  CHECK(problems_of(R"({"a": {"period": "30s"}})") ==
        "/slos/a/objective: missing (required): like \"99.9%\"\n");
  CHECK(problems_of(R"({"a": {"objective": "99%", "period": "30s", "group": "user"}})") ==
        "/slos/a/group: no client group \"user\" (did you mean \"users\"?); the groups: users, "
        "other\n");
  CHECK(problems_of(R"({"a": {"objective": "99%", "alerts": {"r": {"burn_rate": 2,
        "long_window": "1m"}}}})") ==
        "/slos/a/alerts/r/long_window: expected a window within the run (30s), got 1m\n");
  CHECK(problems_of(R"({"a": {"objective": "99%", "alerts": {"r": {"burn_rate": 2,
        "long_window": "1s", "short_window": "1s"}}}})") ==
        "/slos/a/alerts/r/short_window: expected a short window shorter than the long window "
        "(1s), got 1s\n");
  CHECK(problems_of(R"({"a": {"objective": "99%", "alerts": {"r": {"burn_rate": 2,
        "long_window": "0"}}}})")
            .find("/slos/a/alerts/r/long_window: expected a duration greater than zero") == 0);
  CHECK(problems_of(R"({"a": {"objective": "99%", "alerts": {"r": {"burn_rate": 100,
        "long_window": "1s"}}}})") ==
        "/slos/a/alerts/r/burn_rate: can never fire: the error fraction would have to exceed 1 "
        "(burn_rate x (1 - objective)); expected a burn rate below 100\n");
  CHECK(problems_of(R"({"a": {"objective": "99%", "evaluation_interval": "100ms",
        "alerts": {"r": {"burn_rate": 2, "long_window": "1s", "short_window": "50ms"}}}})") ==
        "/slos/a/alerts/r/short_window: expected a window of at least the evaluation interval "
        "(100ms), got 50ms: set a longer window or period, or a finer evaluation_interval\n");
  // The default rules of a 30-day period do not fit a 30 s run: the period is what to fix.
  CHECK(problems_of(R"({"a": {"objective": "99%"}})")
            .find("/slos/a/period: the default rule page-1h: expected a window within the run "
                  "(30s), got 1h (scaled to the period): set a shorter period, or alert rules "
                  "of your own\n") == 0);
  CHECK(problems_of(R"({"a": {"objective": "99%", "period": "30s", "alerts": {"r": {
        "long_window": "1s", "burn": 2}}}})")
            .find("/slos/a/alerts/r/burn") == 0);
  CHECK(problems_of(R"([1])").find("/slos: expected an object of named SLOs") == 0);
}

TEST_CASE("an SLO adds its part to the report and table, and changes nothing in the run") {
  const auto with = scenario::load_scenario_text(
      scenario_with(R"({"availability": {"objective": "99%", "period": "29s"}})"), "slo.json");
  std::string text = scenario_with("{}");
  const auto without = scenario::load_scenario_text(text, "slo.json");
  const scenario::RunResult a = scenario::run_scenario(with.variants.front(), 3);
  const scenario::RunResult b = scenario::run_scenario(without.variants.front(), 3);
  CHECK(a.fingerprint == b.fingerprint);
  CHECK(a.events == b.events);
  REQUIRE(a.slos.size() == 1);
  CHECK(b.slos.empty());
  // A 2 s crash of the only server: about 400 failed requests against a budget of 1 % of
  // about 5800, so the budget is overspent and the fast page catches the crash.
  CHECK(a.slos[0].budget_consumed > 5);
  CHECK(a.slos[0].missed_incidents == 0);
  CHECK(a.slos[0].significant_incidents == 1);

  std::vector<scenario::VariantResults> runs_with{{&with.variants.front(), {a}}};
  std::vector<scenario::VariantResults> runs_without{{&without.variants.front(), {b}}};
  const scenario::Json report_with = scenario::make_report(with, runs_with);
  const scenario::Json report_without = scenario::make_report(without, runs_without);
  CHECK(report_with.at("variants")[0].contains("slos"));
  CHECK(report_with.at("variants")[0].at("runs")[0].contains("slos"));
  CHECK_FALSE(report_without.at("variants")[0].contains("slos"));
  CHECK_FALSE(report_without.at("variants")[0].at("runs")[0].contains("slos"));
  CHECK(report_without.at("variants")[0].at("scenario").contains("slos"));  // "slos": {} given
  const std::string table = scenario::format_table(report_with);
  CHECK(table.find("SLO availability: 99 % good (all requests), period 29 s") != std::string::npos);
  CHECK(scenario::format_table(report_without).find("SLO") == std::string::npos);
}
