// Lease owner mechanics through the scenario loader, over a zero-latency network: one owner at a
// time, takeover after a crash, a belief measured from the send on the owner's clock, a lost
// lease, the wall clock's steps, the watchdog, and the ownership timeline.
#include <catch2/catch.hpp>

#include <string>

#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "tests/run_figures.hpp"

namespace {

/// Three owners (ttl 5 s, keep-alive every 1 s, retry every 500 ms, writes every 100 ms) of a
/// lock service, for 30 s, no warm-up; `owners` and `lock` add keys, `faults` is the schedule.
scenario::RunResult run(const std::string& owners, const std::string& faults = "[]",
                        const std::string& lock = "") {
  const std::string text =
      R"({"name": "lo", "duration": "30s", "warmup": "0s",
    "components": {
      "lock": {"model": "lock_service")" +
      lock + R"(},
      "store": {"model": "fenced_store", "check_fencing": false},
      "owners": {"model": "lease_owner", "count": 3, "service": "lock", "store": "store")" +
      (owners.find("stagger") == std::string::npos ? R"(, "stagger": "10ms")" : "") + owners + R"(}
    },
    "faults": )" +
      faults + "}";
  const auto file = scenario::load_scenario_text(text, "lo.json");
  return scenario::run_scenario(file.variants.front(), 3);
}

double owners(const scenario::RunResult& r, const std::string& figure) {
  return dsimtest::figure(r, "owners", figure);
}

/// The true times at which `node` became owner and stopped being one.
std::vector<std::pair<double, double>> ownership(const scenario::RunResult& r,
                                                 const std::string& node) {
  std::vector<std::pair<double, double>> out;
  for (const auto& s : r.states) {
    if (s.node != node) continue;
    for (std::size_t i = 0; i < s.changes.size(); ++i)
      if (std::string(s.changes[i].state) == "owner")
        out.emplace_back(s.changes[i].at.seconds(), i + 1 < s.changes.size()
                                                        ? s.changes[i + 1].at.seconds()
                                                        : r.simulated.seconds());
  }
  return out;
}

}  // namespace

TEST_CASE("lease owner: the first to ask owns, renews, and writes, nobody else owns") {
  const auto r = run("");
  CHECK(owners(r, "acquisitions") == 1);
  CHECK(owners(r, "overlap_s") == 0);
  CHECK(owners(r, "unowned_s") < 0.001);                     // granted at once
  CHECK(owners(r, "writes_sent") == Approx(300).margin(2));  // every 100 ms for 30 s
  CHECK(dsimtest::figure(r, "lock", "renewals") == Approx(29).margin(1));
  CHECK(dsimtest::figure(r, "store", "stale_accepted") == 0);
  const auto held = ownership(r, "owners[0]");
  REQUIRE(held.size() == 1);
  CHECK(held[0].first == Approx(0).margin(1e-3));  // the lock's 100 us per request
  CHECK(held[0].second == Approx(30));
}

TEST_CASE("lease owner: after the owner crashes another takes over once the lease expires") {
  // owners[0] crashes at 10 s (its last keep-alive at 10 s at the latest, 9 s at the earliest):
  // the lease expires 5 s after it, and the next retry (every 500-550 ms) wins.
  const auto r = run("", R"([{"action": "crash", "target": "owners[0]", "at": "10s"}])");
  CHECK(owners(r, "acquisitions") == 2);
  CHECK(owners(r, "overlap_s") == 0);
  CHECK(owners(r, "unowned_s") >= 4.0);
  CHECK(owners(r, "unowned_s") <= 5.6);
  CHECK(dsimtest::figure(r, "lock", "expirations") == 1);
}

TEST_CASE("lease owner: the belief is ttl - margin from the send, on the owner's own clock") {
  // owners[0] is cut off from the lock at 10.5 s: its last renewal was sent at 10 s, so on an
  // exact clock it believes until 15 s - margin. On a clock 10 % fast, 5 s of its clock are
  // 4.545 s of true time (a fast clock gives up early: safe).
  const std::string cut =
      R"({"action": "partition", "groups": [["owners[0]"], ["lock"]], "at": "10.5s"})";
  const auto exact = run(R"(, "safety_margin": "200ms")", "[" + cut + "]");
  auto held = ownership(exact, "owners[0]");
  REQUIRE(!held.empty());
  CHECK(held[0].second == Approx(14.8).margin(1e-6));
  CHECK(owners(exact, "expired_beliefs") == 1);
  const auto fast = run("", R"([{"action": "clock_drift", "target": "owners[0]", "ppm": 100000,
                                 "at": "0s"}, )" +
                                cut + "]");
  held = ownership(fast, "owners[0]");
  REQUIRE(!held.empty());
  // Renewals are sent every 1 s of its clock: the one at 10 s of true time is the one sent at
  // 11 s of its clock (11 / 1.1), and its belief ends 5 s of its clock later: at 16 / 1.1.
  CHECK(held[0].second == Approx(16.0 / 1.1).margin(1e-6));
}

