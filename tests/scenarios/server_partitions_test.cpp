// A server's partitions and poison through the loader: a scenario with both loads and runs (the
// partition figures, the poison crashes in the figures and the fault log, a stall variant), and
// every mistake in their configuration is a scenario error (exit status 2) naming its JSON path.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "scenario/scenario_error.hpp"
#include "tests/run_figures.hpp"
#include "tests/scenarios/dsim_process.hpp"

namespace {

// Three replicas of 4 workers: 1 for "noisy", 3 for everyone else; 1 % of noisy's requests are
// poison and crash the replica that serves them, which restarts 300ms later.
const std::string kScenario = R"({
  "name": "partitions", "description": "bulkheads and poison", "duration": "4s",
  "warmup": "500ms", "seeds": 1,
  "components": {
    "api": {"model": "server", "count": 3, "workers": 4, "queue_limit": 20,
            "service_time": {"dist": "exponential", "mean": "2ms"},
            "partitions": [{"groups": ["noisy"], "workers": 1, "queue_limit": 5},
                           {"workers": 3}],
            "poison": {"effect": "crash", "restart_after": "300ms"}},
    "quiet": {"model": "open_loop_client", "rate": "300/s", "target": "api", "timeout": "50ms"},
    "noisy": {"model": "open_loop_client", "rate": "300/s", "target": "api", "timeout": "50ms",
              "poison_fraction": 0.01, "retry": {"max_attempts": 2}}
  },
  "variants": {
    "crash": {},
    "stall": {"components": {"api": {"poison": {"effect": "stall", "stall_for": "200ms"}}}}
  }
})";

scenario::RunResult run_variant(const std::string& text, const std::string& variant) {
  const auto file = scenario::load_scenario_text(text, "partitions.json");
  const auto v =
      std::find_if(file.variants.begin(), file.variants.end(),
                   [&](const scenario::ScenarioSpec& s) { return s.variant == variant; });
  REQUIRE(v != file.variants.end());
  return scenario::run_scenario(*v, v->seeds.at(0));
}

// The problems a text is refused with ("path: message" each); none if it loads.
std::vector<std::string> problems_of(const std::string& text) {
  try {
    scenario::load_scenario_text(text, "bad.json");
  } catch (const scenario::ScenarioError& e) {
    std::vector<std::string> out;
    for (const auto& p : e.problems()) out.push_back(p.path + ": " + p.message);
    return out;
  }
  return {};
}

std::string with_api(const std::string& api_fields) {
  return R"({"name": "bad", "duration": "1s", "components": {
    "api": {"model": "server", "workers": 4, )" +
         api_fields + R"(},
    "client": {"model": "open_loop_client", "rate": "100/s", "target": "api", "group": "a"}}})";
}

}  // namespace

TEST_CASE("a scenario with partitions and poison crashes loads and runs") {
  const scenario::RunResult run = run_variant(kScenario, "crash");
  const double crashes = dsimtest::figure(run, "api", "poison_crashes");
  CHECK(crashes >= 3);  // about 1 % of 300/s over 3.5 s, retries included
  CHECK(dsimtest::figure(run, "api", "partition_arrivals[0]") > 500);
  CHECK(dsimtest::figure(run, "api", "partition_arrivals[1]") > 500);
  CHECK(dsimtest::figure(run, "api", "poison_stalls") == 0);
  CHECK(dsimtest::figure(run, "api", "unpartitioned") == 0);
  // Each poison crash is in the fault log (up to 10 per replica), with its restart.
  std::size_t logged = 0;
  for (const auto& f : run.faults)
    if (f.kind == "crash" && f.detail == "poison request") ++logged;
  CHECK(logged + run.faults_unlisted >= static_cast<std::size_t>(crashes));
  CHECK(run.cluster.restarts >= 1);
  // Both groups are reported; the quiet one loses only what the crashes took.
  std::vector<std::string> names;
  for (const auto& g : run.requests.groups()) names.push_back(g.name);
  CHECK(names == std::vector<std::string>{"noisy", "quiet"});
}

