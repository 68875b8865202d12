// Names of nodes in a scenario: a component ("api": each of its replicas), one replica
// ("api[3]"), a switch ("tor1"). They resolve through an index to ranges of replicas, never to
// lists of names, so that checking a file costs in proportion to its text: 1,000 faults on a
// 100,000-node component, or a partition naming 100,000 nodes one by one, stay small.
// (How fast is measured by hand, not here: a test asserts what is deterministic.)
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "scenario/node_index.hpp"
#include "scenario/scenario.hpp"
#include "scenario/scenario_error.hpp"

namespace {

using scenario::Json;
using scenario::NodeRange;

constexpr std::size_t kNodes = 100'000;
constexpr std::size_t kFaults = 1'000;

Json two_components(std::size_t api_nodes) {
  return {{"api",
           {{"model", "server"},
            {"count", api_nodes},
            {"service_time", {{"dist", "exponential"}, {"mean", "1ms"}}}}},
          {"db", {{"model", "server"}, {"service_time", {{"dist", "constant"}, {"value", "1ms"}}}}},
          {"client", {{"model", "open_loop_client"}, {"rate", "100/s"}, {"target", "api"}}}};
}

// A partition fault of `groups`, each a Json::array (a list of two-element lists would
// otherwise read as an object).
Json partition(Json groups) {
  return Json{{"action", "partition"}, {"groups", std::move(groups)}, {"at", "1s"}};
}

Json scenario_with(Json components, Json faults) {
  return {{"name", "names"},          {"description", "node names"},
          {"duration", "60s"},        {"network", {{"switches", {"tor1", "tor2"}}}},
          {"components", components}, {"faults", faults}};
}

scenario::ScenarioFile load(const Json& doc) {
  return scenario::load_scenario_text(doc.dump(), "names.json");
}

// The messages a scenario is refused with.
std::vector<std::string> refusal(const Json& doc) {
  try {
    load(doc);
  } catch (const scenario::ScenarioError& e) {
    std::vector<std::string> messages;
    for (const auto& p : e.problems()) messages.push_back(p.path + ": " + p.message);
    return messages;
  }
  return {};
}

}  // namespace

TEST_CASE(
    "1000 faults on a 100000-node component and a partition naming each node load as ranges") {
  Json faults = Json::array();
  for (std::size_t i = 0; i < kFaults; ++i)
    faults.push_back({{"action", "crash"},
                      {"target", "api"},
                      {"at", std::to_string(1 + i % 50) + "s"},
                      {"for", "1s"}});
  Json all_but_last = Json::array();
  for (std::size_t i = 0; i + 1 < kNodes; ++i)
    all_but_last.push_back("api[" + std::to_string(i) + "]");
  faults.push_back({{"action", "partition"},
                    {"groups", {all_but_last, {"api[99999]", "client", "tor1"}}},
                    {"at", "1s"},
                    {"for", "1s"}});
  Json doc = scenario_with(two_components(kNodes), faults);
  doc["variants"] = {{"longer", {{"duration", "70s"}}}};

  const scenario::ScenarioFile file = load(doc);
  REQUIRE(file.variants.size() == 2);
  for (const auto& variant : file.variants) {
    REQUIRE(variant.faults.size() == kFaults + 1);
    for (std::size_t i = 0; i < kFaults; ++i)  // a whole component: one range, not 100,000 names
      CHECK(variant.faults[i].targets == std::vector<NodeRange>{{0, 0, kNodes}});
    const auto& partition = variant.faults.back();
    REQUIRE(partition.groups.size() == 2);
    CHECK(partition.groups[0] == std::vector<NodeRange>{{0, 0, kNodes - 1}});  // merged
    CHECK(partition.groups[1] ==
          std::vector<NodeRange>{{0, kNodes - 1, 1}, {2, 0, 1}, {NodeRange::kSwitches, 0, 1}});
  }
}

TEST_CASE("node names resolve to a component's name first, then a replica, then a switch") {
  const scenario::ScenarioFile file = load(scenario_with(two_components(5), Json::array()));
  const scenario::ScenarioSpec& spec = file.variants.front();
  const scenario::NodeIndex index(spec);
  CHECK(index.find("api") == NodeRange{0, 0, 5});
  CHECK(index.find("api[3]") == NodeRange{0, 3, 1});
  CHECK(index.find("db") == NodeRange{1, 0, 1});  // a one-node component's node is its name
  CHECK(index.find("tor2") == NodeRange{NodeRange::kSwitches, 1, 1});
  for (const std::string unknown :
       {"api[5]", "api[03]", "api[-1]", "api[+3]", "api[3", "api3]", "api[]", "api[ 3]", "db[0]",
        "API", "", "[3]", "api[99999999999999999999999]"}) {
    INFO(unknown);
    CHECK_FALSE(index.find(unknown).has_value());
  }
  CHECK(index.component("api") == 0u);
  CHECK_FALSE(index.component("api[3]").has_value());
  CHECK_FALSE(index.component("tor1").has_value());
  CHECK(scenario::node_name(spec, NodeRange{0, 2, 2}, 1) == "api[3]");
  CHECK(scenario::node_name(spec, NodeRange{NodeRange::kSwitches, 0, 2}, 1) == "tor2");
}

