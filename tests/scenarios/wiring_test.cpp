// Composing models is safe: every (caller model, target model) pair of the catalog either runs
// or is refused by the loader with a protocol error (exit 2), never an internal error; and the
// wirings that used to crash a run are refused or run correctly.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "scenario/model_catalog.hpp"
#include "scenario/run.hpp"
#include "scenario/scenario.hpp"
#include "scenario/scenario_error.hpp"
#include "tests/scenarios/dsim_process.hpp"

namespace {

using scenario::Json;
using scenario::ModelBinding;

models::Wiring default_wiring(const ModelBinding& m) {
  scenario::Problems ignored;  // a default configuration lacks its required references
  return m.wiring(m.parse(Json::object(), "", ignored));
}

// Whether the model's defaults are accepted on one node (a replicated store's are not: its
// replication factor needs more nodes).
bool runs_alone(const ModelBinding& m) {
  scenario::Problems ignored;
  return m.check(m.parse(Json::object(), "", ignored), 1).empty();
}

// A model without references that serves `speaks`: what fills a target's own references. None
// when the catalog has no such model (the scale protocol: a worker pool calls a queue itself).
const ModelBinding* sink_for(models::Protocols speaks) {
  for (const auto& m : scenario::model_catalog()) {
    const models::Wiring w = default_wiring(m);
    if (w.calls.empty() && w.serves.contains(speaks) && runs_alone(m)) return &m;
  }
  return nullptr;
}

// Configurations worth trying besides a model's defaults: options that change its wiring.
std::vector<Json> configurations(const std::string& model) {
  std::vector<Json> out = {Json::object()};
  if (model == "load_balancer")
    out.push_back({{"policy", "sticky"}, {"health_check", {{"enabled", true}}}});
  return out;
}

// The component `name` of model `m` with `extra` options, every reference of it filled: `field`
// points to `target`, the others to a sink that serves what they speak (added to `components`).
// Nothing when a reference has no sink.
std::optional<Json> component(const ModelBinding& m, const Json& extra, const std::string& field,
                              const std::string& target, Json& components) {
  Json c = extra;
  c["model"] = m.name;
  scenario::Problems ignored;
  for (const auto& call : m.wiring(m.parse(c, "", ignored)).calls) {
    const Json::json_pointer at("/" + call.field);  // "outputs/0/queue": an item of a list
    if (call.field == field) {
      c[at] = target;
      continue;
    }
    const ModelBinding* sink = sink_for(call.speaks);
    if (sink == nullptr) return std::nullopt;
    const std::string sink_name = "sink-" + sink->name;
    components[sink_name] = {{"model", sink->name}};
    c[at] = sink_name;
  }
  return c;
}

// Loads and runs `doc`; returns "" when it ran, the loader's message when it was refused.
// Anything else (an internal error) fails the test.
std::string load_and_run(const Json& doc, const std::string& pair) {
  INFO(pair);
  try {
    const scenario::ScenarioFile file = scenario::load_scenario_text(doc.dump(), "pair.json");
    for (const auto& variant : file.variants) (void)scenario::run_scenario(variant, 1);
    return "";
  } catch (const scenario::ScenarioError& e) {
    return e.what();
  } catch (const std::exception& e) {
    FAIL("internal error: " << e.what());
  }
  return "";
}

const std::string kPairHeader = R"({"name": "pair", "duration": "1s", "warmup": "100ms"})";

}  // namespace

