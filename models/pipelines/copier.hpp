// A copier: each input is published to every output queue. Burns' copier pattern
// ("Designing Distributed Systems", ch. 11, event-driven batch processing): one work item
// duplicated into several queues, so that independent pipelines (e.g. a thumbnail and a
// transcode branch) process it in parallel.
//
// Semantics: the shared stage runner (models/pipelines/stage_runner.hpp) consumes `queue`; each
// input becomes one message with the same key per output, in the order of `outputs`, each a new
// part of the input's job; the input is acknowledged when every copy is stored.
//
// Differences from Burns: his copier is a container reading one queue and writing several; so
// is this one, but a message carries only its key (no payload to copy), and the copies are
// published at least once (a failed publish returns the input: the copies already stored are
// published again).
#pragma once

#include <memory>
#include <vector>

#include "models/pipelines/stage_runner.hpp"

namespace models {

struct CopierConfig {
  static constexpr const char* kSummary =
      "Pipeline stage: each input message is published to every output queue (Burns' copier); "
      "the input is acknowledged once every copy is stored.";

  QueueConsumerConfig input;  // queue, wait, receive_grace, min_poll_interval
  std::vector<StageOutput> outputs{StageOutput{}};
  StageConfig stage;  // concurrency, service_time, publish

  template <class V>
  void describe(V& v) {
    input.describe(v);
    v.list("outputs", outputs, "the output queues, each [{\"queue\": name}, ...]");
    stage.describe(v);
  }
};

class Copier final : public StageRunner {
 public:
  using Config = CopierConfig;
  static Wiring wiring(const Config& c) {
    return stage_wiring({{"queue", c.input.queue}}, c.outputs);
  }
  static std::vector<ConfigProblem> check(const Config& c) { return check_outputs(c.outputs); }
  static FigureDocs figure_docs() { return runner_figure_docs(); }
  static SeriesDocs series_docs() { return runner_series_docs(); }
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);

  Copier(const Config& config, StagePeers peers) : StageRunner(config.stage, std::move(peers)) {}

 private:
  void on_input(sim::Node& node, InputId input) override;
};

}  // namespace models