TEST_CASE("targets keep their order and repeats, only a replica that continues a range merges") {
  const Json faults = {{{"action", "crash"},
                        {"target", {"api[1]", "api[2]", "api[2]", "api[0]", "db", "api", "tor1"}},
                        {"at", "1s"}}};
  const auto file = load(scenario_with(two_components(4), faults));
  CHECK(file.variants.front().faults.front().targets ==
        std::vector<NodeRange>{
            {0, 1, 2}, {0, 2, 1}, {0, 0, 1}, {1, 0, 1}, {0, 0, 4}, {NodeRange::kSwitches, 0, 1}});
}

TEST_CASE("unknown names are still refused, with the JSON path") {
  const Json faults = {
      {{"action", "crash"}, {"target", {"api[4]", "api"}}, {"at", "1s"}},
      {{"action", "partition"}, {"groups", {{"api[0]"}, {"nowhere"}}}, {"at", "1s"}},
      {{"action", "cut"}, {"from", "api"}, {"to", "tor1"}, {"at", "1s"}},
      {{"action", "load"}, {"target", "api[0]"}, {"factor", 2}, {"at", "1s"}},
  };
  CHECK(refusal(scenario_with(two_components(4), faults)) ==
        std::vector<std::string>{
            "/faults/0/target: unknown node or component \"api[4]\"",
            "/faults/1/groups/1: unknown node or component \"nowhere\"",
            "/faults/2/from: expected the name of one node, got \"api\"",
            "/faults/3/target: unknown component \"api[0]\"",
        });
}

TEST_CASE("a node in two groups of a partition is refused, with the JSON path") {
  using A = std::vector<std::string>;
  const Json faults = Json::array({
      partition(Json::array({A{"api[0]", "api[1]"}, A{"api[1]", "db"}})),
      partition(Json::array({A{"api"}, A{"db"}, A{"api[3]"}})),
      partition(Json::array({A{"tor1"}, A{"api"}, A{"tor1", "db"}})),
      partition(Json::array({A{"api[0]", "api[1]"}, A{"api[2]", "api[3]"}})),  // disjoint: fine
  });
  CHECK(refusal(scenario_with(two_components(4), faults)) ==
        std::vector<std::string>{
            "/faults/0/groups/1: shares nodes with group 0: a node can be in only one group of a "
            "partition",
            "/faults/1/groups/2: shares nodes with group 0: a node can be in only one group of a "
            "partition",
            "/faults/2/groups/2: shares nodes with group 0: a node can be in only one group of a "
            "partition",
        });
}

TEST_CASE("a node named twice in one group of a partition is refused, with the JSON path") {
  // Found by fuzzing (fuzz/corpus/partition-node-twice-in-a-group.json): the loader checked
  // groups against each other only, and the network's partition asserted (exit status 1).
  using A = std::vector<std::string>;
  const Json faults = Json::array({
      partition(Json::array({A{"api[0]", "api[0]"}, A{"api[1]", "client"}})),
      partition(Json::array({A{"db", "api", "api[2]"}, A{"client"}})),
      partition(Json::array({A{"tor1", "api[0]", "tor1"}, A{"db"}})),
      partition(Json::array({A{"api[0]", "api[1]"}, A{"api[2]", "api[3]", "db"}})),  // fine
  });
  CHECK(refusal(scenario_with(two_components(4), faults)) ==
        std::vector<std::string>{
            "/faults/0/groups/0/1: \"api[0]\" names a node that an earlier name of this group "
            "names: each node once",
            "/faults/1/groups/0/2: \"api[2]\" names a node that an earlier name of this group "
            "names: each node once",
            "/faults/2/groups/0/2: \"tor1\" names a node that an earlier name of this group "
            "names: each node once",
        });
}

TEST_CASE("a component's nodes are named on demand: 10^7 nodes load without being listed") {
  const auto file = load(scenario_with(two_components(10'000'000), Json::array()));
  const scenario::ComponentSpec& api = file.variants.front().components.front();
  CHECK(api.count == 10'000'000);
  CHECK(api.node_name(9'999'999) == "api[9999999]");
  const scenario::NodeIndex index(file.variants.front());
  CHECK(index.find("api[9999999]") == NodeRange{0, 9'999'999, 1});
  CHECK_FALSE(index.find("api[10000000]"));
  CHECK(refusal(scenario_with(two_components(10'000'001), Json::array())) ==
        std::vector<std::string>{
            "/components/api/count: expected an integer in [1, 1e+07], got 10000001"});
}
