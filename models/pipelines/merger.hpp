// A merger: several input queues into one output queue. Burns' merger ("Designing Distributed
// Systems", ch. 11, event-driven batch processing: the outputs of parallel branches, or of
// several producers, combined into one stream).
//
// Semantics: the shared stage runner (models/pipelines/stage_runner.hpp) keeps one queue
// consumer per input (`inputs`, each with its own long-polling settings and `concurrency`
// slots, so that a quiet input never holds the slots another needs; deliveries are routed to
// their consumer by the queue node that sent them). Each input is published to `output` with its
// key, as a new part of its job, and acknowledged once stored. No order across inputs is kept.
//
// Differences from Burns: his merger is the reverse of the copier and may wait to combine the
// copies of one item (that is the join here, models/pipelines/join.hpp); this one only merges
// the streams.
#pragma once

#include <memory>
#include <vector>

#include "models/pipelines/stage_runner.hpp"

namespace models {

struct MergerConfig {
  static constexpr const char* kSummary =
      "Pipeline stage: consumes several input queues (one consumer each) and publishes every "
      "message to one output queue; acknowledged once stored.";

  std::vector<QueueConsumerConfig> inputs{QueueConsumerConfig{}};
  ComponentRef output;
  StageConfig stage;  // concurrency (per input), service_time, publish

  template <class V>
  void describe(V& v) {
    v.list("inputs", inputs,
           "the input queues, [{\"queue\": name, \"wait\": ..., ...}, ...] (consumer settings "
           "per input)");
    v.field("output", output, "the queue every input goes to (required)");
    stage.describe(v);
  }
};

class Merger final : public StageRunner {
 public:
  using Config = MergerConfig;
  static Wiring wiring(const Config& c);
  static std::vector<ConfigProblem> check(const Config& c);
  static FigureDocs figure_docs();
  static SeriesDocs series_docs() { return runner_series_docs(); }
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);

  Merger(const Config& config, StagePeers peers)
      : StageRunner(config.stage, std::move(peers)), merged_(config.inputs.size(), 0) {}

 private:
  void on_input(sim::Node& node, InputId input) override;
  void stage_figures(Figures& out) const override;

  std::vector<std::uint64_t> merged_;  // per input, measured
};

}  // namespace models
