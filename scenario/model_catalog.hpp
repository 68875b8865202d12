// Every model a scenario can name, with what the loader, the runner and `dsim models` need:
// parse its parameters, write them back, document them, list its references, build it.
// All of it generated from the model's Config::describe(), so the parts cannot drift.
#pragma once

#include <any>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "models/model.hpp"
#include "scenario/config_docs.hpp"
#include "scenario/config_reader.hpp"
#include "scenario/config_writer.hpp"

namespace scenario {

struct ModelBinding {
  std::string name;
  std::string summary;  // one paragraph: what the model does
  std::function<std::any(const Json& component, const std::string& path, Problems&)> parse;
  std::function<Json(const std::any&)> write;
  std::function<std::vector<ParamDoc>()> docs;
  std::function<std::vector<ReferenceCollector::Ref>(const std::any&)> references;
  std::function<std::unique_ptr<models::Model>(const std::any&, models::BuildContext&,
                                               std::size_t replica)>
      make;
  /// Checks across fields that describe() cannot express (e.g. "target is required").
  std::function<void(const std::any&, const std::string& path, Problems&)> check;
  /// A client: a "load" fault may scale it (Model::scale_load).
  bool generates_load = false;
};

/// Keys of a component object that belong to the scenario, not to the model.
inline const std::vector<std::string> kComponentKeys = {"model", "count", "zone"};

template <class Config>
ModelBinding bind_model(
    std::string name, std::string summary,
    std::function<std::unique_ptr<models::Model>(const Config&, models::BuildContext&, std::size_t)>
        make,
    std::function<void(const Config&, const std::string&, Problems&)> check = {},
    bool generates_load = false) {
  ModelBinding b;
  b.name = std::move(name);
  b.summary = std::move(summary);
  b.generates_load = generates_load;
  b.parse = [](const Json& component, const std::string& path, Problems& problems) -> std::any {
    Config config{};
    ConfigReader::read(component, path, problems, config, kComponentKeys);
    return config;
  };
  b.write = [](const std::any& config) {
    return ConfigWriter::write(std::any_cast<const Config&>(config));
  };
  b.docs = [] { return ConfigDocs::of(Config{}); };
  b.references = [](const std::any& config) {
    return ReferenceCollector::collect(std::any_cast<const Config&>(config));
  };
  b.make = [make](const std::any& config, models::BuildContext& context, std::size_t replica) {
    return make(std::any_cast<const Config&>(config), context, replica);
  };
  b.check = [check](const std::any& config, const std::string& path, Problems& problems) {
    if (check) check(std::any_cast<const Config&>(config), path, problems);
  };
  return b;
}

/// All models, sorted by name.
const std::vector<ModelBinding>& model_catalog();
const ModelBinding* find_model(std::string_view name);

}  // namespace scenario
