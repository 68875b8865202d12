// A violated invariant fails the run loudly: `dsim run` exits 3, stderr names the invariant, the
// component, the time and what happened, and the report (complete, written as usual) lists it
// under runs[].invariants and counts it in the variant's invariant_violations. The violation
// is a real one: Raft members that forget their vote in a crash (durable_state false) elect two
// leaders in one term.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "scenario/report.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "tests/scenarios/dsim_process.hpp"

namespace {

// raft[2] is down until 1 s and can never reach raft[0]; raft[1] comes up 50 ms late, so
// raft[0] times out first and wins term 1 with raft[1]'s vote. raft[1] crashes for 10 ms at
// 500 ms; without durable state it comes back with no vote, learns term 1 from raft[0]'s next
// heartbeat, and grants raft[2] (which never hears raft[0]) a second vote in term 1 at about
// 1.15 s: two leaders of term 1. With durable state (the variant "durable") it refuses.
const std::string kForgetful = R"({
  "name": "forgetful-votes",
  "description": "raft[1] forgets its vote in a crash and raft[2] wins the term raft[0] leads",
  "duration": "2s",
  "network": {"latency": "1ms"},
  "components": {
    "raft": {"model": "raft_node", "count": 3, "election_timeout_min": "150ms",
             "election_timeout_max": "160ms", "durable_state": false}
  },
  "faults": [
    {"action": "partition", "groups": [["raft[0]"], ["raft[2]"]], "at": "0s"},
    {"action": "crash", "target": "raft[1]", "at": "0s", "for": "50ms"},
    {"action": "crash", "target": "raft[2]", "at": "0s", "for": "1s"},
    {"action": "crash", "target": "raft[1]", "at": "500ms", "for": "10ms"}
  ],
  "report": {"columns": ["raft.leader_changes"]},
  "variants": {"durable": {"components": {"raft": {"durable_state": true}}}}
})";

}  // namespace

TEST_CASE("a violated invariant is in the run's result") {
  const auto file = scenario::load_scenario_text(kForgetful, "forgetful.json");
  const scenario::RunResult forgetful = scenario::run_scenario(file.variants[0], 1);
  REQUIRE(forgetful.invariant_violations == 1);
  REQUIRE(forgetful.violations.size() == 1);
  CHECK(forgetful.violations[0].invariant == "one leader per term");
  CHECK(forgetful.violations[0].component == "raft");
  CHECK(forgetful.violations[0].detail == "term 1: raft[0] and raft[2] both won it");
  const scenario::RunResult durable = scenario::run_scenario(file.variants[1], 1);
  CHECK(durable.invariant_violations == 0);
  CHECK(durable.violations.empty());
}

TEST_CASE("dsim run exits 3 on a violated invariant, names it on stderr, and keeps the report") {
  const test::TempDir dir;
  dir.write("forgetful.json", kForgetful);
  const test::Process p = test::run_dsim("run forgetful.json --out out --quiet", dir.path());
  CHECK(p.status == 3);
  CHECK_THAT(p.err, Catch::Contains("dsim: variant base, seed 1: 1 invariant violation(s)"));
  CHECK_THAT(p.err, Catch::Contains("one leader per term (raft, at 1.15"));
  CHECK_THAT(p.err, Catch::Contains("term 1: raft[0] and raft[2] both won it"));
  CHECK_THAT(p.err, !Catch::Contains("variant durable"));  // that one is fine
  const auto report = scenario::Json::parse(test::slurp(dir.path() / "out/forgetful.report.json"));
  const auto& base = report.at("variants").at(0);
  CHECK(base.at("invariant_violations") == 1);
  const auto& first = base.at("runs").at(0).at("invariants").at("first").at(0);
  CHECK(first.at("invariant") == "one leader per term");
  CHECK(first.at("detail") == "term 1: raft[0] and raft[2] both won it");
  CHECK(report.at("variants").at(1).at("invariant_violations") == 0);

  // Without the faulty variant, the same file runs clean: exit 0.
  const test::Process ok =
      test::run_dsim("run forgetful.json --variant durable --out clean --quiet", dir.path());
  CHECK(ok.status == 0);
  CHECK(ok.err.empty());
}
