// The failure process (sim/failure_process.hpp): each node alternates up and down, restarts run
// on_start again, other crashes are respected (rules a and b), `stop` ends it, the log is
// capped, the figures are the node's ground truth, draws are per node and deterministic; and
// the loader refuses bad "failures" entries with the file, the JSON path and the expectation.
#include <catch2/catch.hpp>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "scenario/report.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "scenario/scenario_error.hpp"
#include "sim/cluster.hpp"
#include "sim/failure_process.hpp"
#include "sim/faults.hpp"
#include "tests/test_time.hpp"
#include "tests/unit/allocation_counter.hpp"

using namespace sim;

namespace {

// Counts starts and crashes; keeps their times unless told not to (allocation test).
class Recorder : public Process {
 public:
  explicit Recorder(bool keep_times = true) : keep_times_(keep_times) {}
  int starts = 0;
  int crashes = 0;
  std::vector<Time> started_at, crashed_at;
  void on_start(Node& n) override {
    ++starts;
    if (keep_times_) started_at.push_back(n.true_now());
  }
  void on_message(Node&, const Message&) override {}
  void on_crash(Node& n) override {
    ++crashes;
    if (keep_times_) crashed_at.push_back(n.true_now());
  }

 private:
  bool keep_times_;
};

Distribution constant(Duration d) {
  return Distribution::constant(static_cast<double>(d.ns()));
}

struct Rig {
  Simulator sim;
  Cluster cluster{sim};
  FaultInjector faults{cluster};
  std::vector<Recorder*> recorders;
  explicit Rig(int nodes, std::uint64_t seed = 1, bool keep_times = true) : sim(seed) {
    for (int i = 0; i < nodes; ++i) {
      const NodeId id = cluster.add_node("n" + std::to_string(i));
      auto p = std::make_unique<Recorder>(keep_times);
      recorders.push_back(p.get());
      cluster.attach(id, std::move(p));
    }
  }
};

FailureProcess::Options every(Duration up, Duration down) {
  return {.time_to_failure = constant(up), .time_to_repair = constant(down), .label = "fp"};
}

std::vector<Time> times_ms(std::initializer_list<std::int64_t> ms) {
  std::vector<Time> out;
  for (auto m : ms) out.push_back(at_ms(m));
  return out;
}

}  // namespace

