// `colocate_with` through the loader: node i of a component runs on the machine of node i of
// another (a sidecar and its application). The checks that refuse a bad one (exit status 2,
// with the JSON path), and what a run does with a good one: loopback between the two, a
// reference that names the node on the caller's own machine, and one fate. The kernel's part is
// tested in tests/unit/colocation_test.cpp.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "scenario/scenario_error.hpp"
#include "tests/run_figures.hpp"

namespace {

using scenario::Json;

// Two clients, each with a sidecar relay on its machine, calling one server 1 ms away.
Json sidecar_scenario() {
  return Json::parse(R"({
    "name": "colocation", "description": "a sidecar per client",
    "duration": "10s", "warmup": "1s", "seeds": 1,
    "network": {"latency": "1ms"},
    "components": {
      "server": {"model": "server", "workers": 100, "service_time": "2ms"},
      "client": {"model": "open_loop_client", "count": 2, "rate": "100/s", "target": "sidecar",
                 "timeout": "50ms"},
      "sidecar": {"model": "relay", "count": 2, "colocate_with": "client", "target": "server",
                  "timeout": "40ms"}
    },
    "report": {"per_replica": true}
  })");
}

// The messages a scenario is refused with ("path: message").
std::vector<std::string> refusal(const Json& doc) {
  try {
    scenario::load_scenario_text(doc.dump(), "colocation.json");
  } catch (const scenario::ScenarioError& e) {
    std::vector<std::string> messages;
    for (const auto& p : e.problems()) messages.push_back(p.path + ": " + p.message);
    return messages;
  }
  return {};
}

bool refused_at(const Json& doc, const std::string& path, const std::string& words) {
  for (const auto& m : refusal(doc))
    if (m.rfind(path + ": ", 0) == 0 && m.find(words) != std::string::npos) return true;
  return false;
}

double replica_figure(const scenario::RunResult& run, const std::string& node,
                      const std::string& name) {
  for (const auto& c : run.components)
    for (const auto& r : c.per_replica)
      if (r.node == node)
        for (const auto& f : r.figures)
          if (f.name == name) return f.value;
  FAIL("no figure " << node << "." << name);
  return 0;
}

}  // namespace

TEST_CASE("colocate_with: a bad one is refused with its path") {
  Json doc = sidecar_scenario();
  SECTION("an unknown component, with a suggestion") {
    doc["components"]["sidecar"]["colocate_with"] = "clinet";
    CHECK(refused_at(doc, "/components/sidecar/colocate_with",
                     "unknown component \"clinet\" (did you mean \"client\"?)"));
  }
  SECTION("itself") {
    doc["components"]["sidecar"]["colocate_with"] = "sidecar";
    CHECK(refused_at(doc, "/components/sidecar/colocate_with", "colocated with itself"));
  }
  SECTION("a component with another node count") {
    doc["components"]["sidecar"]["colocate_with"] = "server";
    CHECK(refused_at(doc, "/components/sidecar/colocate_with", "as many nodes as this one (2)"));
  }
  SECTION("a chain: the machine is named by its first component") {
    doc["components"]["tracer"] = {
        {"model", "relay"}, {"count", 2}, {"colocate_with", "sidecar"}, {"target", "server"}};
    CHECK(refused_at(doc, "/components/tracer/colocate_with",
                     "\"sidecar\" is itself colocated with \"client\""));
  }
  SECTION("a cycle is a chain too") {
    doc["components"]["client"]["colocate_with"] = "sidecar";
    CHECK(refused_at(doc, "/components/client/colocate_with", "is itself colocated with"));
    CHECK(refused_at(doc, "/components/sidecar/colocate_with", "is itself colocated with"));
  }
  SECTION("not a name") {
    doc["components"]["sidecar"]["colocate_with"] = 3;
    CHECK(refused_at(doc, "/components/sidecar/colocate_with",
                     "expected the name of another component"));
  }
  SECTION("a zone other than its machine's") {
    doc["network"]["zones"] = {{"east", {{"east", Json::object()}, {"west", Json::object()}}},
                               {"west", {{"east", Json::object()}, {"west", Json::object()}}}};
    doc["components"]["client"]["zone"] = "east";
    doc["components"]["sidecar"]["zone"] = "west";
    CHECK(refused_at(doc, "/components/sidecar/zone", "a node is in its machine's zone"));
  }
  SECTION("a partition that puts one machine's nodes in two groups") {
    doc["faults"] = Json::parse(
        R"([{"action": "partition", "groups": [["client[0]"], ["sidecar"]], "at": "2s"}])");
    CHECK(refused_at(doc, "/faults/0/groups/1", "a partition separates machines"));
  }
}

