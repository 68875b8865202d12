// A splitter: each input becomes `parts` messages. Burns' splitter ("Designing Distributed
// Systems", ch. 11, event-driven batch processing: one work item split into smaller items that
// later stages handle in parallel, e.g. a video into chunks).
//
// Semantics: the shared stage runner (models/pipelines/stage_runner.hpp) consumes `queue`. An
// input with key k becomes the parts i = 0 .. parts-1 with keys k * parts + i (modulo 2^64),
// each a new part of the input's job; part i goes to output i mod (number of outputs): with one
// output, all parts go there; with several, round robin by part index (the same split of every
// input, so each output sees the same share). The input is acknowledged once every part is stored.
//
// Differences from Burns: his splitter routes items by their content to different queues (a
// filter per branch); this one cuts an item into equal parts (the split of a map phase), which
// a join (models/pipelines/join.hpp) or a reduce can gather again by job.
#pragma once

#include <memory>
#include <vector>

#include "models/pipelines/stage_runner.hpp"

namespace models {

struct SplitterConfig {
  static constexpr const char* kSummary =
      "Pipeline stage: each input with key k becomes `parts` messages with keys k*parts + i, "
      "round robin over the outputs; acknowledged once every part is stored.";

  QueueConsumerConfig input;  // queue, wait, receive_grace, min_poll_interval
  std::vector<StageOutput> outputs{StageOutput{}};
  std::int64_t parts = 2;
  StageConfig stage;  // concurrency, service_time, publish

  template <class V>
  void describe(V& v) {
    input.describe(v);
    v.list("outputs", outputs,
           "the output queues, [{\"queue\": name}, ...]; part i goes to output i mod their count");
    v.field("parts", parts, "messages each input becomes", Limits{1, 10000});
    stage.describe(v);
  }
};

class Splitter final : public StageRunner {
 public:
  using Config = SplitterConfig;
  static Wiring wiring(const Config& c) {
    return stage_wiring({{"queue", c.input.queue}}, c.outputs);
  }
  static std::vector<ConfigProblem> check(const Config& c) { return check_outputs(c.outputs); }
  static FigureDocs figure_docs() { return runner_figure_docs(); }
  static SeriesDocs series_docs() { return runner_series_docs(); }
  static std::unique_ptr<Model> make(const Config& config, BuildContext& ctx, std::size_t replica);

  Splitter(const Config& config, StagePeers peers)
      : StageRunner(config.stage, std::move(peers)),
        parts_(static_cast<std::uint64_t>(config.parts)) {}

 private:
  void on_input(sim::Node& node, InputId input) override;

  std::uint64_t parts_;
};

}  // namespace models