TEST_CASE("a scenario with poison stalls runs, and stalls crash nothing") {
  const scenario::RunResult run = run_variant(kScenario, "stall");
  CHECK(dsimtest::figure(run, "api", "poison_stalls") >= 3);
  CHECK(dsimtest::figure(run, "api", "poison_crashes") == 0);
  CHECK(run.cluster.crashes == 0);
}

TEST_CASE("partition and poison mistakes are scenario errors naming the path") {
  using Catch::Matchers::Contains;
  const auto only = [](const std::string& text) {
    const auto problems = problems_of(text);
    REQUIRE(problems.size() == 1);
    return problems[0];
  };
  CHECK(problems_of(with_api(R"("partitions": [{"groups": ["a"], "workers": 1}, {"workers": 3}])"))
            .empty());
  CHECK_THAT(only(with_api(R"("partitions": [{"groups": ["a"], "workers": 1}, {"workers": 2}])")),
             Contains("/components/api/partitions: the partitions' workers add up to 3, expected "
                      "the server's `workers` (4)"));
  CHECK_THAT(only(with_api(R"("partitions": [{"workers": 2}, {"workers": 2}])")),
             Contains("/components/api/partitions/1/groups: expected group names: partition 0 "
                      "is already the catch-all"));
  CHECK_THAT(
      only(with_api(
          R"("partitions": [{"groups": ["a"], "workers": 2}, {"groups": ["b", "a"], "workers": 2}])")),
      Contains("/components/api/partitions/1/groups: group \"a\" is already served by "
               "partition 0"));
  CHECK_THAT(only(with_api(R"("partitions": [{"groups": ["a", "a"], "workers": 4}])")),
             Contains("/components/api/partitions/0/groups: group \"a\" is already served by "
                      "partition 0"));
  CHECK_THAT(only(with_api(R"("partitions": [{"groups": "a", "workers": 4}])")),
             Contains("/components/api/partitions/0/groups: expected a list of names, got"));
  CHECK_THAT(only(with_api(R"("partitions": [{"groups": ["a", ""], "workers": 4}])")),
             Contains("/components/api/partitions/0/groups: item 1: expected a non-empty name"));
  CHECK_THAT(only(with_api(R"("partitions": [{"groups": ["a"], "workers": 0}, {"workers": 4}])")),
             Contains("/components/api/partitions/0/workers"));
  CHECK_THAT(only(with_api(R"("partitions": [{"workers": 4, "queue_limit": -3}])")),
             Contains("/components/api/partitions/0/queue_limit"));
  CHECK_THAT(only(with_api(R"("partitions": [{"workers": 4, "group": ["a"]}])")),
             Contains("/components/api/partitions/0/group: unknown key \"group\" (did you mean "
                      "\"groups\"?)"));
  CHECK_THAT(only(with_api(R"("poison": {"effect": "explode"})")),
             Contains("/components/api/poison/effect: expected one of none, crash, stall"));
  CHECK_THAT(only(with_api(R"("poison": {"effect": "crash", "restart_after": "0s"})")),
             Contains("/components/api/poison/restart_after"));
  CHECK_THAT(only(with_api(R"("poison": {"effect": "stall", "stall_for": "-1s"})")),
             Contains("/components/api/poison/stall_for"));
}

TEST_CASE("a partition mistake exits 2 from dsim run, naming file and path") {
  const test::TempDir dir;
  dir.write("bad.json",
            with_api(R"("partitions": [{"groups": ["a"], "workers": 2}, {"workers": 1}])"));
  const test::Process p = test::run_dsim("run bad.json --out out", dir.path());
  CHECK(p.status == 2);
  CHECK_THAT(p.err, Catch::Matchers::StartsWith("bad.json: /components/api/partitions: the "
                                                "partitions' workers add up to 3"));
}
