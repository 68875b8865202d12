// Every model a scenario can name, with what the loader, the runner and `dsim models` need:
// parse its parameters, write them back, document them and its figures, tell its wiring
// (protocols served and called), build it. All of it generated from the model class (its
// Config::describe(), wiring(), figure_docs(), series_docs()), so the parts cannot drift.
#pragma once

#include <any>
#include <concepts>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "models/shared/model.hpp"
#include "scenario/config_docs.hpp"
#include "scenario/config_reader.hpp"
#include "scenario/config_writer.hpp"

namespace scenario {

/// What a model class must provide to be registered (models/shared/model.hpp explains each).
template <class M>
concept RegistrableModel = std::derived_from<M, models::Model> &&
    requires(const typename M::Config& c, models::BuildContext& ctx) {
  { M::Config::kSummary } -> std::convertible_to<const char*>;
  { M::make(c, ctx, std::size_t{0}) } -> std::convertible_to<std::unique_ptr<models::Model>>;
  { M::wiring(c) } -> std::same_as<models::Wiring>;
  { M::figure_docs() } -> std::same_as<models::FigureDocs>;
};

/// The number of nodes of a component a configuration refers to (0: no such component).
using NodeCount = std::function<std::size_t(const models::ComponentRef&)>;

struct ModelBinding {
  std::string name;
  std::string summary;  // one paragraph: what the model does
  std::function<std::any(const Json& component, const std::string& path, Problems&)> parse;
  std::function<Json(const std::any&)> write;
  std::function<std::vector<ParamDoc>()> docs;
  /// Every ComponentRef of a configuration (to check that wiring() declares each).
  std::function<std::vector<ReferenceCollector::Ref>(const std::any&)> references;
  std::function<models::Wiring(const std::any&)> wiring;
  models::FigureDocs figures;
  /// Its gauges over time (series.hpp); empty when the class declares no series_docs().
  models::SeriesDocs series;
  std::function<std::unique_ptr<models::Model>(const std::any&, models::BuildContext&,
                                               std::size_t replica)>
      make;
  /// Checks across fields that describe() cannot express, and against the component's node
  /// count (`count`).
  std::function<std::vector<models::ConfigProblem>(const std::any&, std::size_t count)> check;
  /// Checks against the node counts of the components it calls (a model's optional
  /// `static check_targets(const Config&, const NodeCount&)`: "4 cells do not divide 10 nodes"),
  /// run once its references resolve.
  std::function<std::vector<models::ConfigProblem>(const std::any&, const NodeCount&)>
      check_targets;
  /// A client: a "load" fault may scale it (Model::scale_load).
  bool generates_load = false;
  /// The most requests per second one node of it offers (a model's optional
  /// `static offered_rate(const Config&)`), for the run's estimate; 0: none or unknown.
  std::function<double(const std::any&)> offered_rate;

  /// The declaration of figure `name`, or nullptr.
  const models::FigureDoc* figure(std::string_view figure_name) const;
};

/// Keys of a component object that belong to the scenario, not to the model.
inline const std::vector<std::string> kComponentKeys = {"model", "count", "zone", "colocate_with"};

template <RegistrableModel M>
ModelBinding bind_model(std::string name) {
  using Config = typename M::Config;
  ModelBinding b;
  b.name = std::move(name);
  b.summary = Config::kSummary;
  if constexpr (requires { M::kGeneratesLoad; }) b.generates_load = M::kGeneratesLoad;
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
  b.wiring = [](const std::any& config) { return M::wiring(std::any_cast<const Config&>(config)); };
  b.figures = M::figure_docs();
  if constexpr (requires { M::series_docs(); }) b.series = M::series_docs();
  b.make = [](const std::any& config, models::BuildContext& context, std::size_t replica) {
    return M::make(std::any_cast<const Config&>(config), context, replica);
  };
  b.check = [](const std::any& config,
               [[maybe_unused]] std::size_t count) -> std::vector<models::ConfigProblem> {
    if constexpr (requires { M::check(std::declval<const Config&>(), count); })
      return M::check(std::any_cast<const Config&>(config), count);
    else if constexpr (requires { M::check(std::declval<const Config&>()); })
      return M::check(std::any_cast<const Config&>(config));
    return {};
  };
  b.offered_rate = [](const std::any& config) -> double {
    if constexpr (requires { M::offered_rate(std::declval<const Config&>()); })
      return M::offered_rate(std::any_cast<const Config&>(config));
    else
      return 0;
  };
  b.check_targets =
      [](const std::any& config,
         [[maybe_unused]] const NodeCount& nodes) -> std::vector<models::ConfigProblem> {
    if constexpr (requires { M::check_targets(std::declval<const Config&>(), nodes); })
      return M::check_targets(std::any_cast<const Config&>(config), nodes);
    return {};
  };
  return b;
}

/// All models, sorted by name.
const std::vector<ModelBinding>& model_catalog();
const ModelBinding* find_model(std::string_view name);

}  // namespace scenario