TEST_CASE("colocate_with: the zone is inherited and the effective scenario names it") {
  Json doc = sidecar_scenario();
  doc["network"]["zones"] = {{"east", {{"east", Json::object()}, {"west", Json::object()}}},
                             {"west", {{"east", Json::object()}, {"west", Json::object()}}}};
  doc["components"]["client"]["zone"] = Json::array({"east", "west"});
  const auto file = scenario::load_scenario_text(doc.dump(), "colocation.json");
  const auto& spec = file.variants.front();
  const auto& sidecar = spec.components.back();
  CHECK(sidecar.node_zone(0) == 0);
  CHECK(sidecar.node_zone(1) == 1);
  CHECK(spec.effective["components"]["sidecar"]["colocate_with"] == "client");
  CHECK_FALSE(spec.effective["components"]["client"].contains("colocate_with"));
}

TEST_CASE("colocate_with: an application calls its own sidecar over loopback and shares its fate") {
  Json doc = sidecar_scenario();
  // client[1]'s machine is down for the whole measured run: its sidecar with it.
  doc["faults"] = Json::parse(R"([{"action": "crash", "target": "client[1]", "at": "0.5s"}])");
  const auto file = scenario::load_scenario_text(doc.dump(), "colocation.json");
  const scenario::RunResult run = scenario::run_scenario(file.variants.front(), 1);

  // Every request of client[0] went to sidecar[0] (its own machine), none to the crashed one.
  REQUIRE(run.requests.totals().requests > 500);
  CHECK(run.requests.totals().failed() == 0);
  CHECK(replica_figure(run, "sidecar[1]", "requests_received") == 0);
  // (A request that arrives in the last milliseconds is received, not yet recorded as ended.)
  CHECK(std::abs(replica_figure(run, "sidecar[0]", "requests_received") -
                 static_cast<double>(run.requests.totals().requests)) <= 1);
  // client -> sidecar is loopback (0), sidecar -> server and back 1 ms each, service 2 ms.
  CHECK(run.requests.latency().min_ns() == 4'000'000);
  CHECK(run.requests.latency().max_ns() == 4'000'000);
  REQUIRE(run.faults.size() == 1);
  CHECK(run.faults[0].detail == "with sidecar[1] (same machine)");
  CHECK(run.cluster.crashes == 2);
}

TEST_CASE("colocate_with: a server-side sidecar calls only its own server") {
  Json doc = sidecar_scenario();
  doc["components"]["server"]["count"] = 2;
  doc["components"]["client"]["target"] = "server_sidecar";
  doc["components"]["server_sidecar"] = {
      {"model", "relay"}, {"count", 2}, {"colocate_with", "server"}, {"target", "server"}};
  doc["components"].erase("sidecar");
  doc["faults"] = Json::parse(R"([{"action": "crash", "target": "server[1]", "at": "0.5s"}])");
  const auto file = scenario::load_scenario_text(doc.dump(), "colocation.json");
  const scenario::RunResult run = scenario::run_scenario(file.variants.front(), 1);
  // The sidecar of the crashed server crashed with it: clients reaching it time out; the other
  // sidecar answers the rest, all through its own server.
  CHECK(replica_figure(run, "server_sidecar[1]", "requests_received") == 0);
  const double through_0 = replica_figure(run, "server_sidecar[0]", "requests_received");
  CHECK(std::abs(through_0 - replica_figure(run, "server_sidecar[0]", "answered_ok")) <= 1);
  CHECK(std::abs(through_0 - static_cast<double>(run.requests.totals().succeeded())) <= 1);
  CHECK(run.requests.totals().failed() > 0);  // sent to the dead machine: no retries here
}