TEST_CASE("failure process: a node alternates up and down, each restart runs on_start again") {
  Rig r(1);
  FailureProcess p(r.cluster, r.faults, {0}, every(10_s, 2_s));
  p.measure(Time::zero(), at_ms(48'000));
  r.cluster.start();
  r.sim.run_until(at_ms(48'000));
  CHECK(r.recorders[0]->crashed_at == times_ms({10'000, 22'000, 34'000, 46'000}));
  CHECK(r.recorders[0]->started_at == times_ms({0, 12'000, 24'000, 36'000, 48'000}));
  REQUIRE(r.faults.log().size() == 4);
  for (std::size_t i = 0; i < 4; ++i) {
    const FaultRecord& rec = r.faults.log()[i];
    CHECK(rec.kind == "crash");
    CHECK(rec.target == "n0");
    CHECK(rec.detail == "fp");
    CHECK(rec.start == at_ms(10'000 + 12'000 * static_cast<std::int64_t>(i)));
    CHECK(rec.end == rec.start + 2_s);
  }
  // Ground truth over [0, 48 s]: down 4 x 2 s.
  const auto figures = p.figures();
  REQUIRE(figures.size() == 1);
  CHECK(figures[0].up_fraction == Approx(40.0 / 48.0).epsilon(1e-12));
  CHECK(figures[0].failures == 4);
  CHECK(figures[0].skipped == 0);
  CHECK(p.expected_up_fraction() == Approx(10.0 / 12.0));
}

TEST_CASE("failure process: it starts at `start` and the figures count only the measured part") {
  Rig r(1);
  auto options = every(10_s, 2_s);
  options.start = at_ms(5'000);
  FailureProcess p(r.cluster, r.faults, {0}, options);
  p.measure(at_ms(16'000), at_ms(40'000));  // a look at 16 s: down 15..17 s counts 1 s
  r.cluster.start();
  r.sim.run_until(at_ms(40'000));
  CHECK(r.recorders[0]->crashed_at == times_ms({15'000, 27'000, 39'000}));
  const auto f = p.figures()[0];
  CHECK(f.failures == 2);  // 27 s and 39 s; 15 s is before the interval
  CHECK(f.up_fraction == Approx(1 - (1.0 + 2.0 + 1.0) / 24.0).epsilon(1e-12));
}

TEST_CASE("failure process: a failure due while a scheduled crash holds the node is skipped") {
  Rig r(1);
  r.faults.crash(at_ms(5'000), 0, 10_s);  // down 5..15 s
  FailureProcess p(r.cluster, r.faults, {0}, every(10_s, 2_s));
  p.measure(Time::zero(), at_ms(30'000));
  r.cluster.start();
  r.sim.run_until(at_ms(30'000));
  // Due at 10 s: skipped, the next one drawn from then (20 s), repaired at 22 s.
  CHECK(r.recorders[0]->crashed_at == times_ms({5'000, 20'000}));
  CHECK(r.recorders[0]->started_at == times_ms({0, 15'000, 22'000}));
  const auto f = p.figures()[0];
  CHECK(f.failures == 1);
  CHECK(f.skipped == 1);
  CHECK(f.up_fraction == Approx(1 - 12.0 / 30.0).epsilon(1e-12));
}

TEST_CASE("failure process: it restarts only the crash that is still its own") {
  SECTION("someone else restarted the node first: the repair leaves it up") {
    Rig r(1);
    FailureProcess p(r.cluster, r.faults, {0}, every(10_s, 5_s));  // down 10..15 s
    r.faults.crash(at_ms(12'000), 0, 1_s);  // a no-op crash, then a restart at 13 s
    r.cluster.start();
    r.sim.run_until(at_ms(30'000));
    // Nothing at 15 s; the next failure is drawn from then: 25 s, repaired at 30 s.
    CHECK(r.recorders[0]->started_at == times_ms({0, 13'000, 30'000}));
    CHECK(r.recorders[0]->crashed_at == times_ms({10'000, 25'000}));
  }
  SECTION("restarted and crashed again by someone else: the process leaves it down") {
    Rig r(1);
    FailureProcess p(r.cluster, r.faults, {0}, every(10_s, 5_s));
    r.sim.schedule_at(at_ms(11'000), [&] { r.cluster.restart(0); });
    r.faults.crash(at_ms(12'000), 0);  // never restarted
    r.cluster.start();
    r.sim.run_until(at_ms(60'000));
    CHECK(r.recorders[0]->started_at == times_ms({0, 11'000}));
    CHECK(r.recorders[0]->crashed_at == times_ms({10'000, 12'000}));
    CHECK(r.cluster.node(0).state() == NodeState::Crashed);
  }
}

TEST_CASE("failure process: `stop` ends it and restarts a node it holds down") {
  Rig r(2);
  auto options = every(10_s, 5_s);
  options.stop = at_ms(12'000);
  FailureProcess p(r.cluster, r.faults, {0, 1}, options);
  r.cluster.start();
  r.sim.run_until(at_ms(100'000));
  for (Recorder* rec : r.recorders) {
    CHECK(rec->crashed_at == times_ms({10'000}));
    CHECK(rec->started_at == times_ms({0, 12'000}));
  }
  REQUIRE(r.faults.log().size() == 2);
  CHECK(r.faults.log()[0].end == at_ms(12'000));
  CHECK(r.sim.pending_events() == 0);
}

TEST_CASE("failure process: a time of zero is raised to 1 ns, never a loop at one instant") {
  Rig r(1);
  FailureProcess p(r.cluster, r.faults, {0}, every(Duration::zero(), Duration::zero()));
  r.cluster.start();
  r.sim.run_until(Time::zero() + 10_ns);
  CHECK(r.recorders[0]->crashes == 5);  // at 1, 3, 5, 7, 9 ns
  CHECK(r.recorders[0]->crashed_at.front() == Time::zero() + 1_ns);
}

TEST_CASE("failure process: the log keeps the first crashes, counts the rest, allocates nothing") {
  Rig r(1, 1, false);
  auto options = every(10_ms, 1_ms);
  options.logged_crashes = 3;
  FailureProcess p(r.cluster, r.faults, {0}, options);
  r.cluster.start();
  r.sim.run_until(at_ms(100));  // past the cap: the log and the queue have their final size
  REQUIRE(r.faults.log().size() == 3);
  const std::uint64_t before = allocation_count();
  r.sim.run_until(at_ms(110'000));
  CHECK(allocation_count() == before);
  CHECK(r.recorders[0]->crashes == 10'000);
  CHECK(r.faults.log().size() == 3);
  CHECK(r.faults.unlisted() == 10'000 - 3);
}

TEST_CASE("failure process: the same seed gives the same failures, other nodes change none") {
  const auto crash_times = [](std::uint64_t seed, int nodes) {
    Rig r(nodes, seed);
    std::vector<NodeId> targets;
    for (int i = 0; i < nodes; ++i) targets.push_back(static_cast<NodeId>(i));
    FailureProcess p(r.cluster, r.faults, targets,
                     {.time_to_failure = Distribution::exponential(1e9),
                      .time_to_repair = Distribution::exponential(2e8)});
    r.cluster.start();
    r.sim.run_until(at_ms(60'000));
    return r.recorders[0]->crashed_at;
  };
  const auto once = crash_times(7, 1);
  CHECK(once.size() > 20);
  CHECK(crash_times(7, 1) == once);
  CHECK(crash_times(7, 5) == once);  // four more nodes, four more streams: n0's are its own
  CHECK(crash_times(8, 1) != once);
}

namespace {

// The problems of loading a scenario with one "failures" fault written as `fault`.
std::string problem_of(const std::string& fault) {
  const std::string text = R"({"name": "fp", "duration": "10s",
    "components": {
      "api": {"model": "server", "count": 3},
      "client": {"model": "open_loop_client", "rate": "10/s", "target": "api"}},
    "faults": [)" + fault + "]}";
  try {
    scenario::load_scenario_text(text, "fp.json");
  } catch (const scenario::ScenarioError& e) {
    CHECK(e.file() == "fp.json");
    std::string all;
    for (const auto& p : e.problems()) all += p.path + ": " + p.message + "\n";
    return all;
  }
  return "no error";
}

}  // namespace

TEST_CASE("failure process: bad \"failures\" entries name the JSON path and what was expected") {
  const std::string ttr = R"("time_to_repair": {"dist": "exponential", "mean": "1s"})";
  const std::string ok =
      R"({"action": "failures", "target": "api", "time_to_failure": "3s", )" + ttr;
  CHECK(problem_of(ok + "}") == "no error");
  CHECK(problem_of(ok + R"(, "at": "1s", "for": "5s"})") == "no error");
  CHECK(problem_of(R"({"action": "failures", "target": "api", "time_to_failure": "3s"})") ==
        "/faults/0/time_to_repair: missing (required)\n");
  CHECK_THAT(
      problem_of(R"({"action": "failures", "target": "api", "time_to_failure": "0", )" + ttr + "}"),
      Catch::StartsWith("/faults/0/time_to_failure: expected a duration greater than zero"));
  CHECK_THAT(problem_of(R"({"action": "failures", "target": "api",
                            "time_to_failure": {"dist": "exponential", "mean": "10us"}, )" +
                        ttr + "}"),
             Catch::StartsWith("/faults/0/time_to_failure: expected a mean time to failure of at "
                               "least 1ms, got"));
  CHECK_THAT(problem_of(R"({"action": "failures", "target": "api", "time_to_failure": "3s",
                            "time_to_repair": {"dist": "pareto", "scale": "1s", "shape": 1}})"),
             Catch::StartsWith("/faults/0/time_to_repair: expected a distribution with a finite "
                               "mean"));
  CHECK_THAT(problem_of(R"({"action": "failures", "target": "api", "time_to_failure": "3s",
                            "time_to_repair": {"dist": "normal", "mean": "0", "stddev": "1s"}})"),
             Catch::StartsWith("/faults/0/time_to_repair: expected a distribution with a positive "
                               "mean"));
  CHECK_THAT(problem_of(ok + R"(, "stagger": "1s"})"),
             Catch::StartsWith("/faults/0/stagger: unknown key"));
  CHECK_THAT(problem_of(R"({"action": "failures", "target": "apx", "time_to_failure": "3s", )" +
                        ttr + "}"),
             Catch::StartsWith("/faults/0/target: unknown node or component \"apx\""));
  CHECK_THAT(problem_of(R"({"action": "failure", "target": "api"})"),
             Catch::Contains("/faults/0/action: expected one of") && Catch::Contains("failures"));
}

TEST_CASE(
    "failure process: a scenario's runs report its ground truth, the same for the same seed") {
  const std::string text = R"({"name": "fp", "duration": "200s", "warmup": "10s",
    "components": {
      "api": {"model": "server", "count": 3},
      "client": {"model": "open_loop_client", "rate": "10/s", "target": "api"}},
    "faults": [{"action": "failures", "target": "api",
                "time_to_failure": {"dist": "exponential", "mean": "20s"},
                "time_to_repair": {"dist": "exponential", "mean": "5s"}}]})";
  const auto file = scenario::load_scenario_text(text, "fp.json");
  const auto a = scenario::run_scenario(file.variants[0], 3);
  const auto b = scenario::run_scenario(file.variants[0], 3);
  CHECK(a.fingerprint == b.fingerprint);
  REQUIRE(a.failure_processes.size() == 1);
  const auto& p = a.failure_processes[0];
  CHECK(p.fault == "/faults/0");
  CHECK(p.expected_up_fraction == Approx(0.8));
  REQUIRE(p.nodes.size() == 3);
  CHECK(p.nodes[0].node == "api[0]");
  std::uint64_t failures = 0;
  for (std::size_t i = 0; i < p.nodes.size(); ++i) {
    CHECK(p.nodes[i].up_fraction > 0.3);
    CHECK(p.nodes[i].up_fraction < 1);
    CHECK(p.nodes[i].up_fraction == b.failure_processes[0].nodes[i].up_fraction);
    failures += p.nodes[i].failures;
  }
  CHECK(failures > 10);
  CHECK(a.faults.size() >= failures);
  CHECK(a.faults_unlisted == 0);
}

TEST_CASE("failure process: a long run's report lists 1000 crashes and counts the others") {
  const std::string text = R"({"name": "fp", "duration": "100s",
    "components": {"api": {"model": "server"},
                   "client": {"model": "open_loop_client", "rate": "10/s", "target": "api"}},
    "faults": [{"action": "failures", "target": "api", "at": "1s",
                "time_to_failure": {"dist": "exponential", "mean": "10ms"},
                "time_to_repair": "1ms"}]})";
  const auto file = scenario::load_scenario_text(text, "fp.json");
  std::vector<scenario::VariantResults> results{{&file.variants[0], {}}};
  results[0].runs.push_back(scenario::run_scenario(file.variants[0], 1));
  const auto report = scenario::make_report(file, results);
  const auto& run = report.at("variants")[0].at("runs")[0];
  CHECK(run.at("faults").size() == 1000);
  CHECK(run.at("faults")[0].at("detail") == "failure process /faults/0");
  const auto& process = run.at("failure_processes")[0];
  const auto failures = process.at("failures").get<std::uint64_t>();
  CHECK(failures > 8000);  // about 99 s / 11 ms
  CHECK(run.at("faults_unlisted").get<std::uint64_t>() == failures - 1000);
  CHECK(process.at("up_fraction").get<double>() == Approx(10.0 / 11.0).margin(0.01));
  CHECK(process.at("nodes")[0].at("node") == "api");
}