TEST_CASE("lease owner: a keep-alive refused by the service ends the ownership at once") {
  // The lock's clock runs 25 % fast: the lease renewed at 10 s lasts 6 s / 1.25 = 4.8 s of true
  // time there, to 14.8 s, while owners[0] (exact clock) believes until 16 s. Cut off from 10.5
  // s to 14.9 s, its keep-alives at 11-14 s are lost and the one at 15 s is refused: it steps
  // down then, a second before its belief would have run out.
  const auto r = run(R"(, "ttl": "6s", "retry_interval": "5s")",
                     R"([{"action": "clock_drift", "target": "lock", "ppm": 250000, "at": "0s"},
                         {"action": "partition", "groups": [["owners[0]"], ["lock"]],
                          "at": "10.5s", "for": "4.4s"}])");
  CHECK(owners(r, "lost_leases") == 1);
  CHECK(dsimtest::figure(r, "lock", "lost_leases") == 1);
  const auto held = ownership(r, "owners[0]");
  REQUIRE(!held.empty());
  CHECK(held[0].second == Approx(15).margin(1e-3));
}

TEST_CASE(
    "lease owner: on the wall clock a step back extends the belief, a step forward ends "
    "it at the next check") {
  const std::string cut =
      R"({"action": "partition", "groups": [["owners[0]"], ["lock"]], "at": "10.5s", "for": "20s"})";
  const auto back = run(R"(, "lease_clock": "wall")",
                        "[" + cut + R"(, {"action": "clock_step", "target": "owners[0]",
                                         "by": "-3s", "at": "12s"}])");
  auto held = ownership(back, "owners[0]");
  REQUIRE(!held.empty());
  CHECK(held[0].second == Approx(18).margin(1e-6));  // 15 s + 3 s
  CHECK(owners(back, "overlap_s") > 2);              // another owns from ~15.5 s
  const auto monotonic = run("", "[" + cut + R"(, {"action": "clock_step", "target": "owners[0]",
                                                  "by": "-3s", "at": "12s"}])");
  held = ownership(monotonic, "owners[0]");
  CHECK(held[0].second == Approx(15).margin(1e-6));  // the monotonic clock does not step
  CHECK(owners(monotonic, "overlap_s") == 0);
  const auto forward = run(R"(, "lease_clock": "wall")",
                           R"([{"action": "clock_step", "target": "owners[0]", "by": "10s",
                                "at": "12.05s"}])");
  held = ownership(forward, "owners[0]");
  CHECK(held[0].second == Approx(12.1).margin(1e-6));  // the next write's check
}

TEST_CASE("lease owner: the watchdog kills a process whose belief ran out") {
  const auto r = run(R"(, "watchdog": true, "watchdog_restart": "2s")",
                     R"([{"action": "partition", "groups": [["owners[0]"], ["lock"]],
                          "at": "10.5s"}])");
  CHECK(owners(r, "watchdog_crashes") == 1);
  bool crashed = false;
  for (const auto& f : r.faults)
    if (f.kind == "crash" && f.target == "owners[0]") crashed = f.start.seconds() == Approx(15);
  CHECK(crashed);
}

TEST_CASE("lease owner configuration errors are scenario errors") {
  CHECK_THROWS_WITH(run(R"(, "renew_interval": "5s")"), Catch::Contains("renew_interval"));
  CHECK_THROWS_WITH(run(R"(, "safety_margin": "6s")"), Catch::Contains("safety_margin"));
  CHECK_THROWS_WITH(run(R"(, "service": "store")"), Catch::Contains("lease"));
}

TEST_CASE("a replicated lock service: ownership survives its leaders' crashes") {
  // Three lock nodes crash one after another for 5 s each: whichever led, a new leader is
  // elected, the owner's keep-alive reaches it (after a timeout, or through a not_leader
  // answer naming it) and the new leader takes the lease over: one owner throughout.
  const auto r = run("", R"([{"action": "crash", "target": "lock[0]", "at": "5s", "for": "5s"},
                            {"action": "crash", "target": "lock[1]", "at": "12s", "for": "5s"},
                            {"action": "crash", "target": "lock[2]", "at": "19s", "for": "5s"}])",
                     R"(, "count": 3, "failover_grace": "6s")");
  CHECK(owners(r, "acquisitions") == 1);
  CHECK(owners(r, "overlap_s") == 0);
  CHECK(owners(r, "unowned_s") < 1.0);  // the first election only (a few timeouts at most)
  CHECK(dsimtest::figure(r, "lock", "taken_over") >= 1);
  CHECK(dsimtest::figure(r, "lock", "leader_changes") >= 2);
  CHECK(dsimtest::figure(r, "store", "stale_accepted") == 0);
  CHECK(r.invariant_violations == 0);
}

TEST_CASE("a replicated lock service: a new leader grants nothing during its grace") {
  // At 10 s the whole lock service restarts (its leases were the old leader's memory) and
  // owners[0], which owns (the others first ask after 2 and 4 s), is cut off from it: it
  // still believes until 15 s at the latest. A new leader that
  // waits out failover_grace (6 s > ttl) grants the key to another only after that; one with
  // no grace grants it at once, and two nodes own at the same time.
  const std::string faults = R"([{"action": "crash", "target": "lock", "at": "10s", "for": "1s"},
                                 {"action": "partition", "groups": [["owners[0]"], ["lock"]],
                                  "at": "10s", "for": "30s"}])";
  const std::string staggered = R"(, "stagger": "2s")";
  const auto safe = run(staggered, faults, R"(, "count": 3, "failover_grace": "6s")");
  CHECK(owners(safe, "acquisitions") == 2);
  CHECK(owners(safe, "overlap_s") == 0);
  const auto unsafe = run(staggered, faults, R"(, "count": 3, "failover_grace": "0s")");
  CHECK(owners(unsafe, "acquisitions") == 2);
  CHECK(owners(unsafe, "overlap_s") > 2.5);  // from the new leader's election to ~14.x s
}
