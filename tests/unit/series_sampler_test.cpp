// The runner's sampler of model series (scenario/series_sampler.hpp), on a tiny gauge model
// whose values are set by the test: replicas combine as declared (sum, mean, a maximum that
// skips NaN), one value per sample in window order, and a model that sets an undeclared series,
// omits a declared one or sets one twice stops the run (an internal error).
#include <catch2/catch.hpp>

#include <cmath>
#include <memory>
#include <vector>

#include "scenario/series_sampler.hpp"
#include "sim/assert.hpp"

namespace {

using models::Combine;

struct GaugeConfig {
  static constexpr const char* kSummary = "a test model that reports the gauges it is given";
  template <class V>
  void describe(V&) {}
};

// Sets "depth", "load" and "peak" to its fields' values, or what `misbehave` says.
class Gauge final : public models::Model {
 public:
  using Config = GaugeConfig;
  enum class Misbehave { No, Undeclared, Omit, Twice };

  static models::Wiring wiring(const Config&) { return {}; }
  static models::FigureDocs figure_docs() { return {}; }
  static models::SeriesDocs series_docs() {
    return {{"depth", "requests", Combine::Sum, "summed"},
            {"load", "fraction", Combine::Mean, "averaged"},
            {"peak", "ms", Combine::Max, "the largest"}};
  }
  static std::unique_ptr<models::Model> make(const Config&, models::BuildContext&, std::size_t) {
    return std::make_unique<Gauge>();
  }
  void on_start(sim::Node&) override {}
  void on_message(sim::Node&, const sim::Message&) override {}

  void sample(sim::Time, models::SeriesSample& out) const override {
    if (misbehave == Misbehave::Undeclared) out.set("depht", depth);
    if (misbehave != Misbehave::Undeclared) out.set("depth", depth);
    if (misbehave == Misbehave::Twice) out.set("depth", depth);
    out.set("load", load);
    if (misbehave != Misbehave::Omit) out.set("peak", peak);
  }

  double depth = 0, load = 0, peak = 0;
  Misbehave misbehave = Misbehave::No;
};

const scenario::ModelBinding& gauge_binding() {
  static const scenario::ModelBinding binding = scenario::bind_model<Gauge>("gauge");
  return binding;
}

const sim::Time kEnd = sim::Time::zero() + sim::Duration::nanoseconds(1'000'000'000);

}  // namespace

TEST_CASE("series: replicas combine as declared, one value per sample", "[series]") {
  std::vector<Gauge> replicas(3);
  scenario::SeriesSampler sampler(2);
  sampler.add("pool", gauge_binding(), {&replicas[0], &replicas[1], &replicas[2]});
  replicas[0].depth = 2, replicas[0].load = 0.5, replicas[0].peak = 7;
  replicas[1].depth = 3, replicas[1].load = 0.25, replicas[1].peak = std::nan("");
  replicas[2].depth = 0, replicas[2].load = 0, replicas[2].peak = 4;
  sampler.sample(kEnd);
  for (Gauge& g : replicas) g.peak = std::nan("");  // no replica has a peak: NaN
  replicas[2].depth = 10;
  sampler.sample(kEnd + sim::Duration::nanoseconds(1'000'000'000));

  const std::vector<scenario::ComponentSeries> series = std::move(sampler).result();
  REQUIRE(series.size() == 3);  // in declaration order
  CHECK(series[0].component == "pool");
  CHECK(series[0].name == "depth");
  CHECK(series[0].unit == "requests");
  CHECK(series[0].values == std::vector<double>{5, 15});
  CHECK(series[1].name == "load");
  CHECK(series[1].values == std::vector<double>{0.25, 0.25});
  CHECK(series[2].name == "peak");
  REQUIRE(series[2].values.size() == 2);
  CHECK(series[2].values[0] == 7);  // the replica without a value is skipped
  CHECK(std::isnan(series[2].values[1]));
}

TEST_CASE("series: a model without series_docs() has none", "[series]") {
  struct Plain final : models::Model {
    using Config = GaugeConfig;
    static models::Wiring wiring(const Config&) { return {}; }
    static models::FigureDocs figure_docs() { return {}; }
    static std::unique_ptr<models::Model> make(const Config&, models::BuildContext&, std::size_t) {
      return std::make_unique<Plain>();
    }
    void on_start(sim::Node&) override {}
    void on_message(sim::Node&, const sim::Message&) override {}
  };
  const scenario::ModelBinding binding = scenario::bind_model<Plain>("plain");
  CHECK(binding.series.empty());
  CHECK(gauge_binding().series.size() == 3);
  Plain plain;
  scenario::SeriesSampler sampler(1);
  sampler.add("plain", binding, {&plain});
  sampler.sample(kEnd);
  CHECK(std::move(sampler).result().empty());
}

TEST_CASE("series: a series set but not declared, omitted or set twice is an internal error",
          "[series]") {
  const auto [misbehave, says] =
      GENERATE(std::pair{Gauge::Misbehave::Undeclared, "set series depht that it does not declare"},
               std::pair{Gauge::Misbehave::Omit, "set series peak not at all"},
               std::pair{Gauge::Misbehave::Twice, "set series depth twice"});
  std::vector<Gauge> replicas(2);
  replicas[1].misbehave = misbehave;  // the first replica is right: the check is per replica
  scenario::SeriesSampler sampler(1);
  sampler.add("pool", gauge_binding(), {&replicas[0], &replicas[1]});
  CHECK_THROWS_WITH(sampler.sample(kEnd), Catch::Contains(says));
  CHECK_THROWS_AS(sampler.sample(kEnd), sim::ContractViolation);
}