TEST_CASE("every caller and target pair of the catalog runs or is refused for its protocols") {
  int ran = 0, refused = 0, unwired = 0;
  for (const auto& caller : scenario::model_catalog()) {
    for (const Json& extra : configurations(caller.name)) {
      for (const auto& call : default_wiring(caller).calls) {
        for (const auto& target : scenario::model_catalog()) {
          const std::string pair =
              caller.name + " " + extra.dump() + " --" + call.field + "--> " + target.name;
          Json doc = Json::parse(kPairHeader);
          Json components = Json::object();
          const std::optional<Json> target_component =
              component(target, Json::object(), "", "", components);
          const std::optional<Json> caller_component =
              component(caller, extra, call.field, "target", components);
          if (!target_component || !caller_component) {
            ++unwired;  // a reference no model of the catalog can fill alone
            continue;
          }
          components["target"] = *target_component;
          if (!runs_alone(target)) components["target"]["count"] = 3;
          components["caller"] = *caller_component;
          // Something must generate load when neither end does: a client of the caller.
          if (!caller.generates_load && default_wiring(caller).serves.has(models::Protocol::Rpc))
            components["client"] = {{"model", "open_loop_client"}, {"target", "caller"}};
          doc["components"] = components;

          scenario::Problems ignored;
          const models::Wiring declared =
              caller.wiring(caller.parse(components["caller"], "", ignored));
          models::Protocols speaks;
          for (const auto& c : declared.calls)
            if (c.field == call.field) speaks = c.speaks;
          const bool fits = default_wiring(target).serves.contains(speaks);

          const std::string refusal = load_and_run(doc, pair);
          INFO(pair << ": " << refusal);
          if (fits) {
            CHECK(refusal.empty());
            ++ran;
          } else {
            CHECK_THAT(refusal, Catch::Contains("/components/caller/" + std::string(call.field)) &&
                                    Catch::Contains("does not serve"));
            ++refused;
          }
        }
      }
    }
  }
  CHECK(ran > 10);     // the pairs that fit all ran ...
  CHECK(refused > 5);  // ... and those that cannot work were refused
  CHECK(unwired < ran);
}

TEST_CASE("a sticky load balancer with health checks in front of a cache runs") {
  // It ended in "message payload read as the wrong type": the cache did not answer probes.
  const Json doc = Json::parse(R"({
    "name": "lb-cache", "duration": "3s", "warmup": "500ms",
    "components": {
      "store": {"model": "server", "service_time": {"dist": "constant", "value": "2ms"}},
      "cache": {"model": "cache", "store": "store", "count": 2},
      "lb": {"model": "load_balancer", "backends": "cache", "policy": "sticky",
             "health_check": {"enabled": true, "interval": "100ms", "timeout": "50ms"}},
      "client": {"model": "open_loop_client", "rate": "200/s", "target": "lb", "keys": 20}
    }
  })");
  const auto file = scenario::load_scenario_text(doc.dump(), "lb-cache.json");
  const scenario::RunResult run = scenario::run_scenario(file.variants.front(), 1);
  const auto& totals = run.requests.totals();
  REQUIRE(totals.requests > 400);
  CHECK(totals.succeeded() == totals.requests);  // nothing fails: probes answered, keys served
}

TEST_CASE("wirings that cannot work are refused by validate, exit 2, naming what would fit") {
  struct Case {
    const char* components;
    const char* path;
    const char* message;
  };
  const Case cases[] = {
      {R"("api": {"model": "server"},
          "users": {"model": "closed_loop_client", "target": "api"},
          "client": {"model": "open_loop_client", "target": "users"})",
       "/components/client/target",
       "\"users\" (model closed_loop_client) does not serve rpc, which this open_loop_client "
       "speaks to it; components that serve rpc: api"},
      {R"("api": {"model": "server"},
          "writer": {"model": "occ_client", "target": "api"})",
       "/components/writer/target",
       "\"api\" (model server) does not serve occ, which this occ_client speaks to it; no "
       "component of this scenario serves occ"},
      {R"("db": {"model": "occ_store"},
          "client": {"model": "open_loop_client", "target": "db"})",
       "/components/client/target",
       "\"db\" (model occ_store) does not serve rpc, which this open_loop_client speaks to it; "
       "no component of this scenario serves rpc"},
      {R"("db": {"model": "occ_store"}, "api": {"model": "server"},
          "lb": {"model": "load_balancer", "backends": "db", "health_check": {"enabled": true}},
          "client": {"model": "open_loop_client", "target": "lb"})",
       "/components/lb/backends",
       "\"db\" (model occ_store) does not serve rpc and health, which this load_balancer speaks "
       "to it (its health_check probes them); components that serve rpc and health: api"},
      {R"("client": {"model": "open_loop_client"})", "/components/client/target",
       "missing (required): the component this open_loop_client calls"},
  };
  for (const Case& c : cases) {
    const test::TempDir dir;
    dir.write("w.json", std::string(R"({"name": "w", "duration": "1s", "components": {)") +
                            c.components + "}}");
    const test::Process p = test::run_dsim("validate w.json", dir.path());
    INFO(p.err);
    CHECK(p.status == 2);
    CHECK_THAT(p.err, Catch::StartsWith("w.json: ") && Catch::Contains(c.path) &&
                          Catch::Contains(c.message));
  }
}
